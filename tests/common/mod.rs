//! Shared fixtures for integration tests: a tiny hand-built dataset.

#![allow(dead_code)]

pub mod postgres;
pub mod require;
#[allow(unused_imports)]
pub use require::*;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs a command-line tool and returns its stdout; panics with its stderr
/// when it fails or cannot start.
pub fn tool(name: &str, args: &[&str]) -> String {
    let out = Command::new(name)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {name}: {e}"));
    assert!(
        out.status.success(),
        "{name} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A path as UTF-8 text (test paths always are).
pub fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A square ring (closed, counter-clockwise) as GeoJSON coordinates.
pub fn square(x: f64, y: f64, size: f64) -> String {
    format!(
        "[[[{x},{y}],[{x2},{y}],[{x2},{y2}],[{x},{y2}],[{x},{y}]]]",
        x2 = x + size,
        y2 = y + size
    )
}

fn polygon_feature(props: &str, rings: &str) -> String {
    format!(
        "{{\"type\":\"Feature\",\"properties\":{{{props}}},\"geometry\":{{\"type\":\"Polygon\",\"coordinates\":{rings}}}}}"
    )
}

fn collection(features: &[String]) -> String {
    format!(
        "{{\"type\":\"FeatureCollection\",\"features\":[{}]}}",
        features.join(",")
    )
}

/// The grid: one town; village 金山 with two unit cells side by side and
/// village 笋浯 with one.
pub fn grid_geojson() -> String {
    collection(&[
        polygon_feature(
            "\"code\":\"350502001\",\"name\":\"海滨街道\",\"level\":\"town\",\"parent_code\":\"350502\"",
            "[[[118.58,24.90],[118.61,24.90],[118.61,24.92],[118.58,24.92],[118.58,24.90]]]",
        ),
        polygon_feature(
            "\"code\":\"350502001002\",\"name\":\"笋浯社区\",\"level\":\"village\",\"parent_code\":\"350502001\"",
            "[[[118.60,24.90],[118.61,24.90],[118.61,24.92],[118.60,24.92],[118.60,24.90]]]",
        ),
        polygon_feature(
            "\"code\":\"350502001002001\",\"name\":\"笋浯第1网格\",\"level\":\"cell\",\"parent_code\":\"350502001002\",\"population\":800",
            "[[[118.60,24.90],[118.61,24.90],[118.61,24.92],[118.60,24.92],[118.60,24.90]]]",
        ),
        polygon_feature(
            "\"code\":\"350502001001\",\"name\":\"金山社区\",\"level\":\"village\",\"parent_code\":\"350502001\"",
            &square(118.58, 24.90, 0.02),
        ),
        polygon_feature(
            "\"code\":\"350502001001001\",\"name\":\"金山第1网格\",\"level\":\"cell\",\"parent_code\":\"350502001001\",\"population\":1200",
            "[[[118.58,24.90],[118.59,24.90],[118.59,24.92],[118.58,24.92],[118.58,24.90]]]",
        ),
        polygon_feature(
            "\"code\":\"350502001001002\",\"name\":\"金山第2网格\",\"level\":\"cell\",\"parent_code\":\"350502001001\",\"population\":300",
            "[[[118.59,24.90],[118.60,24.90],[118.60,24.92],[118.59,24.92],[118.59,24.90]]]",
        ),
    ])
}

/// Collapse zones: one cavity.
pub fn zones_geojson() -> String {
    collection(&[polygon_feature(
        "\"id\":\"CZ-1\",\"kind\":\"cavity\",\"severity\":3,\"surveyed\":\"2024-05-01\"",
        &square(118.581, 24.901, 0.002),
    )])
}

/// Hazard sources: a grade-2 source in 金山 (the grid manager's village)
/// and a grade-3 source in 笋浯, 250 m from 金山第2网格: outside the grid
/// manager's scope, yet raising a score inside it.
pub fn hazards_geojson() -> String {
    "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"properties\":{\"id\":\"HS-1\",\"name\":\"液化气站\",\"enterprise_id\":\"E1\",\"grade\":2,\"substances\":\"液化石油气\",\"monitored\":true},\"geometry\":{\"type\":\"Point\",\"coordinates\":[118.585,24.905]}},\
     {\"type\":\"Feature\",\"properties\":{\"id\":\"HS-2\",\"name\":\"笋浯储罐区\",\"enterprise_id\":\"E3\",\"grade\":3,\"substances\":\"甲苯\",\"monitored\":false},\"geometry\":{\"type\":\"Point\",\"coordinates\":[118.6025,24.912]}}]}".to_string()
}

/// The private features of the tiny dataset outside the grid manager's
/// scope (village 350502001001 金山), as (id, name): what no response to
/// its token may name.
pub const OUT_OF_SCOPE: [(&str, &str); 2] = [("E3", "笋浯危化仓储"), ("HS-2", "笋浯储罐区")];

/// Enterprises as a CSV with Chinese headers.
pub fn enterprises_csv() -> String {
    "企业编号,企业名称,行业类别,风险等级,从业人员,未整改隐患,重大隐患,黑名单,经度,纬度\n\
     E1,泉州燃气有限公司,燃气,较大,120,2,0,否,118.585,24.906\n\
     E2,海滨鞋业,一般工贸,低,30,0,0,否,118.595,24.91\n\
     E3,笋浯危化仓储,危险化学品,重大,60,3,1,是,118.605,24.91\n"
        .to_string()
}

/// Writes the tiny dataset (enterprises as GBK CSV) into `dir`.
pub fn write_tiny_dataset(dir: &Path) {
    std::fs::create_dir_all(dir).ok();
    std::fs::write(dir.join("grid_cells.geojson"), grid_geojson()).ok();
    std::fs::write(dir.join("collapse_zones.geojson"), zones_geojson()).ok();
    std::fs::write(dir.join("hazard_sources.geojson"), hazards_geojson()).ok();
    let csv = enterprises_csv();
    let (gbk, _, _) = encoding_rs::GBK.encode(&csv);
    std::fs::write(dir.join("enterprises.csv"), &gbk).ok();
}

/// Demo tokens (plain), as printed in the README.
pub const PLANNER: &str = "demo-planner-7f3a91c2";
/// Demo admin token.
pub const ADMIN: &str = "demo-admin-4be2d058";
/// Demo grid manager token (scope 350502001001).
pub const GRID_MANAGER: &str = "demo-grid-5c8e17a4";
/// The grid unit the demo grid manager token answers for (金山社区).
pub const GRID_MANAGER_SCOPE: &str = "350502001001";

/// Copies the repo's demo tokens file into `dir` (servers started there
/// find it at the default path).
pub fn install_demo_tokens(dir: &Path) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/demo-tokens.toml");
    std::fs::create_dir_all(dir.join("data")).ok();
    std::fs::copy(src, dir.join("data/demo-tokens.toml")).ok();
}

/// [`install_demo_tokens`] plus an `ingest` token named `platform`
/// whose plain value is `token`.
pub fn install_demo_tokens_with_ingest(dir: &Path, token: &str) {
    use std::io::Write;
    install_demo_tokens(dir);
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.join("data/demo-tokens.toml"))
        .unwrap_or_else(|e| panic!("tokens file: {e}"));
    writeln!(
        f,
        "\n[[token]]\nname = \"platform\"\nrole = \"ingest\"\nsha256 = \"{}\"",
        riskmap::auth::hash_token(token)
    )
    .unwrap_or_else(|e| panic!("tokens file: {e}"));
}

