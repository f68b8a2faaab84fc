//! `ncpeh audit verify` and `ncpeh audit list`: safe while the node runs (they only read).

use super::record::{split, AuditRow};
use super::store::{list, verify, Filter, Verified};
use super::{from_millis, rfc3339, AuditError, Outcome};
use crate::config::Config;
use crate::store::{Store, StoreError};
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum AuditCmd {
    /// Recompute the hash chain and report the first altered or deleted record (exit 0 only
    /// when the chain is intact, 1 when it is broken, 2 when it cannot be read).
    Verify,
    /// Who looked at what, from where, and why: the newest records, oldest first.
    List(ListArgs),
}

#[derive(clap::Args)]
pub struct ListArgs {
    /// Records naming this patient ('ID^^^&OID&ISO').
    #[arg(long)]
    pub patient: Option<String>,
    /// Records from this time on (RFC 3339, e.g. 2026-12-01T00:00:00Z).
    #[arg(long)]
    pub since: Option<String>,
    /// Records of requests from the peer certificate with this CN.
    #[arg(long)]
    pub peer: Option<String>,
    /// One JSON array instead of text.
    #[arg(long)]
    pub json: bool,
    /// At most this many records (the newest).
    #[arg(long, default_value_t = 1000)]
    pub limit: u32,
}

pub fn run(cfg: &Config, cmd: AuditCmd) -> ExitCode {
    let result = match cmd {
        AuditCmd::Verify => run_verify(cfg),
        AuditCmd::List(a) => run_list(cfg, &a).map(|()| ExitCode::SUCCESS),
    };
    result.unwrap_or_else(|e| {
        eprintln!("ncpeh audit: {e}");
        ExitCode::from(2)
    })
}

fn open(cfg: &Config) -> Result<Store, StoreError> {
    // Two connections: the pool keeps that many idle.
    Store::open(&cfg.database_url(), 2)
}

fn run_verify(cfg: &Config) -> Result<ExitCode, AuditError> {
    let store = open(cfg)?;
    let v: Verified = store.blocking_write(verify)?;
    match v.broken {
        None => {
            println!("audit trail intact: {} records", v.records);
            Ok(ExitCode::SUCCESS)
        }
        Some(b) => {
            println!(
                "audit trail BROKEN at record {}: {b} ({} records before it are intact)",
                b.seq(),
                v.records
            );
            Ok(ExitCode::FAILURE)
        }
    }
}

fn run_list(cfg: &Config, a: &ListArgs) -> Result<(), AuditError> {
    let since = a
        .since
        .as_deref()
        .map(|s| {
            time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
                .map(super::to_millis)
                .map_err(|e| AuditError::Usage(format!("--since {s:?} is not RFC 3339: {e}")))
        })
        .transpose()?;
    let filter = Filter {
        patient: a.patient.clone(),
        since,
        peer: a.peer.clone(),
        limit: i64::from(a.limit),
    };
    let store = open(cfg)?;
    let rows = store.blocking_write(|c| list(c, &filter).map_err(StoreError::from))?;
    if a.json {
        let all: Vec<serde_json::Value> = rows.iter().map(|(r, p)| json(r, p)).collect();
        let text = serde_json::to_string_pretty(&all).unwrap_or_else(|_| "[]".into());
        println!("{text}");
    } else if rows.is_empty() {
        println!("no audit records match");
    } else {
        for (r, p) in &rows {
            print!("{}", text(r, p));
        }
    }
    Ok(())
}

fn outcome(code: i16) -> &'static str {
    Outcome::from_code(code).map_or("unknown", Outcome::as_str)
}

fn json(r: &AuditRow, patients: &[String]) -> serde_json::Value {
    serde_json::json!({
        "seq": r.seq,
        "time": rfc3339(from_millis(r.event_time)),
        "event": r.event_type,
        "outcome": outcome(r.outcome),
        "endpoint": r.endpoint,
        "action": r.action,
        "message_id": r.message_id,
        "peer": {
            "subject": r.peer_subject,
            "cn": r.peer_cn,
            "issuer": r.peer_issuer,
            "country": r.peer_country,
            "remote_addr": r.remote_addr,
        },
        "user": {
            "subject_id": r.user_id,
            "organisation": r.user_org,
            "organisation_id": r.user_org_id,
            "role": r.user_role,
            "purpose_of_use": r.purpose,
        },
        "patients": patients,
        "documents": split(&r.document_ids),
        "submission_set": r.submission_set,
        "query_id": r.query_id,
        "home_community_ids": split(&r.home_community_ids),
        "reason": r.reason,
    })
}

/// One record as a few indented lines; only what is known is shown.
fn text(r: &AuditRow, patients: &[String]) -> String {
    let mut out = format!(
        "{} #{} {} {} {}\n",
        rfc3339(from_millis(r.event_time)),
        r.seq,
        r.event_type,
        outcome(r.outcome),
        r.endpoint
    );
    let mut line = |label: &str, value: String| {
        if !value.is_empty() {
            out.push_str(&format!("    {label:<10} {value}\n"));
        }
    };
    let from = r
        .remote_addr
        .as_deref()
        .map_or(String::new(), |a| format!(" from {a}"));
    line(
        "peer",
        r.peer_subject
            .as_deref()
            .map_or(String::new(), |s| format!("{s}{from}")),
    );
    let user: Vec<String> = [
        r.user_id.clone(),
        r.user_role.as_ref().map(|x| format!("role {x}")),
        r.user_org.clone(),
        r.user_org_id.as_ref().map(|x| format!("org id {x}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    line("user", user.join(", "));
    line("purpose", r.purpose.clone().unwrap_or_default());
    line("patients", patients.join(" "));
    line("documents", split(&r.document_ids).join(" "));
    line("query", r.query_id.clone().unwrap_or_default());
    line("reason", r.reason.clone().unwrap_or_default());
    out
}
