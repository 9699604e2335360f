//! `expect` checking: set comparisons over a query's distinct subjects,
//! counts, `none outside G can reach X` and `Y reaches X [via G]`, each
//! giving a [`Verdict`] with what was found. Does no I/O.

use rustc_hash::FxHashSet;

use super::QueryError;
use super::ast::{Ask, Expectation, Pos, Query, SetCmp};
use super::engine::{Engine, Evaluated};
use crate::expand::Grant;
use crate::model::{EntityIdx, Kind};

/// The outcome of one expectation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// True when the expectation holds.
    pub passed: bool,
    /// What was found, for the failure message.
    pub detail: String,
}

impl<'g> Engine<'g> {
    /// Checks an expectation.
    pub fn check(&self, expectation: &Expectation) -> Result<Verdict, QueryError> {
        let m = self.model;
        match expectation {
            Expectation::Forbid(rule) => self.check_rule(rule),
            Expectation::Set { query, cmp, items } => {
                if matches!(
                    query,
                    Query::Why { .. }
                        | Query::Stats
                        | Query::Cycles
                        | Query::Show { .. }
                        | Query::Owners { .. }
                        | Query::Managers { .. }
                        | Query::Reports { .. }
                ) {
                    return Err(QueryError::unsupported(
                        Pos::default(),
                        format!(
                            "`expect {} …` compares no set; use `expect count`",
                            query.verb()
                        ),
                    ));
                }
                let got: FxHashSet<EntityIdx> =
                    self.subjects(query)?.subjects.into_iter().collect();
                let mut want = FxHashSet::default();
                for r in items {
                    want.insert(self.resolve(r)?);
                }
                let missing: Vec<EntityIdx> = want.difference(&got).copied().collect();
                let extra: Vec<EntityIdx> = got.difference(&want).copied().collect();
                let mut got_list: Vec<EntityIdx> = got.iter().copied().collect();
                got_list.sort_unstable();
                let (passed, detail) = match cmp {
                    SetCmp::Equals => {
                        let mut parts = vec![format!("got {}", self.list(&got_list))];
                        if !missing.is_empty() {
                            parts.push(format!("missing {}", self.list(&missing)));
                        }
                        if !extra.is_empty() {
                            parts.push(format!("unexpected {}", self.list(&extra)));
                        }
                        (missing.is_empty() && extra.is_empty(), parts.join("; "))
                    }
                    SetCmp::Includes => (
                        missing.is_empty(),
                        format!(
                            "got {}; missing {}",
                            self.list(&got_list),
                            self.list(&missing)
                        ),
                    ),
                    SetCmp::Excludes => {
                        let present: Vec<EntityIdx> = want.intersection(&got).copied().collect();
                        (
                            present.is_empty(),
                            format!("present {}", self.list(&present)),
                        )
                    }
                };
                Ok(Verdict { passed, detail })
            }
            Expectation::Count { query, cmp, value } => {
                let ev = self.subjects(query)?;
                let n = ev.count;
                Ok(Verdict {
                    passed: cmp.holds(n, *value),
                    detail: match ev.count_note {
                        Some(note) => format!("count is {note}"),
                        None => format!("count is {n}"),
                    },
                })
            }
            Expectation::NoneOutside {
                group,
                target,
                permission,
            } => {
                let g = self.resolve_kind(
                    group,
                    &[Kind::Connection],
                    "`none outside` takes a connection",
                )?;
                let x = self.resolve(target)?;
                let p = self.permission(permission)?;
                let members: FxHashSet<EntityIdx> =
                    self.members_of(g).into_iter().map(|(i, _, _)| i).collect();
                let mut offenders: Vec<String> = Vec::new();
                for gr in self.who_grants(x, p) {
                    if !members.contains(&gr.identity) {
                        offenders.push(format!(
                            "{} [{}] {}",
                            self.named(gr.identity),
                            m.str(gr.permission),
                            gr.provider.map_or("directly".to_string(), |pr| format!(
                                "via {}",
                                self.label(pr)
                            ))
                        ));
                    }
                }
                Ok(Verdict {
                    passed: offenders.is_empty(),
                    detail: format!(
                        "{} outside {}: {}",
                        offenders.len(),
                        self.label(g),
                        offenders.join("; ")
                    ),
                })
            }
            Expectation::Reaches {
                negated,
                identity,
                target,
                permission,
                via,
            } => {
                let y = self.resolve_kind(
                    identity,
                    &[Kind::Identity, Kind::Connection],
                    "a resource holds no access",
                )?;
                let x = self.resolve(target)?;
                let p = self.permission(permission)?;
                let mut grants: Vec<Grant> = self
                    .what_grants(y)
                    .into_iter()
                    .filter(|g| g.target == x)
                    .collect();
                let all: Vec<String> = grants
                    .iter()
                    .map(|g| {
                        format!(
                            "{} {}",
                            m.str(g.permission),
                            g.provider.map_or("directly".to_string(), |pr| format!(
                                "via {}",
                                self.label(pr)
                            ))
                        )
                    })
                    .collect();
                if let Some(p) = p {
                    grants.retain(|g| g.permission == p);
                }
                if let Some(via) = via {
                    let g =
                        self.resolve_kind(via, &[Kind::Connection], "`via` takes a connection")?;
                    let down = self.downstream(g);
                    let in_g = self.kind(y) == Kind::Connection && self.downstream(y).contains(&g)
                        || self.groups_of(y).iter().any(|c| c.0 == g);
                    grants.retain(|gr| in_g && gr.provider.is_some_and(|pr| down.contains(&pr)));
                }
                let detail = if all.is_empty() {
                    format!("{} has no access to {}", self.named(y), self.named(x))
                } else {
                    format!(
                        "{} reaches {} with: {}",
                        self.named(y),
                        self.named(x),
                        all.join("; ")
                    )
                };
                Ok(Verdict {
                    passed: grants.is_empty() == *negated,
                    detail,
                })
            }
        }
    }

    pub(super) fn subjects(&self, query: &Query) -> Result<Evaluated, QueryError> {
        self.eval(&Ask {
            query: query.clone(),
            count: false,
            limit: None,
        })
    }

    pub(super) fn list(&self, items: &[EntityIdx]) -> String {
        let mut items = items.to_vec();
        items.sort_by(|&a, &b| self.order(a, b));
        let names: Vec<String> = items.iter().map(|&e| self.named(e)).collect();
        format!("{{{}}}", names.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::super::engine::testing::{NESTED, check};

    #[test]
    fn false_edge_is_kept_but_not_traversed() {
        check(NESTED, "count why carol billing-db", "count\n0\n");
        check(
            NESTED,
            "expect none outside DBA-Team can reach billing-db with admin",
            "true 0 outside DBA-Team: \n",
        );
        check(
            NESTED,
            "expect none outside Engineering can reach prod-db",
            "false 2 outside Engineering: svc-deploy [read] via Ops; svc-deploy [write] directly\n",
        );
        check(
            NESTED,
            "expect count members of DBA-Team = 2",
            "true count is 2\n",
        );
    }
}
