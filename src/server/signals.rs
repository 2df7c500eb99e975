//! [`Signals`]: SIGTERM and SIGINT (drain, then exit) and SIGHUP (reload),
//! caught from the moment [`Signals::install`] returns. `serve` installs
//! them before it loads the data or listens, so a signal that arrives
//! early is never the default action (which kills the process at once).

use std::future::Future;
use tokio::sync::watch;

/// The process's signal handlers.
pub struct Signals {
    stop: watch::Receiver<bool>,
    hangups: Hangups,
}

/// SIGHUPs, for [`super::reload_on_sighup`].
pub struct Hangups {
    #[cfg(unix)]
    signal: Option<tokio::signal::unix::Signal>,
}

impl Hangups {
    /// The next SIGHUP; `None` when there will be none.
    pub async fn recv(&mut self) -> Option<()> {
        #[cfg(unix)]
        if let Some(s) = self.signal.as_mut() {
            return s.recv().await;
        }
        None
    }
}

impl Signals {
    /// Installs the handlers now. Must run inside a Tokio runtime.
    pub fn install() -> std::io::Result<Signals> {
        let (tx, stop) = watch::channel(false);
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let mut term = signal(SignalKind::terminate())?;
            let mut int = signal(SignalKind::interrupt())?;
            let hup = signal(SignalKind::hangup())?;
            tokio::spawn(async move {
                let name = tokio::select! {
                    _ = term.recv() => "SIGTERM",
                    _ = int.recv() => "SIGINT",
                };
                tracing::info!("{name}: shutting down, draining in-flight requests");
                let _ = tx.send(true);
            });
            Ok(Signals {
                stop,
                hangups: Hangups { signal: Some(hup) },
            })
        }
        #[cfg(not(unix))]
        {
            tokio::spawn(async move {
                if tokio::signal::ctrl_c().await.is_ok() {
                    tracing::info!("Ctrl-C: shutting down, draining in-flight requests");
                    let _ = tx.send(true);
                }
            });
            Ok(Signals {
                stop,
                hangups: Hangups {},
            })
        }
    }

    /// Completes once SIGTERM or SIGINT has arrived (at once if one
    /// already has). May be called any number of times.
    pub fn shutdown(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut stop = self.stop.clone();
        async move {
            if stop.wait_for(|stopped| *stopped).await.is_err() {
                // The handler task is gone: no signal will come.
                std::future::pending::<()>().await;
            }
        }
    }

    /// The SIGHUP stream (once; later calls get one that never yields).
    pub fn take_hangups(&mut self) -> Hangups {
        std::mem::replace(
            &mut self.hangups,
            Hangups {
                #[cfg(unix)]
                signal: None,
            },
        )
    }
}
