//! The command line's arguments (clap): `riskmap [--config FILE] COMMAND`.

use crate::source::{DataSource, Target};
use clap::{Parser, Subcommand, ValueEnum};
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
        /// The dataset to write.
        #[arg(long, value_enum, ignore_case = true, default_value_t = PresetArg::Quanzhou)]
        preset: PresetArg,
        /// RNG seed (same seed → byte-identical files).
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
        /// The files' format.
        #[arg(long, value_enum, ignore_case = true, default_value_t = FormatArg::Fgb)]
        format: FormatArg,
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
        #[arg(long, default_value_t = crate::export::DEFAULT_MAXZOOM)]
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
        /// What the token may do.
        #[arg(long, value_enum)]
        role: RoleArg,
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

/// `generate --preset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PresetArg {
    /// The demo city of Quanzhou (泉州): real counties, towns and villages.
    #[value(alias = "泉州")]
    Quanzhou,
    /// A synthetic province inside the Fujian outline, for benchmarks.
    #[value(aliases = ["fujian", "福建"])]
    Province,
}

impl From<PresetArg> for crate::generate::Preset {
    fn from(p: PresetArg) -> Self {
        match p {
            PresetArg::Quanzhou => Self::Quanzhou,
            PresetArg::Province => Self::Province,
        }
    }
}

/// `generate --format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// FlatGeobuf with a spatial index (`.fgb`).
    #[value(alias = "flatgeobuf")]
    Fgb,
    /// GeoJSON (`.geojson`).
    #[value(alias = "json")]
    Geojson,
}

impl From<FormatArg> for crate::write::Format {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Fgb => Self::Fgb,
            FormatArg::Geojson => Self::GeoJson,
        }
    }
}

/// `token add --role`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    /// Reads everything.
    Planner,
    /// Reads one grid unit and its descendants; reports and rectifies there.
    #[value(name = "grid_manager")]
    GridManager,
    /// Reads everything, closes dangers and may reload.
    Admin,
    /// A monitoring platform: may post alarms, nothing else.
    Ingest,
}

impl From<RoleArg> for crate::auth::Role {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Planner => Self::Planner,
            RoleArg::GridManager => Self::GridManager,
            RoleArg::Admin => Self::Admin,
            RoleArg::Ingest => Self::Ingest,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generate_args(extra: &[&str]) -> Result<(PresetArg, FormatArg), clap::Error> {
        let mut argv = vec!["riskmap", "generate", "--out", "x"];
        argv.extend_from_slice(extra);
        match Cli::try_parse_from(argv)?.command {
            Some(Command::Generate { preset, format, .. }) => Ok((preset, format)),
            _ => panic!("not generate"),
        }
    }

    #[test]
    fn presets_and_formats_take_their_aliases_in_any_case() {
        assert_eq!(
            generate_args(&[]).unwrap(),
            (PresetArg::Quanzhou, FormatArg::Fgb)
        );
        for (word, preset) in [
            ("泉州", PresetArg::Quanzhou),
            ("Province", PresetArg::Province),
            ("fujian", PresetArg::Province),
            ("福建", PresetArg::Province),
        ] {
            assert_eq!(generate_args(&["--preset", word]).unwrap().0, preset);
        }
        for (word, format) in [
            ("GeoJSON", FormatArg::Geojson),
            ("json", FormatArg::Geojson),
            ("flatgeobuf", FormatArg::Fgb),
        ] {
            assert_eq!(generate_args(&["--format", word]).unwrap().1, format);
        }
    }

    #[test]
    fn an_unknown_preset_is_a_usage_error_listing_the_presets() {
        let e = generate_args(&["--preset", "beijing"]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        let text = e.to_string();
        assert!(
            text.contains("beijing") && text.contains("quanzhou") && text.contains("province"),
            "{text}"
        );
    }

    #[test]
    fn roles_are_spelled_as_in_the_tokens_file() {
        for role in [
            crate::auth::Role::Planner,
            crate::auth::Role::GridManager,
            crate::auth::Role::Admin,
            crate::auth::Role::Ingest,
        ] {
            let cli =
                Cli::try_parse_from(["riskmap", "token", "add", "--role", role.as_str()]).unwrap();
            let Some(Command::Token {
                action: TokenAction::Add { role: arg, .. },
            }) = cli.command
            else {
                panic!("not token add");
            };
            assert_eq!(crate::auth::Role::from(arg), role);
        }
    }
}
