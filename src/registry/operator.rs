//! `ncpeh document deprecate UUID`: the operator's own changes, not bound to the submitting
//! source, each with its audit record in the same transaction (the OS user is the actor).

use super::RegistryFailure;
use crate::audit::{AuditEvent, EventType, User};
use crate::config::Config;
use crate::store::registry as rs;
use crate::store::DbConn;
use crate::xds::model::{AvailabilityStatus, EntryKind};
use crate::xds::{ErrorCode, XdsError};
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum DocumentCmd {
    /// Deprecate the newest version of a DocumentEntry (by entryUUID): it stays in the
    /// registry, but FindDocuments for Approved entries no longer finds it.
    Deprecate {
        /// The DocumentEntry's entryUUID (urn:uuid:...).
        uuid: String,
    },
}

pub fn run(cfg: &Config, cmd: DocumentCmd) -> ExitCode {
    let result = match cmd {
        DocumentCmd::Deprecate { uuid } => deprecate_cmd(cfg, &uuid),
    };
    match result {
        Ok(msg) => {
            println!("{msg}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("ncpeh document: {e}");
            ExitCode::from(1)
        }
    }
}

fn deprecate_cmd(cfg: &Config, uuid: &str) -> Result<String, String> {
    // Two connections: the pool keeps that many idle.
    let store = crate::store::Store::open(&cfg.database_url(), 2).map_err(|e| e.to_string())?;
    let ev = operator_event(cfg, EventType::UpdateDocumentSet, "deprecate");
    let uuid = uuid.trim().to_string();
    store
        .blocking_write(move |conn| {
            deprecate(conn, &uuid, ev).map_err(|f| match f {
                RegistryFailure::Store(e) => e,
                RegistryFailure::Xds(errs) => crate::store::StoreError::Corrupt(
                    errs.iter().map(|e| e.context.clone()).collect::<Vec<_>>().join("; "),
                ),
            })
        })
        .map_err(|e| match e {
            crate::store::StoreError::Corrupt(why) => why,
            other => other.to_string(),
        })
}

/// An audit event for a change made at the console.
fn operator_event(cfg: &Config, event: EventType, what: &str) -> AuditEvent {
    let mut ev = AuditEvent::new(
        event,
        &cfg.audit.source_id,
        "cli",
        &format!("ncpeh document {what}"),
    );
    ev.user = Some(User {
        subject_id: std::env::var("USER").ok().or_else(|| Some("operator".into())),
        role: Some("operator".into()),
        ..User::default()
    });
    ev
}

/// Deprecates the newest version of a DocumentEntry and audits it; a second run is refused
/// (it is already Deprecated), so the trail holds one record per change.
pub fn deprecate(conn: &mut DbConn, uuid: &str, mut ev: AuditEvent) -> Result<String, RegistryFailure> {
    let Some(row) = rs::objects_by_uuids(conn, &[uuid.to_string()])?.pop() else {
        return Err(XdsError::new(ErrorCode::UnresolvedReference, format!("no registry object {uuid}")).into());
    };
    if row.kind != EntryKind::DocumentEntry {
        return Err(XdsError::metadata(format!("{uuid} is a {}, not a DocumentEntry", row.kind.label())).into());
    }
    let newest = rs::latest_versions(conn, std::slice::from_ref(&row.lid))?;
    if newest.get(&row.lid).map(|n| n.uuid.as_str()) != Some(uuid) {
        return Err(XdsError::new(
            ErrorCode::MetadataVersionError,
            format!("{uuid} is not the newest version of {}", row.lid),
        )
        .into());
    }
    if row.status != AvailabilityStatus::Approved {
        return Err(XdsError::metadata(format!("{uuid} is already Deprecated")).into());
    }
    rs::set_status(conn, &[uuid.to_string()], AvailabilityStatus::Deprecated)?;
    ev.patient_ids.push(row.patient_id.clone());
    ev.document_ids.push(row.unique_id.clone());
    crate::audit::append(conn, &ev)?;
    Ok(format!("DocumentEntry {uuid} ({}) deprecated", row.unique_id))
}
