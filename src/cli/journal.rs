//! `riskmap journal verify|compact`.

use super::CliError;
use super::args::JournalAction;
use crate::config::Config;
use crate::snapshot::Snapshot;
use crate::source::DataSource;
use std::path::PathBuf;

/// The journal file: `--journal`, else config `journal`, else
/// `journal.jsonl` in the data folder.
fn journal_file(
    config: &Config,
    data: Option<DataSource>,
    journal: Option<PathBuf>,
) -> Result<PathBuf, CliError> {
    let source = data.unwrap_or_else(|| config.data.clone());
    journal.or_else(|| config.journal_path(&source)).ok_or_else(|| {
        CliError::Refused(format!("{source} is a database: its journal is the table riskmap_journal; give --journal FILE to check a file"))
    })
}

/// Runs a `journal` action.
pub fn journal(config: &Config, action: JournalAction) -> Result<(), CliError> {
    match action {
        JournalAction::Verify { data, journal } => {
            if let (Some(DataSource::Postgres(url)), None, None) = (
                data.as_ref().or(Some(&config.data)),
                &journal,
                &config.journal,
            ) {
                let report =
                    super::journal_table::verify(config, url).map_err(CliError::Refused)?;
                println!("{report}");
                return Ok(());
            }
            let path = journal_file(config, data, journal)?;
            let replay = crate::journal::read(&path)?;
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
        JournalAction::Compact { data, journal, out } => {
            let source = data.unwrap_or_else(|| config.data.clone());
            match (&source, journal.is_none() && config.journal.is_none(), out) {
                (DataSource::Postgres(url), true, None) => {
                    super::journal_table::compact(config, url).map_err(CliError::Refused)
                }
                (DataSource::Postgres(_), true, Some(_)) => Err(CliError::Refused(format!(
                    "{source} is a database: its journal table is compacted into its base tables in place; leave out --out"
                ))),
                (_, _, Some(out)) => compact(config, Some(source), journal, &out),
                (_, _, None) => Err(CliError::Refused(
                    "--out DIR2 is required: the folder to write the compacted data into".into(),
                )),
            }
        }
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
) -> Result<(), CliError> {
    let source = data.unwrap_or_else(|| config.data.clone());
    let Some(dir) = source.dir().map(std::path::Path::to_path_buf) else {
        return Err(CliError::Refused(format!(
            "{source} is a database: compact works on a data folder"
        )));
    };
    let path = journal_file(config, Some(source.clone()), journal)?;
    if out.exists()
        && std::fs::read_dir(out)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(CliError::Refused(format!(
            "{} exists and is not empty",
            out.display()
        )));
    }
    let mut cfg = config.clone();
    cfg.journal = Some(path.clone());
    let snap = Snapshot::load(source, &cfg).map_err(|e| {
        for i in &e.issues {
            eprintln!("{i}");
        }
        CliError::Refused(format!("{} does not load with its journal", dir.display()))
    })?;
    let book = snap.store.dangers();
    if !book.is_loaded() && !book.is_empty() {
        return Err(CliError::Refused(format!(
            "{} has no hidden_dangers layer, so its enterprises' open-danger counts come from their own fields \
             and the journal's records add to them; a compacted layer would replace those counts. \
             Add a hidden_dangers file (it may be empty) to the data first",
            dir.display()
        )));
    }
    std::fs::create_dir_all(out).map_err(|source| CliError::Io {
        what: format!("cannot create {}", out.display()),
        source,
    })?;
    let journal_name = path.file_name();
    for entry in std::fs::read_dir(&dir).map_err(|source| CliError::Io {
        what: format!("cannot read {}", dir.display()),
        source,
    })? {
        let entry = entry.map_err(|source| CliError::Io {
            what: format!("cannot read {}", dir.display()),
            source,
        })?;
        let p = entry.path();
        if !p.is_file() || p.file_name() == journal_name {
            continue;
        }
        if let Some(name) = p.file_name() {
            std::fs::copy(&p, out.join(name)).map_err(|source| CliError::Io {
                what: format!("cannot copy {}", p.display()),
                source,
            })?;
        }
    }
    let records: Vec<crate::model::HiddenDanger> =
        book.iter().map(|(_, e)| e.record.clone()).collect();
    if book.is_loaded() {
        crate::write::write_hidden_dangers(out, &records)?;
    }
    let alarms: Vec<crate::model::Alarm> = snap
        .store
        .alarms()
        .iter()
        .map(|(_, e)| e.record.clone())
        .collect();
    if !alarms.is_empty() {
        crate::write::write_alarms(out, &alarms)?;
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
