//! The plain-HTTP admin listener (loopback by default): /health and /metrics.

use super::body::Chunks;
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

pub async fn serve(listener: TcpListener, admin: Admin) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let admin = admin.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req| answer(admin.clone(), req));
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(tcp), svc)
                .await;
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
