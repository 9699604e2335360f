//! Unit tests of mapped import: value rules, mapping checks and
//! transformations, and fixture files imported end to end.

use super::columns::*;
use super::*;

mod rules {
    use super::*;

    #[test]
    fn booleans_follow_the_reference_tokens() {
        for t in ["true", "T", "yes", "Y", "1", "Active", "ENABLED", " true "] {
            assert!(parse_reference_bool(t), "{t}");
        }
        for f in ["false", "no", "0", "", "maybe", "disabled", "2"] {
            assert!(!parse_reference_bool(f), "{f}");
        }
    }

    #[test]
    fn timestamps_accept_every_listed_format() {
        let day = 1_138_579_200; // 2006-01-30T00:00:00Z
        let full = day + 15 * 3600 + 4 * 60 + 5;
        for (s, want) in [
            ("2006-01-30T15:04:05.123456789Z", full),
            ("2006-01-30T15:04:05+00:00", full),
            ("2006-01-30T17:04:05+02:00", full),
            ("20060130150405", full),
            ("2006-01-30 17:04:05+02:00", full),
            ("2006-01-30 15:04:05", full),
            ("2006-01-30", day),
            ("2006-01-30T", day),
            ("2006-01-30T15:04:05", full),
            ("2006-01-30T15:04:05Z", full),
            ("1/30/2006", day),
            ("01/30/2006", day),
        ] {
            assert_eq!(parse_reference_timestamp(s), Ok(Some(want)), "{s}");
        }
        for unset in ["never", "NULL", "none", "false", "0", "", "  "] {
            assert_eq!(parse_reference_timestamp(unset), Ok(None), "{unset}");
        }
        for bad in ["yesterday", "30/1/2006", "2006-02-30", "2006013015040"] {
            assert_eq!(parse_reference_timestamp(bad), Err(()), "{bad}");
        }
    }

    #[test]
    fn mapping_without_identifier_is_refused() {
        let err = Mapping::parse(
            "template = \"application\"\napplication = \"crm\"\n[[column]]\nheader = \"Mail\"\nentity = \"user\"\nattribute = \"email\"\n",
        )
        .unwrap_err();
        assert_eq!(
            err,
            "user columns are mapped but neither its id nor its name"
        );
    }

    #[test]
    fn attributes_belong_to_their_entity() {
        let mapping = |entity: &str, attribute: &str| {
            Mapping::parse(&format!(
                "template = \"application\"\napplication = \"crm\"\n[[column]]\nheader = \"X\"\nentity = \"{entity}\"\nattribute = \"{attribute}\"\n"
            ))
            .map(|_| ())
        };
        assert_eq!(mapping("user", "id"), Ok(()));
        assert_eq!(mapping("role", "name"), Ok(()));
        assert_eq!(
            mapping("user", "department").unwrap_err(),
            "column \"X\": a user has no attribute \"department\""
        );
        assert!(mapping("group", "permissions").is_err());
        assert!(mapping("user", "permissions").is_err());
    }

    /// A one-column Application mapping with these transforms on the id.
    fn with_transform(transform: &str) -> String {
        format!(
            "template = \"application\"\napplication = \"crm\"\n[[column]]\nheader = \"Id\"\nentity = \"user\"\nattribute = \"id\"\ntransform = [{transform}]\n"
        )
    }

    /// Issue 13.6: a parameter whose output cannot fit in a cell is refused
    /// when the mapping is read, with its line and column, instead of
    /// allocating per row.
    #[test]
    fn issue_13_transform_parameters_beyond_the_cell_limit_are_refused_at_load() {
        let long = "x".repeat(MAX_CELL_BYTES + 1);
        for transform in [
            "{ pad_left = 9223372036854775807 }".to_string(),
            "{ pad_left = 1000000000 }".to_string(),
            "{ pad_left = 40000, char = \"é\" }".to_string(),
            format!("{{ static = \"{long}\" }}"),
            format!("{{ replace = \"a\", with = \"{long}\" }}"),
            format!("{{ combine = [\"A\"], separator = \"{long}\" }}"),
        ] {
            let err = Mapping::parse(&with_transform(&transform)).unwrap_err();
            assert!(err.starts_with("7:"), "{transform:.40}: {err:.200}");
            assert!(err.contains("65536-byte cell limit"), "{err:.200}");
        }
        assert!(Mapping::parse(&with_transform("{ pad_left = 65536 }")).is_ok());
    }

    #[test]
    fn issue_13_invalid_date_formats_are_refused_at_load() {
        for format in ["%", "", "%Q%K", "%d.%m.%", "no date here"] {
            let err = Mapping::parse(&with_transform(&format!("{{ date_format = {format:?} }}")))
                .unwrap_err();
            assert!(err.starts_with("7:"), "{format:?}: {err}");
            assert!(err.contains("date_format"), "{format:?}: {err}");
        }
        for format in ["%d.%m.%Y", "%Y-%m-%d %H:%M", "%m/%d/%y", "%s"] {
            let text = with_transform(&format!("{{ date_format = {format:?} }}"));
            assert!(Mapping::parse(&text).is_ok(), "{format:?}");
        }
    }

