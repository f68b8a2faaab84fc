//! The checking side of the crash test: each submission over the node's endpoints, the
//! database as a crash left it, and the audit trail.

use crate::clients::{sha1_hex, Kind, Submission, Target};
use crate::common::xdsb::{self, REPO_UID};
use crate::common::{answer, meta, TestNode, BIN};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use ncpeh::ids::action::{RETRIEVE, STORED_QUERY, XC_QUERY};
use ncpeh::registry::query::{FIND_DOCUMENTS, GET_DOCUMENTS, GET_SUBMISSION_SET_AND_CONTENTS};
use ncpeh::soap::envelope::encode_request;
use ncpeh::transport::client::decode_soap_reply;
use ncpeh::xds::ids;
use ncpeh::xml::Element;
use std::collections::{BTreeSet, HashMap};

/// How a submission was found: there is nothing in between (the test fails on anything else).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Presence {
    Whole,
    Absent,
}

async fn query(t: &Target, body: &str) -> Element {
    let r = t
        .soap("/xds/registry", STORED_QUERY, body)
        .await
        .expect("ITI-18");
    assert_eq!(
        answer::status(&r.body),
        answer::SUCCESS,
        "ITI-18: {:?}",
        answer::error_codes(&r.body)
    );
    r.body
}

/// A slot's first value on an object.
fn slot(o: &Element, name: &str) -> String {
    o.children_named(answer::RIM, "Slot")
        .find(|s| s.attr("name") == Some(name))
        .and_then(|s| s.find(answer::RIM, "Value"))
        .map(|v| v.text().trim().to_string())
        .unwrap_or_default()
}

/// Finds `s` through ITI-18 (the SubmissionSet with its entries and associations) and, with
/// `bytes`, reads its documents back through ITI-43. Fails on a partial submission, on wrong
/// metadata or bytes, and on entries or bytes of a submission that is otherwise absent.
pub async fn submission(t: &Target, s: &Submission, bytes: bool) -> Presence {
    let q = meta::query(
        GET_SUBMISSION_SET_AND_CONTENTS,
        true,
        &[("$XDSSubmissionSetUniqueId", &format!("'{}'", s.set_uid))],
    );
    let body = query(t, &q).await;
    let sets = answer::count(&body, "RegistryPackage");
    let entries = answer::count(&body, "ExtrinsicObject");
    let assocs = answer::count(&body, "Association");
    let want: BTreeSet<&str> = s.docs.iter().map(|d| d.uid.as_str()).collect();
    if sets == 0 && entries == 0 && assocs == 0 {
        // Nothing of it may linger elsewhere: entries registered apart, or bytes.
        let list = s
            .docs
            .iter()
            .map(|d| format!("'{}'", d.uid))
            .collect::<Vec<_>>()
            .join(",");
        let q = meta::query(
            GET_DOCUMENTS,
            false,
            &[("$XDSDocumentEntryUniqueId", &format!("({list})"))],
        );
        let loose = query(t, &q).await;
        assert!(
            answer::objects(&loose).is_empty(),
            "entries of an absent submission: {s:?}"
        );
        if s.has_bytes() {
            let got = retrieve(t, s).await;
            assert!(got.is_empty(), "bytes of an absent submission: {s:?}");
        }
        return Presence::Absent;
    }
    assert_eq!(
        (sets, entries, assocs),
        (1, s.docs.len(), s.docs.len()),
        "partial submission {s:?}"
    );
    let list = body
        .child(answer::RIM, "RegistryObjectList")
        .expect("objects");
    let mut seen = BTreeSet::new();
    for eo in list.children_named(answer::RIM, "ExtrinsicObject") {
        let uid = eo
            .children_named(answer::RIM, "ExternalIdentifier")
            .find(|x| x.attr("identificationScheme") == Some(ids::DE_UNIQUE_ID))
            .and_then(|x| x.attr("value"))
            .unwrap_or_default()
            .to_string();
        let d = s
            .docs
            .iter()
            .find(|d| d.uid == uid)
            .unwrap_or_else(|| panic!("unknown entry {uid} in {s:?}"));
        assert_eq!(slot(eo, "hash"), d.sha1, "hash of {uid}");
        assert_eq!(slot(eo, "size"), d.size.to_string(), "size of {uid}");
        seen.insert(d.uid.as_str());
    }
    assert_eq!(seen, want, "entries of {s:?}");
    if bytes && s.has_bytes() {
        let got = retrieve(t, s).await;
        assert_eq!(got.len(), s.docs.len(), "documents of {s:?}");
        for (uid, sha1, size) in got {
            let d = s.docs.iter().find(|d| d.uid == uid).expect("asked for");
            assert_eq!((sha1, size), (d.sha1.clone(), d.size), "bytes of {uid}");
        }
    }
    Presence::Whole
}

