//! Tokens: a tokens file of SHA-256 hashes with roles and scopes, the
//! `Authorization` header read once per request ([`Authentication`]), the
//! [`Caller`] every handler sees and the one access rule ([`Scope`]).
//!
//! Roles: `planner` reads everything; `grid_manager` reads one grid unit
//! and its descendants; `admin` reads everything and may reload.
//!
//! How tokens, roles and scopes decide each route: `docs/http.md`.

mod header;
mod scope;
mod tokens;

pub use header::{Authentication, Refusal, presented_token};
pub use scope::{ContributorView, Denied, RedactedContributor, Scope};
pub use tokens::{Role, TokenEntry, TokenError, TokensFile, hash_token, new_plain_token};

use crate::index::Store;

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// No token: public data only.
    Anonymous,
    /// A valid token.
    Token {
        /// The token's name (for the audit log).
        name: String,
        /// Its role.
        role: Role,
        /// For grid managers: the grid unit code they answer for.
        scope: Option<String>,
    },
}

impl Caller {
    /// Whether the caller presented a valid token.
    pub fn is_authenticated(&self) -> bool {
        matches!(self, Caller::Token { .. })
    }

    /// The role, if any.
    pub fn role(&self) -> Option<Role> {
        match self {
            Caller::Anonymous => None,
            Caller::Token { role, .. } => Some(*role),
        }
    }

    /// What the caller may see of `store`: resolve it once per request,
    /// from the snapshot that answers it (see [`Scope`]).
    pub fn scope(&self, store: &Store) -> Scope {
        Scope::of(self, store)
    }
}
