//! Formats through GDAL (`--features gdal`): the demo city written by
//! `ogr2ogr` to a Shapefile in CGCS2000 Gauss–Krüger (EPSG:4527), to a
//! GeoPackage in EPSG:4490 and (enterprises) to an Excel sheet with Chinese
//! headers loads like the native files; GBK Shapefiles; broken Shapefiles;
//! `riskmap score --out .gpkg/.shp` read back by `ogrinfo`.

#![cfg(feature = "gdal")]

mod common;

use common::postgres::Postgis;
use common::*;
use geo::{Area, BoundingRect, CoordsIter, HausdorffDistance};
use riskmap::config::Config;
use riskmap::generate::{Preset, generate_dataset};
use riskmap::model::short_names::{SHORT_NAMES, dbf_names};
use riskmap::model::{Dataset, Value};
use riskmap::snapshot::Snapshot;
use riskmap::write::{Format, dataset_tables, write_dataset};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Metres per degree of latitude (and of longitude at the equator), enough
/// for a 0.5 m tolerance.
const M_PER_DEG: f64 = 111_320.0;

fn ogr2ogr(args: &[&str]) {
    tool("ogr2ogr", args);
}

/// The demo city (Quanzhou preset) natively as GeoJSON and, from those
/// files, through `ogr2ogr`: Shapefiles in EPSG:4527, one GeoPackage in
/// EPSG:4490, and an XLSX of enterprises with Chinese headers.
struct City {
    _tmp: tempfile::TempDir,
    native: PathBuf,
    shp: PathBuf,
    gpkg: PathBuf,
    xlsx: PathBuf,
    dataset: Dataset,
}

const LAYERS: [&str; 5] = [
    "enterprises",
    "hazard_sources",
    "collapse_zones",
    "grid_cells",
    "counties",
];

