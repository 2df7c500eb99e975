//! `riskmap export-pmtiles`: the real binary writes a PMTiles v3 archive of
//! the tiny dataset; its header is checked by hand and with the `pmtiles`
//! crate, and the whole archive is read back with the independent Python
//! `pmtiles` package (tests/pmtiles_read.py). Every tile must equal what
//! the real server sends for the same `z/x/y` (anonymously for the public
//! export, with a planner's token for `--include-private`), and every
//! non-empty server tile in the data's area must be in the archive. As
//! both the export and the server build tiles with the same code, the tile
//! holding the whole dataset is also decoded and its features counted per
//! layer against the fixture itself.

mod common;

use common::*;
use geozero::mvt::{Message, Tile};
use riskmap::crs::mercator::tile_for;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::Path;
use std::process::Command;

const MINZOOM: u8 = 6;
const MAXZOOM: u8 = 14;
const PRIVATE: [&str; 2] = ["enterprises", "hazard_sources"];

type Tiles = BTreeMap<(u8, u32, u32), Vec<u8>>;

/// The tiny dataset with the demo tokens, in `dir/ds`.
fn dataset(dir: &Path) {
    write_tiny_dataset(&dir.join("ds"));
    install_demo_tokens(dir);
}

fn export(dir: &Path, out: &str, extra: &[&str]) -> std::process::Output {
    let min = MINZOOM.to_string();
    let max = MAXZOOM.to_string();
    let mut args = vec![
        "export-pmtiles",
        "--data",
        "ds",
        "--out",
        out,
        "--minzoom",
        &min,
        "--maxzoom",
        &max,
    ];
    args.extend_from_slice(extra);
    run(dir, &args)
}

/// `GET /tiles/z/x/y.mvt` without gzip: status and body.
fn server_tile(server: &Server, (z, x, y): (u8, u32, u32), token: Option<&str>) -> (u16, Vec<u8>) {
    let mut req = ureq::get(&format!("{}/tiles/{z}/{x}/{y}.mvt", server.base));
    if let Some(t) = token {
        req = req.set("Authorization", &format!("Bearer {t}"));
    }
    let resp = match req.call() {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("GET {z}/{x}/{y}: {e}"),
    };
    let status = resp.status();
    assert!(resp.header("content-encoding").is_none());
    let mut body = Vec::new();
    resp.into_reader().read_to_end(&mut body).unwrap();
    (status, body)
}

fn layer_names(mvt: &[u8]) -> BTreeSet<String> {
    Tile::decode(mvt)
        .unwrap()
        .layers
        .into_iter()
        .map(|l| l.name)
        .collect()
}

/// Checks the fixed v3 header by hand and with the `pmtiles` crate.
fn check_header(path: &Path) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[..7], b"PMTiles", "magic");
    assert_eq!(bytes[7], 3, "spec version");
    let h = pmtiles::Header::try_from_bytes(bytes::Bytes::from(bytes[..127].to_vec())).unwrap();
    assert_eq!(h.tile_type, pmtiles::TileType::Mvt);
    assert_eq!(h.tile_compression, pmtiles::Compression::Gzip);
    assert_eq!((h.min_zoom, h.max_zoom), (MINZOOM, MAXZOOM));
    // The tiny grid spans 118.58–118.61 E, 24.90–24.92 N.
    assert!(
        (h.min_longitude - 118.58).abs() < 1e-6,
        "{}",
        h.min_longitude
    );
    assert!((h.max_latitude - 24.92).abs() < 1e-6, "{}", h.max_latitude);
}

fn has_python_pmtiles() -> bool {
    require_python_module("pmtiles.reader", "pmtiles")
}

/// Reads the archive with the Python `pmtiles` package: header facts,
/// metadata and every tile (gunzipped).
fn read_with_python(path: &Path) -> (Value, Tiles) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pmtiles_read.py");
    let o = Command::new(python())
        .arg(script)
        .arg(path)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "pmtiles_read.py: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let tiles = v["tiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let key = (
                u8::try_from(t["z"].as_u64().unwrap()).unwrap(),
                u32::try_from(t["x"].as_u64().unwrap()).unwrap(),
                u32::try_from(t["y"].as_u64().unwrap()).unwrap(),
            );
            (key, hex::decode(t["hex"].as_str().unwrap()).unwrap())
        })
        .collect();
    (v, tiles)
}

