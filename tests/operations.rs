//! Operational promises of the README, on the real server: SIGHUP reload,
//! the request timeout and concurrency limit, draining an in-flight request
//! on SIGTERM, tile ETags after a file reload, the page's CSP and CORS.
//!
//! A request is held in flight without timing tricks: a data file is
//! replaced by a named pipe, so a reload blocks reading it until the test
//! writes the file's bytes into the pipe (`Held`).

#![cfg(unix)]

mod common;

use common::*;
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Polls `done` every 50 ms until it holds, failing after 60 s with `what`.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn health(server: &Server) -> serde_json::Value {
    let (status, body) = server.get("/health");
    assert_eq!(status, 200, "{body}");
    json(&body)
}

fn signal(server: &Server, sig: &str) {
    let ok = std::process::Command::new("kill")
        .args([&format!("-{sig}"), &server.pid().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

/// A reload held in flight: `collapse_zones.geojson` is a named pipe that
/// a reload is blocked reading.
struct Held {
    fifo: PathBuf,
    content: String,
    writer: std::fs::File,
    request: std::thread::JoinHandle<(u16, String)>,
}

impl Held {
    /// Swaps the zones file for a pipe, POSTs a reload and waits until the
    /// server has the pipe open (so the request is in the handler).
    fn start(server: &Server, data: &Path, content: String) -> Held {
        let fifo = data.join("collapse_zones.geojson");
        std::fs::remove_file(&fifo).unwrap();
        tool("mkfifo", &[path_str(&fifo)]);
        let url = format!("{}/api/admin/reload", server.base);
        let request = std::thread::spawn(move || {
            match ureq::post(&url)
                .set("Authorization", &format!("Bearer {ADMIN}"))
                .call()
            {
                Ok(r) => (r.status(), r.into_string().unwrap_or_default()),
                Err(ureq::Error::Status(code, r)) => (code, r.into_string().unwrap_or_default()),
                Err(e) => (0, e.to_string()),
            }
        });
        // Opening the write end without blocking succeeds once a reader
        // (the reload) has the pipe open.
        let mut writer = None;
        wait_until("the reload to open the pipe", || {
            writer = std::fs::OpenOptions::new()
                .write(true)
                .custom_flags(libc_o_nonblock())
                .open(&fifo)
                .ok();
            writer.is_some()
        });
        Held {
            fifo,
            content,
            writer: writer.unwrap(),
            request,
        }
    }

    /// Writes the file's bytes and closes the pipe; the reload's answer.
    fn release(mut self) -> (u16, String) {
        write_all_nonblocking(&mut self.writer, self.content.as_bytes());
        drop(self.writer);
        let answer = self.request.join().unwrap();
        // A plain file again for whoever reads the folder next.
        std::fs::remove_file(&self.fifo).ok();
        std::fs::write(&self.fifo, &self.content).unwrap();
        answer
    }
}

/// `O_NONBLOCK` on Linux (and the BSDs' value differs: Linux only here).
fn libc_o_nonblock() -> i32 {
    if cfg!(target_os = "linux") {
        0o4000
    } else {
        0x0004
    }
}

fn write_all_nonblocking(w: &mut std::fs::File, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        match w.write(bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => panic!("writing the pipe: {e}"),
        }
    }
}

/// The tiny dataset in `tmp/ds`, tokens and `toml` as riskmap.toml.
fn start(toml: &str) -> (tempfile::TempDir, PathBuf, Server) {
    let (tmp, server) = start_tiny(toml);
    let data = tmp.path().join("ds");
    (tmp, data, server)
}

#[test]
fn sighup_reloads_the_files() {
    let (_tmp, data, server) = start("");
    let before = health(&server);
    assert_eq!(before["counts"]["collapse_zones"], 1);
    // A second zone, then SIGHUP.
    let base = zones_geojson();
    let end = base.rfind("]}").unwrap();
    let zones = format!(
        "{},{{\"type\":\"Feature\",\"properties\":{{\"id\":\"CZ-2\",\"kind\":\"cavity\",\"severity\":2,\"surveyed\":\"2024-06-01\"}},\"geometry\":{{\"type\":\"Polygon\",\"coordinates\":{}}}}}{}",
        &base[..end],
        square(118.601, 24.911, 0.002),
        &base[end..]
    );
    json(&zones);
    std::fs::write(data.join("collapse_zones.geojson"), zones).unwrap();
    signal(&server, "HUP");
    wait_until("the SIGHUP reload", || {
        health(&server)["counts"]["collapse_zones"] == 2
    });
    let after = health(&server);
    assert_ne!(after["data_version"], before["data_version"]);
}

#[test]
fn tile_etag_changes_after_a_file_reload() {
    let (_tmp, data, server) = start("");
    let path = "/tiles/12/3397/1755.mvt";
    let etag = |extra: Option<&str>| {
        let mut req = ureq::get(&format!("{}{path}", server.base));
        if let Some(tag) = extra {
            req = req.set("If-None-Match", tag);
        }
        let r = match req.call() {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{e}"),
        };
        (r.status(), r.header("etag").unwrap_or_default().to_string())
    };
    let (status, old) = etag(None);
    assert_eq!(status, 200, "the tiny dataset lies in tile {path}");
    assert_eq!(etag(Some(&old)).0, 304);
    let zones = zones_geojson().replace("\"severity\":3", "\"severity\":1");
    std::fs::write(data.join("collapse_zones.geojson"), zones).unwrap();
    let (status, body) = server.post("/api/admin/reload", Some(ADMIN));
    assert_eq!(status, 200, "{body}");
    let (status, new) = etag(Some(&old));
    assert_eq!(status, 200, "the old ETag must not validate the new tile");
    assert_ne!(new, old);
    assert_eq!(etag(Some(&new)).0, 304);
}

#[test]
fn a_request_over_the_timeout_is_answered_503() {
    let (_tmp, data, server) = start("[limits]\nrequest_timeout_secs = 1\n");
    let zones = zones_geojson();
    let held = Held::start(&server, &data, zones);
    // The reload stays blocked on the pipe; the timeout answers for it.
    let (status, _) = held.request.join().unwrap();
    assert_eq!(status, 503);
    // Unblock the abandoned reader; the server keeps serving.
    let mut w = held.writer;
    write_all_nonblocking(&mut w, held.content.as_bytes());
    drop(w);
    assert_eq!(health(&server)["status"], "ok");
}

#[test]
fn the_concurrency_limit_queues_requests_beyond_it() {
    let (_tmp, data, server) =
        start("[limits]\nmax_concurrent_requests = 1\nrequest_timeout_secs = 120\n");
    let held = Held::start(&server, &data, zones_geojson());
    // With the one slot taken, another request waits. (A slow machine can
    // only make this pass wrongly, never fail wrongly.)
    let agent = ureq::AgentBuilder::new()
        .timeout_read(Duration::from_secs(2))
        .build();
    let queued = agent.get(&format!("{}/health", server.base)).call();
    assert!(
        matches!(&queued, Err(ureq::Error::Transport(_))),
        "a second request was answered while the only slot was busy: {:?}",
        queued.map(|r| r.status())
    );
    let (status, body) = held.release();
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["status"], "reloaded");
    assert_eq!(health(&server)["status"], "ok");
}

#[test]
fn sigterm_drains_a_request_in_flight() {
    let (_tmp, data, mut server) = start("");
    let held = Held::start(&server, &data, zones_geojson());
    signal(&server, "TERM");
    // The listener closes first…
    let addr = server.base.trim_start_matches("http://").to_string();
    wait_until("the listener to close", || {
        std::net::TcpStream::connect(&addr).is_err()
    });
    // …and the request in flight still gets its answer.
    let (status, body) = held.release();
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["status"], "reloaded");
    let exit = server.wait_exit(30).expect("no exit after draining");
    assert!(exit.success(), "{exit:?}");
}

