//! Protocol edges on the real server: malformed paths, wrong methods,
//! forwarding headers, what public `/health` shows after a refused reload,
//! and caching of answers that depend on the token.

mod common;

use common::*;

/// Status, headers (lower-case names) and body of a request made with
/// `method` to a raw path (sent as is: percent-escapes untouched).
fn call(
    server: &Server,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, Vec<(String, String)>, String) {
    let mut req = ureq::request(method, &format!("{}{}", server.base, path));
    for (k, v) in headers {
        req = req.set(k, v);
    }
    let resp = match req.call() {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {path}: {e}"),
    };
    let status = resp.status();
    let names = resp.headers_names();
    let headers = names
        .iter()
        .flat_map(|n| {
            resp.all(n)
                .into_iter()
                .map(|v| (n.to_ascii_lowercase(), v.to_string()))
                .collect::<Vec<_>>()
        })
        .collect();
    (status, headers, resp.into_string().unwrap_or_default())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// An error answer: JSON with `code` and `description`.
fn error_code(status: u16, headers: &[(String, String)], body: &str) -> String {
    let ct = header(headers, "content-type").unwrap_or("");
    assert!(ct.starts_with("application/json"), "{status} {ct}: {body}");
    let v = json(body);
    assert!(
        v["description"].as_str().is_some_and(|d| !d.is_empty()),
        "{body}"
    );
    v["code"].as_str().unwrap_or("").to_string()
}

#[test]
fn invalid_utf8_paths_are_401_first_on_token_paths_then_400_json() {
    let (_tmp, server) = start_tiny("");
    for path in [
        "/api/cells/%FF%FE",
        "/api/cells/%C3%28/ledger.csv",
        "/ogc/collections/enterprises/items/%FF",
    ] {
        let (status, headers, body) = call(&server, "GET", path, &[]);
        assert_eq!(status, 401, "{path}: {body}");
        assert_eq!(error_code(status, &headers, &body), "Unauthorized");
        assert!(header(&headers, "www-authenticate").is_some(), "{path}");
        let (status, headers, body) =
            call(&server, "GET", path, &[("Authorization", &bearer(PLANNER))]);
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(error_code(status, &headers, &body), "InvalidParameterValue");
        // Scope before parameters: for a grid manager such a code is
        // outside its grid unit, as any code it cannot see.
        let (status, _, body) = call(
            &server,
            "GET",
            path,
            &[("Authorization", &bearer(GRID_MANAGER))],
        );
        assert_eq!(status, 403, "{path}: {body}");
    }
    for path in [
        "/ogc/collections/cells/items/%FF",
        "/ogc/collections/%FF/items",
        "/tiles/1/%FF/0.mvt",
    ] {
        let (status, headers, body) = call(&server, "GET", path, &[]);
        assert_eq!(status, 400, "{path}: {body}");
        error_code(status, &headers, &body);
    }
    // An unknown token is 401 whatever the path.
    let (status, _, _) = call(
        &server,
        "GET",
        "/ogc/collections/cells/items/%FF",
        &[("Authorization", "Bearer nope")],
    );
    assert_eq!(status, 401);
}

#[test]
fn a_wrong_method_is_405_json_with_allow() {
    let (_tmp, server) = start_tiny("");
    for (method, path, token) in [
        ("POST", "/ogc/collections/cells/items", None),
        ("DELETE", "/health", None),
        ("PUT", "/api/cells/350502001001", Some(PLANNER)),
        ("GET", "/api/admin/reload", Some(ADMIN)),
    ] {
        let auth = token.map(bearer).unwrap_or_default();
        let headers: Vec<(&str, &str)> = token
            .map(|_| ("Authorization", auth.as_str()))
            .into_iter()
            .collect();
        let (status, headers, body) = call(&server, method, path, &headers);
        assert_eq!(status, 405, "{method} {path}: {body}");
        assert_eq!(error_code(status, &headers, &body), "MethodNotAllowed");
        let allow = header(&headers, "allow").unwrap_or("");
        let expected = if path == "/api/admin/reload" {
            "POST"
        } else {
            "GET"
        };
        assert!(allow.contains(expected), "{method} {path}: Allow {allow:?}");
    }
}

/// The `href` of the landing page's `self` link.
fn self_link(server: &Server, headers: &[(&str, &str)]) -> String {
    let (status, _, body) = call(server, "GET", "/ogc", headers);
    assert_eq!(status, 200, "{body}");
    let v = json(&body);
    let links = v["links"].as_array().unwrap();
    let link = links.iter().find(|l| l["rel"] == "self").unwrap();
    link["href"].as_str().unwrap().to_string()
}

fn tilejson_url(server: &Server, headers: &[(&str, &str)]) -> String {
    let (status, _, body) = call(server, "GET", "/tiles.json", headers);
    assert_eq!(status, 200, "{body}");
    json(&body)["tiles"][0].as_str().unwrap().to_string()
}

#[test]
fn forwarding_headers_count_only_from_trusted_proxies() {
    let spoof = [
        ("X-Forwarded-Host", "evil.example"),
        ("X-Forwarded-Proto", "https"),
    ];
    let (_tmp, server) = start_tiny("");
    let direct = server.base.clone();
    assert!(
        self_link(&server, &spoof).starts_with(&direct),
        "{}",
        self_link(&server, &spoof)
    );
    assert!(tilejson_url(&server, &spoof).starts_with(&direct));
    drop(server);
    let (_tmp, proxied) = start_tiny("trusted_proxies = [\"127.0.0.0/8\"]\n");
    assert!(self_link(&proxied, &spoof).starts_with("https://evil.example/"));
    assert!(tilejson_url(&proxied, &spoof).starts_with("https://evil.example/"));
    // Another network is not trusted.
    let (_tmp, other) = start_tiny("trusted_proxies = [\"10.0.0.1\", \"fd00::/8\"]\n");
    assert!(self_link(&other, &spoof).starts_with(&other.base));
}

#[test]
fn public_health_shows_no_server_path_after_a_refused_reload() {
    let (tmp, server) = start_tiny("");
    let data = tmp.path().join("ds");
    std::fs::remove_file(data.join("grid_cells.geojson")).unwrap();
    let (status, body) = server.post("/api/admin/reload", Some(ADMIN));
    assert_eq!(status, 422, "{body}");
    let (status, body) = server.get("/health");
    assert_eq!(status, 200);
    let h = json(&body);
    let first = h["last_reload_error"]["first"].as_str().unwrap_or("");
    assert!(first.contains("grid_cells"), "{body}");
    let resolved = data.canonicalize().unwrap();
    for secret in [
        data.to_str().unwrap(),
        resolved.to_str().unwrap(),
        tmp.path().to_str().unwrap(),
    ] {
        assert!(!body.contains(secret), "{secret} in {body}");
    }
}

#[test]
fn public_health_names_no_private_feature_after_a_refused_reload() {
    let (tmp, server) = start_tiny("");
    let data = tmp.path().join("ds");
    // HS-2 now names an enterprise that does not exist: the reload is
    // refused and the admin's answer names both.
    std::fs::write(
        data.join("hazard_sources.geojson"),
        hazards_geojson().replace("\"E3\"", "\"E-SECRET-9\""),
    )
    .unwrap();
    let (status, body) = server.post("/api/admin/reload", Some(ADMIN));
    assert_eq!(status, 422, "{body}");
    assert!(
        body.contains("HS-2") && body.contains("E-SECRET-9"),
        "{body}"
    );
    let (status, body) = server.get("/health");
    assert_eq!(status, 200);
    let h = json(&body);
    let first = h["last_reload_error"]["first"].as_str().unwrap_or("");
    assert!(
        first.starts_with("hazard_sources.geojson: field `enterprise_id`"),
        "{body}"
    );
    for secret in ["HS-2", "E-SECRET-9", "笋浯储罐区"] {
        assert!(!body.contains(secret), "{secret} in {body}");
    }
}

#[test]
fn token_dependent_json_is_private_and_varies_on_authorization() {
    let (_tmp, server) = start_tiny("");
    for (path, token) in [
        ("/api/cells/350502001001", GRID_MANAGER),
        (
            "/api/cells/350502001001001/features?layer=enterprises",
            PLANNER,
        ),
        ("/api/search?q=E1", PLANNER),
        ("/ogc/collections/enterprises/items", PLANNER),
    ] {
        let (status, headers, body) =
            call(&server, "GET", path, &[("Authorization", &bearer(token))]);
        assert_eq!(status, 200, "{path}: {body}");
        let cc = header(&headers, "cache-control").unwrap_or("");
        assert!(
            cc.contains("private") && !cc.contains("public"),
            "{path}: Cache-Control {cc:?}"
        );
        let vary = header(&headers, "vary").unwrap_or("");
        assert!(
            vary.to_ascii_lowercase().contains("authorization"),
            "{path}: Vary {vary:?}"
        );
    }
    // Without a token the search answer differs, so it varies too.
    let (status, headers, _) = call(&server, "GET", "/api/search?q=E1", &[]);
    assert_eq!(status, 200);
    let vary = header(&headers, "vary").unwrap_or("");
    assert!(
        vary.to_ascii_lowercase().contains("authorization"),
        "Vary {vary:?}"
    );
}
