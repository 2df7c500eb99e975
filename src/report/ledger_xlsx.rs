//! The risk-point ledger (风险点台账) as an Excel workbook: one sheet, the
//! same columns as the CSV, counts and coordinates as numbers, a bold
//! frozen header row with filters, and a title naming the unit.

use super::ledger::{COLUMNS, LedgerCell, LedgerRow, ledger_record};
use rust_xlsxwriter::{Format, Workbook, XlsxError};

/// The ledger of the unit `code` (`name`) as `.xlsx` bytes. Row 1 holds the
/// headers, so the sheet reads like the CSV; the unit is named in the
/// sheet's document title.
pub fn ledger_xlsx(code: &str, name: &str, rows: &[LedgerRow]) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    book.set_properties(
        &rust_xlsxwriter::DocProperties::new()
            .set_title(format!("风险点台账 {code} {name}"))
            .set_subject("城市安全风险电子地图"),
    );
    let sheet = book.add_worksheet();
    sheet.set_name("风险点台账")?;
    let bold = Format::new().set_bold();
    let degrees = Format::new().set_num_format("0.000000");
    for (col, c) in COLUMNS.iter().enumerate() {
        let col = col as u16;
        sheet.write_string_with_format(0, col, c.header, &bold)?;
        sheet.set_column_width(col, c.width)?;
    }
    for (i, r) in rows.iter().enumerate() {
        let row = i as u32 + 1;
        for (col, cell) in ledger_record(i + 1, r).iter().enumerate() {
            let col = col as u16;
            match cell {
                LedgerCell::Text(s) if s.is_empty() => {}
                LedgerCell::Text(s) => {
                    sheet.write_string(row, col, s)?;
                }
                LedgerCell::Count(v) => {
                    sheet.write_number(row, col, *v as f64)?;
                }
                LedgerCell::Degrees(v) => {
                    sheet.write_number_with_format(row, col, *v, &degrees)?;
                }
            }
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    sheet.autofilter(0, 0, rows.len() as u32, (COLUMNS.len() - 1) as u16)?;
    book.save_to_buffer()
}
