//! Every SQL statement the registry runs for ITI-42 and all 14 stored queries (for a national and
//! a cross-border caller, with the confidentiality and consent lookups that hide documents), for
//! ITI-57 (a new version, a status change), ITI-62, and the repository for ITI-43 (eHDSI pivots
//! too) and ITI-86, must be driven by an index: SQLite's EXPLAIN QUERY PLAN may not
//! show a table scan for any of them.

mod common;
use common::meta::{self, Doc};
use diesel::connection::{set_default_instrumentation, Instrumentation, InstrumentationEvent};
use diesel::prelude::*;
use diesel::sql_types::Text;
use ncpeh::ebxml::parse_submit_objects;
use ncpeh::ebxml::query::parse_adhoc_query;
use ncpeh::ebxml::remove::{parse_remove_objects, write_remove_objects};
use ncpeh::ebxml::retrieve::DocumentRequest;
use ncpeh::registry::query as sq;
use ncpeh::repository::provide::DocFacts;
use ncpeh::xds::confidentiality::Viewer;
use ncpeh::xds::ids;
use ncpeh::xds::validate::Expect;
use std::sync::Mutex;

static SEEN: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn recorder() -> Option<Box<dyn Instrumentation>> {
    Some(Box::new(|event: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::StartQuery { query, .. } = event {
            let text = query.to_string();
            let sql = text
                .split(" -- binds:")
                .next()
                .unwrap_or_default()
                .trim()
                .to_string();
            SEEN.lock().unwrap().push(sql);
        }
    }))
}

#[derive(QueryableByName)]
struct PlanRow {
    #[diesel(sql_type = Text)]
    detail: String,
}

fn xml(s: &str) -> ncpeh::xml::Element {
    ncpeh::xml::parse(s.as_bytes(), Default::default()).unwrap()
}

