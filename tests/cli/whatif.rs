//! What-if, separation-of-duties rules and blast radius (issue #19):
//! golden cases under `tests/golden/whatif/` and `tests/golden/sod/`.
//!
//! `fixtures/sod/erp.csv`: dee (one identity) and Ada (u-ada IS, and
//! svc-ada-bot she OWNS by `fixtures/sod/map.csv`) create vendors and
//! approve payments; eve does too but is in Internal-Audit; bob creates
//! vendors and fay approves payments — two different people (alone in
//! `fixtures/sod/two_people.csv`).

use crate::golden_cases;

golden_cases! { "whatif":
    query_remove_member => ["query", "fixtures/nested_groups.csv", "-e", "what if remove alice from Engineering"],
    query_several_changes => ["query", "fixtures/nested_groups.csv", "-e",
        "what if remove bob from OnCall, remove Platform, add carol to DBA-Team with admin"],
    query_kept_through_another_path => ["query", "fixtures/nested_groups.csv", "-e", "what if remove Ops"],
    query_csv => ["query", "fixtures/nested_groups.csv", "--format", "csv", "-e", "what if add dave to Engineering"],
    // The loaded graph is untouched: the next question sees the original.
    query_graph_untouched => ["query", "fixtures/nested_groups.csv", "-e",
        "what if remove DBA-Team; who can reach prod-db with admin"],
    query_no_such_edge => ["query", "fixtures/nested_groups.csv", "-e", "what if remove bob from Security-Team"],
    query_unknown_entity => ["query", "fixtures/nested_groups.csv", "-e", "what if remove bob from Nope"],
    query_bad_change => ["query", "fixtures/nested_groups.csv", "-e", "what if delete bob"],
    whatif_flags => ["whatif", "fixtures/nested_groups.csv", "--remove", "bob -> OnCall",
        "--add", "carol -> DBA-Team [admin]", "--format", "table"],
    whatif_remove_connection_fail_on => ["whatif", "fixtures/nested_groups.csv", "--remove-connection", "Ops",
        "--format", "csv", "--fail-on", "revoked"],
    whatif_bad_spec => ["whatif", "fixtures/nested_groups.csv", "--remove", "bob"],
    whatif_unknown => ["whatif", "fixtures/nested_groups.csv", "--remove", "bob -> Nope"],
    whatif_nothing => ["whatif", "fixtures/nested_groups.csv"],
    // A review's revocation list (`review decisions -o`, tests/golden/review/
    // decisions.out) read as edge removals, alone and with a flag's edit.
    whatif_remove_decisions => ["whatif", "fixtures/review/okta.csv",
        "--remove-decisions", "fixtures/review/revoke.csv", "--format", "table"],
    whatif_remove_decisions_and_add => ["whatif", "fixtures/review/okta.csv",
        "--remove-decisions", "fixtures/review/revoke.csv", "--add", "u-cy -> g-platform", "--format", "csv"],
    // A row without its edge is rejected with file:line:column, exit 2.
    whatif_remove_decisions_bad_rows => ["whatif", "fixtures/review/okta.csv",
        "--remove-decisions", "fixtures/review/revoke_bad_rows.csv"],
    // A list made on other data names an edge this data lacks: exit 2.
    whatif_remove_decisions_other_data => ["whatif", "fixtures/nested_groups.csv",
        "--remove-decisions", "fixtures/review/revoke.csv"],
    bench_whatif_zero_count => ["bench-whatif", "fixtures/nested_groups.csv", "--count", "0"],
    blast_identity => ["query", "fixtures/nested_groups.csv", "-e", "blast radius of alice"],
    blast_connection => ["query", "fixtures/nested_groups.csv", "-e", "blast radius of Engineering"],
    blast_resource => ["query", "fixtures/nested_groups.csv", "-e", "blast radius of prod-db"],
    help_whatif => ["query", "fixtures/nested_groups.csv", "-e", "help whatif"],
    help_rules => ["query", "fixtures/nested_groups.csv", "-e", "help rules"],
    help_blast => ["query", "fixtures/nested_groups.csv", "-e", "help blast"],
}

golden_cases! { "sod":
    violation_by_one_identity => ["query", "fixtures/sod/erp.csv", "-e",
        "forbid vendors with create and payments with approve except members of Internal-Audit"],
    without_except => ["query", "fixtures/sod/erp.csv", "-e",
        "forbid vendors with create and payments with approve"],
    violation_by_one_person => ["query", "fixtures/sod/erp.csv", "fixtures/people/hr.csv:fixtures/people/hr.toml",
        "--people-map", "fixtures/sod/map.csv", "-e",
        "forbid vendors with create and payments with approve for persons except members of Internal-Audit"],
    // bob creates vendors, fay approves payments: two people, no violation,
    // per identity or per person.
    different_people_no_violation => ["query", "fixtures/sod/two_people.csv",
        "fixtures/people/hr.csv:fixtures/people/hr.toml", "-e",
        "forbid vendors with create and payments with approve for persons; \
         forbid vendors with create and payments with approve"],
    findings_rules => ["findings", "fixtures/sod/erp.csv", "fixtures/people/hr.csv:fixtures/people/hr.toml",
        "--people-map", "fixtures/sod/map.csv", "--rules", "rules/erp.wq", "--as-of", "2026-01-31", "--format", "csv"],
    findings_rules_example_org => ["findings", "fixtures/nested_groups.csv", "--rules", "rules/example.wq",
        "--as-of", "2026-01-31", "--format", "csv"],
    findings_rules_json => ["findings", "fixtures/sod/erp.csv", "--rules", "rules/erp.wq",
        "--as-of", "2026-01-31", "--format", "json"],
    findings_rules_not_a_rule => ["findings", "fixtures/sod/erp.csv", "--rules", "fixtures/sod/not_rules.wq"],
    // erp-2026-02: dee no longer approves payments, bob now does.
    diff_rules_opened_resolved => ["diff", "fixtures/sod/erp.csv", "fixtures/sod/erp-2026-02.csv",
        "--rules", "rules/erp.wq", "--as-of", "2026-01-31", "--format", "csv", "--fail-on", "finding-opened"],
    run_failing_expect => ["run", "fixtures/sod/failing.wq", "--data", "fixtures/sod/erp.csv"],
    one_access_only => ["query", "fixtures/sod/erp.csv", "-e", "forbid vendors with create"],
    bad_severity => ["query", "fixtures/sod/erp.csv", "-e", "forbid vendors and payments severity huge"],
}
