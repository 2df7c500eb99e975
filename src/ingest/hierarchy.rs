//! The grid hierarchy: code and level rules, parents dissolved from their
//! children where the data lacks them, containment and overlap checks,
//! childless units left out, populations summed upwards.

use super::issue::{IssueLevel, IssueSink};
use crate::crs::metric;
use crate::index::envelope_of;
use crate::model::{GridUnit, Level};
use geo::{Area, BooleanOps, CoordsIter, Intersects, MultiPolygon, Point};
use rayon::prelude::*;
use rstar::RTree;
use rstar::primitives::GeomWithData;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Tolerance of the containment and overlap checks, metres.
pub const TOLERANCE_M: f64 = 1.0;

/// An overlap of two units of one level up to this share of the smaller
/// one's area is a sliver (a digitising seam, as between neighbouring
/// parcels drawn separately): a warning, since a point there still gets one
/// unit (the lower code). A larger overlap is an error.
pub const SLIVER_SHARE: f64 = 0.001;

/// Checks and completes the hierarchy. `grid` and `counties` report into
/// their own files' sinks. Returns every unit kept, any order.
pub fn assemble<'s>(
    counties: Vec<GridUnit>,
    grid: Vec<GridUnit>,
    county_sink: &mut IssueSink<'s>,
    grid_sink: &mut IssueSink<'s>,
) -> Vec<GridUnit> {
    let mut units: BTreeMap<String, GridUnit> = BTreeMap::new();
    for (unit, from_grid) in counties
        .into_iter()
        .map(|u| (u, false))
        .chain(grid.into_iter().map(|u| (u, true)))
    {
        let sink = if from_grid {
            &mut *grid_sink
        } else {
            &mut *county_sink
        };
        if let Some(message) = code_problem(&unit) {
            sink.push(
                IssueLevel::Error,
                Some(unit.code.clone()),
                Some("code"),
                message,
            );
            continue;
        }
        if units.contains_key(&unit.code) {
            sink.push(
                IssueLevel::Error,
                Some(unit.code.clone()),
                Some("code"),
                format!("duplicate code {}", unit.code),
            );
            continue;
        }
        units.insert(unit.code.clone(), unit);
    }
    for level in [Level::Village, Level::Town, Level::County] {
        dissolve_missing(&mut units, level, grid_sink);
    }
    check_containment(&units, Level::Cell, grid_sink);
    check_containment(&units, Level::Village, grid_sink);
    check_overlaps(&units, Level::Cell, grid_sink);
    drop_childless(&mut units, county_sink, grid_sink);
    sum_population(&mut units);
    units.into_values().collect()
}

fn code_problem(u: &GridUnit) -> Option<String> {
    let want = u.level.code_len();
    if u.code.len() != want {
        return Some(format!(
            "a {} code has {want} digits, found {:?}",
            u.level, u.code
        ));
    }
    match (&u.parent_code, u.level.parent()) {
        (Some(p), Some(pl)) => {
            if p.len() != pl.code_len() || !u.code.starts_with(p.as_str()) {
                Some(format!(
                    "parent_code {p:?} must be the {}-digit {pl} code that prefixes {:?}",
                    pl.code_len(),
                    u.code
                ))
            } else {
                None
            }
        }
        (None, Some(_)) => Some("parent_code is missing".into()),
        _ => None,
    }
}

/// Makes units of `level` that children name as parent but the data lacks,
/// by dissolving those children.
fn dissolve_missing(
    units: &mut BTreeMap<String, GridUnit>,
    level: Level,
    sink: &mut IssueSink<'_>,
) {
    let Some(child_level) = level.child() else {
        return;
    };
    let mut orphans: BTreeMap<String, Vec<&GridUnit>> = BTreeMap::new();
    for u in units.values().filter(|u| u.level == child_level) {
        if let Some(p) = &u.parent_code
            && !units.contains_key(p)
        {
            orphans.entry(p.clone()).or_default().push(u);
        }
    }
    let made: Vec<GridUnit> = orphans
        .into_par_iter()
        .map(|(code, children)| {
            let geometry = geo::unary_union(children.iter().map(|c| &c.geometry));
            GridUnit {
                parent_code: level.parent().map(|pl| code[..pl.code_len()].to_string()),
                name: code.clone(),
                level,
                population: 0,
                manager: None,
                geometry,
                code,
            }
        })
        .collect();
    if !made.is_empty() && level != Level::County {
        sink.push(
            IssueLevel::Warning,
            None,
            None,
            format!(
                "{} {} units are not in the file and were dissolved from their children",
                made.len(),
                level
            ),
        );
    }
    for u in made {
        units.insert(u.code.clone(), u);
    }
}

/// Largest distance (m) of a vertex of `child` outside `parent` (0 if all in).
fn outside_by(child: &MultiPolygon<f64>, parent: &MultiPolygon<f64>) -> f64 {
    child
        .coords_iter()
        .map(|c| {
            let p = Point::from(c);
            if parent.intersects(&p) {
                0.0
            } else {
                metric::distance_to_polygon(p, parent).0
            }
        })
        .fold(0.0, f64::max)
}

