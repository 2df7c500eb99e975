//! Typed features from a [`Table`]: field lookup, CRS conversion and
//! per-feature checks (coordinates, geometry validity, enum words).

use super::fields::{Fields, RecordReader};
use super::issue::{IssueSink, feature_label};
use super::options::LayerConfig;
use super::table::{Record, Table};
use crate::crs::Crs;
use crate::model::columns;
use crate::model::{Alarm, AlarmLevel, Sensor, SensorKind, is_rfc3339};
use crate::model::{
    CollapseKind, CollapseZone, DangerCategory, DangerGrade, DangerSource, DangerStatus,
    Enterprise, GridUnit, HazardGrade, HazardSource, HiddenDanger, Industry, LayerId, Level,
    RiskLevel, Severity, uscc,
};
use geo::{CoordsIter, Geometry, MapCoords, MultiPolygon, Point, Validation};

/// An alarm as read, before it is linked to its sensor: without a point of
/// its own it takes the sensor's.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmRow {
    /// The alarm (its `location` is a placeholder when `located` is false).
    pub alarm: Alarm,
    /// Whether the record gave a point of its own.
    pub located: bool,
    /// The feature label for later problems (`#12 ALM-…`).
    pub label: String,
}

/// A hidden-danger record as read, before it is linked to its enterprise:
/// without a point of its own it takes the enterprise's.
#[derive(Debug, Clone, PartialEq)]
pub struct DangerRow {
    /// The record (its `location` is a placeholder when `located` is false).
    pub danger: HiddenDanger,
    /// Whether the record gave a point of its own.
    pub located: bool,
    /// The feature label for later problems (`#12 HD-…`).
    pub label: String,
}

/// Converts one table to typed features, in file order, with their 1-based
/// record positions. Features with errors are left out (the errors are in
/// the sink).
pub struct Builder<'a, 's> {
    layer: LayerId,
    config: &'a LayerConfig,
    sink: IssueSink<'s>,
}

impl<'a, 's> Builder<'a, 's> {
    /// A builder for `layer`, reporting into `sink`.
    pub fn new(layer: LayerId, config: &'a LayerConfig, sink: IssueSink<'s>) -> Self {
        Builder {
            layer,
            config,
            sink,
        }
    }