fn city() -> &'static City {
    static CITY: OnceLock<City> = OnceLock::new();
    CITY.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let mut dataset = generate_dataset(Preset::Quanzhou, 42, &|_| {}).unwrap();
        // The format variants below carry the five ledger layers; the
        // hidden-danger records have their own GDAL round trip
        // (`hidden_dangers_round_trip_through_gdal_formats`), so the
        // reference leaves them (and the sensors and alarms) out too and
        // every variant scores alike.
        dataset.hidden_dangers.clear();
        dataset.has_hidden_dangers = false;
        dataset.sensors.clear();
        dataset.alarms.clear();
        let native = root.join("native");
        write_dataset(&native, &dataset, Format::GeoJson).unwrap();

        // Shapefiles, projected to Gauss–Krüger zone 39 with the zone
        // prefix in the easting. Enterprises carry the documented short
        // names; the other layers the plain 10-byte cut ogr2ogr makes.
        let shp = root.join("shp");
        std::fs::create_dir_all(&shp).unwrap();
        let tables = dataset_tables(&dataset);
        let ent_columns: Vec<&str> = tables[0].columns.iter().map(|c| c.name.as_str()).collect();
        let select = ent_columns
            .iter()
            .zip(dbf_names(&ent_columns))
            .map(|(long, short)| format!("\"{long}\" AS \"{short}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!("SELECT {select} FROM enterprises");
        for layer in LAYERS {
            let src = native.join(format!("{layer}.geojson"));
            let dst = shp.join(format!("{layer}.shp"));
            let mut args = vec![
                "-f",
                "ESRI Shapefile",
                "-s_srs",
                "EPSG:4490",
                "-t_srs",
                "EPSG:4527",
                "-lco",
                "ENCODING=UTF-8",
                path_str(&dst),
                path_str(&src),
            ];
            if layer == "enterprises" {
                args.extend(["-sql", sql.as_str()]);
            }
            ogr2ogr(&args);
        }

        // One GeoPackage holding the five layers, in CGCS2000 lon/lat.
        let gpkg = root.join("gpkg");
        std::fs::create_dir_all(&gpkg).unwrap();
        let gpkg_file = gpkg.join("city.gpkg");
        for (i, layer) in LAYERS.iter().enumerate() {
            let src = native.join(format!("{layer}.geojson"));
            let mut args = vec!["-f", "GPKG", "-a_srs", "EPSG:4490", "-nln", layer];
            if i > 0 {
                args.push("-update");
            }
            args.extend([path_str(&gpkg_file), path_str(&src)]);
            ogr2ogr(&args);
        }
        let toml: String = LAYERS
            .iter()
            .map(|l| format!("[layers.{l}]\nfile = \"city.gpkg\"\n"))
            .collect();
        std::fs::write(gpkg.join("riskmap.toml"), toml).unwrap();

        // Enterprises as an Excel sheet with Chinese headers and 经度/纬度;
        // the other layers as they are.
        let xlsx = root.join("xlsx");
        std::fs::create_dir_all(&xlsx).unwrap();
        for layer in &LAYERS[1..] {
            let name = format!("{layer}.geojson");
            std::fs::copy(native.join(&name), xlsx.join(&name)).unwrap();
        }
        let csv_dir = root.join("csv");
        std::fs::create_dir_all(&csv_dir).unwrap();
        let mut csv = String::from(
            "企业编号,企业名称,统一社会信用代码,行业类别,风险等级,从业人员数,未整改隐患,重大隐患,黑名单,网格编码,经度,纬度\n",
        );
        for e in &dataset.enterprises {
            csv.push_str(&format!(
                "{},\"{}\",{},{},{},{},{},{},{},{},{},{}\n",
                e.id,
                e.name.replace('"', "\"\""),
                e.uscc.as_deref().unwrap_or(""),
                e.industry.label_zh(),
                e.risk_grade.label_zh(),
                e.employees,
                e.hidden_dangers_open,
                e.major_hidden_dangers_open,
                if e.blacklisted { "是" } else { "否" },
                e.cell_code.as_deref().unwrap_or(""),
                e.location.x(),
                e.location.y(),
            ));
        }
        std::fs::write(csv_dir.join("enterprises.csv"), csv).unwrap();
        std::fs::write(
            csv_dir.join("enterprises.csvt"),
            "String,String,String,String,String,Integer,Integer,Integer,String,String,Real,Real",
        )
        .unwrap();
        ogr2ogr(&[
            "-f",
            "XLSX",
            path_str(&xlsx.join("enterprises.xlsx")),
            path_str(&csv_dir.join("enterprises.csv")),
        ]);
        City {
            _tmp: tmp,
            native,
            shp,
            gpkg,
            xlsx,
            dataset,
        }
    })
}

fn load(dir: &Path) -> Snapshot {
    let config_file = dir.join("riskmap.toml");
    let config = if config_file.exists() {
        Config::load(Some(&config_file)).unwrap()
    } else {
        Config::default()
    };
    Snapshot::load(dir, &config).unwrap_or_else(|e| {
        let shown: Vec<String> = e.issues.iter().take(10).map(|i| i.to_string()).collect();
        panic!("{}: {e}\n{}", dir.display(), shown.join("\n"))
    })
}

fn metres(a: geo::Point<f64>, b: geo::Point<f64>) -> f64 {
    let dx = (a.x() - b.x()) * M_PER_DEG * a.y().to_radians().cos();
    let dy = (a.y() - b.y()) * M_PER_DEG;
    dx.hypot(dy)
}

/// Risk score and level per grid unit code.
fn scores(snap: &Snapshot) -> HashMap<String, (f64, String)> {
    let table = riskmap::report::scores_table(&snap.store, &snap.scores);
    let col = |n: &str| table.columns.iter().position(|c| c.name == n).unwrap();
    let (code, score, level) = (col("code"), col("risk_score"), col("risk_level"));
    table
        .features
        .iter()
        .map(|f| {
            let Value::Float(x) = f.values[score] else {
                panic!("risk_score is not a number")
            };
            (f.values[code].to_string(), (x, f.values[level].to_string()))
        })
        .collect()
}

