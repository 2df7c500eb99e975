//! `riskmap.toml` → [`Config`]. Every key is optional; the defaults serve the
//! demo city. Command-line flags override the file.
//!
//! Every key, with its default and meaning: `docs/cli.md`.

pub use crate::ingest::options::{LayerConfig, LayersConfig, OnInvalid};
use crate::ip_range::IpRange;
use crate::risk::RiskParams;
use crate::source::DataSource;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The config file read from the working directory when no `--config` is given.
pub const DEFAULT_CONFIG_FILE: &str = "riskmap.toml";

/// Errors reading the config.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The config file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The file is not valid TOML for the config.
    #[error("{path}: {message}")]
    Parse {
        /// The config file.
        path: PathBuf,
        /// The parser's message (names the key).
        message: String,
    },
    /// A value is out of range.
    #[error("{path}: {message}")]
    Invalid {
        /// The config file (or `<defaults>`).
        path: PathBuf,
        /// What is wrong, naming the key.
        message: String,
    },
}

/// The synthetic demo dataset `serve` generates when its data folder is absent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DemoConfig {
    /// Generate the data folder if it does not exist.
    pub generate_if_missing: bool,
    /// Generator preset.
    pub preset: String,
    /// Generator seed.
    pub seed: u64,
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig {
            generate_if_missing: true,
            preset: "quanzhou".into(),
            seed: 42,
        }
    }
}

/// HTTP limits (`[limits]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Largest request body of every route but `POST /api/alarms`, bytes
    /// (larger: 413).
    pub max_body_bytes: usize,
    /// Largest body of `POST /api/alarms` (a batch of up to 10,000
    /// alarms), bytes (larger: 413).
    pub max_alarm_body_bytes: usize,
    /// A request taking longer is answered 503 (seconds).
    pub request_timeout_secs: u64,
    /// Requests handled at once; more wait (and are shed when the queue is full).
    pub max_concurrent_requests: usize,
    /// Requests per second allowed to one caller (a valid token, else a
    /// client IP address); `0` turns rate limiting off (the default).
    /// Callers above the rate get 429 with `Retry-After`.
    pub rate_per_second: f64,
    /// Requests a caller may make at once before the rate applies
    /// (at least 1; used only with `rate_per_second`).
    pub burst: u32,
    /// Longest request target (path and query), bytes (longer: 414).
    pub max_uri_bytes: usize,
    /// Largest total size of the request's header fields, bytes (larger: 431).
    pub max_header_bytes: usize,
    /// A client must send a request's whole header within this many seconds,
    /// or its connection is closed (slow-client protection). An idle
    /// keep-alive connection is closed after as long.
    pub header_read_timeout_secs: u64,
    /// A response the client does not read for this many seconds (no byte
    /// accepted by the socket) is dropped and its connection reset.
    pub write_timeout_secs: u64,
    /// Open connections at most; more are answered 503 and closed.
    pub max_connections: usize,
    /// Open connections per client address at most (addresses listed in
    /// `trusted_proxies` are exempt); more are answered 503 and closed.
    pub max_connections_per_client: usize,
    /// Streamed OGC items pages at once; more are answered 503 with
    /// `Retry-After` at once (no queue).
    pub max_streaming_responses: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            max_body_bytes: 1 << 20,
            max_alarm_body_bytes: 4 << 20,
            request_timeout_secs: 30,
            max_concurrent_requests: 512,
            rate_per_second: 0.0,
            burst: 20,
            max_uri_bytes: 8 * 1024,
            max_header_bytes: 32 * 1024,
            header_read_timeout_secs: 10,
            write_timeout_secs: 30,
            max_connections: 2048,
            max_connections_per_client: 256,
            max_streaming_responses: 64,
        }
    }
}

