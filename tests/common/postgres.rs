//! A throwaway PostgreSQL 15 + PostGIS cluster for tests, owned by the
//! `postgres` user and stopped on drop. It listens on a Unix socket in its
//! own folder (no TCP port that another process could take between two
//! starts); [`Postgis::require_tls`] adds TCP on 127.0.0.1 for TLS.

use super::{path_str, tool};
use std::path::{Path, PathBuf};
use std::process::Command;

const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

/// The port number: it only names the socket file in the cluster's folder.
const SOCKET_PORT: u16 = 5432;

/// A running cluster with a database `riskmap` holding PostGIS.
pub struct Postgis {
    data: PathBuf,
    /// The TCP port on 127.0.0.1, once [`Postgis::require_tls`] opened one.
    tcp: std::cell::Cell<Option<u16>>,
}

impl Postgis {
    /// Starts a cluster in `dir`, or says why it cannot (PostgreSQL 15,
    /// PostGIS or `ogr2ogr` missing, or not running as root). Tests report
    /// it through [`Postgis::start_or_skip`]; `scripts/test.sh` installs them.
    pub fn start(dir: &Path) -> Result<Postgis, String> {
        let control = Path::new("/usr/share/postgresql/15/extension/postgis.control");
        if !Path::new(PG_BIN).join("initdb").exists() || !control.exists() {
            return Err("PostgreSQL 15 with PostGIS is not installed".into());
        }
        let uid = Command::new("id").arg("-u").output();
        if !uid.is_ok_and(|o| o.stdout.trim_ascii() == b"0") {
            return Err("the cluster runs as user postgres: run the tests as root".into());
        }
        if Command::new("ogr2ogr").arg("--version").output().is_err() {
            return Err("ogr2ogr (gdal-bin) is not installed".into());
        }
        use std::os::unix::fs::PermissionsExt;
        // PostgreSQL refuses to run as root: the cluster belongs to `postgres`.
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let data = dir.join("pgdata");
        std::fs::create_dir_all(&data).unwrap();
        tool("chown", &["postgres", path_str(&data)]);
        let as_postgres = |cmd: String| tool("su", &["postgres", "-c", &cmd]);
        as_postgres(format!(
            "{PG_BIN}/initdb -D {} -A trust -U postgres",
            data.display()
        ));
        let pg = Postgis {
            data,
            tcp: std::cell::Cell::new(None),
        };
        pg.configure(&format!(
            "listen_addresses = ''\nport = {SOCKET_PORT}\nunix_socket_directories = '{}'\n",
            pg.data.display()
        ));
        pg.resume();
        pg.psql_db("postgres", "CREATE DATABASE riskmap");
        pg.psql("CREATE EXTENSION postgis");
        Ok(pg)
    }

