//! The PostGIS source (`--data postgresql://…`) against a real PostgreSQL
//! 15 + PostGIS cluster started for each test: the tiny fixture loaded into
//! tables loads like the files; two loads, and two servers, agree on the
//! data_version and ETags; servers reload when the database changes and
//! keep serving the old data when the change does not validate.
//!
//! Without PostgreSQL 15, PostGIS, `ogr2ogr` or root, the tests fail in CI
//! and skip loudly elsewhere (`common::require`); `scripts/test.sh`
//! installs them.

mod common;

use common::postgres::Postgis;
use common::*;
use geo::{CoordsIter, HausdorffDistance};
use riskmap::auth::Scope;
use riskmap::config::Config;
use riskmap::export::{ExportOptions, plan};
use riskmap::generate::{Preset, generate_dataset};
use riskmap::ingest::postgis;
use riskmap::model::Value;
use riskmap::snapshot::Snapshot;
use riskmap::write::{Format, write_dataset};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Loads the tiny fixture: the GeoJSON layers through `ogr2ogr` (hazard
/// sources also as `hazard_sources_gk`, in CGCS2000 Gauss–Krüger
/// EPSG:4549), the enterprise ledger as a table without geometry whose
/// columns are the CSV's Chinese headers.
fn load_fixture(pg: &Postgis, files: &Path) {
    for (layer, table, srs) in [
        ("grid_cells", "grid_cells", None),
        ("collapse_zones", "collapse_zones", None),
        ("hazard_sources", "hazard_sources", None),
        ("hazard_sources", "hazard_sources_gk", Some("EPSG:4549")),
    ] {
        let file = files.join(format!("{layer}.geojson"));
        match srs {
            Some(srs) => pg.ogr2ogr(&file, table, &["-t_srs", srs]),
            None => pg.ogr2ogr(&file, table, &[]),
        }
    }
    let mut sql = String::from(
        "CREATE TABLE enterprises (企业编号 text PRIMARY KEY, 企业名称 text, 行业类别 text, \
         风险等级 text, 从业人员 integer, 未整改隐患 integer, 重大隐患 integer, 黑名单 text, \
         经度 numeric, 纬度 double precision);",
    );
    for line in enterprises_csv().lines().skip(1) {
        let v: Vec<&str> = line.split(',').collect();
        sql.push_str(&format!(
            "INSERT INTO enterprises VALUES ('{}','{}','{}','{}',{},{},{},'{}',{},{});",
            v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9]
        ));
    }
    pg.psql(&sql);
}

/// A cluster holding the fixture, and the fixture's folder; `None` (after
/// printing why) when the tools are missing.
fn setup(tmp: &Path) -> Option<(Postgis, PathBuf)> {
    let pg = Postgis::start_or_skip(tmp)?;
    let files = tmp.join("files");
    write_tiny_dataset(&files);
    load_fixture(&pg, &files);
    Some((pg, files))
}

fn load(source: &str, config: &Config) -> Snapshot {
    Snapshot::load(Path::new(source), config).unwrap_or_else(|e| {
        let shown: Vec<String> = e.issues.iter().map(|i| i.to_string()).collect();
        panic!("{e}\n{}", shown.join("\n"))
    })
}

/// Risk score per grid unit code.
fn scores(snap: &Snapshot) -> HashMap<String, f64> {
    let table = riskmap::report::scores_table(&snap.store, &snap.scores);
    let col = |n: &str| table.columns.iter().position(|c| c.name == n).unwrap();
    let (code, score) = (col("code"), col("risk_score"));
    table
        .features
        .iter()
        .map(|f| {
            let Value::Float(x) = f.values[score] else {
                panic!("risk_score is not a number")
            };
            (f.values[code].to_string(), x)
        })
        .collect()
}

