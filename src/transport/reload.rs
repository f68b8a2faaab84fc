//! SIGHUP reloads the SOAP listener's certificate, key, CA and CRLs, and the outbound clients'
//! certificates (peers, a remote registry): a rotated certificate or a new revocation applies
//! from the next connection on, with no restart.

use super::shutdown::Shutdown;
use super::tls::{ClientTls, ServerTls};
use crate::metrics::Metrics;
use std::sync::atomic::Ordering;
use std::sync::Arc;

pub async fn on_hangup(
    tls: Arc<ServerTls>,
    clients: Vec<Arc<ClientTls>>,
    metrics: Arc<Metrics>,
    mut shutdown: Shutdown,
) {
    use tokio::signal::unix::{signal, SignalKind};
    let mut hup = match signal(SignalKind::hangup()) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "no SIGHUP handler: TLS files are read at start only");
            return;
        }
    };
    loop {
        tokio::select! {
            got = hup.recv() => if got.is_none() { return },
            _ = shutdown.requested() => return,
        }
        let t = tls.clone();
        let c = clients.clone();
        // Each set on its own: one that does not load leaves the others renewed.
        let outcome = tokio::task::spawn_blocking(move || {
            let mut failed = Vec::new();
            if let Err(e) = t.reload() {
                failed.push(format!("server: {e}"));
            }
            for client in &c {
                if let Err(e) = client.reload() {
                    failed.push(format!("client {}: {e}", client.cert().display()));
                }
            }
            if failed.is_empty() {
                Ok(())
            } else {
                Err(failed.join("; "))
            }
        })
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r);
        let files = tls.files();
        match outcome {
            Ok(()) => {
                metrics.tls_reloads.fetch_add(1, Ordering::Relaxed);
                tracing::info!(cert = %files.cert.display(), crls = files.crls.len(), clients = clients.len(), "TLS files reloaded");
            }
            Err(e) => {
                metrics.tls_reload_failures.fetch_add(1, Ordering::Relaxed);
                tracing::error!(error = %e, "TLS reload failed; what did not load stays as it was");
            }
        }
    }
}
