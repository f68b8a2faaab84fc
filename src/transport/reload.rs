//! SIGHUP reloads the SOAP listener's certificate, key, CA and CRLs: a rotated certificate or a
//! new revocation applies from the next connection on, with no restart.

use super::shutdown::Shutdown;
use super::tls::ServerTls;
use crate::metrics::Metrics;
use std::sync::atomic::Ordering;
use std::sync::Arc;

pub async fn on_hangup(tls: Arc<ServerTls>, metrics: Arc<Metrics>, mut shutdown: Shutdown) {
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
        let outcome = tokio::task::spawn_blocking(move || t.reload())
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r.map_err(|e| e.to_string()));
        let files = tls.files();
        match outcome {
            Ok(()) => {
                metrics.tls_reloads.fetch_add(1, Ordering::Relaxed);
                tracing::info!(cert = %files.cert.display(), crls = files.crls.len(), "TLS files reloaded");
            }
            Err(e) => {
                metrics.tls_reload_failures.fetch_add(1, Ordering::Relaxed);
                tracing::error!(error = %e, "TLS reload failed; the previous certificate, key and CRLs stay in use");
            }
        }
    }
}
