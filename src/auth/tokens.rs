//! The tokens file (TOML): one `[[token]]` per token, storing only the
//! SHA-256 of the plain token.
//!
//! ```toml
//! [[token]]
//! name = "planner"
//! role = "planner"
//! sha256 = "…64 hex digits…"
//!
//! [[token]]
//! name = "网格员-金山"
//! role = "grid_manager"
//! scope = "350502001001"
//! sha256 = "…"
//! ```

use super::Caller;
use rand::TryRngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// A token's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads everything.
    Planner,
    /// Reads one grid unit and its descendants.
    GridManager,
    /// Reads everything and may reload.
    Admin,
    /// A monitoring platform: may post alarms, nothing else.
    Ingest,
}

impl Role {
    /// The word used in files and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Planner => "planner",
            Role::GridManager => "grid_manager",
            Role::Admin => "admin",
            Role::Ingest => "ingest",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = TokenError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "planner" => Ok(Role::Planner),
            "grid_manager" => Ok(Role::GridManager),
            "admin" => Ok(Role::Admin),
            "ingest" => Ok(Role::Ingest),
            other => Err(TokenError::Invalid(format!(
                "unknown role {other:?} (planner, grid_manager, admin or ingest)"
            ))),
        }
    }
}

/// One token in the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenEntry {
    /// A unique name (shown in the audit log, used to revoke).
    pub name: String,
    /// Role.
    pub role: Role,
    /// Grid unit code a grid manager is confined to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// SHA-256 of the plain token, lowercase hex.
    pub sha256: String,
}

/// Errors reading or changing the tokens file.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The tokens file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The file or a request is not valid.
    #[error("{0}")]
    Invalid(String),
}

/// The parsed tokens file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokensFile {
    /// The tokens.
    #[serde(default, rename = "token")]
    pub tokens: Vec<TokenEntry>,
}

/// SHA-256 of a plain token, lowercase hex.
pub fn hash_token(plain: &str) -> String {
    hex::encode(Sha256::digest(plain.as_bytes()))
}

/// A new random plain token (24 bytes from the OS, hex).
pub fn new_plain_token() -> Result<String, TokenError> {
    let mut bytes = [0u8; 24];
    rand::rngs::OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| TokenError::Invalid(format!("no randomness from the OS: {e}")))?;
    Ok(format!("rm_{}", hex::encode(bytes)))
}

/// Whether `stored` (hex, either case) spells `digest`, compared in time
/// independent of where they differ, without an allocation.
fn hex_digest_eq(stored: &str, digest: &[u8]) -> bool {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let stored = stored.as_bytes();
    if stored.len() != 2 * digest.len() {
        return false;
    }
    let diff = stored
        .chunks_exact(2)
        .zip(digest)
        .fold(0u8, |acc, (pair, &d)| {
            let (hi, lo) = (HEX[usize::from(d >> 4)], HEX[usize::from(d & 15)]);
            let (a, b) = match pair {
                [a, b] => (*a, *b),
                _ => (0, 0),
            };
            acc | (a.to_ascii_lowercase() ^ hi) | (b.to_ascii_lowercase() ^ lo)
        });
    diff == 0
}

impl TokensFile {
    /// Reads a tokens file; a missing file is an empty one.
    pub fn load(path: &Path) -> Result<TokensFile, TokenError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(TokensFile::default()),
            Err(source) => {
                return Err(TokenError::Io {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        let file: TokensFile = toml::from_str(&text)
            .map_err(|e| TokenError::Invalid(format!("{}: {e}", path.display())))?;
        file.check()
            .map_err(|m| TokenError::Invalid(format!("{}: {m}", path.display())))?;
        Ok(file)
    }

    fn check(&self) -> Result<(), String> {
        let mut names = std::collections::HashSet::new();
        for t in &self.tokens {
            if !names.insert(&t.name) {
                return Err(format!("duplicate token name {:?}", t.name));
            }
            if t.sha256.len() != 64 || !t.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!("token {:?}: sha256 must be 64 hex digits", t.name));
            }
            if (t.role == Role::GridManager) != t.scope.is_some() {
                return Err(format!(
                    "token {:?}: a grid_manager needs a scope, and only a grid_manager has one",
                    t.name
                ));
            }
        }
        Ok(())
    }

