//! Who can reach what: `who can reach X` (with its permission, project,
//! `direct` and `via` filters), `what can Y reach` (permission and type
//! filters), and the grant lists expectations reuse. Grants on a target are
//! gathered from the edges into it and the members of the connections
//! holding them; an identity's grants come from the expansion. Does no I/O.

use std::cmp::Ordering;

use rustc_hash::{FxHashMap, FxHashSet};
use serde_json::{Value, json};

use super::QueryError;
use super::ast::{EntityRef, Route, Word};
use super::engine::{Engine, Evaluated};
use super::{Answer, plural};
use crate::expand::Grant;
use crate::model::{EntityIdx, Kind, Sym};
use crate::report::Table;

impl<'g> Engine<'g> {
    /// `N identities` and their distinct permissions, for an empty answer.
    fn grants_summary(
        &self,
        grants: &[Grant],
        subject: impl Fn(&Grant) -> EntityIdx,
    ) -> (usize, String) {
        let m = self.model;
        let subjects: FxHashSet<EntityIdx> = grants.iter().map(&subject).collect();
        let mut perms: Vec<&str> = grants.iter().map(|g| m.str(g.permission)).collect();
        perms.sort_unstable();
        perms.dedup();
        (subjects.len(), perms.join(", "))
    }

    /// Every grant on `target`: (identity, permission, provider), distinct,
    /// sorted by identity id, source, permission, provider id.
    pub fn who_grants(&self, target: EntityIdx, permission: Option<Sym>) -> Vec<Grant> {
        let m = self.model;
        let mut grants = Vec::new();
        let mut members: FxHashMap<EntityIdx, Vec<EntityIdx>> = FxHashMap::default();
        for &ei in self.edges_in(target) {
            let edge = &m.edges[ei as usize];
            if !edge.granted || permission.is_some_and(|p| p != edge.permission) {
                continue;
            }
            match self.kind(edge.from) {
                Kind::Identity => grants.push(Grant {
                    identity: edge.from,
                    target,
                    permission: edge.permission,
                    provider: None,
                }),
                Kind::Connection => {
                    let ids = members.entry(edge.from).or_insert_with(|| {
                        self.members_of(edge.from)
                            .into_iter()
                            .map(|(i, _, _)| i)
                            .collect()
                    });
                    grants.extend(ids.iter().map(|&i| Grant {
                        identity: i,
                        target,
                        permission: edge.permission,
                        provider: Some(edge.from),
                    }));
                }
                // A resource passes no access on.
                Kind::Resource => {}
            }
        }
        grants.sort_unstable_by(|a, b| {
            self.order(a.identity, b.identity)
                .then_with(|| m.str(a.permission).cmp(m.str(b.permission)))
                .then_with(|| match (a.provider, b.provider) {
                    (None, None) => Ordering::Equal,
                    (None, Some(_)) => Ordering::Less,
                    (Some(_), None) => Ordering::Greater,
                    (Some(x), Some(y)) => self.order(x, y),
                })
        });
        grants.dedup();
        grants
    }

    /// Grants of an identity, or what members of a connection get through it.
    pub(super) fn what_grants(&self, e: EntityIdx) -> Vec<Grant> {
        match self.kind(e) {
            Kind::Identity => self.expansion.grants_of(e),
            _ => self
                .expansion
                .closure_of(e)
                .into_iter()
                .map(|(target, permission, provider)| Grant {
                    identity: e,
                    target,
                    permission,
                    provider: Some(provider),
                })
                .collect(),
        }
    }

