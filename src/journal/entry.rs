//! One journal line: [`Entry`] (as stored) and [`NewEntry`] (what a writer
//! provides), the line's bytes and its SHA-256.

use super::error::Problem;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The `prev` of the first line: 64 zeros.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One stored line, keys in this order:
/// `{"seq":…,"at":…,"actor":…,"role":…,"op":…,"id":…,"data":…,"prev":…}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Position in the journal, from 1 without gaps.
    pub seq: u64,
    /// When it was appended: RFC 3339, UTC.
    pub at: String,
    /// The token name that made the write.
    pub actor: String,
    /// The token's role (`grid_manager`, `planner`, `admin`, …).
    pub role: String,
    /// The operation (its meaning belongs to the writer, e.g. `report`).
    pub op: String,
    /// The record the operation is about.
    pub id: String,
    /// The operation's payload.
    pub data: serde_json::Value,
    /// Lowercase hex SHA-256 of the previous line's bytes (without its
    /// newline); [`GENESIS`] for the first line.
    pub prev: String,
}

/// What a writer hands to the journal: everything but `seq` and `prev`,
/// which the journal assigns, and `at`, which it takes from the clock
/// unless given.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEntry {
    /// The token name that made the write.
    pub actor: String,
    /// The token's role.
    pub role: String,
    /// The operation.
    pub op: String,
    /// The record the operation is about.
    pub id: String,
    /// The operation's payload.
    pub data: serde_json::Value,
    /// A fixed timestamp (RFC 3339 UTC) instead of the clock's, for tests
    /// and imports.
    pub at: Option<String>,
}

impl NewEntry {
    /// An entry stamped with the clock when it is appended.
    pub fn new(
        actor: impl Into<String>,
        role: impl Into<String>,
        op: impl Into<String>,
        id: impl Into<String>,
        data: serde_json::Value,
    ) -> NewEntry {
        NewEntry {
            actor: actor.into(),
            role: role.into(),
            op: op.into(),
            id: id.into(),
            data,
            at: None,
        }
    }

    /// The same entry with a fixed `at`.
    pub fn at(mut self, at: impl Into<String>) -> NewEntry {
        self.at = Some(at.into());
        self
    }

    /// The stored entry at `seq` after the line hashing to `prev`.
    pub(crate) fn seal(self, seq: u64, prev: String, now: &str) -> Entry {
        Entry {
            seq,
            at: self.at.unwrap_or_else(|| now.to_string()),
            actor: self.actor,
            role: self.role,
            op: self.op,
            id: self.id,
            data: self.data,
            prev,
        }
    }
}

impl Entry {
    /// The line's bytes, without the newline. JSON strings escape every
    /// control character, so the bytes never hold a newline.
    pub fn to_line(&self) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(self)
    }

    /// Parses one line (without its newline) and checks its fields' forms
    /// (not its place in the chain).
    pub fn parse(line: &[u8]) -> Result<Entry, Problem> {
        if line.is_empty() {
            return Err(Problem::Empty);
        }
        let entry: Entry =
            serde_json::from_slice(line).map_err(|e| Problem::NotAnEntry(e.to_string()))?;
        if !super::time::is_utc_rfc3339(&entry.at) {
            return Err(Problem::BadTime(entry.at));
        }
        Ok(entry)
    }
}

/// Lowercase hex SHA-256 of a line's bytes (without its newline).
pub fn line_hash(line: &[u8]) -> String {
    hex::encode(Sha256::digest(line))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Entry {
        NewEntry::new(
            "gm-1",
            "grid_manager",
            "report",
            "HD-1",
            json!({"grade": "major", "note": "a\nb \"q\""}),
        )
        .at("2026-01-02T03:04:05Z")
        .seal(1, GENESIS.to_string(), "unused")
    }

    #[test]
    fn keys_in_contract_order_and_one_line() {
        let line = sample().to_line().unwrap();
        let text = String::from_utf8(line.clone()).unwrap();
        assert!(!text.contains('\n'));
        let keys = [
            "\"seq\":1",
            "\"at\":",
            "\"actor\":",
            "\"role\":",
            "\"op\":",
            "\"id\":",
            "\"data\":",
            "\"prev\":",
        ];
        let positions: Vec<usize> = keys.iter().map(|k| text.find(k).unwrap()).collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
        assert_eq!(Entry::parse(&line).unwrap(), sample());
    }

    #[test]
    fn parse_names_what_is_wrong() {
        assert_eq!(Entry::parse(b""), Err(Problem::Empty));
        let good = String::from_utf8(sample().to_line().unwrap()).unwrap();
        for bad in [
            good.replace("\"seq\":1", "\"seq\":\"1\""),
            good.replace("\"op\"", "\"opx\""),
            good.replace(",\"prev\":", ",\"extra\":1,\"prev\":"),
            good[..good.len() - 3].to_string(),
            "[1,2]".to_string(),
        ] {
            let err = Entry::parse(bad.as_bytes()).unwrap_err();
            assert!(matches!(err, Problem::NotAnEntry(_)), "{bad}: {err}");
        }
        let bad_time = good.replace("2026-01-02T03:04:05Z", "2026-01-02 03:04");
        assert!(matches!(
            Entry::parse(bad_time.as_bytes()),
            Err(Problem::BadTime(_))
        ));
        assert!(matches!(
            Entry::parse(b"\xff\xfe"),
            Err(Problem::NotAnEntry(_))
        ));
    }

    #[test]
    fn hash_is_sha256_hex() {
        assert_eq!(
            line_hash(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(GENESIS.len(), 64);
    }
}
