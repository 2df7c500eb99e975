//! Where a dataset comes from — a directory of files or a PostgreSQL
//! database — parsed once, from the command line or the config, into a
//! [`DataSource`]; and where `riskmap score` writes, a [`Target`].
//!
//! A database URL may carry a password (`postgresql://user:PASSWORD@host/db`
//! or `?password=…`). [`PgUrl`] keeps it, hands it to the driver only
//! through [`PgUrl::expose`], and prints itself (`Display` and `Debug`)
//! with the password replaced by `***`, so no message, log line or error
//! can show it.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::{Path, PathBuf};

/// A PostgreSQL connection URL (`postgresql://…` or `postgres://…`).
#[derive(Clone, PartialEq, Eq)]
pub struct PgUrl(String);

impl PgUrl {
    /// `text` as a PostgreSQL URL, if it is one.
    pub fn parse(text: &str) -> Option<PgUrl> {
        (text.starts_with("postgresql://") || text.starts_with("postgres://"))
            .then(|| PgUrl(text.to_string()))
    }

    /// The URL with its password, for the database driver only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL without its password (as `Display` prints it).
    pub fn redacted(&self) -> String {
        redact(&self.0)
    }
}

impl fmt::Display for PgUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for PgUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PgUrl({:?})", self.redacted())
    }
}

/// A URL fit for messages: its password (in the user part or a
/// `password=` parameter) becomes `***`.
pub fn redact(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((user, host)) => match user.split_once(':') {
            Some((name, _)) => format!("{name}:***@{host}"),
            None => format!("{user}@{host}"),
        },
        None => authority.to_string(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|kv| match kv.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                    _ => kv.to_string(),
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => tail.to_string(),
    };
    format!("{scheme}://{authority}{tail}")
}

/// Where the input layers are read from (`--data`, `data = …`).
#[derive(Clone, PartialEq, Eq)]
pub enum DataSource {
    /// A directory of layer files.
    Dir(PathBuf),
    /// A PostGIS database.
    Postgres(PgUrl),
}

impl DataSource {
    /// Parses `--data`/`data`: a `postgresql://` or `postgres://` URL is a
    /// database, anything else a directory.
    pub fn parse(text: &OsStr) -> DataSource {
        match text.to_str().and_then(PgUrl::parse) {
            Some(url) => DataSource::Postgres(url),
            None => DataSource::Dir(PathBuf::from(text)),
        }
    }

    /// The directory, for a directory source.
    pub fn dir(&self) -> Option<&Path> {
        match self {
            DataSource::Dir(d) => Some(d),
            DataSource::Postgres(_) => None,
        }
    }

    /// The database URL, for a database source.
    pub fn postgres(&self) -> Option<&PgUrl> {
        match self {
            DataSource::Dir(_) => None,
            DataSource::Postgres(url) => Some(url),
        }
    }
}

impl Default for DataSource {
    /// The demo city's folder, `data/quanzhou`.
    fn default() -> Self {
        DataSource::Dir(PathBuf::from("data/quanzhou"))
    }
}

impl fmt::Display for DataSource {
    /// The directory, or the URL without its password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataSource::Dir(d) => write!(f, "{}", d.display()),
            DataSource::Postgres(url) => write!(f, "{url}"),
        }
    }
}

impl fmt::Debug for DataSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataSource::Dir(d) => f.debug_tuple("Dir").field(d).finish(),
            DataSource::Postgres(url) => f.debug_tuple("Postgres").field(url).finish(),
        }
    }
}

impl From<OsString> for DataSource {
    /// The command line's `--data` (see [`DataSource::parse`]).
    fn from(text: OsString) -> Self {
        DataSource::parse(&text)
    }
}

impl From<&Path> for DataSource {
    fn from(path: &Path) -> Self {
        DataSource::parse(path.as_os_str())
    }
}

impl From<PathBuf> for DataSource {
    fn from(path: PathBuf) -> Self {
        DataSource::from(path.as_path())
    }
}

impl From<&PathBuf> for DataSource {
    fn from(path: &PathBuf) -> Self {
        DataSource::from(path.as_path())
    }
}

impl From<&DataSource> for DataSource {
    fn from(source: &DataSource) -> Self {
        source.clone()
    }
}

impl Serialize for DataSource {
    /// As text, the URL without its password: a serialized config is for
    /// showing, never for reading back a secret.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for DataSource {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Ok(DataSource::parse(OsStr::new(&text)))
    }
}

/// Where `riskmap score` writes (`--out`): a file, or a table of a
/// PostGIS database.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Target {
    /// A file; the extension picks the format.
    File(PathBuf),
    /// A PostGIS database.
    Postgres(PgUrl),
}

impl From<OsString> for Target {
    fn from(text: OsString) -> Self {
        match text.to_str().and_then(PgUrl::parse) {
            Some(url) => Target::Postgres(url),
            None => Target::File(PathBuf::from(text)),
        }
    }
}

impl fmt::Display for Target {
    /// The file, or the URL without its password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::File(p) => write!(f, "{}", p.display()),
            Target::Postgres(url) => write!(f, "{url}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_parsed_once_and_never_print_their_password() {
        let s = DataSource::from(OsString::from(
            "postgresql://u:SECRET@db:5432/x?sslmode=require",
        ));
        let url = s.postgres().map(PgUrl::expose);
        assert_eq!(url, Some("postgresql://u:SECRET@db:5432/x?sslmode=require"));
        for shown in [
            s.to_string(),
            format!("{s:?}"),
            serde_json::to_string(&s).unwrap_or_default(),
        ] {
            assert!(!shown.contains("SECRET"), "{shown}");
            assert!(shown.contains("u:***@db:5432/x"), "{shown}");
        }
        let q = DataSource::from(OsString::from("postgres://db/x?user=u&password=SECRET"));
        assert_eq!(q.to_string(), "postgres://db/x?user=u&password=***");
        let d = DataSource::from(OsString::from("data/quanzhou"));
        assert_eq!(d.dir(), Some(Path::new("data/quanzhou")));
        assert_eq!(d, DataSource::default());
        let t = Target::from(OsString::from("postgresql://u:SECRET@db/x"));
        assert!(matches!(t, Target::Postgres(_)) && !t.to_string().contains("SECRET"));
    }
}