    pub(super) fn who(
        &self,
        target: &EntityRef,
        permission: &Option<Word>,
        project: &Option<Word>,
        route: &Route,
    ) -> Result<Evaluated, QueryError> {
        let m = self.model;
        let x = self.resolve(target)?;
        let p = self.permission(permission)?;
        if let Some(project) = project {
            self.check_project(project)?;
        }
        let via = match route {
            Route::Via(g) => {
                Some(self.resolve_kind(g, &[Kind::Connection], "`via` takes a connection")?)
            }
            _ => None,
        };
        let nx = self.named(x);
        let identities = |n: usize| plural(n, "identity reaches", "identities reach");
        // Filters apply in turn; when one empties the answer, the note names
        // it and says what there was before it.
        let mut empty: Option<String> = None;
        let mut grants = self.who_grants(x, p);
        if grants.is_empty()
            && let Some(p) = p
        {
            let all = self.who_grants(x, None);
            if !all.is_empty() {
                let (n, perms) = self.grants_summary(&all, |g| g.identity);
                empty = Some(format!(
                    "nobody has `{}` on {nx}; {} it with {perms}",
                    m.str(p),
                    identities(n)
                ));
            }
        }
        let project_of = |g: &Grant| {
            m.entity(g.identity)
                .attributes
                .as_ref()
                .map_or("", |a| m.str(a.project))
        };
        if let Some(project) = project {
            let before = std::mem::take(&mut grants);
            grants = before
                .iter()
                .filter(|g| project_of(g).eq_ignore_ascii_case(&project.text))
                .copied()
                .collect();
            if grants.is_empty() && !before.is_empty() {
                let (n, _) = self.grants_summary(&before, |g| g.identity);
                let mut projects: Vec<&str> = before
                    .iter()
                    .map(|g| match project_of(g) {
                        "" => "(none)",
                        p => p,
                    })
                    .collect();
                projects.sort_unstable();
                projects.dedup();
                empty = Some(format!(
                    "nobody in project `{}` reaches {nx}; {} it from {} {}",
                    project.text,
                    identities(n),
                    if projects.len() == 1 {
                        "project"
                    } else {
                        "projects"
                    },
                    projects.join(", ")
                ));
            }
        }
        let before = grants.len();
        let kept_before: Vec<EntityIdx> = grants.iter().map(|g| g.identity).collect();
        match route {
            Route::Any => {}
            Route::Direct => grants.retain(|g| g.provider.is_none()),
            Route::Via(_) => {
                let g = via.expect("resolved above");
                let down = self.downstream(g);
                let members: FxHashSet<EntityIdx> =
                    self.members_of(g).into_iter().map(|(i, _, _)| i).collect();
                grants.retain(|gr| {
                    gr.provider.is_some_and(|p| down.contains(&p)) && members.contains(&gr.identity)
                });
            }
        }
        if grants.is_empty() && before > 0 {
            let n = kept_before.iter().collect::<FxHashSet<_>>().len();
            empty = Some(match via {
                None => format!(
                    "nobody reaches {nx} directly; {} it through a connection",
                    identities(n)
                ),
                Some(g) => format!(
                    "no access to {nx} flows through {}; {} it otherwise",
                    self.named(g),
                    identities(n)
                ),
            });
        }
        let mut t = Table::new(&[
            "identity_id",
            "identity_name",
            "source",
            "permission",
            "provider_id",
            "provider_name",
        ]);
        let mut subjects = Vec::new();
        for g in &grants {
            subjects.push(g.identity);
            t.push(vec![
                json!(self.id(g.identity)),
                json!(m.str(m.entity(g.identity).name)),
                json!(self.source(g.identity)),
                json!(m.str(g.permission)),
                g.provider.map_or(Value::Null, |p| json!(self.id(p))),
                g.provider.map_or(Value::Null, |p| json!(self.label(p))),
            ]);
        }
        Ok(grant_answer(t, subjects, || {
            empty.unwrap_or_else(|| format!("nobody can reach {nx}"))
        }))
    }

    pub(super) fn what(
        &self,
        identity: &EntityRef,
        permission: &Option<Word>,
        of_type: &Option<Word>,
    ) -> Result<Evaluated, QueryError> {
        let m = self.model;
        let y = self.resolve_kind(
            identity,
            &[Kind::Identity, Kind::Connection],
            "a resource holds no access",
        )?;
        let p = self.permission(permission)?;
        if let Some(t) = of_type {
            self.check_type(t)?;
        }
        let ny = self.named(y);
        let targets = |n: usize| plural(n, "target", "targets");
        let mut empty: Option<String> = None;
        let mut grants = self.what_grants(y);
        if let Some(p) = p {
            let before = std::mem::take(&mut grants);
            grants = before
                .iter()
                .filter(|g| g.permission == p)
                .copied()
                .collect();
            if grants.is_empty() && !before.is_empty() {
                let (n, perms) = self.grants_summary(&before, |g| g.target);
                empty = Some(format!(
                    "{ny} has no `{}` on anything; reaches {} with {perms}",
                    m.str(p),
                    targets(n)
                ));
            }
        }
        if let Some(t) = of_type {
            let before = std::mem::take(&mut grants);
            grants = before
                .iter()
                .filter(|g| {
                    let e = m.entity(g.target);
                    e.kind.as_str().eq_ignore_ascii_case(&t.text)
                        || m.str(e.source_type).eq_ignore_ascii_case(&t.text)
                })
                .copied()
                .collect();
            if grants.is_empty() && !before.is_empty() {
                let (n, _) = self.grants_summary(&before, |g| g.target);
                let mut types: Vec<&str> = before
                    .iter()
                    .map(|g| m.str(m.entity(g.target).source_type))
                    .collect();
                types.sort_unstable();
                types.dedup();
                empty = Some(format!(
                    "{ny} reaches nothing of type `{}`; reaches {} of type {}",
                    t.text,
                    targets(n),
                    types.join(", ")
                ));
            }
        }
        // The report's columns from the target on: what a grant looks like
        // seen from the identity that holds it.
        let mut t = Table::new(&crate::report::access::COLUMNS[3..]);
        let mut subjects = Vec::new();
        for g in &grants {
            subjects.push(g.target);
            t.push(Vec::from(self.target_cells(g)));
        }
        Ok(grant_answer(t, subjects, || {
            empty.unwrap_or_else(|| format!("{ny} reaches nothing"))
        }))
    }
}

