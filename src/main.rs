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

/// mimalloc as the allocator: thread-local free lists instead of glibc's
/// locked arenas. A live write derives the next snapshot (copying the
/// chunks it changes and freeing the previous ones) while request threads
/// build tiles and answers; with glibc most of that time went into
/// `malloc`/`free` and their locks, and the freed snapshots of reloads
/// stayed spread over arenas (the resident size climbed with every reload
/// unless the arenas were capped). mimalloc returns freed segments to the
/// system and does not take a lock per allocation.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Transparent huge pages off for this process, unless
/// `MIMALLOC_ALLOW_THP` is set (mimalloc's own switch, read before `main`).
///
/// mimalloc asks for huge pages on its arenas; where the system grants
/// them on request (`enabled` and `defrag` at `madvise`, the usual
/// setting), each first touch of 2 MiB waits for the kernel to find and
/// clear a free huge page. A warm province start spent more time in the
/// kernel than in riskmap (4.0 s system time of 8.5 s, the start 3.4–5.2
/// s; without huge pages 0.8 s, 3.0–3.2 s) and tiles were built no faster
/// with them.
#[cfg(target_os = "linux")]
fn disable_transparent_huge_pages() {
    if std::env::var_os("MIMALLOC_ALLOW_THP").is_some() {
        return;
    }
    // The variadic arguments as the kernel reads them (unsigned longs).
    let (on, zero): (libc::c_ulong, libc::c_ulong) = (1, 0);
    // SAFETY: `prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0)` takes integers only
    // and sets a flag of this process; it touches no memory of ours. A
    // refusal (a kernel without the option) leaves huge pages on, which
    // only costs time.
    let _ = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, on, zero, zero, zero) };
}

#[cfg(not(target_os = "linux"))]
fn disable_transparent_huge_pages() {}

fn main() -> ExitCode {
    disable_transparent_huge_pages();
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
