//! 风险点台账: the risk-point ledger of a grid unit — its major hazard
//! sources, its enterprises graded 较大/重大 or with open hidden dangers, the
//! collapse zones over it and its open hidden dangers (隐患) — as rows with
//! Chinese headers.
//!
//! The ledger's columns are one table, [`COLUMNS`] (header, width in the
//! workbook, the cell of a row), that the CSV and the XLSX ledger both
//! iterate; `tests/schema.rs` reads both from the server and compares
//! their headers with it.

use super::inside::Inside;
use crate::index::{DangerEntry, Store, UnitId};
use crate::model::{DangerStatus, Date, LayerId, RiskLevel};
use crate::write::formula::neutralise_formula;
use geo::{Centroid, Point};
use std::borrow::Cow;

/// One risk point.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerRow {
    /// Which layer it comes from.
    pub layer: LayerId,
    /// Feature id.
    pub id: String,
    /// Name.
    pub name: String,
    /// The cell it lies in (for zones: the cell under its centre), if any.
    pub cell_code: Option<String>,
    /// That cell's name.
    pub cell_name: Option<String>,
    /// Grade in words (一级…四级, 重大…低, 严重程度 1–3).
    pub grade: String,
    /// Industry, substances or cause.
    pub detail: String,
    /// Open hidden dangers (enterprises).
    pub hidden_dangers_open: Option<u32>,
    /// Open major hidden dangers (enterprises).
    pub major_hidden_dangers_open: Option<u32>,
    /// Online monitoring (hazard sources).
    pub monitored: Option<bool>,
    /// On the blacklist (enterprises).
    pub blacklisted: Option<bool>,
    /// Location (zones: centroid).
    pub location: Point<f64>,
    /// Responsible person.
    pub responsible: Option<String>,
    /// Where a hidden danger is in the closure loop (hidden dangers).
    pub status: Option<DangerStatus>,
    /// 整改时限 (hidden dangers).
    pub deadline: Option<Date>,
    /// Open and past its deadline on the as-of date (hidden dangers).
    pub overdue: Option<bool>,
}

fn cell_of(store: &Store, cell: Option<UnitId>) -> (Option<String>, Option<String>) {
    match cell {
        Some(c) => {
            let u = store.unit(c);
            (Some(u.code.clone()), Some(u.name.clone()))
        }
        None => (None, None),
    }
}

