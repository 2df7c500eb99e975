//! The daily history against the real binary on the demo city
//! (`generate --preset quanzhou --as-of 2026-06-15`): the first day and
//! today equal the risk engine run as of those days; indicators equal a
//! brute-force count over the generated records; a write today changes
//! today's row only; a restart keeps the history and a history rebuilt
//! from base + journal is identical; the 月通报 as XLSX read with
//! openpyxl; bad input is a 400 naming the parameter.

mod common;

use common::require::{python, require_python_module};
use common::*;
use riskmap::config::Config;
use riskmap::index::{Store, UnitId};
use riskmap::model::{DangerGrade, DangerStatus, Date, HiddenDanger, Level};
use riskmap::risk::{RiskParams, score_all};
use serde_json::{Value, json as j};
use std::path::Path;
use std::process::Command;

const AS_OF: &str = "2026-06-15";
const FIRST: &str = "2025-06-15";

fn d(s: &str) -> Date {
    s.parse().unwrap()
}

fn get(server: &Server, path: &str, token: Option<&str>) -> (u16, Value) {
    let (s, b) = match token {
        Some(t) => server.get_with(path, t),
        None => server.get(path),
    };
    (s, serde_json::from_str(&b).unwrap_or(Value::Null))
}

fn ok(server: &Server, path: &str, token: Option<&str>) -> Value {
    let (s, v) = get(server, path, token);
    assert_eq!(s, 200, "{path}: {v}");
    v
}

/// Brute-force indicators of the records `rs` over `from..=to`.
fn brute(rs: &[&HiddenDanger], from: Date, to: Date) -> [u32; 5] {
    let closed_by = |r: &HiddenDanger, day: Date| {
        r.status == DangerStatus::Closed && r.closed_at.is_some_and(|c| c <= day)
    };
    let mut found = 0;
    let mut closed = 0;
    let mut on_time = 0;
    let mut overdue = 0;
    let mut major = 0;
    for r in rs {
        if r.found_at >= from && r.found_at <= to {
            found += 1;
        }
        if r.status == DangerStatus::Closed
            && let Some(c) = r.closed_at
            && c >= from
            && c <= to
        {
            closed += 1;
            if r.deadline.is_none_or(|dl| c <= dl) {
                on_time += 1;
            }
        }
        let open = r.found_at <= to && !closed_by(r, to);
        if open && r.deadline.is_some_and(|dl| dl < to) {
            overdue += 1;
        }
        if open && r.grade == DangerGrade::Major {
            major += 1;
        }
    }
    [found, closed, on_time, overdue, major]
}

fn figures(v: &Value) -> [u32; 5] {
    let n = |k: &str| v[k].as_u64().unwrap_or_else(|| panic!("{k} in {v}")) as u32;
    [
        n("found"),
        n("closed"),
        n("closed_on_time"),
        n("overdue_open"),
        n("major_open"),
    ]
}

struct Demo {
    tmp: tempfile::TempDir,
    store: Store,
    records: Vec<HiddenDanger>,
}

impl Demo {
    fn data(&self) -> std::path::PathBuf {
        self.tmp.path().join("qz")
    }

    fn start(&self) -> Server {
        Server::start(self.tmp.path(), &self.data(), &[])
    }

    /// The records whose cell lies within `unit`.
    fn records_in(&self, unit: UnitId) -> Vec<&HiddenDanger> {
        self.records
            .iter()
            .filter(|r| {
                self.store
                    .cell_at(r.location)
                    .is_some_and(|c| self.store.is_within(c, unit))
            })
            .collect()
    }
}

fn demo() -> Demo {
    let tmp = tempfile::tempdir().unwrap();
    let o = run(
        tmp.path(),
        &[
            "generate", "--preset", "quanzhou", "--seed", "42", "--as-of", AS_OF, "--out", "qz",
        ],
    );
    assert!(o.status.success(), "{}", output_text(&o));
    install_demo_tokens(tmp.path());
    std::fs::write(
        tmp.path().join("riskmap.toml"),
        format!("[risk]\nas_of = \"{AS_OF}\"\n"),
    )
    .unwrap();
    let loaded = riskmap::ingest::load_dir(&tmp.path().join("qz"), &Config::default().ingest())
        .unwrap_or_else(|e| panic!("{e}"));
    let records = loaded.dataset.hidden_dangers.clone();
    assert!(records.len() > 100, "the demo has a year of records");
    let store = Store::build(loaded.dataset);
    Demo {
        tmp,
        store,
        records,
    }
}