/// Same counts, same points and outlines within 0.5 m, same scores.
fn assert_same_city(native: &Snapshot, other: &Snapshot, what: &str) {
    assert_eq!(native.counts(), other.counts(), "{what}: counts");
    let (a, b) = (&native.store.dataset, &other.store.dataset);
    assert!(!a.enterprises.is_empty() && !a.units.is_empty());

    let by_id: HashMap<&str, _> = b.enterprises.iter().map(|e| (e.id.as_str(), e)).collect();
    let mut worst: f64 = 0.0;
    for e in &a.enterprises {
        let o = by_id
            .get(e.id.as_str())
            .unwrap_or_else(|| panic!("{what}: enterprise {} missing", e.id));
        worst = worst.max(metres(e.location, o.location));
        assert_eq!(
            (&e.name, e.industry, e.risk_grade, e.blacklisted),
            (&o.name, o.industry, o.risk_grade, o.blacklisted),
            "{what}: enterprise {}",
            e.id
        );
        assert_eq!(
            (
                e.hidden_dangers_open,
                e.major_hidden_dangers_open,
                e.employees
            ),
            (
                o.hidden_dangers_open,
                o.major_hidden_dangers_open,
                o.employees
            ),
            "{what}: enterprise {}",
            e.id
        );
    }
    assert!(worst < 0.5, "{what}: an enterprise moved {worst} m");

    let hs: HashMap<&str, _> = b
        .hazard_sources
        .iter()
        .map(|h| (h.id.as_str(), h))
        .collect();
    for h in &a.hazard_sources {
        let o = hs[h.id.as_str()];
        assert!(metres(h.location, o.location) < 0.5, "{what}: {}", h.id);
        assert_eq!(
            (&h.enterprise_id, h.grade, h.monitored),
            (&o.enterprise_id, o.grade, o.monitored),
            "{what}: hazard source {}",
            h.id
        );
    }

    let units: HashMap<&str, _> = b.units.iter().map(|u| (u.code.as_str(), u)).collect();
    let mut worst: f64 = 0.0;
    for u in &a.units {
        let o = units
            .get(u.code.as_str())
            .unwrap_or_else(|| panic!("{what}: unit {} missing", u.code));
        assert_eq!(
            (&u.name, u.level, &u.parent_code, u.population),
            (&o.name, o.level, &o.parent_code, o.population),
            "{what}: unit {}",
            u.code
        );
        assert_eq!(
            u.geometry.coords_count(),
            o.geometry.coords_count(),
            "{what}: unit {} vertices",
            u.code
        );
        let lat = u.geometry.bounding_rect().map_or(25.0, |r| r.min().y);
        let d = u.geometry.hausdorff_distance(&o.geometry) * M_PER_DEG;
        worst = worst.max(d);
        let (ua, oa) = (u.geometry.unsigned_area(), o.geometry.unsigned_area());
        assert!(
            (ua - oa).abs() <= ua * 1e-6,
            "{what}: unit {} area {ua} vs {oa} (lat {lat})",
            u.code
        );
    }
    assert!(worst < 0.5, "{what}: an outline moved {worst} m");

    let zones: HashMap<&str, _> = b
        .collapse_zones
        .iter()
        .map(|z| (z.id.as_str(), z))
        .collect();
    for z in &a.collapse_zones {
        let o = zones[z.id.as_str()];
        assert_eq!(
            (z.kind, z.severity, &z.surveyed),
            (o.kind, o.severity, &o.surveyed)
        );
        assert!(z.geometry.hausdorff_distance(&o.geometry) * M_PER_DEG < 0.5);
    }

    let (sa, sb) = (scores(native), scores(other));
    assert_eq!(sa.len(), sb.len(), "{what}: scored units");
    for (code, (score, level)) in &sa {
        let (s2, l2) = &sb[code];
        assert!(
            (score - s2).abs() < 1e-6 && level == l2,
            "{what}: unit {code} scores {score} {level} vs {s2} {l2}"
        );
    }
}

