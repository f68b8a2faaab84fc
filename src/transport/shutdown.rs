//! Graceful shutdown: one signal that every listener and connection watches, and a count of the
//! connections still being served, so that the node can wait for them (within a bound) before
//! it closes the database.

use hyper::body::{Body, Incoming};
use hyper::server::conn::http1;
use hyper::service::HttpService;
use std::error::Error as StdError;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};

struct Inner {
    busy: AtomicUsize,
    idle: Notify,
}

/// What listeners and connections hold: whether shutdown was asked for, and a way to be counted
/// as busy.
#[derive(Clone)]
pub struct Shutdown {
    signal: watch::Receiver<bool>,
    inner: Arc<Inner>,
}

/// Held by the node: asks for the shutdown and waits for the busy connections.
pub struct Trigger {
    signal: watch::Sender<bool>,
    inner: Arc<Inner>,
}

/// One connection being served; dropping it may let a waiting shutdown go on.
pub struct Busy(Arc<Inner>);

/// A trigger and the signal it controls.
pub fn channel() -> (Trigger, Shutdown) {
    let (tx, rx) = watch::channel(false);
    let inner = Arc::new(Inner {
        busy: AtomicUsize::new(0),
        idle: Notify::new(),
    });
    (
        Trigger {
            signal: tx,
            inner: inner.clone(),
        },
        Shutdown { signal: rx, inner },
    )
}

impl Shutdown {
    /// Resolves once shutdown is asked for. A trigger dropped without asking means the node runs
    /// on (as when a caller of `node::start` keeps no handle), so this then never resolves.
    pub async fn requested(&mut self) {
        if self.signal.wait_for(|asked| *asked).await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    pub fn is_requested(&self) -> bool {
        *self.signal.borrow()
    }

    /// Counts the caller as busy until the guard is dropped. Take it before spawning the
    /// connection's task, so that a shutdown never misses a connection just accepted.
    pub fn busy(&self) -> Busy {
        self.inner.busy.fetch_add(1, Ordering::SeqCst);
        Busy(self.inner.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        if self.0.busy.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

impl Trigger {
    /// Asks every listener to stop accepting and every connection to close after its request.
    pub fn fire(&self) {
        self.signal.send_replace(true);
    }

    /// Connections still busy.
    pub fn busy(&self) -> usize {
        self.inner.busy.load(Ordering::SeqCst)
    }

    /// Waits until no connection is busy or `grace` has passed; returns how many are still busy.
    pub async fn drained(&self, grace: Duration) -> usize {
        let deadline = tokio::time::Instant::now() + grace;
        loop {
            // Registered before the count is read, so a drop in between is not missed.
            let idle = self.inner.idle.notified();
            tokio::pin!(idle);
            idle.as_mut().enable();
            let busy = self.busy();
            if busy == 0 {
                return 0;
            }
            if tokio::time::timeout_at(deadline, idle).await.is_err() {
                return self.busy();
            }
        }
    }
}

/// Serves one HTTP/1.1 connection until it ends. Once shutdown is asked for, the request in
/// flight (its body still arriving included) is finished and answered, then the connection
/// closes; an idle keep-alive connection closes at once.
pub async fn serve_http1<I, S, B>(
    conn: http1::Connection<I, S>,
    mut shutdown: Shutdown,
) -> hyper::Result<()>
where
    S: HttpService<Incoming, ResBody = B>,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    I: hyper::rt::Read + hyper::rt::Write + Unpin,
    B: Body + 'static,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    tokio::pin!(conn);
    tokio::select! {
        r = conn.as_mut() => r,
        _ = shutdown.requested() => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn drained_waits_for_busy_guards_and_gives_up_after_the_grace() {
        let (trigger, shutdown) = channel();
        assert!(!shutdown.is_requested());
        let a = shutdown.busy();
        let b = shutdown.busy();
        trigger.fire();
        assert!(shutdown.is_requested());
        let mut waiter = shutdown.clone();
        // Fired before the wait: resolves at once.
        tokio::time::timeout(Duration::from_secs(1), waiter.requested())
            .await
            .expect("requested resolves after fire");
        assert_eq!(trigger.drained(Duration::from_millis(50)).await, 2);
        drop(a);
        let release = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(30)).await;
            drop(b);
        });
        assert_eq!(trigger.drained(Duration::from_secs(5)).await, 0);
        release.await.expect("release task");
    }

    #[tokio::test]
    async fn a_dropped_trigger_never_asks_for_shutdown() {
        let (trigger, mut shutdown) = channel();
        drop(trigger);
        let waited = tokio::time::timeout(Duration::from_millis(50), shutdown.requested()).await;
        assert!(waited.is_err(), "the node runs on without a trigger");
    }
}
