//! A scripted week through the real binary: the tiny dataset, one server
//! run a day (the clock set with `RISKMAP_NOW`), six hidden dangers
//! reported, rectified and closed day by day — one closed late, one left
//! overdue. Then, for every day, every grid unit's history equals a full
//! `riskmap score` of the base files plus the journal cut at the end of
//! that day (as of that day); the indicators of the history, `/api/stats`
//! and the weekly 通报 equal the counts of the script made by hand; and a
//! history deleted and rebuilt from the journal is identical.

mod common;

use common::{
    GRID_MANAGER, PLANNER, Server, batch_scores, install_demo_tokens, write_tiny_dataset,
};
use serde_json::{Value, json as j};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::{Duration, Instant};

/// The village every record lies in (金山社区), its town and the county.
const VILLAGE: &str = "350502001001";
const TOWN: &str = "350502001";
/// The other village (no record).
const OTHER_VILLAGE: &str = "350502001002";
/// Points in 金山第1网格 and 金山第2网格.
const CELL1: (f64, f64) = (118.587, 24.912);
const CELL2: (f64, f64) = (118.595, 24.91);
/// The week: Monday 2026-11-02 (ISO week 2026-W45) to Sunday 2026-11-08.
const DAYS: [&str; 7] = [
    "2026-11-02",
    "2026-11-03",
    "2026-11-04",
    "2026-11-05",
    "2026-11-06",
    "2026-11-07",
    "2026-11-08",
];
/// The day before the week.
const BEFORE: &str = "2026-11-01";

