//! Tile-space geometries and the polygon path: project → clip → simplify.

use super::clip::{ClipBox, clip_ring};
use super::shapes::Shape;
use super::simplify::prepare_ring;
use crate::crs::mercator::TileFrame;
use geo::MultiPolygon;

/// A polygon in integer tile coordinates: rings open (no closing point),
/// exterior with positive area in tile space, holes negative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TilePolygon {
    /// The outer ring.
    pub exterior: Vec<[i32; 2]>,
    /// The holes.
    pub holes: Vec<Vec<[i32; 2]>>,
}

/// A geometry ready to encode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TileGeometry {
    /// One or more points.
    Points(Vec<[i32; 2]>),
    /// One or more polygons.
    Polygons(Vec<TilePolygon>),
}

impl TileGeometry {
    /// Whether nothing is left to draw.
    pub fn is_empty(&self) -> bool {
        match self {
            TileGeometry::Points(p) => p.is_empty(),
            TileGeometry::Polygons(p) => p.is_empty(),
        }
    }
}

/// A lon/lat multipolygon cut for one tile: every ring projected into tile
/// space, clipped to the buffered tile, simplified with `tolerance`, rounded
/// and oriented; polygons whose exterior vanishes are dropped, and so are
/// rings smaller than `min_area` tile units².
pub fn polygons_to_tile(
    mp: &MultiPolygon<f64>,
    frame: &TileFrame,
    window: ClipBox,
    tolerance: f64,
    min_area: f64,
) -> Vec<TilePolygon> {
    shape_to_tile(&Shape::project(mp), frame, window, tolerance, min_area)
}

/// [`polygons_to_tile`] for polygons already in Web Mercator metres.
pub fn shape_to_tile(
    shape: &Shape,
    frame: &TileFrame,
    window: ClipBox,
    tolerance: f64,
    min_area: f64,
) -> Vec<TilePolygon> {
    let mut out: Vec<TilePolygon> = Vec::new();
    let mut buf: Vec<[f64; 2]> = Vec::new();
    // Whether the current polygon's exterior survived (holes of a dropped
    // exterior are dropped too).
    let mut open = false;
    for (ring, exterior) in shape.rings() {
        if !exterior && !open {
            continue;
        }
        buf.clear();
        buf.extend(ring.iter().map(|p| {
            let (x, y) = frame.project_mercator(p[0], p[1]);
            [x, y]
        }));
        let clipped = clip_ring(&buf, window);
        let prepared = prepare_ring(&clipped, tolerance, min_area, exterior);
        match (prepared, exterior, out.last_mut()) {
            (Some(r), true, _) => {
                out.push(TilePolygon {
                    exterior: r,
                    holes: Vec::new(),
                });
                open = true;
            }
            (None, true, _) => open = false,
            (Some(r), false, Some(p)) => p.holes.push(r),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crs::mercator::tile_for;
    use crate::tiles::simplify::area2;
    use geo::{LineString, Polygon, polygon};

    #[test]
    fn a_polygon_with_a_hole_is_oriented_per_mvt() {
        let (x, y) = tile_for(118.6, 24.9, 12);
        let frame = TileFrame::new(12, x, y, 4096);
        // Centre the shape on the tile's centre; RFC 7946 orientation
        // (exterior counter-clockwise, hole clockwise in lon/lat).
        let (lon, lat) = frame.unproject(2048.0, 2048.0);
        let d = 0.01;
        let h = 0.003;
        let outer = polygon![
            (x: lon - d, y: lat - d), (x: lon + d, y: lat - d),
            (x: lon + d, y: lat + d), (x: lon - d, y: lat + d),
        ];
        let hole = LineString::from(vec![
            (lon - h, lat - h),
            (lon - h, lat + h),
            (lon + h, lat + h),
            (lon + h, lat - h),
            (lon - h, lat - h),
        ]);
        let p = Polygon::new(outer.exterior().clone(), vec![hole]);
        let out = polygons_to_tile(
            &MultiPolygon(vec![p]),
            &frame,
            ClipBox::buffered(4096, 64),
            1.0,
            1.0,
        );
        assert_eq!(out.len(), 1);
        assert!(area2(&out[0].exterior) > 0);
        assert_eq!(out[0].holes.len(), 1);
        assert!(area2(&out[0].holes[0]) < 0);
        // The exterior is clipped to the buffered window.
        for p in &out[0].exterior {
            assert!((-64..=4160).contains(&p[0]) && (-64..=4160).contains(&p[1]));
        }
    }

    #[test]
    fn far_away_polygon_gives_nothing() {
        let frame = TileFrame::new(12, 0, 0, 4096);
        let p = polygon![(x: 118.0, y: 24.0), (x: 118.1, y: 24.0), (x: 118.1, y: 24.1)];
        let out = polygons_to_tile(
            &MultiPolygon(vec![p]),
            &frame,
            ClipBox::buffered(4096, 64),
            1.0,
            1.0,
        );
        assert!(out.is_empty());
    }
}
