//! The [`DangerBook`]: the 隐患 records of a dataset with their history,
//! indexed by id, by enterprise and by cell. It is the part of a
//! [`Store`](super::Store) that live writes change: a clone is cheap and a
//! change copies only what it touches, so each write derives the next book
//! from the current one while the R-trees and geometry stay shared.

use super::chunks::ChunkVec;
use super::id_table::IdTable;
use super::store::{Base, UnitId};
use crate::model::{DangerGrade, Date, HiddenDanger};
use rayon::prelude::*;
use serde::Serialize;
use std::sync::Arc;

/// One event of a record's history (the report itself, then every
/// transition), as the journal recorded it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DangerEvent {
    /// The journal sequence number (0 for the base file).
    pub seq: u64,
    /// When (RFC 3339), or the record's `found_at` for the base file.
    pub at: String,
    /// Token name (empty for the base file).
    pub actor: String,
    /// Role of the token.
    pub role: String,
    /// `report`, `start`, `rectify`, `close`, `reject`, `extend` (`import`
    /// for a record of the base file).
    pub action: String,
    /// Free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The status after the event.
    pub status: crate::model::DangerStatus,
}

/// A record's dates as written (`YYYY-MM-DD`), for outputs that borrow
/// text.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DateTexts {
    /// `found_at`.
    pub found_at: String,
    /// `deadline`.
    pub deadline: Option<String>,
    /// `closed_at`.
    pub closed_at: Option<String>,
}

impl DateTexts {
    /// The dates of `r`.
    pub fn of(r: &HiddenDanger) -> DateTexts {
        DateTexts {
            found_at: r.found_at.to_string(),
            deadline: r.deadline.map(|d| d.to_string()),
            closed_at: r.closed_at.map(|d| d.to_string()),
        }
    }
}

/// A record with where it is and what happened to it.
#[derive(Debug, Clone, PartialEq)]
pub struct DangerEntry {
    /// The record as it is now.
    pub record: HiddenDanger,
    /// Its dates as text.
    pub dates: DateTexts,
    /// The unit cell containing its location, if any.
    pub cell: Option<UnitId>,
    /// Index of its enterprise, if it names one that exists.
    pub enterprise: Option<u32>,
    /// The journal sequence number of its last change (0: as in the base
    /// file); its ETag derives from it.
    pub version: u64,
    /// Every event, oldest first.
    pub history: Vec<DangerEvent>,
}

impl DangerEntry {
    /// The same record after an event: `record` (at the same place),
    /// changed by journal entry `version`, with `history`.
    pub fn changed(
        &self,
        record: HiddenDanger,
        version: u64,
        history: Vec<DangerEvent>,
    ) -> DangerEntry {
        DangerEntry {
            dates: DateTexts::of(&record),
            record,
            version,
            history,
            cell: self.cell,
            enterprise: self.enterprise,
        }
    }

    /// The token name that recorded the latest `rectify`, if any.
    pub fn rectified_by(&self) -> Option<&str> {
        self.history
            .iter()
            .rev()
            .find(|e| e.action == "rectify")
            .map(|e| e.actor.as_str())
    }
}

/// Open-danger figures of one enterprise on an as-of date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OpenCounts {
    /// Records not closed.
    pub open: u32,
    /// Of which grade major.
    pub major_open: u32,
    /// Whether one of them is past its deadline.
    pub overdue: bool,
}

/// The hidden-danger records of a store (see the module doc).
#[derive(Debug, Clone, Default)]
pub struct DangerBook {
    /// Whether the dataset has the layer at all (then enterprises' open
    /// counts come from the records).
    loaded: bool,
    entries: ChunkVec<Arc<DangerEntry>>,
    /// Indices of the records the book was built with, by id.
    first_ids: Arc<IdTable>,
    /// Indices of the records inserted since, by id.
    added_ids: imbl::HashMap<Arc<str>, u32>,
    /// Record indices per unit cell (by location), by unit id.
    by_cell: ChunkVec<Arc<[u32]>>,
    /// Record indices per enterprise index.
    by_enterprise: ChunkVec<Arc<[u32]>>,
    /// Records outside every unit cell.
    outside: Arc<Vec<u32>>,
    /// The records changed by a journal entry (version > 0), by version:
    /// what changed since a sequence number, without reading every record.
    by_version: imbl::OrdSet<(u64, u32)>,
}