    fn each<T>(
        &mut self,
        table: &Table,
        wanted: &[&'static str],
        id_field: &str,
        mut make: impl FnMut(&mut RecordReader<'_, '_, '_>, &Record, Crs) -> Option<T>,
    ) -> Vec<T> {
        let fields = Fields::resolve(
            self.layer,
            table,
            wanted,
            &self.config.fields,
            &mut self.sink,
        );
        let mut out = Vec::with_capacity(table.records.len());
        for (index, record) in table.records.iter().enumerate() {
            let id = fields.value(&record.values, id_field).to_string();
            let mut r = RecordReader {
                fields: &fields,
                values: &record.values,
                sink: &mut self.sink,
                label: feature_label(index, Some(id.trim())),
                failed: false,
            };
            let made = make(&mut r, record, self.config.crs);
            if let Some(t) = made.filter(|_| !r.failed) {
                out.push(t);
            }
        }
        out
    }

    /// Enterprises.
    pub fn enterprises(&mut self, table: &Table) -> Vec<Enterprise> {
        self.each(
            table,
            &columns::read_names(LayerId::Enterprises),
            "id",
            |r, rec, crs| {
                let location = point(r, rec, crs);
                let uscc = r.text("uscc");
                if let Some(code) = &uscc
                    && !uscc::is_valid(code)
                {
                    r.warn(
                        "uscc",
                        format!("{code:?} is not a valid 统一社会信用代码 (check digit)"),
                    );
                }
                Some(Enterprise {
                    id: r.required_text("id")?,
                    name: r.required_text("name")?,
                    uscc,
                    industry: r.word::<Industry>("industry")?,
                    risk_grade: r.word::<RiskLevel>("risk_grade")?,
                    employees: r.count_u32("employees"),
                    hidden_dangers_open: r.count_u32("hidden_dangers_open"),
                    major_hidden_dangers_open: r.count_u32("major_hidden_dangers_open"),
                    blacklisted: r.flag("blacklisted"),
                    cell_code: r.text("cell_code"),
                    location: location?,
                })
            },
        )
    }

    /// Major hazard sources.
    pub fn hazard_sources(&mut self, table: &Table) -> Vec<HazardSource> {
        self.each(
            table,
            &columns::read_names(LayerId::HazardSources),
            "id",
            |r, rec, crs| {
                let location = point(r, rec, crs);
                let r_value = r.number("r_value");
                if let Some(v) = r_value
                    && v < 0.0
                {
                    r.error("r_value", format!("R must be ≥ 0, found {v}"));
                }
                let grade = match (r.text("grade"), r_value) {
                    (Some(g), _) => match g.parse::<HazardGrade>() {
                        Ok(g) => Some(g),
                        Err(e) => {
                            r.error("grade", e.to_string());
                            None
                        }
                    },
                    (None, Some(v)) => Some(HazardGrade::from_r_value(v)),
                    (None, None) => {
                        r.error(
                            "grade",
                            "required field is missing (and there is no r_value to derive it from)",
                        );
                        None
                    }
                };
                Some(HazardSource {
                    id: r.required_text("id")?,
                    name: r.required_text("name")?,
                    enterprise_id: r.text("enterprise_id"),
                    grade: grade?,
                    r_value,
                    substances: r.text("substances").unwrap_or_default(),
                    monitored: r.flag("monitored"),
                    supervisor: r.text("supervisor"),
                    location: location?,
                })
            },
        )
    }

    /// Collapse zones.
    pub fn collapse_zones(&mut self, table: &Table) -> Vec<CollapseZone> {
        self.each(
            table,
            &columns::read_names(LayerId::CollapseZones),
            "id",
            |r, rec, crs| {
                let geometry = polygons(r, rec, crs);
                let severity = match r.count("severity") {
                    Some(s) => match u8::try_from(s).ok().and_then(Severity::new) {
                        Some(s) => Some(s),
                        None => {
                            r.error("severity", format!("expected 1, 2 or 3, found {s}"));
                            None
                        }
                    },
                    None => {
                        r.error("severity", "required field is missing");
                        None
                    }
                };
                Some(CollapseZone {
                    id: r.required_text("id")?,
                    kind: r.word::<CollapseKind>("kind")?,
                    severity: severity?,
                    surveyed: r.text("surveyed"),
                    geometry: geometry?,
                })
            },
        )
    }

    /// Hidden-danger records, not yet linked to their enterprises (see
    /// [`DangerRow`]). Checks the words, the dates and their order, a
    /// major danger's deadline and that `closed_at` goes with `closed`.
    pub fn hidden_dangers(&mut self, table: &Table) -> Vec<DangerRow> {
        self.each(
            table,
            &columns::read_names(LayerId::HiddenDangers),
            "id",
            |r, rec, crs| {
                let location = optional_point(r, rec, crs);
                let enterprise_id = r.text("enterprise_id");
                let found_at = r.date("found_at");
                if r.text("found_at").is_none() {
                    r.required_text("found_at");
                }
                let deadline = r.date("deadline");
                let closed_at = r.date("closed_at");
                let grade = r.word::<DangerGrade>("grade");
                let status = r.word::<DangerStatus>("status");
                if grade == Some(DangerGrade::Major)
                    && deadline.is_none()
                    && r.text("deadline").is_none()
                {
                    r.error(
                        "deadline",
                        "a major danger (重大隐患) needs a deadline (整改时限)",
                    );
                }
                match (status, closed_at) {
                    (Some(s), Some(_)) if s != DangerStatus::Closed => r.error(
                        "closed_at",
                        format!("set, but the status is {s}: only a closed danger has a closed_at"),
                    ),
                    (Some(DangerStatus::Closed), None) if r.text("closed_at").is_none() => r.warn(
                        "closed_at",
                        "the danger is closed but has no closed_at date",
                    ),
                    _ => {}
                }
                if let (Some(f), Some(c)) = (found_at, closed_at)
                    && c < f
                {
                    r.error("closed_at", format!("{c} is before found_at {f}"));
                }
                if let (Some(f), Some(d)) = (found_at, deadline)
                    && d < f
                {
                    r.warn("deadline", format!("{d} is before found_at {f}"));
                }
                let description = r.text("description").unwrap_or_else(|| {
                    r.warn("description", "no description of the danger");
                    String::new()
                });
                let location = location?;
                if location.is_none() && enterprise_id.is_none() && !r.failed {
                    r.error(
                        "lon",
                        "no point (geometry or lon/lat) and no enterprise_id to take one from",
                    );
                }
                let label = r.label.clone();
                Some(DangerRow {
                    danger: HiddenDanger {
                        id: r.required_text("id")?,
                        enterprise_id,
                        category: r.word::<DangerCategory>("category")?,
                        grade: grade?,
                        description,
                        source: r.word::<DangerSource>("source")?,
                        found_at: found_at?,
                        deadline,
                        responsible: r.text("responsible"),
                        status: status?,
                        closed_at,
                        location: location.unwrap_or(Point::new(0.0, 0.0)),
                    },
                    located: location.is_some(),
                    label,
                })
            },
        )
    }

    /// Monitoring sensors.
    pub fn sensors(&mut self, table: &Table) -> Vec<Sensor> {
        self.each(
            table,
            &columns::read_names(LayerId::Sensors),
            "id",
            |r, rec, crs| {
                let location = point(r, rec, crs);
                Some(Sensor {
                    id: r.required_text("id")?,
                    kind: r.word::<SensorKind>("kind")?,
                    watches: r.text("watches"),
                    location: location?,
                })
            },
        )
    }

    /// Alarms, not yet linked to their sensors (see [`AlarmRow`]). Checks
    /// the level, the numbers and the timestamps.
    pub fn alarms(&mut self, table: &Table) -> Vec<AlarmRow> {
        self.each(
            table,
            &columns::read_names(LayerId::Alarms),
            "id",
            |r, rec, crs| {
                let location = optional_point(r, rec, crs);
                let level = match r.text("level") {
                    None => {
                        r.required_text("level");
                        None
                    }
                    Some(t) => match t.parse::<AlarmLevel>() {
                        Ok(l) => Some(l),
                        Err(e) => {
                            r.error("level", e.to_string());
                            None
                        }
                    },
                };
                let time = |r: &mut RecordReader<'_, '_, '_>, field: &str| {
                    let t = r.text(field)?;
                    if is_rfc3339(&t) {
                        Some(t)
                    } else {
                        r.error(
                            field,
                            format!("{t:?} is not an RFC 3339 time (2026-12-06T08:00:00+08:00)"),
                        );
                        None
                    }
                };
                let started_at = time(r, "started_at");
                if r.text("started_at").is_none() {
                    r.required_text("started_at");
                }
                let acknowledged_at = time(r, "acknowledged_at");
                let cleared_at = time(r, "cleared_at");
                let value = r.number("value");
                let threshold = r.number("threshold");
                let sensor_id = r.text("sensor_id");
                let location = location?;
                if location.is_none() && sensor_id.is_none() && !r.failed {
                    r.error(
                        "lon",
                        "no point (geometry or lon/lat) and no sensor_id to take one from",
                    );
                }
                let label = r.label.clone();
                Some(AlarmRow {
                    alarm: Alarm {
                        id: r.required_text("id")?,
                        sensor_id,
                        kind: None,
                        level: level?,
                        value,
                        threshold,
                        started_at: started_at?,
                        acknowledged_at,
                        cleared_at,
                        hidden_danger_id: r.text("hidden_danger_id"),
                        location: location.unwrap_or(Point::new(0.0, 0.0)),
                    },
                    located: location.is_some(),
                    label,
                })
            },
        )
    }

    /// Grid units from the `grid_cells` layer (towns, villages, cells).
    pub fn grid_units(&mut self, table: &Table) -> Vec<GridUnit> {
        self.each(
            table,
            &columns::read_names(LayerId::GridCells),
            "code",
            |r, rec, crs| {
                let geometry = polygons(r, rec, crs);
                let level = r.word::<Level>("level");
                if level == Some(Level::County) {
                    r.error("level", "counties belong in the counties file");
                }
                let code = code(r, "code");
                let parent_code = code_opt(r, "parent_code");
                if parent_code.is_none() {
                    r.error("parent_code", "required field is missing");
                }
                Some(GridUnit {
                    code: code?,
                    name: r.required_text("name")?,
                    level: level?,
                    parent_code,
                    population: r.count("population").unwrap_or(0),
                    manager: r.text("manager"),
                    geometry: geometry?,
                })
            },
        )
    }

    /// Counties from the optional counties file.
    pub fn counties(&mut self, table: &Table) -> Vec<GridUnit> {
        self.each(
            table,
            &columns::read_names(LayerId::Counties),
            "code",
            |r, rec, crs| {
                let geometry = polygons(r, rec, crs);
                let code = code(r, "code");
                if let Some(c) = &code
                    && c.len() != 6
                {
                    r.error("code", format!("a county code has 6 digits, found {c:?}"));
                }
                Some(GridUnit {
                    code: code?,
                    name: r.required_text("name")?,
                    level: Level::County,
                    parent_code: None,
                    population: r.count("population").unwrap_or(0),
                    manager: None,
                    geometry: geometry?,
                })
            },
        )
    }
}

fn code_opt(r: &mut RecordReader<'_, '_, '_>, field: &str) -> Option<String> {
    let c = r.text(field)?;
    if !(6..=15).contains(&c.len()) || !c.bytes().all(|b| b.is_ascii_digit()) {
        r.error(field, format!("a code is 6–15 digits, found {c:?}"));
        return None;
    }
    Some(c)
}

fn code(r: &mut RecordReader<'_, '_, '_>, field: &str) -> Option<String> {
    if r.text(field).is_none() {
        r.required_text(field);
        return None;
    }
    code_opt(r, field)
}

fn check_lon_lat(r: &mut RecordReader<'_, '_, '_>, lon: f64, lat: f64) -> bool {
    let mut ok = true;
    if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
        r.error("lon", format!("longitude {lon} is outside [-180, 180]"));
        ok = false;
    }
    if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
        r.error("lat", format!("latitude {lat} is outside [-90, 90]"));
        ok = false;
    }
    ok
}

