//! Monitoring sensors and a handful of active alarms for the demo: a tank
//! level and a gas sensor at every hazard source (watching it), a gas
//! sensor at gas enterprises, a settlement sensor in collapse zones —
//! about [`TARGET`] in all — and [`ACTIVE`] alarms raised on the as-of
//! day, one of them acknowledged. Deterministic: the same inputs give the
//! same sensors and alarms.

use crate::model::{
    Alarm, AlarmLevel, CollapseZone, Date, Enterprise, HazardSource, Industry, Sensor, SensorKind,
};
use geo::{Centroid, Point};

/// About how many sensors the demo has.
pub const TARGET: usize = 400;
/// Active alarms in the demo.
pub const ACTIVE: usize = 6;

fn near(p: Point<f64>, dx: f64) -> Point<f64> {
    let r = |x: f64| (x * 1e6).round() / 1e6;
    Point::new(r(p.x() + dx), r(p.y()))
}

/// The sensors of the demo layers.
pub fn sensors(
    hazards: &[HazardSource],
    enterprises: &[Enterprise],
    zones: &[CollapseZone],
) -> Vec<Sensor> {
    let mut out = Vec::new();
    let mut push = |kind: SensorKind, watches: Option<&str>, at: Point<f64>| {
        let id = format!("SN-{:04}", out.len() + 1);
        out.push(Sensor {
            id,
            kind,
            watches: watches.map(str::to_string),
            location: at,
        });
    };
    for h in hazards {
        push(SensorKind::TankLevel, Some(&h.id), near(h.location, 0.0002));
        push(SensorKind::Gas, Some(&h.id), near(h.location, -0.0002));
    }
    let room = TARGET.saturating_sub(2 * hazards.len());
    let gas: Vec<&Enterprise> = enterprises
        .iter()
        .filter(|e| e.industry == Industry::Gas)
        .collect();
    let n_gas = gas.len().min(room / 2);
    for e in gas.iter().take(n_gas) {
        push(SensorKind::Gas, Some(&e.id), near(e.location, 0.0001));
    }
    let n_zones = zones.len().min(room - n_gas);
    let step = (zones.len() / n_zones.max(1)).max(1);
    for z in zones.iter().step_by(step).take(n_zones) {
        if let Some(c) = z.geometry.centroid() {
            push(SensorKind::Settlement, None, near(c, 0.0));
        }
    }
    out
}

/// [`ACTIVE`] alarms on sensors spread through the list, raised on `as_of`
/// (levels 1–4 in turn; the second is acknowledged).
pub fn alarms(sensors: &[Sensor], as_of: Date) -> Vec<Alarm> {
    if sensors.is_empty() {
        return Vec::new();
    }
    let step = (sensors.len() / ACTIVE).max(1);
    sensors
        .iter()
        .step_by(step)
        .take(ACTIVE)
        .enumerate()
        .map(|(i, s)| {
            let level = AlarmLevel::clamped((i % 4) as u8 + 1);
            let (threshold, value) = match s.kind {
                SensorKind::Gas => (20.0, 25.0 + 10.0 * (4 - level.get()) as f64),
                SensorKind::TankLevel => (85.0, 88.0 + (4 - level.get()) as f64 * 2.0),
                SensorKind::Settlement => (10.0, 12.0 + 5.0 * (4 - level.get()) as f64),
                _ => (1.0, 1.5),
            };
            let hour = 7 + i;
            Alarm {
                id: format!("ALM-{}-{:03}", as_of.to_string().replace('-', ""), i + 1),
                sensor_id: Some(s.id.clone()),
                kind: Some(s.kind),
                level,
                value: Some(value),
                threshold: Some(threshold),
                started_at: format!("{as_of}T{hour:02}:15:00+08:00"),
                acknowledged_at: (i == 1).then(|| format!("{as_of}T{hour:02}:40:00+08:00")),
                cleared_at: None,
                hidden_danger_id: None,
                location: s.location,
            }
        })
        .collect()
}
