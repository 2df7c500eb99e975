//! A [`Bulletin`] as an Excel workbook a head of office prints: the title
//! and period, the unit's figures, the ranking of its children with score,
//! change and indicators (score and level cells coloured by level), and a
//! line chart of the unit's daily score.

use super::bulletin::{Bulletin, Line};
use crate::model::RiskLevel;
use rust_xlsxwriter::{
    Chart, ChartType, Color, Format, FormatAlign, FormatBorder, Workbook, XlsxError,
};

/// Columns of the ranking table.
const HEADERS: [&str; 12] = [
    "排名",
    "代码",
    "名称",
    "风险分值",
    "风险等级",
    "较上期变化",
    "发现隐患",
    "已销号",
    "整改率(%)",
    "按期整改率(%)",
    "超期未整改",
    "重大隐患未销号",
];

fn level_zh(s: &str) -> &'static str {
    s.parse::<RiskLevel>().map_or("", RiskLevel::label_zh)
}

fn level_fill(s: Option<&str>) -> Option<Color> {
    let hex = s.and_then(|s| s.parse::<RiskLevel>().ok())?.color();
    u32::from_str_radix(hex.trim_start_matches('#'), 16)
        .ok()
        .map(Color::RGB)
}

fn write_line(
    sheet: &mut rust_xlsxwriter::Worksheet,
    row: u32,
    l: &Line,
    cell: &Format,
) -> Result<(), XlsxError> {
    let coloured = match level_fill(l.risk_level) {
        Some(c) => cell.clone().set_background_color(c),
        None => cell.clone(),
    };
    if let Some(r) = l.rank {
        sheet.write_number_with_format(row, 0, r as f64, cell)?;
    } else {
        sheet.write_string_with_format(row, 0, "合计", cell)?;
    }
    sheet.write_string_with_format(row, 1, &l.code, cell)?;
    sheet.write_string_with_format(row, 2, &l.name, cell)?;
    match l.risk_score {
        Some(s) => sheet.write_number_with_format(row, 3, s, &coloured)?,
        None => sheet.write_blank(row, 3, cell)?,
    };
    sheet.write_string_with_format(row, 4, l.risk_level.map_or("", level_zh), &coloured)?;
    match l.change {
        Some(c) => sheet.write_number_with_format(row, 5, c, cell)?,
        None => sheet.write_blank(row, 5, cell)?,
    };
    let i = &l.indicators;
    sheet.write_number_with_format(row, 6, f64::from(i.found), cell)?;
    sheet.write_number_with_format(row, 7, f64::from(i.closed), cell)?;
    for (col, v) in [(8, i.rectification_rate), (9, i.on_time_rate)] {
        match v {
            Some(v) => sheet.write_number_with_format(row, col, v, cell)?,
            None => sheet.write_string_with_format(row, col, "—", cell)?,
        };
    }
    sheet.write_number_with_format(row, 10, f64::from(i.overdue_open), cell)?;
    sheet.write_number_with_format(row, 11, f64::from(i.major_open), cell)?;
    Ok(())
}

/// The workbook's bytes.
pub fn bulletin_xlsx(b: &Bulletin) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    book.set_properties(
        &rust_xlsxwriter::DocProperties::new()
            .set_title(&b.title)
            .set_subject("城市安全风险电子地图"),
    );
    let title = Format::new()
        .set_bold()
        .set_font_size(16)
        .set_align(FormatAlign::Center);
    let bold = Format::new().set_bold();
    let head = Format::new()
        .set_bold()
        .set_border(FormatBorder::Thin)
        .set_align(FormatAlign::Center)
        .set_background_color(Color::RGB(0xDDEBF7));
    let cell = Format::new().set_border(FormatBorder::Thin);
    let sheet = book.add_worksheet();
    sheet.set_name("通报")?;
    sheet.merge_range(0, 0, 0, 11, &b.title, &title)?;
    sheet.write_string(
        1,
        0,
        format!("统计期间：{} 至 {}", b.period.from, b.period.to),
    )?;
    let u = &b.unit;
    let rate = |v: Option<f64>| v.map_or("—".to_string(), |v| format!("{v:.2}%"));
    let facts = [
        (
            "风险分值",
            u.risk_score.map_or("—".into(), |s| format!("{s:.1}")),
        ),
        ("风险等级", u.risk_level.map_or("", level_zh).to_string()),
        (
            "较上期变化",
            u.change.map_or("—".into(), |c| format!("{c:+.1}")),
        ),
        (
            "下级单元等级",
            format!(
                "重大 {} / 较大 {} / 一般 {} / 低 {}",
                b.levels.major, b.levels.high, b.levels.medium, b.levels.low
            ),
        ),
        ("发现隐患", u.indicators.found.to_string()),
        ("已销号", u.indicators.closed.to_string()),
        ("整改率", rate(u.indicators.rectification_rate)),
        ("按期整改率", rate(u.indicators.on_time_rate)),
        ("超期未整改", u.indicators.overdue_open.to_string()),
        ("重大隐患未销号", u.indicators.major_open.to_string()),
    ];
    for (i, (k, v)) in facts.iter().enumerate() {
        let row = 3 + i as u32;
        sheet.write_string_with_format(row, 0, *k, &bold)?;
        sheet.write_string(row, 2, v)?;
    }
    let table = 3 + facts.len() as u32 + 1;
    sheet.write_string_with_format(table, 0, "下级单元排名", &bold)?;
    for (col, h) in HEADERS.iter().enumerate() {
        sheet.write_string_with_format(table + 1, col as u16, *h, &head)?;
    }
    for (i, l) in b.children.iter().enumerate() {
        write_line(sheet, table + 2 + i as u32, l, &cell)?;
    }
    for (col, w) in [
        6.0, 16.0, 18.0, 10.0, 9.0, 11.0, 9.0, 8.0, 10.0, 13.0, 10.0, 14.0,
    ]
    .into_iter()
    .enumerate()
    {
        sheet.set_column_width(col as u16, w)?;
    }
    // The daily score on a second sheet, charted on the first.
    let data = book.add_worksheet();
    data.set_name("分值趋势")?;
    data.write_string_with_format(0, 0, "日期", &bold)?;
    data.write_string_with_format(0, 1, "风险分值", &bold)?;
    for (i, p) in b.series.iter().enumerate() {
        data.write_string(i as u32 + 1, 0, &p.date)?;
        data.write_number(i as u32 + 1, 1, p.risk_score)?;
    }
    let n = b.series.len().max(1) as u32;
    let mut chart = Chart::new(ChartType::Line);
    chart
        .add_series()
        .set_categories(("分值趋势", 1, 0, n, 0))
        .set_values(("分值趋势", 1, 1, n, 1))
        .set_name(&format!("{} 风险分值", u.name));
    chart.title().set_name("风险分值走势");
    chart.y_axis().set_name("风险分值");
    let chart_row = table + 3 + b.children.len() as u32;
    let sheet = book.worksheet_from_index(0)?;
    sheet.insert_chart(chart_row, 0, &chart)?;
    book.save_to_buffer()
}
