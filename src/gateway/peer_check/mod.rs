//! `ncpeh peers check`: before a patient is in front of a doctor, is each configured peer
//! reachable the way the initiating gateways reach it? Every peer is checked at once, each step
//! within the peer's own timeout:
//! - `probe`: TLS handshake, certificate chain and pinned subject, `?wsdl`, and one harmless call
//!   through the gateways' own outbound path (`peers::call_peer`), with the node's assertions;
//! - `calls`: the harmless request each endpoint kind gets;
//! - `report`: the table and the JSON.

mod calls;
mod probe;
mod report;

use super::peers::Peers;
use crate::config::Config;
use crate::trust::Outbound;
use probe::{Context, PeerReport};
use std::process::ExitCode;
use std::sync::Arc;

#[derive(clap::Subcommand)]
pub enum PeersCmd {
    /// TLS handshake, certificate, ?wsdl and a harmless query with its round-trip time, for each
    /// configured peer (exit 0 when all pass, 1 when one fails, 2 when the check cannot run).
    Check(CheckArgs),
}

#[derive(clap::Args)]
pub struct CheckArgs {
    /// Only this peer (its name, as the table shows it, or its homeCommunityId).
    #[arg(long)]
    pub peer: Option<String>,
    /// One JSON array, one object per peer, instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// Why the check could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("no peer is named {asked}; the configured peers are: {}", .known.join(", "))]
    UnknownPeer { asked: String, known: Vec<String> },
    #[error("the node's client certificate: {0}")]
    Tls(#[from] crate::transport::tls::TlsError),
    #[error("the node's seal for assertions: {0}")]
    Seal(#[from] crate::saml::issue::IssueError),
    #[error("cannot start the runtime: {0}")]
    Runtime(#[from] std::io::Error),
}

pub fn run(cfg: &Config, cmd: PeersCmd) -> ExitCode {
    let PeersCmd::Check(args) = cmd;
    match check(cfg, &args) {
        Ok(reports) if reports.is_empty() => {
            if args.json {
                println!("[]");
            } else {
                println!("no peers configured (add [[peers]] blocks to the config)");
            }
            ExitCode::SUCCESS
        }
        Ok(reports) => {
            if args.json {
                println!("{}", report::json(&reports));
            } else {
                print!("{}", report::table(&reports));
            }
            if reports.iter().all(PeerReport::ok) {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("ncpeh peers check: {e}");
            ExitCode::from(2)
        }
    }
}

fn check(cfg: &Config, args: &CheckArgs) -> Result<Vec<PeerReport>, CheckError> {
    let names = super::peers::peer_names(&cfg.peers);
    let chosen: Vec<usize> = match &args.peer {
        None => (0..names.len()).collect(),
        Some(asked) => {
            let at = (0..names.len())
                .find(|&i| &names[i] == asked || &cfg.peers[i].home_community_id == asked);
            match at {
                Some(i) => vec![i],
                None => {
                    return Err(CheckError::UnknownPeer {
                        asked: asked.clone(),
                        known: names,
                    })
                }
            }
        }
    };
    if chosen.is_empty() {
        return Ok(Vec::new());
    }
    let peers = Peers::from_config(cfg)?;
    let ctx = Arc::new(Context {
        home: cfg.node.home_community_id.clone(),
        outbound: Outbound::from_config(cfg)?,
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    Ok(rt.block_on(async move {
        let mut set = tokio::task::JoinSet::new();
        for (i, peer) in peers.list.into_iter().enumerate() {
            if chosen.contains(&i) {
                let fut = probe::check_peer(peer, names[i].clone(), ctx.clone());
                set.spawn(async move { (i, fut.await) });
            }
        }
        let mut done = Vec::new();
        while let Some(joined) = set.join_next().await {
            if let Ok(r) = joined {
                done.push(r);
            }
        }
        // In the config's order, whichever answered first.
        done.sort_by_key(|(i, _)| *i);
        done.into_iter().map(|(_, r)| r).collect()
    }))
}

#[cfg(test)]
mod tests {
    use crate::config::PeerConfig;

    fn peer(name: Option<&str>, country: Option<&str>, home: &str) -> PeerConfig {
        PeerConfig {
            name: name.map(str::to_string),
            country: country.map(str::to_string),
            home_community_id: home.into(),
            ..PeerConfig::default()
        }
    }

    #[test]
    fn a_name_is_the_given_one_else_a_unique_country_else_the_community() {
        let peers = [
            peer(Some("sverige"), Some("SE"), "urn:oid:1"),
            peer(None, Some("DK"), "urn:oid:2"),
            peer(None, Some("FI"), "urn:oid:3"),
            peer(None, Some("FI"), "urn:oid:4"),
            peer(None, None, "urn:oid:5"),
        ];
        assert_eq!(
            crate::gateway::peers::peer_names(&peers),
            ["sverige", "DK", "urn:oid:3", "urn:oid:4", "urn:oid:5"]
        );
    }
}
