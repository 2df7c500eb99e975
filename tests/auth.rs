//! Authentication on the real server: one caller from one `Authorization`
//! header — `Bearer` in any spelling or `Basic base64(user:TOKEN)` — with
//! the same roles, scope, audit lines and rate limit; the 401 challenge;
//! the audit of refused and forbidden token requests, read back from the
//! audit file; GDAL's OGC API client with Basic credentials.

mod common;

use common::*;
use serde_json::Value;

const OWN_CELL: &str = "350502001001001";
const SIBLING_CELL: &str = "350502001002001";
const CHALLENGE: &str = "Bearer, Basic realm=\"riskmap\"";

/// `Basic base64(user:password)`, encoded here independently of the server.
fn basic(user: &str, password: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = format!("{user}:{password}").into_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    format!("Basic {out}")
}

/// A response: status, `WWW-Authenticate`, body bytes.
struct Reply {
    status: u16,
    challenge: Option<String>,
    body: Vec<u8>,
}

impl Reply {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// GET with an optional raw `Authorization` header value.
fn get(server: &Server, path: &str, authorization: Option<&str>) -> Reply {
    let mut req = ureq::get(&format!("{}{path}", server.base));
    if let Some(a) = authorization {
        req = req.set("Authorization", a);
    }
    let resp = match req.call() {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("GET {path}: {e}"),
    };
    let status = resp.status();
    let challenge = resp.header("WWW-Authenticate").map(str::to_string);
    let mut body = Vec::new();
    std::io::Read::read_to_end(&mut resp.into_reader(), &mut body).unwrap();
    Reply {
        status,
        challenge,
        body,
    }
}

/// The ids of a FeatureCollection's features, sorted.
fn feature_ids(body: &str) -> Vec<String> {
    let mut ids: Vec<String> = json(body)["features"]
        .as_array()
        .unwrap_or_else(|| panic!("no features in {body}"))
        .iter()
        .map(|f| f["id"].to_string())
        .collect();
    ids.sort();
    ids
}

/// The z12 tile holding the whole tiny dataset.
fn tiny_tile_path() -> String {
    let (x, y) = riskmap::crs::mercator::tile_for(118.59, 24.91, 12);
    format!("/tiles/12/{x}/{y}.mvt")
}

/// The audit file's records as (token, role, path, status).
fn audit_lines(tmp: &tempfile::TempDir) -> Vec<(String, String, String, u64)> {
    let text = std::fs::read_to_string(tmp.path().join("audit.jsonl")).unwrap_or_default();
    text.lines()
        .map(|l| {
            let v: Value = json(l);
            assert!(v["time"].as_f64().is_some_and(|t| t > 1.0e9), "{l}");
            (
                v["token"].as_str().unwrap().to_string(),
                v["role"].as_str().unwrap().to_string(),
                v["path"].as_str().unwrap().to_string(),
                v["status"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn basic_credentials_stand_for_the_token_everywhere() {
    let (_tmp, s) = start_tiny("");
    let tile = tiny_tile_path();
    let paths = [
        format!("/api/cells/{OWN_CELL}"),
        format!("/api/cells/{OWN_CELL}/ledger.csv"),
        format!("/api/cells/{OWN_CELL}/features?layer=enterprises"),
        "/api/cells/at?lon=118.585&lat=24.91".to_string(),
        "/api/search?q=E".to_string(),
        "/ogc/collections".to_string(),
        tile.clone(),
    ];
    for token in [PLANNER, GRID_MANAGER, ADMIN] {
        let bearer = format!("Bearer {token}");
        for user in ["qgis", "", "用户"] {
            let basic = basic(user, token);
            for path in &paths {
                let a = get(&s, path, Some(&bearer));
                let b = get(&s, path, Some(&basic));
                assert_eq!(a.status, 200, "{path} with Bearer: {}", a.text());
                assert_eq!(b.status, 200, "{path} with {basic:?}: {}", b.text());
                assert_eq!(a.body, b.body, "{path}: Basic and Bearer differ");
            }
            // OGC pages carry a time stamp: compare what they hold.
            for layer in ["enterprises", "hazard_sources"] {
                let path = format!("/ogc/collections/{layer}/items?limit=100");
                let a = get(&s, &path, Some(&bearer));
                let b = get(&s, &path, Some(&basic));
                assert_eq!((a.status, b.status), (200, 200), "{path}: {}", b.text());
                assert_eq!(feature_ids(&a.text()), feature_ids(&b.text()), "{path}");
                assert_eq!(
                    json(&a.text())["numberMatched"],
                    json(&b.text())["numberMatched"]
                );
            }
        }
    }
    // The same scope: the grid manager's Basic credentials see only its
    // own village's enterprises (E1, E2; E3 lies in the sibling village).
    let items = get(
        &s,
        "/ogc/collections/enterprises/items",
        Some(&basic("u", GRID_MANAGER)),
    );
    assert_eq!(feature_ids(&items.text()), ["\"E1\"", "\"E2\""]);
    // The same role: only an admin reloads, with Basic as with Bearer.
    for (token, want) in [(PLANNER, 403), (ADMIN, 200)] {
        let r = ureq::post(&format!("{}/api/admin/reload", s.base))
            .set("Authorization", &basic("ops", token))
            .call();
        let status = match r {
            Ok(r) => r.status(),
            Err(ureq::Error::Status(code, _)) => code,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(status, want, "reload with Basic {token}");
    }
}

#[test]
fn refused_credentials_get_the_bearer_and_basic_challenge() {
    let (_tmp, s) = start_tiny("");
    let own = format!("/api/cells/{OWN_CELL}");
    for (path, auth) in [
        (own.as_str(), None),
        (own.as_str(), Some("Bearer wrong".to_string())),
        (own.as_str(), Some(basic("u", "wrong"))),
        // The token as user name with no password is not a token.
        (own.as_str(), Some(basic(PLANNER, ""))),
        (own.as_str(), Some(format!("Token {PLANNER}"))),
        (own.as_str(), Some("Basic not-base64!".to_string())),
        (own.as_str(), Some("Bearer".to_string())),
        ("/ogc/collections/enterprises/items", None),
        ("/health", Some(basic("u", "wrong"))),
        (tiny_tile_path().leak(), Some("bearer wrong".to_string())),
    ] {
        let r = get(&s, path, auth.as_deref());
        assert_eq!(r.status, 401, "{path} with {auth:?}: {}", r.text());
        assert_eq!(r.challenge.as_deref(), Some(CHALLENGE), "{path} {auth:?}");
        assert_eq!(json(&r.text())["code"], "Unauthorized");
    }
}

#[test]
fn bearer_in_any_spelling_is_one_caller_with_one_audit_line() {
    let (tmp, s) = start_tiny("audit_log = \"audit.jsonl\"\n");
    let path = format!("/api/cells/{OWN_CELL}");
    let spellings = [
        format!("Bearer {GRID_MANAGER}"),
        format!("bearer {GRID_MANAGER}"),
        format!("BEARER {GRID_MANAGER}"),
        format!("Bearer    {GRID_MANAGER}   "),
        format!("bEaReR\t{GRID_MANAGER}"),
        basic("qgis", GRID_MANAGER),
    ];
    let first = get(&s, &path, Some(&spellings[0]));
    assert_eq!(first.status, 200, "{}", first.text());
    for h in &spellings[1..] {
        let r = get(&s, &path, Some(h));
        assert_eq!(r.status, 200, "{h:?}: {}", r.text());
        assert_eq!(r.body, first.body, "{h:?}");
    }
    let lines = audit_lines(&tmp);
    let want = (
        "网格员-金山社区".to_string(),
        "grid_manager".to_string(),
        path.clone(),
        200,
    );
    assert_eq!(lines, vec![want; spellings.len()]);
}

#[test]
fn audit_records_refused_and_forbidden_token_requests() {
    let (tmp, s) = start_tiny("audit_log = \"audit.jsonl\"\n");
    let own = format!("/api/cells/{OWN_CELL}");
    let sibling = format!("/api/cells/{SIBLING_CELL}/ledger.csv");
    let at_sibling = "/api/cells/at?lon=118.605&lat=24.91";
    let requests: [(&str, Option<String>, u16); 8] = [
        // Not token requests: no line.
        (&own, None, 401),
        ("/api/ranking", Some(format!("Bearer {PLANNER}")), 200),
        // An unknown token, in either scheme: 401, recorded as unknown.
        (&own, Some("Bearer not-a-token".into()), 401),
        (&sibling, Some(basic("u", "not-a-token")), 401),
        // A header that carries no token at all.
        (&own, Some(format!("Token {PLANNER}")), 401),
        // Valid tokens out of scope: 403, recorded under their name.
        (&sibling, Some(format!("bearer {GRID_MANAGER}")), 403),
        (at_sibling, Some(basic("u", GRID_MANAGER)), 403),
        (&own, Some(format!("Bearer {PLANNER}")), 200),
    ];
    for (path, auth, want) in &requests {
        let r = get(&s, path, auth.as_deref());
        assert_eq!(r.status, *want, "{path} {auth:?}: {}", r.text());
    }
    let line =
        |t: &str, r: &str, p: &str, st: u64| (t.to_string(), r.to_string(), p.to_string(), st);
    assert_eq!(
        audit_lines(&tmp),
        vec![
            line("unknown", "none", &own, 401),
            line("unknown", "none", &sibling, 401),
            line("malformed", "none", &own, 401),
            line("网格员-金山社区", "grid_manager", &sibling, 403),
            line("网格员-金山社区", "grid_manager", at_sibling, 403),
            line("planner", "planner", &own, 200),
        ]
    );
}

#[test]
fn bearer_and_basic_share_the_token_rate_limit() {
    let (_tmp, s) = start_tiny("[limits]\nrate_per_second = 0.001\nburst = 2\n");
    let path = format!("/api/cells/{OWN_CELL}");
    assert_eq!(
        get(&s, &path, Some(&format!("Bearer {PLANNER}"))).status,
        200
    );
    assert_eq!(get(&s, &path, Some(&basic("qgis", PLANNER))).status, 200);
    // The token's budget is spent, whatever the spelling.
    for h in [basic("other", PLANNER), format!("BEARER {PLANNER}")] {
        let r = get(&s, &path, Some(&h));
        assert_eq!(r.status, 429, "{h:?}: {}", r.text());
    }
    // Another token, and the anonymous address, have budgets of their own.
    assert_eq!(get(&s, &path, Some(&basic("u", ADMIN))).status, 200);
    assert_eq!(get(&s, "/api/ranking", None).status, 200);
}

/// `Feature Count: N` of `layer` in `ogrinfo -so` over the server's OGC
/// API, with extra `--config` pairs; `None` when ogrinfo fails (e.g. the
/// layer is not listed without a token).
fn ogrinfo_count(base: &str, layer: &str, config: &[(&str, &str)]) -> Option<u64> {
    let mut cmd = std::process::Command::new("ogrinfo");
    cmd.args(["-ro", "-so"]);
    for (k, v) in config {
        cmd.args(["--config", k, v]);
    }
    cmd.arg(format!("OAPIF:{base}/ogc")).arg(layer);
    let out = cmd.output().expect("ogrinfo runs");
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return None;
    }
    text.lines()
        .find_map(|l| l.strip_prefix("Feature Count: "))
        .map(|n| n.trim().parse().expect("a count"))
}

#[test]
fn gdal_oapif_with_basic_auth_counts_like_bearer() {
    if std::process::Command::new("ogrinfo")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var_os("CI").is_none(),
            "ogrinfo not found (apt-get install gdal-bin)"
        );
        eprintln!("SKIPPED gdal_oapif_with_basic_auth_counts_like_bearer: no ogrinfo");
        return;
    }
    let (tmp, s) = start_tiny("");
    // The planner sees every private feature of the fixture, the grid
    // manager those of its village 金山: E1, E2 and HS-1.
    for (token, enterprises, hazards) in [(PLANNER, 3, 2), (GRID_MANAGER, 2, 1)] {
        let userpwd = format!("qgis:{token}");
        let basic = [("GDAL_HTTP_AUTH", "BASIC"), ("GDAL_HTTP_USERPWD", &userpwd)];
        let header_file = tmp.path().join(format!("{token}.headers"));
        std::fs::write(&header_file, format!("Authorization: Bearer {token}\n")).unwrap();
        let bearer = [("GDAL_HTTP_HEADER_FILE", path_str(&header_file))];
        for (layer, n) in [("enterprises", enterprises), ("hazard_sources", hazards)] {
            assert_eq!(
                ogrinfo_count(&s.base, layer, &basic),
                Some(n),
                "{layer} Basic"
            );
            assert_eq!(
                ogrinfo_count(&s.base, layer, &bearer),
                Some(n),
                "{layer} Bearer"
            );
        }
    }
    // Without credentials the private collections are not there, the
    // public ones are.
    assert_eq!(ogrinfo_count(&s.base, "enterprises", &[]), None);
    assert_eq!(ogrinfo_count(&s.base, "cells", &[]), Some(3));
    let wrong = [
        ("GDAL_HTTP_AUTH", "BASIC"),
        ("GDAL_HTTP_USERPWD", "qgis:wrong"),
    ];
    assert_eq!(ogrinfo_count(&s.base, "enterprises", &wrong), None);
}

#[test]
fn me_names_the_role_its_actions_and_the_scope() {
    let (_tmp, s) = start_tiny("");
    assert_eq!(s.get("/api/me").0, 401);
    let (status, body) = s.get_with("/api/me", GRID_MANAGER);
    assert_eq!(status, 200, "{body}");
    let me = json(&body);
    assert_eq!(me["role"], "grid_manager");
    assert_eq!(me["name"], "网格员-金山社区");
    let actions: Vec<&str> = me["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(actions.contains(&"report") && actions.contains(&"rectify"));
    assert!(!actions.contains(&"close") && !actions.contains(&"reject"));
    // The scope as /api/cells describes it.
    let unit = json(&s.get_with("/api/cells/350502001001", PLANNER).1);
    assert_eq!(me["scope"]["code"], "350502001001");
    assert_eq!(me["scope"]["name"], unit["name"]);
    assert_eq!(me["scope"]["level"], unit["level"]);
    let b: Vec<f64> = me["scope"]["bbox"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    // The same box the search gives the unit.
    let found = json(&s.get("/api/search?q=350502001001&limit=5").1);
    let item = found["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == "350502001001")
        .unwrap_or_else(|| panic!("{found}"));
    for (k, v) in b.iter().enumerate() {
        let want = item["bbox"][k].as_f64().unwrap();
        assert!((v - want).abs() < 1e-6, "{b:?} vs {}", item["bbox"]);
    }
    assert!(b[0] < b[2] && b[1] < b[3], "{b:?}");
    for token in [PLANNER, ADMIN] {
        let me = json(&s.get_with("/api/me", token).1);
        assert!(me["scope"].is_null(), "{me}");
        assert!(
            me["actions"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a == "close")
        );
    }
}