/// The village with the most records.
fn busiest_village(demo: &Demo) -> UnitId {
    *demo
        .store
        .units_at(Level::Village)
        .iter()
        .max_by_key(|&&v| (demo.records_in(v).len(), std::cmp::Reverse(v)))
        .unwrap()
}

fn engine_scores(demo: &Demo, day: &str, units: &[UnitId]) -> Vec<f64> {
    let params = RiskParams {
        as_of: Some(day.into()),
        ..RiskParams::default()
    };
    let scores = score_all(&demo.store, &params);
    units.iter().map(|&u| scores.unit(u).risk_score()).collect()
}

fn history(server: &Server, code: &str, query: &str) -> Value {
    ok(
        server,
        &format!("/api/cells/{code}/history?{query}"),
        Some(PLANNER),
    )
}

#[test]
fn history_indicators_writes_restart_and_report() {
    let demo = demo();
    let store = &demo.store;
    let village = busiest_village(&demo);
    let vcode = store.unit(village).code.clone();
    let cell = store.children(village)[0];
    let ccode = store.unit(cell).code.clone();
    let town = store.parent(village).unwrap();
    let county = store.parent(town).unwrap();

    // The server listens before its history (a whole year, computed on
    // this first start) is open: /health says so, and a request for the
    // history right away waits for it rather than failing.
    let server = Server::start_opening(demo.tmp.path(), &demo.data(), &[], &[]);
    let (_, health) = get(&server, "/health", None);
    assert!(
        health["history_opening"] == true || health["history"]["first"] == FIRST,
        "{health}"
    );
    let h = history(&server, &ccode, &format!("from={FIRST}&to={FIRST}"));
    assert_eq!(h["series"][0]["date"], FIRST, "{h}");
    let (_, health) = get(&server, "/health", None);
    assert_eq!(health["history"]["first"], FIRST, "{health}");
    assert!(health.get("history_opening").is_none(), "{health}");

    // The first day and today equal the engine run as of those days, for
    // the unit of every level (and a few days between).
    let units = [cell, village, town, county];
    let mut cell_scores = Vec::new();
    for day in [FIRST, "2025-09-30", "2026-01-01", "2026-03-17", AS_OF] {
        let want = engine_scores(&demo, day, &units);
        cell_scores.push((day, want[0]));
        for (&u, w) in units.iter().zip(want) {
            let code = &store.unit(u).code;
            let h = history(&server, code, &format!("from={day}&to={day}"));
            let s = &h["series"];
            assert_eq!(s.as_array().unwrap().len(), 1, "{code} {day}: {h}");
            assert_eq!(s[0]["date"], day);
            assert_eq!(s[0]["risk_score"].as_f64().unwrap(), w, "{code} on {day}");
        }
    }
    // Today's row is what the live map shows.
    let live = ok(&server, &format!("/api/cells/{ccode}"), Some(PLANNER));
    let today = history(&server, &ccode, &format!("from={AS_OF}&to={AS_OF}"));
    assert_eq!(today["series"][0]["risk_score"], live["risk_score"]);
    // The whole year: 366 daily points.
    let year = history(&server, &vcode, "");
    assert_eq!(year["series"].as_array().unwrap().len(), 366);
    assert_eq!(year["series"][0]["date"], FIRST);

    // Indicators over May 2026, for the village, its town and county, by
    // brute force over the generated records.
    let (from, to) = (d("2026-05-01"), d("2026-05-31"));
    for u in [village, town, county] {
        let code = &store.unit(u).code;
        let want = brute(&demo.records_in(u), from, to);
        let report = ok(
            &server,
            &format!("/api/report?within={code}&period=2026-05"),
            Some(PLANNER),
        );
        assert_eq!(
            figures(&report["unit"]["indicators"]),
            want,
            "{code} report"
        );
        let stats = ok(
            &server,
            &format!("/api/stats?within={code}&from=2026-05-01&to=2026-05-31"),
            Some(PLANNER),
        );
        assert_eq!(figures(&stats["indicators"]), want, "{code} stats");
        let rate = stats["indicators"]["rectification_rate"].as_f64();
        if want[0] > 0 {
            let r = (f64::from(want[1]) * 10_000.0 / f64::from(want[0])).round() / 100.0;
            assert_eq!(rate, Some(r), "{code}");
        }
        let month = history(&server, code, "from=2026-05-01&to=2026-05-31&step=month");
        let m = &month["series"][0];
        assert_eq!(month["series"].as_array().unwrap().len(), 1);
        assert_eq!(m["date"], "2026-05-01");
        assert_eq!(
            [
                m["found"].as_u64(),
                m["closed"].as_u64(),
                m["overdue_open"].as_u64()
            ],
            [
                Some(u64::from(want[0])),
                Some(u64::from(want[1])),
                Some(u64::from(want[3]))
            ],
            "{code} month step"
        );
    }
    // Without a token the history has scores, not records.
    let (s, public) = get(
        &server,
        &format!("/api/cells/{vcode}/history?from={AS_OF}"),
        None,
    );
    assert_eq!(s, 200);
    assert!(public["series"][0]["risk_score"].is_number());
    assert!(public["series"][0].get("found").is_none(), "{public}");
    let (s, _) = get(&server, "/api/stats?from=2026-05-01", None);
    assert_eq!(s, 200);

    // A write today changes today's row only.
    let before = history(&server, &ccode, "");
    let c = {
        use geo::InteriorPoint;
        store.unit(cell).geometry.interior_point().unwrap()
    };
    let body = j!({"lon": c.x(), "lat": c.y(), "grade": "major", "category": "road",
        "description": "路面塌陷", "deadline": "2026-06-20"});
    let resp = ureq::post(&format!("{}/api/hidden-dangers", server.base))
        .set("Authorization", &format!("Bearer {PLANNER}"))
        .send_json(body)
        .unwrap();
    assert_eq!(resp.status(), 201);
    let after = history(&server, &ccode, "");
    let (b, a) = (
        before["series"].as_array().unwrap(),
        after["series"].as_array().unwrap(),
    );
    assert_eq!(b.len(), a.len());
    assert_eq!(b[..b.len() - 1], a[..a.len() - 1], "earlier days unchanged");
    let (bt, at) = (&b[b.len() - 1], &a[a.len() - 1]);
    assert_eq!(
        at["found"].as_u64(),
        Some(bt["found"].as_u64().unwrap() + 1)
    );
    assert_eq!(
        at["major_open"].as_u64(),
        Some(bt["major_open"].as_u64().unwrap() + 1)
    );
    assert!(
        at["risk_score"].as_f64() > bt["risk_score"].as_f64(),
        "{at} vs {bt}"
    );
    let live = ok(&server, &format!("/api/cells/{ccode}"), Some(PLANNER));
    assert_eq!(at["risk_score"], live["risk_score"]);

    // After a restart the history is identical; rebuilt from base +
    // journal (its file removed) it is identical too.
    let snapshot = |server: &Server| {
        [&ccode, &vcode, &store.unit(county).code]
            .iter()
            .map(|c| history(server, c, ""))
            .collect::<Vec<_>>()
    };
    let kept = snapshot(&server);
    drop(server);
    let server = demo.start();
    assert_eq!(snapshot(&server), kept, "after a restart");
    drop(server);
    let file = demo.data().join(".journal.history.sqlite");
    assert!(file.exists(), "the history file is beside the journal");
    for f in [
        ".journal.history.sqlite",
        ".journal.history.sqlite-wal",
        ".journal.history.sqlite-shm",
    ] {
        let _ = std::fs::remove_file(demo.data().join(f));
    }
    let server = demo.start();
    assert_eq!(snapshot(&server), kept, "rebuilt from base + journal");

    // A day later the window moves: the kept file is pruned to the new
    // year and extended, and equals one written from scratch.
    drop(server);
    std::fs::write(
        demo.tmp.path().join("riskmap.toml"),
        "[risk]\nas_of = \"2026-06-16\"\n",
    )
    .unwrap();
    let server = demo.start();
    let moved = snapshot(&server);
    assert_eq!(moved[0]["from"], "2025-06-16");
    assert_eq!(moved[0]["to"], "2026-06-16");
    drop(server);
    for f in [
        ".journal.history.sqlite",
        ".journal.history.sqlite-wal",
        ".journal.history.sqlite-shm",
    ] {
        let _ = std::fs::remove_file(demo.data().join(f));
    }
    let server = demo.start();
    assert_eq!(snapshot(&server), moved, "pruned equals rebuilt");
    drop(server);
    std::fs::write(
        demo.tmp.path().join("riskmap.toml"),
        format!("[risk]\nas_of = \"{AS_OF}\"\n"),
    )
    .unwrap();
    let server = demo.start();
    assert_eq!(snapshot(&server), kept, "back to the first window");

    // Rankings over the history.
    let r = ok(
        &server,
        "/api/ranking?level=town&by=change&from=2026-05-01&to=2026-06-15&limit=5",
        None,
    );
    let items = r["items"].as_array().unwrap();
    assert_eq!(items.len(), 5);
    let changes: Vec<f64> = items
        .iter()
        .map(|i| i["change"].as_f64().unwrap())
        .collect();
    assert!(changes.windows(2).all(|w| w[0] >= w[1]), "{changes:?}");
    let (s, _) = get(&server, "/api/ranking?by=overdue", None);
    assert_eq!(s, 401);
    let r = ok(
        &server,
        "/api/ranking?level=village&by=overdue&limit=3",
        Some(PLANNER),
    );
    let top = &r["items"][0];
    let top_unit = store.unit_by_code(top["code"].as_str().unwrap()).unwrap();
    let want = brute(&demo.records_in(top_unit), d(AS_OF), d(AS_OF));
    // The ranking counts today, with the write above (a new record, not overdue).
    assert_eq!(
        top["indicators"]["overdue_open"].as_u64(),
        Some(u64::from(want[3]))
    );

    // Bad input.
    for (path, word) in [
        (
            format!("/api/cells/{ccode}/history?from=2026-06-10&to=2026-06-01"),
            "after",
        ),
        (format!("/api/cells/{ccode}/history?step=year"), "step"),
        (
            format!("/api/cells/{ccode}/history?from=2024-01-01"),
            "before the history",
        ),
        (
            format!("/api/cells/{ccode}/history?from=2026-02-30"),
            "from",
        ),
        (
            format!("/api/report?within={vcode}&period=2026-13"),
            "period",
        ),
        (
            format!("/api/report?within={vcode}&period=2026-W99"),
            "period",
        ),
        (
            format!("/api/report?within={vcode}&period=2020-Q1"),
            "outside the history",
        ),
        ("/api/ranking?by=luck".to_string(), "by"),
    ] {
        let (s, v) = get(&server, &path, Some(PLANNER));
        assert_eq!(s, 400, "{path}: {v}");
        assert!(v.to_string().contains(word), "{path}: {v}");
    }
    let (s, _) = get(
        &server,
        &format!("/api/report?within={vcode}&period=2026-05"),
        None,
    );
    assert_eq!(s, 401);

    // OGC `datetime` and tiles `?date=`: the cell as of a day whose score
    // differs from today's (the engine's), and today's.
    let today_score = cell_scores.last().unwrap().1;
    let (past, past_score) = cell_scores
        .iter()
        .copied()
        .find(|(_, s)| *s != today_score)
        .unwrap_or(cell_scores[0]);
    let c = {
        use geo::InteriorPoint;
        store.unit(cell).geometry.interior_point().unwrap()
    };
    let now = live["risk_score"].as_f64().unwrap();
    for (day, want) in [(past, past_score), (AS_OF, now)] {
        let v = ok(
            &server,
            &format!("/ogc/collections/cells/items?datetime={day}&filter=code%3D%27{ccode}%27"),
            None,
        );
        let f = &v["features"][0];
        assert_eq!(f["properties"]["code"], ccode.as_str(), "{v}");
        assert_eq!(
            f["properties"]["risk_score"].as_f64(),
            Some(want),
            "OGC on {day}"
        );
        assert_eq!(
            tile_score(&server, c, &ccode, Some(day)),
            want,
            "tile on {day}"
        );
    }
    let (s, _) = get(&server, "/tiles/12/3000/1700.mvt?date=yesterday", None);
    assert_eq!(s, 400);

    // The 月通报 as a workbook.
    let report = ok(
        &server,
        &format!("/api/report?within={vcode}&period=2026-05"),
        Some(PLANNER),
    );
    let resp = ureq::get(&format!(
        "{}/api/report?within={vcode}&period=2026-05&format=xlsx",
        server.base
    ))
    .set("Authorization", &format!("Bearer {PLANNER}"))
    .call()
    .unwrap();
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut resp.into_reader(), &mut bytes).unwrap();
    let path = demo.tmp.path().join("report.xlsx");
    std::fs::write(&path, &bytes).unwrap();
    read_workbook(&path, &report);
}

