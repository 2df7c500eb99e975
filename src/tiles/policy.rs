//! [`TilePolicy`]: extent, buffer, simplification, size limit, clustering
//! and the zoom at which each layer appears.

use crate::model::LayerId;

/// How tiles are cut. [`TilePolicy::default`] is what the server uses.
#[derive(Debug, Clone, PartialEq)]
pub struct TilePolicy {
    /// Tile units across a tile (MVT `extent`).
    pub extent: u32,
    /// Margin around the tile, in tile units, kept so that lines and
    /// symbols continue across tile edges.
    pub buffer: u32,
    /// Douglas–Peucker tolerance in tile units.
    pub tolerance: f64,
    /// Rings with a smaller area (tile units²) are dropped.
    pub min_ring_area: f64,
    /// Largest encoded tile, bytes; above it the tile is cut again with a
    /// coarser tolerance and stronger clustering.
    pub max_bytes: usize,
    /// Enterprises in one tile above which they are clustered.
    pub cluster_threshold: usize,
    /// Side of the first clustering grid, tile units (doubled until the
    /// clusters fit under the threshold).
    pub cluster_cell: u32,
    /// First zoom of the `counties` layer.
    pub counties_minzoom: u8,
    /// First zoom of the `towns` layer.
    pub towns_minzoom: u8,
    /// First zoom of the `villages` layer.
    pub villages_minzoom: u8,
    /// First zoom of the `cells` layer.
    pub cells_minzoom: u8,
    /// First zoom of the `collapse_zones` layer.
    pub collapse_zones_minzoom: u8,
    /// First zoom of the `hazard_sources` layer.
    pub hazard_sources_minzoom: u8,
    /// First zoom of the `enterprises` layer.
    pub enterprises_minzoom: u8,
    /// First zoom of the `hidden_dangers` layer (open records only).
    pub hidden_dangers_minzoom: u8,
    /// First zoom of the `sensors` layer.
    pub sensors_minzoom: u8,
    /// First zoom of the `alarms` layer (alarms not cleared): low, so a
    /// planner sees them city-wide.
    pub alarms_minzoom: u8,
    /// The `maxzoom` announced in TileJSON (clients overzoom beyond it).
    pub maxzoom: u8,
}

impl Default for TilePolicy {
    fn default() -> Self {
        TilePolicy {
            extent: 4096,
            buffer: 64,
            tolerance: 1.0,
            min_ring_area: 1.0,
            max_bytes: 500 * 1024,
            cluster_threshold: 2000,
            cluster_cell: 64,
            counties_minzoom: 0,
            towns_minzoom: 7,
            villages_minzoom: 9,
            cells_minzoom: 12,
            collapse_zones_minzoom: 10,
            hazard_sources_minzoom: 0,
            enterprises_minzoom: 0,
            hidden_dangers_minzoom: 10,
            sensors_minzoom: 12,
            alarms_minzoom: 8,
            maxzoom: 16,
        }
    }
}

impl TilePolicy {
    /// The first zoom at which `layer` is in tiles (grid input layer: never).
    pub fn minzoom(&self, layer: LayerId) -> u8 {
        match layer {
            LayerId::Counties => self.counties_minzoom,
            LayerId::Towns => self.towns_minzoom,
            LayerId::Villages => self.villages_minzoom,
            LayerId::Cells => self.cells_minzoom,
            LayerId::CollapseZones => self.collapse_zones_minzoom,
            LayerId::HazardSources => self.hazard_sources_minzoom,
            LayerId::Enterprises => self.enterprises_minzoom,
            LayerId::HiddenDangers => self.hidden_dangers_minzoom,
            LayerId::Sensors => self.sensors_minzoom,
            LayerId::Alarms => self.alarms_minzoom,
            // Not in tiles: the input grid layer.
            LayerId::GridCells => u8::MAX,
        }
    }

    /// Whether `layer` is in tiles of zoom `z`.
    pub fn shows(&self, layer: LayerId, z: u8) -> bool {
        z >= self.minzoom(layer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zoom_policy() {
        let p = TilePolicy::default();
        assert!(p.shows(LayerId::Counties, 0));
        assert!(!p.shows(LayerId::Cells, 11));
        assert!(p.shows(LayerId::Cells, 12));
        assert!(!p.shows(LayerId::Villages, 8));
        assert!(!p.shows(LayerId::GridCells, 22));
        assert!(p.shows(LayerId::Alarms, 8) && !p.shows(LayerId::Alarms, 7));
        assert!(p.shows(LayerId::Sensors, 12) && !p.shows(LayerId::Sensors, 11));
        for l in LayerId::SERVED {
            assert!(p.minzoom(l) <= p.maxzoom, "{l}");
        }
    }
}
