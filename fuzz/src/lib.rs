//! Shared parts of the fuzz targets: the builders every parsed table goes
//! through, and a tiny served dataset for the router target.

use riskmap::auth::TokensFile;
use riskmap::config::{Config, LayerConfig};
use riskmap::ingest::IssueSink;
use riskmap::ingest::build::Builder;
use riskmap::ingest::table::Table;
use riskmap::model::LayerId;
use riskmap::server::{AppState, router};
use riskmap::snapshot::Snapshot;
use std::path::PathBuf;
use std::sync::OnceLock;

/// Demo tokens: planner, admin, grid manager (the fourth choice is none).
pub const TOKENS: [&str; 3] = [
    "demo-planner-7f3a91c2",
    "demo-admin-4be2d058",
    "demo-grid-5c8e17a4",
];

/// Structure-aware inputs for the text parsers: the first byte picks a
/// shape, the next two a repeat count (up to 65,535), the rest is the
/// text the shape is built around. Shapes: the text as is; nested in
/// parentheses, `NOT`s, `CASEI(…)` or CQL2-JSON `not`s; repeated as a long
/// comma-separated list; followed by a run of digits (a huge number) or of
/// unclosed `(` (the request that once overflowed the stack).
pub fn shaped(data: &[u8]) -> Option<String> {
    let (&shape, rest) = data.split_first()?;
    let (count, rest) = match rest {
        [a, b, tail @ ..] => (usize::from(u16::from_le_bytes([*a, *b])), tail),
        _ => (0, rest),
    };
    let text = std::str::from_utf8(rest).ok()?;
    Some(match shape % 8 {
        0 => text.to_string(),
        1 => format!("{}{text}{}", "(".repeat(count), ")".repeat(count)),
        2 => format!("{}{text}", "NOT ".repeat(count)),
        3 => format!("{}{text}{}", "CASEI(".repeat(count), ")".repeat(count)),
        4 => format!(
            "{}{text}{}",
            r#"{"op":"not","args":["#.repeat(count),
            "]}".repeat(count)
        ),
        5 => vec![text; count.min(20_000)].join(","),
        6 => format!("{text}{}", "9".repeat(count)),
        _ => format!("{text}{}", "(".repeat(count)),
    })
}

/// Runs `table` through the builder of every input layer.
pub fn build_all(table: &Table) {
    let cfg = LayerConfig::default();
    let mut issues = Vec::new();
    let _ = Builder::new(LayerId::Enterprises, &cfg, IssueSink::new("f", &mut issues))
        .enterprises(table);
    let _ = Builder::new(
        LayerId::HazardSources,
        &cfg,
        IssueSink::new("f", &mut issues),
    )
    .hazard_sources(table);
    let _ = Builder::new(
        LayerId::CollapseZones,
        &cfg,
        IssueSink::new("f", &mut issues),
    )
    .collapse_zones(table);
    let _ =
        Builder::new(LayerId::GridCells, &cfg, IssueSink::new("f", &mut issues)).grid_units(table);
    let _ = Builder::new(LayerId::Counties, &cfg, IssueSink::new("f", &mut issues)).counties(table);
}

fn polygon(props: &str, ring: &str) -> String {
    format!(
        "{{\"type\":\"Feature\",\"properties\":{{{props}}},\"geometry\":{{\"type\":\"Polygon\",\"coordinates\":[{ring}]}}}}"
    )
}

fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> String {
    format!("[[{x0},{y0}],[{x1},{y0}],[{x1},{y1}],[{x0},{y1}],[{x0},{y0}]]")
}

/// Writes a three-cell dataset into `dir`.
pub fn write_dataset(dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let grid = [
        polygon(
            "\"code\":\"350502001\",\"name\":\"海滨街道\",\"level\":\"town\",\"parent_code\":\"350502\"",
            &rect(118.58, 24.90, 118.61, 24.92),
        ),
        polygon(
            "\"code\":\"350502001001\",\"name\":\"金山社区\",\"level\":\"village\",\"parent_code\":\"350502001\"",
            &rect(118.58, 24.90, 118.60, 24.92),
        ),
        polygon(
            "\"code\":\"350502001002\",\"name\":\"笋浯社区\",\"level\":\"village\",\"parent_code\":\"350502001\"",
            &rect(118.60, 24.90, 118.61, 24.92),
        ),
        polygon(
            "\"code\":\"350502001001001\",\"name\":\"金山第1网格\",\"level\":\"cell\",\"parent_code\":\"350502001001\",\"population\":1200",
            &rect(118.58, 24.90, 118.59, 24.92),
        ),
        polygon(
            "\"code\":\"350502001001002\",\"name\":\"金山第2网格\",\"level\":\"cell\",\"parent_code\":\"350502001001\",\"population\":300",
            &rect(118.59, 24.90, 118.60, 24.92),
        ),
        polygon(
            "\"code\":\"350502001002001\",\"name\":\"笋浯第1网格\",\"level\":\"cell\",\"parent_code\":\"350502001002\",\"population\":800",
            &rect(118.60, 24.90, 118.61, 24.92),
        ),
    ];
    let fc = |f: &[String]| {
        format!(
            "{{\"type\":\"FeatureCollection\",\"features\":[{}]}}",
            f.join(",")
        )
    };
    std::fs::write(dir.join("grid_cells.geojson"), fc(&grid))?;
    std::fs::write(
        dir.join("collapse_zones.geojson"),
        fc(&[polygon(
            "\"id\":\"CZ-1\",\"kind\":\"cavity\",\"severity\":3,\"surveyed\":\"2024-05-01\"",
            &rect(118.581, 24.901, 118.583, 24.903),
        )]),
    )?;
    std::fs::write(
        dir.join("hazard_sources.geojson"),
        "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"properties\":{\"id\":\"HS-1\",\"name\":\"液化气站\",\"enterprise_id\":\"E1\",\"grade\":2,\"substances\":\"液化石油气\",\"monitored\":true},\"geometry\":{\"type\":\"Point\",\"coordinates\":[118.585,24.905]}}]}",
    )?;
    std::fs::write(
        dir.join("enterprises.csv"),
        "企业编号,企业名称,行业类别,风险等级,从业人员,未整改隐患,重大隐患,黑名单,经度,纬度\n\
         E1,泉州燃气有限公司,燃气,较大,120,2,0,否,118.585,24.906\n\
         E2,海滨鞋业,一般工贸,低,30,0,0,否,118.595,24.91\n\
         E3,笋浯危化仓储,危险化学品,重大,60,3,1,是,118.605,24.91\n",
    )
}

/// The router over the tiny dataset, and a runtime to drive it.
pub struct Fixture {
    /// The application's router.
    pub router: axum::Router,
    /// A current-thread runtime.
    pub runtime: tokio::runtime::Runtime,
}

/// The shared fixture (built on first use).
pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("riskmap-fuzz-{}", std::process::id()));
        write_dataset(&dir).unwrap_or_else(|e| panic!("cannot write the fixture: {e}"));
        let config = Config {
            data: riskmap::source::DataSource::Dir(dir.clone()),
            ..Config::default()
        };
        let snapshot = Snapshot::load(&dir, &config)
            .unwrap_or_else(|e| panic!("the fixture does not load: {e}"));
        let tokens = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data/demo-tokens.toml");
        let tokens = TokensFile::load(&tokens).unwrap_or_else(|e| panic!("tokens: {e}"));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("runtime: {e}"));
        let router = runtime.block_on(async { router(AppState::new(snapshot, config, tokens)) });
        Fixture { router, runtime }
    })
}
