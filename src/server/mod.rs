//! The HTTP server: axum router over the current [`Snapshot`], started with
//! [`run`] by `main` and by the integration tests alike.
//!
//! Every route, its access rule, status codes and caching: `docs/http.md`.

mod admin;
pub mod api;
pub mod build_pool;
mod caller;
mod conn_limit;
mod cors;
pub mod demo_tokens;
mod error;
mod fast_tiles;
mod health;
pub mod http;
mod json_errors;
mod limits;
pub mod live;
mod metrics;
mod ogc;
mod path_check;
pub mod poll;
mod private_cache;
mod qgis;
mod ratelimit;
pub mod replica;
mod serve;
pub mod signals;
mod start;
mod tiles;
pub mod watch;
pub mod web;
mod write_timeout;

pub use admin::{ReloadFailure, ReloadOutcome, reload, reload_at_midnight, reload_on_sighup};
pub use caller::{require_token, require_unit_scope};
pub use error::ApiError;
pub use metrics::Metrics;
pub use ratelimit::RateLimiter;
pub use signals::Signals;
pub use start::{ServeError, StartOptions, start};

use crate::auth::TokensFile;
use crate::config::Config;
use crate::snapshot::Snapshot;
use arc_swap::ArcSwap;
use axum::Router;
use axum::routing::get;
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;

/// What every handler shares: the current snapshot (swapped whole on
/// reload) and the config. Cloned for every request and every layer, so it
/// is one reference-counted pointer ([`SharedState`] behind it).
#[derive(Clone)]
pub struct AppState(Arc<SharedState>);

impl std::ops::Deref for AppState {
    type Target = SharedState;

    fn deref(&self) -> &SharedState {
        &self.0
    }
}

/// The fields of [`AppState`].
pub struct SharedState {
    /// The dataset being served.
    pub snapshot: Arc<ArcSwap<Snapshot>>,
    /// The configuration.
    pub config: Arc<Config>,
    /// The tokens that may be presented.
    pub tokens: Arc<TokensFile>,
    /// Request, reload and cache counters.
    pub metrics: Arc<Metrics>,
    /// The last reload's failure, until a reload succeeds.
    pub last_reload_error: Arc<tokio::sync::Mutex<Option<ReloadFailure>>>,
    /// Serialises reloads.
    pub reload_lock: Arc<tokio::sync::Mutex<()>>,
    /// The audit log of token requests to `/api/cells*`, if configured.
    pub audit: Option<Arc<api::AuditLog>>,
    /// The database source's state, when the data come from one.
    pub source: std::sync::Mutex<Option<poll::SourceStatus>>,
    /// Places for streamed responses (`limits.max_streaming_responses`).
    pub streams: Arc<tokio::sync::Semaphore>,
    /// The threads that build tiles and OGC pages
    /// ([`build_pool::BuildPool`]); `None` when they could not be started
    /// (the runtime's blocking pool builds them then).
    pub builds: Option<Arc<build_pool::BuildPool>>,
    /// The write path (journal, write order, events), when the data source
    /// has a journal.
    pub live: std::sync::OnceLock<Arc<live::Live>>,
    /// Places for `/api/events` subscribers.
    pub subscribers: Arc<tokio::sync::Semaphore>,
    /// The daily history, when the data source has a journal file, once
    /// it is open.
    pub history: std::sync::OnceLock<Arc<crate::history::History>>,
    /// `true` while the history opens (in the background, after the
    /// server listens); requests that read it wait for it.
    pub history_opening: tokio::sync::watch::Sender<bool>,
    /// Why the history could not be opened, if it could not.
    pub history_failure: std::sync::OnceLock<String>,
    /// Wakes the task that brings the history up to the served snapshot
    /// after writes (many wakes while it works make one more pass).
    pub history_wake: Arc<tokio::sync::Notify>,
}

impl AppState {
    /// State serving `snapshot`, accepting `tokens`.
    pub fn new(snapshot: Snapshot, config: Config, tokens: TokensFile) -> Self {
        let config_audit = config
            .audit_log
            .clone()
            .map(|p| Arc::new(api::AuditLog::new(p, config.audit_max_mb.max(1) << 20)));
        let source = poll::SourceStatus::initial(&config);
        let streams = Arc::new(tokio::sync::Semaphore::new(
            config.limits.max_streaming_responses.max(1),
        ));
        let builds = match build_pool::BuildPool::new(
            "build",
            config.tiles.build_threads,
            config.tiles.build_nice,
        ) {
            Ok(p) => Some(Arc::new(p)),
            Err(e) => {
                tracing::warn!("tiles and pages are built on the blocking pool: {e}");
                None
            }
        };
        AppState(Arc::new(SharedState {
            snapshot: Arc::new(ArcSwap::from_pointee(snapshot)),
            config: Arc::new(config),
            tokens: Arc::new(tokens),
            metrics: Arc::new(Metrics::default()),
            last_reload_error: Arc::new(tokio::sync::Mutex::new(None)),
            reload_lock: Arc::new(tokio::sync::Mutex::new(())),
            audit: config_audit,
            source: std::sync::Mutex::new(source),
            streams,
            builds,
            live: std::sync::OnceLock::new(),
            subscribers: Arc::new(tokio::sync::Semaphore::new(api::MAX_SUBSCRIBERS)),
            history: std::sync::OnceLock::new(),
            history_opening: tokio::sync::watch::Sender::new(false),
            history_failure: std::sync::OnceLock::new(),
            history_wake: Arc::new(tokio::sync::Notify::new()),
        }))
    }

