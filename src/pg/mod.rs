//! PostgreSQL for every part that talks to it — the PostGIS source
//! (ingest), the score writer, the journal table, the poller and the
//! replicas: connecting (TLS with the system's roots or a given CA),
//! quoting identifiers, the server's own error messages, and URLs printed
//! without their password.

mod connect;

pub use crate::source::redact;
pub(crate) use connect::{connect, connect_with};

/// Problems talking to the database.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    /// The connection failed.
    #[error("{database}: cannot connect: {message}")]
    Connect {
        /// The database URL, without its password.
        database: String,
        /// What the driver said.
        message: String,
    },
    /// A query failed.
    #[error("{table}: {message}")]
    Query {
        /// The table (or database) it was about.
        table: String,
        /// What the server said.
        message: String,
    },
    /// The client's runtime could not start.
    #[error("cannot start the database client: {0}")]
    Runtime(#[from] std::io::Error),
}

impl PgError {
    /// The message without the database's address (for public status).
    pub fn detail(&self) -> String {
        match self {
            PgError::Connect { message, .. } => format!("cannot connect: {message}"),
            PgError::Query { table, message } => format!("{table}: {message}"),
            PgError::Runtime(_) => self.to_string(),
        }
    }
}

/// The server's own message when there is one (`relation … does not
/// exist`), else the driver's.
pub(crate) fn message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => db.message().to_string(),
        None => {
            // With its causes: "error performing TLS handshake: invalid
            // peer certificate: UnknownIssuer".
            let mut text = e.to_string();
            let mut cause = std::error::Error::source(e);
            while let Some(c) = cause {
                let c_text = c.to_string();
                if !text.ends_with(&c_text) {
                    text.push_str(": ");
                    text.push_str(&c_text);
                }
                cause = c.source();
            }
            text
        }
    }
}

/// Maps a driver error to [`PgError::Query`] about `table`.
pub(crate) fn query_error(table: &str) -> impl Fn(tokio_postgres::Error) -> PgError + use<> {
    let table = table.to_string();
    move |e| PgError::Query {
        table: table.clone(),
        message: message(&e),
    }
}

/// `ident` as a quoted SQL identifier.
pub(crate) fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}
