//! The real server on 127.0.0.1:0: health, errors, shutdown.

mod common;

use common::*;

#[test]
fn health_reports_counts_and_version() {
    let tmp = tempfile::tempdir().unwrap();
    write_tiny_dataset(tmp.path());
    install_demo_tokens(tmp.path());
    let server = Server::start(tmp.path(), tmp.path(), &[]);
    let (status, body) = server.get("/health");
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    // The contract's constant; what can fail is below.
    assert_eq!(v["status"], "ok");
    let version = v["data_version"].as_str().unwrap();
    assert!(
        version.len() == 16 && version.bytes().all(|b| b.is_ascii_hexdigit()),
        "{version}"
    );
    assert!(v.get("last_reload_error").is_none(), "{body}");
    assert_eq!(v["warnings"], 0, "{body}");
    assert!(v["snapshot_age_seconds"].is_u64(), "{body}");
    // The counts are those the server serves: every OGC collection
    // matches as many features.
    for (collection, key) in [
        ("enterprises", "enterprises"),
        ("hazard_sources", "hazard_sources"),
        ("collapse_zones", "collapse_zones"),
        ("cells", "cells"),
        ("villages", "villages"),
        ("towns", "towns"),
        ("counties", "counties"),
    ] {
        let (status, page) = server.get_with(
            &format!("/ogc/collections/{collection}/items?limit=1"),
            PLANNER,
        );
        assert_eq!(status, 200, "{page}");
        let page: serde_json::Value = serde_json::from_str(&page).unwrap();
        assert_eq!(page["numberMatched"], v["counts"][key], "{collection}");
    }
    let c = &v["counts"];
    for (k, n) in [
        ("enterprises", 3),
        ("hazard_sources", 1),
        ("collapse_zones", 1),
        ("cells", 3),
        ("villages", 2),
        ("towns", 1),
        ("counties", 1),
    ] {
        assert_eq!(c[k], n, "{k} in {body}");
    }
    let (status, body) = server.get("/no/such/path");
    assert_eq!(status, 404);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["code"], "NotFound");
}

#[test]
fn data_version_follows_content() {
    let config = riskmap::config::Config::default();
    let tmp = tempfile::tempdir().unwrap();
    write_tiny_dataset(tmp.path());
    let a = riskmap::snapshot::Snapshot::load(tmp.path(), &config)
        .unwrap()
        .data_version;
    let b = riskmap::snapshot::Snapshot::load(tmp.path(), &config)
        .unwrap()
        .data_version;
    assert_eq!(a, b);
    let zones = zones_geojson().replace("\"severity\":3", "\"severity\":2");
    std::fs::write(tmp.path().join("collapse_zones.geojson"), zones).unwrap();
    let c = riskmap::snapshot::Snapshot::load(tmp.path(), &config)
        .unwrap()
        .data_version;
    assert_ne!(a, c);
}

#[test]
fn invalid_data_refuses_to_start() {
    let tmp = tempfile::tempdir().unwrap();
    write_tiny_dataset(tmp.path());
    std::fs::write(tmp.path().join("collapse_zones.geojson"), b"{not json").unwrap();
    let out = run(
        tmp.path(),
        &["serve", "--addr", "127.0.0.1:0", "--data", "."],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("collapse_zones.geojson:-: not valid GeoJSON"),
        "{err}"
    );
    assert!(err.contains("not serving it"), "{err}");
}

#[test]
fn demo_tokens_refused_on_public_address() {
    let tmp = tempfile::tempdir().unwrap();
    write_tiny_dataset(tmp.path());
    let out = run(tmp.path(), &["serve", "--addr", "0.0.0.0:0", "--data", "."]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--allow-demo-tokens"));
}

#[cfg(unix)]
#[test]
fn sigterm_exits_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    write_tiny_dataset(tmp.path());
    let mut server = Server::start(tmp.path(), tmp.path(), &[]);
    assert_eq!(server.get("/health").0, 200);
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &server.pid().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = server
        .wait_exit(10)
        .expect("server did not exit within 10 s");
    assert!(status.success(), "{status:?}");
}

#[test]
fn oversized_body_is_413_and_requests_get_ids() {
    let tmp = tempfile::tempdir().unwrap();
    write_tiny_dataset(tmp.path());
    let server = Server::start(tmp.path(), tmp.path(), &[]);
    let body = vec![b'x'; 10 * 1024 * 1024];
    let resp = ureq::post(&format!("{}/api/admin/reload", server.base))
        .set("Content-Type", "application/octet-stream")
        .send_bytes(&body);
    match resp {
        Err(ureq::Error::Status(413, _)) => {}
        Err(ureq::Error::Transport(t)) => {
            // The server may close the connection after answering 413
            // before the client finished sending.
            assert!(
                t.to_string().contains("connection")
                    || t.to_string().contains("reset")
                    || t.to_string().contains("Broken pipe"),
                "{t}"
            );
        }
        other => panic!("expected 413, got {other:?}"),
    }
    let resp = ureq::get(&format!("{}/health", server.base))
        .call()
        .unwrap();
    assert!(resp.header("x-request-id").is_some_and(|v| !v.is_empty()));
    // The server is still healthy afterwards.
    assert_eq!(server.get("/health").0, 200);
}
