//! Problems found while loading: every one names its file, feature and field.

use serde::Serialize;
use std::fmt;

/// How serious a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueLevel {
    /// The feature (or file) cannot be used.
    Error,
    /// Worth fixing, but the feature is kept.
    Warning,
}

/// One problem in a dataset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    /// Error or warning.
    pub level: IssueLevel,
    /// The file, as named in the data directory (e.g. `enterprises.csv`).
    pub file: String,
    /// The feature: its 1-based position in the file, with its id when
    /// known (`#12 E0000012`); `None` for the whole file.
    pub feature: Option<String>,
    /// The field concerned, if any.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl Issue {
    /// An error about a whole file.
    pub fn file_error(file: &str, message: impl Into<String>) -> Issue {
        Issue {
            level: IssueLevel::Error,
            file: file.to_string(),
            feature: None,
            field: None,
            message: message.into(),
        }
    }

    /// Whether this is an error (not a warning).
    pub fn is_error(&self) -> bool {
        self.level == IssueLevel::Error
    }
}

impl fmt::Display for Issue {
    /// `file:feature: field: message`, the form `riskmap validate` prints.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: ",
            self.file,
            self.feature.as_deref().unwrap_or("-")
        )?;
        if self.level == IssueLevel::Warning {
            f.write_str("warning: ")?;
        }
        if let Some(field) = &self.field {
            write!(f, "field `{field}`: ")?;
        }
        f.write_str(&self.message)
    }
}

/// Collects the problems of one file, labelling each with the feature.
#[derive(Debug)]
pub struct IssueSink<'a> {
    file: &'a str,
    issues: &'a mut Vec<Issue>,
}

impl<'a> IssueSink<'a> {
    /// A sink for problems of `file`, appended to `issues`.
    pub fn new(file: &'a str, issues: &'a mut Vec<Issue>) -> Self {
        IssueSink { file, issues }
    }

    /// The file's name.
    pub fn file(&self) -> &str {
        self.file
    }

    /// Records a problem.
    pub fn push(
        &mut self,
        level: IssueLevel,
        feature: Option<String>,
        field: Option<&str>,
        message: impl Into<String>,
    ) {
        self.issues.push(Issue {
            level,
            file: self.file.to_string(),
            feature,
            field: field.map(str::to_string),
            message: message.into(),
        });
    }
}

/// A feature label: 1-based position and the id when known.
pub fn feature_label(index: usize, id: Option<&str>) -> String {
    match id {
        Some(id) if !id.is_empty() => format!("#{} {}", index + 1, id),
        _ => format!("#{}", index + 1),
    }
}
