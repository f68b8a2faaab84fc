//! A stored audit record and its link in the chain: the SHA-256 over a canonical serialisation
//! of every stored field, the patient ids and the predecessor's hash.

use super::{to_millis, AuditEvent};
use crate::store::schema::audit_records;
use diesel::prelude::*;
use ring::digest;
use std::collections::BTreeSet;

/// The `prev_hash` of the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Separates the entries of the list columns; no id the node stores holds a newline.
const LIST_SEP: char = '\n';

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_records)]
pub struct AuditRow {
    pub seq: i64,
    pub event_time: i64,
    pub event_type: String,
    pub outcome: i16,
    pub endpoint: String,
    pub action: String,
    pub message_id: Option<String>,
    pub peer_subject: Option<String>,
    pub peer_cn: Option<String>,
    pub peer_issuer: Option<String>,
    pub peer_country: Option<String>,
    pub remote_addr: Option<String>,
    pub user_id: Option<String>,
    pub user_org: Option<String>,
    pub user_org_id: Option<String>,
    pub user_role: Option<String>,
    pub purpose: Option<String>,
    pub query_id: Option<String>,
    pub submission_set: Option<String>,
    pub document_ids: String,
    pub home_community_ids: String,
    pub reason: Option<String>,
    pub xml: String,
    pub prev_hash: String,
    pub hash: String,
}

/// Patient ids as stored: each once, sorted (the table has no order of its own).
pub fn patient_set(ids: &[String]) -> Vec<String> {
    ids.iter()
        .filter(|p| !p.is_empty())
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

fn join(items: &[String]) -> String {
    let clean: Vec<String> = items
        .iter()
        .map(|s| s.replace(LIST_SEP, " "))
        .filter(|s| !s.is_empty())
        .collect();
    clean.join(&LIST_SEP.to_string())
}

/// The entries of a list column.
pub fn split(list: &str) -> Vec<&str> {
    list.split(LIST_SEP).filter(|s| !s.is_empty()).collect()
}

impl AuditRow {
    /// The row for `ev` as record `seq` after `prev_hash`, hashed with `patients`
    /// (from [`patient_set`]).
    pub fn new(ev: &AuditEvent, seq: i64, prev_hash: String, patients: &[String]) -> AuditRow {
        let peer = ev.peer.as_ref();
        let user = ev.user.as_ref();
        let mut row = AuditRow {
            seq,
            event_time: to_millis(ev.time),
            event_type: ev.event.as_str().to_string(),
            outcome: ev.outcome.code(),
            endpoint: ev.endpoint.clone(),
            action: ev.action.clone(),
            message_id: ev.message_id.clone(),
            peer_subject: peer.map(|p| p.subject.clone()),
            peer_cn: peer.and_then(|p| p.common_name.clone().or_else(|| cn_of(&p.subject))),
            peer_issuer: peer.map(|p| p.issuer.clone()),
            peer_country: peer.and_then(|p| p.country.clone()),
            remote_addr: peer.and_then(|p| p.remote_addr.clone()),
            user_id: user.and_then(|u| u.subject_id.clone()),
            user_org: user.and_then(|u| u.organisation.clone()),
            user_org_id: user.and_then(|u| u.organisation_id.clone()),
            user_role: user.and_then(|u| u.role.clone()),
            purpose: user.and_then(|u| u.purpose_of_use.clone()),
            query_id: ev.query_id.clone(),
            submission_set: ev.submission_set.clone(),
            document_ids: join(&ev.document_ids),
            home_community_ids: join(&ev.home_community_ids),
            reason: ev.reason.clone(),
            xml: ev.to_xml(),
            prev_hash,
            hash: String::new(),
        };
        row.hash = row.compute_hash(patients);
        row
    }

    /// SHA-256 (hex) of the canonical serialisation of this row and `patients` (sorted).
    pub fn compute_hash(&self, patients: &[String]) -> String {
        hex::encode(digest::digest(&digest::SHA256, &self.canonical(patients)))
    }

    /// Every field as `name=<byte length>:<value>` (absent: `name!`), one per line, in a fixed
    /// order: the lengths make the encoding unambiguous whatever the values hold.
    fn canonical(&self, patients: &[String]) -> Vec<u8> {
        let mut out = b"ncpeh-audit-v1\n".to_vec();
        let mut put = |name: &str, v: Option<&str>| {
            out.extend_from_slice(name.as_bytes());
            match v {
                Some(v) => {
                    out.extend_from_slice(format!("={}:", v.len()).as_bytes());
                    out.extend_from_slice(v.as_bytes());
                }
                None => out.push(b'!'),
            }
            out.push(b'\n');
        };
        put("seq", Some(&self.seq.to_string()));
        put("event_time", Some(&self.event_time.to_string()));
        put("event_type", Some(&self.event_type));
        put("outcome", Some(&self.outcome.to_string()));
        put("endpoint", Some(&self.endpoint));
        put("action", Some(&self.action));
        let optional = [
            ("message_id", &self.message_id),
            ("peer_subject", &self.peer_subject),
            ("peer_cn", &self.peer_cn),
            ("peer_issuer", &self.peer_issuer),
            ("peer_country", &self.peer_country),
            ("remote_addr", &self.remote_addr),
            ("user_id", &self.user_id),
            ("user_org", &self.user_org),
            ("user_org_id", &self.user_org_id),
            ("user_role", &self.user_role),
            ("purpose", &self.purpose),
            ("query_id", &self.query_id),
            ("submission_set", &self.submission_set),
            ("reason", &self.reason),
        ];
        for (name, v) in optional {
            put(name, v.as_deref());
        }
        put("document_ids", Some(&self.document_ids));
        put("home_community_ids", Some(&self.home_community_ids));
        let mut sorted: Vec<&String> = patients.iter().collect();
        sorted.sort();
        put("patients", Some(&sorted.len().to_string()));
        for p in sorted {
            put("patient", Some(p));
        }
        put("xml", Some(&self.xml));
        put("prev_hash", Some(&self.prev_hash));
        out
    }
}

/// The CN of a subject written as `C=NO, O=..., CN=name`.
fn cn_of(subject: &str) -> Option<String> {
    subject
        .split(',')
        .filter_map(|part| part.trim().strip_prefix("CN="))
        .next()
        .map(str::to_string)
}
