//! [`WriteTimeout`]: a TCP stream whose writes fail once the peer has
//! accepted nothing for a while. A client that requests a large response
//! and never reads it would otherwise hold the connection, the response's
//! producer and its buffers forever. When the timeout fires the socket is
//! set to close with a reset (no lingering unsent data), and hyper drops
//! the connection and its response body.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};

/// A [`TcpStream`] with a write-stall timeout.
pub struct WriteTimeout {
    stream: TcpStream,
    timeout: Duration,
    /// Fires `timeout` after the first write that could not proceed.
    timer: Pin<Box<Sleep>>,
    /// Whether `timer` runs (a write is waiting for the peer).
    armed: bool,
    /// Called once when the timeout fires.
    on_timeout: Option<Box<dyn FnOnce() + Send + Sync>>,
}

impl WriteTimeout {
    /// Wraps `stream`; `on_timeout` runs when a write stalls for `timeout`.
    pub fn new(
        stream: TcpStream,
        timeout: Duration,
        on_timeout: impl FnOnce() + Send + Sync + 'static,
    ) -> Self {
        WriteTimeout {
            stream,
            timeout,
            timer: Box::pin(tokio::time::sleep(timeout)),
            armed: false,
            on_timeout: Some(Box::new(on_timeout)),
        }
    }

    /// Passes a finished write through (progress: the timer stops); on a
    /// pending one, starts the timer or fails once it has fired.
    fn watch<T>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        if polled.is_ready() {
            self.armed = false;
            return polled;
        }
        if !self.armed {
            let deadline = Instant::now() + self.timeout;
            self.timer.as_mut().reset(deadline);
            self.armed = true;
        }
        if self.timer.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        // Drop what the peer did not take: close with a reset.
        let _ = self.stream.set_zero_linger();
        if let Some(f) = self.on_timeout.take() {
            f();
        }
        Poll::Ready(Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!(
                "the client read nothing for {} s",
                self.timeout.as_secs_f64()
            ),
        )))
    }
}

impl AsyncRead for WriteTimeout {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for WriteTimeout {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.stream).poll_write(cx, buf);
        this.watch(cx, polled)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        this.watch(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.stream).poll_flush(cx);
        this.watch(cx, polled)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.stream).poll_shutdown(cx);
        this.watch(cx, polled)
    }
}
