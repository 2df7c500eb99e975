//! The [`AlarmBook`]: the monitoring alarms of a store with the sensors
//! they come from, indexed by id, by place (the alarms not cleared, in
//! bins of [`BIN_DEG`] degrees) and by the hazard source an unacknowledged
//! alarm's sensor watches. Like the [`DangerBook`](super::DangerBook) it is
//! what live writes change: a clone is cheap and a change copies only what
//! it touches.

use super::chunks::ChunkVec;
use super::store::{Base, UnitId};
use crate::model::{Alarm, AlarmStatus, Sensor};
use rstar::AABB;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// Side of a bin of the place index, degrees.
pub const BIN_DEG: f64 = 0.01;

/// An alarm with where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmEntry {
    /// The alarm as it is now.
    pub record: Alarm,
    /// The unit cell containing its point, if any.
    pub cell: Option<UnitId>,
    /// Index of its sensor in the `sensors` layer, if it names one.
    pub sensor: Option<u32>,
    /// Index of the hazard source its sensor watches, if any.
    pub watches: Option<u32>,
    /// The journal sequence number of its last change (0: base file).
    pub version: u64,
}

/// The sensors of a dataset with their lookups (shared by every book).
#[derive(Debug, Default)]
struct Sensors {
    list: Vec<Sensor>,
    by_id: HashMap<String, u32, foldhash::fast::RandomState>,
    /// The hazard source each sensor watches (by sensor index), if any.
    watches: Vec<Option<u32>>,
    /// The unit cell each sensor lies in (by sensor index), if any.
    cells: Vec<Option<UnitId>>,
    /// The cells within reach of an alarm at each sensor's point, by
    /// sensor index and alarm level (1–4), with the reach they were found
    /// for: filled by the first alarm of that level.
    reach: Vec<[OnceLock<KeptReach>; 4]>,
}

/// Most cells kept for one sensor and level: the kept reach takes at most
/// 4 × 4 KiB per sensor, whatever `[risk.alarms] reach_m` says.
pub const MAX_KEPT_REACH: usize = 1024;

/// Cells within reach of a sensor's point, with the reach (metres) they
/// were found for.
type KeptReach = (f64, Arc<[UnitId]>);

/// The alarms and sensors of a store (see the module doc).
#[derive(Debug, Clone, Default)]
pub struct AlarmBook {
    sensors: Arc<Sensors>,
    entries: ChunkVec<Arc<AlarmEntry>>,
    by_id: FastMap<Arc<str>, u32>,
    /// Alarms not cleared, by bin.
    bins: FastMap<(i32, i32), Arc<[u32]>>,
    /// Per hazard source index, the number of unacknowledged alarms whose
    /// sensor watches it.
    alarmed: FastMap<u32, u32>,
}

/// The books' hasher: quick on short keys, seeded per process.
type Hasher = foldhash::fast::RandomState;

/// A persistent map with [`Hasher`].
type FastMap<K, V> = imbl::GenericHashMap<K, V, Hasher, imbl::shared_ptr::DefaultSharedPtr>;

fn bin_of(x: f64, y: f64) -> (i32, i32) {
    ((x / BIN_DEG).floor() as i32, (y / BIN_DEG).floor() as i32)
}

impl AlarmBook {
    /// The book of `sensors` and `alarms` (in file order) over `base`.
    pub fn build(base: &Base, sensors: Vec<Sensor>, alarms: Vec<Alarm>) -> AlarmBook {
        let mut by_id = HashMap::with_capacity_and_hasher(sensors.len(), Hasher::default());
        for (i, s) in sensors.iter().enumerate() {
            by_id.entry(s.id.clone()).or_insert(i as u32);
        }
        let watches = sensors
            .iter()
            .map(|s| s.watches.as_deref().and_then(|w| base.hazard_by_id(w)))
            .collect();
        let cells = sensors.iter().map(|s| base.cell_at(s.location)).collect();
        let reach = sensors.iter().map(|_| Default::default()).collect();
        let mut book = AlarmBook {
            sensors: Arc::new(Sensors {
                list: sensors,
                by_id,
                watches,
                cells,
                reach,
            }),
            ..AlarmBook::default()
        };
        for a in alarms {
            if book.index_of(&a.id).is_none() {
                book.insert(base, a, 0);
            }
        }
        book
    }