/// A point from the record's geometry or from its `lon`/`lat` fields,
/// converted to WGS84.
fn point(r: &mut RecordReader<'_, '_, '_>, rec: &Record, crs: Crs) -> Option<Point<f64>> {
    let (x, y) = match &rec.geometry {
        Some(Geometry::Point(p)) => (p.x(), p.y()),
        Some(other) => {
            r.error(
                "geometry",
                format!("expected a point, found {}", kind_name(other)),
            );
            return None;
        }
        None => {
            let lon = r.number("lon");
            let lat = r.number("lat");
            match (lon, lat) {
                (Some(x), Some(y)) => (x, y),
                _ => {
                    if !r.failed {
                        r.error("lon", "no geometry and no lon/lat (经度/纬度) values");
                    }
                    return None;
                }
            }
        }
    };
    if !x.is_finite() || !y.is_finite() {
        r.error("geometry", "coordinates are not finite");
        return None;
    }
    if crs != Crs::WebMercator && !check_lon_lat(r, x, y) {
        return None;
    }
    let (lon, lat) = crs.to_wgs84(x, y);
    check_lon_lat(r, lon, lat).then(|| Point::new(lon, lat))
}

/// A point as [`point`] reads it, or `Some(None)` when the record has no
/// geometry and blank `lon`/`lat` (a record that takes its enterprise's
/// point); `None` after an error.
fn optional_point(
    r: &mut RecordReader<'_, '_, '_>,
    rec: &Record,
    crs: Crs,
) -> Option<Option<Point<f64>>> {
    if rec.geometry.is_none() && r.text("lon").is_none() && r.text("lat").is_none() {
        return Some(None);
    }
    point(r, rec, crs).map(Some)
}

