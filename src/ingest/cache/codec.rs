//! A compact little-endian binary encoding of the validated features, for
//! the snapshot cache: fixed-width numbers, length-prefixed text, enums by
//! their position in `ALL`. Every read is bounds-checked, so a truncated or
//! garbled section is an error, never a panic.

use crate::ingest::{Issue, IssueLevel, SourceFile};
use crate::model::{
    Alarm, AlarmLevel, CollapseKind, CollapseZone, DangerCategory, DangerGrade, DangerSource,
    DangerStatus, Date, Enterprise, GridUnit, HazardGrade, HazardSource, HiddenDanger, Industry,
    LayerId, Level, OtherCategory, RiskLevel, Sensor, SensorKind, Severity,
};
use geo::{Coord, LineString, MultiPolygon, Point, Polygon};
use std::path::PathBuf;

/// A section that does not decode.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DecodeError(pub String);

fn bad(what: &str) -> DecodeError {
    DecodeError(format!("bad {what}"))
}

/// A cursor over an encoded section.
pub struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, at: 0 }
    }

    /// Whether every byte was read.
    pub fn is_done(&self) -> bool {
        self.at == self.bytes.len()
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| DecodeError(format!("truncated at byte {}", self.at)))?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let s = self.take(N)?;
        <[u8; N]>::try_from(s).map_err(|_| bad("number"))
    }

    /// A length (u32) checked against the bytes left, each item taking at
    /// least `min` bytes: a garbled length cannot reserve gigabytes.
    fn len(&mut self, min: usize) -> Result<usize, DecodeError> {
        let n = u32::from_le_bytes(self.array()?) as usize;
        if n.saturating_mul(min.max(1)) > self.bytes.len() - self.at {
            return Err(DecodeError(format!("a length of {n} at byte {}", self.at)));
        }
        Ok(n)
    }
}

/// A value that can be written to and read from a cache section.
pub trait Codec: Sized {
    /// Appends the value's bytes.
    fn put(&self, out: &mut Vec<u8>);
    /// Reads one value.
    fn take(r: &mut Reader<'_>) -> Result<Self, DecodeError>;
}

macro_rules! number {
    ($($t:ty),*) => {$(
        impl Codec for $t {
            fn put(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn take(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                Ok(<$t>::from_le_bytes(r.array()?))
            }
        }
    )*};
}
number!(u8, u32, u64, i32, f64);

impl Codec for bool {
    fn put(&self, out: &mut Vec<u8>) {
        out.push(u8::from(*self));
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match u8::take(r)? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(bad("boolean")),
        }
    }
}

impl Codec for String {
    fn put(&self, out: &mut Vec<u8>) {
        (self.len() as u32).put(out);
        out.extend_from_slice(self.as_bytes());
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let n = r.len(1)?;
        let s = r.take(n)?;
        std::str::from_utf8(s)
            .map(str::to_string)
            .map_err(|_| bad("text"))
    }
}

impl<T: Codec> Codec for Option<T> {
    fn put(&self, out: &mut Vec<u8>) {
        match self {
            None => out.push(0),
            Some(v) => {
                out.push(1);
                v.put(out);
            }
        }
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match u8::take(r)? {
            0 => Ok(None),
            1 => T::take(r).map(Some),
            _ => Err(bad("option")),
        }
    }
}

impl<T: Codec> Codec for Vec<T> {
    fn put(&self, out: &mut Vec<u8>) {
        (self.len() as u32).put(out);
        for v in self {
            v.put(out);
        }
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let n = r.len(1)?;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(T::take(r)?);
        }
        Ok(v)
    }
}

impl Codec for Point<f64> {
    fn put(&self, out: &mut Vec<u8>) {
        self.x().put(out);
        self.y().put(out);
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Point::new(f64::take(r)?, f64::take(r)?))
    }
}

impl Codec for LineString<f64> {
    fn put(&self, out: &mut Vec<u8>) {
        (self.0.len() as u32).put(out);
        for c in &self.0 {
            c.x.put(out);
            c.y.put(out);
        }
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let n = r.len(16)?;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(Coord {
                x: f64::take(r)?,
                y: f64::take(r)?,
            });
        }
        Ok(LineString(v))
    }
}

impl Codec for MultiPolygon<f64> {
    fn put(&self, out: &mut Vec<u8>) {
        (self.0.len() as u32).put(out);
        for p in &self.0 {
            p.exterior().put(out);
            (p.interiors().len() as u32).put(out);
            for ring in p.interiors() {
                ring.put(out);
            }
        }
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let n = r.len(8)?;
        let mut polys = Vec::with_capacity(n);
        for _ in 0..n {
            let exterior = LineString::take(r)?;
            let holes = Vec::<LineString<f64>>::take(r)?;
            // Every stored polygon came from `Polygon::new`, so its rings
            // are closed and closing them again changes nothing.
            polys.push(Polygon::new(exterior, holes));
        }
        Ok(MultiPolygon(polys))
    }
}

