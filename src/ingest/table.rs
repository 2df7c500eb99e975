//! The common shape every reader produces: named columns, and per record a
//! geometry and one value per column.

use crate::model::Value;
use geo::Geometry;

/// One feature as read from a file, before typing.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The geometry, if the record has one that could be read.
    pub geometry: Option<Geometry<f64>>,
    /// One value per column of the table.
    pub values: Vec<Value>,
}

/// The records of one file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    /// Column names, in file order.
    pub columns: Vec<String>,
    /// Records, in file order. Records that could not be read at all are
    /// still present (with `geometry: None`) so positions stay true.
    pub records: Vec<Record>,
}

impl Table {
    /// The index of a column, creating it if needed.
    pub fn column_index(&mut self, name: &str) -> usize {
        match self.columns.iter().position(|c| c == name) {
            Some(i) => i,
            None => {
                self.columns.push(name.to_string());
                self.columns.len() - 1
            }
        }
    }
}
