//! The deterministic dataset generator (`riskmap generate`).
//!
//! Presets: [`Preset::Quanzhou`], the demo city, built on the real skeleton
//! in [`reference`] (county outlines, town and village codes and names) with
//! every shape below county level, every location and every attribute
//! synthetic; and [`Preset::Province`], a synthetic benchmark grid inside the
//! real Fujian outline.
//!
//! Everything comes from ChaCha streams seeded by `(seed, stream, item)`
//! ([`rng`]), so parallel work is order-independent and the same seed gives
//! byte-identical files.
//!
//! The pipeline: the grid ([`quanzhou`] or [`province`]: counties split into
//! towns, towns into villages, villages into unit cells by exact Voronoi
//! partition, see [`partition`] and [`grid`]), then populations, then
//! [`enterprises`], [`hazards`], [`collapse`] zones and a year of hidden
//! [`dangers`] before the as-of date (recorded in `dataset.toml`, [`info`]).
//!
//! What is real and what synthetic in the presets, and the licences of the
//! reference data: `docs/data.md`.

pub mod collapse;
pub mod dangers;
pub mod enterprises;
pub mod geom;
pub mod grid;
pub mod hazards;
pub mod info;
pub mod names;
pub mod partition;
pub mod province;
pub mod quanzhou;
pub mod reference;
pub mod rng;
pub mod sensors;
pub mod topology;

use crate::model::{Dataset, Date};
use crate::write::{self, Format, WriteError};
use collapse::CollapsePlan;
use enterprises::{Cluster, EnterprisePlan};
use geom::Shape;
use grid::{CellIndex, Grid};
use hazards::HazardPlan;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// A dataset preset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Preset {
    /// The demo city of Quanzhou (泉州): real counties, towns and villages.
    Quanzhou,
    /// A synthetic province inside the Fujian outline, for benchmarks.
    Province,
}

impl Preset {
    /// The preset's name on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Preset::Quanzhou => "quanzhou",
            Preset::Province => "province",
        }
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A preset name that is not known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown preset {0:?} (use quanzhou or province)")]
pub struct UnknownPreset(pub String);

impl FromStr for Preset {
    type Err = UnknownPreset;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "quanzhou" | "泉州" => Ok(Preset::Quanzhou),
            "province" | "fujian" | "福建" => Ok(Preset::Province),
            _ => Err(UnknownPreset(s.to_string())),
        }
    }
}

/// What can go wrong while generating.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// The embedded reference data could not be read.
    #[error("reference data {file}: {message}")]
    Reference {
        /// The reference file.
        file: &'static str,
        /// What is wrong.
        message: String,
    },
    /// Writing the files failed.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// Writing `dataset.toml` failed.
    #[error(transparent)]
    Info(#[from] info::InfoError),
}

/// What [`generate`] produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerateSummary {
    /// The preset.
    pub preset: Preset,
    /// The seed.
    pub seed: u64,
    /// Counties written (including any without towns).
    pub counties: usize,
    /// Towns.
    pub towns: usize,
    /// Villages.
    pub villages: usize,
    /// Unit cells.
    pub cells: usize,
    /// Enterprises.
    pub enterprises: usize,
    /// Major hazard sources.
    pub hazard_sources: usize,
    /// Collapse zones.
    pub collapse_zones: usize,
    /// Hidden-danger records.
    pub hidden_dangers: usize,
    /// Of which open (not closed).
    pub hidden_dangers_open: usize,
    /// The as-of date of the hidden dangers.
    pub as_of: Option<Date>,
    /// Total resident population of the cells.
    pub population: u64,
    /// Files written, in order.
    pub files: Vec<PathBuf>,
}

impl GenerateSummary {
    fn of(preset: Preset, seed: u64, ds: &Dataset, files: Vec<PathBuf>) -> Self {
        use crate::model::Level;
        let count = |l: Level| ds.units.iter().filter(|u| u.level == l).count();
        GenerateSummary {
            preset,
            seed,
            counties: count(Level::County),
            towns: count(Level::Town),
            villages: count(Level::Village),
            cells: count(Level::Cell),
            enterprises: ds.enterprises.len(),
            hazard_sources: ds.hazard_sources.len(),
            collapse_zones: ds.collapse_zones.len(),
            hidden_dangers: ds.hidden_dangers.len(),
            hidden_dangers_open: ds
                .hidden_dangers
                .iter()
                .filter(|d| d.status.is_open())
                .count(),
            as_of: None,
            population: ds
                .units
                .iter()
                .filter(|u| u.level == Level::Cell)
                .map(|u| u.population)
                .sum(),
            files,
        }
    }
}