/// Vector tiles (`[tiles]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TilesConfig {
    /// Size of the in-memory tile cache, MiB of tile bodies (`0` turns the
    /// cache off: every tile is built on request, as in uncached benchmarks).
    pub cache_mb: u64,
    /// Threads that build tiles not in the cache, in arrival order (`0`:
    /// one per core).
    pub build_threads: usize,
    /// How much lower the build threads' CPU priority is than the rest of
    /// the server's (nice value added, `0`–`19`; `0` keeps it): writes and
    /// alarms are answered before tiles are built.
    pub build_nice: i32,
    /// How long, in milliseconds, a tile may lag the live writes: a cached
    /// tile that a write has changed, but that was built from a snapshot
    /// read less than this long ago, is answered at once (tagged with the state it
    /// is) while it is rebuilt behind the answer. `0` (the default): every
    /// answer is the tile as the latest write left it.
    pub stale_ms: u64,
}

impl Default for TilesConfig {
    fn default() -> Self {
        TilesConfig {
            cache_mb: 256,
            build_threads: 0,
            build_nice: 10,
            stale_ms: 0,
        }
    }
}

/// The most `[tiles] stale_ms` may be, milliseconds.
pub const MAX_STALE_MS: u64 = 60_000;

/// A database source (`data = "postgresql://…"`; `[source]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SourceConfig {
    /// How often the server checks the database for changes, seconds
    /// (`0` turns polling off: reload with SIGHUP or the admin endpoint).
    pub poll_secs: u64,
    /// The table (or view) the ETL bumps in each transaction that changes
    /// the data; when it exists its rows are the whole version (`""`: none).
    pub version_table: String,
    /// A `LISTEN` channel (`""`: none): a `NOTIFY` on it makes the server
    /// check for a change at once instead of at the next poll.
    pub listen: String,
    /// PEM file of CA certificates trusted (besides the system's) to
    /// verify the database's certificate when the URL has
    /// `sslmode=require`.
    pub tls_ca: Option<PathBuf>,
    /// A replica that has seen journal rows (table `riskmap_journal`) it
    /// could not apply for longer than this many seconds answers `/health`
    /// with 503, so that a load balancer drops it.
    pub max_lag_secs: u64,
}

impl Default for SourceConfig {
    fn default() -> Self {
        SourceConfig {
            poll_secs: 10,
            version_table: "riskmap_version".into(),
            listen: String::new(),
            tls_ca: None,
            max_lag_secs: 10,
        }
    }
}

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The dataset directory, or a PostgreSQL URL
    /// (`postgresql://user@host:port/db`) to read the layers from PostGIS.
    pub data: DataSource,
    /// Address to listen on.
    pub addr: String,
    /// The tokens file (SHA-256 hashes and roles).
    pub tokens: Option<PathBuf>,
    /// Audit log of token requests (JSON lines).
    pub audit_log: Option<PathBuf>,
    /// The write journal (JSON lines, hash-chained; `docs/journal.md`).
    /// By default `journal.jsonl` in the data folder (see
    /// [`Config::journal_path`]).
    pub journal: Option<PathBuf>,
    /// The audit log's size bound in MiB: past it the file is renamed to
    /// `NAME.1` (replacing the previous one) and a new file begins, so the
    /// log never holds more than twice this.
    pub audit_max_mb: u64,
    /// What to do with invalid features.
    pub on_invalid: OnInvalid,
    /// Log as JSON lines instead of text.
    pub json_logs: bool,
    /// Serve the map, tiles, OGC API and public `/api` endpoints without a
    /// token. `false` closes every path but `/health` and the web page's own
    /// files (`/`, `/web/*`, `/styles/*`, `/fonts/*`) to anonymous callers.
    pub public_access: bool,
    /// The demo dataset.
    pub demo: DemoConfig,
    /// Per-layer files, CRS and field names.
    pub layers: LayersConfig,
    /// The risk model's constants (`[risk]`).
    pub risk: RiskParams,
    /// HTTP limits.
    pub limits: LimitsConfig,
    /// Vector tiles.
    pub tiles: TilesConfig,
    /// Reload by itself when the data files change (off by default).
    pub watch: bool,
    /// How long the data files must stay unchanged before the watcher
    /// reloads, milliseconds.
    pub watch_debounce_ms: u64,
    /// A database source's polling (`[source]`).
    pub source: SourceConfig,
    /// Reverse proxies (addresses or CIDR ranges, e.g. `"10.0.0.0/8"`)
    /// whose `X-Forwarded-Host` and `X-Forwarded-Proto` are believed and
    /// which the per-client connection cap does not count; from any
    /// other peer those headers are ignored.
    pub trusted_proxies: Vec<IpRange>,
    /// Keep the validated features of a data folder in
    /// `.riskmap-cache/snapshot.bin` there, so that the next start on the
    /// same files skips reading and validating them (keyed by the files'
    /// hashes, the layer settings and the riskmap build; rebuilt on any
    /// change).
    pub snapshot_cache: bool,
    /// Only data folders whose input files total at least this many MiB
    /// are cached (smaller ones load quickly anyway).
    pub snapshot_cache_min_mb: u64,
    /// The web page's basemap (`[basemap]`).
    pub basemap: crate::basemap::BasemapConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data: DataSource::default(),
            addr: "127.0.0.1:8080".into(),
            tokens: Some(PathBuf::from("data/demo-tokens.toml")),
            audit_log: None,
            journal: None,
            audit_max_mb: 256,
            on_invalid: OnInvalid::Reject,
            json_logs: false,
            public_access: true,
            demo: DemoConfig::default(),
            layers: LayersConfig::default(),
            risk: RiskParams::default(),
            limits: LimitsConfig::default(),
            tiles: TilesConfig::default(),
            watch: false,
            watch_debounce_ms: 2000,
            source: SourceConfig::default(),
            trusted_proxies: Vec::new(),
            snapshot_cache: true,
            snapshot_cache_min_mb: 64,
            basemap: crate::basemap::BasemapConfig::default(),
        }
    }
}