fn native() -> &'static Snapshot {
    static NATIVE: OnceLock<Snapshot> = OnceLock::new();
    NATIVE.get_or_init(|| load(&city().native))
}

#[test]
fn shapefiles_in_gauss_kruger_load_like_the_native_files() {
    let c = city();
    // The files really are projected: zone 39's prefix is in the eastings.
    let info = tool(
        "ogrinfo",
        &[
            "-so",
            path_str(&c.shp.join("enterprises.shp")),
            "enterprises",
        ],
    );
    assert!(info.contains("ID[\"EPSG\",4527]"), "{info}");
    let extent = info
        .lines()
        .find(|l| l.starts_with("Extent:"))
        .unwrap_or_default();
    assert!(extent.starts_with("Extent: (39"), "{extent}");
    // The short names are what the DBF holds.
    for (long, short) in SHORT_NAMES.iter().filter(|(l, _)| l.len() > 10) {
        if [
            "hidden_dangers_open",
            "major_hidden_dangers_open",
            "blacklisted",
        ]
        .contains(long)
        {
            assert!(info.contains(&format!("\n{short}: ")), "{short} in {info}");
        }
    }
    assert_same_city(native(), &load(&c.shp), "Shapefile EPSG:4527");
}

#[test]
fn a_geopackage_in_cgcs2000_loads_like_the_native_files() {
    let c = city();
    let info = tool(
        "ogrinfo",
        &["-so", path_str(&c.gpkg.join("city.gpkg")), "grid_cells"],
    );
    assert!(info.contains("ID[\"EPSG\",4490]"), "{info}");
    assert_same_city(native(), &load(&c.gpkg), "GeoPackage EPSG:4490");
}

#[test]
fn an_excel_sheet_with_chinese_headers_loads_like_the_native_file() {
    let c = city();
    let info = tool(
        "ogrinfo",
        &[
            "-so",
            path_str(&c.xlsx.join("enterprises.xlsx")),
            "enterprises",
        ],
    );
    assert!(info.contains("经度: Real"), "{info}");
    assert!(info.contains("企业名称: String"), "{info}");
    let snap = load(&c.xlsx);
    assert_eq!(
        snap.store.dataset.enterprises.len(),
        c.dataset.enterprises.len()
    );
    assert_same_city(native(), &snap, "XLSX");
}

/// The tiny fixture with its grid as a GBK Shapefile.
fn gbk_dataset(dir: &Path) {
    write_tiny_dataset(dir);
    let src = dir.join("grid_cells.geojson");
    ogr2ogr(&[
        "-f",
        "ESRI Shapefile",
        "-lco",
        "ENCODING=CP936",
        path_str(&dir.join("grid_cells.shp")),
        path_str(&src),
    ]);
    std::fs::remove_file(src).unwrap();
}

fn unit_names(snap: &Snapshot) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = snap
        .store
        .dataset
        .units
        .iter()
        .map(|u| (u.code.clone(), u.name.clone()))
        .collect();
    v.sort();
    v
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn gbk_shapefile_names_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let native = tmp.path().join("native");
    write_tiny_dataset(&native);
    let expected = unit_names(&load(&native));
    assert!(expected.iter().any(|(_, n)| n == "金山社区"));

    let dir = tmp.path().join("gbk");
    gbk_dataset(&dir);
    let dbf = std::fs::read(dir.join("grid_cells.dbf")).unwrap();
    let (gbk, _, _) = encoding_rs::GBK.encode("金山社区");
    assert!(contains(&dbf, &gbk), "the DBF is not GBK");
    assert!(!contains(&dbf, "金山社区".as_bytes()));
    assert_eq!(unit_names(&load(&dir)), expected, "with a .cpg");

    // No .cpg and no language byte (as many exports): detected as GBK.
    std::fs::remove_file(dir.join("grid_cells.cpg")).unwrap();
    let mut dbf = dbf;
    dbf[29] = 0;
    std::fs::write(dir.join("grid_cells.dbf"), &dbf).unwrap();
    assert_eq!(unit_names(&load(&dir)), expected, "detected");

    // Or named in the config.
    std::fs::write(
        dir.join("riskmap.toml"),
        "[layers.grid_cells]\nencoding = \"CP936\"\n",
    )
    .unwrap();
    assert_eq!(unit_names(&load(&dir)), expected, "configured");
}

