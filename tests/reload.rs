//! Reloading: a broken dataset never replaces the one being served.

mod common;

use common::*;
use serde_json::Value;

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

#[test]
fn broken_reload_keeps_serving_then_a_fix_swaps() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("ds");
    write_tiny_dataset(&data);
    install_demo_tokens(tmp.path());
    let server = Server::start(tmp.path(), &data, &[]);
    let before = json(&server.get("/health").1);
    let v0 = before["data_version"].as_str().unwrap().to_string();

    // Only an admin may reload.
    assert_eq!(server.post("/api/admin/reload", None).0, 401);
    assert_eq!(server.post("/api/admin/reload", Some(PLANNER)).0, 403);
    assert_eq!(server.post("/api/admin/reload", Some("not-a-token")).0, 401);

    // Corrupt a layer: 422 listing the problem, old data still served.
    std::fs::write(
        data.join("hazard_sources.geojson"),
        b"{\"type\":\"FeatureCollection\",\"features\":[",
    )
    .unwrap();
    let (status, body) = server.post("/api/admin/reload", Some(ADMIN));
    assert_eq!(status, 422, "{body}");
    let refused = json(&body);
    let errors = refused["errors"].as_array().unwrap();
    assert!(
        errors.iter().any(|e| e["file"] == "hazard_sources.geojson"),
        "{body}"
    );
    let during = json(&server.get("/health").1);
    assert_eq!(during["data_version"], v0.as_str());
    assert_eq!(during["counts"], before["counts"]);
    assert!(
        during["last_reload_error"]["first"]
            .as_str()
            .unwrap()
            .contains("hazard_sources.geojson")
    );

    // Fix it with different content: swapped, error cleared.
    let fixed = hazards_geojson().replace("\"grade\":2", "\"grade\":1");
    std::fs::write(data.join("hazard_sources.geojson"), fixed).unwrap();
    let (status, body) = server.post("/api/admin/reload", Some(ADMIN));
    assert_eq!(status, 200, "{body}");
    let after = json(&server.get("/health").1);
    assert_ne!(after["data_version"], v0.as_str());
    assert!(after.get("last_reload_error").is_none());

    let (status, metrics) = server.get("/metrics");
    assert_eq!(status, 200);
    assert!(
        metrics.contains("riskmap_reloads_total{outcome=\"ok\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("riskmap_reloads_total{outcome=\"refused\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("riskmap_http_requests_total{route=\"/health\",status=\"200\"}"),
        "{metrics}"
    );
}
