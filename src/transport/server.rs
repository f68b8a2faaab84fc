//! The mTLS SOAP listener: TLS handshake (client certificate required), peer identity, HTTP/1.1
//! with keep-alive, and limits on connections, headers and time.

use super::router::Router;
use super::shutdown::{self, Shutdown};
use crate::metrics::Metrics;
use crate::pki::PeerIdentity;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Limits on connections to the SOAP listener.
#[derive(Debug, Clone, Copy)]
pub struct ConnLimits {
    pub max_connections: usize,
    pub header_timeout: Duration,
    pub max_header_bytes: usize,
    /// A hard cap on one connection's life: bounds slow-drip clients.
    pub lifetime: Duration,
}

pub async fn serve(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    router: Arc<Router>,
    limits: ConnLimits,
    metrics: Arc<Metrics>,
    mut shutdown: Shutdown,
) {
    let acceptor = TlsAcceptor::from(tls);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    // Returning drops the listener: from the shutdown on, new connections are refused.
    loop {
        // Waiting for a free slot before accepting leaves excess clients in the kernel backlog.
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => return,
            },
            _ = shutdown.requested() => return,
        };
        let accepted = tokio::select! {
            c = listener.accept() => c,
            _ = shutdown.requested() => return,
        };
        let (tcp, addr) = match accepted {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let router = router.clone();
        let metrics = metrics.clone();
        let busy = shutdown.busy();
        let mut conn_shutdown = shutdown.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let _busy = busy;
            let handshake = tokio::select! {
                h = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)) => h,
                // No request has been read yet: nothing to finish.
                _ = conn_shutdown.requested() => return,
            };
            let tls = match handshake {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => {
                    metrics.tls_failures.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(%addr, error = %e, "TLS handshake refused");
                    return;
                }
                Err(_) => {
                    metrics.tls_failures.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(%addr, "TLS handshake timed out");
                    return;
                }
            };
            let peer = tls
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|c| PeerIdentity::from_chain(c).ok())
                .unwrap_or_default();
            let peer = Arc::new(peer);
            tracing::debug!(%addr, subject = %peer.subject, issuer = %peer.issuer, "connection");
            metrics.connections_open.fetch_add(1, Ordering::Relaxed);
            metrics.connections_total.fetch_add(1, Ordering::Relaxed);
            let svc = service_fn(move |req| router.clone().handle(peer.clone(), req));
            let conn = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout)
                .max_buf_size(limits.max_header_bytes)
                .keep_alive(true)
                .serve_connection(TokioIo::new(tls), svc);
            let served = shutdown::serve_http1(conn, conn_shutdown);
            match tokio::time::timeout(limits.lifetime, served).await {
                Ok(Err(e)) => tracing::debug!(%addr, error = %e, "connection ended with error"),
                Err(_) => tracing::debug!(%addr, "connection lifetime cap reached"),
                Ok(Ok(())) => {}
            }
            metrics.connections_open.fetch_sub(1, Ordering::Relaxed);
        });
    }
}
