//! The documentation in `docs/` against the code it describes: every route
//! the server registers is in the HTTP reference, every flag the binary's
//! `--help` lists and every key of the config is in the CLI reference, and
//! every relative link in the README and `docs/` reaches an existing file
//! and heading. Nothing in the repository points outside it.

mod common;

use common::*;
use riskmap::config::Config;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every file under `dir` (recursively) whose name ends with one of `exts`.
fn files(dir: &Path, exts: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let name = e.file_name();
            if name == "node_modules" || name == "target" || name == "vendor" {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else if exts
                .iter()
                .any(|x| p.to_string_lossy().ends_with(&format!(".{x}")))
            {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The paths registered with `.route("…"` in the server's sources, with
/// `{*rest}` written as `{rest}` as the reference writes it.
fn registered_routes() -> BTreeSet<String> {
    let mut routes = BTreeSet::new();
    for f in files(&root().join("src/server"), &["rs"]) {
        let text = read(&f);
        for (i, _) in text.match_indices(".route(") {
            let rest = text[i + ".route(".len()..].trim_start();
            let Some(rest) = rest.strip_prefix('"') else {
                continue;
            };
            let Some(end) = rest.find('"') else {
                continue;
            };
            routes.insert(rest[..end].replace("{*", "{"));
        }
    }
    routes
}

#[test]
fn every_route_is_in_the_http_reference() {
    let routes = registered_routes();
    for expected in [
        "/health",
        "/tiles.json",
        "/ogc/collections/{id}/items",
        "/api/cells/at",
    ] {
        assert!(
            routes.contains(expected),
            "{expected} not found in {routes:?}"
        );
    }
    let doc = read(&root().join("docs/http.md"));
    let missing: Vec<&String> = routes
        .iter()
        .filter(|r| {
            !['`', '.', '?']
                .iter()
                .any(|c| doc.contains(&format!("{r}{c}")))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "routes missing from docs/http.md: {missing:?}"
    );
}

/// Every served layer (tile layer and OGC collection) has its row in the
/// tile table of docs/http.md and is named among the OGC collections.
#[test]
fn every_served_layer_is_in_the_http_reference() {
    let doc = read(&root().join("docs/http.md"));
    let ogc = &doc[doc
        .find("Collections are the")
        .expect("the OGC collections paragraph")..];
    let ogc = &ogc[..ogc.find("\n\n").unwrap_or(ogc.len())];
    for layer in riskmap::model::LayerId::SERVED {
        let row = format!("| `{layer}` ");
        assert!(doc.contains(&row), "no tile-table row for {layer}");
        assert!(
            ogc.contains(&format!("`{layer}`")),
            "{layer} not among the OGC collections: {ogc}"
        );
    }
}

/// The `--long` flags in a help text.
fn flags(help: &str) -> BTreeSet<String> {
    help.split(|c: char| c.is_whitespace() || c == ',' || c == '[' || c == ']')
        .filter(|w| w.starts_with("--") && w.len() > 2)
        .map(|w| {
            w.trim_end_matches(|c: char| !c.is_ascii_alphanumeric() && c != '-')
                .to_string()
        })
        .filter(|w| !matches!(w.as_str(), "--help" | "--version"))
        .collect()
}

#[test]
fn every_command_and_flag_is_in_the_cli_reference() {
    let tmp = tempfile::tempdir().unwrap();
    let doc = read(&root().join("docs/cli.md"));
    let commands = [
        vec!["serve"],
        vec!["generate"],
        vec!["validate"],
        vec!["score"],
        vec!["export-pmtiles"],
        vec!["token", "add"],
        vec!["token", "revoke"],
        vec!["token", "list"],
        vec!["journal", "verify"],
        vec!["journal", "compact"],
    ];
    let mut seen = BTreeSet::new();
    for cmd in &commands {
        let mut args = cmd.clone();
        args.push("--help");
        let out = run(tmp.path(), &args);
        assert!(out.status.success(), "{args:?}: {}", output_text(&out));
        let help = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            doc.contains(&format!("riskmap {}", cmd.join(" "))),
            "`riskmap {}` is not in docs/cli.md",
            cmd.join(" ")
        );
        for flag in flags(&help) {
            assert!(
                doc.contains(&format!("`{flag}")) || doc.contains(&format!("[{flag}")),
                "`riskmap {}` has {flag}, which docs/cli.md does not mention",
                cmd.join(" ")
            );
            seen.insert(flag);
        }
    }
    for flag in ["--addr", "--data", "--out", "--include-private", "--role"] {
        assert!(
            seen.contains(flag),
            "{flag} not found in any --help: {seen:?}"
        );
    }
}

/// Every key path of a TOML table (`limits.burst`, `layers.enterprises.crs`).
fn keys(prefix: &str, table: &toml::Table, out: &mut BTreeSet<String>) {
    for (k, v) in table {
        let path = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(t) => keys(&path, t, out),
            _ => {
                out.insert(path);
            }
        }
    }
}

#[test]
fn every_config_key_is_in_the_references() {
    let text = toml::to_string(&Config::default()).unwrap();
    let table: toml::Table = toml::from_str(&text).unwrap();
    let mut all = BTreeSet::new();
    keys("", &table, &mut all);
    // Keys without a default value are not serialised: name them here.
    for k in [
        "audit_log",
        "journal",
        "source.tls_ca",
        "layers.enterprises.file",
        "layers.enterprises.layer",
        "layers.enterprises.encoding",
    ] {
        all.insert(k.to_string());
    }
    assert!(all.len() > 40, "too few keys: {all:?}");
    let cli = read(&root().join("docs/cli.md"));
    let risk = read(&root().join("docs/risk-model.md"));
    let missing: Vec<&String> = all
        .iter()
        .filter(|path| {
            let leaf = path.rsplit('.').next().unwrap_or(path);
            let doc = if path.starts_with("risk.") {
                &risk
            } else {
                &cli
            };
            !doc.contains(&format!("`{leaf}`")) && !doc.contains(&format!("\n{leaf} ="))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "config keys missing from docs/cli.md or docs/risk-model.md: {missing:?}"
    );
}

/// A heading's anchor as GitHub makes it: lower case, punctuation dropped,
/// spaces as hyphens (letters of any script kept).
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of a Markdown file's headings (outside code blocks).
fn anchors(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced && line.starts_with('#') {
            out.insert(anchor(line.trim_start_matches('#')));
        }
    }
    out
}

#[test]
fn links_in_the_readme_and_docs_resolve() {
    let mut pages = vec![root().join("README.md")];
    pages.extend(files(&root().join("docs"), &["md"]));
    assert!(pages.len() >= 7, "{pages:?}");
    let mut checked = 0;
    for page in &pages {
        let text = read(page);
        for (i, _) in text.match_indices("](") {
            let rest = &text[i + 2..];
            let Some(end) = rest.find(')') else {
                continue;
            };
            let link = &rest[..end];
            if link.contains("://") || link.starts_with("mailto:") || link.contains(' ') {
                continue;
            }
            let (path, fragment) = link.split_once('#').unwrap_or((link, ""));
            let target = if path.is_empty() {
                page.clone()
            } else {
                page.parent().unwrap().join(path)
            };
            assert!(
                target.exists(),
                "{}: link {link} names a missing file",
                page.display()
            );
            if !fragment.is_empty() && (path.is_empty() || path.ends_with(".md")) {
                assert!(
                    anchors(&read(&target)).contains(fragment),
                    "{}: link {link} names a missing heading",
                    page.display()
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 50, "only {checked} links checked");
}

#[test]
fn nothing_points_outside_the_repository() {
    let outside = [
        format!("{}/{}", "shared", "design"),
        format!("../{}", "shared"),
    ];
    let mut scanned = vec![root().join("README.md")];
    for dir in ["docs", "src", "tests", "scripts", "benches", "examples"] {
        scanned.extend(files(
            &root().join(dir),
            &["rs", "md", "sh", "mjs", "py", "toml"],
        ));
    }
    assert!(scanned.len() > 100, "{} files", scanned.len());
    for f in &scanned {
        let text = read(f);
        for o in &outside {
            assert!(!text.contains(o.as_str()), "{} mentions {o}", f.display());
        }
    }
}
