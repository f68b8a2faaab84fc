//! What a caller may see of the registry: a DocumentEntry whose confidentialityCodes do not
//! reach the caller's audience is hidden, and for a cross-border caller so is everything about a
//! patient who refused the eHDSI exchange, and anything of a patient other than the one its TRC
//! assertion names. A hidden object is answered as if it were absent.
//!
//! The facts come from the indexes, once per object and answer: for rows already read, one
//! statement for their confidentialityCodes (object_codes key); for other objects an answer
//! names, one for their codes and patients (uuid index, object_codes key); and for a
//! cross-border caller one for the patients' refusals (consent_denials key).

use crate::store::consent::{self, Scope};
use crate::store::registry::{self as rs, ObjectRow};
use crate::store::DbConn;
use crate::xds::confidentiality::{Audience, ConfidentialityPolicy, Viewer};
use crate::xds::model::CodeKind;
use crate::xds::EntryKind;
use diesel::QueryResult;
use std::collections::{HashMap, HashSet};

/// An object's kind, patient and confidentialityCodes (code, scheme).
type Facts<'r> = (EntryKind, &'r str, Vec<(&'r str, &'r str)>);

pub struct Gate<'p> {
    policy: &'p ConfidentialityPolicy,
    viewer: Viewer,
    audience: Audience,
    /// Every object looked at so far: uuid -> shown.
    seen: HashMap<String, bool>,
}

impl<'p> Gate<'p> {
    pub fn new(policy: &'p ConfidentialityPolicy, viewer: Viewer) -> Gate<'p> {
        Gate {
            policy,
            audience: viewer.audience,
            viewer,
            seen: HashMap::new(),
        }
    }

    /// True unless the uuid names an object this caller may not see. A uuid never looked up, or
    /// one that names no object (an association), is shown.
    pub fn shows(&self, uuid: &str) -> bool {
        self.seen.get(uuid).copied().unwrap_or(true)
    }

    /// Whether a looked-up uuid names a registry object here.
    pub fn knows(&self, uuid: &str) -> bool {
        self.seen.contains_key(uuid)
    }

    /// Looks up the uuids not seen yet.
    pub fn learn<'a>(
        &mut self,
        conn: &mut DbConn,
        uuids: impl IntoIterator<Item = &'a str>,
    ) -> QueryResult<()> {
        let mut new: Vec<String> = uuids
            .into_iter()
            .filter(|u| !self.seen.contains_key(*u))
            .map(str::to_string)
            .collect();
        new.sort_unstable();
        new.dedup();
        if new.is_empty() {
            return Ok(());
        }
        let rows = rs::confidentiality_of(conn, &new)?;
        let mut objects: HashMap<&str, Facts> = HashMap::new();
        for (uuid, kind, pid, code, scheme) in &rows {
            let facts = objects.entry(uuid).or_insert((*kind, pid, Vec::new()));
            if let (Some(c), Some(s)) = (code, scheme) {
                facts.2.push((c, s));
            }
        }
        self.decide(conn, objects)
    }

    /// Records whether each object is shown, from its kind, patient and confidentialityCodes.
    fn decide(&mut self, conn: &mut DbConn, objects: HashMap<&str, Facts>) -> QueryResult<()> {
        let refused = self.refused(conn, objects.values().map(|f| f.1))?;
        for (uuid, (kind, pid, codes)) in objects {
            let coded_ok =
                kind != EntryKind::DocumentEntry || self.policy.shows(codes, self.audience);
            let shown = coded_ok && !refused.contains(pid) && self.viewer.sees_patient(pid);
            self.seen.insert(uuid.to_string(), shown);
        }
        Ok(())
    }

    /// The patients whose refusal applies to this caller: only a cross-border caller is asked.
    fn refused<'a>(
        &self,
        conn: &mut DbConn,
        pids: impl Iterator<Item = &'a str>,
    ) -> QueryResult<HashSet<String>> {
        if self.audience != Audience::CrossBorder {
            return Ok(HashSet::new());
        }
        let mut pids: Vec<String> = pids.map(str::to_string).collect();
        pids.sort_unstable();
        pids.dedup();
        consent::denied(conn, &pids, Scope::Ehdsi)
    }

    /// Decides for rows already read: their kind and patient are in hand, so only the
    /// DocumentEntries' confidentialityCodes are looked up, by row number (the object_codes
    /// key), without going through the uuid index again.
    pub fn note(&mut self, conn: &mut DbConn, rows: &[ObjectRow]) -> QueryResult<()> {
        let rows: Vec<&ObjectRow> = rows
            .iter()
            .filter(|r| !self.seen.contains_key(&r.uuid))
            .collect();
        let entries: Vec<i64> = rows
            .iter()
            .filter(|r| r.kind == EntryKind::DocumentEntry)
            .map(|r| r.seq)
            .collect();
        let codes = rs::codes_of_kind(conn, &entries, CodeKind::Confidentiality)?;
        let mut by_seq: HashMap<i64, Vec<(&str, &str)>> = HashMap::new();
        for (seq, code, scheme) in &codes {
            by_seq.entry(*seq).or_default().push((code, scheme));
        }
        let objects = rows
            .iter()
            // `get`, not `remove`: a row may come twice (ids over two chunks), and its second
            // copy must not decide it without its codes.
            .map(|r| {
                let codes = by_seq.get(&r.seq).cloned().unwrap_or_default();
                (r.uuid.as_str(), (r.kind, r.patient_id.as_str(), codes))
            })
            .collect();
        self.decide(conn, objects)
    }

    /// The rows this caller may see.
    pub fn keep_rows(
        &mut self,
        conn: &mut DbConn,
        rows: Vec<ObjectRow>,
    ) -> QueryResult<Vec<ObjectRow>> {
        self.note(conn, &rows)?;
        Ok(rows.into_iter().filter(|r| self.shows(&r.uuid)).collect())
    }

    /// The ids (of a query's parameters) that do not name a hidden object.
    pub fn keep_ids(&mut self, conn: &mut DbConn, ids: Vec<String>) -> QueryResult<Vec<String>> {
        self.learn(conn, ids.iter().map(String::as_str))?;
        Ok(ids.into_iter().filter(|u| self.shows(u)).collect())
    }
}
