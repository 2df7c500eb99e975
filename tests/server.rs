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
        ("hazard_sources", 2),
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
    install_demo_tokens(tmp.path());
    let out = run(tmp.path(), &["serve", "--addr", "0.0.0.0:0", "--data", "."]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--allow-demo-tokens"));
}

/// Starts `riskmap serve --addr ADDR` in `cwd`; returns the child once it
/// logs its address, or its exit status and output if it exits first.
fn serve_on(
    cwd: &std::path::Path,
    addr: &str,
    extra: &[&str],
) -> Result<std::process::Child, String> {
    use std::io::{BufRead, BufReader};
    let mut child = std::process::Command::new(bin())
        .args(["serve", "--addr", addr, "--data", "."])
        .args(extra)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for line in lines {
        if line.unwrap_or_default().contains("listening on http://") {
            return Ok(child);
        }
    }
    let out = child.wait_with_output().unwrap();
    Err(format!("{}: {}", out.status, output_text(&out)))
}

#[test]
fn a_renamed_file_holding_a_demo_token_is_refused_on_a_public_address() {
    let tmp = tempfile::tempdir().unwrap();
    write_tiny_dataset(tmp.path());
    // The demo file under another name, with one token of our own added.
    let demo = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/demo-tokens.toml"),
    )
    .unwrap();
    let ours = format!(
        "[[token]]\nname = \"ours\"\nrole = \"planner\"\nsha256 = \"{}\"\n",
        riskmap::auth::hash_token("rm_not_a_demo_token_0123456789")
    );
    std::fs::write(
        tmp.path().join("city-tokens.toml"),
        format!("{ours}\n{demo}"),
    )
    .unwrap();
    std::fs::write(
        tmp.path().join("riskmap.toml"),
        "tokens = \"city-tokens.toml\"\n",
    )
    .unwrap();
    let refused = serve_on(tmp.path(), "0.0.0.0:0", &[]).map(|mut c| {
        let _ = c.kill();
        let _ = c.wait();
    });
    let err = refused.expect_err("served a file holding the demo tokens on 0.0.0.0");
    assert!(err.contains("exit status: 1"), "{err}");
    assert!(
        err.contains("--allow-demo-tokens") && err.contains("planner"),
        "{err}"
    );
    // Only our own token: served on the same address.
    std::fs::write(tmp.path().join("city-tokens.toml"), &ours).unwrap();
    for (tokens, flags) in [(&ours, &[][..]), (&demo, &["--allow-demo-tokens"][..])] {
        std::fs::write(tmp.path().join("city-tokens.toml"), tokens).unwrap();
        let mut child =
            serve_on(tmp.path(), "0.0.0.0:0", flags).unwrap_or_else(|e| panic!("{flags:?}: {e}"));
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// A tokens file with `n` tokens (slow enough to read that a signal sent
/// just after the server says it listens would find it unprepared if the
/// handlers were installed late).
fn many_tokens(n: usize) -> String {
    let mut text = String::new();
    for i in 0..n {
        text.push_str(&format!(
            "[[token]]\nname = \"t{i}\"\nrole = \"planner\"\nsha256 = \"{}\"\n",
            riskmap::auth::hash_token(&format!("rm_{i}"))
        ));
    }
    text
}

#[cfg(unix)]
#[test]
fn sigterm_right_after_listening_drains_and_exits_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    write_tiny_dataset(tmp.path());
    std::fs::write(tmp.path().join("tokens.toml"), many_tokens(20_000)).unwrap();
    std::fs::write(
        tmp.path().join("riskmap.toml"),
        "tokens = \"tokens.toml\"\n",
    )
    .unwrap();
    let mut server = Server::start(tmp.path(), tmp.path(), &[]);
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &server.pid().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = server.wait_exit(60).expect("no exit within 60 s");
    assert!(status.success(), "{status:?}");
}

#[cfg(unix)]
#[test]
fn sighup_right_after_listening_reloads_instead_of_killing() {
    let tmp = tempfile::tempdir().unwrap();
    write_tiny_dataset(tmp.path());
    std::fs::write(tmp.path().join("tokens.toml"), many_tokens(20_000)).unwrap();
    std::fs::write(
        tmp.path().join("riskmap.toml"),
        "tokens = \"tokens.toml\"\n",
    )
    .unwrap();
    let server = Server::start(tmp.path(), tmp.path(), &[]);
    let hup = std::process::Command::new("kill")
        .args(["-HUP", &server.pid().to_string()])
        .status()
        .unwrap();
    assert!(hup.success());
    // The reload is counted; the process is alive and serving.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let (status, metrics) = server.get("/metrics");
        assert_eq!(status, 200);
        if metrics.contains("riskmap_reloads_total{outcome=\"ok\"} 1") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{metrics}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(server.get("/health").0, 200);
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
        .wait_exit(120)
        .expect("server did not exit within 120 s");
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