impl Config {
    /// What reading the data takes from this config.
    pub fn ingest(&self) -> crate::ingest::Options<'_> {
        crate::ingest::Options {
            layers: &self.layers,
            on_invalid: self.on_invalid,
            version_salt: serde_json::to_vec(&self.risk.pinned()).unwrap_or_default(),
            tls_ca: self.source.tls_ca.as_deref(),
            version_table: &self.source.version_table,
            snapshot_cache: self.snapshot_cache,
            snapshot_cache_min_mb: self.snapshot_cache_min_mb,
        }
    }

    /// Reads `path`, or `riskmap.toml` from the working directory if `path`
    /// is `None` and that file exists, or else the defaults.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let path = match path {
            Some(p) => p.to_path_buf(),
            None => {
                let p = PathBuf::from(DEFAULT_CONFIG_FILE);
                if !p.exists() {
                    let config = Config::default();
                    config.check(Path::new("<defaults>"))?;
                    return Ok(config);
                }
                p
            }
        };
        let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Io {
            path: path.clone(),
            source,
        })?;
        Config::parse(&text, &path)
    }

    /// The journal file for the data source `data`: the `journal` key, else
    /// `journal.jsonl` in the data folder; `None` for a database source
    /// without a `journal` key (its journal is a table).
    pub fn journal_path(&self, data: &DataSource) -> Option<PathBuf> {
        self.journal
            .clone()
            .or_else(|| data.dir().map(|d| d.join(crate::journal::DEFAULT_FILE)))
    }

    /// Parses config text; `path` only names the source in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        config.check(path)?;
        Ok(config)
    }

    fn check(&self, path: &Path) -> Result<(), ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        self.risk.check().map_err(invalid)?;
        crate::basemap::Basemap::load(&self.basemap).map_err(|e| invalid(e.to_string()))?;
        let l = &self.limits;
        if !l.rate_per_second.is_finite() || l.rate_per_second < 0.0 {
            return Err(invalid(format!(
                "limits.rate_per_second must be a number ≥ 0 (0 = off), found {}",
                l.rate_per_second
            )));
        }
        if l.max_uri_bytes < 64 || l.max_header_bytes < 1024 {
            return Err(invalid(
                "limits.max_uri_bytes must be ≥ 64 and limits.max_header_bytes ≥ 1024".into(),
            ));
        }
        if l.max_connections == 0
            || l.max_connections_per_client == 0
            || l.max_streaming_responses == 0
            || l.write_timeout_secs == 0
        {
            return Err(invalid(
                "limits.max_connections, max_connections_per_client, max_streaming_responses and write_timeout_secs must be ≥ 1".into(),
            ));
        }
        let t = &self.tiles;
        if !(0..=19).contains(&t.build_nice) || t.build_threads > 1024 {
            return Err(invalid(format!(
                "tiles.build_nice must be 0–19 (found {}) and tiles.build_threads 0–1024 (found {})",
                t.build_nice, t.build_threads
            )));
        }
        if t.stale_ms > MAX_STALE_MS {
            return Err(invalid(format!(
                "tiles.stale_ms must be 0–{MAX_STALE_MS} (found {}): a tile never lags the writes by more than a minute",
                t.stale_ms
            )));
        }
        if t.stale_ms > 0 && t.cache_mb == 0 {
            return Err(invalid(
                "tiles.stale_ms needs the tile cache (cache_mb > 0): the state a tile lags with is the cached one".into(),
            ));
        }
        if self.layers.grid_cells.optional {
            return Err(invalid(
                "layers.grid_cells.optional cannot be true: the grid is always required".into(),
            ));
        }
        if self.watch_debounce_ms < 50 {
            return Err(invalid(format!(
                "watch_debounce_ms must be ≥ 50, found {}",
                self.watch_debounce_ms
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crs::Crs;

    #[test]
    fn empty_file_is_the_demo() {
        let c = Config::parse("", Path::new("t.toml")).ok();
        assert_eq!(c, Some(Config::default()));
    }

    #[test]
    fn field_mapping_and_crs() {
        let c = Config::parse(
            "[layers.enterprises]\ncrs = \"GCJ02\"\n[layers.enterprises.fields]\nname = \"企业名称\"\n",
            Path::new("t.toml"),
        );
        let c = c.ok();
        let e = c.as_ref().map(|c| &c.layers.enterprises);
        assert_eq!(e.map(|e| e.crs), Some(Crs::Gcj02));
        assert_eq!(
            e.and_then(|e| e.fields.get("name")).map(String::as_str),
            Some("企业名称")
        );
    }

    #[test]
    fn limits_are_checked() {
        let c = Config::parse(
            "watch = true\n[limits]\nrate_per_second = 5.5\nburst = 3\n",
            Path::new("t.toml"),
        )
        .ok();
        assert_eq!(c.as_ref().map(|c| c.watch), Some(true));
        assert_eq!(c.as_ref().map(|c| c.limits.burst), Some(3));
        for bad in [
            "[limits]\nrate_per_second = -1.0\n",
            "[limits]\nmax_uri_bytes = 10\n",
            "watch_debounce_ms = 0\n",
            "[limits]\nmax_connections_per_client = 0\n",
            "trusted_proxies = [\"10.0.0.0/33\"]\n",
            "[tiles]\nbuild_nice = 20\n",
            "[tiles]\nbuild_nice = -5\n",
            "[tiles]\nstale_ms = 60001\n",
            "[tiles]\ncache_mb = 0\nstale_ms = 100\n",
        ] {
            let msg = Config::parse(bad, Path::new("t.toml"))
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(msg.contains("t.toml"), "{bad}: {msg}");
        }
    }

    #[test]
    fn journal_defaults_to_the_data_folder() {
        let c = Config::default();
        let dir = DataSource::Dir(PathBuf::from("ds"));
        assert_eq!(
            c.journal_path(&dir),
            Some(PathBuf::from("ds/journal.jsonl"))
        );
        let c = Config::parse(
            "journal = \"/var/lib/riskmap/j.jsonl\"\n",
            Path::new("t.toml"),
        );
        let c = c.ok();
        assert_eq!(
            c.and_then(|c| c.journal_path(&dir)),
            Some(PathBuf::from("/var/lib/riskmap/j.jsonl"))
        );
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = Config::parse("dta = 1\n", Path::new("t.toml"));
        let msg = err.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains("t.toml") && msg.contains("dta"), "{msg}");
    }
}
