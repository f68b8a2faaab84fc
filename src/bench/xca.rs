//! W5: ITI-18 FindDocuments through the node's XCA initiating gateway, which asks every
//! configured peer community (ITI-38) at once and merges the answers. Its baseline is the same
//! query sent straight to all the peers at once in the same run: the node can be no faster than
//! its slowest peer, so what it adds on top of that is the figure (goal: at most 2 ms).

use super::drive::{post, run, soap_type, Population, Rng, Target};
use super::entries::{find_documents, patient_id};
use super::report::Measured;
use crate::config::PeerConfig;
use crate::ids::action;
use crate::soap::envelope::encode_request;
use crate::transport::client::HttpsClient;
use bytes::Bytes;
use std::time::Duration;

/// The XCA URLs of the configured peers; W5 needs at least one.
pub fn peer_urls(peers: &[PeerConfig]) -> Result<Vec<String>, String> {
    let urls: Vec<String> = peers.iter().filter_map(|p| p.xca_url.clone()).collect();
    if urls.is_empty() {
        return Err("W5 needs [[peers]] with an xca_url in the node's configuration".into());
    }
    Ok(urls)
}

fn message_id() -> String {
    format!("urn:uuid:{}", uuid::Uuid::new_v4())
}

/// The node: FindDocuments (LeafClass) to /xca/initiating.
pub async fn node(
    t: &Target,
    pop: Population,
    connections: usize,
    warmup: Duration,
    duration: Duration,
) -> Measured {
    let url = format!("{}/xca/initiating", t.base.trim_end_matches('/'));
    run(connections, warmup, duration, |i| {
        let client = HttpsClient::new(t.tls.clone(), Duration::from_secs(60));
        let url = url.clone();
        let mut rng = Rng(0x6a09_e667_f3bc_c908 ^ (i as u64 + 1));
        move || {
            let p = pop.first + rng.below(pop.patients);
            let env = encode_request(
                action::STORED_QUERY,
                &url,
                &message_id(),
                &find_documents(&patient_id(p), true),
            );
            let (client, url) = (client.clone(), url.clone());
            async move {
                post(
                    &client,
                    &url,
                    &soap_type(action::STORED_QUERY),
                    vec![Bytes::from(env)],
                )
                .await
            }
        }
    })
    .await
    .labelled("W5 node")
}

/// The baseline: the same query as ITI-38 to every peer at once; a turn ends when the last
/// peer has answered, and counts only when all said Success.
pub async fn peers(
    t: &Target,
    urls: &[String],
    pop: Population,
    connections: usize,
    warmup: Duration,
    duration: Duration,
) -> Measured {
    run(connections, warmup, duration, |i| {
        let client = HttpsClient::new(t.tls.clone(), Duration::from_secs(60));
        let urls = urls.to_vec();
        let mut rng = Rng(0x6a09_e667_f3bc_c908 ^ (i as u64 + 1));
        move || {
            let body = find_documents(&patient_id(pop.first + rng.below(pop.patients)), true);
            let mut calls = tokio::task::JoinSet::new();
            for url in &urls {
                let env = encode_request(action::XC_QUERY, url, &message_id(), &body);
                let (client, url) = (client.clone(), url.clone());
                calls.spawn(async move {
                    post(
                        &client,
                        &url,
                        &soap_type(action::XC_QUERY),
                        vec![Bytes::from(env)],
                    )
                    .await
                });
            }
            async move {
                let mut all = true;
                while let Some(ok) = calls.join_next().await {
                    all &= ok.unwrap_or(false);
                }
                all
            }
        }
    })
    .await
    .labelled("W5 peers direct")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn w5_needs_a_peer_with_an_xca_url() {
        assert!(peer_urls(&[]).is_err());
        let mut p = PeerConfig::default();
        assert!(
            peer_urls(std::slice::from_ref(&p)).is_err(),
            "a peer without xca_url is no XCA peer"
        );
        p.xca_url = Some("https://127.0.0.1:1/xca".into());
        assert_eq!(
            peer_urls(&[p]).unwrap(),
            vec!["https://127.0.0.1:1/xca".to_string()]
        );
    }
}
