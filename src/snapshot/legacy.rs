//! Formats 1 and 2, still read: an all-bincode body of four (format 1) or
//! five (format 2) sections, decoded in parallel.

use serde::Deserialize;

use crate::import::ImportReport;
use crate::model::{Conflict, Edge, Entity, Interner, Model, SourceFile};

use super::header::{decode_section, split_sections};
use super::invariants::validate;
use super::{Metadata, People, Snapshot, SnapshotError};

/// Section 2 of a format-1 or format-2 body: the model without its string
/// table. Field order is the file's.
#[derive(Deserialize)]
pub(super) struct Records {
    sources: Vec<SourceFile>,
    entities: Vec<Entity>,
    edges: Vec<Edge>,
    conflicts: Vec<Conflict>,
}

/// Decodes a format-1 or format-2 body.
pub(super) fn decode_body(version: u32, body: &[u8]) -> Result<Snapshot, SnapshotError> {
    let [meta, strings, records, report, people, ..] = split_sections(version, body)?;
    // Sections decode in parallel; the string table's lookup index is built
    // later, on first use, so a load that only reports never pays for it.
    let (strings, (records, (metadata, report, people))) = rayon::join(
        || -> Result<Interner, SnapshotError> {
            let strings: Interner = decode_section(strings, 1)?;
            strings.check().map_err(SnapshotError::Invalid)?;
            Ok(strings)
        },
        || {
            rayon::join(
                || decode_section::<Records>(records, 2),
                || {
                    (
                        super::decode_metadata_section(meta, version),
                        decode_section::<ImportReport>(report, 3),
                        if version == 1 {
                            Ok(People::default())
                        } else {
                            decode_section::<People>(people, 4)
                        },
                    )
                },
            )
        },
    );
    let metadata = metadata?;
    if metadata.format_version != version {
        return Err(SnapshotError::Invalid(format!(
            "body says format version {} but the header says {version}",
            metadata.format_version
        )));
    }
    let records = records?;
    let people = people?;
    let mut model = Model {
        strings: strings?,
        sources: records.sources,
        entities: records.entities,
        edges: records.edges,
        conflicts: records.conflicts,
        employees: people.employees,
        properties: people.properties,
        people_map: people.people_map,
        inputs: crate::model::InputRecord::default(),
    };
    let report = report?;
    validate(&model, true)?;
    // Snapshots store attribute text; the values are typed again by name.
    model.type_employee_attributes();
    Ok(Snapshot {
        metadata,
        model,
        report,
    })
}

/// Section 0 of formats 1 to 3: [`Metadata`] before it recorded mapping
/// files, people maps and options. Field order must match the old struct.
#[derive(Deserialize)]
pub(super) struct MetadataV3 {
    format_version: u32,
    whocan_version: String,
    created: i64,
    sources: Vec<super::SourceRecord>,
    entities: u64,
    edges: u64,
    conflicts: u64,
}

impl From<MetadataV3> for Metadata {
    fn from(m: MetadataV3) -> Metadata {
        Metadata {
            format_version: m.format_version,
            whocan_version: m.whocan_version,
            created: m.created,
            sources: m.sources,
            entities: m.entities,
            edges: m.edges,
            conflicts: m.conflicts,
            recorded: None,
        }
    }
}
