//! Hand-built datasets for the risk tests.

use crate::model::{
    CollapseKind, CollapseZone, Enterprise, GridUnit, HazardGrade, HazardSource, Industry, Level,
    RiskLevel, Severity,
};
use geo::{MultiPolygon, Point, polygon};

/// Longitude of the fixtures' south-west corner.
pub const X0: f64 = 118.0;
/// Latitude of the fixtures' south-west corner.
pub const Y0: f64 = 25.0;
/// Side of a 4 × 4 grid cell, degrees.
pub const SIDE: f64 = 0.005;

/// An axis-aligned lon/lat rectangle.
pub fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> MultiPolygon<f64> {
    MultiPolygon(vec![polygon![
        (x: x0, y: y0), (x: x1, y: y0), (x: x1, y: y1), (x: x0, y: y1)
    ]])
}

/// A grid unit.
pub fn unit(
    code: &str,
    level: Level,
    parent: Option<&str>,
    geometry: MultiPolygon<f64>,
    population: u64,
) -> GridUnit {
    GridUnit {
        code: code.into(),
        name: format!("单元{code}"),
        level,
        parent_code: parent.map(Into::into),
        population,
        manager: None,
        geometry,
    }
}

/// One county, town and village holding the given cells (geometry,
/// population); the parents' outline is the cells' bounding box.
pub fn one_village(cells: &[(MultiPolygon<f64>, u64)]) -> Vec<GridUnit> {
    use geo::BoundingRect;
    let mut units = Vec::new();
    let mut bounds: Option<geo::Rect<f64>> = None;
    let mut total = 0;
    for (i, (g, pop)) in cells.iter().enumerate() {
        let r = g.bounding_rect();
        bounds = match (bounds, r) {
            (Some(a), Some(b)) => Some(geo::Rect::new(
                (a.min().x.min(b.min().x), a.min().y.min(b.min().y)),
                (a.max().x.max(b.max().x), a.max().y.max(b.max().y)),
            )),
            (a, b) => a.or(b),
        };
        total += pop;
        units.push(unit(
            &format!("350502001001{:03}", i + 1),
            Level::Cell,
            Some("350502001001"),
            g.clone(),
            *pop,
        ));
    }
    let b = bounds.unwrap_or(geo::Rect::new((X0, Y0), (X0, Y0)));
    let outline = rect(b.min().x, b.min().y, b.max().x, b.max().y);
    units.push(unit(
        "350502001001",
        Level::Village,
        Some("350502001"),
        outline.clone(),
        total,
    ));
    units.push(unit(
        "350502001",
        Level::Town,
        Some("350502"),
        outline.clone(),
        total,
    ));
    units.push(unit("350502", Level::County, None, outline, total));
    units
}

/// A 4 × 4 grid of cells from (X0, Y0): one county, two towns (west, east),
/// each with two villages (south, north) of 2 × 2 cells. Populations include
/// zeros and ties.
pub fn grid4x4() -> Vec<GridUnit> {
    let mut units = vec![unit(
        "350502",
        Level::County,
        None,
        rect(X0, Y0, X0 + 4.0 * SIDE, Y0 + 4.0 * SIDE),
        0,
    )];
    for t in 0..2 {
        let town = format!("350502{:03}", t + 1);
        let tx = X0 + 2.0 * SIDE * t as f64;
        units.push(unit(
            &town,
            Level::Town,
            Some("350502"),
            rect(tx, Y0, tx + 2.0 * SIDE, Y0 + 4.0 * SIDE),
            0,
        ));
        for v in 0..2 {
            let village = format!("{town}{:03}", v + 1);
            let vy = Y0 + 2.0 * SIDE * v as f64;
            units.push(unit(
                &village,
                Level::Village,
                Some(&town),
                rect(tx, vy, tx + 2.0 * SIDE, vy + 2.0 * SIDE),
                0,
            ));
            for c in 0..4 {
                let (i, j) = (2 * t + c % 2, 2 * v + c / 2);
                let (x, y) = (X0 + SIDE * i as f64, Y0 + SIDE * j as f64);
                let pop = ((i * 7 + j * 3) % 5) as u64 * 100;
                units.push(unit(
                    &format!("{village}{:03}", c + 1),
                    Level::Cell,
                    Some(&village),
                    rect(x, y, x + SIDE, y + SIDE),
                    pop,
                ));
            }
        }
    }
    let cells: Vec<(String, u64)> = units
        .iter()
        .filter(|u| u.level == Level::Cell)
        .map(|u| (u.code.clone(), u.population))
        .collect();
    for u in units.iter_mut().filter(|u| u.level != Level::Cell) {
        u.population = cells
            .iter()
            .filter(|(code, _)| code.starts_with(&u.code))
            .map(|(_, p)| p)
            .sum();
    }
    units
}