fn assert_same(files: &Snapshot, db: &Snapshot, tolerance: f64) {
    assert_eq!(files.counts(), db.counts());
    let (a, b) = (&files.store.dataset, &db.store.dataset);
    let units: HashMap<&str, _> = b.units.iter().map(|u| (u.code.as_str(), u)).collect();
    for u in &a.units {
        let o = units[u.code.as_str()];
        assert_eq!(
            (&u.name, u.level, &u.parent_code, u.population),
            (&o.name, o.level, &o.parent_code, o.population)
        );
        // Within 1e-9° (serde_json may parse the files' text 1 ulp off).
        assert_eq!(u.geometry.coords_count(), o.geometry.coords_count());
        let d = u.geometry.hausdorff_distance(&o.geometry);
        assert!(d < 1e-9, "unit {} moved {d}°", u.code);
    }
    let ents: HashMap<&str, _> = b.enterprises.iter().map(|e| (e.id.as_str(), e)).collect();
    for e in &a.enterprises {
        let o = ents[e.id.as_str()];
        assert_eq!(
            (
                &e.name,
                e.industry,
                e.risk_grade,
                e.blacklisted,
                e.employees
            ),
            (
                &o.name,
                o.industry,
                o.risk_grade,
                o.blacklisted,
                o.employees
            )
        );
        let d = (e.location.x() - o.location.x()).hypot(e.location.y() - o.location.y());
        assert!(d < 1e-9, "enterprise {} moved {d}°", e.id);
    }
    let (sa, sb) = (scores(files), scores(db));
    assert_eq!(sa.len(), sb.len());
    assert!(sa.values().any(|s| *s > 0.0), "{sa:?}");
    for (code, x) in &sa {
        let y = sb[code];
        assert!((x - y).abs() <= tolerance, "unit {code}: {x} vs {y}");
    }
}

#[test]
fn tables_load_like_the_files_with_a_stable_data_version() {
    let tmp = tempfile::tempdir().unwrap();
    let Some((pg, files)) = setup(tmp.path()) else {
        return;
    };
    let config = Config::default();
    let expected = load(path_str(&files), &config);
    let url = pg.url();
    let got = load(&url, &config);
    assert_same(&expected, &got, 1e-9);
    let names: Vec<String> = got
        .files
        .iter()
        .map(|f| f.path.display().to_string())
        .collect();
    assert!(
        names.contains(&"public.grid_cells".to_string()),
        "{names:?}"
    );

    // Same database, same data_version: on a second load, and from the
    // cheap poll.
    let again = load(&url, &config);
    assert_eq!(again.data_version, got.data_version);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let polled = runtime
        .block_on(postgis::data_version(&url, &config.ingest()))
        .unwrap();
    assert_eq!(polled, got.data_version);
    // A change to a table changes it.
    pg.psql("UPDATE grid_cells SET population = population + 1 WHERE code = '350502001001001'");
    let polled = runtime
        .block_on(postgis::data_version(&url, &config.ingest()))
        .unwrap();
    assert_ne!(polled, got.data_version);
    assert_eq!(load(&url, &config).data_version, polled);

    // A table in Gauss–Krüger metres, named in the config, is converted
    // back to lon/lat.
    let mut gk = Config::default();
    gk.layers.hazard_sources.layer = Some("public.hazard_sources_gk".into());
    let converted = load(&url, &gk);
    let (h, o) = (
        &expected.store.dataset.hazard_sources[0],
        &converted.store.dataset.hazard_sources[0],
    );
    let metres =
        (h.location.x() - o.location.x()).hypot(h.location.y() - o.location.y()) * 111_320.0;
    assert!(metres < 0.01, "moved {metres} m");

    // The command line reads it too, and never prints the password.
    let o = run(tmp.path(), &["validate", "--data", &url]);
    let text = output_text(&o);
    assert!(o.status.success(), "{text}");
    assert!(
        text.contains(": ok — 3 enterprises, 2 hazard sources, 1 collapse zones, 3 cells"),
        "{text}"
    );
    assert!(!text.contains("hunter2"), "{text}");
}