/// (uniqueId, SHA-1, size) of each document of `s` that ITI-43 returns.
async fn retrieve(t: &Target, s: &Submission) -> Vec<(String, String, u64)> {
    let reqs: Vec<(&str, &str)> = s.docs.iter().map(|d| (REPO_UID, d.uid.as_str())).collect();
    let url = t.url("/xds/repository");
    let env = encode_request(
        RETRIEVE,
        &url,
        &format!("urn:uuid:{}", uuid::Uuid::new_v4()),
        &xdsb::retrieve_body(&reqs),
    );
    let (ct, chunks) = xdsb::mtom_body(RETRIEVE, env, vec![]);
    let reply = t
        .client
        .request(hyper::Method::POST, &url, Some(&ct), chunks)
        .await
        .expect("ITI-43");
    let r = decode_soap_reply(reply).expect("ITI-43 answer");
    xdsb::documents(&r)
        .into_iter()
        .map(|(uid, _, data)| (uid, sha1_hex(&data), data.len() as u64))
        .collect()
}

/// The ePrescription of an eD submission, as the responding gateway offers it: closed exactly
/// when the eD is stored (`stored`). Returns the uniqueIds of the pivot documents the gateway
/// made (it keeps them in the repository without a registry entry).
pub async fn prescription_closed(t: &Target, s: &Submission, stored: bool) -> Vec<String> {
    assert_eq!(s.kind, Kind::Dispense);
    let q = meta::query(
        FIND_DOCUMENTS,
        true,
        &[
            ("$XDSDocumentEntryPatientId", &format!("'{}'", s.pid)),
            (
                "$XDSDocumentEntryStatus",
                "('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')",
            ),
            (
                "$XDSDocumentEntryClassCode",
                "('57833-6^^2.16.840.1.113883.6.1')",
            ),
        ],
    )
    .replacen(
        "<rim:AdhocQuery id=",
        &format!(
            "<rim:AdhocQuery home=\"{}\" id=",
            ncpeh::ids::ehdsi::NO_HOME_COMMUNITY
        ),
        1,
    );
    let r = t.soap("/xca", XC_QUERY, &q).await.expect("ITI-38");
    assert_eq!(
        answer::status(&r.body),
        answer::SUCCESS,
        "ITI-38: {:?}",
        answer::error_codes(&r.body)
    );
    let list = r
        .body
        .child(answer::RIM, "RegistryObjectList")
        .expect("objects");
    let events: Vec<Vec<String>> = list
        .elements()
        .map(|eo| {
            eo.children_named(answer::RIM, "Classification")
                .filter(|c| c.attr("classificationScheme") == Some(ids::DE_EVENT_CODE))
                .filter_map(|c| c.attr("nodeRepresentation").map(str::to_string))
                .collect()
        })
        .collect();
    assert_eq!(events.len(), 1, "one ePrescription for {s:?}");
    let closed = events[0].iter().any(|e| e == "closed");
    let open = events[0].iter().any(|e| e == "open");
    assert!(closed != open, "{events:?}");
    assert_eq!(
        closed, stored,
        "the ePrescription is closed exactly when its eD is stored: {s:?}"
    );
    answer::unique_ids(&r.body)
}