/// The load error of `dir` as text (every issue), asserting it failed.
fn load_error(dir: &Path) -> String {
    match Snapshot::load(dir, &Config::default()) {
        Ok(_) => panic!("{} loaded", dir.display()),
        Err(e) => e
            .issues
            .iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

#[test]
fn broken_shapefiles_give_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let good = tmp.path().join("good");
    gbk_dataset(&good);
    let copy = |name: &str| {
        let dir = tmp.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        for f in std::fs::read_dir(&good).unwrap() {
            let f = f.unwrap().path();
            std::fs::copy(&f, dir.join(f.file_name().unwrap())).unwrap();
        }
        dir
    };

    let no_shx = copy("no_shx");
    std::fs::remove_file(no_shx.join("grid_cells.shx")).unwrap();
    let msg = load_error(&no_shx);
    assert!(
        msg.contains("grid_cells.shp:-: grid_cells.shx is missing"),
        "{msg}"
    );

    let garbage = copy("garbage_dbf");
    std::fs::write(garbage.join("grid_cells.dbf"), b"this is not a table").unwrap();
    let msg = load_error(&garbage);
    assert!(
        msg.contains("grid_cells.shp:-: grid_cells.dbf is not a dBASE table"),
        "{msg}"
    );

    let truncated = copy("truncated_dbf");
    let dbf = std::fs::read(good.join("grid_cells.dbf")).unwrap();
    std::fs::write(truncated.join("grid_cells.dbf"), &dbf[..dbf.len() * 2 / 3]).unwrap();
    let msg = load_error(&truncated);
    assert!(
        msg.contains("grid_cells.shp:-: grid_cells.dbf is truncated"),
        "{msg}"
    );

    let bad_shp = copy("bad_shp");
    std::fs::write(bad_shp.join("grid_cells.shp"), b"not a shapefile at all").unwrap();
    let msg = load_error(&bad_shp);
    assert!(
        msg.starts_with("grid_cells.shp:-: ") || msg.contains("\ngrid_cells.shp:-: "),
        "{msg}"
    );

    // The command line says the same and exits 1, without crashing.
    let o = run(tmp.path(), &["validate", "--data", path_str(&no_shx)]);
    assert_eq!(o.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&o.stderr);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        format!("{stdout}{stderr}").contains("grid_cells.shx is missing"),
        "{stdout}{stderr}"
    );
}

/// The values of column `col` per `code` in an `ogrinfo -al` listing.
fn ogrinfo_values(listing: &str, col: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut code = None;
    for line in listing.lines().map(str::trim) {
        if let Some(v) = line.strip_prefix("code (String) = ") {
            code = Some(v.to_string());
        } else if let Some((name, value)) = line.split_once(" = ")
            && name.split(' ').next() == Some(col)
            && let Some(c) = &code
        {
            out.insert(c.clone(), value.to_string());
        }
    }
    out
}

