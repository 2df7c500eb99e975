//! Layer and grid-level identifiers: the only names layers go by.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Every layer riskmap knows: the four input layers, and the grid levels as
/// served (tile layers, OGC collections, counts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LayerId {
    /// 生产经营单位 — points.
    Enterprises,
    /// 重大危险源 — points.
    HazardSources,
    /// 道路塌陷风险区 — polygons.
    CollapseZones,
    /// The input grid layer (towns, villages and cells in one file).
    GridCells,
    /// Optional input of real county outlines; also the served county level.
    Counties,
    /// Served town level (乡镇/街道).
    Towns,
    /// Served village level (村/社区).
    Villages,
    /// Served finest level (单元网格).
    Cells,
    /// 隐患 records — points; an optional input layer.
    HiddenDangers,
    /// 监测传感器 — points; an optional input layer.
    Sensors,
    /// 监测预警 — points; an optional input layer, changed by live writes.
    Alarms,
}

impl LayerId {
    /// The four input layers plus the optional counties, hidden_dangers,
    /// sensors and alarms files, in load order.
    pub const INPUTS: [LayerId; 8] = [
        LayerId::GridCells,
        LayerId::Counties,
        LayerId::Enterprises,
        LayerId::HazardSources,
        LayerId::CollapseZones,
        LayerId::HiddenDangers,
        LayerId::Sensors,
        LayerId::Alarms,
    ];

    /// The served layers (tile layers and OGC collections), in draw order:
    /// the contract's seven and the private `hidden_dangers`, `sensors`
    /// and `alarms`.
    pub const SERVED: [LayerId; 10] = [
        LayerId::Counties,
        LayerId::Towns,
        LayerId::Villages,
        LayerId::Cells,
        LayerId::CollapseZones,
        LayerId::HazardSources,
        LayerId::Enterprises,
        LayerId::HiddenDangers,
        LayerId::Sensors,
        LayerId::Alarms,
    ];

    /// The canonical name (file stem, tile layer, collection id).
    pub fn as_str(self) -> &'static str {
        match self {
            LayerId::Enterprises => "enterprises",
            LayerId::HazardSources => "hazard_sources",
            LayerId::CollapseZones => "collapse_zones",
            LayerId::GridCells => "grid_cells",
            LayerId::Counties => "counties",
            LayerId::Towns => "towns",
            LayerId::Villages => "villages",
            LayerId::Cells => "cells",
            LayerId::HiddenDangers => "hidden_dangers",
            LayerId::Sensors => "sensors",
            LayerId::Alarms => "alarms",
        }
    }

    /// Whether the layer needs a token to be seen (details of enterprises,
    /// hazard sources and hidden dangers are not public).
    pub fn is_private(self) -> bool {
        matches!(
            self,
            LayerId::Enterprises
                | LayerId::HazardSources
                | LayerId::HiddenDangers
                | LayerId::Sensors
                | LayerId::Alarms
        )
    }

    /// The grid level a served grid layer shows, if it is one.
    pub fn level(self) -> Option<Level> {
        match self {
            LayerId::Counties => Some(Level::County),
            LayerId::Towns => Some(Level::Town),
            LayerId::Villages => Some(Level::Village),
            LayerId::Cells => Some(Level::Cell),
            _ => None,
        }
    }

    /// Chinese display name.
    pub fn label_zh(self) -> &'static str {
        match self {
            LayerId::Enterprises => "生产经营单位",
            LayerId::HazardSources => "重大危险源",
            LayerId::CollapseZones => "道路塌陷风险区",
            LayerId::GridCells => "网格",
            LayerId::Counties => "区县",
            LayerId::Towns => "乡镇/街道",
            LayerId::Villages => "村/社区",
            LayerId::Cells => "单元网格",
            LayerId::HiddenDangers => "隐患",
            LayerId::Sensors => "监测传感器",
            LayerId::Alarms => "监测预警",
        }
    }
}