impl fmt::Display for GenerateSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (seed {}): {} counties, {} towns, {} villages, {} cells, population {}, \
             {} enterprises, {} hazard sources, {} collapse zones, {} hidden dangers ({} open)",
            self.preset,
            self.seed,
            self.counties,
            self.towns,
            self.villages,
            self.cells,
            self.population,
            self.enterprises,
            self.hazard_sources,
            self.collapse_zones,
            self.hidden_dangers,
            self.hidden_dangers_open
        )?;
        if let Some(d) = self.as_of {
            write!(f, " as of {d}")?;
        }
        Ok(())
    }
}

/// Enterprises placed in each Quanzhou industrial area, by its id.
const QUANZHOU_CLUSTERS: &[(&str, usize)] = &[
    ("quangang-petrochem", 500),
    ("quanhui-petrochem", 200),
    ("jinjiang-chendai-footwear", 3500),
    ("jinjiang-anhai-garment", 2800),
    ("nanan-shuitou-stone", 2200),
    ("jinjiang-cizao-ceramics", 1500),
    ("shishi-textile", 3500),
    ("dehua-xunzhong-ceramics", 1800),
    ("anxi-tea-chengxiang", 1200),
    ("anxi-tea-gande-xiping", 800),
];
/// Enterprises spread with the population in Quanzhou.
const QUANZHOU_SPREAD: usize = 22_000;
/// Hazard sources in each petrochemical park.
const QUANZHOU_PARKS: &[(&str, usize)] = &[("quangang-petrochem", 45), ("quanhui-petrochem", 18)];
/// Hazard sources at depots elsewhere.
const QUANZHOU_DEPOTS: usize = 32;
/// Collapse zones in the old town and elsewhere.
const QUANZHOU_COLLAPSE: (usize, usize) = (110, 190);

/// The layers on top of a finished grid.
struct Layers {
    enterprises: EnterprisePlan,
    hazards: HazardPlan,
    collapse: CollapsePlan,
}

fn assemble(
    seed: u64,
    as_of: Date,
    grid: Grid,
    layers: &Layers,
    progress: &dyn Fn(&str),
) -> Dataset {
    let index = CellIndex::new(&grid);
    let mut enterprises = enterprises::generate(seed, &grid, &index, &layers.enterprises);
    progress(&format!("enterprises {}", enterprises.len()));
    let hazard_sources = hazards::generate(seed, &grid, &index, &enterprises, &layers.hazards);
    progress(&format!("hazard sources {}", hazard_sources.len()));
    let counties: Vec<Shape> = grid
        .counties
        .iter()
        .map(|c| Shape::new(c.geometry.clone()))
        .collect();
    let collapse_zones = collapse::generate(seed, &grid, &counties, &layers.collapse);
    progress(&format!("collapse zones {}", collapse_zones.len()));
    let hidden_dangers = dangers::generate(seed, &grid, &enterprises, as_of);
    dangers::set_open_counts(&mut enterprises, &hidden_dangers);
    progress(&format!("hidden dangers {}", hidden_dangers.len()));
    let sensor_list = sensors::sensors(&hazard_sources, &enterprises, &collapse_zones);
    let alarms = sensors::alarms(&sensor_list, as_of);
    progress(&format!(
        "sensors {}, active alarms {}",
        sensor_list.len(),
        alarms.len()
    ));
    Dataset {
        enterprises,
        hazard_sources,
        collapse_zones,
        units: grid.into_units(),
        hidden_dangers,
        has_hidden_dangers: true,
        sensors: sensor_list,
        alarms,
    }
}

fn quanzhou_dataset(
    seed: u64,
    as_of: Date,
    progress: &dyn Fn(&str),
) -> Result<Dataset, GenerateError> {
    let reference = reference::quanzhou()?;
    let grid = quanzhou::grid(seed, &reference, progress);
    let area = |id: &str| {
        reference
            .industrial_areas
            .iter()
            .find(|a| a.id == id)
            .ok_or(GenerateError::Reference {
                file: "industrial_areas.geojson",
                message: format!("no area {id}"),
            })
    };
    let mut clusters = Vec::new();
    for (id, count) in QUANZHOU_CLUSTERS {
        let a = area(id)?;
        clusters.push(Cluster {
            shape: Shape::new(a.geometry.clone()),
            category: a.category.clone(),
            count: *count,
        });
    }
    let mut parks = Vec::new();
    for (id, count) in QUANZHOU_PARKS {
        parks.push((Shape::new(area(id)?.geometry.clone()), *count));
    }
    let layers = Layers {
        enterprises: EnterprisePlan {
            clusters,
            spread: QUANZHOU_SPREAD,
        },
        hazards: HazardPlan {
            parks,
            depots: QUANZHOU_DEPOTS,
        },
        collapse: CollapsePlan {
            old_town: Some((Shape::new(reference.old_town.clone()), QUANZHOU_COLLAPSE.0)),
            urban: QUANZHOU_COLLAPSE.1,
        },
    };
    Ok(assemble(seed, as_of, grid, &layers, progress))
}

