//! The plain-HTTP admin listener (loopback by default): /health, /metrics and, when the node
//! hands them in, the operator console at / and /view (a foreign document as a page to read;
//! see [`view`]).

pub mod view;

use super::body::Chunks;
use super::shutdown::{self, Shutdown};
use super::tls::ServerTls;
use crate::metrics::Metrics;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

const HEALTH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Whether the node can do its work (the database answers); run on a blocking thread.
pub type HealthCheck = Arc<dyn Fn() -> bool + Send + Sync>;

/// A page the node renders (the operator console), from the request's query string.
pub type Page =
    Arc<dyn Fn(Option<String>) -> Pin<Box<dyn Future<Output = view::Reply> + Send>> + Send + Sync>;

#[derive(Clone)]
pub struct Admin {
    pub health: HealthCheck,
    pub metrics: Arc<Metrics>,
    /// `/view`; absent, the path is not found.
    pub view: Option<view::DocumentView>,
    /// `/`, the operator console; absent, the path is not found.
    pub console: Option<Page>,
}

/// Serves the admin listener on a thread and runtime of its own, so that /health and /metrics
/// answer even while the SOAP listener's workers are all busy. With `tls`, callers need a
/// client certificate the SOAP listener would take (server.admin_tls).
pub fn spawn_dedicated(
    listener: TcpListener,
    admin: Admin,
    tls: Option<Arc<ServerTls>>,
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
                    Ok(l) => serve(l, admin, tls, shutdown).await,
                    Err(e) => tracing::error!(error = %e, "admin listener lost"),
                }
            })
        })?;
    Ok(())
}

/// Serves until shutdown is asked for; then the listener closes and each connection ends after
/// its request.
pub async fn serve(
    listener: TcpListener,
    admin: Admin,
    tls: Option<Arc<ServerTls>>,
    mut shutdown: Shutdown,
) {
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = shutdown.requested() => return,
        };
        let Ok((tcp, addr)) = accepted else {
            continue;
        };
        let admin = admin.clone();
        let busy = shutdown.busy();
        let conn_shutdown = shutdown.clone();
        // The configuration of the moment, as on the SOAP listener (SIGHUP reloads it).
        let acceptor = tls.as_ref().map(|t| TlsAcceptor::from(t.current()));
        tokio::spawn(async move {
            let _busy = busy;
            let svc = service_fn(move |req| answer(admin.clone(), req));
            let http = http1::Builder::new();
            let Some(acceptor) = acceptor else {
                let conn = http.serve_connection(TokioIo::new(tcp), svc);
                let _ = shutdown::serve_http1(conn, conn_shutdown).await;
                return;
            };
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(stream)) => {
                    let conn = http.serve_connection(TokioIo::new(stream), svc);
                    let _ = shutdown::serve_http1(conn, conn_shutdown).await;
                }
                Ok(Err(e)) => tracing::info!(%addr, error = %e, "admin TLS handshake refused"),
                Err(_) => tracing::info!(%addr, "admin TLS handshake timed out"),
            }
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
    if let ("/", Some(page)) = (req.uri().path(), &admin.console) {
        if req.method() != hyper::Method::GET && req.method() != hyper::Method::HEAD {
            return Ok(response(view::Reply::text(
                StatusCode::METHOD_NOT_ALLOWED,
                "the console is read-only: use GET\n",
            )));
        }
        return Ok(response(page(req.uri().query().map(str::to_string)).await));
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