/// Path of the built binary.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_riskmap"))
}

/// Runs `riskmap ARGS` in `cwd`.
pub fn run(cwd: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap_or_else(|e| panic!("cannot run riskmap: {e}"))
}

/// `riskmap score` of `data` (base + journal, read from `cwd` with its
/// `riskmap.toml`): grid-unit code → risk_score.
pub fn batch_scores(cwd: &Path, data: &Path) -> std::collections::HashMap<String, f64> {
    let out = cwd.join("scores.geojson");
    let o = Command::new(bin())
        .current_dir(cwd)
        .args(["score", "--data"])
        .arg(data)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap_or_else(|e| panic!("cannot run riskmap: {e}"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let fc = json(&std::fs::read_to_string(&out).unwrap());
    fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let p = &f["properties"];
            (
                p["code"].as_str().unwrap().to_string(),
                p["risk_score"].as_f64().unwrap(),
            )
        })
        .collect()
}

/// Serves the tiny dataset (written to `ds/` in a new temporary folder,
/// with the demo tokens and `toml` as `riskmap.toml`).
pub fn start_tiny(toml: &str) -> (tempfile::TempDir, Server) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("ds");
    write_tiny_dataset(&data);
    install_demo_tokens(tmp.path());
    std::fs::write(tmp.path().join("riskmap.toml"), toml).unwrap();
    let server = Server::start(tmp.path(), &data, &[]);
    (tmp, server)
}

/// Parses a JSON body, panicking with the body when it is not JSON.
pub fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

/// A command's stdout followed by its stderr, as text.
pub fn output_text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A running `riskmap serve` on 127.0.0.1:0, killed on drop.
pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    child: std::process::Child,
}

impl Server {
    /// Starts the real binary on `data` with extra args, waiting until it
    /// logs its bound address.
    pub fn start(cwd: &Path, data: &Path, extra: &[&str]) -> Server {
        Server::start_env(cwd, data, extra, &[])
    }