fn province_dataset(
    seed: u64,
    as_of: Date,
    progress: &dyn Fn(&str),
) -> Result<Dataset, GenerateError> {
    let outline = reference::fujian()?;
    let grid = province::grid(seed, &outline, progress);
    let layers = Layers {
        enterprises: EnterprisePlan {
            clusters: Vec::new(),
            spread: province::ENTERPRISES,
        },
        hazards: HazardPlan {
            parks: Vec::new(),
            depots: province::HAZARD_SOURCES,
        },
        collapse: CollapsePlan {
            old_town: None,
            urban: province::COLLAPSE_ZONES,
        },
    };
    Ok(assemble(seed, as_of, grid, &layers, progress))
}

/// Today in Asia/Shanghai: the default as-of date.
pub fn today() -> Date {
    let (y, m, d) = crate::risk::params::today_in_shanghai();
    Date::from_ymd(y, m, d).unwrap_or(Date::from_days(0))
}

/// Generates the dataset of `preset` from `seed`, reporting progress; its
/// hidden dangers hang on today's date ([`today`]).
pub fn generate_dataset(
    preset: Preset,
    seed: u64,
    progress: &dyn Fn(&str),
) -> Result<Dataset, GenerateError> {
    generate_dataset_as_of(preset, seed, today(), progress)
}

/// Generates the dataset of `preset` from `seed` with hidden dangers found
/// in the 12 months before `as_of`.
pub fn generate_dataset_as_of(
    preset: Preset,
    seed: u64,
    as_of: Date,
    progress: &dyn Fn(&str),
) -> Result<Dataset, GenerateError> {
    match preset {
        Preset::Quanzhou => quanzhou_dataset(seed, as_of, progress),
        Preset::Province => province_dataset(seed, as_of, progress),
    }
}

