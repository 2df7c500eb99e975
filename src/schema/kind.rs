//! The type of a field: [`Kind`], and the closed vocabularies of text
//! fields ([`Vocabulary`]).

use crate::model::{CollapseKind, Industry, Level, RiskLevel};
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
}

impl Vocabulary {
    /// Every word, in declaration order.
    pub fn words(self) -> Vec<&'static str> {
        match self {
            Vocabulary::Level => Level::ALL.iter().map(|l| l.as_str()).collect(),
            Vocabulary::RiskLevel => RiskLevel::ALL.iter().map(|l| l.as_str()).collect(),
            Vocabulary::Industry => Industry::ALL.iter().map(|l| l.as_str()).collect(),
            Vocabulary::CollapseKind => CollapseKind::ALL.iter().map(|l| l.as_str()).collect(),
        }
    }

    /// The contract word for `text` (which may be a Chinese alias).
    pub fn canonical(self, text: &str) -> Option<&'static str> {
        match self {
            Vocabulary::Level => text.parse::<Level>().ok().map(Level::as_str),
            Vocabulary::RiskLevel => text.parse::<RiskLevel>().ok().map(RiskLevel::as_str),
            Vocabulary::Industry => text.parse::<Industry>().ok().map(Industry::as_str),
            Vocabulary::CollapseKind => text.parse::<CollapseKind>().ok().map(CollapseKind::as_str),
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
                s.insert("minimum".into(), json!(min));
                if let Some(m) = max {
                    s.insert("maximum".into(), json!(m));
                }
            }
            Kind::Text | Kind::Boolean => {}
        }
        Value::Object(s)
    }
}
