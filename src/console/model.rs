//! What the console page shows, already formatted: the template only lays it out.

use super::chart::{self, duration};
use super::search::{Patient, SHOWN};
use super::NodeFacts;
use crate::audit::{AuditRow, Outcome};
use crate::metrics::peers::PeerStatus;
use crate::metrics::recent::Transaction;
use crate::metrics::timeline::{EndpointHour, MinuteStats};
use crate::metrics::unix_ms;
use askama::Template;

/// A certificate this close to its end is shown as a warning.
const WARN_DAYS: i64 = 30;

#[derive(Template)]
#[template(path = "console.html")]
pub struct ConsolePage {
    pub now: String,
    pub version: &'static str,
    pub uptime: String,
    pub country: String,
    pub home_community_id: String,
    pub public_url: String,
    pub certificate: Expiry,
    pub endpoints: Vec<EndpointRow>,
    pub peers: Vec<PeerRow>,
    pub recent: Vec<TransactionRow>,
    pub audit: Option<AuditView>,
}

/// A certificate's end as shown: the date, the days left and whether that calls for action.
pub struct Expiry {
    pub text: String,
    pub warn: bool,
}

pub struct EndpointRow {
    pub endpoint: String,
    pub requests: u64,
    /// Mean of the last 5 minutes.
    pub per_minute: String,
    pub errors: u64,
    pub error_share: String,
    pub warn: bool,
    pub p50: String,
    pub p99: String,
    pub requests_chart: String,
    pub latency_chart: String,
}

pub struct PeerRow {
    pub name: String,
    pub country: String,
    pub home_community_id: String,
    pub services: String,
    pub last_success: String,
    pub last_failure: String,
    pub failure_why: String,
    pub failing: bool,
    pub certificate: Expiry,
    pub calls: u64,
    pub failures: u64,
}

pub struct TransactionRow {
    pub time: String,
    pub endpoint: String,
    pub action: String,
    pub caller: String,
    pub country: String,
    pub outcome: String,
    pub error: bool,
    pub millis: u64,
}

/// The answer to "who looked at this record".
pub struct AuditView {
    pub asked: String,
    pub problem: Option<String>,
    pub rows: Vec<AuditLine>,
    pub capped: bool,
}

pub struct AuditLine {
    pub time: String,
    pub event: String,
    pub outcome: String,
    pub user: String,
    pub role: String,
    pub organisation: String,
    pub purpose: String,
    pub caller: String,
    pub documents: usize,
}

impl ConsolePage {
    pub fn build(
        node: &NodeFacts,
        hour: &[EndpointHour],
        peers: &[PeerStatus],
        recent: &[Transaction],
        audit: Option<AuditView>,
    ) -> ConsolePage {
        ConsolePage {
            now: time_of(unix_ms()),
            version: env!("CARGO_PKG_VERSION"),
            uptime: uptime(node.started.elapsed().as_secs()),
            country: node.country.clone(),
            home_community_id: node.home_community_id.clone(),
            public_url: node.public_url.clone(),
            certificate: own_certificate(&node.cert_path),
            endpoints: hour.iter().map(endpoint_row).collect(),
            peers: peers.iter().map(peer_row).collect(),
            recent: recent.iter().map(transaction_row).collect(),
            audit,
        }
    }
}

impl AuditView {
    pub fn refused(why: String) -> AuditView {
        AuditView {
            asked: String::new(),
            problem: Some(why),
            rows: Vec::new(),
            capped: false,
        }
    }

    pub fn failed(p: &Patient, why: &str) -> AuditView {
        AuditView {
            asked: p.asked.clone(),
            problem: Some(why.into()),
            rows: Vec::new(),
            capped: false,
        }
    }

    pub fn found(p: &Patient, rows: Vec<AuditRow>) -> AuditView {
        AuditView {
            asked: p.asked.clone(),
            problem: None,
            capped: rows.len() as i64 >= SHOWN,
            rows: rows.iter().map(audit_line).collect(),
        }
    }
}

fn endpoint_row(e: &EndpointHour) -> EndpointRow {
    let last5: u64 = e.minutes.iter().rev().take(5).map(|m| m.requests).sum();
    let t = &e.total;
    EndpointRow {
        endpoint: e.endpoint.clone(),
        requests: t.requests,
        per_minute: format!("{:.1}", last5 as f64 / 5.0),
        errors: t.errors,
        error_share: share(t),
        warn: t.errors > 0,
        p50: t.p50.map_or("–".into(), duration),
        p99: t.p99.map_or("–".into(), duration),
        requests_chart: chart::requests(&e.minutes),
        latency_chart: chart::latency(&e.minutes),
    }
}

fn share(t: &MinuteStats) -> String {
    if t.requests == 0 {
        return "–".into();
    }
    format!("{:.1} %", t.errors as f64 * 100.0 / t.requests as f64)
}

