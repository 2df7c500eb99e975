//! [`start`]: the whole life of `riskmap serve` — the demo-token guard,
//! generating a missing demo folder, the runtime, loading, binding, the
//! journal, the reload tasks (midnight, SIGHUP, poll or watch) and serving
//! until a signal, then draining.

use super::{AppState, Signals};
use crate::auth::TokensFile;
use crate::config::Config;
use crate::snapshot::Snapshot;

/// What `riskmap serve` was asked beyond the config.
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    /// `--data` was given (then a missing folder is an error, never
    /// generated).
    pub explicit_data: bool,
    /// `--allow-demo-tokens`.
    pub allow_demo_tokens: bool,
}

/// Why the server did not start, or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The tokens file does not load.
    #[error("tokens: {0}")]
    Tokens(#[from] crate::auth::TokenError),
    /// The demo tokens on a non-loopback address.
    #[error("{0}")]
    DemoTokens(String),
    /// The configured demo preset is unknown.
    #[error(transparent)]
    Preset(#[from] crate::generate::UnknownPreset),
    /// Generating the missing demo folder failed.
    #[error("{0}")]
    Generate(#[from] crate::generate::GenerateError),
    /// Moving the generated demo folder into place failed.
    #[error("cannot move {from} to {to}: {source}")]
    Move {
        /// The temporary folder.
        from: String,
        /// The data folder.
        to: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The tokio runtime, the signal handlers or the bound address.
    #[error("{what}: {source}")]
    Setup {
        /// What could not be done.
        what: &'static str,
        /// The cause.
        source: std::io::Error,
    },
    /// The loading task panicked or was cancelled.
    #[error("loading failed: {0}")]
    Loading(String),
    /// The data has errors (printed to stderr before).
    #[error("{data} is not valid ({problems} problems above); not serving it")]
    NotValid {
        /// The data source, printed without its password.
        data: String,
        /// How many problems.
        problems: usize,
    },
    /// Binding the address.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The journal does not open.
    #[error("cannot open the journal: {0}")]
    Journal(String),
    /// Watching the data folder failed.
    #[error(transparent)]
    Watch(#[from] super::watch::WatchError),
    /// Serving failed.
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
}

/// Generates the demo into a sibling temporary folder, then renames it
/// into place, so an interrupted first run never leaves half a dataset
/// behind.
fn generate_demo(config: &Config, dir: &std::path::Path) -> Result<(), ServeError> {
    let preset: crate::generate::Preset = config.demo.preset.parse()?;
    tracing::info!(
        dir = %dir.display(),
        preset = %config.demo.preset,
        seed = config.demo.seed,
        "data folder absent: generating the demo dataset"
    );
    let tmp = dir.with_extension("partial");
    let _ = std::fs::remove_dir_all(&tmp);
    let progress = |msg: &str| tracing::info!("generate: {msg}");
    crate::generate::generate(
        preset,
        config.demo.seed,
        crate::generate::today(),
        &tmp,
        crate::write::Format::Fgb,
        &progress,
    )?;
    std::fs::rename(&tmp, dir).map_err(|source| ServeError::Move {
        from: tmp.display().to_string(),
        to: dir.display().to_string(),
        source,
    })
}

/// Serves `config` (its `addr` and `data` already set from the command
/// line) until SIGTERM/SIGINT, then drains in-flight requests.
pub fn start(config: Config, options: &StartOptions) -> Result<(), ServeError> {
    let tokens = match &config.tokens {
        Some(path) => TokensFile::load(path)?,
        None => TokensFile::default(),
    };
    super::demo_tokens::check(&tokens, &config.addr, options.allow_demo_tokens)
        .map_err(ServeError::DemoTokens)?;
    if let Some(dir) = config.data.dir()
        && !dir.exists()
        && !options.explicit_data
        && config.demo.generate_if_missing
    {
        generate_demo(&config, dir)?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| ServeError::Setup {
            what: "cannot start the runtime",
            source,
        })?;
    let result = runtime.block_on(serve(config, tokens));
    // A load still running after an early signal is not waited for.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    result
}

/// Loads the data, or stops early on a signal (`None`).
async fn load(config: &Config, signals: &mut Signals) -> Result<Option<Snapshot>, ServeError> {
    let started = std::time::Instant::now();
    let dir = config.data.clone();
    let cfg = config.clone();
    let loading = tokio::task::spawn_blocking(move || Snapshot::load_for_tiles(&dir, &cfg));
    let snap = tokio::select! {
        loaded = loading => loaded.map_err(|e| ServeError::Loading(e.to_string()))?,
        () = signals.shutdown() => {
            tracing::info!("stopped before serving");
            return Ok(None);
        }
    };
    let snap = snap.map_err(|e| {
        for i in &e.issues {
            eprintln!("{i}");
        }
        ServeError::NotValid {
            data: config.data.to_string(),
            problems: e.issues.len(),
        }
    })?;
    for w in snap.warnings.iter().take(20) {
        tracing::warn!("{w}");
    }
    if snap.warnings.len() > 20 {
        tracing::warn!(
            "… and {} more warnings (see `riskmap validate`)",
            snap.warnings.len() - 20
        );
    }
    let counts = snap.counts();
    tracing::info!(
        data_version = %snap.data_version,
        enterprises = counts.enterprises,
        hazard_sources = counts.hazard_sources,
        collapse_zones = counts.collapse_zones,
        cells = counts.cells,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "dataset loaded"
    );
    Ok(Some(snap))
}

async fn serve(config: Config, tokens: TokensFile) -> Result<(), ServeError> {
    // Before anything else: a signal from now on drains and exits instead
    // of killing the process.
    let mut signals = Signals::install().map_err(|source| ServeError::Setup {
        what: "cannot catch signals",
        source,
    })?;
    let Some(snap) = load(&config, &mut signals).await? else {
        return Ok(());
    };
    let listener = tokio::net::TcpListener::bind(&config.addr)
        .await
        .map_err(|source| ServeError::Bind {
            addr: config.addr.clone(),
            source,
        })?;
    let local = listener.local_addr().map_err(|source| ServeError::Setup {
        what: "cannot read the bound address",
        source,
    })?;
    tracing::info!(tokens = tokens.tokens.len(), "tokens loaded");
    let database = config.data.postgres().is_some();
    let journal = config.journal_path(&config.data);
    let state = AppState::new(snap, config, tokens);
    if let Some(path) = journal {
        let live = super::live::Live::open(&path, state.current()).map_err(ServeError::Journal)?;
        tracing::info!(journal = %path.display(), seq = state.current().seq, "journal open for writes");
        let _ = state.live.set(std::sync::Arc::new(live));
        super::open_history(&state, &path);
    } else if let Some(url) = state.config.data.postgres().cloned() {
        // Replicas on one database: the journal is its table.
        let live = super::live::Live::open_table(
            url.expose(),
            &state.config,
            state.current(),
            std::sync::Arc::clone(&state.snapshot),
        )
        .await
        .map_err(ServeError::Journal)?;
        let live = std::sync::Arc::new(live);
        tracing::info!(
            journal = crate::journal::table::TABLE,
            seq = state.current().seq,
            "journal table open for writes"
        );
        let _ = state.live.set(std::sync::Arc::clone(&live));
        tokio::spawn(super::replica::follow(state.clone(), live));
    }
    tokio::spawn(super::reload_at_midnight(state.clone()));
    tokio::spawn(super::reload_on_sighup(
        state.clone(),
        signals.take_hangups(),
    ));
    if database {
        if state.config.watch {
            tracing::info!("the data is a database: it is polled instead of watched");
        }
        super::poll::start(state.clone());
    } else if state.config.watch {
        super::watch::start(state.clone())?;
    }
    tracing::info!("listening on http://{local}");
    super::run(listener, state, signals.shutdown()).await?;
    Ok(())
}
