//! The `riskmap` command line: serve · generate · validate · score ·
//! export-pmtiles · token · journal.

use clap::{Parser, Subcommand};
use riskmap::auth::{Role, TokensFile};
use riskmap::config::Config;
use riskmap::generate::Preset;
use riskmap::ingest::IssueLevel;
use riskmap::server::{self, AppState};
use riskmap::snapshot::Snapshot;
use riskmap::source::{DataSource, Target};
use riskmap::write::Format;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "riskmap",
    version,
    about = "城市安全风险电子地图 — city safety risk map server"
)]
struct Cli {
    /// Config file (default: riskmap.toml in the working directory, if present).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Load, index, score and serve a dataset (the default command).
    Serve {
        /// Address to listen on (127.0.0.1:0 picks a free port).
        #[arg(long)]
        addr: Option<String>,
        /// Dataset directory, or a PostgreSQL URL
        /// (`postgresql://user@host:port/db`) to read PostGIS tables.
        #[arg(long)]
        data: Option<DataSource>,
        /// Allow the demo tokens file on a non-loopback address.
        #[arg(long)]
        allow_demo_tokens: bool,
        /// Reload by itself when the data files change (after they have
        /// been quiet for `watch_debounce_ms`).
        #[arg(long)]
        watch: bool,
    },
    /// Write a deterministic synthetic dataset.
    Generate {
        /// `quanzhou` (the demo city) or `province`.
        #[arg(long, default_value = "quanzhou")]
        preset: String,
        /// RNG seed (same seed → byte-identical files).
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
        /// `fgb` (default) or `geojson`.
        #[arg(long, default_value = "fgb")]
        format: String,
        /// The as-of date `YYYY-MM-DD` the hidden dangers hang on (found in
        /// the 12 months before it); default: today in Asia/Shanghai.
        #[arg(long)]
        as_of: Option<String>,
    },
    /// Check a dataset; print every problem as `file:feature: message`.
    Validate {
        /// Dataset directory or PostgreSQL URL.
        #[arg(long)]
        data: Option<DataSource>,
    },
    /// Score a dataset and write every grid unit with its risk fields.
    Score {
        /// Dataset directory or PostgreSQL URL.
        #[arg(long)]
        data: Option<DataSource>,
        /// Output file: .geojson, .fgb or .csv; with the `gdal` feature
        /// also .gpkg or .shp (short field names, legend in NAME.fields.csv);
        /// or a PostgreSQL URL: the table `--table` is replaced.
        #[arg(long)]
        out: Target,
        /// The table written when `--out` is a PostgreSQL URL
        /// (`table` or `schema.table`).
        #[arg(long, default_value = "riskmap_scores")]
        table: String,
    },
    /// Pre-render the composite vector tiles into one PMTiles v3 archive,
    /// for hosting the map as static files (object storage, a CDN).
    ///
    /// By default the archive holds only the public layers (grid units
    /// with their risk scores, collapse zones): what anyone gets from
    /// `/tiles` without a token.
    ExportPmtiles {
        /// Dataset directory or PostgreSQL URL.
        #[arg(long)]
        data: Option<DataSource>,
        /// Output archive (written to OUT.tmp, then renamed).
        #[arg(long)]
        out: PathBuf,
        /// First zoom.
        #[arg(long, default_value_t = 0)]
        minzoom: u8,
        /// Last zoom (map clients overzoom beyond it).
        #[arg(long, default_value_t = riskmap::tiles::export::DEFAULT_MAXZOOM)]
        maxzoom: u8,
        /// Also export `enterprises` and `hazard_sources` as a planner sees
        /// them. WARNING: the archive then holds confidential data that the
        /// server only shows with a token; a static file has no access
        /// control, so never host it publicly.
        #[arg(long)]
        include_private: bool,
        /// Also write the web map beside the archive (index.html, its
        /// scripts, style, fonts and a site.json naming the archive): the
        /// folder then works as a static site on any host that answers
        /// HTTP Range requests, at its root or under a path.
        #[arg(long)]
        with_page: bool,
    },
    /// Manage the tokens file (only SHA-256 hashes are stored).
    Token {
        #[command(subcommand)]
        action: TokenAction,
    },
    /// Check or compact the write journal (hash-chained JSON lines).
    Journal {
        #[command(subcommand)]
        action: JournalAction,
    },
}

