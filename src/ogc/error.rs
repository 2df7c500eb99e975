//! [`OgcError`]: what can go wrong answering an OGC API – Features request.

/// An error of the OGC API layer; the server maps each variant to a status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OgcError {
    /// A malformed or unknown query parameter (400).
    #[error("{0}")]
    BadRequest(String),
    /// A private collection asked for without a token (401).
    #[error("{0}")]
    Unauthorized(String),
    /// A valid token that does not open this collection or feature (403).
    #[error("{0}")]
    Forbidden(String),
    /// An unknown collection or feature (404).
    #[error("{0}")]
    NotFound(String),
}

impl OgcError {
    /// A 400 naming the parameter and what was wrong with it.
    pub fn param(name: &str, message: impl std::fmt::Display) -> Self {
        OgcError::BadRequest(format!("parameter {name}: {message}"))
    }
}