    /// The sensors, in file order.
    pub fn sensors(&self) -> &[Sensor] {
        &self.sensors.list
    }

    /// The index of the sensor with this id.
    pub fn sensor_by_id(&self, id: &str) -> Option<u32> {
        self.sensors.by_id.get(id).copied()
    }

    /// The cells within `reach_m` of `entry`'s point, by `find`: kept
    /// with its sensor when the alarm lies at the sensor's point (the same
    /// for every alarm of that sensor and level) and they are at most
    /// [`MAX_KEPT_REACH`], found anew otherwise. `find` must look them up
    /// on the base this book was built on.
    pub(crate) fn cells_in_reach(
        &self,
        entry: &AlarmEntry,
        reach_m: f64,
        find: impl FnOnce() -> Vec<UnitId>,
    ) -> Arc<[UnitId]> {
        let level = usize::from(entry.record.level.get());
        let slot = entry.sensor.and_then(|s| {
            let s = s as usize;
            (self.sensors.list.get(s).map(|x| x.location) == Some(entry.record.location))
                .then(|| self.sensors.reach.get(s)?.get(level.checked_sub(1)?))
                .flatten()
        });
        let Some(slot) = slot else {
            return find().into();
        };
        match slot.get() {
            Some((kept_for, cells)) if *kept_for == reach_m => Arc::clone(cells),
            // Kept for other parameters than these: found anew.
            Some(_) => find().into(),
            None => {
                let cells: Arc<[UnitId]> = find().into();
                if cells.len() <= MAX_KEPT_REACH {
                    let _ = slot.set((reach_m, Arc::clone(&cells)));
                }
                cells
            }
        }
    }

    /// The unit cell sensor `index` lies in, if any.
    pub fn sensor_cell(&self, index: u32) -> Option<UnitId> {
        self.sensors.cells.get(index as usize).copied().flatten()
    }

    /// Indices of the sensors whose point lies in `env`, ascending.
    pub fn sensors_in_envelope(&self, env: &AABB<[f64; 2]>) -> Vec<u32> {
        self.sensors
            .list
            .iter()
            .enumerate()
            .filter(|(_, s)| {
                rstar::Envelope::contains_point(env, &[s.location.x(), s.location.y()])
            })
            .map(|(i, _)| i as u32)
            .collect()
    }

    /// Indices of every alarm (cleared ones too) whose point lies in
    /// `env`, ascending.
    pub fn in_envelope(&self, env: &AABB<[f64; 2]>) -> Vec<u32> {
        self.iter()
            .filter(|(_, e)| {
                let p = e.record.location;
                rstar::Envelope::contains_point(env, &[p.x(), p.y()])
            })
            .map(|(i, _)| i)
            .collect()
    }

    /// Number of alarms.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there is no alarm.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The alarm at `index`.
    pub fn get(&self, index: u32) -> Option<&AlarmEntry> {
        self.entries.get(index as usize).map(|e| e.as_ref())
    }

    /// The index of the alarm with this id.
    pub fn index_of(&self, id: &str) -> Option<u32> {
        self.by_id.get(id).copied()
    }

    /// The alarm with this id.
    pub fn by_id(&self, id: &str) -> Option<&AlarmEntry> {
        self.index_of(id).and_then(|i| self.get(i))
    }

