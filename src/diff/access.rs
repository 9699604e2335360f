//! Effective-access changes: two expansions streamed in key order and merged
//! on the fly, so nothing holds every grant or every change.
//!
//! Keys are `(source, identity id, target id, target source, permission)`
//! with the old side's sources renamed by the pairing (see `pair`); a run of
//! grants sharing a key compares its set of providers. Does no I/O.

use std::cmp::Ordering;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use rayon::prelude::*;

use super::{AccessChange, Change, ChangeKind, Names};
use crate::expand::{Expansion, Grant};
use crate::model::EntityIdx;

/// One grant with its strings, for matching across graphs.
#[derive(Clone, Copy)]
struct Keyed<'m> {
    source: &'m str,
    identity: &'m str,
    target: &'m str,
    target_source: &'m str,
    permission: &'m str,
    provider: Option<&'m str>,
    identity_idx: EntityIdx,
    target_idx: EntityIdx,
}

impl Keyed<'_> {
    fn key(&self) -> (&str, &str, &str, &str, &str) {
        (
            self.source,
            self.identity,
            self.target,
            self.target_source,
            self.permission,
        )
    }
}

/// A graph's identities by (compared source, id): the order of the diff's
/// keys.
fn identities_by_key(expansion: &Expansion, names: &Names) -> Vec<EntityIdx> {
    let m = expansion.model();
    // Strings looked up once per identity, not once per comparison.
    let mut v: Vec<(&str, &str, EntityIdx)> = expansion
        .identities()
        .par_iter()
        .map(|&i| {
            let e = m.entity(i);
            (names.source(e.source), m.str(e.id), i)
        })
        .collect();
    v.par_sort_unstable();
    v.into_iter().map(|(_, _, i)| i).collect()
}

/// Streams a graph's grants as [`Keyed`] batches into `tx`, in key order:
/// identities by (source, id), each one's grants by target id, target
/// source, permission and provider (report order; an edge's ends share a
/// source, so providers order by id). Distinct, as the expansion's are.
fn send_keyed<'g: 'm, 'm>(
    expansion: &Expansion<'g>,
    names: &Names<'m>,
    tx: SyncSender<Vec<Keyed<'m>>>,
) {
    let m = expansion.model();
    let order = identities_by_key(expansion, names);
    let _ = expansion.stream_identities(
        &order,
        |grants: &[Grant]| {
            // A batch holds whole identities in turn: their strings are
            // looked up once per identity, not once per grant.
            let mut current: Option<(EntityIdx, &str, &str)> = None;
            grants
                .iter()
                .map(|g| {
                    let (source, identity) = match current {
                        Some((i, s, id)) if i == g.identity => (s, id),
                        _ => {
                            let e = m.entity(g.identity);
                            let (s, id) = (names.source(e.source), m.str(e.id));
                            current = Some((g.identity, s, id));
                            (s, id)
                        }
                    };
                    let target = m.entity(g.target);
                    Keyed {
                        source,
                        identity,
                        target: m.str(target.id),
                        target_source: names.source(target.source),
                        permission: m.str(g.permission),
                        provider: g.provider.map(|p| m.str(m.entity(p).id)),
                        identity_idx: g.identity,
                        target_idx: g.target,
                    }
                })
                .collect::<Vec<_>>()
        },
        // The merge stopped (its consumer failed): stop too.
        |batch| tx.send(batch).map_err(|_| ()),
    );
}

/// The grants of one side as they arrive, one key's run at a time.
struct Runs<'m> {
    rx: Receiver<Vec<Keyed<'m>>>,
    batch: std::vec::IntoIter<Keyed<'m>>,
    next: Option<Keyed<'m>>,
}

impl<'m> Runs<'m> {
    fn new(rx: Receiver<Vec<Keyed<'m>>>) -> Runs<'m> {
        let mut runs = Runs {
            rx,
            batch: Vec::new().into_iter(),
            next: None,
        };
        runs.next = runs.pull();
        runs
    }

    fn pull(&mut self) -> Option<Keyed<'m>> {
        loop {
            if let Some(g) = self.batch.next() {
                return Some(g);
            }
            self.batch = self.rx.recv().ok()?.into_iter();
        }
    }

    /// The first grant of the next run.
    fn peek(&self) -> Option<&Keyed<'m>> {
        self.next.as_ref()
    }

    /// The next run: every grant sharing the next key, into `run`.
    fn take(&mut self, run: &mut Vec<Keyed<'m>>) {
        run.clear();
        while let Some(g) = self.next {
            if run.first().is_some_and(|f| f.key() != g.key()) {
                break;
            }
            run.push(g);
            self.next = self.pull();
        }
    }
}

fn providers(run: &[Keyed]) -> Vec<Option<String>> {
    run.iter().map(|g| g.provider.map(str::to_string)).collect()
}

/// Hands every access change of the two expansions to `emit`, by key.
pub(super) fn access_changes<'g: 'm, 'm, E>(
    (old_x, old_names): (&Expansion<'g>, &Names<'m>),
    (new_x, new_names): (&Expansion<'g>, &Names<'m>),
    emit: &mut dyn FnMut(Change) -> Result<(), E>,
) -> Result<(), E> {
    let (old_model, new_model) = (old_x.model(), new_x.model());
    let change = |kind, g: &Keyed, m: &crate::model::Model, old_p, new_p| {
        Change::Access(AccessChange {
            kind,
            source: g.source.to_string(),
            identity_id: g.identity.to_string(),
            identity_name: m.str(m.entity(g.identity_idx).name).to_string(),
            target_id: g.target.to_string(),
            target_name: m.str(m.entity(g.target_idx).name).to_string(),
            target_source: g.target_source.to_string(),
            permission: g.permission.to_string(),
            old_providers: old_p,
            new_providers: new_p,
        })
    };
    std::thread::scope(|s| {
        // Each side streams on its own thread, at most a window and a
        // batch ahead of the merge.
        let (old_tx, old_rx) = sync_channel(1);
        let (new_tx, new_rx) = sync_channel(1);
        s.spawn(move || send_keyed(old_x, old_names, old_tx));
        s.spawn(move || send_keyed(new_x, new_names, new_tx));
        let mut olds = Runs::new(old_rx);
        let mut news = Runs::new(new_rx);
        let (mut o, mut n) = (Vec::new(), Vec::new());
        loop {
            let order = match (olds.peek(), news.peek()) {
                (None, None) => break,
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (Some(a), Some(b)) => a.key().cmp(&b.key()),
            };
            match order {
                Ordering::Less => {
                    olds.take(&mut o);
                    emit(change(
                        ChangeKind::Revoked,
                        &o[0],
                        old_model,
                        providers(&o),
                        Vec::new(),
                    ))?;
                }
                Ordering::Greater => {
                    news.take(&mut n);
                    emit(change(
                        ChangeKind::Granted,
                        &n[0],
                        new_model,
                        Vec::new(),
                        providers(&n),
                    ))?;
                }
                Ordering::Equal => {
                    olds.take(&mut o);
                    news.take(&mut n);
                    let same = o.len() == n.len()
                        && o.iter().zip(&n).all(|(a, b)| a.provider == b.provider);
                    if !same {
                        emit(change(
                            ChangeKind::ReAttributed,
                            &n[0],
                            new_model,
                            providers(&o),
                            providers(&n),
                        ))?;
                    }
                }
            }
        }
        Ok(())
    })
}