    /// Issue 13.6: each step's output obeys the cell limit, checked before
    /// it is built: a replace chain that would grow a 4-byte cell past it
    /// rejects the row as too long (the old code built 1.4 GB from 13 rows).
    #[test]
    fn issue_13_transform_output_obeys_the_cell_limit() {
        let grow = format!("{{ replace = \"a\", with = \"{}\" }}", "a".repeat(1000));
        let transform = [grow.as_str(); 4].join(", ");
        let mapping = Mapping::parse(&with_transform(&transform)).unwrap();
        let mut imp = Importer::new();
        let csv = "Id\naaaa\nb\n";
        imp.import_mapped_reader(
            Path::new("grow.csv"),
            csv.as_bytes(),
            &mapping,
            &FileOptions::default(),
        )
        .unwrap();
        let (model, report) = imp.finish();
        assert_eq!(report.rows_rejected(), 1, "{:?}", report.rejections);
        let r = &report.rejections[0];
        assert_eq!(r.kind, RejectKind::CellTooLong);
        assert!(r.reason.contains("65536"), "{}", r.reason);
        assert_eq!(model.entities.len(), 1);

        let pad = Mapping::parse(&with_transform("{ pad_left = 65536, char = \"é\" }"));
        assert!(pad.is_err(), "65536 two-byte characters exceed the limit");
        let pad = Mapping::parse(&with_transform("{ pad_left = 65536 }")).unwrap();
        let mut imp = Importer::new();
        imp.import_mapped_reader(
            Path::new("pad.csv"),
            "Id\nabc\n".as_bytes(),
            &pad,
            &FileOptions::default(),
        )
        .unwrap();
        let (model, report) = imp.finish();
        assert_eq!(report.rows_rejected(), 0, "{:?}", report.rejections);
        assert_eq!(model.str(model.entities[0].id).len(), 65536);
    }

    #[test]
    fn transformations_parse_in_every_form() {
        let m = Mapping::parse(
            r#"template = "application"
application = "crm"
[[column]]
header = "Id"
entity = "user"
attribute = "id"
transform = ["trim", "upper", "lower", { pad_left = 4, char = "0" }, { replace = "-", with = "_" },
             { combine = ["A", "B"] }, { static = "x" }, { date_format = "%d.%m.%Y" }]
"#,
        )
        .unwrap();
        assert_eq!(m.columns[0].transform.len(), 8);
    }
}

mod fixture_tests {
    use super::*;
    use crate::model::Model;