#[tokio::test]
async fn registry_sql_uses_indexes() {
    set_default_instrumentation(recorder).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("plans.db").display().to_string();
    let mut cfg = ncpeh::config::Config::default();
    cfg.database.url = Some(db.clone());
    cfg.registry.allow_unknown_patients = true;
    let store = ncpeh::node::open_store(&cfg).unwrap();
    let reg = ncpeh::registry::node_registry_for_tests(&cfg, store);

    let pid = common::new_pid();
    let a = Doc::new("urn:uuid:aaaaaaaa-0000-0000-0000-000000000001", &pid);
    let mut b = Doc::new("urn:uuid:aaaaaaaa-0000-0000-0000-000000000002", &pid);
    b.refs = vec!["x".into()];
    let objs = vec![
        meta::submission_set(
            "urn:uuid:aaaaaaaa-0000-0000-0000-00000000000s",
            &pid,
            &meta::new_uid(),
        ),
        meta::folder(
            "urn:uuid:aaaaaaaa-0000-0000-0000-00000000000f",
            &pid,
            &meta::new_uid(),
        ),
        a.xml(),
        meta::assoc(
            "urn:uuid:aaaaaaaa-0000-0000-0000-0000000000a1",
            ids::HAS_MEMBER,
            "urn:uuid:aaaaaaaa-0000-0000-0000-00000000000s",
            &a.id,
            Some("Original"),
        ),
        meta::assoc(
            "urn:uuid:aaaaaaaa-0000-0000-0000-0000000000a2",
            ids::HAS_MEMBER,
            "urn:uuid:aaaaaaaa-0000-0000-0000-00000000000s",
            "urn:uuid:aaaaaaaa-0000-0000-0000-00000000000f",
            None,
        ),
        meta::assoc(
            "urn:uuid:aaaaaaaa-0000-0000-0000-0000000000a3",
            ids::HAS_MEMBER,
            "urn:uuid:aaaaaaaa-0000-0000-0000-00000000000f",
            &a.id,
            None,
        ),
    ];
    reg.register(
        parse_submit_objects(&xml(&meta::submit(&objs))).unwrap(),
        Expect::default(),
    )
    .await
    .unwrap();
    let objs = vec![
        meta::submission_set(
            "urn:uuid:aaaaaaaa-0000-0000-0000-00000000000t",
            &pid,
            &meta::new_uid(),
        ),
        b.xml(),
        meta::assoc(
            "urn:uuid:aaaaaaaa-0000-0000-0000-0000000000b1",
            ids::HAS_MEMBER,
            "urn:uuid:aaaaaaaa-0000-0000-0000-00000000000t",
            &b.id,
            Some("Original"),
        ),
        meta::assoc(
            "urn:uuid:aaaaaaaa-0000-0000-0000-0000000000b2",
            ids::RPLC,
            &b.id,
            &a.id,
            None,
        ),
    ];
    reg.register(
        parse_submit_objects(&xml(&meta::submit(&objs))).unwrap(),
        Expect::default(),
    )
    .await
    .unwrap();

    let p = format!("'{pid}'");
    let st = "('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')";
    let one = |id: &str| format!("('{id}')");
    let queries: Vec<(&str, Vec<(&str, String)>)> = vec![
        (
            sq::FIND_DOCUMENTS,
            vec![
                ("$XDSDocumentEntryPatientId", p.clone()),
                ("$XDSDocumentEntryStatus", st.into()),
                (
                    "$XDSDocumentEntryClassCode",
                    "('11488-4^^2.16.840.1.113883.6.1')".into(),
                ),
                ("$XDSDocumentEntryAuthorPerson", "('%')".into()),
                ("$XDSDocumentEntryCreationTimeFrom", "2020".into()),
            ],
        ),
        (
            sq::FIND_DOCUMENTS_BY_REFERENCE_ID,
            vec![
                ("$XDSDocumentEntryPatientId", p.clone()),
                ("$XDSDocumentEntryStatus", st.into()),
                ("$XDSDocumentEntryReferenceIdList", "('x')".into()),
            ],
        ),
        (
            sq::FIND_SUBMISSION_SETS,
            vec![
                ("$XDSSubmissionSetPatientId", p.clone()),
                ("$XDSSubmissionSetStatus", st.into()),
                (
                    "$XDSSubmissionSetSourceId",
                    "('2.16.578.1.12.4.1.2.100')".into(),
                ),
            ],
        ),
        (
            sq::FIND_FOLDERS,
            vec![
                ("$XDSFolderPatientId", p.clone()),
                ("$XDSFolderStatus", st.into()),
                ("$XDSFolderLastUpdateTimeFrom", "2020".into()),
            ],
        ),
        (
            sq::GET_ALL,
            vec![
                ("$patientId", p.clone()),
                ("$XDSDocumentEntryStatus", st.into()),
                ("$XDSSubmissionSetStatus", st.into()),
                ("$XDSFolderStatus", st.into()),
            ],
        ),
        (
            sq::GET_DOCUMENTS,
            vec![("$XDSDocumentEntryUniqueId", one(&a.uid))],
        ),
        (
            sq::GET_FOLDERS,
            vec![(
                "$XDSFolderEntryUUID",
                one("urn:uuid:aaaaaaaa-0000-0000-0000-00000000000f"),
            )],
        ),
        (sq::GET_ASSOCIATIONS, vec![("$uuid", one(&a.id))]),
        (
            sq::GET_DOCUMENTS_AND_ASSOCIATIONS,
            vec![("$XDSDocumentEntryEntryUUID", one(&a.id))],
        ),
        (sq::GET_SUBMISSION_SETS, vec![("$uuid", one(&a.id))]),
        (
            sq::GET_SUBMISSION_SET_AND_CONTENTS,
            vec![(
                "$XDSSubmissionSetEntryUUID",
                one("urn:uuid:aaaaaaaa-0000-0000-0000-00000000000s"),
            )],
        ),
        (
            sq::GET_FOLDER_AND_CONTENTS,
            vec![(
                "$XDSFolderEntryUUID",
                one("urn:uuid:aaaaaaaa-0000-0000-0000-00000000000f"),
            )],
        ),
        (
            sq::GET_FOLDERS_FOR_DOCUMENT,
            vec![("$XDSDocumentEntryEntryUUID", one(&a.id))],
        ),
        (
            sq::GET_RELATED_DOCUMENTS,
            vec![
                ("$XDSDocumentEntryEntryUUID", one(&b.id)),
                ("$AssociationTypes", one(ids::RPLC)),
            ],
        ),
    ];
    // A refusal on record (of another patient) makes the consent lookup of cross-border
    // answers read a table that has rows.
    let other = common::new_pid();
    reg.store
        .write(move |c| {
            ncpeh::store::consent::deny(c, &other, ncpeh::store::consent::Scope::Ehdsi, 0)
                .map_err(ncpeh::store::StoreError::from)
        })
        .await
        .unwrap();
    let viewers = [Viewer::national(), Viewer::cross_border(Some(pid.clone()))];
    for viewer in &viewers {
        for (id, params) in &queries {
            let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let q = parse_adhoc_query(&xml(&meta::query(id, true, &params))).unwrap();
            let found = reg
                .stored_query(q, viewer.clone())
                .await
                .unwrap_or_else(|e| panic!("{id}: {e}"));
            assert!(!found.is_empty(), "query {id} found nothing in the fixture");
        }
    }
    // ITI-43 of a registered document: the document row, then the confidentiality of its entry.
    let repo = ncpeh::repository::Repository::new(&cfg, reg.clone()).unwrap();
    repo.store_documents(vec![DocFacts {
        entry_id: a.id.clone(),
        unique_id: a.uid.clone(),
        mime_type: "text/xml".into(),
        hash: "da39a3ee5e6b4b0d3255bfef95601890afd80709".into(),
        size: 0,
        data: Default::default(),
    }])
    .await
    .unwrap();
    for viewer in &viewers {
        let req = DocumentRequest {
            home: None,
            repository_uid: cfg.repository.unique_id.clone(),
            document_uid: a.uid.clone(),
        };
        let answer = repo.retrieve(vec![req], viewer.clone()).await.unwrap();
        assert_eq!(answer.docs.len(), 1, "the N document is retrieved");
    }

    // ITI-57: a new version of b (folder membership propagated) and the folder deprecated;
    // then GetDocuments by logicalID (level 2) and by uniqueId (level 1, newest only).
    let b2 = "urn:uuid:aaaaaaaa-0000-0000-0000-0000000000b9";
    let folder = "urn:uuid:aaaaaaaa-0000-0000-0000-00000000000f";
    let mut next = b.clone();
    next.id = b2.into();
    let version = next.xml().replacen(
        &format!("id=\"{b2}\""),
        &format!("id=\"{b2}\" lid=\"{}\"", b.id),
        1,
    );
    let update = meta::submit(&[
        meta::submission_set("urn:uuid:aaaaaaaa-0000-0000-0000-00000000000u", &pid, &meta::new_uid()),
        version,
        format!(
            "<rim:Association id=\"urn:uuid:aaaaaaaa-0000-0000-0000-0000000000c1\" associationType=\"{}\" sourceObject=\"urn:uuid:aaaaaaaa-0000-0000-0000-00000000000u\" targetObject=\"{b2}\"><rim:Slot name=\"SubmissionSetStatus\"><rim:ValueList><rim:Value>Original</rim:Value></rim:ValueList></rim:Slot><rim:Slot name=\"PreviousVersion\"><rim:ValueList><rim:Value>1</rim:Value></rim:ValueList></rim:Slot></rim:Association>",
            ids::HAS_MEMBER
        ),
    ]);
    reg.update_audited(
        parse_submit_objects(&xml(&update)).unwrap(),
        ncpeh::registry::update::UpdateKind::Full,
        None,
    )
    .await
    .unwrap();
    let status = meta::status_update(&pid, folder, "Approved", "Deprecated");
    reg.update_audited(
        parse_submit_objects(&xml(&status)).unwrap(),
        ncpeh::registry::update::UpdateKind::Full,
        None,
    )
    .await
    .unwrap();
    for (params, level) in [
        (("$XDSDocumentEntryLogicalID", one(&b.id)), "2"),
        (("$XDSDocumentEntryUniqueId", one(&b.uid)), "1"),
    ] {
        let q = meta::query(
            sq::GET_DOCUMENTS,
            true,
            &[(params.0, &params.1), ("$MetadataLevel", level)],
        );
        let found = reg
            .stored_query(parse_adhoc_query(&xml(&q)).unwrap(), Viewer::national())
            .await
            .unwrap();
        assert_eq!(
            found.len(),
            if level == "2" { 2 } else { 1 },
            "GetDocuments at level {level}"
        );
    }
    // An eHDSI pivot made from a's document, retrieved by its own uniqueId; ITI-86 of a's
    // document below takes it along.
    let pivot_uid = meta::new_uid();
    repo.store_pivots(vec![(
        DocFacts {
            entry_id: "urn:uuid:aaaaaaaa-0000-0000-0000-0000000000p1".into(),
            unique_id: pivot_uid.clone(),
            mime_type: "text/xml".into(),
            hash: "da39a3ee5e6b4b0d3255bfef95601890afd80709".into(),
            size: 0,
            data: Default::default(),
        },
        a.uid.clone(),
    )])
    .await
    .unwrap();
    let req = DocumentRequest {
        home: None,
        repository_uid: cfg.repository.unique_id.clone(),
        document_uid: pivot_uid.clone(),
    };
    let answer = repo.retrieve(vec![req], Viewer::national()).await.unwrap();
    assert_eq!(answer.docs.len(), 1, "the pivot is served");

    // ITI-62 of the second submission with every association to it (the RPLC, and the folder
    // membership the registry gave b), then ITI-86 of a's document: the lookups that check
    // for dangling references and the deletes.
    let set_and_doc = vec![
        "urn:uuid:aaaaaaaa-0000-0000-0000-00000000000t".to_string(),
        b.id.clone(),
    ];
    let mut ids = set_and_doc.clone();
    let ends = set_and_doc.clone();
    let links = reg
        .store
        .read(move |c| {
            let mut v = ncpeh::store::registry::assocs_touching(c, &ends, false, None)?;
            v.extend(ncpeh::store::registry::assocs_touching(
                c, &ends, true, None,
            )?);
            Ok::<_, ncpeh::store::StoreError>(v)
        })
        .await
        .unwrap();
    ids.extend(links.iter().map(|l| l.uuid.clone()));
    ids.sort();
    ids.dedup();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let removal = parse_remove_objects(&xml(&write_remove_objects(&refs))).unwrap();
    let removed = reg.remove_metadata(removal, None).await.unwrap();
    assert_eq!(removed.objects.len(), 2);
    assert!(removed.assocs.len() >= 2, "b1 and the RPLC at least");
    let req = DocumentRequest {
        home: None,
        repository_uid: cfg.repository.unique_id.clone(),
        document_uid: a.uid.clone(),
    };
    let answer = repo.remove_documents(vec![req], None).await.unwrap();
    assert_eq!(answer.removed, vec![a.uid.clone()]);
    let req = DocumentRequest {
        home: None,
        repository_uid: cfg.repository.unique_id.clone(),
        document_uid: pivot_uid.clone(),
    };
    let answer = repo.retrieve(vec![req], Viewer::national()).await.unwrap();
    assert!(answer.docs.is_empty(), "the pivot went with its source");

    let seen: Vec<String> = std::mem::take(&mut *SEEN.lock().unwrap());
    // The lookups that hide documents are among the statements checked.
    for table in ["LEFT OUTER JOIN `object_codes`", "FROM `consent_denials`"] {
        assert!(
            seen.iter()
                .any(|s| s.starts_with("SELECT") && s.contains(table)),
            "no statement with {table} was run"
        );
    }
    // So are the deletes of ITI-62 and ITI-86, from every table they touch.
    for table in [
        "`registry_objects`",
        "`object_codes`",
        "`object_values`",
        "`associations`",
        "`documents`",
        "`document_chunks`",
    ] {
        assert!(
            seen.iter()
                .any(|s| s.starts_with(&format!("DELETE FROM {table}"))),
            "no DELETE from {table} was run"
        );
    }
    let mut conn = SqliteConnection::establish(&db).unwrap();
    let mut checked = 0;
    for sql in seen.iter().filter(|s| {
        let l = s.trim_start().to_ascii_uppercase();
        (l.starts_with("SELECT") || l.starts_with("UPDATE") || l.starts_with("DELETE"))
            && !l.contains("__DIESEL_SCHEMA_MIGRATIONS")
    }) {
        let plan: Vec<PlanRow> = diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}"))
            .load(&mut conn)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        for row in &plan {
            let d = row.detail.to_ascii_uppercase();
            // Reading the bound list itself (json_each, see store/one_of.rs) is no table scan.
            assert!(
                !d.starts_with("SCAN ")
                    || d.starts_with("SCAN CONSTANT")
                    || d.starts_with("SCAN JSON_EACH VIRTUAL TABLE"),
                "statement is not index-driven:\n{sql}\nplan: {}",
                row.detail
            );
        }
        checked += 1;
    }
    assert!(
        checked >= 20,
        "expected to check the plans of many statements, checked {checked}"
    );
    eprintln!("checked the query plans of {checked} statements");
}
