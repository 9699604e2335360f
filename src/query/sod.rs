//! Separation-of-duties rules: `forbid X [with P] and Y [with Q] … [for
//! persons] [except members of G] [severity S]`. A **violation** is one
//! identity holding every access the rule names — or, `for persons`, one
//! employee holding them across every identity they `IS` or `OWNS` (an
//! identity linked to no employee stands for itself). Members of `G`
//! (directly or nested) are exempt; a person is exempt when one of their
//! identities is. The same rule is an expectation at the prompt and in
//! `whocan run` (it fails listing each violation) and a finding
//! (`sod-violation`) for `whocan findings --rules FILE`, whose evidence is
//! each grant with a path and the file:line of every edge on it. Does no
//! I/O.

use rustc_hash::{FxHashMap, FxHashSet};

use super::QueryError;
use super::ast::Rule;
use super::engine::Engine;
use super::expect::Verdict;
use crate::expand::Grant;
use crate::findings::{Evidence, Finding, FindingKind, Severity, Subject};
use crate::model::{EdgeIdx, EntityIdx, Relation, Sym};
use crate::people::{EmployeeIdx, employee_key};

/// Who broke a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Holder {
    /// One identity.
    Identity(EntityIdx),
    /// One employee, through their identities.
    Person(EmployeeIdx),
}

/// One access of a rule as held: the grant and one path granting it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Held {
    /// The grant (its identity is the holder's, or one of the person's).
    pub grant: Grant,
    /// Edges from the identity to the target, the granting edge last.
    pub path: Vec<EdgeIdx>,
}

/// One violation of a rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Who holds the accesses together.
    pub holder: Holder,
    /// One held grant per access of the rule, in the rule's order.
    pub held: Vec<Held>,
}

/// A rule resolved: (target, permission) per access, the exempt identities,
/// the severity.
struct Resolved {
    accesses: Vec<(EntityIdx, Option<Sym>)>,
    exempt: FxHashSet<EntityIdx>,
    severity: Severity,
}

