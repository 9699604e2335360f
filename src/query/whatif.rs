//! `what if CHANGE, …` and `blast radius of X`: the edits resolved against
//! the graph and answered by [`crate::whatif`] (an overlay: the loaded graph
//! is never modified), rendered as the diff's access rows; and the blast
//! radius of an identity (its access summarised, the connections to cut for
//! each privileged grant) or of a connection (who reaches it, what they gain
//! through it, ranked by the grants that depend on it alone). Does no I/O.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use serde_json::{Value, json};

use super::ast::{EntityRef, GraphChange};
use super::engine::{Engine, Evaluated};
use super::{Answer, ErrorKind, QueryError};
use crate::diff::{AccessChange, ChangeKind};
use crate::findings::DEFAULT_PRIVILEGED;
use crate::model::{EntityIdx, Kind};
use crate::report::{Table, plural};
use crate::whatif::{Edit, Kept, Outcome, what_if};

/// The columns of a what-if answer: the diff's access columns and what kept
/// the access.
pub const WHATIF_COLUMNS: [&str; 10] = [
    "change",
    "source",
    "identity_id",
    "identity_name",
    "target_id",
    "target_name",
    "permission",
    "old_providers",
    "new_providers",
    "kept",
];

/// Providers as the diff prints them: ids joined by `; `, `(direct)` for a
/// direct grant.
pub fn providers(list: &[Option<String>]) -> String {
    list.iter()
        .map(|p| p.as_deref().unwrap_or("(direct)"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// One what-if change as a row of [`WHATIF_COLUMNS`].
pub fn whatif_row(c: &AccessChange) -> Vec<Value> {
    vec![
        json!(c.kind.as_str()),
        json!(c.source),
        json!(c.identity_id),
        json!(c.identity_name),
        json!(c.target_id),
        json!(c.target_name),
        json!(c.permission),
        json!(providers(&c.old_providers)),
        json!(providers(&c.new_providers)),
        json!(Kept::of(c).map_or("", Kept::as_str)),
    ]
}

/// What a what-if came to in one line: counts by kind and the work done.
pub fn whatif_summary(o: &Outcome) -> String {
    let count = |k| o.changes.iter().filter(|c| c.kind == k).count();
    let kept = o
        .changes
        .iter()
        .filter(|c| Kept::of(c) == Some(Kept::AnotherPath))
        .count();
    format!(
        "{} granted, {} revoked, {} re-attributed ({kept} kept through another path); {} re-expanded, {} recomputed",
        count(ChangeKind::Granted),
        count(ChangeKind::Revoked),
        count(ChangeKind::ReAttributed),
        plural(o.identities, "identity", "identities"),
        plural(o.connections, "connection closure", "connection closures"),
    )
}

impl Engine<'_> {
    /// The edits of `what if`, resolved.
    pub fn edits(&self, changes: &[GraphChange]) -> Result<Vec<Edit>, QueryError> {
        let mut edits = Vec::new();
        for c in changes {
            edits.push(match c {
                GraphChange::Unlink { member, group } => {
                    let (from, to) = (self.resolve(member)?, self.resolve(group)?);
                    if !self
                        .edges_out(from)
                        .iter()
                        .any(|&i| self.model.edges[i as usize].to == to)
                    {
                        return Err(QueryError {
                            pos: member.pos,
                            width: member.width,
                            kind: ErrorKind::WrongKind {
                                message: format!(
                                    "{} has no edge to {}: nothing to remove",
                                    self.named(from),
                                    self.named(to)
                                ),
                            },
                        });
                    }
                    Edit::Unlink { from, to }
                }
                GraphChange::Remove { entity } => Edit::Remove(self.resolve(entity)?),
                GraphChange::Link {
                    member,
                    group,
                    permission,
                } => Edit::Link {
                    from: self.resolve_kind(
                        member,
                        &[Kind::Identity, Kind::Connection],
                        "only an identity or a connection can be added to something",
                    )?,
                    to: self.resolve(group)?,
                    permission: permission.as_ref().map(|w| w.text.clone()),
                },
            });
        }
        Ok(edits)
    }

    /// `what if CHANGE, …`.
    pub(super) fn what_if(&self, changes: &[GraphChange]) -> Result<Evaluated, QueryError> {
        let edits = self.edits(changes)?;
        let outcome = what_if(&self.expansion, &edits);
        let mut t = Table::new(&WHATIF_COLUMNS);
        let mut subjects = Vec::new();
        for c in &outcome.changes {
            t.push(whatif_row(c));
            if let Some(i) = self.graph.find(&c.source, &c.identity_id) {
                subjects.push(i);
            }
        }
        subjects.sort_unstable();
        subjects.dedup();
        let mut answer = Answer {
            table: t,
            hide_in_table: vec![1],
            ..Answer::default()
        };
        if outcome.changes.is_empty() {
            answer
                .notes
                .push("no effective access would change".to_string());
        }
        answer.notes.push(whatif_summary(&outcome));
        let count = outcome.changes.len() as u64;
        let mut ev = Evaluated::of_subjects(answer, subjects);
        ev.count = count;
        Ok(ev)
    }

    /// `blast radius of X`.
    pub(super) fn blast(&self, entity: &EntityRef) -> Result<Evaluated, QueryError> {
        let e = self.resolve_kind(
            entity,
            &[Kind::Identity, Kind::Connection],
            "the blast radius is an identity's or a connection's",
        )?;
        if self.kind(e) == Kind::Identity {
            Ok(self.blast_identity(e))
        } else {
            Ok(self.blast_connection(e))
        }
    }

    /// An identity: its grants by kind, source type and permission, then
    /// each privileged grant with the memberships whose removal alone
    /// revokes it.
    fn blast_identity(&self, i: EntityIdx) -> Evaluated {
        let m = self.model;
        let grants = self.expansion.grants_of(i);
        let mut t = Table::new(&[
            "part",
            "kind",
            "source_type",
            "permission",
            "target_id",
            "target_name",
            "grants",
            "cut_by",
        ]);
        // Distinct (target, permission) per summary bucket.
        let mut buckets: BTreeMap<(&str, &str, &str), Vec<EntityIdx>> = BTreeMap::new();
        let mut distinct: Vec<(EntityIdx, crate::model::Sym)> = Vec::new();
        for g in &grants {
            if distinct.last() != Some(&(g.target, g.permission)) {
                distinct.push((g.target, g.permission));
                let te = m.entity(g.target);
                buckets
                    .entry((te.kind.as_str(), m.str(te.source_type), m.str(g.permission)))
                    .or_default()
                    .push(g.target);
            }
        }
        for ((kind, st, p), targets) in &buckets {
            t.push(vec![
                json!("summary"),
                json!(kind),
                json!(st),
                json!(p),
                Value::Null,
                Value::Null,
                json!(targets.len()),
                Value::Null,
            ]);
        }
        // Which single membership cut revokes which grant.
        let entries: Vec<EntityIdx> = {
            let mut v: Vec<EntityIdx> = self
                .expansion
                .granted_edges(i)
                .iter()
                .map(|&(t, _)| t)
                .filter(|&t| self.kind(t) == Kind::Connection)
                .collect();
            v.sort_by(|&a, &b| self.order(a, b));
            v.dedup();
            v
        };
        let mut cuts: FxHashMap<(&str, &str, &str), Vec<EntityIdx>> = FxHashMap::default();
        let mut revoked_keys: Vec<Vec<(String, String, String)>> = Vec::new();
        for &c in &entries {
            let o = what_if(&self.expansion, &[Edit::Unlink { from: i, to: c }]);
            revoked_keys.push(
                o.changes
                    .into_iter()
                    .filter(|ch| ch.kind == ChangeKind::Revoked)
                    .map(|ch| (ch.target_id, ch.target_source, ch.permission))
                    .collect(),
            );
        }
        for (k, &c) in entries.iter().enumerate() {
            for (tid, ts, p) in &revoked_keys[k] {
                cuts.entry((tid.as_str(), ts.as_str(), p.as_str()))
                    .or_default()
                    .push(c);
            }
        }
        let privileged = |p: &str| {
            let p = p.to_lowercase();
            DEFAULT_PRIVILEGED.iter().any(|pat| p.contains(pat))
        };
        let mut privileged_rows = 0;
        for &(target, perm) in &distinct {
            let p = m.str(perm);
            if !privileged(p) {
                continue;
            }
            privileged_rows += 1;
            let te = m.entity(target);
            let key = (m.str(te.id), m.str(te.source), p);
            let direct = grants
                .iter()
                .any(|g| g.target == target && g.permission == perm && g.provider.is_none());
            let cut = match cuts.get(&key) {
                Some(cs) => cs
                    .iter()
                    .map(|&c| format!("remove from {}", self.named(c)))
                    .collect::<Vec<_>>()
                    .join("; "),
                None if direct => "direct grant: remove the edge itself".to_string(),
                None => "no single membership: held through several".to_string(),
            };
            t.push(vec![
                json!("privileged"),
                json!(te.kind.as_str()),
                json!(m.str(te.source_type)),
                json!(p),
                json!(self.id(target)),
                json!(m.str(te.name)),
                json!(
                    grants
                        .iter()
                        .filter(|g| g.target == target && g.permission == perm)
                        .count()
                ),
                json!(cut),
            ]);
        }
        let mut answer = Answer {
            title: Some(format!(
                "{}: {} on {} through {}",
                self.named(i),
                plural(distinct.len(), "grant", "grants"),
                plural(
                    {
                        let mut ts: Vec<EntityIdx> = distinct.iter().map(|d| d.0).collect();
                        ts.dedup();
                        ts.len()
                    },
                    "target",
                    "targets"
                ),
                plural(entries.len(), "direct membership", "direct memberships"),
            )),
            table: t,
            group_columns: 1,
            ..Answer::default()
        };
        if privileged_rows == 0 {
            answer.notes.push("no privileged grant".to_string());
        }
        let mut ev = Evaluated::of_subjects(answer, distinct.iter().map(|d| d.0).collect());
        ev.subjects.sort_unstable();
        ev.subjects.dedup();
        ev.count = distinct.len() as u64;
        ev
    }

    /// A connection: what its members gain through it and who they are,
    /// each ranked by the grants that depend on it alone (revoked were it
    /// removed).
    fn blast_connection(&self, c: EntityIdx) -> Evaluated {
        let m = self.model;
        let members = self.members_of(c);
        let removal = what_if(&self.expansion, &[Edit::Remove(c)]);
        // Revoked per (target id, source, permission) and per identity.
        let mut by_grant: FxHashMap<(&str, &str, &str), u64> = FxHashMap::default();
        let mut by_identity: FxHashMap<(&str, &str), u64> = FxHashMap::default();
        for ch in removal
            .changes
            .iter()
            .filter(|ch| ch.kind == ChangeKind::Revoked)
        {
            *by_grant
                .entry((&ch.target_id, &ch.target_source, &ch.permission))
                .or_default() += 1;
            *by_identity
                .entry((&ch.source, &ch.identity_id))
                .or_default() += 1;
        }
        let mut t = Table::new(&[
            "part",
            "entity_id",
            "entity_name",
            "permission",
            "via",
            "depth",
            "members",
            "alone",
        ]);
        let mut gains: Vec<(u64, EntityIdx, crate::model::Sym, EntityIdx)> = self
            .expansion
            .closure_of(c)
            .into_iter()
            .map(|(target, p, provider)| {
                let te = m.entity(target);
                let alone = by_grant
                    .get(&(m.str(te.id), m.str(te.source), m.str(p)))
                    .copied()
                    .unwrap_or(0);
                (alone, target, p, provider)
            })
            .collect();
        gains.sort_by(|a, b| {
            b.0.cmp(&a.0)
                .then_with(|| self.order(a.1, b.1))
                .then_with(|| m.str(a.2).cmp(m.str(b.2)))
                .then_with(|| self.order(a.3, b.3))
        });
        for (alone, target, p, provider) in &gains {
            t.push(vec![
                json!("gains"),
                json!(self.id(*target)),
                json!(m.str(m.entity(*target).name)),
                json!(m.str(*p)),
                json!(self.id(*provider)),
                Value::Null,
                json!(members.len()),
                json!(alone),
            ]);
        }
        let mut ranked: Vec<(u64, u32, EntityIdx, EntityIdx)> = members
            .iter()
            .map(|&(i, depth, entry)| {
                let alone = by_identity
                    .get(&(self.source(i), self.id(i)))
                    .copied()
                    .unwrap_or(0);
                (alone, depth, i, entry)
            })
            .collect();
        ranked.sort_by(|a, b| {
            b.0.cmp(&a.0)
                .then_with(|| a.1.cmp(&b.1))
                .then_with(|| self.order(a.2, b.2))
        });
        for (alone, depth, i, entry) in &ranked {
            t.push(vec![
                json!("member"),
                json!(self.id(*i)),
                json!(self.label(*i)),
                Value::Null,
                json!(if *depth == 1 {
                    "(direct)".to_string()
                } else {
                    self.id(*entry).to_string()
                }),
                json!(depth),
                Value::Null,
                json!(alone),
            ]);
        }
        let total: u64 = by_identity.values().sum();
        let answer = Answer {
            title: Some(format!(
                "{}: {} reach it; {} through it; removing it revokes {}",
                self.named(c),
                plural(members.len(), "identity", "identities"),
                plural(gains.len(), "grant", "grants"),
                plural(total as usize, "grant", "grants"),
            )),
            table: t,
            group_columns: 1,
            ..Answer::default()
        };
        let mut subjects: Vec<EntityIdx> = members.iter().map(|x| x.0).collect();
        subjects.sort_unstable();
        Evaluated::of_subjects(answer, subjects)
    }
}
