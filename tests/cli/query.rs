//! The query commands (`query`, `why`, `run`, `shell`): golden cases under
//! `tests/golden/query/`.

use crate::harness::{golden as compare, root, whocan, whocan_with_stdin};

#[track_caller]
fn golden(case: &str, args: &[&str], stdin: Option<&str>) {
    let run = whocan_with_stdin(args, stdin.map(str::as_bytes));
    compare("query", case, &run);
}

const NESTED: &str = "fixtures/nested_groups.csv";
const REFERENCE: &str = "fixtures/reference_example.csv";
const CYCLIC: &str = "fixtures/cyclic_groups.csv";

macro_rules! query {
    ($name:ident, $data:expr, $($arg:expr),+) => {
        #[test]
        fn $name() {
            golden(stringify!($name), &["query", $data, $($arg),+], None);
        }
    };
}

// who can reach
query!(who_can_reach, NESTED, "-e", "who can reach prod-db");
query!(
    who_with_permission,
    NESTED,
    "-e",
    "who can reach prod-db with admin"
);
query!(who_direct, NESTED, "-e", "who can reach prod-db direct");
query!(
    who_via_group,
    NESTED,
    "-e",
    "who can reach prod-db via Platform"
);
query!(
    who_in_project,
    NESTED,
    "-e",
    "who can reach billing-db in project Data"
);
query!(who_limit, NESTED, "-e", "who can reach prod-db limit 2");
query!(
    who_csv,
    NESTED,
    "--format",
    "csv",
    "-e",
    "who can reach prod-db"
);
query!(count_who, NESTED, "-e", "count who can reach prod-db");
query!(who_nobody, NESTED, "-e", "who can reach Level-1 with admin");

// what can reach
query!(what_can_reach, NESTED, "-e", "what can alice reach");
query!(
    what_of_type,
    NESTED,
    "-e",
    "what can dave reach of type resource"
);
query!(
    what_json,
    NESTED,
    "--format",
    "json",
    "-e",
    "what can dave reach with read"
);
query!(what_connection, NESTED, "-e", "what can Ops reach");

// why
query!(
    why_not_through_identity,
    NESTED,
    "-e",
    "why not erin prod-db"
);
query!(
    why_not_other_permission,
    NESTED,
    "-e",
    "why not svc-deploy prod-db with admin"
);
query!(why_no_path, NESTED, "-e", "why not dave prod-db");
query!(why_through_cycle, NESTED, "-e", "why svc-deploy pager");
query!(
    why_deep_nesting,
    NESTED,
    "-e",
    "via which group dave archive-bucket"
);
query!(why_limit, NESTED, "-e", "why bob prod-db limit 1");
query!(why_target_in_cycle, NESTED, "-e", "why bob OnCall");
query!(
    why_grant_beside_blocked_paths,
    CYCLIC,
    "-e",
    "why carol prod-db"
);

// members and groups
query!(members_of, NESTED, "-e", "members of DBA-Team");
query!(members_deep, NESTED, "-e", "members of Level-5");
query!(members_cycle, NESTED, "-e", "members OnCall");
query!(
    members_dot,
    NESTED,
    "--format",
    "dot",
    "-e",
    "members of DBA-Team"
);
query!(
    members_mermaid,
    NESTED,
    "--format",
    "mermaid",
    "-e",
    "members of Ops"
);
query!(groups_of, NESTED, "-e", "groups of dave");

// show, find, names
query!(show_entity, NESTED, "-e", "show alice");
query!(
    show_by_email_any_case,
    NESTED,
    "-e",
    "show ALICE@acme.example"
);
query!(show_by_prefix, NESTED, "-e", "show car");
query!(
    show_by_source_and_id,
    NESTED,
    "-e",
    "show nested_groups/grp-audit-2"
);
query!(find_entities, NESTED, "-e", "find aud");
query!(ambiguous_name, NESTED, "-e", "show Auditors");
query!(
    ambiguous_reference_example,
    REFERENCE,
    "-e",
    "what can Network-Operations-Team reach"
);
query!(
    quoted_arn,
    REFERENCE,
    "-e",
    "what can \"arn:aws:iam::123456789012:group/Network-Operations-Team\" reach"
);
query!(misspelt_entity, NESTED, "-e", "who can reach prod-bd");
query!(
    misspelt_permission,
    NESTED,
    "-e",
    "who can reach prod-db with admn"
);
query!(misspelt_keyword, NESTED, "-e", "who can rech prod-db");
query!(
    syntax_error_second_line,
    NESTED,
    "-e",
    "stats\nwhat can alice"
);
query!(wrong_kind, NESTED, "-e", "members of alice");

// stats, cycles, help, formats, expectations
query!(stats_with_cycle, NESTED, "-e", "stats");
query!(cycles, NESTED, "-e", "cycles");
query!(help, NESTED, "-e", "help");
query!(help_topic, NESTED, "-e", "help why");
query!(
    picture_not_available,
    NESTED,
    "--format",
    "dot",
    "-e",
    "stats"
);
query!(
    several_statements,
    NESTED,
    "-e",
    "count members of Ops; groups of bob"
);
query!(
    expect_fails_exit_1,
    NESTED,
    "-e",
    "expect alice cannot reach prod-db"
);