fn peer_row(p: &PeerStatus) -> PeerRow {
    let failing = match (p.last_success, &p.last_failure) {
        (_, None) => false,
        (None, Some(_)) => true,
        (Some((ok, _)), Some((bad, _))) => *bad > ok,
    };
    PeerRow {
        name: p.name.clone(),
        country: p.country.clone().unwrap_or_else(|| "–".into()),
        home_community_id: p.home_community_id.clone(),
        services: p.services.join(", "),
        last_success: p.last_success.map_or("never".into(), |(at, ms)| {
            format!("{} ({ms} ms)", time_of(at))
        }),
        last_failure: p
            .last_failure
            .as_ref()
            .map_or("never".into(), |(at, _)| time_of(*at)),
        failure_why: p
            .last_failure
            .as_ref()
            .map(|(_, why)| why.clone())
            .unwrap_or_default(),
        failing,
        certificate: p.certificate_not_after.map_or(
            Expiry {
                text: "not seen yet (no connection since start)".into(),
                warn: false,
            },
            expiry,
        ),
        calls: p.calls,
        failures: p.failures,
    }
}

fn transaction_row(t: &Transaction) -> TransactionRow {
    TransactionRow {
        time: time_of(t.at_ms),
        endpoint: t.endpoint.clone(),
        action: short_action(&t.action),
        caller: t.caller.clone(),
        country: t.country.clone().unwrap_or_else(|| "–".into()),
        outcome: t.outcome.clone(),
        error: crate::metrics::timeline::is_error(&t.outcome),
        millis: t.millis,
    }
}

fn audit_line(r: &AuditRow) -> AuditLine {
    let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "–".into());
    let caller = match (&r.peer_cn, &r.peer_country) {
        (Some(cn), Some(c)) => format!("{cn} ({c})"),
        (Some(cn), None) => cn.clone(),
        _ => or_dash(&r.peer_subject),
    };
    AuditLine {
        time: time_of(r.event_time),
        event: r.event_type.clone(),
        outcome: Outcome::from_code(r.outcome)
            .map_or("unknown", Outcome::as_str)
            .into(),
        user: or_dash(&r.user_id),
        role: or_dash(&r.user_role),
        organisation: or_dash(&r.user_org),
        purpose: or_dash(&r.purpose),
        caller,
        documents: crate::audit::split_list(&r.document_ids).len(),
    }
}

/// The last segment of a SOAP action URN ("urn:ihe:iti:2007:RegistryStoredQuery" gives
/// "RegistryStoredQuery").
fn short_action(a: &str) -> String {
    a.rsplit(':').next().unwrap_or(a).to_string()
}

fn uptime(secs: u64) -> String {
    match secs {
        s if s < 3600 => format!("{} min", s / 60),
        s if s < 86_400 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        s => format!("{} d {} h", s / 86_400, s % 86_400 / 3600),
    }
}

/// Unix milliseconds as UTC date and time to the second.
fn time_of(ms: i64) -> String {
    crate::audit::from_millis(ms)
        .format(time::macros::format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second]Z"
        ))
        .unwrap_or_default()
}

fn expiry(not_after: i64) -> Expiry {
    let days = (not_after - unix_ms() / 1000).div_euclid(86_400);
    let date = time_of(not_after * 1000);
    let date = date.get(..10).unwrap_or(&date);
    Expiry {
        text: if days < 0 {
            format!("EXPIRED on {date}")
        } else {
            format!("{date} ({days} days left)")
        },
        warn: days < WARN_DAYS,
    }
}

/// The node's own server certificate, read now (it may have been rotated since start).
fn own_certificate(path: &std::path::Path) -> Expiry {
    let unreadable = |why: &str| Expiry {
        text: format!("cannot be read: {why}"),
        warn: true,
    };
    let pem = match std::fs::read(path) {
        Ok(p) => p,
        Err(e) => return unreadable(&e.to_string()),
    };
    let first = rustls_pemfile::certs(&mut pem.as_slice()).next();
    match first {
        Some(Ok(der)) => match crate::pki::validity(&der) {
            Some((_, not_after)) => expiry(not_after.unix_timestamp()),
            None => unreadable("not an X.509 certificate"),
        },
        _ => unreadable("no certificate in the file"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_as_an_operator_expects() {
        assert_eq!(duration(0.0042), "4.2 ms");
        assert_eq!(duration(0.25), "250 ms");
        assert_eq!(duration(2.5), "2.5 s");
        assert_eq!(uptime(59), "0 min");
        assert_eq!(uptime(3 * 3600 + 120), "3 h 2 min");
        assert_eq!(time_of(0), "1970-01-01 00:00:00Z");
        assert_eq!(
            short_action("urn:ihe:iti:2007:RegistryStoredQuery"),
            "RegistryStoredQuery"
        );
        let soon = expiry(unix_ms() / 1000 + 5 * 86_400 + 60);
        assert!(
            soon.warn && soon.text.contains("(5 days left)"),
            "{}",
            soon.text
        );
        let gone = expiry(unix_ms() / 1000 - 86_400);
        assert!(gone.warn && gone.text.starts_with("EXPIRED"));
        assert!(!expiry(unix_ms() / 1000 + 400 * 86_400).warn);
    }
}
