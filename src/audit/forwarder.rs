//! Forwards the audit trail to an audit record repository over syslog TLS (RFC 5425) with
//! mutual TLS: the node's own certificate is the client identity. Records go out in order from a
//! cursor kept in the database, so while the collector is down they wait in the database, and
//! the cursor moves only after a batch was written: nothing is lost, and in normal operation
//! nothing is sent twice. (A connection that breaks mid-batch gets the batch again.)

use super::store::{mark_forwarded, queued, Queued, FORWARD_BATCH};
use super::syslog::{frame, Sender};
use super::AuditError;
use crate::config::Config;
use crate::store::{Store, StoreError};
use crate::transport::shutdown::Shutdown;
use rustls::pki_types::ServerName;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

/// How often the queue is looked at when it is empty.
const POLL: Duration = Duration::from_millis(500);
const FIRST_RETRY: Duration = Duration::from_secs(1);
const MAX_RETRY: Duration = Duration::from_secs(60);
/// Connecting and writing one batch may take this long before the collector counts as down.
const IO_TIMEOUT: Duration = Duration::from_secs(30);
/// While the collector stays down, a reminder is logged this often.
const REMIND: Duration = Duration::from_secs(300);

/// Where records go and how the node proves who it is.
pub struct Target {
    pub addr: String,
    server_name: ServerName<'static>,
    tls: Arc<rustls::ClientConfig>,
    sender: Sender,
}

impl Target {
    /// The collector of `[audit] syslog_url`, or None when forwarding is off.
    pub fn from_config(cfg: &Config) -> Result<Option<Target>, AuditError> {
        let Some(url) = &cfg.audit.syslog_url else {
            return Ok(None);
        };
        let (host, port) =
            crate::config::tls_target(url).ok_or_else(|| AuditError::Url(url.clone()))?;
        let server_name =
            ServerName::try_from(host.clone()).map_err(|_| AuditError::Url(url.clone()))?;
        let ca = cfg.audit.syslog_ca.clone().unwrap_or_else(|| cfg.ca_path());
        let (cert, key) = (cfg.cert_path(), cfg.key_path());
        let mut tls = (*crate::transport::tls::client_config(&ca, Some((&cert, &key)))?).clone();
        // Syslog has no ALPN name; offering http/1.1 could make a strict collector refuse.
        tls.alpn_protocols.clear();
        let public = cfg.public_url();
        let hostname = public
            .parse::<http::Uri>()
            .ok()
            .and_then(|u| u.host().map(str::to_string))
            .unwrap_or_default();
        let addr = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        Ok(Some(Target {
            addr,
            server_name,
            tls: Arc::new(tls),
            sender: Sender::new(&hostname),
        }))
    }
}

/// The forwarding task `node::start` spawns; returns at once when `[audit] syslog_url` is unset,
/// and on shutdown once the batch being sent (if any) is written and its cursor moved.
pub async fn run(store: Store, cfg: Config, shutdown: Shutdown) {
    match Target::from_config(&cfg) {
        Ok(Some(target)) => forward(store, target, shutdown).await,
        Ok(None) => {}
        Err(e) => tracing::error!(error = %e, "audit records will not be forwarded"),
    }
}