// whocan why
#[test]
fn why_paths_with_provenance() {
    golden(
        "why_paths_with_provenance",
        &["why", NESTED, "bob", "prod-db"],
        None,
    );
}

#[test]
fn why_false_edge() {
    golden("why_false_edge", &["why", NESTED, "carol", "prod-db"], None);
}

#[test]
fn why_not_flag_with_permission() {
    golden(
        "why_not_flag_with_permission",
        &["why", "--not", "-p", "admin", NESTED, "carol", "billing-db"],
        None,
    );
}

#[test]
fn why_dot() {
    golden(
        "why_dot",
        &["why", "--format", "dot", NESTED, "carol", "prod-db"],
        None,
    );
}

#[test]
fn why_mermaid() {
    golden(
        "why_mermaid",
        &["why", "--format", "mermaid", NESTED, "bob", "prod-db"],
        None,
    );
}

#[test]
fn why_unknown_identity() {
    golden(
        "why_unknown_identity",
        &["why", NESTED, "alcie", "prod-db"],
        None,
    );
}

// whocan run
#[test]
fn run_nested_groups_passes() {
    golden(
        "run_nested_groups_passes",
        &["run", "queries/nested_groups.wq", "--data", NESTED],
        None,
    );
}

#[test]
fn run_reference_example_passes() {
    golden(
        "run_reference_example_passes",
        &["run", "queries/reference_example.wq", "--data", REFERENCE],
        None,
    );
}

#[test]
fn run_cyclic_groups_passes() {
    golden(
        "run_cyclic_groups_passes",
        &["run", "queries/cyclic_groups.wq", "--data", CYCLIC],
        None,
    );
}

#[test]
fn run_failing_file_exits_1_and_names_lines() {
    golden(
        "run_failing_file_exits_1_and_names_lines",
        &["run", "tests/golden/query/failing.wq", "--data", NESTED],
        None,
    );
}

#[test]
fn run_syntax_error_exits_2() {
    golden(
        "run_syntax_error_exits_2",
        &[
            "run",
            "tests/golden/query/syntax_error.wq",
            "--data",
            NESTED,
        ],
        None,
    );
}

// whocan shell, through a pipe
#[test]
fn shell_piped_session() {
    golden(
        "shell_piped_session",
        &["shell", "--no-history", NESTED],
        Some(
            "who can reach prod-db with admin\n\
             who can rech prod-db\n\
             show Auditors\n\
             expect who can reach prod-db with admin = {\n  alice,\n  bob\n}\n\
             format csv\n\
             members of Ops\n\
             help nope\n\
             stats\n",
        ),
    );
}

#[test]
fn query_output_file_holds_what_stdout_would() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("who.csv");
    let run = whocan(&[
        "query",
        NESTED,
        "--format",
        "csv",
        "-o",
        path.to_str().unwrap(),
        "-e",
        "who can reach prod-db",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.is_empty());
    let want = std::fs::read_to_string(root().join("tests/golden/query/who_csv.out")).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), want);
}

#[test]
fn every_example_query_file_passes_on_its_fixture() {
    for entry in std::fs::read_dir(root().join("queries")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "wq") {
            continue;
        }
        let stem = path.file_stem().unwrap().to_str().unwrap().to_string();
        let data = format!("fixtures/{stem}.csv");
        let run = whocan(&["run", path.to_str().unwrap(), "--data", &data]);
        assert_eq!(
            run.code,
            0,
            "{}: {}{}",
            path.display(),
            run.stdout,
            run.stderr
        );
        assert!(
            run.stdout.ends_with(" passed, 0 failed\n"),
            "{}",
            run.stdout
        );
    }
}

// Issue 14.9: what the data holds, `show` shows.
const APP: &str = "fixtures/mapped/app.csv:fixtures/mapped/app.toml";
const HRIS: &str = "fixtures/mapped/hris.csv:fixtures/mapped/hris.toml";
query!(
    issue_14_show_lists_mapped_properties,
    APP,
    "-e",
    "show U_01; show Eng"
);

#[test]
fn issue_14_show_and_find_cover_employees() {
    golden(
        "issue_14_show_and_find_cover_employees",
        &[
            "query",
            APP,
            HRIS,
            "-e",
            "show emp003; find bob; count find bob",
        ],
        None,
    );
}

// Issue 13.4: a self-manager is no manager link, at import and in queries.
const SELF_MANAGER: &str = "fixtures/people/self_manager.csv:fixtures/people/hr.toml";

#[test]
fn issue_13_self_manager_is_not_a_manager_link_anywhere() {
    golden(
        "issue_13_self_manager_import",
        &["import", SELF_MANAGER],
        None,
    );
    golden(
        "issue_13_self_manager_query",
        &[
            "query",
            SELF_MANAGER,
            "-e",
            "manager of E1; reports of E1; manager of E2",
        ],
        None,
    );
}