#[derive(Subcommand)]
enum JournalAction {
    /// Verify every line (JSON, seq continuity, the hash chain): exit 0
    /// with the entry count and last seq, 1 naming the first bad line.
    /// Read-only: a torn last line is reported, not truncated.
    Verify {
        /// Dataset directory (the journal defaults to journal.jsonl in it).
        #[arg(long)]
        data: Option<DataSource>,
        /// The journal file (overrides the config key `journal`).
        #[arg(long)]
        journal: Option<PathBuf>,
    },
    /// Write the data folder's files with the journal applied (the
    /// hidden_dangers layer rewritten) into a new folder.
    Compact {
        /// Dataset directory.
        #[arg(long)]
        data: Option<DataSource>,
        /// The journal file (overrides the config key `journal`).
        #[arg(long)]
        journal: Option<PathBuf>,
        /// The folder to write the compacted dataset into.
        #[arg(long)]
        out: PathBuf,
    },
}

/// The journal file: `--journal`, else config `journal`, else
/// `journal.jsonl` in the data folder.
fn journal_file(
    config: &Config,
    data: Option<DataSource>,
    journal: Option<PathBuf>,
) -> Result<PathBuf, String> {
    let source = data.unwrap_or_else(|| config.data.clone());
    journal.or_else(|| config.journal_path(&source)).ok_or_else(|| {
        format!("{source} is a database: its journal is the table riskmap_journal; give --journal FILE to check a file")
    })
}

fn journal(config: &Config, action: JournalAction) -> Result<(), String> {
    match action {
        JournalAction::Verify { data, journal } => {
            let path = journal_file(config, data, journal)?;
            let replay = riskmap::journal::read(&path).map_err(|e| e.to_string())?;
            for w in &replay.warnings {
                eprintln!("warning: {w}");
            }
            println!(
                "{}: ok — {} entries, last seq {}, last hash {}",
                path.display(),
                replay.entries.len(),
                replay.last_seq,
                replay.last_hash
            );
            Ok(())
        }
        JournalAction::Compact { data, journal, out } => compact(config, data, journal, &out),
    }
}

/// `journal compact`: the data folder's files with the journal applied
/// (the `hidden_dangers` layer rewritten in the folder's format) into
/// `out`, which then needs no journal.
fn compact(
    config: &Config,
    data: Option<DataSource>,
    journal: Option<PathBuf>,
    out: &std::path::Path,
) -> Result<(), String> {
    let source = data.unwrap_or_else(|| config.data.clone());
    let Some(dir) = source.dir().map(std::path::Path::to_path_buf) else {
        return Err(format!(
            "{source} is a database: compact works on a data folder"
        ));
    };
    let path = journal_file(config, Some(source.clone()), journal)?;
    if out.exists()
        && std::fs::read_dir(out)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(format!("{} exists and is not empty", out.display()));
    }
    let mut cfg = config.clone();
    cfg.journal = Some(path.clone());
    let snap = Snapshot::load(source, &cfg).map_err(|e| {
        for i in &e.issues {
            eprintln!("{i}");
        }
        format!("{} does not load with its journal", dir.display())
    })?;
    let book = snap.store.dangers();
    if !book.is_loaded() && !book.is_empty() {
        return Err(format!(
            "{} has no hidden_dangers layer, so its enterprises' open-danger counts come from their own fields \
             and the journal's records add to them; a compacted layer would replace those counts. \
             Add a hidden_dangers file (it may be empty) to the data first",
            dir.display()
        ));
    }
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let journal_name = path.file_name();
    for entry in
        std::fs::read_dir(&dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?
    {
        let entry = entry.map_err(|e| e.to_string())?;
        let p = entry.path();
        if !p.is_file() || p.file_name() == journal_name {
            continue;
        }
        if let Some(name) = p.file_name() {
            std::fs::copy(&p, out.join(name))
                .map_err(|e| format!("cannot copy {}: {e}", p.display()))?;
        }
    }
    let records: Vec<riskmap::model::HiddenDanger> =
        book.iter().map(|(_, e)| e.record.clone()).collect();
    if book.is_loaded() {
        riskmap::write::write_hidden_dangers(out, &records).map_err(|e| e.to_string())?;
    }
    let alarms: Vec<riskmap::model::Alarm> = snap
        .store
        .alarms()
        .iter()
        .map(|(_, e)| e.record.clone())
        .collect();
    if !alarms.is_empty() {
        riskmap::write::write_alarms(out, &alarms).map_err(|e| e.to_string())?;
    }
    println!(
        "{}: the data of {} with {} journal entries applied (last seq {}), {} hidden dangers; it has no journal",
        out.display(),
        dir.display(),
        snap.seq,
        snap.seq,
        records.len()
    );
    Ok(())
}