/// Sends a JSON request; returns status, ETag and body.
fn send(
    server: &Server,
    method: &str,
    path: &str,
    token: &str,
    if_match: Option<&str>,
    body: Option<Value>,
) -> (u16, Option<String>, Value) {
    let (status, etag, text) = server.send(method, path, Some(token), if_match, body.as_ref());
    (
        status,
        etag,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn get(server: &Server, path: &str, token: Option<&str>) -> Value {
    let (s, b) = match token {
        Some(t) => server.get_with(path, t),
        None => server.get(path),
    };
    assert_eq!(s, 200, "{path}: {b}");
    serde_json::from_str(&b).unwrap()
}

/// The script's state: record name → (id, ETag).
#[derive(Default)]
struct Records(HashMap<&'static str, (String, String)>);

impl Records {
    fn report(
        &mut self,
        server: &Server,
        name: &'static str,
        at: (f64, f64),
        grade: &str,
        deadline: &str,
    ) {
        let body = j!({"lon": at.0, "lat": at.1, "grade": grade, "category": "road",
            "description": format!("隐患{name}"), "deadline": deadline});
        let (s, etag, b) = send(
            server,
            "POST",
            "/api/hidden-dangers",
            GRID_MANAGER,
            None,
            Some(body),
        );
        assert_eq!(s, 201, "report {name}: {b}");
        let id = b["id"].as_str().unwrap().to_string();
        self.0.insert(name, (id, etag.unwrap()));
    }

    fn act(&mut self, server: &Server, name: &'static str, action: &str) {
        let (id, _) = self.0[name].clone();
        // The record's current version (a day later, from a new run).
        let (s, etag, b) = send(
            server,
            "GET",
            &format!("/api/hidden-dangers/{id}"),
            GRID_MANAGER,
            None,
            None,
        );
        assert_eq!(s, 200, "{name}: {b}");
        let etag = etag.unwrap();
        let token = if action == "close" {
            PLANNER
        } else {
            GRID_MANAGER
        };
        let (s, etag, b) = send(
            server,
            "POST",
            &format!("/api/hidden-dangers/{id}/events"),
            token,
            Some(&etag),
            Some(j!({"action": action, "note": "脚本"})),
        );
        assert_eq!(s, 200, "{action} {name}: {b}");
        self.0.insert(name, (id, etag.unwrap()));
    }
}

/// The day (Asia/Shanghai, UTC+8) of a journal time `YYYY-MM-DDTHH:…Z`.
fn shanghai_day(at: &str) -> String {
    let (y, m, d, h): (i32, u32, u32, u32) = (
        at[0..4].parse().unwrap(),
        at[5..7].parse().unwrap(),
        at[8..10].parse().unwrap(),
        at[11..13].parse().unwrap(),
    );
    assert!(
        (1..=27).contains(&d),
        "the script writes before the 28th: {at}"
    );
    // From 16:00 UTC it is the next day in Shanghai.
    let d = if h >= 16 { d + 1 } else { d };
    format!("{y:04}-{m:02}-{d:02}")
}

/// `riskmap score` (as of `day`) of the base files in `data` plus the
/// journal lines written by the end of `day`: code → risk_score.
fn score_as_of(tmp: &Path, data: &Path, day: &str) -> BTreeMap<String, f64> {
    let work = tmp.join(format!("score-{day}"));
    let copy = work.join("ds");
    std::fs::create_dir_all(&copy).unwrap();
    for e in std::fs::read_dir(data).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name == "journal.jsonl" {
            continue;
        }
        std::fs::copy(e.path(), copy.join(&name)).unwrap();
    }
    let journal = std::fs::read_to_string(data.join("journal.jsonl")).unwrap();
    let prefix: String = journal
        .lines()
        .filter(|l| {
            let at = serde_json::from_str::<Value>(l).unwrap()["at"]
                .as_str()
                .unwrap()
                .to_string();
            shanghai_day(&at).as_str() <= day
        })
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(copy.join("journal.jsonl"), prefix).unwrap();
    std::fs::write(
        work.join("riskmap.toml"),
        format!("[risk]\nas_of = \"{day}\"\n"),
    )
    .unwrap();
    batch_scores(&work, Path::new("ds")).into_iter().collect()
}

/// Deletes the history file beside `data`'s journal (and SQLite's WAL
/// files), so that the next start rebuilds it from the journal.
fn delete_history(data: &Path) {
    for f in [
        ".journal.history.sqlite",
        ".journal.history.sqlite-wal",
        ".journal.history.sqlite-shm",
    ] {
        let _ = std::fs::remove_file(data.join(f));
    }
}

/// Every unit's whole history (with the planner's token).
fn all_history(server: &Server, codes: &[String]) -> Vec<Value> {
    codes
        .iter()
        .map(|c| get(server, &format!("/api/cells/{c}/history"), Some(PLANNER)))
        .collect()
}

/// (found, closed, closed_on_time, overdue_open, major_open) of a point
/// or an indicators object.
fn five(v: &Value) -> [u64; 5] {
    [
        "found",
        "closed",
        "closed_on_time",
        "overdue_open",
        "major_open",
    ]
    .map(|k| v[k].as_u64().unwrap_or_else(|| panic!("{k} in {v}")))
}

#[test]
fn a_scripted_week_matches_batch_scores_and_hand_counts_and_rebuilds() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("ds");
    write_tiny_dataset(&data);
    install_demo_tokens(tmp.path());
    let start = |day: &str| {
        let now = format!("{day}T02:00:00Z");
        Server::start_env(tmp.path(), &data, &[], &[("RISKMAP_NOW", now.as_str())])
    };

    // The script: one server run a day, its clock at 10:00 in Shanghai.
    let mut r = Records::default();
    for (i, day) in DAYS.iter().enumerate() {
        let server = start(day);
        assert_eq!(get(&server, "/health", None)["as_of"], *day);
        match i {
            0 => {
                r.report(&server, "A", CELL1, "general", "2026-11-04");
                r.report(&server, "B", CELL1, "general", "2026-11-07");
                r.report(&server, "C", CELL1, "major", "2026-11-06");
            }
            1 => {
                r.report(&server, "D", CELL1, "general", "2026-11-04");
                r.report(&server, "F", CELL1, "major", "2026-11-05");
                r.act(&server, "A", "start");
                r.act(&server, "A", "rectify");
            }
            2 => r.act(&server, "A", "close"),
            3 => {
                r.act(&server, "C", "start");
                r.act(&server, "C", "rectify");
                r.report(&server, "E", CELL2, "general", "2026-11-20");
            }
            4 => {
                r.act(&server, "C", "close");
                r.act(&server, "B", "start");
            }
            5 => {
                r.act(&server, "B", "rectify");
                r.act(&server, "B", "close");
            }
            _ => {
                r.act(&server, "D", "start");
                r.act(&server, "D", "rectify");
                r.act(&server, "D", "close");
            }
        }
        drop(server);
    }

    // Every unit, every day: the history equals the batch score of base +
    // journal prefix as of that day.
    let server = start("2026-11-08");
    let mut days = vec![BEFORE];
    days.extend(DAYS);
    let before = score_as_of(tmp.path(), &data, BEFORE);
    let codes: Vec<String> = before.keys().cloned().collect();
    assert!(codes.len() >= 6, "{codes:?}");
    let mut moved = 0;
    let mut batches = BTreeMap::new();
    for day in &days {
        let batch = score_as_of(tmp.path(), &data, day);
        batches.insert(day.to_string(), batch.clone());
        for code in &codes {
            let h = get(
                &server,
                &format!("/api/cells/{code}/history?from={day}&to={day}"),
                None,
            );
            let got = h["series"][0]["risk_score"].as_f64().unwrap();
            assert_eq!(got, batch[code], "{code} on {day}: history vs score");
        }
        if batch[VILLAGE] != before[VILLAGE] {
            moved += 1;
        }
    }
    assert!(
        moved >= 5,
        "the script moves the village's score ({moved} days)"
    );

    // The village's daily figures, counted by hand from the script.
    let expected: [[u64; 5]; 7] = [
        [3, 0, 0, 0, 1], // A, B, C found; C major
        [2, 0, 0, 0, 2], // D, F found; F major
        [0, 1, 1, 0, 2], // A closed by its deadline (11-04)
        [1, 0, 0, 1, 2], // E found; D past its deadline (11-04)
        [0, 1, 1, 2, 1], // C closed on its deadline; F past 11-05
        [0, 1, 1, 2, 1], // B closed on its deadline
        [0, 1, 0, 1, 1], // D closed late; F still overdue and major
    ];
    let h = get(
        &server,
        &format!(
            "/api/cells/{VILLAGE}/history?from={}&to={}",
            DAYS[0], DAYS[6]
        ),
        Some(PLANNER),
    );
    let got: Vec<[u64; 5]> = h["series"].as_array().unwrap().iter().map(five).collect();
    assert_eq!(got, expected, "{VILLAGE} day by day");
    // 金山第2网格 holds E only.
    let h = get(
        &server,
        &format!(
            "/api/cells/350502001001002/history?from={}&to={}",
            DAYS[0], DAYS[6]
        ),
        Some(PLANNER),
    );
    let found: Vec<u64> = h["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| five(p)[0])
        .collect();
    assert_eq!(found, [0, 0, 0, 1, 0, 0, 0]);

    // The week: found 6, closed 4 (3 by their deadline), due 5 (A, B, C,
    // D, F; E falls due later), 3 of them closed by it; F overdue and
    // major at the end. The same for the village, its town and county.
    let week = format!("from={}&to={}", DAYS[0], DAYS[6]);
    for unit in [VILLAGE, TOWN, "350502"] {
        let s = get(
            &server,
            &format!("/api/stats?within={unit}&{week}"),
            Some(PLANNER),
        );
        let i = &s["indicators"];
        assert_eq!(five(i), [6, 4, 3, 1, 1], "{unit}: {i}");
        assert_eq!(i["due"], 5, "{unit}: {i}");
        assert_eq!(i["due_on_time"], 3, "{unit}: {i}");
        assert_eq!(i["rectification_rate"], 66.67, "{unit}: {i}");
        assert_eq!(i["on_time_rate"], 60.0, "{unit}: {i}");
        let rep = get(
            &server,
            &format!("/api/report?within={unit}&period=2026-W45&format=json"),
            Some(PLANNER),
        );
        assert_eq!(rep["period"]["from"], DAYS[0]);
        assert_eq!(rep["period"]["to"], DAYS[6]);
        assert_eq!(
            five(&rep["unit"]["indicators"]),
            [6, 4, 3, 1, 1],
            "{unit} report"
        );
    }
    let s = get(
        &server,
        &format!("/api/stats?within={OTHER_VILLAGE}&{week}"),
        Some(PLANNER),
    );
    assert_eq!(five(&s["indicators"]), [0; 5]);
    assert!(s["indicators"]["rectification_rate"].is_null());

    // OGC `datetime` on the grid units: an interval gives the state at
    // its end (its last day held; an open end: today); an interval that
    // holds no day of the history is 400 naming the days held.
    let ogc = |datetime: &str| {
        let path = format!(
            "/ogc/collections/villages/items?datetime={datetime}&filter=code%3D%27{VILLAGE}%27"
        );
        server.get(&path)
    };
    for (datetime, day) in [
        ("2026-11-01/2026-11-04", "2026-11-04"),
        ("../2026-11-05T10:00:00%2B08:00", "2026-11-05"),
        ("2026-11-03/..", "2026-11-08"),
        ("2026-11-06/2027-01-31", "2026-11-08"),
        ("2026-11-02", "2026-11-02"),
    ] {
        let (s, b) = ogc(datetime);
        assert_eq!(s, 200, "{datetime}: {b}");
        let fc: Value = serde_json::from_str(&b).unwrap();
        assert_eq!(fc["numberReturned"], 1, "{datetime}: {b}");
        let got = fc["features"][0]["properties"]["risk_score"]
            .as_f64()
            .unwrap();
        assert_eq!(got, batches[day][VILLAGE], "{datetime}: the state of {day}");
    }
    for datetime in [
        "2020-01-01/2020-12-31",
        "2027-01-01/..",
        "../2024-05-01",
        "2024-05-01",
        "2026-11-09T08:00:00Z",
    ] {
        let (s, b) = ogc(datetime);
        assert_eq!(s, 400, "{datetime}: {b}");
        assert!(
            b.contains("datetime") && b.contains("2025-11-08"),
            "{datetime}: {b}"
        );
    }

    // Deleting the history file and restarting rebuilds the same history
    // from base + journal.
    let kept = all_history(&server, &codes);
    drop(server);
    delete_history(&data);
    assert!(!data.join(".journal.history.sqlite").exists());
    let server = start("2026-11-08");
    assert!(data.join(".journal.history.sqlite").exists());
    let rebuilt = all_history(&server, &codes);
    assert_eq!(rebuilt.len(), kept.len());
    for (a, b) in kept.iter().zip(&rebuilt) {
        assert_eq!(a, b, "history of {} rebuilt", a["code"]);
    }
}

/// A server running across midnight (its clock started thirty seconds before
/// midnight in Shanghai) steps its history into the new day without
/// rebuilding it: a major record due on the first day is overdue on the
/// second, a write on the second day counts there, both days equal the
/// batch scores of those days, and a history rebuilt from the journal is
/// the same.
#[test]
fn a_server_running_across_midnight_steps_its_history_into_the_new_day() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("ds");
    write_tiny_dataset(&data);
    install_demo_tokens(tmp.path());
    let (first, second) = ("2026-11-02", "2026-11-03");
    let server = Server::start_env(
        tmp.path(),
        &data,
        &[],
        &[("RISKMAP_NOW", "2026-11-02T15:59:30Z")],
    );
    assert_eq!(get(&server, "/health", None)["as_of"], first);
    let mut r = Records::default();
    r.report(&server, "A", CELL1, "major", first);
    r.report(&server, "B", CELL2, "general", "2026-11-20");
    let journal = std::fs::read_to_string(data.join("journal.jsonl")).unwrap();
    for line in journal.lines() {
        let at = serde_json::from_str::<Value>(line).unwrap()["at"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(
            shanghai_day(&at),
            first,
            "the reports were written late: {at}"
        );
    }
    let waited = Instant::now();
    while get(&server, "/health", None)["as_of"] != second {
        assert!(
            waited.elapsed() < Duration::from_secs(60),
            "the server did not reach {second}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    r.act(&server, "B", "start");
    // The history steps into the new day in the background (after the
    // reload and the write); `/health` reports what it holds.
    let waited = Instant::now();
    let mut health = get(&server, "/health", None);
    while health["history"]["last"] != second && waited.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(100));
        health = get(&server, "/health", None);
    }
    assert_eq!(health["history"]["last"], second, "{health}");
    assert_eq!(health["history"]["first"], "2025-11-03", "{health}");

    let batches: Vec<BTreeMap<String, f64>> = [first, second]
        .iter()
        .map(|d| score_as_of(tmp.path(), &data, d))
        .collect();
    let codes: Vec<String> = batches[0].keys().cloned().collect();
    assert_ne!(
        batches[0][VILLAGE], batches[1][VILLAGE],
        "the overdue record moves the village's score at midnight"
    );
    for code in &codes {
        let h = get(
            &server,
            &format!("/api/cells/{code}/history?from={first}&to={second}"),
            None,
        );
        for (i, batch) in batches.iter().enumerate() {
            let got = h["series"][i]["risk_score"].as_f64().unwrap();
            assert_eq!(got, batch[code], "{code} on day {i}: history vs score");
        }
    }
    let h = get(
        &server,
        &format!("/api/cells/{VILLAGE}/history?from={first}&to={second}"),
        Some(PLANNER),
    );
    let got: Vec<[u64; 5]> = h["series"].as_array().unwrap().iter().map(five).collect();
    // Day 1: A and B found, A major. Day 2: A overdue and major.
    assert_eq!(got, [[2, 0, 0, 0, 1], [0, 0, 0, 1, 1]], "{h}");

    let kept = all_history(&server, &codes);
    drop(server);
    delete_history(&data);
    let server = Server::start_env(
        tmp.path(),
        &data,
        &[],
        &[("RISKMAP_NOW", "2026-11-03T02:00:00Z")],
    );
    assert_eq!(
        all_history(&server, &codes),
        kept,
        "rebuilt from the journal"
    );
}