/// The ledger of `unit` on the as-of date `as_of`: hazard sources, then
/// enterprises, then collapse zones, then open hidden dangers, each in id
/// order. Enterprises' open-danger counts follow the scoring's rule
/// ([`DangerBook::enterprise_counts`](crate::index::DangerBook::enterprise_counts)).
/// Every row is returned: the caller keeps those its scope sees.
pub fn ledger_rows(store: &Store, unit: UnitId, as_of: Date) -> Vec<LedgerRow> {
    let inside = Inside::gather(store, unit);
    let ds = &store.dataset;
    let mut rows = Vec::new();
    let mut hazards = inside.hazard_sources.clone();
    hazards.sort_by(|a, b| {
        ds.hazard_sources[*a as usize]
            .id
            .cmp(&ds.hazard_sources[*b as usize].id)
    });
    for h in hazards {
        let s = &ds.hazard_sources[h as usize];
        let (cell_code, cell_name) = cell_of(store, store.hazard_cell(h));
        rows.push(LedgerRow {
            layer: LayerId::HazardSources,
            id: s.id.clone(),
            name: s.name.clone(),
            cell_code,
            cell_name,
            grade: format!("{}重大危险源", s.grade.label_zh()),
            detail: s.substances.clone(),
            hidden_dangers_open: None,
            major_hidden_dangers_open: None,
            monitored: Some(s.monitored),
            blacklisted: None,
            location: s.location,
            responsible: s.supervisor.clone(),
            status: None,
            deadline: None,
            overdue: None,
        });
    }
    let book = store.dangers();
    let open_of = |i: u32| {
        let e = &ds.enterprises[i as usize];
        book.enterprise_counts(i, e, as_of)
            .map_or((e.hidden_dangers_open, e.major_hidden_dangers_open), |c| {
                (c.open, c.major_open)
            })
    };
    let mut ents: Vec<u32> = inside
        .enterprises
        .iter()
        .copied()
        .filter(|&i| {
            let e = &ds.enterprises[i as usize];
            let (open, major) = open_of(i);
            matches!(e.risk_grade, RiskLevel::Major | RiskLevel::High) || open > 0 || major > 0
        })
        .collect();
    ents.sort_by(|a, b| {
        ds.enterprises[*a as usize]
            .id
            .cmp(&ds.enterprises[*b as usize].id)
    });
    for i in ents {
        let e = &ds.enterprises[i as usize];
        let (cell_code, cell_name) = cell_of(store, store.enterprise_cell(i));
        let (open, major) = open_of(i);
        rows.push(LedgerRow {
            layer: LayerId::Enterprises,
            id: e.id.clone(),
            name: e.name.clone(),
            cell_code,
            cell_name,
            grade: format!("{}风险", e.risk_grade.label_zh()),
            detail: e.industry.label_zh().to_string(),
            hidden_dangers_open: Some(open),
            major_hidden_dangers_open: Some(major),
            monitored: None,
            blacklisted: Some(e.blacklisted),
            location: e.location,
            responsible: None,
            status: None,
            deadline: None,
            overdue: None,
        });
    }
    let mut zones = inside.collapse_zones.clone();
    zones.sort_by(|a, b| {
        ds.collapse_zones[*a as usize]
            .id
            .cmp(&ds.collapse_zones[*b as usize].id)
    });
    for z in zones {
        let zone = &ds.collapse_zones[z as usize];
        let location = zone
            .geometry
            .centroid()
            .unwrap_or_else(|| Point::new(0.0, 0.0));
        let (cell_code, cell_name) = cell_of(store, store.cell_at(location));
        rows.push(LedgerRow {
            layer: LayerId::CollapseZones,
            id: zone.id.clone(),
            name: format!("{}塌陷风险区", zone.kind.label_zh()),
            cell_code,
            cell_name,
            grade: format!("严重程度{}", zone.severity.get()),
            detail: zone.kind.label_zh().to_string(),
            hidden_dangers_open: None,
            major_hidden_dangers_open: None,
            monitored: None,
            blacklisted: None,
            location,
            responsible: None,
            status: None,
            deadline: None,
            overdue: None,
        });
    }
    let mut dangers: Vec<&DangerEntry> = inside
        .cells
        .iter()
        .flat_map(|&c| book.in_cell(c))
        .filter_map(|&d| book.get(d))
        .filter(|d| d.record.status.is_open())
        .collect();
    dangers.sort_by(|a, b| a.record.id.cmp(&b.record.id));
    for d in dangers {
        let r = &d.record;
        let (cell_code, cell_name) = cell_of(store, d.cell);
        rows.push(LedgerRow {
            layer: LayerId::HiddenDangers,
            id: r.id.clone(),
            name: r.description.clone(),
            cell_code,
            cell_name,
            grade: r.grade.label_zh().to_string(),
            detail: r.category.label_zh().to_string(),
            hidden_dangers_open: None,
            major_hidden_dangers_open: None,
            monitored: None,
            blacklisted: None,
            location: r.location,
            responsible: r.responsible.clone(),
            status: Some(r.status),
            deadline: r.deadline,
            overdue: Some(r.is_overdue(as_of)),
        });
    }
    rows
}

fn yes_no(b: Option<bool>) -> String {
    match b {
        Some(true) => "是".into(),
        Some(false) => "否".into(),
        None => String::new(),
    }
}

/// One ledger cell: text, or a number a spreadsheet can sum and sort.
#[derive(Debug, Clone, PartialEq)]
pub enum LedgerCell {
    /// Text (empty when the field does not apply).
    Text(String),
    /// A count or an index.
    Count(u64),
    /// A coordinate in degrees.
    Degrees(f64),
}

impl LedgerCell {
    /// A text cell; text that a spreadsheet would run as a formula gets a
    /// leading `'` (both the CSV and the XLSX ledger are built from these).
    fn text(s: impl Into<String>) -> Self {
        let s: String = s.into();
        LedgerCell::Text(match neutralise_formula(&s) {
            Cow::Borrowed(_) => s,
            Cow::Owned(safe) => safe,
        })
    }

    fn count(v: Option<u32>) -> Self {
        match v {
            Some(v) => LedgerCell::Count(u64::from(v)),
            None => LedgerCell::Text(String::new()),
        }
    }

    fn opt_text(v: &Option<String>) -> Self {
        LedgerCell::text(v.clone().unwrap_or_default())
    }

    /// The cell as CSV text (coordinates with 6 decimals, about 0.1 m).
    pub fn to_csv_field(&self) -> String {
        match self {
            LedgerCell::Text(s) => s.clone(),
            LedgerCell::Count(v) => v.to_string(),
            LedgerCell::Degrees(v) => format!("{v:.6}"),
        }
    }
}

/// One column of the ledger: its Chinese header, its width in the
/// workbook (characters) and its cell for row number `index` (1-based).
#[derive(Debug, Clone, Copy)]
pub struct LedgerColumn {
    /// Chinese header.
    pub header: &'static str,
    /// Column width in the XLSX ledger, in characters.
    pub width: f64,
    /// The cell of a row.
    pub cell: fn(usize, &LedgerRow) -> LedgerCell,
}