/// An enterprise of weight 1 × grade weight (general manufacturing, no
/// dangers, no employees).
pub fn enterprise(id: &str, x: f64, y: f64, industry: Industry, grade: RiskLevel) -> Enterprise {
    Enterprise {
        id: id.into(),
        name: format!("{id}公司"),
        uscc: None,
        industry,
        risk_grade: grade,
        employees: 0,
        hidden_dangers_open: 0,
        major_hidden_dangers_open: 0,
        blacklisted: false,
        cell_code: None,
        location: Point::new(x, y),
    }
}

/// A sensor of `kind` at (x, y) watching `watches`.
pub fn sensor(id: &str, watches: Option<&str>, x: f64, y: f64) -> crate::model::Sensor {
    crate::model::Sensor {
        id: id.into(),
        kind: crate::model::SensorKind::Gas,
        watches: watches.map(str::to_string),
        location: Point::new(x, y),
    }
}

/// An unacknowledged alarm of `level` from `sensor` at (x, y).
pub fn alarm(id: &str, sensor: Option<&str>, level: u8, x: f64, y: f64) -> crate::model::Alarm {
    crate::model::Alarm {
        id: id.into(),
        sensor_id: sensor.map(str::to_string),
        kind: sensor.map(|_| crate::model::SensorKind::Gas),
        level: crate::model::AlarmLevel::clamped(level),
        value: Some(25.0),
        threshold: Some(20.0),
        started_at: "2026-06-15T08:00:00+08:00".into(),
        acknowledged_at: None,
        cleared_at: None,
        hidden_danger_id: None,
        location: Point::new(x, y),
    }
}

/// A hazard source of `grade`, `monitored` or not, at (x, y).
pub fn hazard(id: &str, grade: u8, monitored: bool, x: f64, y: f64) -> HazardSource {
    HazardSource {
        id: id.into(),
        name: format!("{id}储罐区"),
        enterprise_id: None,
        grade: HazardGrade::new(grade).unwrap(),
        r_value: None,
        substances: "液化石油气".into(),
        monitored,
        supervisor: None,
        location: Point::new(x, y),
    }
}

/// A collapse zone.
pub fn zone(
    id: &str,
    kind: CollapseKind,
    severity: u8,
    geometry: MultiPolygon<f64>,
) -> CollapseZone {
    CollapseZone {
        id: id.into(),
        kind,
        severity: Severity::new(severity).unwrap(),
        surveyed: None,
        geometry,
    }
}

/// Proptest strategies for features around the 4 × 4 grid.
pub mod arb {
    use super::*;
    use crate::model::Dataset;
    use proptest::prelude::*;

    prop_compose! {
        /// An enterprise in or near the grid (its id is set by the caller).
        pub fn enterprise()(
            x in 117.998..118.022f64, y in 24.998..25.022f64,
            industry in 0..Industry::ALL.len(), grade in 0..RiskLevel::ALL.len(),
            hidden in 0u32..15, major in 0u32..2, blacklisted in any::<bool>(), employees in 0u32..2000,
        ) -> Enterprise {
            let mut e = super::enterprise("", x, y, Industry::ALL[industry], RiskLevel::ALL[grade]);
            e.hidden_dangers_open = hidden;
            e.major_hidden_dangers_open = major;
            e.blacklisted = blacklisted;
            e.employees = employees;
            e
        }
    }

    prop_compose! {
        /// A hazard source within a few kilometres of the grid.
        pub fn hazard()(
            x in 117.97..118.05f64, y in 24.97..25.05f64, grade in 1u8..=4, monitored in any::<bool>(),
        ) -> HazardSource {
            super::hazard("", grade, monitored, x, y)
        }
    }

    prop_compose! {
        /// A rectangular collapse zone over part of the grid.
        pub fn zone()(
            x in 117.996..118.02f64, y in 24.996..25.02f64, w in 0.0005..0.012f64, h in 0.0005..0.012f64,
            kind in 0..CollapseKind::ALL.len(), severity in 1u8..=3,
        ) -> CollapseZone {
            super::zone("", CollapseKind::ALL[kind], severity, rect(x, y, x + w, y + h))
        }
    }

    /// Gives every feature a unique id by layer and position.
    pub fn name_features(ds: &mut Dataset) {
        for (i, e) in ds.enterprises.iter_mut().enumerate() {
            e.id = format!("E-{i:03}");
            e.name = format!("企业{i}");
        }
        for (i, h) in ds.hazard_sources.iter_mut().enumerate() {
            h.id = format!("HS-{i:04}");
        }
        for (i, z) in ds.collapse_zones.iter_mut().enumerate() {
            z.id = format!("CZ-{i:03}");
        }
    }

    prop_compose! {
        /// The 4 × 4 grid with random features.
        pub fn dataset()(
            enterprises in prop::collection::vec(enterprise(), 0..20),
            hazard_sources in prop::collection::vec(hazard(), 0..5),
            collapse_zones in prop::collection::vec(zone(), 0..5),
        ) -> Dataset {
            let mut ds = Dataset { enterprises, hazard_sources, collapse_zones, units: grid4x4(), ..Dataset::default() };
            name_features(&mut ds);
            ds
        }
    }
}