    /// Imports `fixtures/mapped/<csv>` through `app.toml` and renders every
    /// user with the attributes the model keeps.
    #[track_caller]
    fn check(csv: &str, expected: &str) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/mapped");
        let mapping = Mapping::load(&root.join("app.toml")).unwrap();
        let mut imp = Importer::new();
        let _ = imp.import_mapped(&root.join(csv), &mapping, &FileOptions::default());
        let (model, _) = imp.finish();
        assert_eq!(render(&model), expected);
    }

    fn render(m: &Model) -> String {
        let mut out = String::new();
        for e in m.entities.iter().filter(|e| e.kind == Kind::Identity) {
            let a = e.attributes.clone().unwrap_or_default();
            let ts = |t: Option<i64>| t.map_or("-".into(), crate::import::format_timestamp);
            out.push_str(&format!(
                "{}|{}|{}|{}|{}|{}\n",
                m.str(e.id),
                m.str(e.name),
                m.str(a.email),
                m.str(a.status),
                ts(a.last_login),
                ts(a.password_changed),
            ));
        }
        out
    }

    #[test]
    fn issue_6_hris_employees_keep_first_row_attributes_and_lowercase_managers() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/mapped");
        let mapping = Mapping::load(&root.join("hris.toml")).unwrap();
        let mut imp = Importer::new();
        imp.import_mapped(&root.join("hris.csv"), &mapping, &FileOptions::default())
            .unwrap();
        let (m, _) = imp.finish();
        assert!(m.entities.is_empty() && m.edges.is_empty());
        let got: Vec<String> = m
            .employees
            .iter()
            .map(|e| {
                let attrs: Vec<String> = e
                    .attributes
                    .iter()
                    .map(|a| format!("{}={}", m.str(a.name), m.str(a.text)))
                    .collect();
                let managers: Vec<&str> = e.managers.iter().map(|&s| m.str(s)).collect();
                format!(
                    "{}|{}|{}|{}",
                    m.str(e.id),
                    m.str(e.name),
                    managers.join(","),
                    attrs.join(" ")
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                "EMP001|Ada Lovelace||employee_number=0001 first_name=Ada last_name=Lovelace \
                 preferred_name=Ada email=ada@example.com personal_email=ada@home.example \
                 company=Acme department=Eng cost_center=CC-10 job_title=CTO groups=eng, leads \
                 employment_status=employed is_active=true start_date=2006-01-30T00:00:00Z \
                 employment_types=full-time primary_time_zone=Europe/London home_location=London \
                 work_location=HQ username=ada idp_id=idp-1 canonical_name=lovelace.ada \
                 display_full_name=Ada L. shoe_size=38",
                "emp002|Bob Byte|emp001|employee_number=0002 first_name=Bob last_name=Byte \
                 email=bob@example.com company=Acme department=Eng cost_center=CC-10 \
                 job_title=Engineer groups=eng employment_status=employed is_active=true \
                 start_date=2006-01-02T00:00:00Z employment_types=full-time primary_time_zone=UTC \
                 work_location=HQ username=bob idp_id=idp-2",
                "emp003|emp003|emp001,emp009|employee_number=0003 first_name=Cy last_name=Cole \
                 email=cy@example.com company=Acme department=Ops cost_center=CC-20 \
                 job_title=Operator groups=ops employment_status=terminated is_active=false \
                 start_date=2006-01-30T15:04:05Z termination_date=2007-01-01T00:00:00Z \
                 employment_types=contractor",
            ]
        );
    }

    #[test]
    fn every_timestamp_format_boolean_token_and_transformation_lands_in_the_model() {
        check(
            "app.csv",
            "U_01|Ada Lovelace|ada@example.com|active|2006-01-30T15:04:05Z|2006-01-30T15:04:05Z\n\
             U_02|Bob Byte|bob@example.com|active|2006-01-30T15:04:05Z|-\n\
             U_03|Cy Cole|cy@example.com|active|2006-01-30T15:04:05Z|-\n\
             U_04|Di Dahl|di@example.com|active|2006-01-30T15:04:05Z|-\n\
             U_05|Ed Eng|ed@example.com|active|2006-01-30T00:00:00Z|-\n\
             U_06|Flo Fox|flo@example.com|active|2006-01-30T00:00:00Z|-\n\
             U_07|Gus Gray|gus@example.com|active|2006-01-30T15:04:05Z|-\n\
             U_08|Hal Hill|hal@example.com|active|2006-01-30T15:04:05Z|-\n\
             U_09|Ivy Ives|ivy@example.com|inactive|2006-01-02T00:00:00Z|-\n\
             U_10|Jo Jay|jo@example.com|inactive|-|-\n\
             Grace Hopper|Grace Hopper|grace@example.com||-|-\n",
        );
    }

    #[test]
    fn issue_6_template_attributes_and_custom_properties_are_kept_typed() {
        let mapping = Mapping::load(Path::new("fixtures/mapped/app.toml")).unwrap();
        let mut imp = Importer::new();
        imp.import_mapped(
            Path::new("fixtures/mapped/app.csv"),
            &mapping,
            &FileOptions::default(),
        )
        .unwrap();
        let (m, _) = imp.finish();
        let mut out = String::new();
        for p in &m.properties {
            let value = match &p.value {
                Value::Text(s) => format!("{:?}", m.str(*s)),
                Value::Number(s) => format!("number {}", m.str(*s)),
                Value::Bool(b) => format!("{b}"),
                Value::Timestamp(t) => crate::import::format_timestamp(*t),
                Value::List(items) => {
                    format!("{:?}", items.iter().map(|s| m.str(*s)).collect::<Vec<_>>())
                }
            };
            let custom = if p.custom { "custom " } else { "" };
            out.push_str(&format!(
                "{} {custom}{}={value}\n",
                m.str(m.entity(p.entity).id),
                m.str(p.name)
            ));
        }
        // First row wins: U_01's second row (other email, inactive) changes
        // nothing. An empty cell sets nothing ("never" and "null" are unset
        // timestamps), a padded empty badge stays unset, the static Region
        // is set for every user, and group properties come from the row that
        // first names the group.
        assert_eq!(
            out,
            "U_01 created_at=2006-01-30T00:00:00Z\n\
             U_01 owner_id=\"u-07\"\n\
             U_01 owner_type=\"user\"\n\
             U_01 custom department=\"R&D\"\n\
             U_01 custom badge=number 000042\n\
             U_01 custom hired=2006-01-30T00:00:00Z\n\
             U_01 custom region=\"eu-west\"\n\
             Eng created_at=2006-01-30T00:00:00Z\n\
             Ops created_at=2006-01-30T00:00:00Z\n\
             U_02 created_at=2006-01-31T00:00:00Z\n\
             U_02 custom department=\"R&D\"\n\
             U_02 custom badge=number 000007\n\
             U_02 custom region=\"eu-west\"\n\
             U_03 custom region=\"eu-west\"\n\
             U_04 custom region=\"eu-west\"\n\
             U_05 custom region=\"eu-west\"\n\
             U_06 custom region=\"eu-west\"\n\
             U_07 custom region=\"eu-west\"\n\
             U_08 custom region=\"eu-west\"\n\
             U_09 custom region=\"eu-west\"\n\
             U_10 deactivated_at=2006-02-01T00:00:00Z\n\
             U_10 custom region=\"eu-west\"\n\
             Grace Hopper custom region=\"eu-west\"\n"
        );
    }
}