impl Engine<'_> {
    fn resolve_rule(&self, rule: &Rule) -> Result<Resolved, QueryError> {
        let mut accesses = Vec::new();
        for a in &rule.accesses {
            accesses.push((self.resolve(&a.target)?, self.permission(&a.permission)?));
        }
        let exempt = match &rule.except {
            Some(g) => {
                let g = self.resolve_kind(
                    g,
                    &[crate::model::Kind::Connection],
                    "`except members of` takes a connection",
                )?;
                self.members_of(g).into_iter().map(|(i, _, _)| i).collect()
            }
            None => FxHashSet::default(),
        };
        let severity = match rule.severity.as_ref().map(|w| w.text.to_lowercase()) {
            None => Severity::High,
            Some(s) => match s.as_str() {
                "info" => Severity::Info,
                "low" => Severity::Low,
                "medium" => Severity::Medium,
                "critical" => Severity::Critical,
                _ => Severity::High,
            },
        };
        Ok(Resolved {
            accesses,
            exempt,
            severity,
        })
    }

    /// Every violation of `rule`: identities (or persons) in report order.
    pub fn violations(&self, rule: &Rule) -> Result<Vec<Violation>, QueryError> {
        let r = self.resolve_rule(rule)?;
        // Per access: the first grant of each identity holding it.
        let holders: Vec<FxHashMap<EntityIdx, Grant>> = r
            .accesses
            .iter()
            .map(|&(t, p)| {
                let mut by: FxHashMap<EntityIdx, Grant> = FxHashMap::default();
                for g in self.who_grants(t, p) {
                    by.entry(g.identity).or_insert(g);
                }
                by
            })
            .collect();
        let held = |g: &Grant| {
            // The granting edge leaves the provider, or the identity itself.
            let from = g.provider.unwrap_or(g.identity);
            let path = self
                .grant_paths(g.identity, g.target)
                .into_iter()
                .find(|p| {
                    p.last().is_some_and(|&e| {
                        let last = &self.model.edges[e as usize];
                        last.permission == g.permission && last.from == from
                    })
                })
                .unwrap_or_default();
            Held { grant: *g, path }
        };
        let mut out = Vec::new();
        let mut candidates: Vec<EntityIdx> = holders[0].keys().copied().collect();
        candidates.sort_by(|&a, &b| self.order(a, b));
        if !rule.persons {
            for i in candidates {
                if r.exempt.contains(&i) {
                    continue;
                }
                let all: Option<Vec<Held>> = holders.iter().map(|h| h.get(&i).map(held)).collect();
                if let Some(held) = all {
                    out.push(Violation {
                        holder: Holder::Identity(i),
                        held,
                    });
                }
            }
            return Ok(out);
        }
        // Per person: every employee linked to a holder of the first access,
        // and unlinked holders as themselves.
        let people = self.people();
        let linked = |i: EntityIdx| {
            people
                .links_of_identity(i)
                .filter(|l| matches!(l.relation, Relation::Is | Relation::Owns))
                .map(|l| l.employee)
                .collect::<Vec<_>>()
        };
        let mut employees: Vec<EmployeeIdx> = Vec::new();
        let mut alone: Vec<EntityIdx> = Vec::new();
        for &i in &candidates {
            let es = linked(i);
            if es.is_empty() {
                alone.push(i);
            }
            employees.extend(es);
        }
        employees.sort_by_key(|&e| employee_key(self.model, e));
        employees.dedup();
        for e in employees {
            let mut ids: Vec<EntityIdx> = people
                .links_of_employee(e)
                .iter()
                .map(|l| l.identity)
                .collect();
            ids.sort_by(|&a, &b| self.order(a, b));
            ids.dedup();
            if ids.iter().any(|i| r.exempt.contains(i)) {
                continue;
            }
            let all: Option<Vec<Held>> = holders
                .iter()
                .map(|h| ids.iter().find_map(|i| h.get(i)).map(held))
                .collect();
            if let Some(held) = all {
                out.push(Violation {
                    holder: Holder::Person(e),
                    held,
                });
            }
        }
        for i in alone {
            if r.exempt.contains(&i) {
                continue;
            }
            let all: Option<Vec<Held>> = holders.iter().map(|h| h.get(&i).map(held)).collect();
            if let Some(held) = all {
                out.push(Violation {
                    holder: Holder::Identity(i),
                    held,
                });
            }
        }
        Ok(out)
    }

    /// The holder as text: `name (id)` for an identity, `source/id (name)`
    /// for an employee.
    fn holder_text(&self, h: Holder) -> String {
        match h {
            Holder::Identity(i) => self.named(i),
            Holder::Person(e) => format!(
                "person {} ({})",
                employee_key(self.model, e),
                self.model.str(self.model.employees[e as usize].name)
            ),
        }
    }

    /// `prod-db (db-prod) admin via DBA-Team: u-alice -> grp-eng -> … ->
    /// db-prod`.
    fn held_text(&self, h: &Held) -> String {
        let m = self.model;
        let g = &h.grant;
        let via = match g.provider {
            Some(p) => format!("via {}", self.label(p)),
            None => "direct".to_string(),
        };
        let mut chain = vec![self.id(g.identity).to_string()];
        for &e in &h.path {
            chain.push(self.id(m.edges[e as usize].to).to_string());
        }
        format!(
            "{} {} {via}: {}",
            self.named(g.target),
            m.str(g.permission),
            chain.join(" -> ")
        )
    }

    /// The verdict of `forbid …`: passes when nothing violates the rule;
    /// a failure names each violation and how each access is held.
    pub(super) fn check_rule(&self, rule: &Rule) -> Result<Verdict, QueryError> {
        let v = self.violations(rule)?;
        if v.is_empty() {
            let whom = if rule.persons { "person" } else { "identity" };
            return Ok(Verdict {
                passed: true,
                detail: format!("no {whom} holds these accesses together"),
            });
        }
        let lines: Vec<String> = v
            .iter()
            .map(|x| {
                let held: Vec<String> = x.held.iter().map(|h| self.held_text(h)).collect();
                format!(
                    "{} holds {}",
                    self.holder_text(x.holder),
                    held.join("; and ")
                )
            })
            .collect();
        Ok(Verdict {
            passed: false,
            detail: format!(
                "{}: {}",
                crate::report::plural(v.len(), "violation", "violations"),
                lines.join(" | ")
            ),
        })
    }

    /// The violations of `rule` as `sod-violation` findings; `origin` is
    /// where the rule is written (`rules/sod.wq`, line), shown as the first
    /// evidence line.
    pub fn rule_findings(
        &self,
        rule: &Rule,
        text: &str,
        origin: Option<(&str, u64)>,
    ) -> Result<Vec<Finding>, QueryError> {
        let m = self.model;
        let r = self.resolve_rule(rule)?;
        let mut out = Vec::new();
        for v in self.violations(rule)? {
            let subject = match v.holder {
                Holder::Identity(i) => {
                    let e = m.entity(i);
                    Subject::Entity {
                        source: m.str(e.source).to_string(),
                        id: m.str(e.id).to_string(),
                        kind: e.kind.as_str(),
                        name: m.str(e.name).to_string(),
                    }
                }
                Holder::Person(p) => {
                    let e = &m.employees[p as usize];
                    Subject::Entity {
                        source: m.str(e.source).to_string(),
                        id: m.str(e.id).to_string(),
                        kind: "employee",
                        name: m.str(e.name).to_string(),
                    }
                }
            };
            let mut evidence = Vec::new();
            evidence.push(Evidence {
                file: origin.map(|o| o.0.to_string()),
                line: origin.map(|o| o.1),
                column: None,
                text: format!("rule: {text}"),
            });
            for h in &v.held {
                evidence.push(Evidence::note(self.held_text(h)));
                for &e in &h.path {
                    let edge = &m.edges[e as usize];
                    evidence.push(Evidence::at(
                        m,
                        edge.origin,
                        format!(
                            "{} -> {} {}",
                            self.id(edge.from),
                            self.id(edge.to),
                            m.str(edge.permission)
                        ),
                    ));
                }
            }
            let accesses: Vec<String> = v
                .held
                .iter()
                .map(|h| {
                    format!(
                        "{} {}",
                        self.named(h.grant.target),
                        m.str(h.grant.permission)
                    )
                })
                .collect();
            out.push(Finding::new(
                r.severity,
                FindingKind::SodViolation,
                subject,
                format!(
                    "{} holds {} together, which a rule forbids",
                    self.holder_text(v.holder),
                    accesses.join(" and ")
                ),
                evidence,
                "remove one of the accesses (see the paths), or exempt the holder with `except members of G`".into(),
            ));
        }
        Ok(out)
    }
}

