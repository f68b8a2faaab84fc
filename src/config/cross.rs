//! Checks that look at more than one setting.

use super::{Config, Problems};

pub fn check(cfg: &Config, problems: &mut Problems) {
    peers(cfg, problems);
    tls_pair(cfg, problems);
    listeners(cfg, problems);
    admin_exposed(cfg, problems);
}

/// Each peer is found by its homeCommunityId, and is either reachable (a URL) or a foreign
/// contact point that calls in (a country, so that its certificate can be recognised).
fn peers(cfg: &Config, problems: &mut Problems) {
    for (i, p) in cfg.peers.iter().enumerate() {
        let reachable = p.xca_url.is_some() || p.xcpd_url.is_some() || p.xdr_url.is_some();
        if !reachable && p.country.is_none() {
            problems.push(
                format!("peers[{i}]"),
                "needs a country (to call in) or at least one of xca_url, xcpd_url, xdr_url",
            );
        }
        let first = cfg
            .peers
            .iter()
            .position(|q| q.home_community_id == p.home_community_id);
        if let Some(j) = first.filter(|j| *j < i && !p.home_community_id.is_empty()) {
            problems.push(
                format!("peers[{i}].home_community_id"),
                format!("{} is already peers[{j}]", p.home_community_id),
            );
        }
        let named = |q: &crate::config::PeerConfig| q.name.is_some() && q.name == p.name;
        if let Some(j) = cfg.peers.iter().position(named).filter(|j| *j < i) {
            problems.push(
                format!("peers[{i}].name"),
                format!(
                    "{} is already peers[{j}]",
                    p.name.as_deref().unwrap_or_default()
                ),
            );
        }
    }
}

/// A certificate without its own key (or the reverse) would be paired with a dev PKI file.
fn tls_pair(cfg: &Config, problems: &mut Problems) {
    match (&cfg.tls.cert, &cfg.tls.key) {
        (Some(_), None) => problems.push("tls.key", "must be set together with tls.cert"),
        (None, Some(_)) => problems.push("tls.cert", "must be set together with tls.key"),
        _ => {}
    }
}

/// The console shows audit records; off loopback it is served to certificate holders only.
fn admin_exposed(cfg: &Config, problems: &mut Problems) {
    let addr = &cfg.server.admin_listen;
    let loopback = match addr.parse::<std::net::SocketAddr>() {
        Ok(a) => a.ip().is_loopback(),
        Err(_) => addr.starts_with("localhost:"),
    };
    if !loopback && !cfg.server.admin_tls {
        problems.push(
            "server.admin_listen",
            format!(
                "{addr} is not a loopback address: set server.admin_tls = true (mutual TLS) \
                 or listen on 127.0.0.1"
            ),
        );
    }
}

/// Two listeners on one fixed address cannot both bind (port 0 picks a free port each time).
fn listeners(cfg: &Config, problems: &mut Problems) {
    let mut taken = vec![("server.listen", cfg.server.listen.as_str())];
    taken.push(("server.admin_listen", &cfg.server.admin_listen));
    if cfg.feed.enabled {
        taken.push(("feed.mllp_listen", &cfg.feed.mllp_listen));
    }
    for (i, (key, addr)) in taken.iter().enumerate() {
        if addr.ends_with(":0") {
            continue;
        }
        if let Some((other, _)) = taken[..i].iter().find(|(_, a)| a == addr) {
            problems.push(*key, format!("{addr} is already {other}"));
        }
    }
}