    /// Appends settings to `postgresql.conf` (later lines win).
    fn configure(&self, lines: &str) {
        let conf = self.data.join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf).unwrap();
        text.push('\n');
        text.push_str(lines);
        std::fs::write(&conf, text).unwrap();
    }

    /// Starts the stopped cluster again, at the same address.
    pub fn resume(&self) {
        tool(
            "su",
            &[
                "postgres",
                "-c",
                &format!(
                    "{PG_BIN}/pg_ctl -D {d} -l {d}/server.log -w start",
                    d = self.data.display(),
                ),
            ],
        );
    }

    /// The host (`127.0.0.1` once TCP is on, else the socket's folder)
    /// and port to connect to.
    fn host_port(&self) -> (String, u16) {
        match self.tcp.get() {
            Some(port) => ("127.0.0.1".into(), port),
            None => (self.data.display().to_string(), SOCKET_PORT),
        }
    }

    /// The port: it also names the socket file.
    fn port(&self) -> u16 {
        self.tcp.get().unwrap_or(SOCKET_PORT)
    }

    /// Restarts the cluster with TLS on (`cert` and `key` in PEM) and
    /// accepting TCP connections on 127.0.0.1 only over TLS (`hostssl`).
    /// The TCP port is a free one at the time; if another process takes
    /// it before the cluster binds it, the start is tried on another.
    pub fn require_tls(&self, cert: &str, key: &str) {
        use std::os::unix::fs::PermissionsExt;
        self.stop();
        let file = |name: &str, text: &str, mode: u32| {
            let path = self.data.join(name);
            std::fs::write(&path, text).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            tool("chown", &["postgres", path_str(&path)]);
        };
        file("server.crt", cert, 0o644);
        file("server.key", key, 0o600);
        self.configure("ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n");
        file(
            "pg_hba.conf",
            "local all all trust\nhostssl all all 127.0.0.1/32 trust\n",
            0o600,
        );
        let mut tries = 0;
        loop {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            self.configure(&format!("listen_addresses = '127.0.0.1'\nport = {port}\n"));
            let started = Command::new("su")
                .args([
                    "postgres",
                    "-c",
                    &format!(
                        "{PG_BIN}/pg_ctl -D {d} -l {d}/server.log -w start",
                        d = self.data.display()
                    ),
                ])
                .output()
                .unwrap();
            if started.status.success() {
                self.tcp.set(Some(port));
                return;
            }
            tries += 1;
            assert!(
                tries < 5,
                "the cluster does not start with TLS: {}",
                String::from_utf8_lossy(&started.stderr)
            );
        }
    }

    /// Stops the cluster at once (a database outage).
    pub fn stop(&self) {
        let _ = Command::new("su")
            .args([
                "postgres",
                "-c",
                &format!(
                    "{PG_BIN}/pg_ctl -D {} -m immediate -w stop",
                    self.data.display()
                ),
            ])
            .output();
    }

    /// [`Postgis::start`], or `None` after reporting why through
    /// [`super::require::missing`] (which fails the test in CI).
    pub fn start_or_skip(dir: &Path) -> Option<Postgis> {
        Postgis::start(dir)
            .map_err(|why| super::require::missing(&why))
            .ok()
    }

    /// Runs `sql` in database `db` with `psql`; its unaligned output.
    pub fn psql_db(&self, db: &str, sql: &str) -> String {
        // psql always takes the socket: TCP may demand TLS.
        let socket = self.data.display().to_string();
        tool(
            &format!("{PG_BIN}/psql"),
            &[
                "-h",
                &socket,
                "-p",
                &self.port().to_string(),
                "-U",
                "postgres",
                "-d",
                db,
                "-v",
                "ON_ERROR_STOP=1",
                "-At",
                "-c",
                sql,
            ],
        )
    }

    /// Runs `sql` in the `riskmap` database.
    pub fn psql(&self, sql: &str) -> String {
        self.psql_db("riskmap", sql)
    }

    /// The URL riskmap reads (with a password, which trust authentication
    /// ignores and messages must not show).
    pub fn url(&self) -> String {
        let (host, port) = self.host_port();
        let host: String =
            percent_encoding::utf8_percent_encode(&host, percent_encoding::NON_ALPHANUMERIC)
                .to_string();
        format!("postgresql://postgres:hunter2@{host}:{port}/riskmap")
    }

    /// The GDAL connection string of the `riskmap` database (with a
    /// password messages must not show).
    pub fn gdal(&self) -> String {
        let (host, port) = self.host_port();
        format!("PG:host={host} port={port} user=postgres dbname=riskmap password=unused")
    }

    /// Copies a file layer into table `table` with `ogr2ogr` (extra
    /// arguments such as `-t_srs` appended).
    pub fn ogr2ogr(&self, file: &Path, table: &str, extra: &[&str]) {
        let conn = self.gdal();
        let mut args = vec!["-f", "PostgreSQL", &conn, path_str(file), "-nln", table];
        args.extend(extra);
        tool("ogr2ogr", &args);
    }
}

impl Drop for Postgis {
    fn drop(&mut self) {
        self.stop();
    }
}