#[derive(Subcommand)]
enum TokenAction {
    /// Add a token; prints the plain token once.
    Add {
        /// planner | grid_manager | admin | ingest
        #[arg(long)]
        role: String,
        /// Grid unit code (grid managers only).
        #[arg(long)]
        scope: Option<String>,
        /// A unique name (default: role and scope).
        #[arg(long)]
        name: Option<String>,
    },
    /// Remove a token by name.
    Revoke {
        /// The token's name.
        name: String,
    },
    /// List tokens (names, roles, scopes; never the tokens).
    List,
}

fn token(config: &Config, action: TokenAction) -> Result<(), String> {
    let path = config
        .tokens
        .clone()
        .ok_or("no `tokens` file is configured")?;
    let mut file = TokensFile::load(&path).map_err(|e| e.to_string())?;
    match action {
        TokenAction::Add { role, scope, name } => {
            let role: Role = role
                .parse()
                .map_err(|e: riskmap::auth::TokenError| e.to_string())?;
            let name = name.unwrap_or_else(|| match &scope {
                Some(s) => format!("{}-{s}", role.as_str()),
                None => role.as_str().to_string(),
            });
            let plain = file.add(&name, role, scope).map_err(|e| e.to_string())?;
            file.save(&path).map_err(|e| e.to_string())?;
            println!("{plain}");
            eprintln!(
                "added token {name:?} ({}) to {}; the plain token above is not stored",
                role.as_str(),
                path.display()
            );
        }
        TokenAction::Revoke { name } => {
            if !file.revoke(&name) {
                return Err(format!("no token named {name:?} in {}", path.display()));
            }
            file.save(&path).map_err(|e| e.to_string())?;
            eprintln!("revoked {name:?}");
        }
        TokenAction::List => {
            for t in &file.tokens {
                println!(
                    "{}\t{}\t{}",
                    t.name,
                    t.role.as_str(),
                    t.scope.as_deref().unwrap_or("-")
                );
            }
        }
    }
    Ok(())
}

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
    let command = cli.command.unwrap_or(Command::Serve {
        addr: None,
        data: None,
        allow_demo_tokens: false,
        watch: false,
    });
    let result = match command {
        Command::Serve {
            addr,
            data,
            allow_demo_tokens,
            watch,
        } => {
            let mut config = config;
            config.watch |= watch;
            serve(config, addr, data, allow_demo_tokens)
        }
        Command::Generate {
            preset,
            seed,
            out,
            format,
            as_of,
        } => generate(&preset, seed, as_of.as_deref(), &out, &format),
        Command::Validate { data } => return validate(&config, data),
        Command::Score { data, out, table } => score(&config, data, &out, &table),
        Command::ExportPmtiles {
            data,
            out,
            minzoom,
            maxzoom,
            include_private,
            with_page,
        } => {
            let options = riskmap::tiles::export::ExportOptions {
                minzoom,
                maxzoom,
                include_private,
                ..Default::default()
            };
            export_pmtiles(&config, data, &out, &options, with_page)
        }
        Command::Token { action } => token(&config, action),
        Command::Journal { action } => journal(&config, action),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("riskmap: {e}");
            ExitCode::FAILURE
        }
    }
}

fn generate(
    preset: &str,
    seed: u64,
    as_of: Option<&str>,
    out: &Path,
    format: &str,
) -> Result<(), String> {
    let preset: Preset = preset
        .parse()
        .map_err(|e: riskmap::generate::UnknownPreset| e.to_string())?;
    let as_of = match as_of {
        Some(text) => text
            .parse::<riskmap::model::Date>()
            .map_err(|e| format!("--as-of: {e}"))?,
        None => riskmap::generate::today(),
    };
    let format: Format = format
        .parse()
        .map_err(|e: riskmap::write::UnknownFormat| e.to_string())?;
    let started = std::time::Instant::now();
    let progress = |msg: &str| tracing::info!("generate: {msg}");
    let s = riskmap::generate::generate(preset, seed, as_of, out, format, &progress)
        .map_err(|e| e.to_string())?;
    tracing::info!(
        counties = s.counties,
        towns = s.towns,
        villages = s.villages,
        cells = s.cells,
        enterprises = s.enterprises,
        hazard_sources = s.hazard_sources,
        collapse_zones = s.collapse_zones,
        hidden_dangers = s.hidden_dangers,
        hidden_dangers_open = s.hidden_dangers_open,
        as_of = %as_of,
        population = s.population,
        seconds = started.elapsed().as_secs_f64(),
        "generated {}",
        out.display()
    );
    Ok(())
}

