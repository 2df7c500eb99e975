//! The type of a field: [`Kind`], and the closed vocabularies of text
//! fields ([`Vocabulary`]).

use crate::model::{
    AlarmStatus, CollapseKind, DangerCategory, DangerGrade, DangerSource, DangerStatus, Industry,
    Level, RiskLevel, SensorKind,
};
use serde_json::{Map, Value, json};

/// A closed vocabulary a text property takes its values from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vocabulary {
    /// `county`, `town`, `village`, `cell`.
    Level,
    /// `major`, `high`, `medium`, `low`.
    RiskLevel,
    /// The enterprise industries.
    Industry,
    /// The causes of collapse zones.
    CollapseKind,
    /// Hidden-danger grades: `general`, `major`.
    DangerGrade,
    /// Hidden-danger statuses: `reported`, `rectifying`, `rectified`, `closed`.
    DangerStatus,
    /// Hidden-danger categories: the industries and the public-space ones.
    DangerCategory,
    /// How a hidden danger was found.
    DangerSource,
    /// What a sensor measures: `gas`, `pressure`, … (DATA.md).
    SensorKind,
    /// Where an alarm is: `active`, `acknowledged`, `cleared`.
    AlarmStatus,
}

impl Vocabulary {
    /// Every word, in declaration order.
    pub fn words(self) -> Vec<&'static str> {
        match self {
            Vocabulary::Level => Level::ALL.iter().map(|l| l.as_str()).collect(),
            Vocabulary::RiskLevel => RiskLevel::ALL.iter().map(|l| l.as_str()).collect(),
            Vocabulary::Industry => Industry::ALL.iter().map(|l| l.as_str()).collect(),
            Vocabulary::CollapseKind => CollapseKind::ALL.iter().map(|l| l.as_str()).collect(),
            Vocabulary::DangerGrade => DangerGrade::ALL.iter().map(|l| l.as_str()).collect(),
            Vocabulary::DangerStatus => DangerStatus::ALL.iter().map(|l| l.as_str()).collect(),
            Vocabulary::DangerCategory => DangerCategory::all().map(|c| c.as_str()).collect(),
            Vocabulary::DangerSource => DangerSource::ALL.iter().map(|l| l.as_str()).collect(),
            Vocabulary::SensorKind => SensorKind::ALL.iter().map(|l| l.as_str()).collect(),
            Vocabulary::AlarmStatus => AlarmStatus::ALL.iter().map(|l| l.as_str()).collect(),
        }
    }

    /// The contract word for `text` (which may be a Chinese alias).
    pub fn canonical(self, text: &str) -> Option<&'static str> {
        match self {
            Vocabulary::Level => text.parse::<Level>().ok().map(Level::as_str),
            Vocabulary::RiskLevel => text.parse::<RiskLevel>().ok().map(RiskLevel::as_str),
            Vocabulary::Industry => text.parse::<Industry>().ok().map(Industry::as_str),
            Vocabulary::CollapseKind => text.parse::<CollapseKind>().ok().map(CollapseKind::as_str),
            Vocabulary::DangerGrade => text.parse::<DangerGrade>().ok().map(DangerGrade::as_str),
            Vocabulary::DangerStatus => text.parse::<DangerStatus>().ok().map(DangerStatus::as_str),
            Vocabulary::DangerCategory => text
                .parse::<DangerCategory>()
                .ok()
                .map(DangerCategory::as_str),
            Vocabulary::DangerSource => text.parse::<DangerSource>().ok().map(DangerSource::as_str),
            Vocabulary::SensorKind => text.parse::<SensorKind>().ok().map(SensorKind::as_str),
            Vocabulary::AlarmStatus => AlarmStatus::from_word(text).map(AlarmStatus::as_str),
        }
    }
}

/// The type of a property.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// Free text.
    Text,
    /// Text from a closed vocabulary.
    Word(Vocabulary),
    /// A whole number, with its bounds.
    Integer {
        /// Smallest value.
        min: i64,
        /// Largest value, if bounded.
        max: Option<i64>,
    },
    /// A number, with its bounds.
    Number {
        /// Smallest value.
        min: f64,
        /// Largest value, if bounded.
        max: Option<f64>,
    },
    /// `true` or `false`.
    Boolean,
}

impl Kind {
    /// The JSON Schema / OpenAPI `type` word.
    pub fn type_word(self) -> &'static str {
        match self {
            Kind::Text | Kind::Word(_) => "string",
            Kind::Integer { .. } => "integer",
            Kind::Number { .. } => "number",
            Kind::Boolean => "boolean",
        }
    }

    /// The JSON Schema of a value of this kind.
    pub fn schema(self) -> Value {
        let mut s = Map::new();
        s.insert("type".into(), json!(self.type_word()));
        match self {
            Kind::Word(v) => {
                s.insert("enum".into(), json!(v.words()));
            }
            Kind::Integer { min, max } => {
                s.insert("minimum".into(), json!(min));
                if let Some(m) = max {
                    s.insert("maximum".into(), json!(m));
                }
            }
            Kind::Number { min, max } => {
                if min.is_finite() {
                    s.insert("minimum".into(), json!(min));
                }
                if let Some(m) = max {
                    s.insert("maximum".into(), json!(m));
                }
            }
            Kind::Text | Kind::Boolean => {}
        }
        Value::Object(s)
    }
}
