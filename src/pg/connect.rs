//! Connections to the database: plain, or TLS when the URL says
//! `sslmode=require`.
//!
//! TLS uses rustls (no system library). The server's certificate is
//! verified, chain and host name, against the system's CA roots and the
//! PEM certificates of `[source] tls_ca` (a city's own CA); there is no
//! mode that encrypts without verifying. Without `sslmode`, or with
//! `sslmode=prefer`/`disable`, the connection is plain.

use super::{PgError, message, redact};
use futures_util::StreamExt;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;
use tokio_postgres::config::SslMode;
use tokio_postgres::{AsyncMessage, Client, Connection, NoTls};
use tokio_postgres_rustls::MakeRustlsConnect;

/// Connects to `url` (TLS per its `sslmode`, trusting `ca` besides the
/// system's roots); the connection runs on a spawned task that logs its
/// failure.
pub(crate) async fn connect(url: &str, ca: Option<&Path>) -> Result<Client, PgError> {
    connect_with(url, ca, None).await.map(|(client, _)| client)
}

/// [`connect`], also sending `()` to `notify` for each `NOTIFY` the
/// connection receives; the task's result says how the connection ended.
pub(crate) async fn connect_with(
    url: &str,
    ca: Option<&Path>,
    notify: Option<UnboundedSender<()>>,
) -> Result<(Client, JoinHandle<Result<(), String>>), PgError> {
    let fail = |message: String| PgError::Connect {
        database: redact(url),
        message,
    };
    let config = settings(url).map_err(|e| fail(message(&e)))?;
    let connect_error = |e: tokio_postgres::Error| fail(message(&e));
    match tls(&config, ca).map_err(fail)? {
        Some(tls) => {
            let (client, connection) = config.connect(tls).await.map_err(connect_error)?;
            Ok((client, drive(connection, notify)))
        }
        None => {
            let (client, connection) = config.connect(NoTls).await.map_err(connect_error)?;
            Ok((client, drive(connection, notify)))
        }
    }
}

/// How long a connection attempt may take unless the URL says
/// (`connect_timeout=`).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Idle time before TCP keepalive probes unless the URL says
/// (`keepalives_idle=`): a `LISTEN` connection whose peer vanished is
/// noticed within about a minute, not the system's two hours.
const KEEPALIVES_IDLE: Duration = Duration::from_secs(30);

/// The driver's settings for `url`: libpq's `sslmode=verify-full` and
/// `verify-ca` are accepted as `require` (which always verifies chain and
/// host name here), and timeouts get defaults.
fn settings(url: &str) -> Result<tokio_postgres::Config, tokio_postgres::Error> {
    let url = url
        .replace("sslmode=verify-full", "sslmode=require")
        .replace("sslmode=verify-ca", "sslmode=require");
    let mut config: tokio_postgres::Config = url.parse()?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    if config.get_keepalives_idle() == Duration::from_secs(2 * 60 * 60) {
        config.keepalives_idle(KEEPALIVES_IDLE);
        config.keepalives_interval(Duration::from_secs(10));
        config.keepalives_retries(3);
    }
    Ok(config)
}

/// Runs `connection` on a task, forwarding notifications to `notify`.
fn drive<S, T>(
    mut connection: Connection<S, T>,
    notify: Option<UnboundedSender<()>>,
) -> JoinHandle<Result<(), String>>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(m) = messages.next().await {
            match m {
                Ok(AsyncMessage::Notification(_)) => {
                    if notify.as_ref().is_some_and(|n| n.send(()).is_err()) {
                        break;
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    let e = message(&e);
                    tracing::warn!("database connection: {e}");
                    return Err(e);
                }
            }
        }
        Ok(())
    })
}

/// The TLS connector `config` asks for (`None`: plain); an error says why
/// it cannot be built.
fn tls(
    config: &tokio_postgres::Config,
    ca: Option<&Path>,
) -> Result<Option<MakeRustlsConnect>, String> {
    if config.get_ssl_mode() != SslMode::Require {
        return Ok(None);
    }
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    if let Some(ca) = ca {
        let bad = |e: &dyn std::fmt::Display| {
            format!(
                "[source] tls_ca {}: not a PEM certificate file: {e}",
                ca.display()
            )
        };
        let mut added = 0;
        for cert in CertificateDer::pem_file_iter(ca).map_err(|e| bad(&e))? {
            roots.add(cert.map_err(|e| bad(&e))?).map_err(|e| bad(&e))?;
            added += 1;
        }
        if added == 0 {
            return Err(bad(&"no certificate in it"));
        }
    }
    if roots.is_empty() {
        return Err(
            "sslmode=require, but there is no CA certificate to verify the server with: \
             set [source] tls_ca or install the system's CA certificates"
                .into(),
        );
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Some(MakeRustlsConnect::new(config)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_unless_required() {
        for url in [
            "postgresql://u@127.0.0.1/db",
            "postgresql://u@127.0.0.1/db?sslmode=prefer",
            "postgresql://u@127.0.0.1/db?sslmode=disable",
        ] {
            let config = settings(url).unwrap();
            assert!(matches!(tls(&config, None), Ok(None)), "{url}");
        }
        for url in [
            "postgresql://u@h/db?sslmode=require",
            "postgresql://u@h/db?sslmode=verify-full",
            "postgresql://u@h/db?sslmode=verify-ca",
        ] {
            assert_eq!(settings(url).unwrap().get_ssl_mode(), SslMode::Require);
        }
    }

    #[test]
    fn timeouts_have_defaults_the_url_can_override() {
        let c = settings("postgresql://u@h/db").unwrap();
        assert_eq!(c.get_connect_timeout(), Some(&CONNECT_TIMEOUT));
        assert_eq!(c.get_keepalives_idle(), KEEPALIVES_IDLE);
        let c = settings("postgresql://u@h/db?connect_timeout=3&keepalives_idle=90").unwrap();
        assert_eq!(c.get_connect_timeout(), Some(&Duration::from_secs(3)));
        assert_eq!(c.get_keepalives_idle(), Duration::from_secs(90));
    }

    #[test]
    fn a_bad_ca_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, "not a certificate").unwrap();
        let config = settings("postgresql://u@127.0.0.1/db?sslmode=require").unwrap();
        let err = tls(&config, Some(&ca)).err().unwrap_or_default();
        assert!(err.contains("ca.pem") && err.contains("tls_ca"), "{err}");
        let missing = dir.path().join("missing.pem");
        let err = tls(&config, Some(&missing)).err().unwrap_or_default();
        assert!(err.contains("missing.pem"), "{err}");
    }
}
