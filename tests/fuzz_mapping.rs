//! Issue 13: fuzz-style tests of mapping files. Generated mappings (every
//! transform, with parameters from tiny to absurd: `pad_left` up to 2^63,
//! replacement chains, random date formats) and byte-level mutations of a
//! valid mapping are parsed and, when accepted, used to import a small CSV:
//! never a panic or an abort, rows accepted + rejected = rows read, every
//! value within the cell limit, in bounded memory (peak resident size
//! checked). A failing case proptest finds is kept in
//! `fuzz_mapping.proptest-regressions`.

mod common;

use std::path::Path;

use proptest::prelude::*;
use whocan::import::{FileOptions, Importer, MAX_CELL_BYTES, mapped::Mapping};

const CSV: &str = "User ID,First,Last,Mail,Created,Groups\n\
u-01,Ada,Lovelace,ada@example.com,30.01.2006,\"Eng, Ops\"\n\
u-02,Bob,Byte,bob@example.com,2006-01-31,Eng\n\
 u-03 ,Cy,Cole,CY@EXAMPLE.COM,,\n\
u-04,Di,Dee,di@example.com,not a date,Ops\n\
aaaa,aaaa,aaaa,aaaa,aaaa,aaaa\n";

const HEADERS: [&str; 7] = [
    "User ID", "First", "Last", "Mail", "Created", "Groups", "Missing",
];

const ATTRIBUTES: [(&str, &str); 6] = [
    ("user", "id"),
    ("user", "name"),
    ("user", "email"),
    ("user", "created_at"),
    ("group", "name"),
    ("group", "id"),
];

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[a-z%-]{0,6}",
        Just("a".repeat(1000)),
        Just("x".repeat(70_000)),
        "[%a-zA-Z.:/ -]{0,12}",
    ]
}

fn transform() -> impl Strategy<Value = String> {
    let width = prop_oneof![
        0u64..10,
        Just(65_536u64),
        Just(65_537),
        Just(1_000_000_000),
        Just(i64::MAX as u64),
    ];
    prop_oneof![
        Just("\"upper\"".to_string()),
        Just("\"lower\"".to_string()),
        Just("\"trim\"".to_string()),
        Just("\"uppercase\"".to_string()),
        (width, prop_oneof![Just('0'), Just('é'), Just('🦀')])
            .prop_map(|(w, c)| format!("{{ pad_left = {w}, char = \"{c}\" }}")),
        (text(), text()).prop_map(|(a, b)| format!("{{ replace = {a:?}, with = {b:?} }}")),
        text().prop_map(|v| format!("{{ static = {v:?} }}")),
        text().prop_map(|f| format!("{{ date_format = {f:?} }}")),
        (
            proptest::sample::subsequence(HEADERS.to_vec(), 0..4),
            text()
        )
            .prop_map(|(h, sep)| format!("{{ combine = {h:?}, separator = {sep:?} }}")),
    ]
}

fn column() -> impl Strategy<Value = String> {
    (
        proptest::sample::select(HEADERS.to_vec()),
        proptest::sample::select(ATTRIBUTES.to_vec()),
        proptest::collection::vec(transform(), 0..5),
        any::<bool>(),
    )
        .prop_map(|(header, (entity, attribute), transforms, required)| {
            format!(
                "[[column]]\nheader = {header:?}\nentity = \"{entity}\"\nattribute = \"{attribute}\"\nrequired = {required}\ntransform = [{}]\n",
                transforms.join(", ")
            )
        })
}

fn mapping() -> impl Strategy<Value = String> {
    proptest::collection::vec(column(), 1..5).prop_map(|columns| {
        let mut text = "template = \"application\"\napplication = \"crm\"\n".to_string();
        text.push_str("[[column]]\nheader = \"User ID\"\nentity = \"user\"\nattribute = \"id\"\n");
        for c in columns {
            text.push_str(&c);
        }
        text
    })
}

const VALID: &str = r#"template = "application"
application = "crm"
[[column]]
header = "User ID"
entity = "user"
attribute = "id"
transform = ["trim", { replace = "-", with = "_" }, "upper", { pad_left = 8 }]
[[column]]
header = "Created"
entity = "user"
attribute = "created_at"
transform = [{ date_format = "%d.%m.%Y" }]
[[column]]
header = "Groups"
entity = "group"
attribute = "name"
"#;

/// Parses the mapping and, when it is accepted, imports [`CSV`] with it.
fn exercise(text: &str) -> Result<(), TestCaseError> {
    let Ok(mapping) = Mapping::parse(text) else {
        return Ok(());
    };
    let mut importer = Importer::new();
    let result = importer.import_mapped_reader(
        Path::new("fuzz.csv"),
        CSV.as_bytes(),
        &mapping,
        &FileOptions::default(),
    );
    let (model, report) = importer.finish();
    if result.is_ok() {
        prop_assert_eq!(
            report.rows_accepted() + report.rows_rejected(),
            report.rows_read()
        );
    }
    for e in &model.entities {
        for s in [e.id, e.name] {
            prop_assert!(model.str(s).len() <= MAX_CELL_BYTES);
        }
    }
    common::within_peak_limit().map_err(TestCaseError::fail)?;
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn generated_mappings_parse_and_import_cleanly(text in mapping()) {
        exercise(&text)?;
    }

    #[test]
    fn mutated_mappings_parse_and_import_cleanly(
        edits in proptest::collection::vec((any::<usize>(), any::<char>()), 1..6),
    ) {
        let mut chars: Vec<char> = VALID.chars().collect();
        for (at, c) in edits {
            let i = at % chars.len();
            chars[i] = c;
        }
        let text: String = chars.into_iter().collect();
        exercise(&text)?;
    }
}
