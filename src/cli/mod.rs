//! The `riskmap` command line: the arguments ([`args`]) and one module per
//! command; `main.rs` parses, reads the config, starts logging and calls
//! [`run`]. Every command returns [`CliError`].
//!
//! - `serve` → [`crate::server::start`]
//! - `generate` → [`generate`]
//! - `validate`, `score`, `export-pmtiles` → [`data`]
//! - `token` → [`token`]
//! - `journal verify|compact` → [`journal`]

pub mod args;
pub mod data;
pub mod generate;
pub mod journal;
mod journal_table;
pub mod token;

pub use args::{Cli, Command};

use crate::config::Config;
use crate::server::{ServeError, StartOptions};

/// Why a command failed (printed as `riskmap: …`, exit status 1).
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The command printed its problems already (`validate`).
    #[error("the problems are listed above")]
    Reported,
    /// The data does not load; its problems were printed to stderr.
    #[error("{data} is not valid ({problems} problems above)")]
    NotValid {
        /// The data source, printed without its password.
        data: String,
        /// How many problems.
        problems: usize,
    },
    /// `serve`.
    #[error(transparent)]
    Serve(#[from] ServeError),
    /// The tokens file.
    #[error(transparent)]
    Token(#[from] crate::auth::TokenError),
    /// The journal.
    #[error(transparent)]
    Journal(#[from] crate::journal::JournalError),
    /// Writing a file.
    #[error(transparent)]
    Write(#[from] crate::write::WriteError),
    /// Writing a PostGIS table.
    #[error(transparent)]
    Postgis(#[from] crate::pg::PgError),
    /// Generating a dataset.
    #[error(transparent)]
    Generate(#[from] crate::generate::GenerateError),
    /// The PMTiles export.
    #[error(transparent)]
    Export(#[from] crate::export::ExportError),
    /// A file or folder operation.
    #[error("{what}: {source}")]
    Io {
        /// What was being done, naming the path.
        what: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The command refuses the request (the message says why).
    #[error("{0}")]
    Refused(String),
}

/// Runs `command` (`None`: `serve`) with `config`.
pub fn run(command: Option<Command>, config: Config) -> Result<(), CliError> {
    let command = command.unwrap_or(Command::Serve {
        addr: None,
        data: None,
        allow_demo_tokens: false,
        watch: false,
    });
    match command {
        Command::Serve {
            addr,
            data,
            allow_demo_tokens,
            watch,
        } => {
            let mut config = config;
            config.watch |= watch;
            if let Some(a) = addr {
                config.addr = a;
            }
            let explicit_data = data.is_some();
            if let Some(d) = data {
                config.data = d;
            }
            let options = StartOptions {
                explicit_data,
                allow_demo_tokens,
            };
            Ok(crate::server::start(config, &options)?)
        }
        Command::Generate {
            preset,
            seed,
            out,
            format,
            as_of,
        } => generate::generate(preset.into(), seed, as_of.as_deref(), &out, format.into()),
        Command::Validate { data } => data::validate(&config, data),
        Command::Score { data, out, table } => data::score(&config, data, &out, &table),
        Command::ExportPmtiles {
            data,
            out,
            minzoom,
            maxzoom,
            include_private,
            with_page,
        } => {
            let options = crate::export::ExportOptions {
                minzoom,
                maxzoom,
                include_private,
                ..Default::default()
            };
            data::export_pmtiles(&config, data, &out, &options, with_page)
        }
        Command::Token { action } => token::token(&config, action),
        Command::Journal { action } => journal::journal(&config, action),
    }
}