impl Engine<'_> {
    /// The cells of a grant seen from its target: target id, name and
    /// `kind/type`, permission, provider id and name (null when direct), as
    /// `what can … reach` and `what can person … reach` show them.
    pub(super) fn target_cells(&self, g: &Grant) -> [Value; 6] {
        let m = self.model;
        let e = m.entity(g.target);
        [
            json!(self.id(g.target)),
            json!(m.str(e.name)),
            json!(format!("{}/{}", e.kind, m.str(e.source_type))),
            json!(m.str(g.permission)),
            g.provider.map_or(Value::Null, |p| json!(self.id(p))),
            g.provider.map_or(Value::Null, |p| json!(self.label(p))),
        ]
    }
}

/// The answer of `who can reach` / `what can … reach`: a grant table grouped
/// by its first three columns, providers `(direct)` when absent, counted by
/// distinct subjects, with a note when there is nothing to show.
fn grant_answer(
    table: Table,
    mut subjects: Vec<EntityIdx>,
    empty: impl FnOnce() -> String,
) -> Evaluated {
    subjects.sort_unstable();
    let rows = subjects.len();
    subjects.dedup();
    let mut answer = Answer {
        table,
        group_columns: 3,
        null_as: vec![(5, "(direct)")],
        ..Answer::default()
    };
    if rows == 0 {
        answer.notes.push(empty());
    }
    Evaluated::of_subjects(answer, subjects)
}

#[cfg(test)]
mod tests {
    use super::super::engine::testing::{NESTED, check};

    #[test]
    fn nested_group_grant_names_the_inner_provider() {
        check(
            NESTED,
            "who can reach prod-db with admin",
            "identity_id,identity_name,source,permission,provider_id,provider_name\nu-alice,alice,t,admin,grp-dba,DBA-Team\nu-bob,bob,t,admin,grp-dba,DBA-Team\n",
        );
    }

    #[test]
    fn via_keeps_grants_whose_path_runs_through_the_connection() {
        check(
            NESTED,
            "expect who can reach prod-db via Engineering = {alice, bob}",
            "true got {alice (u-alice), bob (u-bob)}\n",
        );
        // Access flows around a nesting cycle: svc-deploy's read from Ops can
        // flow through OnCall (Ops -> OnCall -> Ops), so it counts.
        check(
            NESTED,
            "expect who can reach prod-db via OnCall = {bob, svc-deploy}",
            "true got {svc-deploy, bob (u-bob)}\n",
        );
        check(
            NESTED,
            "expect bob reaches prod-db with read via Engineering",
            "false bob (u-bob) reaches prod-db (db-prod) with: admin via DBA-Team; read via Ops\n",
        );
    }

    #[test]
    fn cycle_members_get_everything_the_cycle_holds() {
        check(
            NESTED,
            "what can bob reach of type resource",
            "target_id,target_name,target_type,permission,provider_id,provider_name\ndb-billing,billing-db,resource/database,admin,grp-dba,DBA-Team\ndb-prod,prod-db,resource/database,admin,grp-dba,DBA-Team\ndb-prod,prod-db,resource/database,read,grp-ops,Ops\nres-pager,pager,resource/application,page,grp-oncall,OnCall\n",
        );
    }
}