#[test]
fn the_page_has_a_csp_and_the_api_answers_cors() {
    let (_tmp, _data, server) = start("");
    let page = ureq::get(&format!("{}/", server.base)).call().unwrap();
    let csp = page
        .header("content-security-policy")
        .unwrap_or_default()
        .to_string();
    for directive in [
        "default-src 'self'",
        "script-src 'self'",
        "object-src 'none'",
        "connect-src 'self'",
    ] {
        assert!(csp.contains(directive), "{directive} not in {csp:?}");
    }
    assert!(!csp.contains("script-src 'self' 'unsafe"), "{csp}");
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));

    // A simple cross-origin GET: any origin may read, and see the ETag.
    let tile = ureq::get(&format!("{}/tiles/12/3397/1755.mvt", server.base))
        .set("Origin", "https://gis.example.org")
        .call()
        .unwrap();
    assert_eq!(tile.header("access-control-allow-origin"), Some("*"));
    let exposed = tile
        .header("access-control-expose-headers")
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(exposed.contains("etag"), "{exposed:?}");
    // A preflight for a token request.
    let pre = ureq::request("OPTIONS", &format!("{}/api/stats", server.base))
        .set("Origin", "https://gis.example.org")
        .set("Access-Control-Request-Method", "GET")
        .set("Access-Control-Request-Headers", "authorization")
        .call()
        .unwrap();
    assert!(pre.status() < 300, "{}", pre.status());
    assert_eq!(pre.header("access-control-allow-origin"), Some("*"));
    let allowed = pre
        .header("access-control-allow-headers")
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(allowed.contains("authorization"), "{allowed:?}");
    let mut body = String::new();
    pre.into_reader().read_to_string(&mut body).unwrap();
    assert!(body.is_empty(), "{body}");
}
