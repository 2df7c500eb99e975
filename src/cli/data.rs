//! The commands that load a dataset: `validate`, `score` and
//! `export-pmtiles`.

use super::CliError;
use crate::config::Config;
use crate::ingest::IssueLevel;
use crate::snapshot::Snapshot;
use crate::source::{DataSource, Target};
use std::path::{Path, PathBuf};

/// `validate`: prints every problem (stdout) and a summary line.
pub fn validate(config: &Config, data: Option<DataSource>) -> Result<(), CliError> {
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
            Ok(())
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
            Err(CliError::Reported)
        }
    }
}

/// `score`: every grid unit with its risk fields, into a file or a
/// PostGIS table.
pub fn score(
    config: &Config,
    data: Option<DataSource>,
    out: &Target,
    pg_table: &str,
) -> Result<(), CliError> {
    let source = data.unwrap_or_else(|| config.data.clone());
    let started = std::time::Instant::now();
    let snap = load(config, &source)?;
    let table = crate::report::scores_table(&snap.store, &snap.scores);
    let written_to = match out {
        Target::Postgres(url) => {
            let comment = format!(
                "risk scores of every grid unit; data_version {}",
                snap.data_version
            );
            let target = crate::write::postgis::PgTarget {
                url: url.expose(),
                table: pg_table,
                key: Some("code"),
                comment: &comment,
                tls_ca: config.source.tls_ca.as_deref(),
            };
            crate::write::postgis::write(&target, &table)?;
            format!("{url} table {pg_table}")
        }
        Target::File(path) => {
            crate::write::write_table(path, &table)?;
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
pub fn load(config: &Config, source: &DataSource) -> Result<Snapshot, CliError> {
    Snapshot::load(source, config).map_err(|e| {
        for i in &e.issues {
            eprintln!("{i}");
        }
        CliError::NotValid {
            data: source.to_string(),
            problems: e.issues.len(),
        }
    })
}

/// `export-pmtiles`: the tiles into one PMTiles archive, and with
/// `with_page` the web map beside it.
pub fn export_pmtiles(
    config: &Config,
    data: Option<DataSource>,
    out: &Path,
    options: &crate::export::ExportOptions,
    with_page: bool,
) -> Result<(), CliError> {
    use crate::export;
    let source = data.unwrap_or_else(|| config.data.clone());
    let archive_name = out
        .file_name()
        .and_then(|n| n.to_str())
        .map(str::to_string)
        .unwrap_or_default();
    if with_page && (archive_name.is_empty() || archive_name == export::SITE_CONFIG) {
        return Err(export::ExportError::SiteArchiveName(archive_name).into());
    }
    // The site's folder: made if missing, with --with-page only.
    let site = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if with_page {
        std::fs::create_dir_all(&site).map_err(|source| CliError::Io {
            what: site.display().to_string(),
            source,
        })?;
    }
    if options.include_private {
        eprintln!(
            "WARNING: --include-private: {} will hold the confidential layers enterprises and hazard_sources; a static file has no access control, never host it publicly",
            out.display()
        );
    }
    let started = std::time::Instant::now();
    let snap = load(config, &source)?;
    let tiles = export::plan(&snap, options)?;
    let bar = indicatif::ProgressBar::new(tiles.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} z{msg} [{bar:40}] {pos}/{len} tiles, {per_sec}, eta {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message(format!("{}–{}", options.minzoom, options.maxzoom));
    let summary = export::write_pmtiles(&snap, &tiles, out, options, &|n| bar.inc(n))?;
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
        let basemap =
            crate::basemap::Basemap::load(&config.basemap).map_err(export::ExportError::from)?;
        let files = export::write_site(&site, &archive_name, &summary, options, basemap.as_ref())?;
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
