//! The mTLS SOAP listener: TLS handshake (client certificate required), peer identity, HTTP/1.1
//! with keep-alive, and limits on connections, headers and time.

use super::router::Router;
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
) {
    let acceptor = TlsAcceptor::from(tls);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    loop {
        // Waiting for a free slot before accepting leaves excess clients in the kernel backlog.
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let (tcp, addr) = match listener.accept().await {
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
        tokio::spawn(async move {
            let _permit = permit;
            let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
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
            match tokio::time::timeout(limits.lifetime, conn).await {
                Ok(Err(e)) => tracing::debug!(%addr, error = %e, "connection ended with error"),
                Err(_) => tracing::debug!(%addr, "connection lifetime cap reached"),
                Ok(Ok(())) => {}
            }
            metrics.connections_open.fetch_sub(1, Ordering::Relaxed);
        });
    }
}