/// The demo city written as FlatGeobuf and copied into tables with
/// `ogr2ogr`, as a GIS office would load its files into PostGIS.
#[test]
fn the_demo_city_in_postgis_gives_the_same_scores_and_tile_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(pg) = Postgis::start_or_skip(tmp.path()) else {
        return;
    };
    let dataset = generate_dataset(Preset::Quanzhou, 42, &|_| {}).unwrap();
    let files = tmp.path().join("demo");
    for file in write_dataset(&files, &dataset, Format::Fgb).unwrap() {
        let table = file.file_stem().and_then(|s| s.to_str()).unwrap();
        pg.ogr2ogr(&file, table, &[]);
    }
    let config = Config::default();
    let expected = load(path_str(&files), &config);
    let got = load(&pg.url(), &config);
    assert!(
        expected.counts().enterprises > 10_000,
        "{:?}",
        expected.counts()
    );
    assert_same(&expected, &got, 1e-9);

    // Every tile to z12 (enterprises and hazard sources too, as a planner
    // sees them) is the same bytes, and so the same ETag.
    let options = ExportOptions {
        maxzoom: 12,
        include_private: true,
        ..ExportOptions::default()
    };
    let tiles = plan(&expected, &options).unwrap();
    assert!(tiles.len() > 200, "{} tiles", tiles.len());
    let build = |snap: &Snapshot, tile| {
        snap.build_tile(Scope::All, tile, &options.policy)
            .map(|t| t.bytes)
    };
    let mut built = 0;
    for &tile in &tiles {
        let (a, b) = (build(&expected, tile), build(&got, tile));
        assert!(a == b, "tile {tile} differs");
        built += usize::from(a.is_some());
    }
    assert!(built * 2 > tiles.len(), "{built} of {} tiles", tiles.len());
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn scores_are_written_back_as_a_postgis_table() {
    let tmp = tempfile::tempdir().unwrap();
    let Some((pg, files)) = setup(tmp.path()) else {
        return;
    };
    let url = pg.url();
    let file = tmp.path().join("scores.geojson");
    let o = run(
        tmp.path(),
        &[
            "score",
            "--data",
            path_str(&files),
            "--out",
            path_str(&file),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let geojson: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let expected: HashMap<String, (f64, String)> = geojson["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let p = &f["properties"];
            let code = p["code"].as_str().unwrap().to_string();
            let level = p["risk_level"].as_str().unwrap().to_string();
            (code, (p["risk_score"].as_f64().unwrap(), level))
        })
        .collect();
    assert!(expected.len() >= 5, "{expected:?}");

    // Twice: the second run refills the table, keeping what the
    // database's users built on it (a grant, a view).
    let score_into = |table: &str| {
        run(
            tmp.path(),
            &["score", "--data", &url, "--out", &url, "--table", table],
        )
    };
    for round in 0..2 {
        let o = score_into("public.risk_scores");
        let text = stderr(&o);
        assert!(o.status.success(), "{text}");
        assert!(text.contains("table public.risk_scores"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
        if round == 0 {
            pg.psql(
                "CREATE ROLE dashboard; GRANT SELECT ON risk_scores TO dashboard; \
                 CREATE VIEW major_units AS SELECT code FROM risk_scores WHERE risk_score >= 0",
            );
        }
    }
    assert_eq!(
        pg.psql("SELECT has_table_privilege('dashboard', 'risk_scores', 'SELECT')")
            .trim(),
        "t"
    );
    assert_eq!(
        pg.psql("SELECT count(*) FROM major_units").trim(),
        expected.len().to_string()
    );
    let rows = pg.psql(
        "SELECT code, risk_score, risk_level, ST_SRID(geom), GeometryType(geom), \
         ST_IsValid(geom) FROM risk_scores",
    );
    let mut seen = 0;
    for line in rows.lines() {
        let v: Vec<&str> = line.split('|').collect();
        let (score, level) = &expected[v[0]];
        let got: f64 = v[1].parse().unwrap();
        assert!((got - score).abs() < 1e-9, "{line}: {score}");
        assert_eq!(v[2], level, "{line}");
        assert_eq!(v[3..], ["4326", "MULTIPOLYGON", "t"], "{line}");
        seen += 1;
    }
    assert_eq!(seen, expected.len(), "{rows}");
    let key = pg.psql(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a \
         ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) \
         WHERE i.indrelid = 'risk_scores'::regclass AND i.indisprimary",
    );
    assert_eq!(key.trim(), "code");
    let gist = pg.psql("SELECT indexdef FROM pg_indexes WHERE tablename = 'risk_scores'");
    assert!(gist.contains("USING gist (geom)"), "{gist}");
    let comment = pg.psql("SELECT obj_description('risk_scores'::regclass)");
    let version = load(&url, &Config::default()).data_version;
    assert!(comment.starts_with("riskmap:"), "{comment}");
    assert!(comment.contains(&version), "{comment} / {version}");
    // A table riskmap did not write is never replaced.
    let o = score_into("grid_cells");
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("not written by riskmap"),
        "{}",
        stderr(&o)
    );
    assert_eq!(pg.psql("SELECT count(*) > 0 FROM grid_cells").trim(), "t");
    // GDAL reads it as a layer with every scored unit.
    let info = tool("ogrinfo", &["-so", &pg.gdal(), "risk_scores"]);
    assert!(
        info.contains(&format!("Feature Count: {}", expected.len())),
        "{info}"
    );

    // Errors name the problem, never the password.
    pg.psql_db("postgres", "CREATE DATABASE plain");
    let plain = url.replace("/riskmap", "/plain");
    let o = run(tmp.path(), &["score", "--data", &url, "--out", &plain]);
    let text = stderr(&o);
    assert!(!o.status.success());
    assert!(text.contains("CREATE EXTENSION postgis"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
    let o = run(
        tmp.path(),
        &[
            "score",
            "--data",
            &url,
            "--out",
            &url,
            "--table",
            "x; DROP TABLE grid_cells",
        ],
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("not a table name"), "{}", stderr(&o));
}

/// A CA and a certificate it signs for 127.0.0.1 and localhost, in PEM:
/// (CA certificate, server certificate, server key).
fn certificates() -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "泉州市应急管理局 test CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    (ca_cert.pem(), server.pem(), key.serialize_pem())
}

#[test]
fn tls_connections_verify_the_database_certificate() {
    let tmp = tempfile::tempdir().unwrap();
    let Some((pg, files)) = setup(tmp.path()) else {
        return;
    };
    let (ca, cert, key) = certificates();
    pg.require_tls(&cert, &key);
    let ca_file = tmp.path().join("city-ca.pem");
    std::fs::write(&ca_file, ca).unwrap();
    let mut config = Config::default();
    config.source.tls_ca = Some(ca_file.clone());
    let tls_url = format!("{}?sslmode=require", pg.url());
    let expected = load(path_str(&files), &config);
    assert_same(&expected, &load(&tls_url, &config), 1e-9);

    let refused = |url: &str, config: &Config| {
        let Err(e) = Snapshot::load(Path::new(url), config) else {
            panic!("{url}: the load should fail");
        };
        let text: Vec<String> = e.issues.iter().map(|i| i.to_string()).collect();
        let text = text.join("\n");
        assert!(!text.contains("hunter2"), "{text}");
        text
    };
    // The server takes no plain connections …
    let text = refused(&pg.url(), &config);
    assert!(text.contains("no encryption"), "{text}");
    // … and a certificate from an unknown CA is not trusted.
    let text = refused(&tls_url, &Config::default());
    assert!(text.to_lowercase().contains("certificate"), "{text}");

    // The command line, the poller and the score writer use the same
    // connection.
    let cwd = tmp.path().join("run");
    install_demo_tokens(&cwd);
    std::fs::write(
        cwd.join("riskmap.toml"),
        format!(
            "[source]\npoll_secs = 1\ntls_ca = \"{}\"\n",
            path_str(&ca_file)
        ),
    )
    .unwrap();
    let o = run(&cwd, &["validate", "--data", &tls_url]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&cwd, &["score", "--data", &tls_url, "--out", &tls_url]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        pg.psql("SELECT count(*) FROM riskmap_scores").trim(),
        expected.store.dataset.units.len().to_string()
    );
    let server = Server::start(&cwd, Path::new(&tls_url), &[]);
    pg.psql("DELETE FROM enterprises WHERE 企业编号 = 'E2'");
    wait_for(&server, "the change over TLS", |h| {
        h["counts"]["enterprises"] == 2 && h["source"]["reachable"] == true
    });
}

#[test]
fn bad_rows_are_named_by_table_row_and_field() {
    let tmp = tempfile::tempdir().unwrap();
    let Some((pg, _files)) = setup(tmp.path()) else {
        return;
    };
    pg.psql("UPDATE collapse_zones SET severity = 7");
    pg.psql("UPDATE enterprises SET 经度 = 500 WHERE 企业编号 = 'E2'");
    let err =
        Snapshot::load(Path::new(&pg.url()), &Config::default()).expect_err("the load must fail");
    let shown: Vec<String> = err.issues.iter().map(|i| i.to_string()).collect();
    let text = shown.join("\n");
    assert!(
        shown
            .iter()
            .any(|l| l.starts_with("public.collapse_zones:#1 CZ-1: field `severity`:")),
        "{text}"
    );
    assert!(
        shown
            .iter()
            .any(|l| l.starts_with("public.enterprises:#2 E2: field `lon`:")),
        "{text}"
    );
    assert!(!err.to_string().contains("hunter2"), "{err}");
    // A table the config names must exist.
    let mut config = Config::default();
    config.layers.collapse_zones.layer = Some("no_such_table".into());
    let err = Snapshot::load(Path::new(&pg.url()), &config).expect_err("the load must fail");
    assert!(
        err.issues.iter().any(|i| i.file == "collapse_zones"
            && i.message.starts_with("no table or view no_such_table")),
        "{:?}",
        err.issues
    );
}

#[test]
fn an_unreachable_database_is_a_clear_error() {
    let err = Snapshot::load(
        Path::new("postgresql://u:hunter2@127.0.0.1:1/db"),
        &Config::default(),
    )
    .expect_err("the load must fail");
    let text = err.to_string();
    assert!(text.contains("cannot connect"), "{text}");
    assert!(text.contains("postgresql://u:***@127.0.0.1:1/db"), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
}

fn health(server: &Server) -> serde_json::Value {
    let (status, body) = server.get("/health");
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// Polls `/health` until `done` holds (the servers poll every second).
fn wait_for(server: &Server, what: &str, done: impl Fn(&serde_json::Value) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let h = health(server);
        if done(&h) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {h}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn tile_etag(server: &Server) -> String {
    // The z12 tile holding the whole fixture (not an empty 204).
    let r = ureq::get(&format!("{}/tiles/12/3397/1755.mvt", server.base))
        .call()
        .unwrap();
    assert_eq!(r.status(), 200, "the fixture's tile");
    r.header("ETag").unwrap_or_default().to_string()
}

#[test]
fn servers_on_one_database_agree_and_reload_when_it_changes() {
    let tmp = tempfile::tempdir().unwrap();
    let Some((pg, _files)) = setup(tmp.path()) else {
        return;
    };
    let cwd = tmp.path().join("run");
    install_demo_tokens(&cwd);
    std::fs::write(cwd.join("riskmap.toml"), "[source]\npoll_secs = 1\n").unwrap();
    let url = pg.url();
    let a = Server::start(&cwd, Path::new(&url), &[]);
    let b = Server::start(&cwd, Path::new(&url), &[]);
    let (ha, hb) = (health(&a), health(&b));
    assert_eq!(ha["data_version"], hb["data_version"]);
    assert_eq!(ha["counts"]["enterprises"], 3);
    let etag = tile_etag(&a);
    assert!(etag.starts_with('"'), "{etag}");
    assert_eq!(etag, tile_etag(&b));

    // A committed change reaches both, without a version table.
    pg.psql("DELETE FROM enterprises WHERE 企业编号 = 'E2'");
    for s in [&a, &b] {
        wait_for(s, "the deletion", |h| h["counts"]["enterprises"] == 2);
    }
    let (ha, hb) = (health(&a), health(&b));
    assert_eq!(ha["data_version"], hb["data_version"]);
    let etag2 = tile_etag(&a);
    assert_ne!(etag2, etag);
    assert_eq!(etag2, tile_etag(&b));

    // With a version table, its rows are the version.
    pg.psql(
        "CREATE TABLE riskmap_version (version integer); INSERT INTO riskmap_version VALUES (1)",
    );
    let before = ha["data_version"].clone();
    wait_for(&a, "the version table", |h| h["data_version"] != before);
    // A change that does not validate, with its bump: refused, the old
    // data keeps serving, /health names table and field.
    let served = health(&a)["data_version"].clone();
    pg.psql(
        "BEGIN; UPDATE collapse_zones SET severity = 9; \
         UPDATE riskmap_version SET version = 2; COMMIT;",
    );
    wait_for(&a, "the refused reload", |h| {
        h.get("last_reload_error").is_some()
    });
    let h = health(&a);
    let first = h["last_reload_error"]["first"].as_str().unwrap_or_default();
    assert!(
        first.starts_with("public.collapse_zones: field `severity`:"),
        "{h}"
    );
    assert_eq!(h["data_version"], served);
    assert_eq!(h["counts"]["collapse_zones"], 1);
    // The fix, with the next bump, is served.
    pg.psql(
        "BEGIN; UPDATE collapse_zones SET severity = 2; \
         UPDATE riskmap_version SET version = 3; COMMIT;",
    );
    wait_for(&a, "the fixed data", |h| {
        h.get("last_reload_error").is_none() && h["data_version"] != served
    });
    assert_eq!(health(&a)["source"]["reachable"], true);

    // LISTEN/NOTIFY: a server that does not poll reloads when notified.
    let quiet = tmp.path().join("listen");
    install_demo_tokens(&quiet);
    std::fs::write(
        quiet.join("riskmap.toml"),
        "[source]\npoll_secs = 0\nlisten = \"riskmap_changes\"\n",
    )
    .unwrap();
    let c = Server::start(&quiet, Path::new(&url), &[]);
    // Listening, and the check made on connecting (which could otherwise
    // see the change below) is done.
    wait_for(&c, "the LISTEN connection and its first check", |h| {
        h["source"]["listening"] == true && h["source"]["checks"].as_u64() >= Some(1)
    });
    let before = health(&c)["data_version"].clone();
    pg.psql(
        "BEGIN; DELETE FROM hazard_sources WHERE id = 'HS-2'; \
         DELETE FROM enterprises WHERE 企业编号 = 'E3'; \
         UPDATE riskmap_version SET version = 4; COMMIT;",
    );
    wait_for(&a, "the second deletion", |h| {
        h["counts"]["enterprises"] == 1
    });
    assert_eq!(health(&c)["data_version"], before, "c does not poll");
    pg.psql("NOTIFY riskmap_changes");
    wait_for(&c, "the notified change", |h| {
        h["counts"]["enterprises"] == 1
    });
    let etag = tile_etag(&a);
    assert_eq!(etag, tile_etag(&c));

    // An outage: the last snapshot keeps serving and /health says since
    // when the database cannot be reached; then it comes back.
    pg.stop();
    wait_for(&a, "the outage", |h| h["source"]["reachable"] == false);
    let h = health(&a);
    let error = h["source"]["error"].as_str().unwrap_or_default();
    assert!(error.contains("cannot connect"), "{h}");
    assert!(!error.contains("hunter2"), "{h}");
    assert!(h["source"]["failing_since"].as_u64().is_some(), "{h}");
    assert_eq!(h["counts"]["enterprises"], 1);
    assert_eq!(tile_etag(&a), etag);
    let metrics = a.get("/metrics").1;
    assert!(metrics.contains("\nriskmap_source_up 0\n"), "{metrics}");
    wait_for(&c, "the lost LISTEN connection", |h| {
        h["source"]["listening"] == false
    });
    pg.resume();
    wait_for(&a, "the database again", |h| {
        h["source"]["reachable"] == true && h["source"]["failed_checks"] == 0
    });
    wait_for(&c, "the LISTEN connection and a check again", |h| {
        h["source"]["listening"] == true && h["source"]["reachable"] == true
    });
    let metrics = c.get("/metrics").1;
    assert!(
        metrics.contains("\nriskmap_source_listening 1\n"),
        "{metrics}"
    );
    assert!(metrics.contains("\nriskmap_source_up 1\n"), "{metrics}");
    assert_eq!(health(&a)["data_version"], health(&c)["data_version"]);
}

/// The optional `hidden_dangers` table: rows with a point, and a row with
/// no geometry that takes its enterprise's point; a bad row is named.
#[test]
fn hidden_dangers_load_from_their_table() {
    use riskmap::model::{DangerGrade, DangerStatus, Date};
    let tmp = tempfile::tempdir().unwrap();
    let Some((pg, files)) = setup(tmp.path()) else {
        return;
    };
    let snap = load(&pg.url(), &Config::default());
    assert!(!snap.store.dataset.has_hidden_dangers);
    let file = files.join("hidden_dangers.geojson");
    std::fs::write(
        &file,
        "{\"type\":\"FeatureCollection\",\"features\":[\
         {\"type\":\"Feature\",\"properties\":{\"id\":\"HD-1\",\"enterprise_id\":\"E1\",\"category\":\"燃气\",\"grade\":\"major\",\"description\":\"报警器失效\",\"source\":\"inspection\",\"found_at\":\"2026-11-01\",\"deadline\":\"2026-11-30\",\"status\":\"rectifying\"},\"geometry\":{\"type\":\"Point\",\"coordinates\":[118.585,24.906]}},\
         {\"type\":\"Feature\",\"properties\":{\"id\":\"HD-2\",\"category\":\"road\",\"grade\":\"general\",\"description\":\"路面沉陷\",\"source\":\"report\",\"found_at\":\"2026-10-01\",\"status\":\"closed\",\"closed_at\":\"2026-10-09\"},\"geometry\":{\"type\":\"Point\",\"coordinates\":[118.595,24.905]}}]}\n",
    )
    .unwrap();
    pg.ogr2ogr(&file, "hidden_dangers", &[]);
    pg.psql(
        "INSERT INTO hidden_dangers (id, enterprise_id, category, grade, description, source, found_at, status) \
         VALUES ('HD-3', 'E3', 'hazardous_chemicals', 'general', '储罐区', 'self_check', '2026-11-05', 'reported')",
    );
    let snap = load(&pg.url(), &Config::default());
    let ds = &snap.store.dataset;
    assert!(ds.has_hidden_dangers);
    // The records live in the store's hidden-danger book.
    let mut d: Vec<_> = snap
        .store
        .dangers()
        .iter()
        .map(|(_, e)| e.record.clone())
        .collect();
    d.sort_by(|a, b| a.id.cmp(&b.id));
    let ids: Vec<&str> = d.iter().map(|x| x.id.as_str()).collect();
    assert_eq!(ids, ["HD-1", "HD-2", "HD-3"]);
    assert_eq!(d[0].grade, DangerGrade::Major);
    assert_eq!(d[0].deadline, "2026-11-30".parse::<Date>().ok());
    assert_eq!(d[1].status, DangerStatus::Closed);
    assert_eq!(d[1].closed_at, "2026-10-09".parse::<Date>().ok());
    let e3 = ds.enterprises.iter().find(|e| e.id == "E3").unwrap();
    assert_eq!(d[2].location, e3.location);
    pg.psql("UPDATE hidden_dangers SET grade = '重大' WHERE id = 'HD-3'");
    let err =
        Snapshot::load(Path::new(&pg.url()), &Config::default()).expect_err("the load must fail");
    assert!(
        err.issues.iter().any(|i| i.file == "public.hidden_dangers"
            && i.feature.as_deref().is_some_and(|f| f.ends_with("HD-3"))
            && i.field.as_deref() == Some("deadline")),
        "{:?}",
        err.issues
    );
}
