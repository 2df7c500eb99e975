//! Dependencies between the top-level modules of `src/` point one way
//! (the picture in `src/lib.rs` and `docs/architecture.md`):
//! `model/crs ← ingest/index ← risk ← schema/auth ← tiles/ogc/report/write
//! ← snapshot/config/generate ← server ← main`. A module may use modules of
//! its own rank or below; a `crate::` path to a higher rank is a back edge.
//! [`KNOWN`] lists tolerated back edges (none today): any other fails the
//! test, and so does a listed one that has gone (so the list stays true).

use std::collections::BTreeSet;
use std::path::Path;

/// The rank of each top-level module (lower ranks are used by higher).
const RANKS: &[(&str, u8)] = &[
    ("model", 0),
    ("assets", 0),
    ("clock", 0),
    ("crs", 0),
    ("datetime", 0),
    ("json_text", 0),
    ("latency", 0),
    ("ip_range", 0),
    ("journal", 0),
    ("source", 0),
    ("pg", 0),
    ("ingest", 1),
    ("index", 1),
    ("risk", 2),
    ("basemap", 2),
    ("schema", 3),
    ("auth", 3),
    ("tiles", 4),
    ("ogc", 4),
    ("qgis", 4),
    ("report", 4),
    ("write", 4),
    ("snapshot", 5),
    ("export", 5),
    ("live", 5),
    ("history", 5),
    ("config", 5),
    ("generate", 5),
    ("server", 6),
    ("cli", 7),
    ("main", 7),
];

/// Back edges (from → to) tolerated for now: none. An entry here is a
/// debt to pay, never a way to silence the test.
const KNOWN: &[(&str, &str)] = &[];

fn rank(module: &str) -> Option<u8> {
    RANKS.iter().find(|(m, _)| *m == module).map(|(_, r)| *r)
}

/// Every `crate::module` named in the files under `path`.
fn uses(path: &Path, out: &mut BTreeSet<String>) {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).unwrap() {
            uses(&entry.unwrap().path(), out);
        }
        return;
    }
    if path.extension().is_none_or(|e| e != "rs") {
        return;
    }
    let text = std::fs::read_to_string(path).unwrap();
    for (i, _) in text.match_indices("crate::") {
        let rest = &text[i + "crate::".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            out.insert(name);
        }
    }
}

#[test]
fn dependencies_point_one_way() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut back = BTreeSet::new();
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        if stem == "lib" {
            continue;
        }
        let from = rank(stem).unwrap_or_else(|| panic!("src/{stem}: no rank in RANKS"));
        let mut used = BTreeSet::new();
        uses(&path, &mut used);
        if stem == "main" {
            // main.rs names the library as `riskmap::`, not `crate::`.
            continue;
        }
        for to in used {
            let Some(r) = rank(&to) else { continue };
            if r > from {
                back.insert((stem.to_string(), to));
            }
        }
    }
    let known: BTreeSet<(String, String)> = KNOWN
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    let new: Vec<_> = back.difference(&known).collect();
    assert!(new.is_empty(), "new back edges (from → to): {new:?}");
    let gone: Vec<_> = known.difference(&back).collect();
    assert!(
        gone.is_empty(),
        "fixed back edges still listed in KNOWN: {gone:?}"
    );
}
