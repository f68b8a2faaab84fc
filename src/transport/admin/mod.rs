//! The plain-HTTP admin listener (loopback by default): /health, /metrics and, when the node
//! hands in a renderer, /view (a foreign document as a page to read; see [`view`]).

pub mod view;

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

const HEALTH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Whether the node can do its work (the database answers); run on a blocking thread.
pub type HealthCheck = Arc<dyn Fn() -> bool + Send + Sync>;

#[derive(Clone)]
pub struct Admin {
    pub health: HealthCheck,
    pub metrics: Arc<Metrics>,
    /// `/view`; absent, the path is not found.
    pub view: Option<view::DocumentView>,
}

/// Serves the admin listener on a thread and runtime of its own, so that /health and /metrics
/// answer even while the SOAP listener's workers are all busy.
pub fn spawn_dedicated(
    listener: TcpListener,
    admin: Admin,
    shutdown: Shutdown,
) -> std::io::Result<()> {
    let listener = listener.into_std()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("ncpeh-admin".into())
        .spawn(move || {
            runtime.block_on(async move {
                match TcpListener::from_std(listener) {
                    Ok(l) => serve(l, admin, shutdown).await,
                    Err(e) => tracing::error!(error = %e, "admin listener lost"),
                }
            })
        })?;
    Ok(())
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

async fn answer<B>(admin: Admin, req: Request<B>) -> Result<Response<Chunks>, Infallible>
where
    B: hyper::body::Body<Data = bytes::Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    if let ("/view", Some(v)) = (req.uri().path(), &admin.view) {
        return Ok(response(view::answer(v, req).await));
    }
    let (status, ctype, body) = match req.uri().path() {
        "/health" => {
            let check = admin.health.clone();
            // A database that does not answer in time is as good as down for a monitor.
            let ping = tokio::task::spawn_blocking(move || check());
            let db = matches!(
                tokio::time::timeout(HEALTH_TIMEOUT, ping).await,
                Ok(Ok(true))
            );
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
    Ok(response(view::Reply {
        status,
        content_type: ctype,
        body,
        csp: None,
    }))
}

fn response(r: view::Reply) -> Response<Chunks> {
    use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
    let mut resp = Response::new(Chunks::one(r.body));
    *resp.status_mut() = r.status;
    let h = resp.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(r.content_type));
    if let Some(csp) = r.csp {
        h.insert(
            hyper::header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(csp),
        );
        h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}