/// A rule of a rules file with its text and line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleAt {
    /// The rule.
    pub rule: Rule,
    /// Its text as written (one line).
    pub text: String,
    /// Its line in the file.
    pub line: u64,
}

/// The `forbid` rules of a rules file (`#` comments and blank lines
/// allowed; `expect forbid …` too). Any other statement, or text that does
/// not parse, is an error rendered at `origin:line:column` with the line.
pub fn parse_rules(origin: &str, text: &str) -> Result<Vec<RuleAt>, String> {
    use super::ast::{Expectation, Statement};
    let statements = super::parse::parse_script(text).map_err(|e| e.render(origin, text))?;
    let mut out = Vec::new();
    for st in statements {
        match st.statement {
            Statement::Expect(Expectation::Forbid(rule)) => out.push(RuleAt {
                rule,
                text: st.text.clone(),
                line: u64::from(st.pos.line),
            }),
            _ => {
                return Err(QueryError::unsupported(
                    st.pos,
                    "a rules file holds only `forbid …` rules",
                )
                .render(origin, text));
            }
        }
    }
    Ok(out)
}

/// A rules file: its name as given, its text and its rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RulesFile {
    /// The file's name, as given on the command line.
    pub name: String,
    /// Its text (errors quote its lines).
    pub text: String,
    /// Its rules.
    pub rules: Vec<RuleAt>,
}

impl RulesFile {
    /// Parses the rules of `text`, read from `name` (see [`parse_rules`]).
    pub fn parse(name: &str, text: String) -> Result<RulesFile, String> {
        let rules = parse_rules(name, &text)?;
        Ok(RulesFile {
            name: name.to_string(),
            text,
            rules,
        })
    }
}

/// Every rule's violations as findings, each with the rule's file:line as
/// its first evidence. With `strict`, an entity or permission a rule names
/// that cannot be resolved is an error rendered against its file; without
/// (each side of a diff, where a rule may name what one side lacks), such a
/// rule gives no finding on this graph.
pub fn rules_findings(
    engine: &Engine,
    files: &[RulesFile],
    strict: bool,
) -> Result<Vec<Finding>, String> {
    let mut out = Vec::new();
    for f in files {
        for r in &f.rules {
            match engine.rule_findings(&r.rule, &r.text, Some((&f.name, r.line))) {
                Ok(found) => out.extend(found),
                Err(e) if strict => return Err(e.render(&f.name, &f.text)),
                Err(_) => {}
            }
        }
    }
    Ok(out)
}

/// The first rule of `files` that resolves on none of `engines`, as an
/// error rendered against its file (against the first engine's graph).
pub fn unresolved_rule(engines: &[&Engine], files: &[RulesFile]) -> Option<String> {
    for f in files {
        for r in &f.rules {
            let errors: Vec<QueryError> = engines
                .iter()
                .filter_map(|e| e.resolve_rule(&r.rule).err())
                .collect();
            if errors.len() == engines.len() {
                if let Some(e) = errors.first() {
                    return Some(e.render(&f.name, &f.text));
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::super::engine::testing::{NESTED, check};
    use super::parse_rules;

    #[test]
    fn a_rule_fails_only_when_one_identity_holds_every_access() {
        check(
            NESTED,
            "forbid prod-db with admin and audit-log with write",
            "false 1 violation: alice (u-alice) holds prod-db (db-prod) admin via DBA-Team: u-alice -> grp-eng -> grp-platform -> grp-dba -> db-prod; and audit-log (res-audit-log) write via Security-Team: u-alice -> grp-sec -> res-audit-log\n",
        );
        // Members of the exempt group, directly or nested, are skipped.
        check(
            NESTED,
            "expect forbid prod-db with admin and audit-log with write except members of Security-Team",
            "true no identity holds these accesses together\n",
        );
        // carol reaches the wiki and bob the pager: two identities, no
        // violation.
        check(
            NESTED,
            "forbid wiki and pager",
            "true no identity holds these accesses together\n",
        );
        // Without `with`, any permission counts: bob reads prod-db.
        check(
            NESTED,
            "forbid prod-db and pager except members of Ops",
            "true no identity holds these accesses together\n",
        );
    }

    #[test]
    fn a_rules_file_holds_only_rules() {
        let rules = parse_rules(
            "r.wq",
            "# c\nforbid a and b\n\nexpect forbid c with x and d\n",
        )
        .unwrap();
        assert_eq!(rules.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 4]);
        assert_eq!(
            parse_rules("r.wq", "forbid a and b\nstats\n").unwrap_err(),
            "r.wq:2:1: a rules file holds only `forbid …` rules\n  | stats\n  | ^"
        );
    }
}
