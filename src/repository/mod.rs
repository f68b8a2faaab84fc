//! The XDS.b Document Repository: ITI-41 Provide and Register Document Set-b and ITI-43
//! Retrieve Document Set. Registration goes to the node's own registry in the same database
//! transaction as the bytes, or to a remote registry over ITI-42 when configured.

pub mod blob;
pub mod provide;
pub mod remote;
pub mod remove;
pub mod retrieve;
pub mod service;

use crate::config::{Config, RepositoryConfig};
use crate::registry::Registry;
use crate::transport::client::HttpsClient;
use crate::transport::tls::{self, TlsError};
use blob::{BlobStore, DbBlobs};
use std::sync::Arc;

#[derive(Clone)]
pub struct Repository {
    /// The local registry (its store also holds the documents).
    pub registry: Registry,
    pub cfg: Arc<RepositoryConfig>,
    pub blobs: Arc<dyn BlobStore>,
    pub remote: Option<RemoteRegistry>,
}

/// An ITI-42 endpoint reached over mutual TLS.
#[derive(Clone)]
pub struct RemoteRegistry {
    pub url: String,
    pub client: HttpsClient,
    /// The client's identity, renewed on SIGHUP.
    pub tls: Arc<tls::ClientTls>,
}

#[derive(Debug, thiserror::Error)]
pub enum RepositoryInitError {
    #[error("repository: client TLS for the remote registry: {0}")]
    Tls(#[from] TlsError),
}

impl Repository {
    pub fn new(cfg: &Config, registry: Registry) -> Result<Repository, RepositoryInitError> {
        let rc = &cfg.repository;
        let remote = match &rc.registry_url {
            // Config::validate has checked that the URL is https.
            Some(url) => {
                let ca = rc.registry_ca.clone().unwrap_or_else(|| cfg.ca_path());
                let cert = rc
                    .registry_client_cert
                    .clone()
                    .unwrap_or_else(|| cfg.cert_path());
                let key = rc
                    .registry_client_key
                    .clone()
                    .unwrap_or_else(|| cfg.key_path());
                let tls = tls::ClientTls::load(&ca, &cert, &key)?;
                Some(RemoteRegistry {
                    url: url.clone(),
                    client: HttpsClient::renewable(tls.clone(), rc.registry_timeout),
                    tls,
                })
            }
            None => None,
        };
        Ok(Repository {
            registry,
            cfg: Arc::new(rc.clone()),
            blobs: Arc::new(DbBlobs),
            remote,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    #[test]
    fn repository_settings_have_defaults_and_env_overrides() {
        let c = Config::load(None, Vec::new()).unwrap();
        assert_eq!(c.repository.unique_id, "2.16.578.1.12.4.5.10.1.1");
        assert!(c.repository.registry_url.is_none());
        let env = vec![
            (
                "NCPEH_REPOSITORY__UNIQUE_ID".to_string(),
                "1.2.3.4".to_string(),
            ),
            (
                "NCPEH_REPOSITORY__REGISTRY_URL".to_string(),
                "https://reg.example:8443/xds/registry".to_string(),
            ),
        ];
        let c = Config::load(None, env).unwrap();
        assert_eq!(c.repository.unique_id, "1.2.3.4");
        assert_eq!(
            c.repository.registry_url.as_deref(),
            Some("https://reg.example:8443/xds/registry")
        );
    }
}