impl DangerBook {
    /// The book of `records` (in file order) over `base`; `loaded`: the
    /// dataset has a `hidden_dangers` layer.
    pub fn build(base: &Base, records: Vec<HiddenDanger>, loaded: bool) -> DangerBook {
        // Located in parallel (a point-in-cell search each), indexed in order.
        let entries: Vec<Arc<DangerEntry>> = records
            .into_par_iter()
            .map(|record| Arc::new(DangerEntry::locate(base, record, 0, Vec::new())))
            .collect();
        let (first_ids, (by_cell, by_enterprise, outside)) = rayon::join(
            || IdTable::build(entries.len(), |i| &entries[i as usize].record.id),
            || {
                let mut by_cell: Vec<Vec<u32>> = vec![Vec::new(); base.units().len()];
                let mut by_enterprise: Vec<Vec<u32>> =
                    vec![Vec::new(); base.dataset.enterprises.len()];
                let mut outside = Vec::new();
                for (i, entry) in entries.iter().enumerate() {
                    let i = i as u32;
                    match entry.cell {
                        Some(c) => by_cell[c as usize].push(i),
                        None => outside.push(i),
                    }
                    if let Some(e) = entry.enterprise {
                        by_enterprise[e as usize].push(i);
                    }
                }
                (by_cell, by_enterprise, outside)
            },
        );
        DangerBook {
            loaded,
            entries: ChunkVec::from_vec(entries),
            first_ids: Arc::new(first_ids),
            added_ids: imbl::HashMap::new(),
            by_cell: ChunkVec::from_vec(shared_lists(by_cell)),
            by_enterprise: ChunkVec::from_vec(shared_lists(by_enterprise)),
            outside: Arc::new(outside),
            by_version: imbl::OrdSet::new(),
        }
    }

    /// Whether the dataset has a `hidden_dangers` layer.
    pub fn is_loaded(&self) -> bool {
        self.loaded
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there is no record.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The record at `index`.
    pub fn get(&self, index: u32) -> Option<&DangerEntry> {
        self.entries.get(index as usize).map(|e| e.as_ref())
    }

    /// The index of the record with this id.
    pub fn index_of(&self, id: &str) -> Option<u32> {
        self.added_ids.get(id).copied().or_else(|| {
            self.first_ids.get(id, |i| {
                self.entries
                    .get(i as usize)
                    .map_or("", |e| e.record.id.as_str())
            })
        })
    }

    /// The record with this id.
    pub fn by_id(&self, id: &str) -> Option<&DangerEntry> {
        self.index_of(id).and_then(|i| self.get(i))
    }

    /// Every record with its index, in index order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &DangerEntry)> {
        self.entries
            .iter()
            .enumerate()
            .map(|(i, e)| (i as u32, e.as_ref()))
    }

    /// The records changed by journal entries after `seq`, with their
    /// indices, in version order.
    pub fn changed_since(&self, seq: u64) -> impl Iterator<Item = (u32, &DangerEntry)> {
        self.by_version
            .range((seq.saturating_add(1), 0)..)
            .filter_map(|&(_, i)| self.get(i).map(|e| (i, e)))
    }

    /// Indices of the records located in a unit cell, ascending.
    pub fn in_cell(&self, cell: UnitId) -> &[u32] {
        self.by_cell.get(cell as usize).map_or(&[], |v| v)
    }

    /// Indices of an enterprise's records, ascending.
    pub fn of_enterprise(&self, enterprise: u32) -> &[u32] {
        self.by_enterprise
            .get(enterprise as usize)
            .map_or(&[], |v| v)
    }