    /// The snapshot to answer one request from.
    pub fn current(&self) -> Arc<Snapshot> {
        self.snapshot.load_full()
    }

    /// Runs the CPU-heavy `f` (a tile or a part of a feature page) on the
    /// build threads, after the builds queued before it; on the blocking
    /// pool when the threads could not be started.
    pub async fn build<T, F>(&self, f: F) -> Result<T, build_pool::BuildPoolError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        match &self.builds {
            Some(pool) => pool.run(f).await,
            None => tokio::task::spawn_blocking(f)
                .await
                .map_err(|_| build_pool::BuildPoolError::Panicked),
        }
    }
}

/// Opens the daily history beside the journal file `journal` (computing
/// the days it lacks: the whole year on first run) for the served data, in
/// the background: the server answers meanwhile, and the history's readers
/// wait for it ([`SharedState::history_opening`]). Once open, a task
/// follows the served snapshot after each write.
pub fn open_history(state: &AppState, journal: &std::path::Path) {
    let path = crate::history::default_path(journal);
    let j = journal.to_path_buf();
    state.history_opening.send_replace(true);
    let state = state.clone();
    tokio::spawn(async move {
        let started = std::time::Instant::now();
        let snap = state.current();
        let p = path.clone();
        let opened =
            tokio::task::spawn_blocking(move || crate::history::History::open(&p, &j, &snap)).await;
        match opened {
            Ok(Ok((history, opened))) => {
                tracing::info!(
                    history = %path.display(),
                    days = opened.days,
                    rebuilt = opened.rebuilt,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "history ready"
                );
                let _ = state.history.set(Arc::new(history));
                let wake = Arc::clone(&state.history_wake);
                tokio::spawn(follow_history(Arc::downgrade(&state.0), wake));
                // Writes made while it opened.
                state.history_wake.notify_one();
            }
            Ok(Err(e)) => {
                let reason = format!("cannot open the history {}: {e}", path.display());
                tracing::error!("{reason}");
                let _ = state.history_failure.set(reason);
            }
            Err(e) => {
                let reason = format!("the history {} failed to open: {e}", path.display());
                tracing::error!("{reason}");
                let _ = state.history_failure.set(reason);
            }
        }
        state.history_opening.send_replace(false);
    });
}

/// Brings the history up to the served snapshot each time it is woken,
/// until the server's state is gone.
async fn follow_history(state: std::sync::Weak<SharedState>, wake: Arc<tokio::sync::Notify>) {
    loop {
        wake.notified().await;
        let Some(shared) = state.upgrade() else {
            return;
        };
        let (Some(history), snap) = (shared.history.get().cloned(), shared.snapshot.load_full())
        else {
            continue;
        };
        drop(shared);
        match tokio::task::spawn_blocking(move || history.follow(&snap)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!("history: {e}"),
            Err(e) => tracing::error!("history: {e}"),
        }
    }
}

/// The application's routes, every request through the whole middleware
/// stack.
pub fn router(state: AppState) -> Router {
    app(state).0
}

/// The router and the fast path for cached tiles that goes in front of it
/// (see [`fast_tiles`]): both answer from one tile service and count
/// against the same limits.
fn app(state: AppState) -> (Router, Arc<fast_tiles::FastTiles>) {
    // The config's check has read the basemap once already.
    let basemap = match crate::basemap::Basemap::load(&state.config.basemap) {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(error = %e, "no basemap");
            None
        }
    };
    let tile_service = Arc::new(tiles::TileService::new(&state.config.tiles));
    let gates = limits::Gates::new(&state);
    let app = Router::new()
        .route("/health", get(health::health))
        .route("/metrics", get(metrics::metrics))
        .route(
            "/api/admin/reload",
            axum::routing::post(admin::reload_handler),
        )
        .merge(api::routes().layer(axum::middleware::from_fn_with_state(
            state.clone(),
            http::json_cache,
        )))
        .merge(tiles::routes(tile_service.clone()))
        .merge(ogc::routes().layer(axum::middleware::from_fn_with_state(
            state.clone(),
            http::json_cache,
        )))
        .merge(web::routes(basemap.as_ref()))
        .merge(qgis::routes())
        .fallback(|| async { ApiError::NotFound("no such path".into()) })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            path_check::check_path,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            caller::reject_unknown_tokens,
        ))
        .layer(axum::middleware::from_fn(private_cache::private_cache))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            api::record_token_requests,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(cors::layer())
        .with_state(state.clone());
    // The `Authorization` header is read once, before the rate limit (which
    // keys callers by token) and everything else.
    let router = limits::apply(app, &state, &gates).layer(axum::middleware::from_fn_with_state(
        state.clone(),
        caller::authenticate,
    ));
    let fast = fast_tiles::FastTiles::new(state, tile_service, gates);
    (router, Arc::new(fast))
}

/// Serves on `listener` until `shutdown` completes, then drains in-flight
/// requests.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let config = state.config.clone();
    let metrics = state.metrics.clone();
    let (router, fast) = app(state);
    serve::serve(listener, router, fast, &config, metrics, shutdown).await
}
