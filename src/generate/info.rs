//! `dataset.toml`: what a generated dataset was made from (preset, seed
//! and the as-of date its hidden-danger dates hang on), written beside the
//! layer files so that `serve` can use the same as-of date.

use crate::model::Date;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The file name of the dataset description in a dataset folder.
pub const FILE_NAME: &str = "dataset.toml";

/// The description of a generated dataset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetInfo {
    /// The preset (`quanzhou`, `province`).
    pub preset: String,
    /// The RNG seed.
    pub seed: u64,
    /// The as-of date (`YYYY-MM-DD`): the hidden dangers were found in the
    /// 12 months before it, and "overdue" is judged on it.
    pub as_of: Date,
}

/// A `dataset.toml` that cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum InfoError {
    /// A file system error.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a valid description.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

impl DatasetInfo {
    /// The text of the file.
    pub fn to_toml(&self) -> String {
        format!(
            "# Written by `riskmap generate`: what this dataset was generated from.\n\
             preset = \"{}\"\nseed = {}\nas_of = \"{}\"\n",
            self.preset, self.seed, self.as_of
        )
    }

    /// Writes `dir/dataset.toml`.
    pub fn write(&self, dir: &Path) -> Result<PathBuf, InfoError> {
        let path = dir.join(FILE_NAME);
        std::fs::write(&path, self.to_toml()).map_err(|source| InfoError::Io {
            path: path.clone(),
            source,
        })?;
        Ok(path)
    }

    /// Reads `dir/dataset.toml`; `Ok(None)` when the folder has none.
    pub fn read(dir: &Path) -> Result<Option<DatasetInfo>, InfoError> {
        let path = dir.join(FILE_NAME);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(InfoError::Io { path, source }),
        };
        toml::from_str(&text)
            .map(Some)
            .map_err(|e| InfoError::Parse {
                path,
                message: e.to_string(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(DatasetInfo::read(dir.path()).unwrap(), None);
        let info = DatasetInfo {
            preset: "quanzhou".into(),
            seed: 42,
            as_of: "2026-12-06".parse().unwrap(),
        };
        info.write(dir.path()).unwrap();
        assert_eq!(DatasetInfo::read(dir.path()).unwrap(), Some(info));
        std::fs::write(dir.path().join(FILE_NAME), "as_of = \"2026-13-01\"\n").unwrap();
        let err = DatasetInfo::read(dir.path()).unwrap_err().to_string();
        assert!(err.contains("dataset.toml"), "{err}");
    }
}
