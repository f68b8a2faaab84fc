//! `ncpeh document deprecate|remove UUID`: the operator's own changes, not bound to the submitting
//! source, each with its audit record in the same transaction (the OS user is the actor).

use super::remove::{audit_removal, delete, plan, touching};
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
    /// Remove a DocumentEntry (by entryUUID) for good: its metadata, every association to
    /// it, a SubmissionSet it leaves empty, and its bytes if this node's repository holds them.
    Remove {
        /// The DocumentEntry's entryUUID (urn:uuid:...).
        uuid: String,
    },
    /// Send a document to a repository as a health trust's Document Source (ITI-41 over mTLS),
    /// with metadata from flags or a TOML template, and say what the registry answered.
    Submit(Box<crate::source::SubmitArgs>),
}

pub fn run(cfg: &Config, cmd: DocumentCmd) -> ExitCode {
    let result = match cmd {
        DocumentCmd::Submit(a) => return crate::source::run(cfg, *a),
        DocumentCmd::Deprecate { uuid } => in_store(
            cfg,
            &uuid,
            EventType::UpdateDocumentSet,
            "deprecate",
            deprecate,
        ),
        DocumentCmd::Remove { uuid } => {
            in_store(cfg, &uuid, EventType::RemoveMetadata, "remove", remove)
        }
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

type Change = fn(&mut DbConn, &str, AuditEvent) -> Result<String, RegistryFailure>;

/// Runs one change in a write transaction of the node's database.
fn in_store(
    cfg: &Config,
    uuid: &str,
    event: EventType,
    what: &str,
    change: Change,
) -> Result<String, String> {
    // Two connections: the pool keeps that many idle.
    let store = crate::store::Store::open(&cfg.database_url(), 2).map_err(|e| e.to_string())?;
    let ev = operator_event(cfg, event, what);
    let uuid = uuid.trim().to_string();
    store
        .blocking_write(move |conn| {
            change(conn, &uuid, ev).map_err(|f| match f {
                RegistryFailure::Store(e) => e,
                RegistryFailure::Xds(errs) => crate::store::StoreError::Corrupt(
                    errs.iter()
                        .map(|e| e.context.clone())
                        .collect::<Vec<_>>()
                        .join("; "),
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
        subject_id: std::env::var("USER")
            .ok()
            .or_else(|| Some("operator".into())),
        role: Some("operator".into()),
        ..User::default()
    });
    ev
}

/// Deprecates the newest version of a DocumentEntry and audits it; a second run is refused
/// (it is already Deprecated), so the trail holds one record per change.
pub fn deprecate(
    conn: &mut DbConn,
    uuid: &str,
    mut ev: AuditEvent,
) -> Result<String, RegistryFailure> {
    let Some(row) = rs::objects_by_uuids(conn, &[uuid.to_string()])?.pop() else {
        return Err(XdsError::new(
            ErrorCode::UnresolvedReference,
            format!("no registry object {uuid}"),
        )
        .into());
    };
    if row.kind != EntryKind::DocumentEntry {
        return Err(XdsError::metadata(format!(
            "{uuid} is a {}, not a DocumentEntry",
            row.kind.label()
        ))
        .into());
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
    crate::store::pivots::forget_sources(conn, std::slice::from_ref(&row.unique_id))?;
    ev.patient_ids.push(row.patient_id.clone());
    ev.document_ids.push(row.unique_id.clone());
    crate::audit::append(conn, &ev)?;
    Ok(format!(
        "DocumentEntry {uuid} ({}) deprecated",
        row.unique_id
    ))
}

/// Removes a DocumentEntry with everything that would otherwise point at nothing, checked by
/// the same rules as ITI-62, and its bytes from this node's repository; audited.
pub fn remove(conn: &mut DbConn, uuid: &str, ev: AuditEvent) -> Result<String, RegistryFailure> {
    let Some(row) = rs::objects_by_uuids(conn, &[uuid.to_string()])?.pop() else {
        return Err(XdsError::new(
            ErrorCode::UnresolvedReference,
            format!("no registry object {uuid}"),
        )
        .into());
    };
    if row.kind != EntryKind::DocumentEntry {
        return Err(XdsError::metadata(format!(
            "{uuid} is a {}, not a DocumentEntry",
            row.kind.label()
        ))
        .into());
    }
    // The entry, its associations, and the associations that hold those (a SubmissionSet's
    // HasMember of a Folder membership).
    let mut ids = vec![uuid.to_string()];
    let first = touching(conn, &ids)?;
    let first_ids: Vec<String> = first.iter().map(|a| a.uuid.clone()).collect();
    let second = touching(conn, &first_ids)?;
    ids.extend(first_ids);
    ids.extend(second.iter().map(|a| a.uuid.clone()));
    // A SubmissionSet whose only association was to this entry goes too.
    let sets: Vec<String> = first
        .iter()
        .map(|a| a.source.clone())
        .filter(|s| s != uuid)
        .collect();
    for set in rs::objects_by_uuids(conn, &sets)?
        .into_iter()
        .filter(|o| o.kind == EntryKind::SubmissionSet)
    {
        let others = touching(conn, std::slice::from_ref(&set.uuid))?
            .into_iter()
            .filter(|a| !ids.contains(&a.uuid))
            .count();
        if others == 0 {
            ids.push(set.object.uuid);
        }
    }
    ids.sort_unstable();
    ids.dedup();
    let removal = plan(conn, &ids, None)?;
    delete(conn, &removal)?;
    let bytes = crate::store::remove::delete_documents(conn, std::slice::from_ref(&row.unique_id))?;
    audit_removal(conn, &removal, Some(ev))?;
    Ok(format!(
        "DocumentEntry {uuid} ({}) removed with {} association(s){}",
        row.unique_id,
        removal.assocs.len(),
        if bytes > 0 { " and its bytes" } else { "" }
    ))
}