    /// Indices of the records whose point lies in `env`, ascending: those
    /// of the unit cells meeting it, and those outside every cell.
    pub fn in_envelope(&self, store: &super::Store, env: &rstar::AABB<[f64; 2]>) -> Vec<u32> {
        let inside = |i: &u32| {
            self.get(*i).is_some_and(|e| {
                let p = e.record.location;
                rstar::Envelope::contains_point(env, &[p.x(), p.y()])
            })
        };
        let mut out: Vec<u32> = store
            .units_in_envelope(crate::model::Level::Cell, env)
            .flat_map(|c| self.in_cell(c).iter().copied())
            .chain(self.outside.iter().copied())
            .filter(inside)
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// An enterprise's open, major-open and overdue figures on `as_of`.
    pub fn open_counts(&self, enterprise: u32, as_of: Date) -> OpenCounts {
        let mut out = OpenCounts::default();
        for &i in self.of_enterprise(enterprise) {
            let Some(e) = self.get(i) else { continue };
            let r = &e.record;
            if !r.is_open_on(as_of) {
                continue;
            }
            out.open += 1;
            if r.grade == DangerGrade::Major {
                out.major_open += 1;
            }
            out.overdue |= r.is_overdue(as_of);
        }
        out
    }

    /// The open-danger figures of enterprise `index` (`e`) on `as_of`, the
    /// one rule scoring and the ledger share: with the layer, its open
    /// records; without it, its own fields plus the records written since
    /// (the journal). `None` when the fields alone tell (no layer and no
    /// record): then nothing is overdue.
    pub fn enterprise_counts(
        &self,
        index: u32,
        e: &crate::model::Enterprise,
        as_of: Date,
    ) -> Option<OpenCounts> {
        if !self.loaded && self.of_enterprise(index).is_empty() {
            return None;
        }
        let counts = self.open_counts(index, as_of);
        Some(if self.loaded {
            counts
        } else {
            OpenCounts {
                open: e.hidden_dangers_open.saturating_add(counts.open),
                major_open: e
                    .major_hidden_dangers_open
                    .saturating_add(counts.major_open),
                overdue: counts.overdue,
            }
        })
    }

    /// Adds a new record (its id must not be in the book) and returns its
    /// index.
    pub fn insert(&mut self, base: &Base, entry: DangerEntry) -> u32 {
        let i = self.entries.len() as u32;
        let entry = DangerEntry::locate(base, entry.record, entry.version, entry.history);
        match entry.cell {
            Some(c) => push_index(&mut self.by_cell, c as usize, i),
            None => Arc::make_mut(&mut self.outside).push(i),
        }
        if let Some(e) = entry.enterprise {
            push_index(&mut self.by_enterprise, e as usize, i);
        }
        self.added_ids
            .insert(Arc::from(entry.record.id.as_str()), i);
        if entry.version > 0 {
            self.by_version.insert((entry.version, i));
        }
        self.entries.push(Arc::new(entry));
        i
    }

    /// Replaces the record at `index`; its id, location and enterprise may
    /// not change (the write API never renames or moves a record).
    pub fn replace(&mut self, index: u32, entry: DangerEntry) {
        if let Some(old) = self.get(index)
            && old.version > 0
        {
            let key = (old.version, index);
            self.by_version.remove(&key);
        }
        if entry.version > 0 {
            self.by_version.insert((entry.version, index));
        }
        self.entries.set(index as usize, Arc::new(entry));
    }
}

/// The lists as shared slices, every empty one the same allocation (most
/// enterprises and cells have no record).
fn shared_lists(lists: Vec<Vec<u32>>) -> Vec<Arc<[u32]>> {
    let empty: Arc<[u32]> = Arc::from(Vec::new());
    lists
        .into_iter()
        .map(|l| {
            if l.is_empty() {
                Arc::clone(&empty)
            } else {
                Arc::from(l)
            }
        })
        .collect()
}

fn push_index(lists: &mut ChunkVec<Arc<[u32]>>, at: usize, value: u32) {
    if let Some(old) = lists.get(at) {
        let mut v = old.to_vec();
        v.push(value);
        lists.set(at, Arc::from(v));
    }
}

impl DangerEntry {
    /// An entry for `record` with its cell and enterprise looked up in
    /// `base`.
    pub fn locate(
        base: &Base,
        record: HiddenDanger,
        version: u64,
        history: Vec<DangerEvent>,
    ) -> DangerEntry {
        let enterprise = record
            .enterprise_id
            .as_deref()
            .and_then(|id| base.enterprise_by_id(id));
        // A record at its enterprise's location (most are) is in the cell
        // found for the enterprise: the same point gives the same cell.
        let cell = match enterprise {
            Some(e) if base.dataset.enterprises[e as usize].location == record.location => {
                base.enterprise_cell(e)
            }
            _ => base.cell_at(record.location),
        };
        DangerEntry {
            cell,
            enterprise,
            version,
            history,
            dates: DateTexts::of(&record),
            record,
        }
    }
}
