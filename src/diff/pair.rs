//! Source pairing: which source of the old side is "the same" as which
//! source of the new side, so that dated exports (`okta-2026-01.csv` /
//! `okta-2026-02.csv`, whose sources default to the file stems) diff as one
//! source instead of as total churn.
//!
//! A name's *stem* is the name without a trailing date or sequence number:
//! a separator (`-`, `_`, `.`, space) followed by digits and separators
//! (`okta-2026-01`, `okta_20260115`, `github-export-3`), or a number in
//! parentheses (`aws (2)`). Sources present on both sides by the same name
//! are matched as they are. Of the rest, an old and a new source sharing a
//! stem are paired when each is the only such candidate on its side
//! (`okta` / `okta-2026-02` pair too); a stem with several candidates on a
//! side pairs nothing and is reported as ambiguous (`--pair` settles it).
//! Hand-made pairs (`--pair OLD=NEW`) come first and take their names out of
//! automatic pairing.
//!
//! Pairing renames the old side's source to the new side's name, for the
//! comparison only: every change row names a paired source by its **new**
//! name. Does no I/O.

use std::collections::{BTreeMap, BTreeSet};

/// Why a hand-made pair cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PairError {
    /// `--pair` without `=`, or with an empty side.
    #[error("--pair {0:?}: expected OLD=NEW (two source names)")]
    Syntax(String),
    /// The old name is no source of the old side.
    #[error("--pair {pair}: the old side has no source {name:?} (its sources: {known})")]
    UnknownOld {
        /// The pair as given.
        pair: String,
        /// The missing name.
        name: String,
        /// The side's sources, comma-separated.
        known: String,
    },
    /// The new name is no source of the new side.
    #[error("--pair {pair}: the new side has no source {name:?} (its sources: {known})")]
    UnknownNew {
        /// The pair as given.
        pair: String,
        /// The missing name.
        name: String,
        /// The side's sources, comma-separated.
        known: String,
    },
    /// A name is in two pairs, or the renamed source would merge into a
    /// source the old side already has.
    #[error("--pair {pair}: {reason}")]
    Clash {
        /// The pair as given.
        pair: String,
        /// What it clashes with.
        reason: String,
    },
}

/// One old source compared as one new source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pair {
    /// The old side's name.
    pub old: String,
    /// The new side's name (the one change rows print).
    pub new: String,
    /// Made with `--pair` (not found by stem).
    pub manual: bool,
}

/// A stem with several candidates on a side: not paired automatically.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ambiguous {
    /// The shared stem.
    pub stem: String,
    /// The old side's candidates, sorted.
    pub old: Vec<String>,
    /// The new side's candidates, sorted.
    pub new: Vec<String>,
}

/// How the sources of two sides correspond.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pairing {
    /// Paired sources, by old name.
    pub pairs: Vec<Pair>,
    /// Stems left unpaired because they have several candidates.
    pub ambiguous: Vec<Ambiguous>,
    /// Sources of the old side matched by nothing on the new side.
    pub old_only: Vec<String>,
    /// Sources of the new side matched by nothing on the old side.
    pub new_only: Vec<String>,
    /// Old name → new name, for the comparison.
    renames: BTreeMap<String, String>,
}

/// A source name without its trailing date or sequence number (see the
/// module docs); the name itself when it has none.
///
/// ```
/// use whocan::diff::pair::stem;
/// assert_eq!(stem("okta-2026-01"), "okta");
/// assert_eq!(stem("okta_20260115"), "okta");
/// assert_eq!(stem("github-export-3"), "github-export");
/// assert_eq!(stem("aws (2)"), "aws");
/// assert_eq!(stem("s3"), "s3");
/// ```
pub fn stem(name: &str) -> &str {
    let is_sep = |c: char| matches!(c, '-' | '_' | '.' | ' ');
    // `aws (2)`: a number in parentheses.
    if let Some(open) = name.strip_suffix(')').and_then(|s| s.rfind('(')) {
        let inner = &name[open + 1..name.len() - 1];
        let head = name[..open].trim_end_matches(is_sep);
        if !inner.is_empty() && inner.bytes().all(|b| b.is_ascii_digit()) && !head.is_empty() {
            return head;
        }
    }
    // The trailing run of digits and separators, when it holds a digit and
    // starts with a separator.
    let head = name.trim_end_matches(|c: char| c.is_ascii_digit() || is_sep(c));
    let tail = &name[head.len()..];
    if head.is_empty() || !tail.starts_with(is_sep) || !tail.bytes().any(|b| b.is_ascii_digit()) {
        return name;
    }
    head
}