fn kind_name(g: &Geometry<f64>) -> &'static str {
    match g {
        Geometry::Point(_) => "Point",
        Geometry::Line(_) => "Line",
        Geometry::LineString(_) => "LineString",
        Geometry::Polygon(_) => "Polygon",
        Geometry::MultiPoint(_) => "MultiPoint",
        Geometry::MultiLineString(_) => "MultiLineString",
        Geometry::MultiPolygon(_) => "MultiPolygon",
        Geometry::GeometryCollection(_) => "GeometryCollection",
        Geometry::Rect(_) => "Rect",
        Geometry::Triangle(_) => "Triangle",
    }
}

/// A valid multipolygon in WGS84 from the record's geometry.
fn polygons(r: &mut RecordReader<'_, '_, '_>, rec: &Record, crs: Crs) -> Option<MultiPolygon<f64>> {
    let mp = match &rec.geometry {
        Some(Geometry::Polygon(p)) => MultiPolygon(vec![p.clone()]),
        Some(Geometry::MultiPolygon(mp)) => mp.clone(),
        Some(other) => {
            r.error(
                "geometry",
                format!("expected a polygon, found {}", kind_name(other)),
            );
            return None;
        }
        None => {
            if !r.failed {
                r.error("geometry", "the feature has no geometry");
            }
            return None;
        }
    };
    if mp.0.is_empty() {
        r.error("geometry", "the multipolygon is empty");
        return None;
    }
    if let Some(c) = mp
        .coords_iter()
        .find(|c| !c.x.is_finite() || !c.y.is_finite())
    {
        r.error(
            "geometry",
            format!("non-finite coordinate ({}, {})", c.x, c.y),
        );
        return None;
    }
    let mp = if crs == Crs::Wgs84 || crs == Crs::Cgcs2000 {
        mp
    } else {
        mp.map_coords(|c| {
            let (x, y) = crs.to_wgs84(c.x, c.y);
            geo::Coord { x, y }
        })
    };
    if let Some(c) = mp
        .coords_iter()
        .find(|c| !(-180.0..=180.0).contains(&c.x) || !(-90.0..=90.0).contains(&c.y))
    {
        r.error(
            "geometry",
            format!(
                "coordinate ({}, {}) is outside lon [-180, 180] / lat [-90, 90]",
                c.x, c.y
            ),
        );
        return None;
    }
    if let Some(ring) =
        mp.0.iter()
            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
            .find(|ring| ring.0.len() < 4)
    {
        r.error(
            "geometry",
            format!("a ring has {} points; at least 4 are needed", ring.0.len()),
        );
        return None;
    }
    if let Err(e) = mp.check_validation() {
        r.error("geometry", format!("invalid polygon: {e}"));
        return None;
    }
    Some(mp)
}
