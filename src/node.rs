//! Starting a node from its configuration: storage, PKI, listeners.

use crate::config::Config;
use crate::feed::{FeedPatient, PatientSink};
use crate::metrics::Metrics;
use crate::registry::Registry;
use crate::store::patients::{self, PatientRow};
use crate::store::Store;
use crate::transport::router::App;
use crate::transport::{admin, server, tls};
use crate::xds::codes::CodePolicy;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

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
    #[error("cannot listen on {0}: {1}")]
    Bind(String, std::io::Error),
}

/// The addresses a started node actually listens on (ports may have been 0 in the config).
#[derive(Debug, Clone)]
pub struct Running {
    pub soap: SocketAddr,
    pub admin: SocketAddr,
    pub feed: Option<SocketAddr>,
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
    let tls_cfg = tls::server_config(&cfg.ca_path(), &cfg.cert_path(), &cfg.key_path())?;
    let store = {
        let cfg = cfg.clone();
        tokio::task::spawn_blocking(move || open_store(&cfg))
            .await
            .map_err(|e| crate::store::StoreError::Join(e.to_string()))??
    };
    let registry = registry(&cfg, store.clone())?;
    let repository = crate::repository::Repository::new(&cfg, registry.clone())?;
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
    let running = Running {
        soap: local(&soap_l, &cfg.server.listen)?,
        admin: local(&admin_l, &cfg.server.admin_listen)?,
        feed: feed_l
            .as_ref()
            .map(|l| local(l, &cfg.feed.mllp_listen))
            .transpose()?,
    };
    let mut cfg = cfg;
    if cfg.server.public_url.is_none() {
        cfg.server.public_url = Some(format!("https://{}", running.soap));
    }
    let peers = Arc::new(crate::gateway::peers::Peers::from_config(&cfg)?);
    // Loaded once at start so that bad tables stop the node instead of a translation.
    let terminology: &'static crate::translate::Terminology = match &cfg.ehdsi.terminology_dir {
        Some(dir) => Box::leak(Box::new(crate::translate::Terminology::load_dir(dir)?)),
        None => crate::translate::Terminology::builtin(),
    };
    let app = Arc::new(App {
        cfg: Arc::new(cfg),
        registry,
        repository,
        peers,
        terminology,
        metrics: Arc::new(Metrics::default()),
    });
    tokio::spawn(server::serve(soap_l, tls_cfg, app.clone()));
    tokio::spawn(admin::serve(admin_l, app.clone()));
    if let Some(l) = feed_l {
        let sink: Arc<dyn PatientSink> = Arc::new(StoreSink(store));
        tokio::spawn(crate::feed::serve(
            l,
            sink,
            crate::feed::MllpLimits::default(),
        ));
    }
    Ok(running)
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
