//! From a layer's own CRS to lon/lat with GDAL/PROJ.
//!
//! Projected layers (CGCS2000 Gauss–Krüger EPSG:4527/4528 with the zone in
//! the easting, 4548/4549 without, UTM, Web Mercator, …) are converted to
//! CGCS2000 lon/lat (EPSG:4490) when their datum is CGCS2000 (no datum
//! shift), else to WGS84 (EPSG:4326). Both ends use the traditional GIS axis
//! order (x = easting/longitude), whatever the CRS's official axis order.

use super::ReadOptions;
use crate::crs::Crs;
use crate::ingest::issue::{Issue, IssueLevel, IssueSink};
use gdal::errors::GdalError;
use gdal::spatial_ref::{AxisMappingStrategy, CoordTransform, SpatialRef};

/// The conversion a layer's geometry needs.
pub(super) struct Reprojection {
    /// GDAL's transformation.
    pub transform: CoordTransform,
    /// The lon/lat CRS the geometry ends in.
    pub target: Crs,
    /// The source CRS, for messages (`EPSG:4527`).
    pub from: String,
}

fn label(srs: &SpatialRef) -> String {
    match (srs.auth_name(), srs.auth_code()) {
        (Some(a), Ok(c)) => format!("{a}:{c}"),
        _ => srs.name().unwrap_or_else(|| "an unnamed CRS".into()),
    }
}

fn lon_lat(epsg: u32) -> Result<SpatialRef, GdalError> {
    let mut srs = SpatialRef::from_epsg(epsg)?;
    srs.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    Ok(srs)
}

/// Whether the geographic CRS of `srs` is EPSG:`epsg` (by code, by PROJ's
/// equivalence, or by datum name as ESRI `.prj` files spell it).
fn same_datum(srs: &SpatialRef, epsg: u32, names: &[&str]) -> bool {
    let Ok(geog) = srs.geog_cs() else {
        return false;
    };
    if geog.auth_code().ok() == i32::try_from(epsg).ok() {
        return true;
    }
    if SpatialRef::from_epsg(epsg).is_ok_and(|e| e == geog) {
        return true;
    }
    let datum = geog
        .get_attr_value("DATUM", 0)
        .ok()
        .flatten()
        .unwrap_or_default()
        .to_ascii_lowercase()
        .replace([' ', '_'], "");
    names.iter().any(|n| datum.contains(n))
}

/// The conversion the layer's geometry needs, if any: none without a CRS
/// and for WGS84/CGCS2000 lon/lat, which are left to the configured `crs`
/// (a GCJ-02 file labelled WGS84 is common).
pub(super) fn plan(
    srs: Option<SpatialRef>,
    file: &str,
    opts: &ReadOptions<'_>,
    sink: &mut IssueSink<'_>,
) -> Result<Option<Reprojection>, Issue> {
    let Some(mut srs) = srs else {
        return Ok(None);
    };
    srs.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    let cgcs = same_datum(
        &srs,
        4490,
        &["china2000", "chinageodeticcoordinatesystem2000"],
    );
    let wgs = same_datum(&srs, 4326, &["wgs1984", "worldgeodeticsystem1984"]);
    if srs.is_geographic() && (cgcs || wgs) {
        return Ok(None);
    }
    let from = label(&srs);
    let (epsg, target) = if cgcs {
        (4490, Crs::Cgcs2000)
    } else {
        (4326, Crs::Wgs84)
    };
    let bad = |e: GdalError| {
        Issue::file_error(
            file,
            format!("cannot convert from its CRS {from} to lon/lat: {e}"),
        )
    };
    let dst = lon_lat(epsg).map_err(bad)?;
    let transform = CoordTransform::new(&srs, &dst).map_err(bad)?;
    let declared_matches = matches!(opts.declared, Crs::Wgs84 | Crs::Cgcs2000)
        || (opts.declared == Crs::WebMercator && srs.auth_code().ok() == Some(3857));
    if !declared_matches {
        sink.push(
            IssueLevel::Warning,
            None,
            None,
            format!(
                "the file declares its CRS ({from}) and is converted from it; {}.crs = {} is not applied",
                opts.config_key.unwrap_or("the layer's"),
                opts.declared
            ),
        );
    }
    Ok(Some(Reprojection {
        transform,
        target,
        from,
    }))
}
