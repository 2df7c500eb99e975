//! A loosely typed attribute value, as read from or written to a file.

use std::fmt;

/// One attribute value of a feature.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    /// Absent or null.
    #[default]
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// Text.
    Text(String),
}

impl Value {
    /// True for `Null` and for blank text.
    pub fn is_blank(&self) -> bool {
        match self {
            Value::Null => true,
            Value::Text(t) => t.trim().is_empty(),
            _ => false,
        }
    }
}

/// `x` with a negative zero made positive (every other value unchanged):
/// an empty sum of floats is `-0.0`, which serializers print as `-0` or
/// `-0.0`. Every number riskmap prints or serializes passes through here.
pub fn unsigned_zero(x: f64) -> f64 {
    if x == 0.0 { 0.0 } else { x }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => Ok(()),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{}", unsigned_zero(*x)),
            Value::Text(t) => f.write_str(t),
        }
    }
}