/// Every tile of zooms MINZOOM..=MAXZOOM around the data (one tile of
/// margin) that the server answers with content, with its body.
fn server_tiles(server: &Server, token: Option<&str>) -> Tiles {
    let mut out = Tiles::new();
    for z in MINZOOM..=MAXZOOM {
        let (x0, y0) = tile_for(118.58, 24.92, z);
        let (x1, y1) = tile_for(118.615, 24.90, z);
        for x in x0.saturating_sub(1)..=x1 + 1 {
            for y in y0.saturating_sub(1)..=y1 + 1 {
                let (status, body) = server_tile(server, (z, x, y), token);
                match status {
                    200 => {
                        out.insert((z, x, y), body);
                    }
                    204 => {}
                    s => panic!("{z}/{x}/{y}: {s}"),
                }
            }
        }
    }
    out
}

fn check_archive(path: &Path, server: &Server, token: Option<&str>, data_version: &str) -> Tiles {
    check_header(path);
    let (v, tiles) = read_with_python(path);
    assert_eq!(v["version"], 3);
    assert_eq!(v["tile_type"], "mvt");
    assert_eq!(v["tile_compression"], "gzip");
    assert_eq!(v["min_zoom"].as_u64(), Some(u64::from(MINZOOM)));
    assert_eq!(v["max_zoom"].as_u64(), Some(u64::from(MAXZOOM)));
    assert_eq!(v["addressed_tiles"].as_u64(), Some(tiles.len() as u64));
    let meta = &v["metadata"];
    assert_eq!(meta["data_version"], data_version);
    assert_eq!(meta["name"], "riskmap");
    assert!(
        meta["attribution"]
            .as_str()
            .is_some_and(|a| a.contains("GS(2024)0650")),
        "{meta}"
    );
    let layers: Vec<&str> = meta["vector_layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    let mut expected = vec!["counties", "towns", "villages", "cells", "collapse_zones"];
    if token.is_some() {
        expected.extend([
            "hazard_sources",
            "enterprises",
            "hidden_dangers",
            "sensors",
            "alarms",
        ]);
    }
    assert_eq!(layers, expected);
    for l in meta["vector_layers"].as_array().unwrap() {
        let d = l["description"].as_str().unwrap_or_default();
        assert!(!d.contains("requires a token"), "{l}");
        let private = [
            "hazard_sources",
            "enterprises",
            "hidden_dangers",
            "sensors",
            "alarms",
        ]
        .contains(&l["id"].as_str().unwrap());
        assert_eq!(d.contains("confidential"), private, "{l}");
    }
    // The archive holds exactly the server's non-empty tiles, byte for byte.
    let want = server_tiles(server, token);
    assert!(!want.is_empty());
    let got_keys: Vec<_> = tiles.keys().collect();
    let want_keys: Vec<_> = want.keys().collect();
    assert_eq!(got_keys, want_keys);
    for (key, body) in &want {
        assert!(
            tiles[key] == *body,
            "tile {key:?} differs from the server's"
        );
    }
    for z in MINZOOM..=MAXZOOM {
        assert!(tiles.keys().any(|k| k.0 == z), "no tile at zoom {z}");
    }
    tiles
}

/// Features per tile layer in the tiny fixture, counted from its files:
/// grid units by `level` (counties are the towns' distinct parents), zones
/// and hazard sources by feature, enterprises by CSV row.
fn fixture_counts(private: bool) -> BTreeMap<String, usize> {
    let grid: Value = serde_json::from_str(&grid_geojson()).unwrap();
    let feats = grid["features"].as_array().unwrap();
    let level = |l: &'static str| feats.iter().filter(move |f| f["properties"]["level"] == l);
    let counties: BTreeSet<&str> = level("town")
        .map(|f| f["properties"]["parent_code"].as_str().unwrap())
        .collect();
    let n = |text: String| {
        serde_json::from_str::<Value>(&text).unwrap()["features"]
            .as_array()
            .unwrap()
            .len()
    };
    let mut out = BTreeMap::from([
        ("counties".to_string(), counties.len()),
        ("towns".to_string(), level("town").count()),
        ("villages".to_string(), level("village").count()),
        ("cells".to_string(), level("cell").count()),
        ("collapse_zones".to_string(), n(zones_geojson())),
    ]);
    if private {
        out.insert("hazard_sources".into(), n(hazards_geojson()));
        out.insert("enterprises".into(), enterprises_csv().lines().count() - 1);
    }
    out
}

/// Features per layer of an MVT tile (geozero's protobuf types).
fn layer_counts(mvt: &[u8]) -> BTreeMap<String, usize> {
    Tile::decode(mvt)
        .unwrap()
        .layers
        .into_iter()
        .map(|l| (l.name, l.features.len()))
        .collect()
}

/// The archive's z12 tile, which holds the whole tiny dataset, has every
/// feature of the fixture.
fn check_feature_counts(tiles: &Tiles, private: bool) {
    let key = (
        12,
        tile_for(118.58, 24.90, 12).0,
        tile_for(118.58, 24.90, 12).1,
    );
    assert_eq!(
        key,
        (
            12,
            tile_for(118.61, 24.92, 12).0,
            tile_for(118.61, 24.92, 12).1
        )
    );
    let tile = tiles.get(&key).expect("the z12 tile of the data");
    assert_eq!(layer_counts(tile), fixture_counts(private));
}

#[test]
fn public_and_private_archives_hold_the_servers_tiles() {
    let tmp = tempfile::tempdir().unwrap();
    dataset(tmp.path());
    let o = export(tmp.path(), "public.pmtiles", &[]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert!(stderr.contains("public access"), "{stderr}");
    assert!(!stderr.contains("WARNING"), "{stderr}");
    let o = export(tmp.path(), "private.pmtiles", &["--include-private"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert!(
        stderr.contains("WARNING") && stderr.contains("confidential"),
        "{stderr}"
    );
    let names: BTreeSet<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names.iter().any(|n| n.ends_with(".tmp")),
        "temporary file left: {names:?}"
    );
    assert!(
        !names.contains("index.html") && !names.contains("site.json"),
        "no page without --with-page: {names:?}"
    );
    check_header(&tmp.path().join("public.pmtiles"));
    check_header(&tmp.path().join("private.pmtiles"));
    if !has_python_pmtiles() {
        return;
    }
    let server = Server::start(tmp.path(), &tmp.path().join("ds"), &[]);
    let (status, health) = server.get("/health");
    assert_eq!(status, 200);
    let health: Value = serde_json::from_str(&health).unwrap();
    let version = health["data_version"].as_str().unwrap().to_string();

    let public = check_archive(&tmp.path().join("public.pmtiles"), &server, None, &version);
    for (key, body) in &public {
        let layers = layer_names(body);
        assert!(
            PRIVATE.iter().all(|p| !layers.contains(*p)),
            "public tile {key:?} has {layers:?}"
        );
    }
    check_feature_counts(&public, false);
    let private = check_archive(
        &tmp.path().join("private.pmtiles"),
        &server,
        Some(PLANNER),
        &version,
    );
    check_feature_counts(&private, true);
    let all: BTreeSet<String> = private.values().flat_map(|b| layer_names(b)).collect();
    for p in PRIVATE {
        assert!(all.contains(p), "no {p} in the private archive: {all:?}");
    }
}

#[test]
fn bad_requests_fail_clearly_and_leave_no_file() {
    let tmp = tempfile::tempdir().unwrap();
    dataset(tmp.path());
    let o = run(
        tmp.path(),
        &[
            "export-pmtiles",
            "--data",
            "ds",
            "--out",
            "x.pmtiles",
            "--minzoom",
            "9",
            "--maxzoom",
            "3",
        ],
    );
    assert!(!o.status.success());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("minzoom 9 is above maxzoom 3"), "{stderr}");
    let o = run(
        tmp.path(),
        &[
            "export-pmtiles",
            "--data",
            "ds",
            "--out",
            "no-such-dir/x.pmtiles",
        ],
    );
    assert!(!o.status.success());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("no-such-dir/x.pmtiles.tmp"), "{stderr}");
    // An existing archive stays as it was when an export fails.
    std::fs::write(tmp.path().join("x.pmtiles"), b"old").unwrap();
    std::fs::remove_file(tmp.path().join("ds/grid_cells.geojson")).unwrap();
    let o = run(
        tmp.path(),
        &["export-pmtiles", "--data", "ds", "--out", "x.pmtiles"],
    );
    assert!(!o.status.success());
    assert_eq!(std::fs::read(tmp.path().join("x.pmtiles")).unwrap(), b"old");
    assert!(!tmp.path().join("x.pmtiles.tmp").exists());
}

/// Every file under `dir` (recursively) as paths relative to `base`,
/// without READMEs.
fn files_under(base: &Path, dir: &Path, out: &mut BTreeSet<String>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files_under(base, &p, out);
        } else if p.file_name().is_some_and(|n| n != "README.md") {
            let rel = p.strip_prefix(base).unwrap().to_string_lossy();
            out.insert(rel.replace('\\', "/"));
        }
    }
}