#[test]
fn score_out_geopackage_and_shapefile_round_trip_through_ogrinfo() {
    let tmp = tempfile::tempdir().unwrap();
    write_tiny_dataset(&tmp.path().join("ds"));
    for ext in ["geojson", "gpkg", "shp"] {
        let o = run(
            tmp.path(),
            &["score", "--data", "ds", "--out", &format!("scores.{ext}")],
        );
        assert!(
            o.status.success(),
            "{ext}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let reference = std::fs::read(tmp.path().join("scores.geojson")).unwrap();
    let gj: serde_json::Value = serde_json::from_slice(&reference).unwrap();
    let expected: HashMap<String, f64> = gj["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["properties"]["code"].as_str().unwrap().to_string(),
                f["properties"]["risk_score"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(expected.len(), 7);

    // GeoPackage: full names, Chinese values, every unit.
    let gpkg = tmp.path().join("scores.gpkg");
    let summary = tool("ogrinfo", &["-so", "-al", path_str(&gpkg)]);
    assert!(summary.contains("Feature Count: 7"), "{summary}");
    assert!(summary.contains("parent_code: String"), "{summary}");
    assert!(summary.contains("Geometry: Multi Polygon"), "{summary}");
    let listing = tool("ogrinfo", &["-al", path_str(&gpkg)]);
    assert!(listing.contains("金山第1网格"), "{listing}");
    let got = ogrinfo_values(&listing, "risk_score");
    assert_eq!(got.len(), 7);
    for (code, score) in &expected {
        let v: f64 = got[code].parse().unwrap();
        assert!((v - score).abs() < 1e-9, "{code}: {v} vs {score}");
    }

    // Shapefile: short names, a UTF-8 .cpg, the legend, the same values.
    let shp = tmp.path().join("scores.shp");
    let summary = tool("ogrinfo", &["-so", "-al", path_str(&shp)]);
    assert!(summary.contains("Feature Count: 7"), "{summary}");
    assert!(summary.contains("\nparent: String"), "{summary}");
    assert!(!summary.contains("parent_code"), "{summary}");
    let cpg = std::fs::read_to_string(tmp.path().join("scores.cpg")).unwrap();
    assert_eq!(cpg.trim(), "UTF-8");
    let legend = std::fs::read_to_string(riskmap::write::shapefile_legend(&shp)).unwrap();
    assert!(legend.starts_with('\u{feff}'));
    assert!(legend.contains("\nparent,parent_code,text\n"), "{legend}");
    assert!(
        legend.contains("\nrisk_score,risk_score,real\n"),
        "{legend}"
    );
    let listing = tool("ogrinfo", &["-al", path_str(&shp)]);
    assert!(listing.contains("金山第1网格"), "{listing}");
    let got = ogrinfo_values(&listing, "risk_score");
    for (code, score) in &expected {
        let v: f64 = got[code].parse().unwrap();
        assert!((v - score).abs() < 1e-9, "{code}: {v} vs {score}");
    }
    // No temporary files are left beside them.
    let left: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_dataset_written_as_shapefiles_and_geopackages_reloads() {
    let tmp = tempfile::tempdir().unwrap();
    let native = tmp.path().join("native");
    write_tiny_dataset(&native);
    let snap = load(&native);
    for ext in ["shp", "gpkg"] {
        let dir = tmp.path().join(ext);
        std::fs::create_dir_all(&dir).unwrap();
        for table in dataset_tables(&snap.store.dataset) {
            let path = dir.join(format!("{}.{ext}", table.name));
            riskmap::write::write_table(&path, &table).unwrap();
        }
        if ext == "shp" {
            // DBF has no booleans: the flags are integers 0/1.
            let info = tool(
                "ogrinfo",
                &["-so", path_str(&dir.join("enterprises.shp")), "enterprises"],
            );
            assert!(info.contains("\nblacklist: Integer (1.0)"), "{info}");
            let legend = std::fs::read_to_string(dir.join("hazard_sources.fields.csv")).unwrap();
            assert!(legend.contains("\nent_id,enterprise_id,text\n"), "{legend}");
            assert!(legend.contains("\nmonitored,monitored,boolean"), "{legend}");
        }
        let again = load(&dir);
        assert_eq!(again.counts(), snap.counts(), "{ext}");
        assert_eq!(unit_names(&again), unit_names(&snap), "{ext}");
        let blacklisted = |s: &Snapshot| {
            let mut v: Vec<(String, bool)> = s
                .store
                .dataset
                .enterprises
                .iter()
                .map(|e| (e.id.clone(), e.blacklisted))
                .collect();
            v.sort();
            v
        };
        assert_eq!(blacklisted(&again), blacklisted(&snap), "{ext}");
        assert!(blacklisted(&snap).iter().any(|(_, b)| *b));
    }
}

#[test]
fn chinese_field_names_stay_whole_in_a_geopackage_and_are_cut_in_a_shapefile() {
    use riskmap::write::{Column, ColumnKind, FeatureTable, GeometryKind, TableFeature};
    let table = FeatureTable {
        name: "台账".into(),
        geometry_type: GeometryKind::Point,
        columns: vec![
            Column::new("企业名称", ColumnKind::Text),
            Column::new("未整改重大隐患数", ColumnKind::Int),
            Column::new("未整改重大隐患", ColumnKind::Int),
        ],
        features: vec![TableFeature {
            geometry: geo::Geometry::Point(geo::Point::new(118.6, 24.9)),
            values: vec![Value::Text("泉州燃气".into()), Value::Int(2), Value::Int(1)],
        }],
    };
    let tmp = tempfile::tempdir().unwrap();
    let gpkg = tmp.path().join("t.gpkg");
    riskmap::write::write_table(&gpkg, &table).unwrap();
    let listing = tool("ogrinfo", &["-al", path_str(&gpkg)]);
    assert!(
        listing.contains("未整改重大隐患数 (Integer64) = 2"),
        "{listing}"
    );
    assert!(
        listing.contains("未整改重大隐患 (Integer64) = 1"),
        "{listing}"
    );
    assert!(
        listing.contains("企业名称 (String) = 泉州燃气"),
        "{listing}"
    );

    let shp = tmp.path().join("t.shp");
    riskmap::write::write_table(&shp, &table).unwrap();
    let names = dbf_names(&["企业名称", "未整改重大隐患数", "未整改重大隐患"]);
    assert!(names.iter().all(|n| n.len() <= 10));
    let listing = tool("ogrinfo", &["-al", path_str(&shp)]);
    for (name, value) in names.iter().zip(["泉州燃气", "2", "1"]) {
        assert!(
            listing.contains(&format!("{name} (")),
            "{name} in {listing}"
        );
        assert!(
            listing.lines().any(|l| l.trim().starts_with(name.as_str())
                && l.trim().ends_with(&format!("= {value}"))),
            "{name} = {value} in {listing}"
        );
    }
    let legend = std::fs::read_to_string(tmp.path().join("t.fields.csv")).unwrap();
    for (short, long) in names
        .iter()
        .zip(["企业名称", "未整改重大隐患数", "未整改重大隐患"])
    {
        assert!(legend.contains(&format!("\n{short},{long},")), "{legend}");
    }
}

#[test]
fn postgis_tables_in_gauss_kruger_load_like_the_native_files() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(pg) = Postgis::start_or_skip(tmp.path()) else {
        return;
    };
    let native = tmp.path().join("native");
    write_tiny_dataset(&native);
    let expected = load(&native);
    // The grid in EPSG:4549 (CGCS2000, 3° zone at 120°E, no zone prefix)
    // and the hazard sources as they are, in a PostGIS database.
    let conn = pg.gdal();
    for (layer, srs) in [("grid_cells", "EPSG:4549"), ("hazard_sources", "EPSG:4490")] {
        ogr2ogr(&[
            "-f",
            "PostgreSQL",
            &conn,
            path_str(&native.join(format!("{layer}.geojson"))),
            "-nln",
            layer,
            "-s_srs",
            "EPSG:4490",
            "-t_srs",
            srs,
        ]);
    }
    let dir = tmp.path().join("pg");
    write_tiny_dataset(&dir);
    std::fs::remove_file(dir.join("grid_cells.geojson")).unwrap();
    std::fs::remove_file(dir.join("hazard_sources.geojson")).unwrap();
    let toml = format!(
        "[layers.grid_cells]\nfile = \"{conn}\"\nlayer = \"grid_cells\"\n\
         [layers.hazard_sources]\nfile = \"{conn}\"\nlayer = \"hazard_sources\"\n"
    );
    std::fs::write(dir.join("riskmap.toml"), toml).unwrap();
    let got = load(&dir);
    assert_eq!(got.counts(), expected.counts());
    assert_eq!(unit_names(&got), unit_names(&expected));
    let units: HashMap<&str, _> = got
        .store
        .dataset
        .units
        .iter()
        .map(|u| (u.code.as_str(), u))
        .collect();
    for u in &expected.store.dataset.units {
        let d = u
            .geometry
            .hausdorff_distance(&units[u.code.as_str()].geometry)
            * M_PER_DEG;
        assert!(d < 0.5, "unit {} moved {d} m", u.code);
    }
    assert_eq!(scores(&got), scores(&expected));
    let names: Vec<String> = got
        .files
        .iter()
        .map(|f| f.path.display().to_string())
        .collect();
    assert!(names.iter().any(|n| n.starts_with("PG:")), "{names:?}");
    // The command line reads it too, and never prints the password.
    let config = dir.join("riskmap.toml");
    let o = run(
        tmp.path(),
        &[
            "--config",
            path_str(&config),
            "validate",
            "--data",
            path_str(&dir),
        ],
    );
    let text = output_text(&o);
    assert!(o.status.success(), "{text}");
    assert!(
        text.contains(": ok — 3 enterprises, 2 hazard sources"),
        "{text}"
    );
    assert!(!text.contains("unused"), "{text}");
}

/// The hidden-danger records a snapshot holds, in order.
fn records_of(snap: &Snapshot) -> Vec<riskmap::model::HiddenDanger> {
    snap.store
        .dangers()
        .iter()
        .map(|(_, e)| e.record.clone())
        .collect()
}

/// The `hidden_dangers` layer written as a GeoPackage by riskmap's writer
/// reads back equal; `ogr2ogr` from that GeoPackage to a Shapefile (dates
/// as DBF dates, `description`/`responsible` cut to 10 bytes) too.
#[test]
fn hidden_dangers_round_trip_through_gdal_formats() {
    use riskmap::model::HiddenDanger;
    use riskmap::write::{hidden_dangers_table, write_table};
    let tmp = tempfile::tempdir().unwrap();
    let dataset = generate_dataset(Preset::Quanzhou, 42, &|_| {}).unwrap();
    // A slice of the demo's records, standalone ones included.
    let sample: Vec<HiddenDanger> = dataset
        .hidden_dangers
        .iter()
        .step_by(97)
        .take(150)
        .cloned()
        .collect();
    assert!(sample.iter().any(|d| d.enterprise_id.is_none()));
    let gpkg_dir = tmp.path().join("gpkg");
    write_dataset(&gpkg_dir, &dataset, Format::Fgb).unwrap();
    std::fs::remove_file(gpkg_dir.join("hidden_dangers.fgb")).unwrap();
    let gpkg = gpkg_dir.join("hidden_dangers.gpkg");
    write_table(&gpkg, &hidden_dangers_table(&sample)).unwrap();
    let snap = Snapshot::load(&gpkg_dir, &Config::default()).unwrap();
    assert!(snap.store.dataset.has_hidden_dangers);
    assert_eq!(records_of(&snap), sample);
    // GeoPackage → Shapefile with ogr2ogr.
    let shp = gpkg_dir.join("hidden_dangers.shp");
    ogr2ogr(&[
        "-f",
        "ESRI Shapefile",
        path_str(&shp),
        path_str(&gpkg),
        "-lco",
        "ENCODING=UTF-8",
    ]);
    std::fs::remove_file(&gpkg).unwrap();
    let snap = Snapshot::load(&gpkg_dir, &Config::default()).unwrap();
    assert_eq!(records_of(&snap), sample);
}
