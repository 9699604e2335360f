//! The grammar of the questions about changes and rules, on the one
//! [`Parser`] of `parse`: `what if CHANGE, …`, `blast radius of X` and
//! `forbid X [with P] and Y [with Q] … [for persons] [except members of G]
//! [severity S]`. Does no I/O.

use super::QueryError;
use super::ast::*;
use super::complete::Slot;
use super::lex::Tok;
use super::parse::Parser;

/// Severities a rule may name.
pub const SEVERITIES: [&str; 5] = ["info", "low", "medium", "high", "critical"];

impl Parser<'_> {
    /// `what if CHANGE {, CHANGE}` (after `what`).
    pub(super) fn what_if(&mut self) -> Result<Query, QueryError> {
        self.expect_kw("if")?;
        let mut changes = Vec::new();
        loop {
            changes.push(self.change()?);
            if self.peek().tok == Tok::Comma {
                self.next();
            } else {
                break;
            }
        }
        Ok(Query::WhatIf { changes })
    }

    /// `remove Y from G` | `remove G` | `add Y to G [with P]`.
    fn change(&mut self) -> Result<GraphChange, QueryError> {
        if self.eat("remove") {
            let entity = self.entity()?;
            if self.eat("from") {
                let group = self.entity()?;
                return Ok(GraphChange::Unlink {
                    member: entity,
                    group,
                });
            }
            return Ok(GraphChange::Remove { entity });
        }
        if self.eat("add") {
            let member = self.entity()?;
            self.expect_kw("to")?;
            let group = self.entity()?;
            let permission = if self.eat("with") {
                self.eat("permission");
                Some(self.word(Slot::Permission, "a permission name")?)
            } else {
                None
            };
            return Ok(GraphChange::Link {
                member,
                group,
                permission,
            });
        }
        Err(self.error_here(
            "`remove Y from G`, `remove G` or `add Y to G`",
            &["remove", "add"],
        ))
    }

    /// `blast radius [of] X` (after `blast`).
    pub(super) fn blast(&mut self) -> Result<Query, QueryError> {
        self.expect_kw("radius")?;
        self.eat("of");
        Ok(Query::Blast {
            entity: self.entity()?,
        })
    }

    /// `X [with P] and Y [with Q] … [for persons] [except members of G]
    /// [severity S]` (after `forbid`).
    pub(super) fn rule(&mut self) -> Result<Rule, QueryError> {
        let mut accesses = vec![self.rule_access()?];
        while self.eat("and") {
            accesses.push(self.rule_access()?);
        }
        if accesses.len() < 2 {
            return Err(self.error_here(
                "`and` and a second access (a rule forbids holding two or more together)",
                &["and", "with"],
            ));
        }
        let (mut persons, mut except, mut severity) = (false, None, None);
        loop {
            if !persons && self.eat("for") {
                if !self.eat("persons") {
                    self.expect_kw("people")?;
                }
                persons = true;
            } else if except.is_none() && self.eat("except") {
                self.expect_kw("members")?;
                self.eat("of");
                except = Some(self.entity()?);
            } else if severity.is_none() && self.eat("severity") {
                for s in SEVERITIES {
                    self.offer(Slot::Keyword(s.into()));
                }
                let w = self.word(Slot::Keyword("high".into()), "a severity")?;
                if !SEVERITIES.contains(&w.text.to_lowercase().as_str()) {
                    return Err(QueryError::syntax(
                        w.pos,
                        w.text.chars().count() as u32,
                        "a severity (info, low, medium, high, critical)".into(),
                        format!("`{}`", w.text),
                        super::parse::suggest(&w.text, SEVERITIES),
                    ));
                }
                severity = Some(w);
            } else {
                break;
            }
        }
        self.expect_end(&["and", "for", "except", "severity"])?;
        Ok(Rule {
            accesses,
            persons,
            except,
            severity,
        })
    }

    fn rule_access(&mut self) -> Result<RuleAccess, QueryError> {
        let target = self.entity()?;
        let permission = if self.eat("with") {
            self.eat("permission");
            Some(self.word(Slot::Permission, "a permission name")?)
        } else {
            None
        };
        Ok(RuleAccess { target, permission })
    }
}

#[cfg(test)]
mod tests {
    use crate::query::ast::{Expectation, GraphChange, Query, Statement};
    use crate::query::parse::parse_statement;

    #[test]
    fn what_if_takes_several_changes() {
        let st = parse_statement(
            "what if remove alice from Engineering, remove DBA-Team, add carol to \"DBA Team\" with admin",
        )
        .unwrap();
        let Statement::Ask(ask) = st.statement else {
            panic!("not a query")
        };
        let Query::WhatIf { changes } = ask.query else {
            panic!("not what if")
        };
        assert!(matches!(&changes[0], GraphChange::Unlink { member, group }
            if member.text == "alice" && group.text == "Engineering"));
        assert!(matches!(&changes[1], GraphChange::Remove { entity } if entity.text == "DBA-Team"));
        assert!(
            matches!(&changes[2], GraphChange::Link { member, group, permission: Some(p) }
            if member.text == "carol" && group.text == "DBA Team" && p.text == "admin")
        );
        // `what can …` is still a query of its own.
        assert!(parse_statement("what can alice reach").is_ok());
    }

    #[test]
    fn the_new_keywords_complete() {
        use crate::query::parse::{Slot, expected_after};
        let has = |text: &str, kw: &str| expected_after(text).contains(&Slot::Keyword(kw.into()));
        assert!(has("", "forbid") && has("", "blast"));
        assert!(has("what ", "if") && has("what ", "can"));
        assert!(has("what if ", "remove") && has("what if ", "add"));
        assert!(has("blast ", "radius"));
        assert!(has("what if add bob ", "to"));
        assert!(has("forbid x with p ", "and"));
        assert!(has("forbid x and y ", "except") && has("forbid x and y ", "for"));
    }

    #[test]
    fn forbid_is_an_expectation_with_its_modifiers() {
        for text in [
            "forbid a with x and b and c with y for persons except members of G severity critical",
            "expect forbid a with x and b and c with y for persons except members of G severity critical",
        ] {
            let Statement::Expect(Expectation::Forbid(rule)) =
                parse_statement(text).unwrap().statement
            else {
                panic!("not a rule: {text}")
            };
            assert_eq!(rule.accesses.len(), 3);
            assert!(rule.persons);
            assert_eq!(rule.except.unwrap().text, "G");
            assert_eq!(rule.severity.unwrap().text, "critical");
        }
        let e = parse_statement("forbid a with x for persons").unwrap_err();
        assert_eq!(e.pos.column, 17);
    }
}