/// Forwards until shutdown: read a batch after the cursor, write it, move the cursor.
pub async fn forward(store: Store, target: Target, shutdown: Shutdown) {
    let mut link = Link {
        target,
        conn: None,
        retry: FIRST_RETRY,
        down: None,
    };
    // Waits between rounds end early on shutdown; a batch under way is finished first, so that
    // nothing is sent twice after a restart.
    let pause = |d: Duration| {
        let mut shutdown = shutdown.clone();
        async move {
            tokio::select! {
                _ = tokio::time::sleep(d) => true,
                _ = shutdown.requested() => false,
            }
        }
    };
    loop {
        if shutdown.is_requested() {
            return;
        }
        let batch = store
            .read(|c| queued(c, FORWARD_BATCH).map_err(StoreError::from))
            .await;
        let (cursor, records) = match batch {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(error = %e, "audit forwarder cannot read the queue");
                if !pause(MAX_RETRY).await {
                    return;
                }
                continue;
            }
        };
        let Some(last) = records.last().map(|r| r.seq) else {
            if !pause(POLL).await {
                return;
            }
            continue;
        };
        if let Err(e) = link.send(&records).await {
            link.failed(&e);
            if !pause(link.retry).await {
                return;
            }
            link.retry = (link.retry * 2).min(MAX_RETRY);
            continue;
        }
        link.succeeded();
        let moved = store
            .write(move |c| mark_forwarded(c, cursor, last).map_err(StoreError::from))
            .await;
        match moved {
            Ok(true) => {}
            Ok(false) => tracing::warn!(
                "the audit forwarding cursor was moved by another node: forward from one node only"
            ),
            Err(e) => tracing::warn!(error = %e, "audit forwarder cannot move its cursor"),
        }
    }
}

/// The connection to the collector and what is known about its health.
struct Link {
    target: Target,
    conn: Option<TlsStream<TcpStream>>,
    retry: Duration,
    /// Since when, and when it was last said.
    down: Option<(Instant, Instant)>,
}

impl Link {
    async fn send(&mut self, records: &[Queued]) -> Result<(), AuditError> {
        let open = match self.conn.as_mut() {
            Some(c) => still_open(c).await,
            None => false,
        };
        let mut conn = match self.conn.take() {
            Some(c) if open => c,
            _ => self.connect().await?,
        };
        let mut bytes = Vec::new();
        for r in records {
            bytes.extend_from_slice(&frame(&self.target.sender, r));
        }
        let write = async {
            conn.write_all(&bytes).await?;
            conn.flush().await
        };
        timeout(write).await.map_err(|e| self.io(e))?;
        self.conn = Some(conn);
        Ok(())
    }

    async fn connect(&self) -> Result<TlsStream<TcpStream>, AuditError> {
        let t = &self.target;
        let tcp = timeout(TcpStream::connect(&t.addr))
            .await
            .map_err(|e| self.io(e))?;
        let tls = TlsConnector::from(t.tls.clone());
        timeout(tls.connect(t.server_name.clone(), tcp))
            .await
            .map_err(|e| self.io(e))
    }

    fn io(&self, source: std::io::Error) -> AuditError {
        AuditError::Collector {
            addr: self.target.addr.clone(),
            source,
        }
    }

    /// Logs (without record contents) that the collector is unreachable: at once, then now and
    /// then while it stays so.
    fn failed(&mut self, e: &AuditError) {
        self.conn = None;
        let now = Instant::now();
        match &mut self.down {
            None => {
                tracing::warn!(error = %e, "audit collector unreachable; records stay queued in the database");
                self.down = Some((now, now));
            }
            Some((since, said)) if now.duration_since(*said) >= REMIND => {
                tracing::warn!(error = %e, down_secs = since.elapsed().as_secs(), "audit collector still unreachable");
                *said = now;
            }
            Some(_) => {}
        }
    }

    fn succeeded(&mut self) {
        if let Some((since, _)) = self.down.take() {
            tracing::info!(
                down_secs = since.elapsed().as_secs(),
                "audit collector reachable again; queued records sent"
            );
        }
        self.retry = FIRST_RETRY;
    }
}

async fn timeout<T>(
    f: impl std::future::Future<Output = std::io::Result<T>>,
) -> std::io::Result<T> {
    tokio::time::timeout(IO_TIMEOUT, f)
        .await
        .unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into()))
}

/// A collector never talks back, so anything readable on the connection means it was closed
/// (or reset); writing into it would lose records unnoticed.
async fn still_open(conn: &mut TlsStream<TcpStream>) -> bool {
    let mut buf = [0u8; 512];
    // A zero timeout polls the read once: pending means nothing arrived, the connection stands.
    match tokio::time::timeout(Duration::ZERO, conn.read(&mut buf)).await {
        Err(_) => true,
        Ok(Ok(0)) | Ok(Err(_)) => false,
        Ok(Ok(_)) => true,
    }
}
