//! The command line's arguments (clap): `riskmap [--config FILE] COMMAND`.

use crate::source::{DataSource, Target};
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// `riskmap`.
#[derive(Parser)]
#[command(
    name = "riskmap",
    version,
    about = "城市安全风险电子地图 — city safety risk map server"
)]
pub struct Cli {
    /// Config file (default: riskmap.toml in the working directory, if present).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// The command (default: `serve`).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The commands.
#[derive(Subcommand)]
pub enum Command {
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
        #[arg(long, default_value_t = crate::tiles::export::DEFAULT_MAXZOOM)]
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

/// `riskmap journal …`.
#[derive(Subcommand)]
pub enum JournalAction {
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
        /// The folder to write the compacted dataset into (a folder
        /// source); a database source is compacted in place.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// `riskmap token …`.
#[derive(Subcommand)]
pub enum TokenAction {
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
