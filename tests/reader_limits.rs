//! Issue #13 items 8 and 10 (reader part): every CSV reader bounds what it
//! holds of one record, stops reading a file it refuses, echoes no huge
//! value, and checks headers in linear time. Inputs are generated lazily
//! (`io::repeat`), so no test needs much memory; bounds are asserted by
//! counting the bytes a reader pulled, not by timing.

use std::io::{self, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use whocan::import::mapped::Mapping;
use whocan::import::records::{MAX_RECORD_BYTES, MAX_RECORD_FIELDS};
use whocan::import::{FileOptions, ImportError, Importer, RejectKind};

/// A reader that counts the bytes taken from it.
struct Counting<R> {
    inner: R,
    taken: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.taken.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

fn counting<R: Read>(inner: R) -> (Counting<R>, Arc<AtomicU64>) {
    let taken = Arc::new(AtomicU64::new(0));
    (
        Counting {
            inner,
            taken: taken.clone(),
        },
        taken,
    )
}

/// Input after which a reader must have given up on an endless record: the
/// record bound plus a few read buffers.
const SLACK: u64 = MAX_RECORD_BYTES as u64 + (4 << 20);

const MAPPING: &str = "template = \"application\"\napplication = \"crm\"\n[[column]]\nheader = \"Id\"\nentity = \"user\"\nattribute = \"id\"\n";

#[test]
fn issue_13_an_endless_header_is_refused_after_a_bounded_read() {
    // `whocan import /dev/zero`: one header record that never ends.
    let (input, taken) = counting(io::repeat(0).take(1 << 40));
    let mut imp = Importer::new();
    let err = imp
        .import_reader(Path::new("zero"), input, &FileOptions::default())
        .unwrap_err();
    assert!(
        matches!(err, ImportError::HeaderTooLong { line: 1, .. }),
        "{err}"
    );
    assert!(taken.load(Ordering::Relaxed) <= SLACK);

    let (input, taken) = counting(io::repeat(0).take(1 << 40));
    let mut imp = Importer::new();
    let mapping = Mapping::parse(MAPPING).unwrap();
    let err = imp
        .import_mapped_reader(Path::new("zero"), input, &mapping, &FileOptions::default())
        .unwrap_err();
    assert!(matches!(err, ImportError::HeaderTooLong { .. }), "{err}");
    assert!(taken.load(Ordering::Relaxed) <= SLACK);

    let (input, taken) = counting(io::repeat(0).take(1 << 40));
    let mut model = whocan::model::Model::default();
    let err =
        whocan::import::people_map::load_reader(&mut model, Path::new("zero"), input).unwrap_err();
    assert!(err.to_string().contains("header row"), "{err}");
    assert!(taken.load(Ordering::Relaxed) <= SLACK);
}

#[test]
fn issue_13_a_utf16_file_is_refused_after_its_first_bytes() {
    // (printf '\xff\xfe,x\n'; cat /dev/zero) | whocan import -
    let input = || io::Cursor::new(b"\xff\xfe,x\n".to_vec()).chain(io::repeat(0).take(1 << 40));
    let (reader, taken) = counting(input());
    let err = Importer::new()
        .import_reader(Path::new("-"), reader, &FileOptions::default())
        .unwrap_err();
    assert!(matches!(err, ImportError::Utf16 { .. }), "{err}");
    assert!(taken.load(Ordering::Relaxed) <= 4 << 20);

    let (reader, taken) = counting(input());
    let mapping = Mapping::parse(MAPPING).unwrap();
    let err = Importer::new()
        .import_mapped_reader(Path::new("-"), reader, &mapping, &FileOptions::default())
        .unwrap_err();
    assert!(matches!(err, ImportError::Utf16 { .. }), "{err}");
    assert!(taken.load(Ordering::Relaxed) <= 4 << 20);

    let (reader, taken) = counting(input());
    let mut model = whocan::model::Model::default();
    let err =
        whocan::import::people_map::load_reader(&mut model, Path::new("-"), reader).unwrap_err();
    assert!(err.to_string().contains("UTF-16"), "{err}");
    assert!(taken.load(Ordering::Relaxed) <= 4 << 20);
}

const HEADER: &str = "Project,Entity Name,Entity Type,Entity Source Type,Entity Source ID,Entity Username,Entity Email,Entity - Has Access To Name,Entity - Has Access To Source ID,Entity - Has Access To Permission Name,Entity - Has Access To Permission Value,Entity Status,Entity First Name,Entity Last Name,Entity LastLoginTime,LastPasswordChangedTime,Entity MfaEnabled,Entity - Has Access To Entity Type,Entity - Has Access To Source Type\n";
const ROW: &str = "p,Ann,identity,user,u1,,,G,g1,,,,,,,,,connection,group\n";

#[test]
fn issue_13_a_100_mb_line_of_commas_is_rejected_and_skipped() {
    // Header, a row, 100 MB of commas on one line, a row: the long line is
    // one rejected row at its line, the rows around it are accepted.
    let commas = io::repeat(b',').take(100 << 20);
    let last = ROW.replace("g1", "g2");
    let input = HEADER
        .as_bytes()
        .chain(ROW.as_bytes())
        .chain(commas)
        .chain(&b"\n"[..])
        .chain(last.as_bytes());
    let mut imp = Importer::new();
    imp.import_reader(Path::new("t.csv"), input, &FileOptions::default())
        .unwrap();
    let (model, report) = imp.finish();
    let file = &report.files[0];
    assert_eq!(
        (file.rows_read, file.rows_accepted, file.rows_rejected),
        (3, 2, 1)
    );
    let r = &report.rejections[0];
    assert_eq!(
        (r.line, r.column, r.kind),
        (3, MAX_RECORD_FIELDS + 1, RejectKind::RecordTooLong)
    );
    assert!(r.record.len() < 2048, "{}", r.record.len());
    assert_eq!(model.edges.len(), 2);
    assert_eq!(model.edges[1].origin.line, 4);
}

#[test]
fn issue_13_a_huge_cell_is_rejected_by_every_reader_with_a_short_record() {
    // One quoted field of 20 MB (commas and newlines inside) in a data row.
    let huge = || {
        io::Cursor::new(b"\"".to_vec())
            .chain(io::repeat(b',').take(10 << 20))
            .chain(io::repeat(b'\n').take(10 << 20))
            .chain(&b"\"\n"[..])
    };
    let input = HEADER.as_bytes().chain(huge()).chain(ROW.as_bytes());
    let mut imp = Importer::new();
    imp.import_reader(Path::new("t.csv"), input, &FileOptions::default())
        .unwrap();
    let (model, report) = imp.finish();
    assert_eq!(report.files[0].rows_read, 2);
    let r = &report.rejections[0];
    assert_eq!(
        (r.line, r.column, r.kind),
        (2, 1, RejectKind::RecordTooLong)
    );
    assert!(r.record.len() < 2048);
    // The field's 10,485,760 newlines end 10,485,760 lines, the record's
    // one more: the next row is on line 10,485,763.
    assert_eq!(model.edges[0].origin.line, 3 + (10 << 20));

    let mapping = Mapping::parse(MAPPING).unwrap();
    let input = b"Id\n".chain(huge()).chain(&b"u1\n"[..]);
    let mut imp = Importer::new();
    imp.import_mapped_reader(Path::new("m.csv"), input, &mapping, &FileOptions::default())
        .unwrap();
    let (model, report) = imp.finish();
    assert_eq!(report.files[0].rows_read, 2);
    assert_eq!(report.rejections[0].kind, RejectKind::RecordTooLong);
    assert_eq!(model.entities.len(), 1);

    let input = b"Identity ID,Employee Email,Relation\n"
        .chain(huge())
        .chain(&b"u1,a@b,IS\n"[..]);
    let mut model = whocan::model::Model::default();
    whocan::import::people_map::load_reader(&mut model, Path::new("p.csv"), input).unwrap();
    let file = &model.people_map.files[0];
    assert_eq!((file.rows_read, file.rows_rejected), (2, 2));
    assert_eq!(model.people_map.rejections[0].line, 2);
    assert_eq!(model.people_map.rejections[1].line, 3 + (10 << 20));
}

#[test]
fn issue_13_an_unknown_header_is_echoed_as_a_short_excerpt() {
    let long = "x".repeat(1 << 20);
    let header = HEADER.replace("Project", &long);
    let mut imp = Importer::new();
    imp.import_reader(
        Path::new("t.csv"),
        header.as_bytes(),
        &FileOptions::default(),
    )
    .unwrap();
    let (_, report) = imp.finish();
    let warning = &report.files[0].warnings[0];
    assert!(warning.len() < 200, "{} bytes", warning.len());
    assert!(warning.contains("(1048576 bytes)"), "{warning}");
}

/// `n` distinct column names, then the first one again.
fn wide_header(n: usize, prefix: &str) -> String {
    let mut header: Vec<String> = (0..n).map(|i| format!("{prefix}{i}")).collect();
    header.push(format!("{}0", prefix.to_uppercase()));
    header.join(",") + "\n"
}

#[test]
fn issue_13_duplicate_headers_are_found_in_linear_time() {
    // 160,000 columns (quadratic: 12.8 billion comparisons, minutes; linear:
    // milliseconds) with the duplicate last.
    let n = 160_000;
    let header = wide_header(n, "col");
    let err = Importer::new()
        .import_reader(
            Path::new("t.csv"),
            header.as_bytes(),
            &FileOptions::default(),
        )
        .unwrap_err();
    match err {
        ImportError::DuplicateHeader {
            column,
            first_column,
            ..
        } => assert_eq!((column, first_column), (n + 1, 1)),
        other => panic!("{other}"),
    }

    let mapping = Mapping::parse(MAPPING).unwrap();
    let err = Importer::new()
        .import_mapped_reader(
            Path::new("m.csv"),
            header.as_bytes(),
            &mapping,
            &FileOptions::default(),
        )
        .unwrap_err();
    assert!(
        matches!(err, ImportError::DuplicateHeader { column, .. } if column == n + 1),
        "{err}"
    );

    let mut model = whocan::model::Model::default();
    let err =
        whocan::import::people_map::load_reader(&mut model, Path::new("p.csv"), header.as_bytes())
            .unwrap_err();
    assert!(
        err.to_string()
            .contains(&format!(":1:{}: duplicate column", n + 1)),
        "{err}"
    );
}
