//! Bearer tokens: a tokens file of SHA-256 hashes with roles and scopes,
//! and the [`Caller`] every handler sees.
//!
//! Roles: `planner` reads everything; `grid_manager` reads one grid unit
//! and its descendants; `admin` reads everything and may reload.
//!
//! How tokens, roles and scopes decide each route: `docs/http.md`.

mod tokens;

pub use tokens::{Role, TokenEntry, TokenError, TokensFile, hash_token, new_plain_token};

use crate::index::{Store, UnitId};

/// The part of the grid whose private details a caller may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Everything (planner, admin).
    All,
    /// One grid unit and its descendants (grid manager).
    Unit(UnitId),
    /// Nothing private (no token, or a scope not in the data).
    Nothing,
}

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

    /// A stable key for caches of token-dependent responses: `public`,
    /// `all` (planner/admin) or `scope:CODE`.
    pub fn cache_key(&self) -> String {
        match self {
            Caller::Anonymous => "public".into(),
            Caller::Token {
                role: Role::GridManager,
                scope,
                ..
            } => format!("scope:{}", scope.as_deref().unwrap_or("")),
            Caller::Token { .. } => "all".into(),
        }
    }

    /// What part of the grid the caller's token opens: everything for
    /// planners and admins, a unit and its descendants for a grid manager
    /// (nothing if the scope code is not in the data), nothing without a
    /// token.
    pub fn scope(&self, store: &Store) -> Scope {
        match self {
            Caller::Anonymous => Scope::Nothing,
            Caller::Token {
                role: Role::GridManager,
                scope,
                ..
            } => scope
                .as_deref()
                .and_then(|c| store.unit_by_code(c))
                .map_or(Scope::Nothing, Scope::Unit),
            Caller::Token { .. } => Scope::All,
        }
    }

    /// Whether the caller may see the private details of `unit` (a token
    /// holder whose scope contains it).
    pub fn may_see_unit(&self, store: &Store, unit: UnitId) -> bool {
        match self.scope(store) {
            Scope::All => true,
            Scope::Unit(scope) => store.is_within(unit, scope),
            Scope::Nothing => false,
        }
    }
}
