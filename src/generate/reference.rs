//! The real skeleton the generator builds on, embedded in the binary:
//! Quanzhou's county outlines, town and village codes and names, matched
//! place points, the approximate industrial areas and old town, and the
//! Fujian outline (see `data/quanzhou-reference/SOURCES.md`).

use super::GenerateError;
use geo::{Coord, LineString, MultiPolygon, Point, Polygon};
use serde_json::Value as Json;

const DISTRICTS: &str = include_str!("../../data/quanzhou-reference/districts.geojson");
const TOWNS: &str = include_str!("../../data/quanzhou-reference/towns.csv");
const VILLAGES: &str = include_str!("../../data/quanzhou-reference/villages.csv");
const PLACES: &str = include_str!("../../data/quanzhou-reference/places.csv");
const INDUSTRIAL: &str = include_str!("../../data/quanzhou-reference/industrial_areas.geojson");
const OLD_TOWN: &str = include_str!("../../data/quanzhou-reference/old_town.geojson");
const FUJIAN: &str = include_str!("../../data/quanzhou-reference/fujian.geojson");

/// A real county outline.
#[derive(Debug, Clone)]
pub struct CountyRef {
    /// 6-digit code.
    pub code: String,
    /// Name (e.g. 鲤城区).
    pub name: String,
    /// Outline, lon/lat.
    pub geometry: MultiPolygon<f64>,
}

/// Kind of a town-level unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TownKind {
    /// 街道.
    Subdistrict,
    /// 镇.
    Town,
    /// 乡.
    Township,
    /// 开发区 and other special zones.
    SpecialZone,
}

/// A real town code and name.
#[derive(Debug, Clone)]
pub struct TownRef {
    /// 9-digit code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Its county's code.
    pub county_code: String,
    /// Kind.
    pub kind: TownKind,
}

/// A real village code and name.
#[derive(Debug, Clone)]
pub struct VillageRef {
    /// 12-digit code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Its town's code.
    pub town_code: String,
    /// 社区 (urban community) rather than 村.
    pub community: bool,
}

/// A place point matched to a statistical code.
#[derive(Debug, Clone)]
pub struct PlaceRef {
    /// Location, lon/lat.
    pub point: Point<f64>,
    /// County it lies in.
    pub county_code: String,
    /// Matched code (may be empty).
    pub nbs_code: String,
    /// Kind of match, e.g. `town:same-county`, `county-or-city`.
    pub matched: String,
}

/// An approximate industrial area.
#[derive(Debug, Clone)]
pub struct AreaRef {
    /// Stable id.
    pub id: String,
    /// Chinese name.
    pub name: String,
    /// Category (`petrochemical`, `footwear`, `stone`, …).
    pub category: String,
    /// Towns it is associated with.
    pub related_town_codes: Vec<String>,
    /// Outline, lon/lat.
    pub geometry: MultiPolygon<f64>,
}

/// Everything the Quanzhou preset reads.
#[derive(Debug, Clone)]
pub struct Reference {
    /// The 12 counties, by code.
    pub counties: Vec<CountyRef>,
    /// Towns without placeholders, by code.
    pub towns: Vec<TownRef>,
    /// Villages without placeholders, by code.
    pub villages: Vec<VillageRef>,
    /// Place points.
    pub places: Vec<PlaceRef>,
    /// Industrial areas.
    pub industrial_areas: Vec<AreaRef>,
    /// The old town of Quanzhou.
    pub old_town: MultiPolygon<f64>,
}

fn bad(file: &'static str, message: impl Into<String>) -> GenerateError {
    GenerateError::Reference {
        file,
        message: message.into(),
    }
}