/// Generates into a sibling temporary folder, then renames it into place,
/// so an interrupted first run never leaves half a dataset behind.
fn generate_atomically(preset: &str, seed: u64, out: &Path) -> Result<(), String> {
    let tmp = out.with_extension("partial");
    let _ = std::fs::remove_dir_all(&tmp);
    generate(preset, seed, None, &tmp, "fgb")?;
    std::fs::rename(&tmp, out)
        .map_err(|e| format!("cannot move {} to {}: {e}", tmp.display(), out.display()))
}

fn validate(config: &Config, data: Option<DataSource>) -> ExitCode {
    let source = data.unwrap_or_else(|| config.data.clone());
    match Snapshot::load(&source, config) {
        Ok(snap) => {
            for w in snap.warnings.iter() {
                println!("{w}");
            }
            let c = snap.counts();
            println!(
                "{}: ok — {} enterprises, {} hazard sources, {} collapse zones, {} cells, {} villages, {} towns, {} counties; {} warning(s)",
                source,
                c.enterprises,
                c.hazard_sources,
                c.collapse_zones,
                c.cells,
                c.villages,
                c.towns,
                c.counties,
                snap.warnings.len()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            for i in &e.issues {
                println!("{i}");
            }
            let errors = e
                .issues
                .iter()
                .filter(|i| i.level == IssueLevel::Error)
                .count();
            println!(
                "{}: {errors} error(s), {} warning(s)",
                source,
                e.issues.len() - errors
            );
            ExitCode::FAILURE
        }
    }
}

fn score(
    config: &Config,
    data: Option<DataSource>,
    out: &Target,
    pg_table: &str,
) -> Result<(), String> {
    let source = data.unwrap_or_else(|| config.data.clone());
    let started = std::time::Instant::now();
    let snap = load(config, &source)?;
    let table = riskmap::report::scores_table(&snap.store, &snap.scores);
    let written_to = match out {
        Target::Postgres(url) => {
            let comment = format!(
                "risk scores of every grid unit; data_version {}",
                snap.data_version
            );
            let target = riskmap::write::postgis::PgTarget {
                url: url.expose(),
                table: pg_table,
                key: Some("code"),
                comment: &comment,
                tls_ca: config.source.tls_ca.as_deref(),
            };
            riskmap::write::postgis::write(&target, &table).map_err(|e| e.to_string())?;
            format!("{url} table {pg_table}")
        }
        Target::File(path) => {
            riskmap::write::write_table(path, &table).map_err(|e| e.to_string())?;
            path.display().to_string()
        }
    };
    eprintln!(
        "scored {} grid units of {} in {:.2} s → {written_to}",
        table.features.len(),
        source,
        started.elapsed().as_secs_f64(),
    );
    Ok(())
}

/// Loads `source`, or prints every problem and says how many there were.
fn load(config: &Config, source: &DataSource) -> Result<Snapshot, String> {
    Snapshot::load(source, config).map_err(|e| {
        for i in &e.issues {
            eprintln!("{i}");
        }
        format!("{source} is not valid ({} problems above)", e.issues.len())
    })
}

fn export_pmtiles(
    config: &Config,
    data: Option<DataSource>,
    out: &Path,
    options: &riskmap::tiles::export::ExportOptions,
    with_page: bool,
) -> Result<(), String> {
    use riskmap::tiles::export;
    let source = data.unwrap_or_else(|| config.data.clone());
    let archive_name = out
        .file_name()
        .and_then(|n| n.to_str())
        .map(str::to_string)
        .unwrap_or_default();
    if with_page && (archive_name.is_empty() || archive_name == export::SITE_CONFIG) {
        return Err(export::ExportError::SiteArchiveName(archive_name).to_string());
    }
    // The site's folder: made if missing, with --with-page only.
    let site = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if with_page {
        std::fs::create_dir_all(&site).map_err(|e| format!("{}: {e}", site.display()))?;
    }
    if options.include_private {
        eprintln!(
            "WARNING: --include-private: {} will hold the confidential layers enterprises and hazard_sources; a static file has no access control, never host it publicly",
            out.display()
        );
    }
    let started = std::time::Instant::now();
    let snap = load(config, &source)?;
    let tiles = export::plan(&snap, options).map_err(|e| e.to_string())?;
    let bar = indicatif::ProgressBar::new(tiles.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} z{msg} [{bar:40}] {pos}/{len} tiles, {per_sec}, eta {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message(format!("{}–{}", options.minzoom, options.maxzoom));
    let summary = export::write_pmtiles(&snap, &tiles, out, options, &|n| bar.inc(n))
        .map_err(|e| e.to_string())?;
    bar.finish_and_clear();
    for (z, n) in &summary.tiles_per_zoom {
        eprintln!("  z{z}: {n} tiles");
    }
    eprintln!(
        "exported {} tiles ({} examined, {} access, data_version {}) of {} in {:.1} s → {} ({:.1} MiB)",
        summary.tiles,
        summary.planned,
        if options.include_private {
            "private"
        } else {
            "public"
        },
        summary.data_version,
        source,
        started.elapsed().as_secs_f64(),
        out.display(),
        summary.bytes as f64 / (1024.0 * 1024.0)
    );
    if with_page {
        let files = export::write_site(&site, &archive_name, &summary, options)
            .map_err(|e| e.to_string())?;
        eprintln!(
            "wrote the web page ({} files, {}) beside it in {}: host that folder on any static server with HTTP Range support",
            files.len(),
            export::SITE_CONFIG,
            site.display()
        );
        if options.include_private {
            eprintln!(
                "WARNING: this site shows the confidential layers enterprises and hazard_sources to anyone who can open it"
            );
        }
    }
    Ok(())
}

fn serve(
    mut config: Config,
    addr: Option<String>,
    data: Option<DataSource>,
    allow_demo_tokens: bool,
) -> Result<(), String> {
    if let Some(a) = addr {
        config.addr = a;
    }
    let explicit_data = data.is_some();
    if let Some(d) = data {
        config.data = d;
    }
    let tokens = match &config.tokens {
        Some(path) => TokensFile::load(path).map_err(|e| format!("tokens: {e}"))?,
        None => TokensFile::default(),
    };
    server::demo_tokens::check(&tokens, &config.addr, allow_demo_tokens)?;
    let database = config.data.postgres().is_some();
    if let Some(dir) = config.data.dir()
        && !dir.exists()
        && !explicit_data
        && config.demo.generate_if_missing
    {
        tracing::info!(
            dir = %dir.display(),
            preset = %config.demo.preset,
            seed = config.demo.seed,
            "data folder absent: generating the demo dataset"
        );
        generate_atomically(&config.demo.preset, config.demo.seed, dir)?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let result = runtime.block_on(async move {
        // Before anything else: a signal from now on drains and exits
        // instead of killing the process.
        let mut signals =
            server::Signals::install().map_err(|e| format!("cannot catch signals: {e}"))?;
        let started = std::time::Instant::now();
        let dir = config.data.clone();
        let cfg = config.clone();
        let loading = tokio::task::spawn_blocking(move || Snapshot::load_for_tiles(&dir, &cfg));
        let snap = tokio::select! {
            loaded = loading => loaded.map_err(|e| format!("loading failed: {e}"))?,
            () = signals.shutdown() => {
                tracing::info!("stopped before serving");
                return Ok(());
            }
        };
        let snap = match snap {
            Ok(s) => s,
            Err(e) => {
                for i in &e.issues {
                    eprintln!("{i}");
                }
                return Err(format!(
                    "{} is not valid ({} problems above); not serving it",
                    config.data,
                    e.issues.len()
                ));
            }
        };
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
        let listener = tokio::net::TcpListener::bind(&config.addr)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", config.addr))?;
        let local = listener
            .local_addr()
            .map_err(|e| format!("cannot read the bound address: {e}"))?;
        tracing::info!(tokens = tokens.tokens.len(), "tokens loaded");
        let journal = config.journal_path(&config.data);
        let state = AppState::new(snap, config, tokens);
        if let Some(path) = journal {
            let live = server::live::Live::open(&path, state.current())
                .map_err(|e| format!("cannot open the journal: {e}"))?;
            tracing::info!(journal = %path.display(), seq = state.current().seq, "journal open for writes");
            let _ = state.live.set(std::sync::Arc::new(live));
        }
        tokio::spawn(server::reload_at_midnight(state.clone()));
        tokio::spawn(server::reload_on_sighup(
            state.clone(),
            signals.take_hangups(),
        ));
        if database {
            if state.config.watch {
                tracing::info!("the data is a database: it is polled instead of watched");
            }
            server::poll::start(state.clone());
        } else if state.config.watch {
            server::watch::start(state.clone()).map_err(|e| e.to_string())?;
        }
        tracing::info!("listening on http://{local}");
        server::run(listener, state, signals.shutdown())
            .await
            .map_err(|e| format!("server error: {e}"))
    });
    // A load still running after an early signal is not waited for.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    result
}
