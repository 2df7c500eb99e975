//! Attribute enums with their contract words and Chinese aliases.

use super::layer::UnknownName;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Declares an enum whose values have a contract word, a Chinese label and
/// extra input aliases.
macro_rules! word_enum {
    (
        $(#[$meta:meta])* $name:ident, $what:literal {
            $( $(#[$vmeta:meta])* $variant:ident => $word:literal, $zh:literal $(, $alias:literal)* ; )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[ $( $name::$variant, )+ ];

            /// Position in [`Self::ALL`] (declaration order).
            pub fn index(self) -> usize {
                self as usize
            }

            /// The contract word.
            pub fn as_str(self) -> &'static str {
                match self { $( $name::$variant => $word, )+ }
            }

            /// The Chinese label.
            pub fn label_zh(self) -> &'static str {
                match self { $( $name::$variant => $zh, )+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownName;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let t = s.trim();
                $(
                    if t.eq_ignore_ascii_case($word) || t == $zh $(|| t == $alias)* {
                        return Ok($name::$variant);
                    }
                )+
                Err(UnknownName::new($what, s))
            }
        }
    };
}

word_enum! {
    /// Industry of an enterprise (行业类别).
    Industry, "industry" {
        /// 危险化学品
        HazardousChemicals => "hazardous_chemicals", "危险化学品", "危化品", "危化";
        /// 烟花爆竹
        Fireworks => "fireworks", "烟花爆竹";
        /// 矿山
        Mining => "mining", "矿山", "非煤矿山";
        /// 冶金
        Metallurgy => "metallurgy", "冶金";
        /// 有色
        Nonferrous => "nonferrous", "有色", "有色金属";
        /// 粉尘涉爆
        DustExplosion => "dust_explosion", "粉尘涉爆";
        /// 涉氨制冷
        AmmoniaRefrigeration => "ammonia_refrigeration", "涉氨制冷";
        /// 有限空间
        ConfinedSpace => "confined_space", "有限空间";
        /// 燃气
        Gas => "gas", "燃气";
        /// 建筑施工
        Construction => "construction", "建筑施工";
        /// 人员密集场所
        CrowdedPlace => "crowded_place", "人员密集场所";
        /// 仓储物流
        Warehousing => "warehousing", "仓储物流";
        /// 一般工贸
        GeneralManufacturing => "general_manufacturing", "一般工贸";
    }
}

word_enum! {
    /// A graded risk: an enterprise's own grade, and a grid unit's level
    /// (重大/较大/一般/低).
    RiskLevel, "risk level" {
        /// 重大 (red)
        Major => "major", "重大", "重大风险", "红";
        /// 较大 (orange)
        High => "high", "较大", "较大风险", "橙";
        /// 一般 (yellow)
        Medium => "medium", "一般", "一般风险", "黄";
        /// 低 (blue)
        Low => "low", "低", "低风险", "蓝";
    }
}

impl RiskLevel {
    /// The map colour of the level.
    pub fn color(self) -> &'static str {
        match self {
            RiskLevel::Major => "#d7191c",
            RiskLevel::High => "#fd8d3c",
            RiskLevel::Medium => "#fecc5c",
            RiskLevel::Low => "#2c7bb6",
        }
    }

    /// Rank, 3 for major down to 0 for low (for "max grade" reductions).
    pub fn rank(self) -> u8 {
        match self {
            RiskLevel::Major => 3,
            RiskLevel::High => 2,
            RiskLevel::Medium => 1,
            RiskLevel::Low => 0,
        }
    }
}