/// Enums with an `ALL` list: their position in it.
macro_rules! listed {
    ($($t:ty),*) => {$(
        impl Codec for $t {
            fn put(&self, out: &mut Vec<u8>) {
                let i = <$t>::ALL.iter().position(|v| v == self).unwrap_or(0);
                out.push(i as u8);
            }
            fn take(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                <$t>::ALL
                    .get(usize::from(u8::take(r)?))
                    .copied()
                    .ok_or_else(|| bad(stringify!($t)))
            }
        }
    )*};
}
listed!(
    Industry,
    RiskLevel,
    CollapseKind,
    DangerGrade,
    DangerSource,
    DangerStatus,
    OtherCategory,
    SensorKind,
    Level
);

impl Codec for LayerId {
    fn put(&self, out: &mut Vec<u8>) {
        self.as_str().to_string().put(out);
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        String::take(r)?.parse().map_err(|_| bad("layer"))
    }
}

impl Codec for HazardGrade {
    fn put(&self, out: &mut Vec<u8>) {
        out.push(self.get());
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        HazardGrade::new(u8::take(r)?).ok_or_else(|| bad("hazard grade"))
    }
}

impl Codec for Severity {
    fn put(&self, out: &mut Vec<u8>) {
        out.push(self.get());
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Severity::new(u8::take(r)?).ok_or_else(|| bad("severity"))
    }
}

impl Codec for AlarmLevel {
    fn put(&self, out: &mut Vec<u8>) {
        out.push(self.get());
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        AlarmLevel::try_from(u8::take(r)?).map_err(|_| bad("alarm level"))
    }
}

impl Codec for Date {
    fn put(&self, out: &mut Vec<u8>) {
        self.days().put(out);
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Date::from_days(i32::take(r)?))
    }
}

impl Codec for DangerCategory {
    fn put(&self, out: &mut Vec<u8>) {
        match self {
            DangerCategory::Industry(i) => {
                out.push(0);
                i.put(out);
            }
            DangerCategory::Other(o) => {
                out.push(1);
                o.put(out);
            }
        }
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match u8::take(r)? {
            0 => Industry::take(r).map(DangerCategory::Industry),
            1 => OtherCategory::take(r).map(DangerCategory::Other),
            _ => Err(bad("danger category")),
        }
    }
}

impl Codec for IssueLevel {
    fn put(&self, out: &mut Vec<u8>) {
        out.push(match self {
            IssueLevel::Error => 0,
            IssueLevel::Warning => 1,
        });
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match u8::take(r)? {
            0 => Ok(IssueLevel::Error),
            1 => Ok(IssueLevel::Warning),
            _ => Err(bad("issue level")),
        }
    }
}

/// Structs: each field in declaration order. A field added to a model type
/// must be added here too (the struct literal stops compiling until it is).
macro_rules! fields {
    ($t:ident { $($f:ident),* $(,)? }) => {
        impl Codec for $t {
            fn put(&self, out: &mut Vec<u8>) {
                let $t { $($f),* } = self;
                $( $f.put(out); )*
            }
            fn take(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                $( let $f = Codec::take(r)?; )*
                Ok($t { $($f),* })
            }
        }
    };
}

fields!(Enterprise {
    id,
    name,
    uscc,
    industry,
    risk_grade,
    employees,
    hidden_dangers_open,
    major_hidden_dangers_open,
    blacklisted,
    cell_code,
    location,
});
fields!(HazardSource {
    id,
    name,
    enterprise_id,
    grade,
    r_value,
    substances,
    monitored,
    supervisor,
    location,
});
fields!(CollapseZone {
    id,
    kind,
    severity,
    surveyed,
    geometry,
});
fields!(GridUnit {
    code,
    name,
    level,
    parent_code,
    population,
    manager,
    geometry,
});
fields!(HiddenDanger {
    id,
    enterprise_id,
    category,
    grade,
    description,
    source,
    found_at,
    deadline,
    responsible,
    status,
    closed_at,
    location,
});
fields!(Sensor {
    id,
    kind,
    watches,
    location,
});
fields!(Alarm {
    id,
    sensor_id,
    kind,
    level,
    value,
    threshold,
    started_at,
    acknowledged_at,
    cleared_at,
    hidden_danger_id,
    location,
});
fields!(Issue {
    level,
    file,
    feature,
    field,
    message,
});

impl Codec for PathBuf {
    fn put(&self, out: &mut Vec<u8>) {
        self.to_string_lossy().into_owned().put(out);
    }
    fn take(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        String::take(r).map(PathBuf::from)
    }
}

fields!(SourceFile {
    layer,
    path,
    sha256
});

/// Encodes a whole section.
pub fn encode<T: Codec>(items: &T) -> Vec<u8> {
    let mut out = Vec::new();
    items.put(&mut out);
    out
}

/// Decodes a whole section (every byte must be used).
pub fn decode<T: Codec>(bytes: &[u8]) -> Result<T, DecodeError> {
    let mut r = Reader::new(bytes);
    let v = T::take(&mut r)?;
    if !r.is_done() {
        return Err(DecodeError("trailing bytes".into()));
    }
    Ok(v)
}