/// The values of `attr="…"` in `html`.
fn attr_values<'a>(html: &'a str, attr: &str) -> Vec<&'a str> {
    let key = format!(" {attr}=\"");
    html.match_indices(&key)
        .filter_map(|(i, _)| {
            let rest = &html[i + key.len()..];
            rest.split_once('"').map(|(v, _)| v)
        })
        .collect()
}

fn is_relative(path: &str) -> bool {
    !path.is_empty() && !path.starts_with('/') && !path.contains("://") && !path.contains("..")
}

#[test]
fn with_page_writes_a_static_site_with_relative_paths() {
    let tmp = tempfile::tempdir().unwrap();
    dataset(tmp.path());
    // The folder is made when missing.
    let o = export(tmp.path(), "site/risk.pmtiles", &["--with-page"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert!(stderr.contains("wrote the web page"), "{stderr}");
    let site = tmp.path().join("site");

    // Every file the server embeds, at the path the page asks for.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut repo = BTreeSet::new();
    for dir in ["web", "styles", "fonts"] {
        files_under(root, &root.join(dir), &mut repo);
    }
    let mut written = BTreeSet::new();
    files_under(&site, &site, &mut written);
    let mut want: BTreeSet<String> = repo
        .iter()
        .map(|p| {
            if p == "web/index.html" {
                "index.html".to_string()
            } else {
                p.clone()
            }
        })
        .collect();
    want.insert("site.json".into());
    want.insert("risk.pmtiles".into());
    // The built-in basemap, as the server serves it.
    for f in [
        "basemap.json",
        "basemap/land.geojson",
        "basemap/places.geojson",
    ] {
        want.insert(f.into());
    }
    assert_eq!(written, want);
    let basemap: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(site.join("basemap.json")).unwrap()).unwrap();
    assert_eq!(basemap["places"], "basemap/places.geojson");
    let places = std::fs::read_to_string(site.join("basemap/places.geojson")).unwrap();
    assert!(places.contains("九都镇"), "{places:.200}");
    for p in &repo {
        if p == "web/index.html" || p == "styles/riskmap.json" {
            continue;
        }
        assert!(
            std::fs::read(site.join(p)).unwrap() == std::fs::read(root.join(p)).unwrap(),
            "{p} differs from the repository's"
        );
    }
    assert!(site.join("web/vendor/pmtiles.js").is_file());
    assert!(site.join("web/vendor/pmtiles-LICENSE.txt").is_file());

    // The page: its own references are relative, it names site.json and
    // carries the server's policy.
    let html = std::fs::read_to_string(site.join("index.html")).unwrap();
    assert!(html.contains(r#"<meta name="riskmap-site" content="site.json">"#));
    assert!(
        html.contains(r#"<meta http-equiv="Content-Security-Policy" content="default-src 'self';"#)
    );
    let refs: Vec<&str> = attr_values(&html, "src")
        .into_iter()
        .chain(attr_values(&html, "href"))
        .filter(|v| *v != "#")
        .collect();
    assert!(refs.len() >= 5, "{refs:?}");
    for r in refs {
        assert!(is_relative(r), "{r} is not relative");
        assert!(site.join(r).is_file(), "{r} is not in the folder");
    }

    // site.json names the archive and the style relative to the page.
    let config: Value =
        serde_json::from_str(&std::fs::read_to_string(site.join("site.json")).unwrap()).unwrap();
    for key in ["pmtiles", "style"] {
        let path = config[key].as_str().unwrap();
        assert!(is_relative(path), "{key}: {path}");
        assert!(site.join(path).is_file(), "{key}: {path}");
    }
    assert_eq!(config["pmtiles"], "risk.pmtiles");
    assert_eq!(config["access"], "public");
    assert_eq!(config["maxzoom"].as_u64(), Some(u64::from(MAXZOOM)));
    let version = config["data_version"].as_str().unwrap();
    assert!(
        stderr.contains(&format!("data_version {version}")),
        "{stderr}"
    );
    let exported = config["exported"].as_str().unwrap();
    assert!(
        exported.len() == 20 && exported.ends_with('Z') && exported.as_bytes()[10] == b'T',
        "{exported}"
    );

    // The style: the archive and glyphs relative to the page, every font
    // it names present, everything else as the server's.
    let style: Value =
        serde_json::from_str(&std::fs::read_to_string(site.join("styles/riskmap.json")).unwrap())
            .unwrap();
    let server: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("styles/riskmap.json")).unwrap())
            .unwrap();
    assert_eq!(style["sources"]["riskmap"]["url"], "pmtiles://risk.pmtiles");
    let glyphs = style["glyphs"].as_str().unwrap();
    assert!(is_relative(glyphs), "{glyphs}");
    let fonts: BTreeSet<String> = style["layers"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["layout"]["text-font"].as_array())
        .map(|f| {
            f.iter()
                .map(|s| s.as_str().unwrap())
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect();
    assert!(!fonts.is_empty());
    for f in fonts {
        let file = glyphs
            .replace("{fontstack}", &f)
            .replace("{range}", "0-255");
        assert!(site.join(&file).is_file(), "{file} missing");
    }
    assert_eq!(style["layers"], server["layers"]);
    assert_eq!(style["metadata"], server["metadata"]);

    // The archive's name must be one site.json can name.
    let o = export(tmp.path(), "other/site.json", &["--with-page"]);
    assert!(!o.status.success());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("plain file name"), "{stderr}");
}
