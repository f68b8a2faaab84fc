//! The operator console: one read-only page on the admin listener with the node at a glance
//! (endpoints with rates, errors and latency over the last hour, the peers, the latest
//! transactions) and the audit trail's answer to "who looked at this record".
//! Server-rendered (askama), no script, nothing loaded from outside the binary.

mod chart;
mod model;
mod search;

use crate::metrics::peers::PeerWatch;
use crate::metrics::Metrics;
use crate::store::Store;
use crate::transport::admin::view::Reply;
use crate::transport::admin::Page;
use askama::Template;
use hyper::StatusCode;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Inline styles only; no script, no image, no request leaves the page but the search form.
pub const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; \
                       base-uri 'none'; frame-ancestors 'none'";

/// An audit search that takes longer is abandoned; the page says so.
const SEARCH_TIMEOUT: Duration = Duration::from_secs(10);

/// What the console needs of the node.
#[derive(Clone)]
pub struct Console {
    pub metrics: Arc<Metrics>,
    pub peers: Arc<PeerWatch>,
    pub store: Store,
    pub node: NodeFacts,
}

/// The node's fixed facts shown in the page's head.
#[derive(Clone)]
pub struct NodeFacts {
    pub country: String,
    pub home_community_id: String,
    pub public_url: String,
    /// The server certificate, read at each render so that a rotation shows at once.
    pub cert_path: PathBuf,
    pub started: Instant,
}

impl Console {
    pub fn page(self) -> Page {
        let me = Arc::new(self);
        Arc::new(move |query: Option<String>| {
            let me = me.clone();
            Box::pin(async move { me.render(query.as_deref()).await })
        })
    }

    async fn render(&self, query: Option<&str>) -> Reply {
        let asked = search::asked(query);
        let audit = match asked {
            None => None,
            Some(Err(why)) => Some(model::AuditView::refused(why)),
            Some(Ok(patient)) => Some(self.search(patient).await),
        };
        let page = model::ConsolePage::build(
            &self.node,
            &self.metrics.hour(),
            &self.peers.snapshot(),
            &self.metrics.recent(),
            audit,
        );
        match page.render() {
            Ok(body) => Reply {
                status: StatusCode::OK,
                content_type: "text/html; charset=utf-8",
                body,
                csp: Some(CSP),
            },
            Err(e) => {
                tracing::error!(error = %e, "console page not rendered");
                Reply::text(StatusCode::INTERNAL_SERVER_ERROR, "the console failed\n")
            }
        }
    }

    async fn search(&self, patient: search::Patient) -> model::AuditView {
        let ids = patient.ids.clone();
        let task = self.store.read(move |c| search::records(c, &ids));
        match tokio::time::timeout(SEARCH_TIMEOUT, task).await {
            Ok(Ok(rows)) => model::AuditView::found(&patient, rows),
            Ok(Err(e)) => {
                tracing::error!(error = %e, "console audit search failed");
                model::AuditView::failed(&patient, "the audit trail could not be read")
            }
            Err(_) => model::AuditView::failed(&patient, "the audit trail did not answer in time"),
        }
    }
}
