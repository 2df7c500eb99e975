//! What the real-client tests need from the machine (a tool, a Python
//! package, PostgreSQL run as root) and what happens when it is missing.
//!
//! In CI (`CI` set to anything but `false`/`0`, as `.ci/run` does) or with
//! `RISKMAP_REQUIRE_ALL=1`, a missing prerequisite fails the test with a
//! message naming it. Elsewhere the test is skipped, loudly: a `SKIPPED`
//! line goes straight to the terminal (past libtest's output capture) and
//! into `target/tmp/skipped-tests.txt`, which `scripts/test.sh` prints.

use std::io::Write;
use std::process::Command;

/// Whether every prerequisite must be present (CI or `RISKMAP_REQUIRE_ALL=1`).
pub fn strict() -> bool {
    let set = |name: &str| {
        std::env::var(name)
            .is_ok_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"))
    };
    set("CI") || set("RISKMAP_REQUIRE_ALL")
}

/// The file that collects the skips of a run.
pub fn skip_log() -> std::path::PathBuf {
    std::env::var_os("RISKMAP_SKIP_LOG")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("skipped-tests.txt")
        })
}

/// Reports that the test cannot run because `why` (a sentence naming what
/// is missing): panics in CI, else prints and records the skip. Returns
/// `false` so callers can write `if !require(...) { return; }`.
pub fn missing(why: &str) -> bool {
    let test = std::thread::current()
        .name()
        .unwrap_or("<unnamed test>")
        .to_string();
    if strict() {
        panic!(
            "{test} cannot run: {why}. In CI every test must run (scripts/test.sh installs what they need)"
        );
    }
    let line = format!("SKIPPED {test}: {why} (CI fails on this)");
    // Straight to fd 2: `eprintln!` would be captured by libtest and hidden.
    let _ = writeln!(std::io::stderr(), "{line}");
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(skip_log())
    {
        let _ = writeln!(f, "{line}");
    }
    false
}

/// `true` when `available`, else [`missing`]`(why)`.
pub fn require(available: bool, why: &str) -> bool {
    available || missing(why)
}

/// Whether `tool --version` runs and succeeds.
pub fn has_tool(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Requires the command-line tool `tool` (e.g. `ogrinfo` from gdal-bin).
pub fn require_tool(tool: &str, package: &str) -> bool {
    require(
        has_tool(tool),
        &format!("`{tool}` is not installed (Debian package {package})"),
    )
}

/// The Python the tests drive clients with: `$RISKMAP_PYTHON` (the venv
/// `scripts/test.sh` makes), else `python3`.
pub fn python() -> String {
    std::env::var("RISKMAP_PYTHON")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "python3".into())
}

/// Requires the Python module `module` (PyPI package `package`) in
/// [`python`].
pub fn require_python_module(module: &str, package: &str) -> bool {
    let py = python();
    let ok = Command::new(&py)
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success());
    require(
        ok,
        &format!(
            "Python package {package} is not installed for {py} (`import {module}` failed; \
             scripts/test.sh installs it into a venv and sets RISKMAP_PYTHON)"
        ),
    )
}