fn ring(file: &'static str, v: &Json) -> Result<LineString<f64>, GenerateError> {
    let coords = v
        .as_array()
        .ok_or_else(|| bad(file, "a ring is not an array"))?
        .iter()
        .map(|c| {
            let x = c.get(0).and_then(Json::as_f64);
            let y = c.get(1).and_then(Json::as_f64);
            match (x, y) {
                (Some(x), Some(y)) => Ok(Coord { x, y }),
                _ => Err(bad(file, "a position is not [lon, lat]")),
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(LineString(coords))
}

fn polygon(file: &'static str, v: &Json) -> Result<Polygon<f64>, GenerateError> {
    let rings = v
        .as_array()
        .ok_or_else(|| bad(file, "a polygon is not an array"))?;
    let mut it = rings.iter();
    let exterior = ring(file, it.next().ok_or_else(|| bad(file, "empty polygon"))?)?;
    let holes = it.map(|r| ring(file, r)).collect::<Result<Vec<_>, _>>()?;
    Ok(Polygon::new(exterior, holes))
}

fn geometry(file: &'static str, g: &Json) -> Result<MultiPolygon<f64>, GenerateError> {
    let coords = &g["coordinates"];
    match g["type"].as_str() {
        Some("Polygon") => Ok(MultiPolygon(vec![polygon(file, coords)?])),
        Some("MultiPolygon") => Ok(MultiPolygon(
            coords
                .as_array()
                .ok_or_else(|| bad(file, "bad multipolygon"))?
                .iter()
                .map(|p| polygon(file, p))
                .collect::<Result<Vec<_>, _>>()?,
        )),
        other => Err(bad(file, format!("unexpected geometry type {other:?}"))),
    }
}

/// (properties, geometry) of every feature of a GeoJSON text.
fn features(
    file: &'static str,
    text: &str,
) -> Result<Vec<(Json, MultiPolygon<f64>)>, GenerateError> {
    let doc: Json = serde_json::from_str(text).map_err(|e| bad(file, e.to_string()))?;
    doc["features"]
        .as_array()
        .ok_or_else(|| bad(file, "no features"))?
        .iter()
        .map(|f| Ok((f["properties"].clone(), geometry(file, &f["geometry"])?)))
        .collect()
}

fn prop(p: &Json, key: &str) -> String {
    p[key].as_str().unwrap_or_default().to_string()
}

fn csv_rows(file: &'static str, text: &str) -> Result<Vec<csv::StringRecord>, GenerateError> {
    csv::Reader::from_reader(text.as_bytes())
        .records()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(file, e.to_string()))
}

fn field(r: &csv::StringRecord, i: usize) -> String {
    r.get(i).unwrap_or_default().trim().to_string()
}

/// Loads the embedded Quanzhou reference data.
pub fn quanzhou() -> Result<Reference, GenerateError> {
    let mut counties: Vec<CountyRef> = features("districts.geojson", DISTRICTS)?
        .into_iter()
        .map(|(p, geometry)| CountyRef {
            code: prop(&p, "code"),
            name: prop(&p, "name"),
            geometry,
        })
        .collect();
    counties.sort_by(|a, b| a.code.cmp(&b.code));

    let mut towns = Vec::new();
    for r in csv_rows("towns.csv", TOWNS)? {
        let kind = match field(&r, 3).as_str() {
            "subdistrict" => TownKind::Subdistrict,
            "town" => TownKind::Town,
            "township" => TownKind::Township,
            "special-zone" => TownKind::SpecialZone,
            _ => continue,
        };
        towns.push(TownRef {
            code: field(&r, 0),
            name: field(&r, 1),
            county_code: field(&r, 2),
            kind,
        });
    }
    towns.sort_by(|a, b| a.code.cmp(&b.code));

    let mut villages = Vec::new();
    for r in csv_rows("villages.csv", VILLAGES)? {
        let community = match field(&r, 4).as_str() {
            "community" => true,
            "village" => false,
            _ => continue,
        };
        villages.push(VillageRef {
            code: field(&r, 0),
            name: field(&r, 1),
            town_code: field(&r, 2),
            community,
        });
    }
    villages.sort_by(|a, b| a.code.cmp(&b.code));

    let mut places = Vec::new();
    for r in csv_rows("places.csv", PLACES)? {
        let (Ok(lon), Ok(lat)) = (field(&r, 1).parse::<f64>(), field(&r, 2).parse::<f64>()) else {
            continue;
        };
        places.push(PlaceRef {
            point: Point::new(lon, lat),
            county_code: field(&r, 5),
            nbs_code: field(&r, 6),
            matched: field(&r, 8),
        });
    }

    let industrial_areas = features("industrial_areas.geojson", INDUSTRIAL)?
        .into_iter()
        .map(|(p, geometry)| AreaRef {
            id: prop(&p, "id"),
            name: prop(&p, "name"),
            category: prop(&p, "category"),
            related_town_codes: p["related_town_codes"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|c| c.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
            geometry,
        })
        .collect();

    let old_town = MultiPolygon(
        features("old_town.geojson", OLD_TOWN)?
            .into_iter()
            .flat_map(|(_, g)| g.0)
            .collect(),
    );
    if counties.len() != 12 || towns.is_empty() || villages.is_empty() {
        return Err(bad("districts.geojson", "incomplete reference data"));
    }
    Ok(Reference {
        counties,
        towns,
        villages,
        places,
        industrial_areas,
        old_town,
    })
}

/// The Fujian province outline (land only), lon/lat.
pub fn fujian() -> Result<MultiPolygon<f64>, GenerateError> {
    let outline = MultiPolygon(
        features("fujian.geojson", FUJIAN)?
            .into_iter()
            .flat_map(|(_, g)| g.0)
            .collect(),
    );
    if outline.0.is_empty() {
        return Err(bad("fujian.geojson", "no outline"));
    }
    Ok(outline)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_counts() {
        let r = quanzhou().unwrap();
        assert_eq!(r.counties.len(), 12);
        assert_eq!(r.towns.len(), 174);
        assert_eq!(r.villages.len(), 2572);
        assert_eq!(r.industrial_areas.len(), 10);
        assert!(!r.old_town.0.is_empty());
        assert!(r.places.len() > 100);
        assert!(fujian().unwrap().0.len() > 10);
    }
}
