//! The plain-HTTP admin listener (loopback by default): /health and /metrics.

use super::body::Chunks;
use super::shutdown::{self, Shutdown};
use crate::metrics::Metrics;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Whether the node can do its work (the database answers); run on a blocking thread.
pub type HealthCheck = Arc<dyn Fn() -> bool + Send + Sync>;

#[derive(Clone)]
pub struct Admin {
    pub health: HealthCheck,
    pub metrics: Arc<Metrics>,
}

/// Serves until shutdown is asked for; then the listener closes and each connection ends after
/// its request.
pub async fn serve(listener: TcpListener, admin: Admin, mut shutdown: Shutdown) {
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = shutdown.requested() => return,
        };
        let Ok((tcp, _)) = accepted else {
            continue;
        };
        let admin = admin.clone();
        let busy = shutdown.busy();
        let conn_shutdown = shutdown.clone();
        tokio::spawn(async move {
            let _busy = busy;
            let svc = service_fn(move |req| answer(admin.clone(), req));
            let conn = http1::Builder::new().serve_connection(TokioIo::new(tcp), svc);
            let _ = shutdown::serve_http1(conn, conn_shutdown).await;
        });
    }
}

async fn answer<B>(admin: Admin, req: Request<B>) -> Result<Response<Chunks>, Infallible> {
    let (status, ctype, body) = match req.uri().path() {
        "/health" => {
            let check = admin.health.clone();
            let db = tokio::task::spawn_blocking(move || check())
                .await
                .unwrap_or(false);
            let status = if db {
                StatusCode::OK
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            (
                status,
                "application/json",
                format!(
                    "{{\"status\":\"{}\",\"database\":{db},\"version\":\"{}\"}}",
                    if db { "ok" } else { "degraded" },
                    env!("CARGO_PKG_VERSION")
                ),
            )
        }
        "/metrics" => (
            StatusCode::OK,
            "text/plain; version=0.0.4",
            admin.metrics.render(),
        ),
        _ => (
            StatusCode::NOT_FOUND,
            "text/plain",
            "not found\n".to_string(),
        ),
    };
    let mut resp = Response::new(Chunks::one(body));
    *resp.status_mut() = status;
    if let Ok(v) = ctype.parse() {
        resp.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    Ok(resp)
}