impl Pairing {
    /// No pairing: every name compared as it is (sources on one side only
    /// are still listed).
    pub fn none() -> Pairing {
        Pairing::default()
    }

    /// Pairs the sources of two sides: the hand-made `manual` pairs
    /// (`OLD=NEW` texts) first, then, when `auto`, by stem.
    pub fn resolve(
        old: &BTreeSet<String>,
        new: &BTreeSet<String>,
        manual: &[String],
        auto: bool,
    ) -> Result<Pairing, PairError> {
        let mut p = Pairing::default();
        let mut used_old = BTreeSet::new();
        let mut used_new = BTreeSet::new();
        let known = |s: &BTreeSet<String>| s.iter().cloned().collect::<Vec<_>>().join(", ");
        for text in manual {
            let (o, n) = text
                .split_once('=')
                .filter(|(o, n)| !o.is_empty() && !n.is_empty())
                .ok_or_else(|| PairError::Syntax(text.clone()))?;
            if !old.contains(o) {
                return Err(PairError::UnknownOld {
                    pair: text.clone(),
                    name: o.to_string(),
                    known: known(old),
                });
            }
            if !new.contains(n) {
                return Err(PairError::UnknownNew {
                    pair: text.clone(),
                    name: n.to_string(),
                    known: known(new),
                });
            }
            let clash = |reason: String| PairError::Clash {
                pair: text.clone(),
                reason,
            };
            if !used_old.insert(o.to_string()) {
                return Err(clash(format!("{o:?} is paired twice")));
            }
            if !used_new.insert(n.to_string()) {
                return Err(clash(format!("{n:?} is paired twice")));
            }
            if o != n && old.contains(n) {
                return Err(clash(format!(
                    "the old side also has a source {n:?}; pair that one too, or pair another name"
                )));
            }
            p.pairs.push(Pair {
                old: o.to_string(),
                new: n.to_string(),
                manual: true,
            });
        }
        let free_old: Vec<&String> = old
            .iter()
            .filter(|s| !used_old.contains(*s) && (!new.contains(*s) || used_new.contains(*s)))
            .collect();
        let free_new: Vec<&String> = new
            .iter()
            .filter(|s| !used_new.contains(*s) && (!old.contains(*s) || used_old.contains(*s)))
            .collect();
        let mut paired_old = BTreeSet::new();
        let mut paired_new = BTreeSet::new();
        if auto {
            let mut stems: BTreeMap<&str, (Vec<&String>, Vec<&String>)> = BTreeMap::new();
            for s in &free_old {
                stems.entry(stem(s)).or_default().0.push(s);
            }
            for s in &free_new {
                stems.entry(stem(s)).or_default().1.push(s);
            }
            for (stem, (o, n)) in stems {
                match (o.as_slice(), n.as_slice()) {
                    ([], _) | (_, []) => {}
                    ([o], [n]) if !old.contains(*n) => {
                        paired_old.insert((*o).clone());
                        paired_new.insert((*n).clone());
                        p.pairs.push(Pair {
                            old: (*o).clone(),
                            new: (*n).clone(),
                            manual: false,
                        });
                    }
                    _ => p.ambiguous.push(Ambiguous {
                        stem: stem.to_string(),
                        old: o.iter().map(|s| s.to_string()).collect(),
                        new: n.iter().map(|s| s.to_string()).collect(),
                    }),
                }
            }
        }
        p.pairs.sort_by(|a, b| a.old.cmp(&b.old));
        p.old_only = free_old
            .into_iter()
            .filter(|s| !paired_old.contains(*s))
            .cloned()
            .collect();
        p.new_only = free_new
            .into_iter()
            .filter(|s| !paired_new.contains(*s))
            .cloned()
            .collect();
        p.renames = p
            .pairs
            .iter()
            .filter(|x| x.old != x.new)
            .map(|x| (x.old.clone(), x.new.clone()))
            .collect();
        Ok(p)
    }