impl fmt::Display for LayerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for LayerId {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            LayerId::Enterprises,
            LayerId::HazardSources,
            LayerId::CollapseZones,
            LayerId::GridCells,
            LayerId::Counties,
            LayerId::Towns,
            LayerId::Villages,
            LayerId::Cells,
            LayerId::HiddenDangers,
            LayerId::Sensors,
            LayerId::Alarms,
        ]
        .into_iter()
        .find(|l| l.as_str() == s)
        .ok_or_else(|| UnknownName::new("layer", s))
    }
}

/// A level of the management grid, coarsest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// 区县.
    County,
    /// 乡镇/街道.
    Town,
    /// 村/社区.
    Village,
    /// 单元网格 — the finest level.
    Cell,
}

impl Level {
    /// All levels, coarsest first.
    pub const ALL: [Level; 4] = [Level::County, Level::Town, Level::Village, Level::Cell];

    /// The contract word for the level.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::County => "county",
            Level::Town => "town",
            Level::Village => "village",
            Level::Cell => "cell",
        }
    }

    /// Chinese display name.
    pub fn label_zh(self) -> &'static str {
        match self {
            Level::County => "区县",
            Level::Town => "乡镇/街道",
            Level::Village => "村/社区",
            Level::Cell => "单元网格",
        }
    }

    /// The served layer of this level.
    pub fn layer(self) -> LayerId {
        match self {
            Level::County => LayerId::Counties,
            Level::Town => LayerId::Towns,
            Level::Village => LayerId::Villages,
            Level::Cell => LayerId::Cells,
        }
    }

    /// The level one step finer, if any.
    pub fn child(self) -> Option<Level> {
        match self {
            Level::County => Some(Level::Town),
            Level::Town => Some(Level::Village),
            Level::Village => Some(Level::Cell),
            Level::Cell => None,
        }
    }

    /// The level one step coarser, if any.
    pub fn parent(self) -> Option<Level> {
        match self {
            Level::County => None,
            Level::Town => Some(Level::County),
            Level::Village => Some(Level::Town),
            Level::Cell => Some(Level::Village),
        }
    }

    /// Number of digits a code of this level has (cells: village code + 3).
    pub fn code_len(self) -> usize {
        match self {
            Level::County => 6,
            Level::Town => 9,
            Level::Village => 12,
            Level::Cell => 15,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Level {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "county" | "区县" | "区" | "县" => Ok(Level::County),
            "town" | "乡镇" | "街道" | "乡镇/街道" | "乡镇街道" => Ok(Level::Town),
            "village" | "村" | "社区" | "村/社区" | "村社区" => Ok(Level::Village),
            "cell" | "单元网格" | "网格" => Ok(Level::Cell),
            other => Err(UnknownName::new("level", other)),
        }
    }
}

/// A name that is not one of an enum's words (or their Chinese aliases).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {value:?}")]
pub struct UnknownName {
    /// What kind of name was expected.
    pub what: &'static str,
    /// The value that was given.
    pub value: String,
}

impl UnknownName {
    /// A new error for `value`, which is not a known `what`.
    pub fn new(what: &'static str, value: &str) -> Self {
        UnknownName {
            what,
            value: value.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_names_round_trip() {
        for l in LayerId::SERVED.iter().chain(LayerId::INPUTS.iter()) {
            assert_eq!(l.as_str().parse::<LayerId>().ok(), Some(*l));
        }
        assert!("roads".parse::<LayerId>().is_err());
    }

    #[test]
    fn levels_accept_chinese() {
        assert_eq!("村/社区".parse::<Level>().ok(), Some(Level::Village));
        assert_eq!("cell".parse::<Level>().ok(), Some(Level::Cell));
        assert_eq!(Level::Town.child(), Some(Level::Village));
        assert_eq!(Level::Town.parent(), Some(Level::County));
    }
}
