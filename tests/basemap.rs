//! The page's offline basemap on the real server: `/basemap.json` and its
//! land and places (brute-force checks against the reference files),
//! public even when the data need a token, off by config, a site's own
//! places file, an outside raster basemap allowed by the page's policy,
//! and a bad basemap refused at start naming the file, row and field.

mod common;

use common::*;

fn places_names(server: &Server) -> Vec<String> {
    let (status, body) = server.get("/basemap/places.geojson");
    assert_eq!(status, 200, "{body}");
    json(&body)["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["name"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_built_in_basemap_is_served_to_everyone() {
    // Closed to anonymous callers: the basemap, like the page, stays open.
    let (_tmp, server) = start_tiny("public_access = false\n");
    assert_eq!(server.get("/api/stats").0, 401);
    let (status, body) = server.get("/basemap.json");
    assert_eq!(status, 200, "{body}");
    let d = json(&body);
    assert_eq!(d["land"], "basemap/land.geojson");
    assert_eq!(d["places"], "basemap/places.geojson");
    assert!(d["attribution"].as_str().unwrap().contains("GeoNames"));
    assert_eq!(d["raster"], serde_json::json!([]));

    // The land is the reference outline of Fujian, coordinates unchanged.
    let (status, land) = server.get("/basemap/land.geojson");
    assert_eq!(status, 200);
    let land = json(&land);
    let reference = json(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("data/quanzhou-reference/fujian.geojson"),
        )
        .unwrap(),
    );
    let first_ref = &reference["features"][0]["geometry"]["coordinates"][0][0][0];
    let first = &land["features"][0]["geometry"]["coordinates"][0][0][0];
    assert_eq!(first, first_ref);

    // Places: every official name of an unambiguous reference row, once.
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/quanzhou-reference/places.csv"),
    )
    .unwrap();
    let mut want: Vec<String> = text
        .lines()
        .skip(1)
        .filter_map(|l| {
            let cols: Vec<&str> = l.split(',').collect();
            let (official, matched) = (cols[7], cols[8]);
            let ok = !official.is_empty()
                && !official.contains('|')
                && !matched.is_empty()
                && !matched.contains("ambiguous");
            ok.then(|| {
                official
                    .replace("社区居委会", "社区")
                    .replace("村委会", "村")
            })
        })
        .collect();
    want.sort();
    want.dedup();
    let mut got = places_names(&server);
    got.sort();
    got.dedup();
    assert_eq!(got, want);
    assert!(got.contains(&"九都镇".to_owned()) && got.contains(&"大岞村".to_owned()));
}

#[test]
fn a_site_names_its_own_places_or_turns_the_basemap_off() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("places.csv"),
        "name,lon,lat,kind\n甲镇,118.6,24.9,town\n乙村,118.61,24.91,village\n",
    )
    .unwrap();
    let toml = format!(
        "[basemap]\nplaces = \"{}\"\nattribution = \"本市地名\"\n",
        tmp.path().join("places.csv").display()
    );
    let (_t, server) = start_tiny(&toml);
    assert_eq!(places_names(&server), vec!["甲镇", "乙村"]);
    assert_eq!(
        json(&server.get("/basemap.json").1)["attribution"],
        "本市地名"
    );

    let (_t, server) = start_tiny("[basemap]\nenabled = false\n");
    let (status, body) = server.get("/basemap.json");
    assert_eq!(status, 404, "{body}");
    assert!(
        json(&body)["description"]
            .as_str()
            .is_some_and(|m| m.contains("[basemap]")),
        "{body}"
    );
    assert_eq!(server.get("/basemap/land.geojson").0, 404);
}

#[test]
fn an_outside_raster_basemap_is_allowed_by_the_page_policy() {
    let (_tmp, server) = start_tiny(
        "[basemap]\nraster = \"https://tiles.example.org/base/{z}/{x}/{y}.png\"\nraster_attribution = \"某某底图\"\n",
    );
    let d = json(&server.get("/basemap.json").1);
    assert_eq!(
        d["raster"][0]["tiles"][0],
        "https://tiles.example.org/base/{z}/{x}/{y}.png"
    );
    assert_eq!(d["raster"][0]["attribution"], "某某底图");
    let page = ureq::get(&format!("{}/", server.base)).call().unwrap();
    let csp = page
        .header("content-security-policy")
        .unwrap_or_default()
        .to_string();
    assert!(
        csp.contains("img-src 'self' data: blob: https://tiles.example.org;"),
        "{csp}"
    );
    assert!(
        csp.contains("connect-src 'self' blob: data: https://tiles.example.org;"),
        "{csp}"
    );
    assert!(csp.contains("script-src 'self';"), "{csp}");
}

#[test]
fn a_bad_places_file_stops_the_start_naming_row_and_field() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("ds");
    write_tiny_dataset(&data);
    install_demo_tokens(tmp.path());
    std::fs::write(
        tmp.path().join("places.csv"),
        "name,lon,lat\n甲镇,118.6,24.9\n乙村,east,24.91\n",
    )
    .unwrap();
    std::fs::write(
        tmp.path().join("riskmap.toml"),
        "[basemap]\nplaces = \"places.csv\"\n",
    )
    .unwrap();
    let out = run(tmp.path(), &["validate", "--data", data.to_str().unwrap()]);
    assert!(!out.status.success());
    let text = output_text(&out);
    assert!(
        text.contains("places.csv: row 3: lon: \"east\" is not a number"),
        "{text}"
    );
}