/// Generates the dataset of `preset` from `seed` and writes its six layer
/// files into `out` (created if needed) in `format`, then `dataset.toml`
/// ([`info::DatasetInfo`]) with the preset, the seed and `as_of`.
pub fn generate(
    preset: Preset,
    seed: u64,
    as_of: Date,
    out: &Path,
    format: Format,
    progress: &dyn Fn(&str),
) -> Result<GenerateSummary, GenerateError> {
    let ds = generate_dataset_as_of(preset, seed, as_of, progress)?;
    progress("writing");
    let mut files = write::write_dataset(out, &ds, format)?;
    let info = info::DatasetInfo {
        preset: preset.as_str().to_string(),
        seed,
        as_of,
    };
    files.push(info.write(out)?);
    progress(&format!("wrote {} files to {}", files.len(), out.display()));
    let mut summary = GenerateSummary::of(preset, seed, &ds, files);
    summary.as_of = Some(as_of);
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crs::metric;
    use crate::model::{GridUnit, Level};
    use geo::{Area, BooleanOps, BoundingRect, CoordsIter, Intersects, Point, Validation};
    use std::collections::BTreeMap;
    use std::sync::OnceLock;

    fn demo() -> &'static Dataset {
        static DS: OnceLock<Dataset> = OnceLock::new();
        DS.get_or_init(|| generate_dataset_as_of(Preset::Quanzhou, 42, as_of(), &|_| {}).unwrap())
    }

    fn as_of() -> Date {
        "2026-12-06".parse().unwrap()
    }

    fn by_level(ds: &Dataset, l: Level) -> Vec<&GridUnit> {
        ds.units.iter().filter(|u| u.level == l).collect()
    }

    #[test]
    fn presets_parse() {
        assert_eq!("quanzhou".parse::<Preset>().ok(), Some(Preset::Quanzhou));
        assert_eq!("Province".parse::<Preset>().ok(), Some(Preset::Province));
        assert!("mars".parse::<Preset>().is_err());
    }

    #[test]
    fn quanzhou_counts_meet_the_targets() {
        let ds = demo();
        let s = GenerateSummary::of(Preset::Quanzhou, 42, ds, vec![]);
        eprintln!("{s}");
        assert_eq!(s.counties, 12);
        assert_eq!(s.towns, 174);
        assert_eq!(s.villages, 2572);
        assert!(s.cells >= 7000, "{s}");
        assert!(s.enterprises >= 40_000, "{s}");
        assert_eq!(s.hazard_sources, 95);
        assert!(s.collapse_zones >= 200, "{s}");
        assert!(
            (7_920_000..=9_680_000).contains(&s.population),
            "population {}",
            s.population
        );
        // 金门县 has no grid.
        assert!(
            ds.units
                .iter()
                .all(|u| !u.code.starts_with("350527") || u.level == Level::County)
        );
    }

    #[test]
    fn codes_and_parents_are_consistent() {
        let ds = demo();
        let mut codes = BTreeMap::new();
        for u in &ds.units {
            assert!(
                codes.insert(u.code.clone(), u.level).is_none(),
                "duplicate {}",
                u.code
            );
            assert_eq!(u.code.len(), u.level.code_len(), "{}", u.code);
            assert!(u.code.chars().all(|c| c.is_ascii_digit()));
        }
        for u in &ds.units {
            match (u.level.parent(), &u.parent_code) {
                (Some(pl), Some(p)) => {
                    assert!(u.code.starts_with(p.as_str()));
                    assert_eq!(codes.get(p), Some(&pl), "{} parent {p}", u.code);
                }
                (None, None) => {}
                other => panic!("{}: {other:?}", u.code),
            }
        }
        // Every village has a cell, every town a village.
        for l in [Level::Town, Level::Village] {
            for u in by_level(ds, l) {
                assert!(
                    ds.units
                        .iter()
                        .any(|c| c.parent_code.as_deref() == Some(u.code.as_str())),
                    "{} has no children",
                    u.code
                );
            }
        }
    }

    fn outside_by(child: &GridUnit, parent: &GridUnit) -> f64 {
        child
            .geometry
            .coords_iter()
            .map(|c| {
                let p = Point::from(c);
                if parent.geometry.intersects(&p) {
                    0.0
                } else {
                    metric::distance_to_polygon(p, &parent.geometry).0
                }
            })
            .fold(0.0, f64::max)
    }

    #[test]
    fn cells_lie_in_villages_and_villages_in_towns() {
        use rayon::prelude::*;
        let ds = demo();
        let map: BTreeMap<&str, &GridUnit> =
            ds.units.iter().map(|u| (u.code.as_str(), u)).collect();
        let worst = ds
            .units
            .par_iter()
            .filter(|u| matches!(u.level, Level::Cell | Level::Village))
            .map(|u| {
                let parent = map[u.parent_code.as_deref().unwrap()];
                (outside_by(u, parent), u.code.clone())
            })
            .reduce(
                || (0.0, String::new()),
                |a, b| if a.0 >= b.0 { a } else { b },
            );
        assert!(worst.0 <= 1.0, "{} outside by {} m", worst.1, worst.0);
    }

    #[test]
    fn cells_do_not_overlap_and_are_valid() {
        use rayon::prelude::*;
        use rstar::{AABB, RTree, primitives::GeomWithData};
        let ds = demo();
        let cells = by_level(ds, Level::Cell);
        let boxes: Vec<_> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let r = c.geometry.bounding_rect().unwrap();
                GeomWithData::new(
                    rstar::primitives::Rectangle::from_corners(
                        [r.min().x, r.min().y],
                        [r.max().x, r.max().y],
                    ),
                    i,
                )
            })
            .collect();
        let tree = RTree::bulk_load(boxes);
        let worst = cells
            .par_iter()
            .enumerate()
            .map(|(i, a)| {
                assert!(a.geometry.is_valid(), "{} invalid", a.code);
                assert!(a.geometry.unsigned_area() > 0.0);
                let r = a.geometry.bounding_rect().unwrap();
                let env = AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]);
                let mut worst = (0.0f64, String::new());
                for b in tree.locate_in_envelope_intersecting(&env) {
                    if b.data <= i {
                        continue;
                    }
                    let other = cells[b.data];
                    let shared = metric::area(&a.geometry.intersection(&other.geometry)).0;
                    if shared > worst.0 {
                        worst = (shared, format!("{} and {}", a.code, other.code));
                    }
                }
                worst
            })
            .reduce(
                || (0.0, String::new()),
                |a, b| if a.0 >= b.0 { a } else { b },
            );
        assert!(worst.0 <= 1.0, "{} overlap by {} m²", worst.1, worst.0);
    }

    #[test]
    fn enterprises_lie_in_their_cells() {
        let ds = demo();
        let cells: BTreeMap<&str, &GridUnit> = by_level(ds, Level::Cell)
            .into_iter()
            .map(|u| (u.code.as_str(), u))
            .collect();
        for e in &ds.enterprises {
            let code = e.cell_code.as_deref().unwrap();
            assert!(
                cells[code].geometry.intersects(&e.location),
                "{} not in {code}",
                e.id
            );
            assert!(
                crate::model::uscc::is_valid(e.uscc.as_deref().unwrap()),
                "{}",
                e.id
            );
        }
        let major = ds
            .enterprises
            .iter()
            .filter(|e| e.risk_grade == crate::model::RiskLevel::Major)
            .count();
        assert!(major * 100 < ds.enterprises.len(), "{major} major");
    }

    #[test]
    fn hazard_sources_reference_chemical_enterprises() {
        let ds = demo();
        let ents: BTreeMap<&str, &crate::model::Enterprise> =
            ds.enterprises.iter().map(|e| (e.id.as_str(), e)).collect();
        for h in &ds.hazard_sources {
            let e = ents[h.enterprise_id.as_deref().unwrap()];
            assert_eq!(e.industry, crate::model::Industry::HazardousChemicals);
            let r = h.r_value.unwrap();
            assert_eq!(
                crate::model::HazardGrade::from_r_value(r),
                h.grade,
                "{}",
                h.id
            );
            let d = metric::distance_m(
                (e.location.x(), e.location.y()),
                (h.location.x(), h.location.y()),
            );
            assert!(d < 300.0, "{} is {d} m from its enterprise", h.id);
        }
    }

    #[test]
    fn collapse_zones_are_small_valid_and_on_land() {
        let ds = demo();
        let counties = by_level(ds, Level::County);
        for z in &ds.collapse_zones {
            assert!(z.geometry.is_valid(), "{}", z.id);
            let a = metric::area(&z.geometry).0;
            assert!((100.0..200_000.0).contains(&a), "{} area {a}", z.id);
            assert!(
                counties
                    .iter()
                    .any(|c| geo::Contains::contains(&c.geometry, &z.geometry))
            );
        }
    }

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let sa = generate(Preset::Quanzhou, 7, as_of(), a.path(), Format::Fgb, &|_| {}).unwrap();
        let sb = generate(Preset::Quanzhou, 7, as_of(), b.path(), Format::Fgb, &|_| {}).unwrap();
        let names: Vec<String> = sa
            .files
            .iter()
            .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "enterprises.fgb",
                "hazard_sources.fgb",
                "collapse_zones.fgb",
                "grid_cells.fgb",
                "counties.fgb",
                "hidden_dangers.fgb",
                "sensors.fgb",
                "alarms.fgb",
                "dataset.toml"
            ]
        );
        for (fa, fb) in sa.files.iter().zip(&sb.files) {
            assert_eq!(
                std::fs::read(fa).unwrap(),
                std::fs::read(fb).unwrap(),
                "{}",
                fa.display()
            );
        }
        let info = info::DatasetInfo::read(a.path()).unwrap().unwrap();
        assert_eq!(
            (info.preset.as_str(), info.seed, info.as_of),
            ("quanzhou", 7, as_of())
        );
        let demo_grid = write::dataset_tables(demo());
        let other = generate_dataset_as_of(Preset::Quanzhou, 7, as_of(), &|_| {}).unwrap();
        assert_ne!(
            demo_grid[0].features[0],
            write::dataset_tables(&other)[0].features[0]
        );
        assert_ne!(demo().hidden_dangers, other.hidden_dangers);
        // Another as-of date moves every date.
        let later =
            generate_dataset_as_of(Preset::Quanzhou, 7, as_of().add_days(30), &|_| {}).unwrap();
        assert_eq!(later.hidden_dangers.len(), other.hidden_dangers.len());
        assert_eq!(
            later.hidden_dangers[0].found_at,
            other.hidden_dangers[0].found_at.add_days(30)
        );
    }

    #[test]
    fn hidden_dangers_are_a_plausible_year() {
        use crate::model::{DangerGrade, DangerStatus};
        let ds = demo();
        let d = &ds.hidden_dangers;
        let n = d.len() as f64;
        let per_enterprise = n / ds.enterprises.len() as f64;
        assert!((0.25..0.4).contains(&per_enterprise), "{per_enterprise}");
        let closed = d
            .iter()
            .filter(|x| x.status == DangerStatus::Closed)
            .count() as f64;
        assert!(
            (0.80..0.90).contains(&(closed / n)),
            "closed share {}",
            closed / n
        );
        let overdue = d.iter().filter(|x| x.is_overdue(as_of())).count();
        assert!(
            overdue > 0 && (overdue as f64) < 0.1 * n,
            "{overdue} overdue"
        );
        let majors: Vec<_> = d.iter().filter(|x| x.grade == DangerGrade::Major).collect();
        assert!(
            !majors.is_empty() && (majors.len() as f64) < 0.1 * n,
            "{}",
            majors.len()
        );
        assert!(majors.iter().all(|x| x.deadline.is_some()));
        let standalone = d.iter().filter(|x| x.enterprise_id.is_none()).count() as f64;
        assert!(
            (0.03..0.07).contains(&(standalone / n)),
            "{}",
            standalone / n
        );
        let mut ids = BTreeMap::new();
        for x in d {
            assert!(
                ids.insert(x.id.as_str(), ()).is_none(),
                "duplicate {}",
                x.id
            );
            assert!(x.found_at <= as_of() && x.found_at > as_of().add_days(-366));
            match x.status {
                DangerStatus::Closed => {
                    let c = x.closed_at.unwrap();
                    assert!(x.found_at <= c && c <= as_of(), "{}", x.id);
                }
                _ => assert!(x.closed_at.is_none()),
            }
        }
        // Majors are more frequent among hazardous-chemicals enterprises.
        let ents: BTreeMap<&str, &crate::model::Enterprise> =
            ds.enterprises.iter().map(|e| (e.id.as_str(), e)).collect();
        let share = |chem: bool| {
            let of: Vec<_> = d
                .iter()
                .filter(|x| {
                    x.enterprise_id.as_deref().is_some_and(|e| {
                        (ents[e].industry == crate::model::Industry::HazardousChemicals) == chem
                    })
                })
                .collect();
            of.iter().filter(|x| x.grade == DangerGrade::Major).count() as f64 / of.len() as f64
        };
        assert!(
            share(true) > 2.0 * share(false),
            "{} vs {}",
            share(true),
            share(false)
        );
        // Enterprise counts agree with the open records.
        let mut open: BTreeMap<&str, (u32, u32)> = BTreeMap::new();
        for x in d.iter().filter(|x| x.status != DangerStatus::Closed) {
            if let Some(e) = x.enterprise_id.as_deref() {
                let c = open.entry(e).or_default();
                c.0 += 1;
                c.1 += u32::from(x.grade == DangerGrade::Major);
                assert_eq!(x.location, ents[e].location);
            }
        }
        for e in &ds.enterprises {
            assert_eq!(
                (e.hidden_dangers_open, e.major_hidden_dangers_open),
                open.get(e.id.as_str()).copied().unwrap_or((0, 0)),
                "{}",
                e.id
            );
        }
    }

    #[test]
    fn geojson_output_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let files = write::write_dataset(dir.path(), demo(), Format::GeoJson).unwrap();
        let names: Vec<String> = files
            .iter()
            .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "enterprises.geojson",
                "hazard_sources.geojson",
                "collapse_zones.geojson",
                "grid_cells.geojson",
                "counties.geojson",
                "hidden_dangers.geojson",
                "sensors.geojson",
                "alarms.geojson"
            ]
        );
        let text = std::fs::read_to_string(&files[1]).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["features"].as_array().unwrap().len(), 95);
        assert!(v["features"][0]["properties"]["grade"].is_i64());
    }

    #[test]
    fn province_meets_the_targets() {
        let ds = generate_dataset(Preset::Province, 1, &|m| eprintln!("{m}")).unwrap();
        let s = GenerateSummary::of(Preset::Province, 1, &ds, vec![]);
        eprintln!("{s}");
        assert!(s.enterprises >= 1_000_000, "{s}");
        assert!(s.cells >= 200_000, "{s}");
        assert!(s.hazard_sources >= 1_000, "{s}");
        assert!(s.collapse_zones >= 5_000, "{s}");
        assert!((60..=110).contains(&s.counties), "{s}");
    }
}
