//! The check's results as a table for a terminal, or as JSON (one object per peer).

use super::probe::{EndpointReport, PeerReport};
use serde_json::{json, Value};

const HEAD: [&str; 9] = [
    "PEER", "ENDPOINT", "TLS", "SUBJECT", "DAYS", "WSDL", "QUERY", "RTT_MS", "PROBLEM",
];

fn flag(v: Option<bool>) -> String {
    match v {
        Some(true) => "ok".into(),
        Some(false) => "FAIL".into(),
        None => "-".into(),
    }
}

fn row(peer: &PeerReport, e: &EndpointReport) -> [String; 9] {
    let mut notes = e.problems.clone();
    notes.extend(e.warnings.iter().map(|w| format!("warning: {w}")));
    let subject = match (e.subject_ok, e.tls_ok) {
        (None, true) => "not pinned".into(),
        (v, _) => flag(v),
    };
    [
        peer.name.clone(),
        e.url.clone(),
        flag(Some(e.tls_ok)),
        subject,
        e.cert
            .as_ref()
            .map_or("-".into(), |c| c.days_left.to_string()),
        flag(e.wsdl_ok),
        flag(e.query.as_ref().map(|q| q.ok)),
        e.query
            .as_ref()
            .map_or("-".into(), |q| q.rtt_ms.to_string()),
        if notes.is_empty() {
            "-".into()
        } else {
            notes.join("; ")
        },
    ]
}

/// One row per endpoint, then each certificate and answer, then a summary line.
pub fn table(reports: &[PeerReport]) -> String {
    let mut rows: Vec<[String; 9]> = vec![HEAD.map(str::to_string)];
    for p in reports {
        if p.endpoints.is_empty() {
            let mut r: [String; 9] = std::array::from_fn(|_| "-".to_string());
            r[0] = p.name.clone();
            r[8] = "no xca_url, xcpd_url or xdr_url: it only calls in".into();
            rows.push(r);
        }
        rows.extend(p.endpoints.iter().map(|e| row(p, e)));
    }
    let widths: Vec<usize> = (0..9)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in &rows {
        let mut line = String::new();
        for (c, cell) in r.iter().enumerate() {
            if c == 8 {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<w$}  ", w = widths[c]));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    for p in reports {
        for e in &p.endpoints {
            let at = format!("{} {}", p.name, e.kind.label());
            if let Some(c) = &e.cert {
                out.push_str(&format!(
                    "{at}: certificate {} issued by {} ({} in chain), valid until {}\n",
                    c.subject, c.issuer, c.chain_len, c.not_after
                ));
            }
            if let Some(a) = e.query.as_ref().and_then(|q| q.answer.as_ref()) {
                out.push_str(&format!("{at}: answered {a}\n"));
            }
        }
    }
    let passed = reports.iter().filter(|p| p.ok()).count();
    out.push_str(&format!("{passed} of {} peers passed\n", reports.len()));
    out
}

fn endpoint_json(e: &EndpointReport) -> Value {
    json!({
        "kind": e.kind.label(),
        "url": e.url,
        "ok": e.ok(),
        "tls_ok": e.tls_ok,
        "subject_ok": e.subject_ok,
        "certificate": e.cert.as_ref().map(|c| json!({
            "subject": c.subject,
            "issuer": c.issuer,
            "not_after": c.not_after,
            "days_left": c.days_left,
            "chain_length": c.chain_len,
        })),
        "wsdl_ok": e.wsdl_ok,
        "query_ok": e.query.as_ref().map(|q| q.ok),
        "rtt_ms": e.query.as_ref().map(|q| q.rtt_ms as u64),
        "answer": e.query.as_ref().and_then(|q| q.answer.clone()),
        "problems": e.problems,
        "warnings": e.warnings,
    })
}

/// A JSON array with one object per peer, its endpoints inside.
pub fn json(reports: &[PeerReport]) -> String {
    let all: Vec<Value> = reports
        .iter()
        .map(|p| {
            json!({
                "name": p.name,
                "home_community_id": p.home_community_id,
                "ok": p.ok(),
                "timeout_secs": p.timeout_secs,
                "endpoints": p.endpoints.iter().map(endpoint_json).collect::<Vec<_>>(),
            })
        })
        .collect();
    serde_json::to_string_pretty(&all).unwrap_or_else(|_| "[]".into())
}