    /// Writes the file atomically (temp file, then rename).
    pub fn save(&self, path: &Path) -> Result<(), TokenError> {
        let text = toml::to_string_pretty(self).map_err(|e| TokenError::Invalid(e.to_string()))?;
        let tmp = path.with_extension("toml.tmp");
        let io = |source| TokenError::Io {
            path: path.to_path_buf(),
            source,
        };
        std::fs::write(&tmp, text).map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    }

    /// Adds a token and returns its plain text (shown once).
    pub fn add(
        &mut self,
        name: &str,
        role: Role,
        scope: Option<String>,
    ) -> Result<String, TokenError> {
        if self.tokens.iter().any(|t| t.name == name) {
            return Err(TokenError::Invalid(format!(
                "a token named {name:?} exists"
            )));
        }
        if let Some(s) = &scope
            && (!(6..=15).contains(&s.len()) || !s.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(TokenError::Invalid(format!(
                "scope {s:?} is not a grid unit code"
            )));
        }
        let plain = new_plain_token()?;
        self.tokens.push(TokenEntry {
            name: name.to_string(),
            role,
            scope,
            sha256: hash_token(&plain),
        });
        self.check().map_err(TokenError::Invalid)?;
        Ok(plain)
    }

    /// Removes a token by name; false if there was none.
    pub fn revoke(&mut self, name: &str) -> bool {
        let before = self.tokens.len();
        self.tokens.retain(|t| t.name != name);
        self.tokens.len() != before
    }

    /// The caller a plain token stands for, or `None` if unknown. Every
    /// stored hash is compared in constant time.
    pub fn authenticate(&self, plain: &str) -> Option<Caller> {
        let digest = Sha256::digest(plain.as_bytes());
        let mut found = None;
        for t in &self.tokens {
            if hex_digest_eq(&t.sha256, &digest) {
                found = Some(Caller::Token {
                    name: t.name.clone(),
                    role: t.role,
                    scope: t.scope.clone(),
                });
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_hashes_match_in_either_case_and_only_whole() {
        let digest = Sha256::digest(b"demo-planner-7f3a91c2");
        let hex = hash_token("demo-planner-7f3a91c2");
        assert!(hex_digest_eq(&hex, &digest));
        assert!(hex_digest_eq(&hex.to_ascii_uppercase(), &digest));
        assert!(!hex_digest_eq(&hex[1..], &digest));
        assert!(!hex_digest_eq(&format!("{hex}0"), &digest));
        let mut other = hex.clone().into_bytes();
        other[63] = if other[63] == b'0' { b'1' } else { b'0' };
        assert!(!hex_digest_eq(&String::from_utf8(other).unwrap(), &digest));
        assert!(!hex_digest_eq(&hash_token("another"), &digest));
    }

    #[test]
    fn add_authenticate_revoke() {
        let mut f = TokensFile::default();
        let p = f.add("a", Role::Planner, None).unwrap();
        let g = f
            .add("g", Role::GridManager, Some("350502001001".into()))
            .unwrap();
        assert!(f.add("a", Role::Admin, None).is_err());
        assert!(f.add("x", Role::GridManager, None).is_err() || f.tokens.len() == 3);
        assert_eq!(
            f.authenticate(&p).and_then(|c| c.role()),
            Some(Role::Planner)
        );
        assert_eq!(
            f.authenticate(&g),
            Some(Caller::Token {
                name: "g".into(),
                role: Role::GridManager,
                scope: Some("350502001001".into())
            })
        );
        assert_eq!(f.authenticate("nope"), None);
        assert!(f.revoke("a"));
        assert_eq!(f.authenticate(&p), None);
    }

    #[test]
    fn file_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.toml");
        let mut f = TokensFile::default();
        f.add("p", Role::Admin, None).unwrap();
        f.save(&path).unwrap();
        assert_eq!(TokensFile::load(&path).unwrap(), f);
        std::fs::write(&path, "[[token]]\nname='x'\nrole='planner'\nsha256='zz'\n").unwrap();
        assert!(TokensFile::load(&path).is_err());
    }
}
