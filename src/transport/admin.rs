//! The plain-HTTP admin listener (loopback by default): /health and /metrics.

use super::body::Chunks;
use super::router::App;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::sync::Arc;
use tokio::net::TcpListener;

pub async fn serve(listener: TcpListener, app: Arc<App>) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let app = app.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req| answer(app.clone(), req));
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(tcp), svc)
                .await;
        });
    }
}

async fn answer<B>(app: Arc<App>, req: Request<B>) -> Result<Response<Chunks>, Infallible> {
    let (status, ctype, body) = match req.uri().path() {
        "/health" => {
            let store = app.registry.store.clone();
            let db = tokio::task::spawn_blocking(move || store.ping())
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
            app.metrics.render(),
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
