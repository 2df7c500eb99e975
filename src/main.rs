//! The `riskmap` command line: serve · generate · validate · score ·
//! export-pmtiles · token · journal. The commands live in
//! [`riskmap::cli`]; this file sets up the process (allocator, config,
//! logging) and maps the outcome to an exit status.

use clap::Parser;
use riskmap::cli::{Cli, CliError};
use riskmap::config::Config;
use std::process::ExitCode;

fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Caps glibc's malloc arenas at two. Each reload builds a whole dataset on
/// a blocking thread while request threads allocate too; with glibc's
/// default of up to eight arenas per core the freed snapshots stay spread
/// over many arenas and the resident size climbs with every reload (the
/// soak in BENCHMARKS.md: +30 MiB a minute). With two it stays flat. An
/// explicit `MALLOC_ARENA_MAX` in the environment wins.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn limit_malloc_arenas() {
    const M_ARENA_MAX: i32 = -8;
    unsafe extern "C" {
        fn mallopt(param: i32, value: i32) -> i32;
    }
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets an allocator parameter; it is called
        // once, before any other thread exists.
        unsafe {
            mallopt(M_ARENA_MAX, 2);
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn limit_malloc_arenas() {}

fn main() -> ExitCode {
    limit_malloc_arenas();
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("riskmap: config: {e}");
            return ExitCode::from(2);
        }
    };
    init_logging(config.json_logs);
    match riskmap::cli::run(cli.command, config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::Reported) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("riskmap: {e}");
            ExitCode::FAILURE
        }
    }
}