    /// Every alarm with its index, in index order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &AlarmEntry)> {
        self.entries
            .iter()
            .enumerate()
            .map(|(i, e)| (i as u32, e.as_ref()))
    }

    /// Indices of the alarms not cleared whose point lies in `env`,
    /// ascending.
    pub fn active_in_envelope(&self, env: &AABB<[f64; 2]>) -> Vec<u32> {
        let (lo, hi) = (env.lower(), env.upper());
        let (x0, y0) = bin_of(lo[0], lo[1]);
        let (x1, y1) = bin_of(hi[0], hi[1]);
        let mut out = Vec::new();
        if self.bins.is_empty() {
            return out;
        }
        let wide = (i64::from(x1) - i64::from(x0) + 1) * (i64::from(y1) - i64::from(y0) + 1);
        let mut take = |ids: &[u32]| {
            for &i in ids {
                if let Some(e) = self.get(i) {
                    let p = e.record.location;
                    if rstar::Envelope::contains_point(env, &[p.x(), p.y()]) {
                        out.push(i);
                    }
                }
            }
        };
        if wide > self.bins.len() as i64 {
            for ids in self.bins.values() {
                take(ids);
            }
        } else {
            for x in x0..=x1 {
                for y in y0..=y1 {
                    if let Some(ids) = self.bins.get(&(x, y)) {
                        take(ids);
                    }
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Whether an unacknowledged alarm's sensor watches hazard source
    /// `hazard` (which lifts its monitored factor).
    pub fn hazard_alarmed(&self, hazard: u32) -> bool {
        self.alarmed.get(&hazard).is_some_and(|n| *n > 0)
    }

    /// An entry for `record` with its cell, sensor and watched source
    /// looked up.
    pub fn locate(&self, base: &Base, record: Alarm, version: u64) -> AlarmEntry {
        let sensor = record
            .sensor_id
            .as_deref()
            .and_then(|s| self.sensor_by_id(s));
        let watches = sensor.and_then(|s| self.sensors.watches.get(s as usize).copied().flatten());
        // An alarm at its sensor's point lies in the sensor's cell, looked
        // up once when the book was built.
        let cell = match sensor {
            Some(s)
                if self.sensors.list.get(s as usize).map(|x| x.location)
                    == Some(record.location) =>
            {
                self.sensor_cell(s)
            }
            _ => base.cell_at(record.location),
        };
        AlarmEntry {
            cell,
            sensor,
            watches,
            version,
            record,
        }
    }

    /// Adds a new alarm (its id must not be in the book) and returns its
    /// index.
    pub fn insert(&mut self, base: &Base, record: Alarm, version: u64) -> u32 {
        let i = self.entries.len() as u32;
        let entry = self.locate(base, record, version);
        self.index(i, &entry, 1);
        self.by_id.insert(Arc::from(entry.record.id.as_str()), i);
        self.entries.push(Arc::new(entry));
        i
    }

    /// Replaces the alarm at `index` with `record` (same place) after
    /// journal entry `version`; returns the new entry.
    pub fn replace(&mut self, index: u32, record: Alarm, version: u64) -> Option<AlarmEntry> {
        let old = self.get(index)?.clone();
        self.index(index, &old, -1);
        let entry = AlarmEntry {
            record,
            version,
            ..old
        };
        self.index(index, &entry, 1);
        self.entries.set(index as usize, Arc::new(entry.clone()));
        Some(entry)
    }

    /// Adds (`delta` 1) or removes (−1) an entry from the place and watch
    /// indexes, as its status says.
    fn index(&mut self, i: u32, entry: &AlarmEntry, delta: i32) {
        let status = entry.record.status();
        if status == AlarmStatus::Cleared {
            return;
        }
        let p = entry.record.location;
        let key = bin_of(p.x(), p.y());
        let mut ids: Vec<u32> = self.bins.get(&key).map(|v| v.to_vec()).unwrap_or_default();
        if delta > 0 {
            ids.push(i);
        } else {
            ids.retain(|&x| x != i);
        }
        if ids.is_empty() {
            self.bins.remove(&key);
        } else {
            self.bins.insert(key, Arc::from(ids));
        }
        if status == AlarmStatus::Active
            && let Some(h) = entry.watches
        {
            let n = self.alarmed.get(&h).copied().unwrap_or(0);
            let n = if delta > 0 {
                n + 1
            } else {
                n.saturating_sub(1)
            };
            if n == 0 {
                self.alarmed.remove(&h);
            } else {
                self.alarmed.insert(h, n);
            }
        }
    }
}
