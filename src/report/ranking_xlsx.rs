//! A ranking (风险排名) as an Excel workbook: one sheet with rank, name,
//! code, parent unit, score (a number with one decimal) and level (in
//! Chinese, on its map colour), a bold frozen header row with filters.

use super::lists::RankItem;
use crate::model::RiskLevel;
use rust_xlsxwriter::{Color, Format, Workbook, XlsxError};

/// Columns: header and width.
const COLUMNS: [(&str, f64); 7] = [
    ("名次", 6.0),
    ("名称", 28.0),
    ("代码", 15.0),
    ("上级单位", 24.0),
    ("上级代码", 15.0),
    ("风险分值", 10.0),
    ("风险等级", 10.0),
];

/// The ranking `items` (highest first) as `.xlsx` bytes; `title` (e.g.
/// "风险排名 · 村/社区 · 全市") names the sheet's document.
pub fn ranking_xlsx(title: &str, items: &[RankItem]) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    book.set_properties(
        &rust_xlsxwriter::DocProperties::new()
            .set_title(title)
            .set_subject("城市安全风险电子地图"),
    );
    let sheet = book.add_worksheet();
    sheet.set_name("风险排名")?;
    let bold = Format::new().set_bold();
    let score = Format::new().set_num_format("0.0");
    for (col, (header, width)) in COLUMNS.iter().enumerate() {
        let col = col as u16;
        sheet.write_string_with_format(0, col, *header, &bold)?;
        sheet.set_column_width(col, *width)?;
    }
    for (i, it) in items.iter().enumerate() {
        let row = i as u32 + 1;
        sheet.write_number(row, 0, (i + 1) as f64)?;
        sheet.write_string(row, 1, &it.name)?;
        sheet.write_string(row, 2, &it.code)?;
        if let Some(p) = &it.parent_name {
            sheet.write_string(row, 3, p)?;
        }
        if let Some(p) = &it.parent_code {
            sheet.write_string(row, 4, p)?;
        }
        sheet.write_number_with_format(row, 5, it.risk_score, &score)?;
        let level: Option<RiskLevel> = it.risk_level.parse().ok();
        let label = level.map_or(it.risk_level, RiskLevel::label_zh);
        let colour =
            u32::from_str_radix(it.risk_color.trim_start_matches('#'), 16).unwrap_or(0xffffff);
        let text = if matches!(level, Some(RiskLevel::Major | RiskLevel::Low)) {
            Color::White
        } else {
            Color::Black
        };
        let on_colour = Format::new()
            .set_background_color(Color::RGB(colour))
            .set_font_color(text);
        sheet.write_string_with_format(row, 6, label, &on_colour)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    sheet.autofilter(0, 0, items.len() as u32, (COLUMNS.len() - 1) as u16)?;
    book.save_to_buffer()
}