/// `ncpeh audit verify` passes, and a submission has a Success record exactly when it is there.
pub fn audit(node: &TestNode, all: &[Submission], found: &HashMap<String, Presence>) {
    let run = |args: &[&str]| {
        let out = std::process::Command::new(BIN)
            .arg("--config")
            .arg(&node.config)
            .arg("audit")
            .args(args)
            .output()
            .expect("run ncpeh audit");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (ok, text) = run(&["verify"]);
    assert!(ok && text.contains("intact"), "audit verify: {text}");
    let (ok, text) = run(&["list", "--json", "--limit", "100000000"]);
    assert!(ok, "audit list failed");
    let records: Vec<serde_json::Value> = serde_json::from_str(&text).expect("audit JSON");
    let recorded: BTreeSet<&str> = records
        .iter()
        .filter(|r| r["outcome"] == "success")
        .filter_map(|r| r["submission_set"].as_str())
        .collect();
    for s in all {
        let whole = found.get(&s.set_uid) == Some(&Presence::Whole);
        assert_eq!(
            recorded.contains(s.set_uid.as_str()),
            whole,
            "a stored submission has its audit record, an absent one none: {s:?}"
        );
    }
}

#[derive(QueryableByName)]
struct N {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct S {
    #[diesel(sql_type = Text)]
    s: String,
}

/// A direct connection to the node's database (SQLite file or PostgreSQL).
pub enum Db {
    Sqlite(diesel::SqliteConnection),
    Pg(diesel::PgConnection),
}

impl Db {
    pub fn open(url: &str) -> Db {
        if url.starts_with("postgres") {
            Db::Pg(diesel::PgConnection::establish(url).expect("PostgreSQL"))
        } else {
            Db::Sqlite(diesel::SqliteConnection::establish(url).expect("SQLite"))
        }
    }

    fn strings(&mut self, sql: &str) -> Vec<String> {
        let q = diesel::sql_query(sql);
        let rows: Vec<S> = match self {
            Db::Sqlite(c) => q.load(c),
            Db::Pg(c) => q.load(c),
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
        rows.into_iter().map(|r| r.s).collect()
    }

    fn count(&mut self, sql: &str) -> i64 {
        let q = diesel::sql_query(sql);
        match self {
            Db::Sqlite(c) => q.get_result::<N>(c),
            Db::Pg(c) => q.get_result::<N>(c),
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .n
    }

    /// The database as a crash left it (the node is down): the file passes SQLite's checks,
    /// and on both backends the repository, the registry, the dispensations and the audit
    /// chain agree with each other. `pivots` are the gateway's pivot documents, the only
    /// stored documents without a registry entry.
    pub fn assert_consistent(&mut self, pivots: &[String]) {
        if let Db::Sqlite(_) = self {
            let ic = self.strings("SELECT integrity_check AS s FROM pragma_integrity_check()");
            assert_eq!(ic, ["ok"], "PRAGMA integrity_check");
            let fk = self.count("SELECT COUNT(*) AS n FROM pragma_foreign_key_check()");
            assert_eq!(fk, 0, "PRAGMA foreign_key_check");
        }
        let no_bytes = self.strings(&format!(
            "SELECT o.unique_id AS s FROM registry_objects o WHERE o.repository_uid = '{REPO_UID}' \
             AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.entry_uuid = o.uuid AND d.unique_id = o.unique_id)"
        ));
        assert!(
            no_bytes.is_empty(),
            "registered without bytes: {no_bytes:?}"
        );
        let unregistered = self.strings(
            "SELECT d.unique_id AS s FROM documents d \
             WHERE NOT EXISTS (SELECT 1 FROM registry_objects o WHERE o.uuid = d.entry_uuid)",
        );
        let stray: Vec<&String> = unregistered
            .iter()
            .filter(|u| !pivots.contains(u))
            .collect();
        assert!(
            stray.is_empty(),
            "bytes without a registry entry: {stray:?}"
        );
        let torn = self.strings(
            "SELECT d.unique_id AS s FROM documents d WHERE d.chunk_count <> \
             (SELECT COUNT(*) FROM document_chunks c WHERE c.unique_id = d.unique_id) \
             OR d.size <> (SELECT COALESCE(SUM(LENGTH(c.data)), 0) FROM document_chunks c \
             WHERE c.unique_id = d.unique_id)",
        );
        assert!(torn.is_empty(), "chunks do not add up: {torn:?}");
        let loose_chunks = self.count(
            "SELECT COUNT(*) AS n FROM document_chunks c \
             WHERE NOT EXISTS (SELECT 1 FROM documents d WHERE d.unique_id = c.unique_id)",
        );
        assert_eq!(loose_chunks, 0, "chunks without a document");
        let dangling = self.count(
            "SELECT COUNT(*) AS n FROM associations a \
             WHERE NOT EXISTS (SELECT 1 FROM registry_objects o WHERE o.uuid = a.source) \
             OR NOT EXISTS (SELECT 1 FROM registry_objects o WHERE o.uuid = a.target)",
        );
        assert_eq!(dangling, 0, "associations to objects not stored");
        let undispensed = self.strings(
            "SELECT p.prescription_id AS s FROM dispensations p \
             WHERE NOT EXISTS (SELECT 1 FROM documents d WHERE d.unique_id = p.ed_unique_id)",
        );
        assert!(
            undispensed.is_empty(),
            "dispensations without their eD: {undispensed:?}"
        );
        let records = self.count("SELECT COUNT(*) AS n FROM audit_records");
        let head = self.count("SELECT last_seq AS n FROM audit_chain");
        assert_eq!(records, head, "audit records against the chain head");
    }

    /// Which of these prescriptions the node records as dispensed (their eP closed).
    pub fn dispensed(&mut self, prescriptions: &[&str]) -> BTreeSet<String> {
        if prescriptions.is_empty() {
            return BTreeSet::new();
        }
        let list = prescriptions
            .iter()
            .map(|p| format!("'{p}'"))
            .collect::<Vec<_>>()
            .join(",");
        self.strings(&format!(
            "SELECT prescription_id AS s FROM dispensations WHERE prescription_id IN ({list})"
        ))
        .into_iter()
        .collect()
    }
}
