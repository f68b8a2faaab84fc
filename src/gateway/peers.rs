//! The configured peer communities, each with its own pinned, pooled mTLS client.

use crate::config::{Config, PeerConfig};
use crate::transport::client::HttpsClient;
use crate::transport::tls::{client_config, TlsError};
use std::time::Duration;

pub struct Peer {
    pub cfg: PeerConfig,
    pub client: HttpsClient,
    pub timeout: Duration,
}

#[derive(Default)]
pub struct Peers {
    pub list: Vec<Peer>,
}

impl Peers {
    pub fn from_config(cfg: &Config) -> Result<Peers, TlsError> {
        if cfg.peers.is_empty() {
            return Ok(Peers::default());
        }
        let tls = client_config(&cfg.ca_path(), Some((&cfg.cert_path(), &cfg.key_path())))?;
        let list = cfg
            .peers
            .iter()
            .map(|p| {
                let timeout = p.timeout.unwrap_or(cfg.gateway.peer_timeout);
                Peer {
                    cfg: p.clone(),
                    client: HttpsClient::new(tls.clone(), timeout)
                        .with_expected_subject(p.expected_subject.clone()),
                    timeout,
                }
            })
            .collect();
        Ok(Peers { list })
    }

    pub fn by_home(&self, home: &str) -> Option<&Peer> {
        self.list.iter().find(|p| p.cfg.home_community_id == home)
    }

    /// Peers that answer XCA.
    pub fn xca(&self) -> impl Iterator<Item = &Peer> {
        self.list.iter().filter(|p| p.cfg.xca_url.is_some())
    }
}
