//! `riskmap token add/list/revoke` through the real binary, the tokens it
//! makes used against the real server, and `serve --allow-demo-tokens`.

mod common;

use common::*;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

fn token(dir: &Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["token"];
    all.extend_from_slice(args);
    run(dir, &all)
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// SHA-256 of `text` in hex, with `sha256sum` (coreutils), not the
/// server's code.
fn sha256_hex(text: &str) -> String {
    let mut child = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("sha256sum");
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn tokens_added_listed_and_revoked_through_the_binary() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write_tiny_dataset(&dir.join("ds"));
    std::fs::write(dir.join("riskmap.toml"), "tokens = \"tokens.toml\"\n").unwrap();
    std::fs::write(dir.join("tokens.toml"), "").unwrap();

    let o = token(dir, &["add", "--role", "planner", "--name", "城建局"]);
    assert!(o.status.success(), "{}", output_text(&o));
    let planner = stdout(&o).trim().to_string();
    assert!(planner.len() >= 20, "{planner:?}");
    let o = token(
        dir,
        &["add", "--role", "grid_manager", "--scope", "350502001001"],
    );
    assert!(o.status.success(), "{}", output_text(&o));
    let grid = stdout(&o).trim().to_string();
    assert_ne!(grid, planner);
    // Only hashes are stored.
    let file = std::fs::read_to_string(dir.join("tokens.toml")).unwrap();
    assert!(!file.contains(&planner) && !file.contains(&grid), "{file}");
    assert!(file.contains(&sha256_hex(&planner)), "{file}");
    assert!(file.contains(&sha256_hex(&grid)), "{file}");
    // A second token of the same name is refused.
    let o = token(dir, &["add", "--role", "admin", "--name", "城建局"]);
    assert!(!o.status.success(), "{}", output_text(&o));

    let o = token(dir, &["list"]);
    assert!(o.status.success(), "{}", output_text(&o));
    let list = stdout(&o);
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(
        lines,
        [
            "城建局\tplanner\t-",
            "grid_manager-350502001001\tgrid_manager\t350502001001"
        ]
    );
    assert!(!list.contains(&planner) && !list.contains(&grid));

    // The server accepts them, with their roles and scopes.
    let server = Server::start(dir, &dir.join("ds"), &[]);
    let other = "/api/cells/350502001002001";
    let own = "/api/cells/350502001001001";
    assert_eq!(server.get_with(other, &planner).0, 200);
    assert_eq!(server.get_with(own, &grid).0, 200);
    assert_eq!(server.get_with(other, &grid).0, 403);
    assert_eq!(
        server.get_with(own, PLANNER).0,
        401,
        "demo tokens are not configured"
    );
    drop(server);

    let o = token(dir, &["revoke", "城建局"]);
    assert!(o.status.success(), "{}", output_text(&o));
    let o = token(dir, &["revoke", "城建局"]);
    assert!(!o.status.success());
    assert!(output_text(&o).contains("城建局"), "{}", output_text(&o));
    assert_eq!(
        stdout(&token(dir, &["list"])).trim(),
        "grid_manager-350502001001\tgrid_manager\t350502001001"
    );
    // A server started after the revocation refuses the revoked token.
    let server = Server::start(dir, &dir.join("ds"), &[]);
    assert_eq!(server.get_with(other, &planner).0, 401);
    assert_eq!(server.get_with(own, &grid).0, 200);

    // An unknown role is a malformed command line: exit 2, naming the
    // value and listing the roles there are.
    let o = token(dir, &["add", "--role", "overlord"]);
    assert_eq!(o.status.code(), Some(2), "{}", output_text(&o));
    let text = output_text(&o);
    assert!(text.contains("overlord"), "{text}");
    for role in ["planner", "grid_manager", "admin", "ingest"] {
        assert!(text.contains(role), "{role} not listed: {text}");
    }
}

#[test]
fn allow_demo_tokens_serves_them_on_a_non_loopback_address() {
    let tmp = tempfile::tempdir().unwrap();
    write_tiny_dataset(&tmp.path().join("ds"));
    install_demo_tokens(tmp.path());
    // Refused without the flag…
    let o = run(
        tmp.path(),
        &["serve", "--addr", "0.0.0.0:0", "--data", "ds"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", output_text(&o));
    assert!(output_text(&o).contains("--allow-demo-tokens"));
    // …served with it (reached here over loopback; killed on drop).
    let mut child = Command::new(bin())
        .args([
            "serve",
            "--addr",
            "0.0.0.0:0",
            "--data",
            "ds",
            "--allow-demo-tokens",
        ])
        .current_dir(tmp.path())
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let stdout = child.stdout.take().unwrap();
    let mut child = Kill(child);
    let mut lines = BufReader::new(stdout).lines();
    let mut seen = Vec::new();
    let port = loop {
        match lines.next() {
            Some(Ok(line)) => {
                if let Some(p) = line.split("listening on http://0.0.0.0:").nth(1) {
                    break p.trim().to_string();
                }
                seen.push(line);
            }
            _ => panic!("no listening line in {seen:?}"),
        }
    };
    std::thread::spawn(move || for _ in lines.by_ref() {});
    let base = format!("http://127.0.0.1:{port}");
    let r = ureq::get(&format!("{base}/api/cells/350502001001001"))
        .set("Authorization", &format!("Bearer {PLANNER}"))
        .call()
        .unwrap();
    assert_eq!(r.status(), 200);
    let _ = child.0.kill();
}
