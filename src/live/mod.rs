//! The live loop: journal entries applied to a [`Snapshot`] to derive the
//! next one, exactly, without rebuilding the store.
//!
//! A write (a hidden-danger report or event) is checked against the
//! serving snapshot ([`dangers`]), appended to the journal, then applied by
//! [`Snapshot::derive`]: the hidden-danger book takes the new record, only
//! the cells it touches are rescored and rolled up, and the tiles those
//! units and points lie in are marked changed (so other tiles keep their
//! ETags). Replaying the journal on the base files at start applies the
//! same entries the same way, so the live state and a fresh load agree bit
//! for bit.

pub mod alarms;
pub mod dangers;

use crate::index::{DangerEntry, DangerEvent, UnitId};
use crate::model::{HiddenDanger, LayerId, Level};
use crate::risk::UnitScore;
use crate::snapshot::Snapshot;
use crate::tiles::TileMarks;
use crate::tiles::TilePolicy;
use dangers::{EventData, OP_EVENT, OP_REPORT};
use std::collections::BTreeSet;
use std::ops::Deref;

/// Why a write or a journal entry cannot be applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LiveError {
    /// A request field is missing or wrong (400).
    #[error("{field}: {message}")]
    Field {
        /// The field.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The request conflicts with the record's state (409).
    #[error("{0}")]
    Conflict(String),
    /// A journal entry does not apply to the data (replay refuses).
    #[error("journal entry {seq}: {message}")]
    Entry {
        /// The entry's sequence number.
        seq: u64,
        /// What is wrong.
        message: String,
    },
}

impl LiveError {
    /// A 400 for `field`.
    pub fn field(field: &'static str, message: impl Into<String>) -> LiveError {
        LiveError::Field {
            field,
            message: message.into(),
        }
    }
}

/// One journal entry, as [`Snapshot::derive`] reads it.
#[derive(Debug, Clone, Copy)]
pub struct Op<'a> {
    /// Sequence number.
    pub seq: u64,
    /// When (RFC 3339).
    pub at: &'a str,
    /// Token name.
    pub actor: &'a str,
    /// Role.
    pub role: &'a str,
    /// `hidden_danger.report` or `hidden_danger.event`.
    pub op: &'a str,
    /// The record's id.
    pub id: &'a str,
    /// The payload.
    pub data: &'a serde_json::Value,
}

/// A write's new entries `(op, id, data)` as journal ops numbered from
/// `first`, all written at `at` by `actor` in `role`.
pub fn new_ops<'a>(
    items: &'a [(String, String, serde_json::Value)],
    first: u64,
    at: &'a str,
    actor: &'a str,
    role: &'a str,
) -> Vec<Op<'a>> {
    items
        .iter()
        .zip(first..)
        .map(|((op, id, data), seq)| Op {
            seq,
            at,
            actor,
            role,
            op,
            id,
            data,
        })
        .collect()
}

impl<'a> From<&'a crate::journal::Entry> for Op<'a> {
    fn from(e: &'a crate::journal::Entry) -> Op<'a> {
        Op {
            seq: e.seq,
            at: &e.at,
            actor: &e.actor,
            role: &e.role,
            op: &e.op,
            id: &e.id,
            data: &e.data,
        }
    }
}

/// What a derivation changed.
#[derive(Debug, Clone, Default)]
pub struct Applied {
    /// The unit cells rescored.
    pub cells: BTreeSet<UnitId>,
    /// Every unit rescored (the cells and their ancestors), coarsest first.
    pub units: Vec<UnitId>,
    /// The records written, by id.
    pub records: Vec<String>,
    /// The lon/lat box of every changed cell and record.
    pub bbox: Option<[f64; 4]>,
}

fn grow(b: &mut Option<[f64; 4]>, r: [f64; 4]) {
    *b = Some(match *b {
        None => r,
        Some([w, s, e, n]) => [w.min(r[0]), s.min(r[1]), e.max(r[2]), n.max(r[3])],
    });
}

/// Which of a unit's tile properties can differ between two scores: the
/// shown (one-decimal) score or the level (drawn at every zoom of the
/// unit's layer), and a shown domain value (drawn only in the zooms of
/// [`crate::tiles::domain_zooms`]).
fn shown_differs(a: &UnitScore, b: &UnitScore) -> (bool, bool) {
    let r = |x: f64| (x * 10.0).round();
    let score = r(a.score()) != r(b.score()) || a.level() != b.level();
    let domains = a.domains().len() != b.domains().len()
        || a.domains()
            .iter()
            .zip(b.domains())
            .any(|((da, xa), (db, xb))| da != db || r(*xa) != r(*xb));
    (score, domains)
}

