//! Starting a node from its configuration: storage, PKI, listeners.

use crate::audit::{Audited, Auditor};
use crate::config::Config;
use crate::feed::{FeedPatient, PatientSink};
use crate::gateway::peers::Peers;
use crate::gateway::{xca_initiating, xca_responding, xcpd_initiating, xcpd_responding, xdr};
use crate::metrics::Metrics;
use crate::registry::service::RegistryService;
use crate::registry::Registry;
use crate::repository::service::RepositoryService;
use crate::repository::Repository;
use crate::soap::SoapService;
use crate::store::patients::{self, PatientRow};
use crate::store::Store;
use crate::translate::Terminology;
use crate::transport::admission::{Admission, CallerLimits, CallerMatch};
use crate::transport::router::{DuplicatePath, Router, SoapLimits};
use crate::transport::server::ConnLimits;
use crate::transport::shutdown::{self, Trigger};
use crate::transport::{admin, server, tls};
use crate::trust::Outbound;
use crate::xds::codes::CodePolicy;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error(transparent)]
    Config(#[from] crate::config::Problems),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Pki(#[from] crate::pki::PkiError),
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error(transparent)]
    Codes(#[from] crate::xds::codes::CodeListError),
    #[error(transparent)]
    Repository(#[from] crate::repository::RepositoryInitError),
    #[error(transparent)]
    Terminology(#[from] crate::translate::TranslateError),
    #[error(transparent)]
    Routes(#[from] DuplicatePath),
    #[error(transparent)]
    Trust(#[from] crate::trust::PolicyError),
    #[error("[xua] issue: the node's seal: {0}")]
    Seal(#[from] crate::saml::issue::IssueError),
    #[error("cannot listen on {0}: {1}")]
    Bind(String, std::io::Error),
}

/// A started node: the addresses it actually listens on (ports may have been 0 in the config),
/// and what `shutdown` needs. Dropped without `shutdown`, the node runs on.
pub struct Running {
    pub soap: SocketAddr,
    pub admin: SocketAddr,
    pub feed: Option<SocketAddr>,
    stop: Stop,
}

/// The tasks and handles a shutdown waits for or closes.
struct Stop {
    trigger: Trigger,
    listeners: Vec<JoinHandle<()>>,
    forwarder: JoinHandle<()>,
    auditor: Auditor,
    store: Store,
}

/// How a shutdown went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped {
    /// Connections still busy when the grace period ran out (their requests go unanswered and
    /// their transactions, if any, roll back when the process exits).
    pub cut: usize,
    pub took: Duration,
}

impl Running {
    /// Stops the node: every listener stops accepting (new connections are refused), requests
    /// in flight finish within `grace`, the audit writer writes what it holds, and the database
    /// pool is closed. Logs one line when it starts and one when it is done.
    pub async fn shutdown(self, grace: Duration) -> Stopped {
        let started = Instant::now();
        let Stop {
            trigger,
            listeners,
            forwarder,
            auditor,
            store,
        } = self.stop;
        trigger.fire();
        for l in listeners {
            let _ = l.await;
        }
        tracing::info!(
            connections = trigger.busy(),
            grace_secs = grace.as_secs(),
            "shutting down: listeners closed, finishing requests in flight"
        );
        let cut = trigger.drained(grace).await;
        // Records of answered requests are already written (each answer waits for its record);
        // this catches any still queued, e.g. from a request cut above.
        auditor.flush().await;
        drop(auditor);
        let left = grace.saturating_sub(started.elapsed());
        let mut forwarder = forwarder;
        if tokio::time::timeout(left, &mut forwarder).await.is_err() {
            forwarder.abort();
        }
        if cut == 0 {
            let closing = tokio::task::spawn_blocking(move || store.close());
            let _ = closing.await;
        }
        let took = started.elapsed();
        if cut == 0 {
            tracing::info!(took_ms = took.as_millis() as u64, "shutdown complete");
        } else {
            tracing::warn!(
                took_ms = took.as_millis() as u64,
                cut,
                "shutdown complete; grace period over, unanswered requests cut"
            );
        }
        Stopped { cut, took }
    }
}

pub fn open_store(cfg: &Config) -> Result<Store, NodeError> {
    Ok(Store::open(&cfg.database_url(), cfg.database.pool_size)?)
}

pub fn registry(cfg: &Config, store: Store) -> Result<Registry, NodeError> {
    let policy = match &cfg.registry.code_list {
        Some(p) => CodePolicy::load(p)?,
        None => CodePolicy::Permissive,
    };
    Ok(Registry {
        store,
        policy: Arc::new(policy),
        cfg: Arc::new(cfg.registry.clone()),
        confidentiality: Arc::new(cfg.confidentiality.policy()),
    })
}

async fn bind(addr: &str) -> Result<TcpListener, NodeError> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| NodeError::Bind(addr.to_string(), e))
}

/// Binds every listener and spawns the servers; returns once they are accepting.
pub async fn start(cfg: Config) -> Result<Running, NodeError> {
    // Configs built in code (benches) skip `Config::load`; the limits below rely on the checks.
    cfg.validate()?;
    if cfg.uses_dev_pki() {
        crate::pki::ensure(&cfg.pki_dir())?;
    }
    let server_tls = Arc::new(tls::ServerTls::load(cfg.server_tls_files())?);
    let store = {
        let cfg = cfg.clone();
        tokio::task::spawn_blocking(move || open_store(&cfg))
            .await
            .map_err(|e| crate::store::StoreError::Join(e.to_string()))??
    };
    let registry = registry(&cfg, store.clone())?;
    let repository = Repository::new(&cfg, registry.clone())?;
    let soap_l = bind(&cfg.server.listen).await?;
    let admin_l = bind(&cfg.server.admin_listen).await?;
    let feed_l = if cfg.feed.enabled {
        Some(bind(&cfg.feed.mllp_listen).await?)
    } else {
        None
    };
    let local = |l: &TcpListener, a: &str| {
        l.local_addr()
            .map_err(|e| NodeError::Bind(a.to_string(), e))
    };
    let soap = local(&soap_l, &cfg.server.listen)?;
    let admin_addr = local(&admin_l, &cfg.server.admin_listen)?;
    let feed = feed_l
        .as_ref()
        .map(|l| local(l, &cfg.feed.mllp_listen))
        .transpose()?;
    let mut cfg = cfg;
    if cfg.server.public_url.is_none() {
        cfg.server.public_url = Some(format!("https://{soap}"));
    }
    let peers = Arc::new(Peers::from_config(&cfg)?);
    // Loaded once at start so that bad tables stop the node instead of a translation.
    let terminology: &'static Terminology = match &cfg.ehdsi.terminology_dir {
        Some(dir) => Box::leak(Box::new(Terminology::load_dir(dir)?)),
        None => Terminology::builtin(),
    };
    let metrics = Arc::new(Metrics::default());
    if let Some(counts) = store.write_counter() {
        metrics.count_store_writes(counts);
    }
    let limits = SoapLimits {
        max_body_bytes: cfg.server.max_body_bytes,
        body_timeout: cfg.server.body_timeout,
    };
    let auditor = Auditor::new(store.clone(), &cfg.audit.source_id);
    let policy = Arc::new(crate::trust::Policy::from_config(&cfg)?.with_auditor(auditor.clone()));
    let admission = Arc::new(admission(&cfg));
    let mut router = Router::new(
        limits,
        cfg.public_url(),
        metrics.clone(),
        policy,
        admission.clone(),
    );
    for svc in services(&cfg, &registry, &repository, &peers, terminology, &auditor)? {
        router.register(svc)?;
    }
    router.register_rest(Arc::new(crate::mhd::MhdService {
        registry: registry.clone(),
        repository: repository.clone(),
        auditor: auditor.clone(),
        base: format!("{}/fhir", cfg.public_url().trim_end_matches('/')),
    }))?;
    let conn_limits = ConnLimits {
        max_connections: cfg.server.max_connections,
        handshake_timeout: cfg.server.handshake_timeout,
        header_timeout: cfg.server.header_timeout,
        max_header_bytes: cfg.server.max_header_bytes,
        lifetime: cfg.server.connection_lifetime,
    };
    let (trigger, stop) = shutdown::channel();
    let mut listeners = vec![tokio::spawn(server::serve(
        soap_l,
        server_tls.clone(),
        Arc::new(router),
        admission,
        conn_limits,
        metrics.clone(),
        stop.clone(),
    ))];
    #[cfg(unix)]
    // Outbound identities renewed with the server's on SIGHUP.
    let clients: Vec<_> = peers
        .tls
        .iter()
        .chain(repository.remote.as_ref().map(|r| &r.tls))
        .cloned()
        .collect();
    listeners.push(tokio::spawn(crate::transport::reload::on_hangup(
        server_tls.clone(),
        clients,
        metrics.clone(),
        stop.clone(),
    )));
    let forwarder = tokio::spawn(crate::audit::forwarder::run(
        store.clone(),
        cfg.clone(),
        stop.clone(),
    ));
    let health_store = store.clone();
    let health: admin::HealthCheck = Arc::new(move || health_store.ping());
    let view = admin::view::DocumentView {
        render: Arc::new(move |doc: &[u8]| {
            crate::translate::pivot_to_html(doc, terminology, "nb").map_err(Into::into)
        }),
        max_body: crate::translate::MAX_INPUT,
        page_csp: crate::translate::html::CSP,
    };
    let console = crate::console::Console {
        metrics: metrics.clone(),
        peers: Arc::new(peers.watch()),
        store: store.clone(),
        node: crate::console::NodeFacts {
            country: cfg.node.country.clone(),
            home_community_id: cfg.node.home_community_id.clone(),
            public_url: cfg.public_url(),
            cert_path: cfg.cert_path(),
            started: std::time::Instant::now(),
        },
    };
    let admin = admin::Admin {
        health,
        metrics,
        view: Some(view),
        console: Some(console.page()),
    };
    let admin_tls = cfg.server.admin_tls.then(|| server_tls.clone());
    admin::spawn_dedicated(admin_l, admin, admin_tls, stop.clone())
        .map_err(|e| NodeError::Bind(cfg.server.admin_listen.clone(), e))?;
    if let Some(l) = feed_l {
        let sink: Arc<dyn PatientSink> = Arc::new(StoreSink(store.clone()));
        listeners.push(tokio::spawn(crate::feed::serve(
            l,
            sink,
            crate::feed::MllpLimits::default(),
            stop,
        )));
    }
    Ok(Running {
        soap,
        admin: admin_addr,
        feed,
        stop: Stop {
            trigger,
            listeners,
            forwarder,
            auditor,
            store,
        },
    })
}

/// The per-caller limits: `[server]` for everyone, and each peer that sets its own, matched by
/// its certificate subject when pinned, else by its country.
fn admission(cfg: &Config) -> Admission {
    let s = &cfg.server;
    let default = CallerLimits {
        max_in_flight: s.caller_max_in_flight,
        max_per_sec: s.caller_max_requests_per_sec,
    };
    let special = cfg
        .peers
        .iter()
        .filter(|p| p.max_in_flight.is_some() || p.max_requests_per_sec.is_some())
        .filter_map(|p| {
            let by = match (&p.expected_subject, &p.country) {
                (Some(subject), _) => CallerMatch::Subject(subject.clone()),
                (None, Some(country)) => CallerMatch::Country(country.clone()),
                (None, None) => return None,
            };
            let limits = CallerLimits {
                max_in_flight: p.max_in_flight.unwrap_or(default.max_in_flight),
                max_per_sec: p.max_requests_per_sec.unwrap_or(default.max_per_sec),
            };
            Some((by, limits))
        })
        .collect();
    Admission::new(default, special, s.max_connections_per_address)
}

/// The SOAP services this node serves, each owning what it needs and each audited. A new
/// endpoint is one more line here.
fn services(
    cfg: &Config,
    registry: &Registry,
    repository: &Repository,
    peers: &Arc<Peers>,
    terminology: &'static Terminology,
    auditor: &Auditor,
) -> Result<Vec<Arc<dyn SoapService>>, NodeError> {
    let home = cfg.node.home_community_id.clone();
    let outbound = Outbound::from_config(cfg)?;
    let services: Vec<Arc<dyn SoapService>> = vec![
        Arc::new(RegistryService {
            registry: registry.clone(),
            auditor: auditor.clone(),
        }),
        Arc::new(RepositoryService {
            repository: repository.clone(),
            auditor: auditor.clone(),
        }),
        Arc::new(xca_responding::XcaResponding {
            home: home.clone(),
            registry: registry.clone(),
            repository: repository.clone(),
            ehdsi: Arc::new(cfg.ehdsi.clone()),
            terminology,
            auditor: auditor.clone(),
        }),
        Arc::new(xca_initiating::XcaInitiating {
            peers: peers.clone(),
            outbound: outbound.clone(),
        }),
        Arc::new(xcpd_responding::XcpdResponding {
            home: home.clone(),
            store: registry.store.clone(),
        }),
        Arc::new(xcpd_initiating::XcpdInitiating {
            home,
            peers: peers.clone(),
            outbound: outbound.clone(),
        }),
        Arc::new(xdr::XdrRecipient {
            repository: repository.clone(),
            terminology,
            auditor: auditor.clone(),
        }),
    ];
    Ok(services
        .into_iter()
        .map(|s| Audited::wrap(s, auditor))
        .collect())
}

/// ITI-8 patients go into the patient index, one row per identifier.
struct StoreSink(Store);

impl PatientSink for StoreSink {
    fn upsert(&self, p: &FeedPatient) -> Result<(), String> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        self.0
            .blocking_write(|c| {
                for id in &p.ids {
                    let row = PatientRow {
                        pid: id.clone(),
                        family: p.family.clone(),
                        given: p.given.clone(),
                        birth_date: p.birth_date.clone(),
                        gender: p.gender.clone(),
                        updated_at: now,
                    };
                    patients::upsert(c, &row)?;
                }
                Ok::<(), crate::store::StoreError>(())
            })
            // The error names no patient: it comes from the database layer.
            .map_err(|e| e.to_string())
    }
}