    /// [`Server::start`] with extra environment variables.
    pub fn start_env(cwd: &Path, data: &Path, extra: &[&str], env: &[(&str, &str)]) -> Server {
        let server = Server::start_opening(cwd, data, extra, env);
        server.wait_for_history();
        server
    }

    /// [`Server::start_env`] without waiting for the history, which the
    /// server opens in the background once it listens.
    pub fn start_opening(cwd: &Path, data: &Path, extra: &[&str], env: &[(&str, &str)]) -> Server {
        use std::io::{BufRead, BufReader};
        let mut child = Command::new(bin())
            .args(["serve", "--addr", "127.0.0.1:0", "--data"])
            .arg(data)
            .args(extra)
            .envs(env.iter().copied())
            .current_dir(cwd)
            .env("NO_COLOR", "1")
            .env("RUST_LOG", "info")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start riskmap: {e}"));
        let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
        let mut lines = BufReader::new(stdout).lines();
        let mut seen = Vec::new();
        let base = loop {
            match lines.next() {
                Some(Ok(line)) => {
                    if let Some(i) = line.find("listening on http://") {
                        break line[i + "listening on ".len()..].trim().to_string();
                    }
                    seen.push(line);
                }
                _ => panic!("server exited before listening:\n{}", seen.join("\n")),
            }
        };
        // Keep draining the log so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines.by_ref() {});
        Server { base, child }
    }

    /// Waits while the history opens after the start (`/health` says
    /// `history_opening`), so that tests see the server complete.
    pub fn wait_for_history(&self) {
        let until = std::time::Instant::now() + std::time::Duration::from_secs(300);
        while std::time::Instant::now() < until {
            // `Connection: close`: no idle connection of the test stays
            // open (the connection-limit tests count them).
            let opening = match ureq::get(&format!("{}/health", self.base))
                .set("Connection", "close")
                .call()
            {
                Ok(r) => r
                    .into_string()
                    .unwrap_or_default()
                    .contains("history_opening"),
                Err(_) => false,
            };
            if !opening {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("the history did not open within 300 s");
    }

    /// GET a path; returns status and body.
    pub fn get(&self, path: &str) -> (u16, String) {
        match ureq::get(&format!("{}{}", self.base, path)).call() {
            Ok(r) => (r.status(), r.into_string().unwrap_or_default()),
            Err(ureq::Error::Status(code, r)) => (code, r.into_string().unwrap_or_default()),
            Err(e) => panic!("GET {path}: {e}"),
        }
    }

    /// GET with a bearer token.
    pub fn get_with(&self, path: &str, token: &str) -> (u16, String) {
        let req = ureq::get(&format!("{}{}", self.base, path))
            .set("Authorization", &format!("Bearer {token}"));
        match req.call() {
            Ok(r) => (r.status(), r.into_string().unwrap_or_default()),
            Err(ureq::Error::Status(code, r)) => (code, r.into_string().unwrap_or_default()),
            Err(e) => panic!("GET {path}: {e}"),
        }
    }

    /// Sends `method path` with an optional bearer token, `If-Match` and
    /// JSON body; returns status, ETag and body.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        if_match: Option<&str>,
        body: Option<&serde_json::Value>,
    ) -> (u16, Option<String>, String) {
        let mut req = ureq::request(method, &format!("{}{}", self.base, path))
            .timeout(std::time::Duration::from_secs(60));
        if let Some(t) = token {
            req = req.set("Authorization", &format!("Bearer {t}"));
        }
        if let Some(m) = if_match {
            req = req.set("If-Match", m);
        }
        let res = match body {
            Some(b) => req.send_json(b.clone()),
            None => req.call(),
        };
        let r = match res {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{method} {path}: {e}"),
        };
        let status = r.status();
        let etag = r.header("ETag").map(str::to_string);
        (status, etag, r.into_string().unwrap_or_default())
    }

    /// POST with an optional bearer token and an empty body.
    pub fn post(&self, path: &str, token: Option<&str>) -> (u16, String) {
        let mut req = ureq::post(&format!("{}{}", self.base, path));
        if let Some(t) = token {
            req = req.set("Authorization", &format!("Bearer {t}"));
        }
        match req.call() {
            Ok(r) => (r.status(), r.into_string().unwrap_or_default()),
            Err(ureq::Error::Status(code, r)) => (code, r.into_string().unwrap_or_default()),
            Err(e) => panic!("POST {path}: {e}"),
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the process to exit (after a signal), up to `secs`.
    pub fn wait_exit(&mut self, secs: u64) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        while std::time::Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        None
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