const fn column(
    header: &'static str,
    width: f64,
    cell: fn(usize, &LedgerRow) -> LedgerCell,
) -> LedgerColumn {
    LedgerColumn {
        header,
        width,
        cell,
    }
}

/// The ledger's columns, in order (CSV and XLSX).
pub const COLUMNS: &[LedgerColumn] = &[
    column("序号", 6.0, |i, _| LedgerCell::Count(i as u64)),
    column("风险点类别", 12.0, |_, r| {
        LedgerCell::text(r.layer.label_zh())
    }),
    column("编号", 22.0, |_, r| LedgerCell::text(r.id.clone())),
    column("名称", 28.0, |_, r| LedgerCell::text(r.name.clone())),
    column("所属单元网格", 18.0, |_, r| {
        LedgerCell::opt_text(&r.cell_code)
    }),
    column("网格名称", 16.0, |_, r| {
        LedgerCell::opt_text(&r.cell_name)
    }),
    column("风险等级", 14.0, |_, r| {
        LedgerCell::text(r.grade.clone())
    }),
    column("行业/物质/成因", 18.0, |_, r| {
        LedgerCell::text(r.detail.clone())
    }),
    column("未整改隐患", 10.0, |_, r| {
        LedgerCell::count(r.hidden_dangers_open)
    }),
    column("未整改重大隐患", 14.0, |_, r| {
        LedgerCell::count(r.major_hidden_dangers_open)
    }),
    column("在线监测", 9.0, |_, r| {
        LedgerCell::text(yes_no(r.monitored))
    }),
    column("黑名单", 7.0, |_, r| {
        LedgerCell::text(yes_no(r.blacklisted))
    }),
    column("经度", 12.0, |_, r| LedgerCell::Degrees(r.location.x())),
    column("纬度", 12.0, |_, r| LedgerCell::Degrees(r.location.y())),
    column("责任人", 10.0, |_, r| {
        LedgerCell::opt_text(&r.responsible)
    }),
    column("隐患状态", 12.0, |_, r| {
        LedgerCell::text(r.status.map_or("", DangerStatus::label_zh))
    }),
    column("整改时限", 12.0, |_, r| {
        LedgerCell::text(r.deadline.map(|d| d.to_string()).unwrap_or_default())
    }),
    column("是否逾期", 9.0, |_, r| {
        LedgerCell::text(yes_no(r.overdue))
    }),
];

/// The ledger's column headers, in order.
pub fn headers() -> impl Iterator<Item = &'static str> {
    COLUMNS.iter().map(|c| c.header)
}

/// The cells of row number `index` (1-based), in [`COLUMNS`] order.
pub fn ledger_record(index: usize, r: &LedgerRow) -> Vec<LedgerCell> {
    COLUMNS.iter().map(|c| (c.cell)(index, r)).collect()
}

/// The ledger as CSV: UTF-8 with a BOM (so Excel reads the Chinese), CRLF
/// line ends.
pub fn ledger_csv(rows: &[LedgerRow]) -> Result<Vec<u8>, csv::Error> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(&mut out);
        w.write_record(headers())?;
        for (i, r) in rows.iter().enumerate() {
            w.write_record(ledger_record(i + 1, r).iter().map(LedgerCell::to_csv_field))?;
        }
        w.flush()?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_text_is_neutralised_in_every_ledger_cell() {
        let row = LedgerRow {
            layer: LayerId::Enterprises,
            id: "+E1".into(),
            name: "=HYPERLINK(\"http://e.vil/\",\"点击\")".into(),
            cell_code: Some("@cell".into()),
            cell_name: Some("\tname".into()),
            grade: "较大风险".into(),
            detail: "-x".into(),
            hidden_dangers_open: Some(1),
            major_hidden_dangers_open: Some(0),
            monitored: None,
            blacklisted: Some(false),
            location: Point::new(-118.5, 24.9),
            responsible: Some("\rperson".into()),
            status: None,
            deadline: None,
            overdue: None,
        };
        let cells = ledger_record(1, &row);
        // The XLSX ledger writes these same cells.
        for cell in &cells {
            if let LedgerCell::Text(t) = cell {
                assert!(!t.starts_with(['=', '+', '-', '@', '\t', '\r']), "{t:?}");
            }
        }
        assert_eq!(
            cells[3],
            LedgerCell::Text("'=HYPERLINK(\"http://e.vil/\",\"点击\")".into())
        );
        // Numbers stay numbers, negative ones included.
        assert_eq!(cells[12], LedgerCell::Degrees(-118.5));
        let csv = ledger_csv(&[row]).unwrap_or_default();
        let text = String::from_utf8_lossy(&csv);
        assert!(
            text.contains("\"'=HYPERLINK(\"\"http://e.vil/\"\",\"\"点击\"\")\""),
            "{text}"
        );
        assert!(text.contains(",-118.500000,"), "{text}");
    }
}
