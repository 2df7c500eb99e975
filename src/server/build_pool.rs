//! The threads that build tiles and OGC feature pages: a fixed number of
//! them, taking builds in the order they arrive, at a lower CPU priority
//! than the rest of the server.
//!
//! Two reasons. A tile build (or a chunk of a feature page) is pure CPU:
//! fifty builds at once on two cores each run at a fiftieth of a core, so
//! a heavy tile takes fifty
//! times its own cost and the slowest answers grow with the number of
//! connections; built one per core in arrival order, a build waits for the
//! builds ahead of it and then runs at full speed. And reads must never
//! starve writes: a hidden-danger write or an alarm batch (on the runtime's
//! workers and the journal's writer thread) takes the CPU before a tile
//! build does, so the acknowledged latency of a write does not grow with
//! the tile load beside it.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// A build pool's failures.
#[derive(Debug, thiserror::Error)]
pub enum BuildPoolError {
    /// A thread could not be started.
    #[error("cannot start a build thread: {0}")]
    Spawn(#[source] std::io::Error),
    /// The pool's threads are gone (the pool was shut down).
    #[error("the build threads are gone")]
    Gone,
    /// The build panicked (its thread goes on with the next build).
    #[error("the build panicked")]
    Panicked,
}

type Job = Box<dyn FnOnce() + Send + 'static>;

/// The pool. Dropping it lets its threads finish the queued builds and end.
pub struct BuildPool {
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    threads: usize,
}

impl std::fmt::Debug for BuildPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuildPool")
            .field("threads", &self.threads)
            .finish_non_exhaustive()
    }
}

impl BuildPool {
    /// Starts `threads` threads (0: one per core) named `name-N`, each with
    /// its nice value raised by `nice` above the calling thread's (0
    /// leaves it).
    pub fn new(name: &str, threads: usize, nice: i32) -> Result<BuildPool, BuildPoolError> {
        let threads = if threads == 0 {
            std::thread::available_parallelism().map_or(2, usize::from)
        } else {
            threads
        };
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads {
            let rx = Arc::clone(&rx);
            std::thread::Builder::new()
                .name(format!("{name}-{i}"))
                .spawn(move || {
                    lower_priority(nice);
                    loop {
                        // The lock is held only to take one job.
                        let job = match rx.lock() {
                            Ok(r) => r.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                })
                .map_err(BuildPoolError::Spawn)?;
        }
        Ok(BuildPool {
            jobs: Mutex::new(Some(tx)),
            threads,
        })
    }

    /// The number of threads.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Runs `f` on the pool after the builds queued before it and returns
    /// its result. A panic in `f` is caught and answered as
    /// [`BuildPoolError::Panicked`] (the thread survives it). A build whose
    /// caller has gone before it started (the request timed out, the
    /// client closed the connection) is skipped, so that a backlog of
    /// abandoned requests does not hold up the waiting ones; a build
    /// already running finishes and fills the cache.
    pub async fn run<T, F>(&self, f: F) -> Result<T, BuildPoolError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<Result<T, BuildPoolError>>();
        let job: Job = Box::new(move || {
            if tx.is_closed() {
                return;
            }
            let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
                .map_err(|_| BuildPoolError::Panicked);
            let _ = tx.send(out);
        });
        {
            let jobs = self.jobs.lock().map_err(|_| BuildPoolError::Gone)?;
            let sender = jobs.as_ref().ok_or(BuildPoolError::Gone)?;
            sender.send(job).map_err(|_| BuildPoolError::Gone)?;
        }
        rx.await.map_err(|_| BuildPoolError::Gone)?
    }
}

impl Drop for BuildPool {
    fn drop(&mut self) {
        if let Ok(mut jobs) = self.jobs.lock() {
            jobs.take();
        }
    }
}

/// Raises the calling thread's nice value by `nice` (Linux keeps one per
/// thread); nothing elsewhere or when `nice` is 0. Raising it needs no
/// privilege; a failure only leaves the priority as it was.
#[cfg(target_os = "linux")]
fn lower_priority(nice: i32) {
    if nice <= 0 {
        return;
    }
    // SAFETY: getpriority and setpriority take plain integers and touch no
    // memory of ours; `who = 0` names the calling thread on Linux.
    let rc = unsafe {
        let now = libc::getpriority(libc::PRIO_PROCESS, 0);
        libc::setpriority(libc::PRIO_PROCESS, 0, (now + nice).min(19))
    };
    if rc != 0 {
        tracing::warn!(
            "a build thread keeps its priority: {}",
            std::io::Error::last_os_error()
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority(_nice: i32) {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_build_whose_caller_left_before_it_started_is_skipped() {
        let pool = Arc::new(BuildPool::new("test-skip", 1, 0).expect("pool"));
        let ran = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        // Hold the only thread until the second build is queued and its
        // caller gone.
        let (hold_tx, hold_rx) = std::sync::mpsc::channel::<()>();
        let first = {
            let pool = Arc::clone(&pool);
            tokio::spawn(async move {
                pool.run(move || {
                    let _ = hold_rx.recv_timeout(Duration::from_secs(5));
                })
                .await
            })
        };
        let second = {
            let (pool, ran) = (Arc::clone(&pool), Arc::clone(&ran));
            tokio::spawn(async move {
                pool.run(move || ran.fetch_add(1, std::sync::atomic::Ordering::SeqCst))
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        second.abort();
        let _ = second.await;
        hold_tx.send(()).expect("release");
        first.await.expect("task").expect("first build");
        // A third build runs after the skipped one.
        assert_eq!(pool.run(|| 3).await.expect("third"), 3);
        assert_eq!(ran.load(std::sync::atomic::Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn builds_run_in_arrival_order_on_the_pool_threads() {
        let pool = Arc::new(BuildPool::new("test-build", 1, 5).expect("pool"));
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut waits = Vec::new();
        for i in 0..8 {
            let (pool, order) = (Arc::clone(&pool), Arc::clone(&order));
            waits.push(tokio::spawn(async move {
                pool.run(move || {
                    std::thread::sleep(Duration::from_millis(2));
                    order.lock().expect("lock").push(i);
                    std::thread::current().name().map(str::to_string)
                })
                .await
            }));
            // Queue them one after the other.
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        for w in waits {
            let name = w.await.expect("task").expect("run");
            assert_eq!(name.as_deref(), Some("test-build-0"));
        }
        assert_eq!(*order.lock().expect("lock"), (0..8).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn a_panicking_build_is_an_error_and_the_thread_goes_on() {
        let pool = BuildPool::new("test-panic", 1, 0).expect("pool");
        let r: Result<(), _> = pool.run(|| panic!("boom")).await;
        assert!(matches!(r, Err(BuildPoolError::Panicked)));
        assert_eq!(pool.run(|| 7).await.expect("still running"), 7);
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn pool_threads_run_at_a_lower_priority() {
        // SAFETY: as in `lower_priority`.
        let here = unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
        let pool = BuildPool::new("test-nice", 1, 5).expect("pool");
        let there = pool
            .run(|| unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) })
            .await
            .expect("run");
        assert_eq!(there, (here + 5).min(19));
    }
}