word_enum! {
    /// Cause of a road-collapse risk zone.
    CollapseKind, "collapse kind" {
        /// 湿陷性黄土
        Loess => "loess", "湿陷性黄土", "黄土";
        /// 地下工程施工影响
        UndergroundWorks => "underground_works", "地下工程施工影响", "地下工程", "地下工程施工";
        /// 老旧管网集中
        OldPipes => "old_pipes", "老旧管网集中", "老旧管网";
        /// 地下人防工程影响
        CivilDefense => "civil_defense", "地下人防工程影响", "人防工程", "地下人防工程";
        /// 探地雷达发现空洞
        Cavity => "cavity", "探地雷达发现空洞", "空洞", "地下空洞";
    }
}

/// Grade of a major hazard source, 一级 (most severe) to 四级, per GB 18218-2018.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct HazardGrade(u8);

impl HazardGrade {
    /// A grade from 1 to 4.
    pub fn new(grade: u8) -> Option<Self> {
        (1..=4).contains(&grade).then_some(HazardGrade(grade))
    }

    /// The grade from an R value (R ≥ 100 → 1, 50 ≤ R < 100 → 2,
    /// 10 ≤ R < 50 → 3, R < 10 → 4).
    pub fn from_r_value(r: f64) -> Self {
        HazardGrade(if r >= 100.0 {
            1
        } else if r >= 50.0 {
            2
        } else if r >= 10.0 {
            3
        } else {
            4
        })
    }

    /// The grade number, 1–4.
    pub fn get(self) -> u8 {
        self.0
    }

    /// Chinese label (一级…四级).
    pub fn label_zh(self) -> &'static str {
        match self.0 {
            1 => "一级",
            2 => "二级",
            3 => "三级",
            _ => "四级",
        }
    }
}

impl FromStr for HazardGrade {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let n = match t {
            "一级" | "一" | "Ⅰ" | "I" => Some(1),
            "二级" | "二" | "Ⅱ" | "II" => Some(2),
            "三级" | "三" | "Ⅲ" | "III" => Some(3),
            "四级" | "四" | "Ⅳ" | "IV" => Some(4),
            _ => t
                .parse::<f64>()
                .ok()
                .filter(|v| v.fract() == 0.0 && (1.0..=4.0).contains(v))
                .map(|v| v as u8),
        };
        n.and_then(HazardGrade::new)
            .ok_or_else(|| UnknownName::new("hazard grade (1–4)", s))
    }
}

/// Severity of a collapse zone, 1–3 (3 = worst).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Severity(u8);

impl Severity {
    /// A severity from 1 to 3.
    pub fn new(s: u8) -> Option<Self> {
        (1..=3).contains(&s).then_some(Severity(s))
    }

    /// The number, 1–3.
    pub fn get(self) -> u8 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn industry_accepts_words_and_chinese() {
        assert_eq!(
            "危险化学品".parse::<Industry>().ok(),
            Some(Industry::HazardousChemicals)
        );
        assert_eq!("Gas".parse::<Industry>().ok(), Some(Industry::Gas));
        assert!("bakery".parse::<Industry>().is_err());
        assert_eq!(Industry::ALL.len(), 13);
        for (n, i) in Industry::ALL.iter().enumerate() {
            assert_eq!(i.index(), n, "{i}");
        }
    }

    #[test]
    fn grades_and_colours() {
        assert_eq!("较大".parse::<RiskLevel>().ok(), Some(RiskLevel::High));
        assert_eq!(RiskLevel::Major.color(), "#d7191c");
        assert_eq!("二级".parse::<HazardGrade>().ok(), HazardGrade::new(2));
        assert_eq!("3".parse::<HazardGrade>().ok(), HazardGrade::new(3));
        assert!("5".parse::<HazardGrade>().is_err());
        assert_eq!(HazardGrade::from_r_value(100.0).get(), 1);
        assert_eq!(HazardGrade::from_r_value(99.9).get(), 2);
        assert_eq!(HazardGrade::from_r_value(10.0).get(), 3);
        assert_eq!(HazardGrade::from_r_value(0.0).get(), 4);
        assert_eq!(
            "空洞".parse::<CollapseKind>().ok(),
            Some(CollapseKind::Cavity)
        );
    }
}