    /// The name an old-side source is compared (and printed) under.
    pub fn rename<'a>(&'a self, old_source: &'a str) -> &'a str {
        self.renames
            .get(old_source)
            .map_or(old_source, String::as_str)
    }

    /// True when some old source is compared under another name.
    pub fn renames_any(&self) -> bool {
        !self.renames.is_empty()
    }

    /// The old name of a source the new side names `new_source` (itself when
    /// unpaired).
    pub fn old_name<'a>(&'a self, new_source: &'a str) -> &'a str {
        self.pairs
            .iter()
            .find(|p| p.new == new_source)
            .map_or(new_source, |p| p.old.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    /// Renders a pairing as `old=new` pairs, `?stem` ambiguities and
    /// `-old` / `+new` one-sided sources.
    #[track_caller]
    fn check(old: &[&str], new: &[&str], manual: &[&str], auto: bool, expected: &str) {
        let manual: Vec<String> = manual.iter().map(|s| s.to_string()).collect();
        let p = Pairing::resolve(&set(old), &set(new), &manual, auto).unwrap();
        let mut got = Vec::new();
        got.extend(p.pairs.iter().map(|x| format!("{}={}", x.old, x.new)));
        got.extend(p.ambiguous.iter().map(|a| format!("?{}", a.stem)));
        got.extend(p.old_only.iter().map(|s| format!("-{s}")));
        got.extend(p.new_only.iter().map(|s| format!("+{s}")));
        assert_eq!(got.join(" "), expected);
    }

    #[test]
    fn dated_and_numbered_names_pair_by_stem() {
        check(
            &["okta-2026-01", "github-export-3", "aws (2)", "hr"],
            &["okta-2026-02", "github-export-4", "aws (3)", "hr"],
            &[],
            true,
            "aws (2)=aws (3) github-export-3=github-export-4 okta-2026-01=okta-2026-02",
        );
        check(&["okta"], &["okta-2026-02"], &[], true, "okta=okta-2026-02");
        check(
            &["okta_20260115"],
            &["okta_20260215"],
            &[],
            true,
            "okta_20260115=okta_20260215",
        );
    }

    #[test]
    fn several_candidates_pair_nothing() {
        check(
            &["okta-1", "okta-2"],
            &["okta-3"],
            &[],
            true,
            "?okta -okta-1 -okta-2 +okta-3",
        );
    }

    #[test]
    fn hand_made_pairs_come_first_and_no_pair_turns_stems_off() {
        check(
            &["okta-1", "okta-2"],
            &["okta-3"],
            &["okta-2=okta-3"],
            true,
            "okta-2=okta-3 -okta-1",
        );
        check(&["a-1"], &["a-2"], &[], false, "-a-1 +a-2");
        check(
            &["legacy"],
            &["okta"],
            &["legacy=okta"],
            false,
            "legacy=okta",
        );
    }

    #[test]
    fn exact_names_match_and_are_never_renamed() {
        check(&["okta", "okta-2"], &["okta"], &[], true, "-okta-2");
        let err = Pairing::resolve(&set(&["a", "b"]), &set(&["b"]), &["a=b".into()], true);
        assert!(matches!(err, Err(PairError::Clash { .. })), "{err:?}");
        let err = Pairing::resolve(&set(&["a"]), &set(&["b"]), &["a=c".into()], true);
        assert!(matches!(err, Err(PairError::UnknownNew { .. })), "{err:?}");
        let err = Pairing::resolve(&set(&["a"]), &set(&["b"]), &["a".into()], true);
        assert!(matches!(err, Err(PairError::Syntax(_))), "{err:?}");
    }
}
