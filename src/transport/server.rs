//! The mTLS SOAP listener: TLS handshake (client certificate required), peer identity, HTTP/1.1
//! with keep-alive, and limits on connections, headers and time.

use super::admission::Admission;
use super::router::Router;
use super::shutdown::{self, Shutdown};
use super::tls::ServerTls;
use crate::metrics::Metrics;
use crate::pki::PeerIdentity;
use hyper::header::{HeaderValue, CONNECTION};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use rustls_pki_types::CertificateDer;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;

/// How long a connection past its lifetime may wait for the request it will end with.
const LIFETIME_OVERRUN: Duration = Duration::from_secs(600);

/// Limits on connections to the SOAP listener.
#[derive(Debug, Clone, Copy)]
pub struct ConnLimits {
    pub max_connections: usize,
    pub handshake_timeout: Duration,
    pub header_timeout: Duration,
    pub max_header_bytes: usize,
    /// After this a connection ends with its next answer (an idle one at `LIFETIME_OVERRUN`).
    pub lifetime: Duration,
}

pub async fn serve(
    listener: TcpListener,
    tls: Arc<ServerTls>,
    router: Arc<Router>,
    admission: Arc<Admission>,
    limits: ConnLimits,
    metrics: Arc<Metrics>,
    mut shutdown: Shutdown,
) {
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
        // Before any TLS work: an address holding its share of connections gets no more.
        let Some(counted) = admission.connect(addr.ip()) else {
            metrics.refused_per_ip.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(%addr, "connection refused: too many from this address");
            continue;
        };
        let _ = tcp.set_nodelay(true);
        // The configuration of the moment: a reload applies from the next connection on.
        let acceptor = TlsAcceptor::from(tls.current());
        let router = router.clone();
        let metrics = metrics.clone();
        let busy = shutdown.busy();
        let mut conn_shutdown = shutdown.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let _counted = counted;
            let _busy = busy;
            let handshake = tokio::select! {
                h = tokio::time::timeout(limits.handshake_timeout, acceptor.accept(tcp)) => h,
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
            let peer = match identity(tls.get_ref().1.peer_certificates()) {
                Ok(p) => Arc::new(p),
                Err(why) => {
                    metrics.tls_failures.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(%addr, error = %why, "connection closed");
                    return;
                }
            };
            tracing::debug!(%addr, subject = %peer.subject, issuer = %peer.issuer, "connection");
            metrics.connections_open.fetch_add(1, Ordering::Relaxed);
            metrics.connections_total.fetch_add(1, Ordering::Relaxed);
            // Past its lifetime a connection ends with its next answer (`Connection: close`), so
            // no client is racing a close it could not see coming; an idle one ends at the cap.
            let aged = Arc::new(AtomicBool::new(false));
            let svc = {
                let aged = aged.clone();
                service_fn(move |req| {
                    let (router, peer, aged) = (router.clone(), peer.clone(), aged.clone());
                    async move {
                        let mut resp = router.handle(peer, req).await?;
                        if aged.load(Ordering::Relaxed) {
                            resp.headers_mut()
                                .insert(CONNECTION, HeaderValue::from_static("close"));
                        }
                        Ok::<_, std::convert::Infallible>(resp)
                    }
                })
            };
            let conn = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout)
                .max_buf_size(limits.max_header_bytes)
                .keep_alive(true)
                .serve_connection(TokioIo::new(tls), svc);
            let served = shutdown::serve_http1(conn, conn_shutdown);
            tokio::pin!(served);
            let ended = tokio::select! {
                r = &mut served => Ok(r),
                _ = tokio::time::sleep(limits.lifetime) => {
                    aged.store(true, Ordering::Relaxed);
                    tokio::time::timeout(LIFETIME_OVERRUN, &mut served).await
                }
            };
            match ended {
                Ok(Err(e)) => tracing::debug!(%addr, error = %e, "connection ended with error"),
                Err(_) => tracing::debug!(%addr, "connection closed at its lifetime cap"),
                Ok(Ok(())) => {}
            }
            metrics.connections_open.fetch_sub(1, Ordering::Relaxed);
        });
    }
}

/// The caller's identity from its certificate chain. rustls has verified the chain; one that
/// cannot be read is still no identity, and the connection goes (never an empty identity).
fn identity(chain: Option<&[CertificateDer<'_>]>) -> Result<PeerIdentity, String> {
    let chain = chain.ok_or("no client certificate")?;
    PeerIdentity::from_chain(chain).map_err(|e| format!("client certificate unreadable: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreadable_or_missing_certificate_is_no_identity() {
        let junk = [CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01, 0x01])];
        assert!(identity(Some(&junk)).is_err());
        assert!(identity(Some(&[])).is_err());
        assert!(identity(None).is_err());
    }
}