fn level_layer(level: Level) -> LayerId {
    match level {
        Level::County => LayerId::Counties,
        Level::Town => LayerId::Towns,
        Level::Village => LayerId::Villages,
        Level::Cell => LayerId::Cells,
    }
}

/// A batch of writes checked and recorded against a snapshot, not yet
/// scored: the first step of [`Snapshot::derive`]. Every refusal happens
/// in [`Snapshot::record`]; [`Recorded::rescore`], the costly step, cannot
/// refuse, so a writer may queue the batch's journal lines between the two
/// and rescore while they are written and fsynced.
pub struct Recorded<H: Deref<Target = Snapshot>> {
    head: H,
    policy: TilePolicy,
    book: crate::index::DangerBook,
    alarm_book: crate::index::AlarmBook,
    applied: Applied,
    points: Vec<(geo::Point<f64>, u8, bool)>,
    watched: BTreeSet<u32>,
    whole: BTreeSet<UnitId>,
    /// The alarms as written (their reach is rescored).
    alarms: Vec<crate::index::AlarmEntry>,
    seq: u64,
}

impl<H: Deref<Target = Snapshot>> std::fmt::Debug for Recorded<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorded")
            .field("seq", &self.seq)
            .field("records", &self.applied.records.len())
            .finish_non_exhaustive()
    }
}