/// Reads the report workbook with openpyxl (cells) and as a zip (the chart
/// part, which openpyxl does not load) and checks it against the JSON.
fn read_workbook(path: &Path, report: &Value) {
    if !require_python_module("openpyxl", "openpyxl") {
        return;
    }
    let script = r#"
import openpyxl, sys, json, zipfile
wb = openpyxl.load_workbook(sys.argv[1])
ws = wb["通报"]
rows = [[c for c in r] for r in ws.iter_rows(values_only=True)]
fills = {}
for r in ws.iter_rows():
    for c in r:
        if c.column == 4 and c.fill is not None and c.fill.fgColor is not None and c.fill.fill_type:
            fills[str(c.row)] = c.fill.fgColor.rgb
z = zipfile.ZipFile(sys.argv[1])
charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
chart = z.read(charts[0]).decode() if charts else ""
print(json.dumps({"sheets": wb.sheetnames, "rows": rows, "fills": fills, "charts": len(charts),
                  "line": "<c:lineChart>" in chart}, ensure_ascii=False, default=str))
"#;
    let out = Command::new(python())
        .arg("-c")
        .arg(script)
        .arg(path)
        .output()
        .expect("python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows[0][0], report["title"]);
    assert!(report["title"].as_str().unwrap().contains("月通报"));
    assert!(rows[1][0].as_str().unwrap().contains("2026-05-01"));
    // The ranking table: a header row then one row per child, by rank.
    let head = rows
        .iter()
        .position(|r| r[0] == "排名")
        .expect("a ranking header");
    let children = report["children"].as_array().unwrap();
    assert!(!children.is_empty());
    for (i, c) in children.iter().enumerate() {
        let r = &rows[head + 1 + i];
        assert_eq!(r[0].as_f64(), Some((i + 1) as f64));
        assert_eq!(r[1], c["code"]);
        assert_eq!(r[3].as_f64(), c["risk_score"].as_f64());
        assert_eq!(r[5].as_f64(), c["change"].as_f64());
        assert_eq!(r[6].as_u64(), c["indicators"]["found"].as_u64());
    }
    // Score cells carry their level's colour.
    let first = (head + 2).to_string();
    let fill = v["fills"][&first].as_str().unwrap_or("");
    let colour = match children[0]["risk_level"].as_str().unwrap() {
        "major" => "D7191C",
        "high" => "FD8D3C",
        "medium" => "FECC5C",
        _ => "",
    };
    if !colour.is_empty() {
        assert!(fill.ends_with(colour), "{fill} for {}", children[0]);
    }
    assert_eq!(v["charts"], 1, "one chart");
    assert_eq!(v["line"], true, "a line chart");
    assert!(v["sheets"].as_array().unwrap().len() == 2);
}

/// The `risk_score` of the cell `code` in the z13 tile holding `p` (with
/// `?date=`).
fn tile_score(server: &Server, p: geo::Point<f64>, code: &str, date: Option<&str>) -> f64 {
    use geozero::mvt::{Message, Tile};
    let z = 13u32;
    let n = f64::from(1u32 << z);
    let x = ((p.x() + 180.0) / 360.0 * n).floor() as u32;
    let lat = p.y().to_radians();
    let y = ((1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor()
        as u32;
    let q = date.map_or(String::new(), |d| format!("?date={d}"));
    let resp = ureq::get(&format!("{}/tiles/{z}/{x}/{y}.mvt{q}", server.base))
        .call()
        .unwrap();
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut resp.into_reader(), &mut bytes).unwrap();
    let tile = Tile::decode(bytes.as_slice()).unwrap();
    let layer = tile
        .layers
        .iter()
        .find(|l| l.name == "cells")
        .expect("a cells layer");
    for f in &layer.features {
        let mut props = std::collections::HashMap::new();
        for t in f.tags.chunks(2) {
            props.insert(
                layer.keys[t[0] as usize].as_str(),
                &layer.values[t[1] as usize],
            );
        }
        if props.get("code").and_then(|v| v.string_value.as_deref()) == Some(code) {
            let v = props["risk_score"];
            return v
                .double_value
                .or(v.float_value.map(f64::from))
                .or(v.int_value.map(|i| i as f64))
                .or(v.uint_value.map(|i| i as f64))
                .or(v.sint_value.map(|i| i as f64))
                .unwrap_or_else(|| panic!("risk_score {v:?}"));
        }
    }
    panic!("{code} not in tile {z}/{x}/{y}");
}
