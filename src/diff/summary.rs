//! An auditor's summary of a diff (`whocan diff --summary`): counts per
//! change kind, counts per source and kind, then the ten largest changes by
//! number of grants.
//!
//! The largest changes are counted two ways, and the two lists ranked
//! together:
//!
//! - **per connection**: each access row counts once for each provider it
//!   names on the side that has it: a `granted` row for every new provider,
//!   a `revoked` row for every old provider, a `re-attributed` row for every
//!   new provider that was not an old one. A group that gained 4,000
//!   members granting 3 resources each counts 12,000 `granted`.
//! - **per identity**: an identity's number of `granted` (`revoked`,
//!   `re-attributed`) rows: an account that lost 300 grants counts 300.
//!
//! Ties rank by kind, then entity type, source and id. The summary holds
//! one counter per changed identity and connection, never the changes.
//! Does no I/O.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;

use super::{Change, ChangeKind, Comparison};
use crate::findings::Subject;

/// How many of the largest changes are listed.
pub const LARGEST: usize = 10;

/// The columns of a summary row, in order.
pub const COLUMNS: [&str; 7] = [
    "section",
    "change",
    "source",
    "entity_id",
    "entity_name",
    "entity_type",
    "count",
];

/// One row of the summary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// `kind` (a count per change kind), `source` (per source and kind) or
    /// `largest`.
    pub section: &'static str,
    /// The change kind.
    pub change: &'static str,
    /// The source (empty in the `kind` section).
    pub source: String,
    /// For `largest`: the connection's or identity's id.
    pub entity_id: String,
    /// For `largest`: its name.
    pub entity_name: String,
    /// For `largest`: `connection` or `identity`.
    pub entity_type: &'static str,
    /// The number of changes (of grants, for `largest`).
    pub count: u64,
}

/// Counters fed one change at a time.
#[derive(Debug, Default)]
pub struct Summary {
    kinds: [u64; ChangeKind::ALL.len()],
    sources: BTreeMap<(String, ChangeKind), u64>,
    connections: FxHashMap<(String, String, ChangeKind), u64>,
    identities: FxHashMap<(String, String, ChangeKind), u64>,
}

impl Summary {
    /// Counts one change.
    pub fn add(&mut self, change: &Change) {
        let kind = change.kind();
        self.kinds[kind.index()] += 1;
        let source = match change {
            Change::Access(c) => &c.source,
            Change::Entity(c) => &c.source,
            Change::Employee(c) => &c.source,
            Change::Link(c) => &c.source,
            Change::Person(c) => &c.source,
            Change::Finding(c) => match &c.finding.entity {
                Subject::Entity { source, .. } => source,
                Subject::Row { file, .. } => file,
            },
        };
        *self.sources.entry((source.clone(), kind)).or_default() += 1;
        if let Change::Access(c) = change {
            let counted: Vec<&String> = match kind {
                ChangeKind::Granted => c.new_providers.iter().flatten().collect(),
                ChangeKind::Revoked => c.old_providers.iter().flatten().collect(),
                _ => c
                    .new_providers
                    .iter()
                    .flatten()
                    .filter(|p| !c.old_providers.iter().flatten().any(|o| o == *p))
                    .collect(),
            };
            for p in counted {
                *self
                    .connections
                    .entry((c.source.clone(), p.clone(), kind))
                    .or_default() += 1;
            }
            *self
                .identities
                .entry((c.source.clone(), c.identity_id.clone(), kind))
                .or_default() += 1;
        }
    }

    /// Counts one change by kind only: what `--fail-on` needs when no
    /// summary is printed (no map grows per source, connection or
    /// identity).
    pub fn tally(&mut self, change: &Change) {
        self.kinds[change.kind().index()] += 1;
    }

    /// Number of changes of one kind.
    pub fn count(&self, kind: ChangeKind) -> u64 {
        self.kinds[kind.index()]
    }

    /// The summary's rows: every kind (zeros included, in
    /// [`ChangeKind::ALL`] order), each (source, kind) with changes, then
    /// the [`LARGEST`] largest changes. Names come from `comparison`.
    pub fn rows(&self, comparison: &Comparison) -> Vec<Row> {
        let mut out: Vec<Row> = ChangeKind::ALL
            .iter()
            .map(|&k| Row {
                section: "kind",
                change: k.as_str(),
                source: String::new(),
                entity_id: String::new(),
                entity_name: String::new(),
                entity_type: "",
                count: self.count(k),
            })
            .collect();
        out.extend(self.sources.iter().map(|((source, k), &count)| Row {
            section: "source",
            change: k.as_str(),
            source: source.clone(),
            entity_id: String::new(),
            entity_name: String::new(),
            entity_type: "",
            count,
        }));
        let mut largest: Vec<(u64, ChangeKind, &'static str, &String, &String)> = self
            .connections
            .iter()
            .map(|((s, id, k), &n)| (n, *k, "connection", s, id))
            .chain(
                self.identities
                    .iter()
                    .map(|((s, id, k), &n)| (n, *k, "identity", s, id)),
            )
            .collect();
        largest.sort_by(|a, b| {
            b.0.cmp(&a.0)
                .then_with(|| (a.1, a.2, a.3, a.4).cmp(&(b.1, b.2, b.3, b.4)))
        });
        out.extend(
            largest
                .into_iter()
                .take(LARGEST)
                .map(|(count, k, ty, s, id)| Row {
                    section: "largest",
                    change: k.as_str(),
                    source: s.clone(),
                    entity_id: id.clone(),
                    entity_name: comparison
                        .entity_name(s, id)
                        .map(|(n, _)| n.to_string())
                        .unwrap_or_default(),
                    entity_type: ty,
                    count,
                }),
        );
        out
    }
}