impl Snapshot {
    /// The snapshot after `ops` (journal entries in sequence order, each
    /// after [`Snapshot::seq`]), sharing this one's base, and what changed:
    /// [`Snapshot::record`] then [`Recorded::rescore`].
    pub fn derive(
        &self,
        ops: &[Op<'_>],
        policy: &TilePolicy,
    ) -> Result<(Snapshot, Applied), LiveError> {
        Ok(Snapshot::record(self, ops, policy)?.rescore())
    }

    /// Checks `ops` against `head` (see [`Snapshot::derive`]) and records
    /// them in copies of its books; refuses the whole batch at the first
    /// bad entry.
    pub fn record<H: Deref<Target = Snapshot>>(
        head: H,
        ops: &[Op<'_>],
        policy: &TilePolicy,
    ) -> Result<Recorded<H>, LiveError> {
        let this: &Snapshot = &head;
        let base = this.store.base();
        let mut book = this.store.dangers().clone();
        let mut alarm_book = this.store.alarms().clone();
        let mut applied = Applied::default();
        // Points written, the first zoom that draws them, and whether they
        // are hidden-danger records (whose tiles' `hidden_dangers` layer
        // changes).
        let mut points = Vec::new();
        // Hazard sources watched by the alarms written.
        let mut watched = BTreeSet::new();
        // Cells whose inputs other than alarms changed (added to the
        // cells rescored after the loop).
        let mut whole = BTreeSet::new();
        let mut alarms = Vec::new();
        let mut seq = this.seq;
        for op in ops {
            let bad = |message: String| LiveError::Entry {
                seq: op.seq,
                message,
            };
            if op.seq <= seq {
                return Err(bad(format!("out of order after {seq}")));
            }
            seq = op.seq;
            if op.op.starts_with(alarms::PREFIX) {
                let (entry, danger) =
                    alarms::apply(&mut alarm_book, base, op.seq, op.op, op.id, op.data)
                        .map_err(bad)?;
                watched.extend(entry.watches);
                applied.records.push(entry.record.id.clone());
                // The alarm's own tiles (its point in the `alarms` layer).
                points.push((
                    entry.record.location,
                    policy.minzoom(LayerId::Alarms),
                    false,
                ));
                if let Some(d) = danger {
                    if book.index_of(&d.id).is_some() {
                        return Err(bad(format!("hidden danger {} is reported twice", d.id)));
                    }
                    let event = DangerEvent {
                        seq: op.seq,
                        at: op.at.to_string(),
                        actor: op.actor.to_string(),
                        role: op.role.to_string(),
                        action: "report".into(),
                        note: Some(format!("派单 {}", entry.record.id)),
                        status: d.status,
                    };
                    let e = DangerEntry::locate(base, d, op.seq, vec![event]);
                    book.insert(base, e.clone());
                    whole.extend(e.cell);
                    if let Some(i) = e.enterprise {
                        whole.extend(base.enterprise_cell(i));
                        points.push((base.dataset.enterprises[i as usize].location, 0, false));
                    }
                    points.push((
                        e.record.location,
                        policy.minzoom(LayerId::HiddenDangers),
                        true,
                    ));
                    applied.records.push(e.record.id.clone());
                }
                alarms.push(entry);
                continue;
            }
            let (record, action, note): (HiddenDanger, &str, Option<String>) = match op.op {
                OP_REPORT => {
                    let r: HiddenDanger = serde_json::from_value(op.data.clone())
                        .map_err(|e| bad(format!("report: {e}")))?;
                    (r, "report", None)
                }
                OP_EVENT => {
                    let d: EventData = serde_json::from_value(op.data.clone())
                        .map_err(|e| bad(format!("event: {e}")))?;
                    (d.record, d.action.as_str(), d.note)
                }
                other => return Err(bad(format!("unknown op {other:?}"))),
            };
            if record.id != op.id {
                return Err(bad(format!(
                    "id {:?} differs from the record's {:?}",
                    op.id, record.id
                )));
            }
            let event = DangerEvent {
                seq: op.seq,
                at: op.at.to_string(),
                actor: op.actor.to_string(),
                role: op.role.to_string(),
                action: action.to_string(),
                note,
                status: record.status,
            };
            let entry = match (op.op, book.index_of(op.id)) {
                (OP_REPORT, Some(_)) => {
                    return Err(bad(format!("hidden danger {} is reported twice", op.id)));
                }
                (OP_REPORT, None) => {
                    let e = DangerEntry::locate(base, record, op.seq, vec![event]);
                    book.insert(base, e.clone());
                    e
                }
                (_, None) => {
                    return Err(bad(format!("no hidden danger {}", op.id)));
                }
                (_, Some(i)) => {
                    let old = book
                        .get(i)
                        .cloned()
                        .ok_or_else(|| bad("lost record".into()))?;
                    if old.record.location != record.location
                        || old.record.enterprise_id != record.enterprise_id
                    {
                        return Err(bad(format!("event moves hidden danger {}", op.id)));
                    }
                    let mut history = old.history.clone();
                    history.push(event);
                    let e = old.changed(record, op.seq, history);
                    book.replace(i, e.clone());
                    e
                }
            };
            whole.extend(entry.cell);
            if let Some(i) = entry.enterprise {
                whole.extend(base.enterprise_cell(i));
                points.push((base.dataset.enterprises[i as usize].location, 0, false));
            }
            points.push((
                entry.record.location,
                policy.minzoom(LayerId::HiddenDangers),
                true,
            ));
            applied.records.push(entry.record.id.clone());
        }
        Ok(Recorded {
            policy: policy.clone(),
            head,
            book,
            alarm_book,
            applied,
            points,
            watched,
            whole,
            alarms,
            seq,
        })
    }
}

impl<H: Deref<Target = Snapshot>> Recorded<H> {
    /// The next snapshot and what changed: the cells the recorded writes
    /// reach rescored, the tiles they change marked.
    pub fn rescore(self) -> (Snapshot, Applied) {
        let Recorded {
            head,
            policy,
            book,
            alarm_book,
            mut applied,
            points,
            watched,
            mut whole,
            alarms,
            seq,
        } = self;
        let this: &Snapshot = &head;
        let policy = &policy;
        let base = this.store.base();
        let params = this.scores.params();
        for entry in &alarms {
            applied
                .cells
                .extend(crate::risk::alarm::cells_touched(base, &alarm_book, entry, params).iter());
        }
        whole.extend(crate::risk::alarm::sources_flipped(
            base,
            this.store.alarms(),
            &alarm_book,
            watched,
            params,
        ));
        applied.cells.extend(whole.iter().copied());
        let alarms_only: BTreeSet<UnitId> = applied.cells.difference(&whole).copied().collect();
        let store = this.store.with_live(book, alarm_book);
        let mut scores = this.scores.clone();
        let mut kept = this.kept.clone();
        let ancestors = scores.rescore_cells_kept(&store, &applied.cells, &alarms_only, &mut kept);
        let top = policy.maxzoom;
        let mut marks = TileMarks::default();
        let mut danger_marks = TileMarks::default();
        for (p, from, danger) in points {
            let b = [p.x(), p.y(), p.x(), p.y()];
            marks.add(b, from, top);
            if danger {
                danger_marks.add(b, from, top);
            }
            grow(&mut applied.bbox, b);
        }
        let mut units: Vec<UnitId> = applied.cells.iter().chain(&ancestors).copied().collect();
        units.sort_unstable();
        units.dedup();
        for &u in &units {
            let cell = applied.cells.contains(&u);
            let (score, domains) = if cell {
                (true, true)
            } else {
                shown_differs(this.scores.unit(u), scores.unit(u))
            };
            if !score && !domains {
                continue;
            }
            let unit = store.unit(u);
            if unit.geometry.0.iter().all(|p| p.exterior().0.is_empty()) {
                continue;
            }
            let r = store.unit_envelope(u);
            let b = [r.lower()[0], r.lower()[1], r.upper()[0], r.upper()[1]];
            if cell {
                grow(&mut applied.bbox, b);
            }
            let from = policy.minzoom(level_layer(unit.level));
            if score {
                marks.add(b, from, top);
            } else {
                // Only the domain values moved: only the zooms that draw them.
                let band = crate::tiles::domain_zooms(unit.level);
                marks.add(b, from.max(*band.start()), top.min(*band.end()));
            }
        }
        // Recorded in the record every snapshot of this load shares: a
        // reader of an earlier snapshot asks as of its own sequence number.
        let tile_changes = this.tile_changes.clone();
        tile_changes.apply(marks, seq);
        let danger_changes = this.danger_changes.clone();
        if !danger_marks.is_empty() {
            danger_changes.apply(danger_marks, seq);
        }
        applied.units = units;
        (
            this.with_live(store, scores, tile_changes, danger_changes, kept, seq),
            applied,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::dangers::{Action, EventRequest, ReportRequest};
    use super::*;
    use crate::config::Config;
    use crate::model::{DangerStatus, Dataset, Date};
    use crate::risk::fixtures::{SIDE, X0, Y0, arb};
    use proptest::prelude::*;

    /// One random write: report (at grid position, grade, linked to an
    /// enterprise or not) or an action on the n-th record.
    #[derive(Debug, Clone)]
    enum Write {
        Report {
            x: f64,
            y: f64,
            major: bool,
            enterprise: Option<usize>,
            late: bool,
        },
        Event {
            nth: usize,
            action: u8,
        },
        /// An alarm at a grid position or from the n-th sensor.
        Alarm {
            x: f64,
            y: f64,
            level: u8,
            sensor: Option<usize>,
        },
        /// Acknowledge (0), clear (1) or dispatch (2) the n-th alarm.
        AlarmAct {
            nth: usize,
            act: u8,
        },
    }

    fn write() -> impl Strategy<Value = Write> {
        prop_oneof![
            (
                0.0..4.0f64,
                0.0..4.0f64,
                any::<bool>(),
                prop::option::of(0usize..20),
                any::<bool>()
            )
                .prop_map(|(x, y, major, enterprise, late)| Write::Report {
                    x,
                    y,
                    major,
                    enterprise,
                    late
                }),
            (0usize..32, 0u8..5).prop_map(|(nth, action)| Write::Event { nth, action }),
            (
                0.0..4.0f64,
                0.0..4.0f64,
                1u8..=4,
                prop::option::of(0usize..4)
            )
                .prop_map(|(x, y, level, sensor)| Write::Alarm {
                    x,
                    y,
                    level,
                    sensor
                }),
            (0usize..32, 0u8..3).prop_map(|(nth, act)| Write::AlarmAct { nth, act }),
        ]
    }

    fn config() -> Config {
        let mut c = Config::default();
        c.risk.as_of = Some("2026-06-15".into());
        c
    }

    /// Applies `w` to `snap` as the server would (check, then derive) and
    /// returns the next snapshot, if the write was valid.
    fn apply(snap: &Snapshot, w: &Write, seq: u64) -> Option<Snapshot> {
        apply_changes(snap, w, seq).map(|(next, _)| next)
    }

    /// [`apply`] with what the write changed.
    fn apply_changes(snap: &Snapshot, w: &Write, seq: u64) -> Option<(Snapshot, Applied)> {
        let (op, id, data) = entry_of(snap, w, seq)?;
        snap.derive(&[op_at(seq, op, &id, &data)], &TilePolicy::default())
            .ok()
    }

    /// The journal entry (op, id, data) that `w` makes on `snap` as entry
    /// `seq`, if the write is valid there.
    fn entry_of(
        snap: &Snapshot,
        w: &Write,
        seq: u64,
    ) -> Option<(&'static str, String, serde_json::Value)> {
        let today: Date = "2026-06-15".parse().ok()?;
        Some(match w {
            Write::Alarm {
                x,
                y,
                level,
                sensor,
            } => {
                let book = snap.store.alarms();
                let sensor = sensor
                    .and_then(|i| book.sensors().get(i))
                    .map(|s| s.id.clone());
                let req = alarms::AlarmRequest {
                    id: Some(format!("ALM-{seq}")),
                    lon: sensor.is_none().then(|| serde_json::json!(X0 + x * SIDE)),
                    lat: sensor.is_none().then(|| serde_json::json!(Y0 + y * SIDE)),
                    sensor_id: sensor,
                    level: Some(serde_json::json!(level)),
                    value: Some(3.0),
                    threshold: None,
                    started_at: Some("2026-06-15T08:00:00+08:00".into()),
                    acknowledged_at: None,
                    cleared_at: None,
                };
                let a = req.into_record(book).ok()?;
                (
                    alarms::OP_RAISE,
                    a.id.clone(),
                    serde_json::to_value(&a).ok()?,
                )
            }
            Write::AlarmAct { nth, act } => {
                let book = snap.store.alarms();
                if book.is_empty() {
                    return None;
                }
                let entry = book.get((*nth % book.len()) as u32)?;
                let id = entry.record.id.clone();
                match act {
                    0 | 1 => {
                        let op = if *act == 0 {
                            alarms::OP_ACK
                        } else {
                            alarms::OP_CLEAR
                        };
                        let a = alarms::transition(entry, op, "2026-06-15T09:00:00Z").ok()?;
                        (op, id, serde_json::to_value(&a).ok()?)
                    }
                    _ => {
                        let d = alarms::dispatch(entry, format!("HD-A{seq}"), today).ok()?;
                        (alarms::OP_DISPATCH, id, serde_json::to_value(&d).ok()?)
                    }
                }
            }
            Write::Report {
                x,
                y,
                major,
                enterprise,
                late,
            } => {
                let ent = enterprise
                    .and_then(|i| snap.store.dataset.enterprises.get(i))
                    .map(|e| e.id.clone());
                let req = ReportRequest {
                    lon: ent.is_none().then_some(X0 + x * SIDE),
                    lat: ent.is_none().then_some(Y0 + y * SIDE),
                    enterprise_id: ent,
                    grade: Some(if *major { "major" } else { "general" }.into()),
                    category: Some("road".into()),
                    description: Some("路面下沉".into()),
                    deadline: Some(if *late { "2026-06-01" } else { "2026-07-01" }.into()),
                    responsible: None,
                    source: None,
                    id: None,
                    found_at: Some("2026-05-20".into()),
                };
                let r = req
                    .into_record(&snap.store, today, || format!("HD-{seq}"))
                    .ok()?;
                (
                    dangers::OP_REPORT,
                    r.id.clone(),
                    serde_json::to_value(&r).ok()?,
                )
            }
            Write::Event { nth, action } => {
                let book = snap.store.dangers();
                if book.is_empty() {
                    return None;
                }
                let entry = book.get((*nth % book.len()) as u32)?;
                let action = [
                    Action::Start,
                    Action::Rectify,
                    Action::Close,
                    Action::Reject,
                    Action::Extend,
                ][*action as usize];
                let req = EventRequest {
                    action: Some(action.as_str().into()),
                    note: None,
                    deadline: (action == Action::Extend).then(|| "2026-12-31".into()),
                };
                let ev = req.check(entry, "t", today).ok()?;
                (
                    dangers::OP_EVENT,
                    entry.record.id.clone(),
                    serde_json::to_value(&ev.data).ok()?,
                )
            }
        })
    }

    fn op_at<'a>(seq: u64, op: &'a str, id: &'a str, data: &'a serde_json::Value) -> Op<'a> {
        Op {
            seq,
            at: "2026-06-15T08:00:00Z",
            actor: "t",
            role: "planner",
            op,
            id,
            data,
        }
    }

    /// Scores every unit of `snap` as a full load of its records would.
    fn assert_equals_full_load(
        snap: &Snapshot,
        ds: &Dataset,
        config: &Config,
    ) -> Result<(), TestCaseError> {
        let records: Vec<HiddenDanger> = snap
            .store
            .dangers()
            .iter()
            .map(|(_, e)| e.record.clone())
            .collect();
        let alarm_records: Vec<crate::model::Alarm> = snap
            .store
            .alarms()
            .iter()
            .map(|(_, e)| e.record.clone())
            .collect();
        let full = Snapshot::from_dataset(
            Dataset {
                hidden_dangers: records,
                alarms: alarm_records,
                ..ds.clone()
            },
            config,
        );
        prop_assert_eq!(snap.scores.len(), full.scores.len());
        for (id, s) in full.scores.iter() {
            let live = snap.scores.unit(id);
            prop_assert_eq!(live.score().to_bits(), s.score().to_bits(), "unit {}", id);
            prop_assert_eq!(live.domains(), s.domains());
            prop_assert_eq!(live.components(), s.components());
        }
        Ok(())
    }

    /// A monitored source watched by sensor S-0 reaches every cell of the
    /// grid; a level-4 alarm on S-0 reaches only its own cell. The first
    /// unacknowledged alarm lifts the source's factor (every cell), a
    /// second changes only its own reach, acknowledging the first leaves
    /// the factor lifted, acknowledging the last restores it (every cell);
    /// each step equals a full load.
    #[test]
    fn a_watched_source_is_rescored_only_when_its_monitored_factor_flips() {
        let mut ds = Dataset {
            units: crate::risk::fixtures::grid4x4(),
            ..Dataset::default()
        };
        ds.hazard_sources = vec![crate::risk::fixtures::hazard(
            "H-1",
            1,
            true,
            X0 + 2.0 * SIDE,
            Y0 + 2.0 * SIDE,
        )];
        ds.sensors = corner_sensors(Some("H-1"));
        let config = config();
        let mut snap = Snapshot::from_dataset(ds.clone(), &config);
        let every = snap.store.units_at(Level::Cell).len();
        assert!(every > 1);
        let far = snap.store.units_at(Level::Cell).last().copied().unwrap();
        let raise = Write::Alarm {
            x: 0.0,
            y: 0.0,
            level: 4,
            sensor: Some(0),
        };
        let ack = |nth| Write::AlarmAct { nth, act: 0 };
        let steps = [
            (raise.clone(), every),
            (raise, 1),
            (ack(0), 1),
            (ack(1), every),
        ];
        let near = snap
            .store
            .cell_at(snap.store.alarms().sensors()[0].location)
            .unwrap();
        for (i, (w, cells)) in steps.iter().enumerate() {
            if i == 1 {
                // The second alarm's cell is rescored from its kept inputs:
                // kept without hazard terms, it scores no H.
                let params = snap.scores.params();
                let mut inputs =
                    crate::risk::cell::CellInputs::gather(&snap.store, near, 1.0, params);
                assert!(!inputs.hazards.is_empty());
                inputs.hazards.clear();
                let mut poisoned = snap.clone();
                poisoned.kept.keep(near, params.as_of_day(), inputs);
                let (next, _) = apply_changes(&poisoned, w, i as u64 + 1).unwrap();
                assert_eq!(next.scores.unit(near).components().map(|c| c.h), Some(0.0));
            }
            let h_before = snap.scores.unit(far).components().map(|c| c.h);
            let (next, applied) = apply_changes(&snap, w, i as u64 + 1).unwrap();
            assert_eq!(applied.cells.len(), *cells, "step {i}: {w:?}");
            let h_after = next.scores.unit(far).components().map(|c| c.h);
            assert_eq!(
                h_before != h_after,
                *cells == every,
                "step {i}: H of a far cell"
            );
            snap = next;
            assert_equals_full_load(&snap, &ds, &config).unwrap();
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn live_writes_equal_a_full_load(mut ds in arb::dataset(), writes in prop::collection::vec(write(), 1..24)) {
            ds.has_hidden_dangers = true;
            // Sensors at the corners of the grid; the first watches the
            // first hazard source, if any.
            let watched = ds.hazard_sources.first().map(|h| h.id.clone());
            ds.sensors = corner_sensors(watched.as_deref());
            let config = config();
            let mut snap = Snapshot::from_dataset(ds.clone(), &config);
            let mut seq = 0;
            for w in &writes {
                if let Some(next) = apply(&snap, w, seq + 1) {
                    seq += 1;
                    snap = next;
                }
            }
            let reports = writes.iter().filter(|w| matches!(w, Write::Report { .. } | Write::Alarm { .. })).count();
            prop_assert!(seq as usize >= reports, "every report applies ({seq} of {reports})");
            assert_equals_full_load(&snap, &ds, &config)?;
            let open = snap.store.dangers().iter().filter(|(_, e)| e.record.status != DangerStatus::Closed).count();
            prop_assert!(open <= snap.store.dangers().len());
            // The version index lists exactly the records changed after
            // each sequence number, in version order.
            let book = snap.store.dangers();
            for since in 0..=seq {
                let mut scanned: Vec<(u64, u32)> = book.iter().filter(|(_, e)| e.version > since).map(|(i, e)| (e.version, i)).collect();
                scanned.sort_unstable();
                let indexed: Vec<(u64, u32)> = book.changed_since(since).map(|(i, e)| (e.version, i)).collect();
                prop_assert_eq!(indexed, scanned, "changed since {}", since);
            }
        }

        /// The server derives a batch of entries at once (an alarm batch,
        /// the journal at startup): writes made one by one on a scratch
        /// snapshot, derived in batches of 1–6 from another, equal a full
        /// load after every batch.
        #[test]
        fn batches_of_writes_equal_a_full_load_after_every_batch(mut ds in arb::dataset(), writes in prop::collection::vec(write(), 1..24), sizes in prop::collection::vec(1usize..7, 24)) {
            ds.has_hidden_dangers = true;
            let watched = ds.hazard_sources.first().map(|h| h.id.clone());
            ds.sensors = corner_sensors(watched.as_deref());
            let config = config();
            let mut scratch = Snapshot::from_dataset(ds.clone(), &config);
            let mut batched = scratch.clone();
            let mut pending = Vec::new();
            let mut size = sizes.iter().cycle();
            let mut want = *size.next().unwrap_or(&1);
            let mut seq = 0;
            for (i, w) in writes.iter().enumerate() {
                if let Some((op, id, data)) = entry_of(&scratch, w, seq + 1)
                    && let Ok((next, _)) = scratch.derive(&[op_at(seq + 1, op, &id, &data)], &TilePolicy::default())
                {
                    seq += 1;
                    scratch = next;
                    pending.push((seq, op, id, data));
                }
                if pending.len() >= want || (i + 1 == writes.len() && !pending.is_empty()) {
                    let ops: Vec<Op<'_>> = pending.iter().map(|(q, op, id, data)| op_at(*q, op, id, data)).collect();
                    let (next, _) = batched.derive(&ops, &TilePolicy::default()).map_err(|e| TestCaseError::fail(e.to_string()))?;
                    batched = next;
                    pending.clear();
                    want = *size.next().unwrap_or(&1);
                    assert_equals_full_load(&batched, &ds, &config)?;
                }
            }
            prop_assert_eq!(batched.seq, scratch.seq);
        }

        #[test]
        fn a_tile_whose_bytes_a_write_changes_gets_a_new_version(mut ds in arb::dataset(), writes in prop::collection::vec(write(), 1..10)) {
            ds.has_hidden_dangers = true;
            ds.sensors = corner_sensors(None);
            let config = config();
            let policy = TilePolicy::default();
            let tiles = tiles_over([X0 - SIDE, Y0 - SIDE, X0 + 5.0 * SIDE, Y0 + 5.0 * SIDE]);
            let mut snap = Snapshot::from_dataset(ds, &config);
            let mut seq = 0;
            for w in &writes {
                let Some(next) = apply(&snap, w, seq + 1) else { continue };
                seq += 1;
                for &t in &tiles {
                    for scope in [crate::auth::Scope::All, crate::auth::Scope::Public] {
                        let before = snap.build_tile(scope, t, &policy).map(|b| b.bytes);
                        let after = next.build_tile(scope, t, &policy).map(|b| b.bytes);
                        let old = snap.tile_changes.last_change(t, snap.seq);
                        let new = next.tile_changes.last_change(t, next.seq);
                        if before != after {
                            prop_assert!(new > old, "{:?}: tile {} changed by write {} ({:?}) keeps version {}", scope, t, seq, w, old);
                        }
                    }
                }
                snap = next;
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn a_tile_rebuilt_from_kept_layers_equals_a_fresh_build(mut ds in arb::dataset(), writes in prop::collection::vec(write(), 1..12)) {
            ds.has_hidden_dangers = true;
            ds.sensors = corner_sensors(None);
            let config = config();
            let policy = TilePolicy::default();
            let tiles = tiles_over([X0 - SIDE, Y0 - SIDE, X0 + 5.0 * SIDE, Y0 + 5.0 * SIDE]);
            let mut snap = Snapshot::from_dataset(ds, &config).with_layer_cache(&config);
            prop_assert!(snap.layer_cache.is_enabled());
            let filters = [
                crate::tiles::TileFilter::NONE,
                crate::tiles::TileFilter::parse(None, Some("major,high"), Some("1,2"))
                    .unwrap_or_else(|e| panic!("{e}")),
            ];
            let cell = snap.store.units_at(crate::model::Level::Cell).first().copied();
            let village = snap.store.units_at(crate::model::Level::Village).first().copied();
            let mut scopes = vec![crate::auth::Scope::All, crate::auth::Scope::Public];
            scopes.extend(cell.map(crate::auth::Scope::Unit));
            scopes.extend(village.map(crate::auth::Scope::Unit));
            // The last body built per tile, caller and filter, as the tile
            // cache keeps it.
            let mut bodies: std::collections::HashMap<_, crate::tiles::Previous> = Default::default();
            let mut seq = 0;
            for w in &writes {
                let Some(next) = apply(&snap, w, seq + 1) else { continue };
                seq += 1;
                // The new snapshot, and the one before read after it (as a
                // request that raced the write does), each built through the
                // layers of the tile's last body and the load's kept
                // geometries (filled by the builds before), and from scratch.
                for (which, s) in [("new", &next), ("previous", &snap)] {
                    for &t in &tiles {
                        for &scope in &scopes {
                            for &filter in &filters {
                                let address = (t, format!("{scope:?}"), filter);
                                let previous = bodies.get(&address).cloned();
                                let reused = s.build_tile_gzip(scope, t, &policy, filter, previous)
                                    .unwrap_or_else(|e| panic!("{e}"));
                                if let Some(r) = &reused
                                    && let Some(kept) = &r.kept
                                {
                                    bodies.insert(address, crate::tiles::Previous {
                                        body: r.body.clone().into(),
                                        kept: std::sync::Arc::new(kept.clone()),
                                    });
                                }
                                let fresh = crate::tiles::build_tile_filtered(&s.store, s.tiles(), &s.scores, scope, t, &policy, filter);
                                let what = format!("{which} snapshot, {scope:?}, {filter:?}: tile {t} after write {seq} ({w:?})");
                                prop_assert_eq!(reused.as_ref().map(|r| (r.len, &r.counts, r.clustered)), fresh.as_ref().map(|f| (f.bytes.len(), &f.counts, f.clustered)), "{}", what);
                                let fresh_body = fresh.map(|f| crate::tiles::gzip_layers::gzip_tile(&f.bytes).unwrap_or_else(|e| panic!("{e}")));
                                prop_assert!(reused.map(|r| r.body) == fresh_body, "gzip body of {}", what);
                            }
                        }
                    }
                }
                snap = next;
            }
        }
    }

    /// Four sensors near the corners of the fixture grid; the first
    /// watches `watched`.
    fn corner_sensors(watched: Option<&str>) -> Vec<crate::model::Sensor> {
        (0..4)
            .map(|i| {
                crate::risk::fixtures::sensor(
                    &format!("S-{i}"),
                    if i == 0 { watched } else { None },
                    X0 + f64::from(i % 2) * 3.0 * SIDE + 0.5 * SIDE,
                    Y0 + f64::from(i / 2) * 3.0 * SIDE + 0.5 * SIDE,
                )
            })
            .collect()
    }

    /// Every tile of zooms 0–16 over a lon/lat box.
    fn tiles_over([w, s, e, n]: [f64; 4]) -> Vec<crate::tiles::TileId> {
        let xy = |lon: f64, lat: f64, z: u8| {
            let scale = f64::from(1u32 << z);
            let r = lat.to_radians();
            (
                ((lon + 180.0) / 360.0 * scale).floor() as u32,
                ((1.0 - (r.tan() + 1.0 / r.cos()).ln() / std::f64::consts::PI) / 2.0 * scale)
                    .floor() as u32,
            )
        };
        let mut out = Vec::new();
        for z in 0..=16u8 {
            let (x0, y0) = xy(w, n, z);
            let (x1, y1) = xy(e, s, z);
            for x in x0..=x1 {
                for y in y0..=y1 {
                    out.extend(crate::tiles::TileId::new(u32::from(z), x, y).ok());
                }
            }
        }
        out
    }
}