fn check_containment(units: &BTreeMap<String, GridUnit>, level: Level, sink: &mut IssueSink<'_>) {
    let problems: Vec<(String, String)> = units
        .par_iter()
        .filter(|(_, u)| u.level == level)
        .filter_map(|(code, u)| {
            let parent = units.get(u.parent_code.as_ref()?)?;
            let d = outside_by(&u.geometry, &parent.geometry);
            (d > TOLERANCE_M).then(|| {
                (
                    code.clone(),
                    format!(
                        "{level} lies outside its {} {} by up to {d:.1} m (tolerance {TOLERANCE_M} m)",
                        parent.level, parent.code
                    ),
                )
            })
        })
        .collect();
    for (code, message) in problems {
        sink.push(IssueLevel::Error, Some(code), Some("geometry"), message);
    }
}

fn check_overlaps(units: &BTreeMap<String, GridUnit>, level: Level, sink: &mut IssueSink<'_>) {
    let list: Vec<&GridUnit> = units.values().filter(|u| u.level == level).collect();
    let tree = RTree::bulk_load(
        list.iter()
            .enumerate()
            .map(|(i, u)| GeomWithData::new(envelope_of(&u.geometry), i))
            .collect(),
    );
    let problems: Vec<(IssueLevel, String, String)> = list
        .par_iter()
        .enumerate()
        .flat_map_iter(|(i, a)| {
            let env = envelope_of(&a.geometry);
            let mut out = Vec::new();
            for b in tree.locate_in_envelope_intersecting(&rstar::RTreeObject::envelope(&env)) {
                if b.data <= i {
                    continue;
                }
                let other = list[b.data];
                if !a.geometry.intersects(&other.geometry) {
                    continue;
                }
                let shared = a.geometry.intersection(&other.geometry);
                if shared.unsigned_area() == 0.0 {
                    continue;
                }
                let m2 = metric::area(&shared).0;
                if m2 <= TOLERANCE_M * TOLERANCE_M {
                    continue;
                }
                let smaller = metric::area(&a.geometry)
                    .0
                    .min(metric::area(&other.geometry).0);
                let share = m2 / smaller.max(f64::MIN_POSITIVE);
                if share <= SLIVER_SHARE {
                    out.push((
                        IssueLevel::Warning,
                        a.code.clone(),
                        format!(
                            "{level} overlaps {level} {} by a sliver of {m2:.1} m² ({:.3} % of the smaller; points there go to the lower code)",
                            other.code,
                            share * 100.0
                        ),
                    ));
                } else {
                    out.push((
                        IssueLevel::Error,
                        a.code.clone(),
                        format!("{level} overlaps {level} {} by {m2:.1} m²", other.code),
                    ));
                }
            }
            out
        })
        .collect();
    for (severity, code, message) in problems {
        sink.push(severity, Some(code), Some("geometry"), message);
    }
}

fn drop_childless<'s>(
    units: &mut BTreeMap<String, GridUnit>,
    county_sink: &mut IssueSink<'s>,
    grid_sink: &mut IssueSink<'s>,
) {
    for level in [Level::Village, Level::Town, Level::County] {
        let parents: BTreeSet<&str> = units
            .values()
            .filter(|u| Some(u.level) == level.child())
            .filter_map(|u| u.parent_code.as_deref())
            .collect();
        let drop: Vec<String> = units
            .values()
            .filter(|u| u.level == level && !parents.contains(u.code.as_str()))
            .map(|u| u.code.clone())
            .collect();
        for code in drop {
            if let Some(u) = units.remove(&code) {
                let sink = if level == Level::County {
                    &mut *county_sink
                } else {
                    &mut *grid_sink
                };
                sink.push(
                    IssueLevel::Warning,
                    Some(code),
                    None,
                    format!(
                        "{} {} has no {} below it and is left out",
                        u.level,
                        u.name,
                        level.child().map(Level::as_str).unwrap_or("")
                    ),
                );
            }
        }
    }
    // Units whose parent is missing (after dissolving, only a wrong level
    // could cause this) are left out too.
    let codes: HashMap<String, Level> = units.iter().map(|(c, u)| (c.clone(), u.level)).collect();
    units.retain(|_, u| match (&u.parent_code, u.level.parent()) {
        (Some(p), Some(pl)) => codes.get(p) == Some(&pl),
        (_, None) => true,
        (None, Some(_)) => false,
    });
}

fn sum_population(units: &mut BTreeMap<String, GridUnit>) {
    for level in [Level::Village, Level::Town, Level::County] {
        let mut sums: HashMap<String, u64> = HashMap::new();
        for u in units.values().filter(|u| Some(u.level) == level.child()) {
            if let Some(p) = &u.parent_code {
                *sums.entry(p.clone()).or_default() += u.population;
            }
        }
        for u in units.values_mut().filter(|u| u.level == level) {
            u.population = sums.get(&u.code).copied().unwrap_or(0);
        }
    }
}
