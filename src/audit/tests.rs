//! Rendering and hashing, checked on the parsed XML and on the stored chain.

use super::record::{patient_set, AuditRow};
use super::store::{append, verify, Break};
use super::*;
use crate::xml::{parse, Element};

const PID: &str = "12345678901^^^&2.16.578.1.12.4.1.4.1&ISO";

fn event(e: EventType, endpoint: &str) -> AuditEvent {
    let mut ev = AuditEvent::new(e, "NO-1", endpoint, "urn:ihe:iti:2007:CrossGatewayQuery");
    ev.message_id = Some("urn:uuid:0b4f1a52-0c1f-4a83-9d8f-3c3f1c2f3e01".into());
    ev.peer = Some(Peer {
        subject: "C=SE, O=eHealth Agency SE dev, CN=NCPeH SE dev".into(),
        issuer: "C=NO, O=ncpeh development, CN=ncpeh dev CA".into(),
        common_name: Some("NCPeH SE dev".into()),
        country: Some("SE".into()),
        remote_addr: Some("192.0.2.7:50123".into()),
    });
    ev.user = Some(User {
        subject_id: Some("Dr. Sven Svensson".into()),
        organisation: Some("Karolinska".into()),
        organisation_id: Some("urn:oid:1.2.752.1".into()),
        role: Some("221".into()),
        purpose_of_use: Some("TREATMENT".into()),
    });
    ev.patient_ids = vec![PID.into()];
    ev.home_community_ids = vec!["urn:oid:2.16.752.1.12.4.5.10.1".into()];
    ev
}

fn xml(ev: &AuditEvent) -> Element {
    parse(ev.to_xml().as_bytes(), Default::default()).expect("well-formed AuditMessage")
}

/// (csd-code, codeSystemName) of every element called `name`.
fn codes_of(root: &Element, name: &str) -> Vec<(String, String)> {
    root.descendants()
        .into_iter()
        .filter(|e| e.name == name)
        .map(|e| {
            (
                e.attr("csd-code").unwrap_or_default().to_string(),
                e.attr("codeSystemName").unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn has(v: &[(String, String)], code: &str, system: &str) -> bool {
    v.iter().any(|(c, s)| c == code && s == system)
}

#[test]
fn every_event_renders_well_formed_with_its_codes() {
    use Direction::*;
    use EventType::*;
    let cases = [
        (
            RegistryStoredQuery,
            "/xds/registry",
            "110112",
            "ITI-18",
            None,
        ),
        (
            ProvideAndRegister,
            "/xds/repository",
            "110107",
            "ITI-41",
            None,
        ),
        (
            RegisterDocumentSet,
            "/xds/registry",
            "110107",
            "ITI-42",
            None,
        ),
        (
            RetrieveDocumentSet,
            "/xds/repository",
            "110106",
            "ITI-43",
            None,
        ),
        (RemoveMetadata, "/xds/registry", "110110", "ITI-62", None),
        (RemoveDocuments, "/xds/repository", "110110", "ITI-86", None),
        (
            CrossGatewayQuery(Responding),
            "/xca",
            "110112",
            "ITI-38",
            Some("EHDSI-21"),
        ),
        (
            CrossGatewayQuery(Initiating),
            "/xca/initiating",
            "110112",
            "ITI-38",
            Some("EHDSI-21"),
        ),
        (
            CrossGatewayRetrieve(Responding),
            "/xca",
            "110106",
            "ITI-39",
            Some("EHDSI-22"),
        ),
        (
            CrossGatewayRetrieve(Initiating),
            "/xca/initiating",
            "110107",
            "ITI-39",
            Some("EHDSI-22"),
        ),
        (
            PatientDiscovery(Responding),
            "/xcpd",
            "110112",
            "ITI-55",
            Some("EHDSI-11"),
        ),
        (
            PatientDiscovery(Initiating),
            "/xcpd/initiating",
            "110112",
            "ITI-55",
            Some("EHDSI-11"),
        ),
        (
            DispensationReceived,
            "/xdr",
            "110107",
            "ITI-41",
            Some("EHDSI-41"),
        ),
        (
            DispensationDiscarded,
            "/xdr",
            "110107",
            "ITI-41",
            Some("EHDSI-42"),
        ),
        (EncounterReportReceived, "/xdr", "110107", "ITI-41", None),
        (ProvideDocumentBundle, "/fhir", "110107", "ITI-65", None),
        (FindDocumentLists, "/fhir", "110112", "ITI-66", None),
        (FindDocumentReferences, "/fhir", "110112", "ITI-67", None),
        (RetrieveDocument, "/fhir", "110106", "ITI-68", None),
        (
            AuthenticationFailure,
            "/xds/registry",
            "110114",
            "110122",
            None,
        ),
        (AccessDenied, "/xds/repository", "110113", "110132", None),
        (
            AuthenticationFailure,
            "/xca",
            "110114",
            "110122",
            Some("EHDSI-91"),
        ),
        (AccessDenied, "/xcpd", "110113", "110132", Some("EHDSI-91")),
    ];
    for (e, path, event_id, type_code, ehdsi) in cases {
        let ev = event(e, path);
        let root = xml(&ev);
        assert_eq!(root.name, "AuditMessage");
        let ids = codes_of(&root, "EventID");
        assert!(has(&ids, event_id, "DCM"), "{e:?}: EventID {ids:?}");
        let types = codes_of(&root, "EventTypeCode");
        let system = if type_code.starts_with("ITI") {
            "IHE Transactions"
        } else {
            "DCM"
        };
        assert!(has(&types, type_code, system), "{e:?}: {types:?}");
        match ehdsi {
            Some(code) => {
                assert_eq!(ev.form(), Form::Ehdsi, "{e:?}");
                assert!(has(&types, code, "IHE Transactions"), "{e:?}: {types:?}");
                let roles = codes_of(&root, "RoleIDCode");
                assert!(has(&roles, "ServiceProvider", "eHealth DSI"), "{e:?}");
                assert!(has(&roles, "ServiceConsumer", "eHealth DSI"), "{e:?}");
            }
            None => {
                assert_eq!(ev.form(), Form::Ihe, "{e:?}");
                assert!(!types.iter().any(|(c, _)| c.starts_with("EHDSI")));
                let roles = codes_of(&root, "RoleIDCode");
                assert!(has(&roles, "110153", "DCM") && has(&roles, "110152", "DCM"));
            }
        }
        let patient = root
            .descendants()
            .into_iter()
            .find(|o| o.attr("ParticipantObjectID") == Some(PID))
            .expect("patient object");
        assert_eq!(patient.attr("ParticipantObjectTypeCode"), Some("1"));
        assert_eq!(patient.attr("ParticipantObjectTypeCodeRole"), Some("1"));
    }
}

#[test]
fn the_ehdsi_service_follows_the_document_class() {
    let mut ev = event(EventType::CrossGatewayQuery(Direction::Responding), "/xca");
    ev.class_code = Some(crate::ids::ehdsi::EP_CLASS.into());
    assert!(has(
        &codes_of(&xml(&ev), "EventTypeCode"),
        "EHDSI-31",
        "IHE Transactions"
    ));
    ev.event = EventType::CrossGatewayRetrieve(Direction::Responding);
    assert!(has(
        &codes_of(&xml(&ev), "EventTypeCode"),
        "EHDSI-32",
        "IHE Transactions"
    ));
    ev.class_code = Some("34105-7".into());
    assert!(has(
        &codes_of(&xml(&ev), "EventTypeCode"),
        "EHDSI-62",
        "IHE Transactions"
    ));
}

#[test]
fn a_query_names_its_stored_query_documents_and_communities() {
    let mut ev = event(EventType::RegistryStoredQuery, "/xds/registry");
    ev.query_id = Some("urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d".into());
    ev.document_ids = vec!["1.2.3.4".into(), "1.2.3.5".into()];
    ev.home_community_ids = vec!["urn:oid:2.16.578.1.12.4.5.10.1".into()];
    let root = xml(&ev);
    let objects: Vec<&Element> = root
        .descendants()
        .into_iter()
        .filter(|e| e.name == "ParticipantObjectIdentification")
        .collect();
    let query = objects
        .iter()
        .find(|o| o.attr("ParticipantObjectTypeCodeRole") == Some("24"))
        .expect("query object");
    assert_eq!(query.attr("ParticipantObjectID"), ev.query_id.as_deref());
    let home = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        "urn:oid:2.16.578.1.12.4.5.10.1",
    );
    assert!(query
        .elements()
        .any(|d| d.attr("type") == Some("ihe:homeCommunityID")
            && d.attr("value") == Some(home.as_str())));
    let docs = objects
        .iter()
        .filter(|o| o.attr("ParticipantObjectTypeCodeRole") == Some("3"))
        .count();
    assert_eq!(docs, 2);
    let event_id = root.child_local("EventIdentification").expect("event");
    assert_eq!(event_id.attr("EventActionCode"), Some("E"));
    assert_eq!(event_id.attr("EventOutcomeIndicator"), Some("0"));
    let purpose = codes_of(&root, "PurposeOfUse");
    assert_eq!(purpose.first().map(|p| p.0.as_str()), Some("TREATMENT"));
    let source = root
        .child_local("AuditSourceIdentification")
        .expect("source");
    assert_eq!(source.attr("AuditSourceID"), Some("NO-1"));
}

#[test]
fn a_refusal_carries_its_outcome_and_reason_and_no_names() {
    let mut ev = event(EventType::AuthenticationFailure, "/xca");
    ev.outcome = Outcome::SeriousFailure;
    ev.reason = Some("assertion signature <invalid> & refused".into());
    let text = ev.to_xml();
    let root = xml(&ev);
    let id = root.child_local("EventIdentification").expect("event");
    assert_eq!(id.attr("EventOutcomeIndicator"), Some("8"));
    let desc = id.child_local("EventOutcomeDescription").expect("reason");
    assert_eq!(desc.text(), "assertion signature <invalid> & refused");
    assert!(has(
        &codes_of(&root, "ParticipantObjectIDTypeCode"),
        "9",
        "eHealth DSI Security"
    ));
    // The model has no patient name; the patient appears by id only.
    assert!(!text.contains("Kari") && text.contains("12345678901"));
    let peer = root
        .descendants()
        .into_iter()
        .find(|e| e.attr("UserID") == Some("C=SE, O=eHealth Agency SE dev, CN=NCPeH SE dev"))
        .expect("peer participant");
    assert_eq!(peer.attr("NetworkAccessPointID"), Some("192.0.2.7"));
    assert_eq!(peer.attr("NetworkAccessPointTypeCode"), Some("2"));
}

#[test]
fn event_names_and_outcomes_round_trip() {
    use Direction::*;
    use EventType::*;
    for e in [
        RegistryStoredQuery,
        CrossGatewayRetrieve(Initiating),
        PatientDiscovery(Responding),
        DispensationDiscarded,
        RemoveMetadata,
        RemoveDocuments,
        AccessDenied,
    ] {
        assert_eq!(EventType::from_name(e.as_str()), Some(e));
    }
    assert_eq!(Outcome::from_code(12), Some(Outcome::MajorFailure));
    assert_eq!(Outcome::from_code(3), None);
    assert_eq!(
        rfc3339(from_millis(1_700_000_000_123)),
        "2023-11-14T22:13:20.123Z"
    );
}

#[test]
fn every_field_and_the_predecessor_change_the_hash() {
    let ev = event(EventType::RetrieveDocumentSet, "/xds/repository");
    let pats = patient_set(&ev.patient_ids);
    let row = AuditRow::new(&ev, 3, "ab".repeat(32), &pats);
    assert_eq!(row.hash.len(), 64);
    assert_eq!(row.compute_hash(&pats), row.hash);
    let changes: [fn(&mut AuditRow); 6] = [
        |r| r.seq += 1,
        |r| r.outcome = 8,
        |r| r.peer_subject = None,
        |r| r.user_id = Some("someone else".into()),
        |r| r.xml.push(' '),
        |r| r.prev_hash = "cd".repeat(32),
    ];
    for change in changes {
        let mut r = row.clone();
        change(&mut r);
        assert_ne!(r.compute_hash(&pats), row.hash);
    }
    assert_ne!(row.compute_hash(&[]), row.hash, "patients are hashed");
    // Lengths keep fields apart: moving text from one field to the next changes the hash.
    let mut a = row.clone();
    a.user_org = Some("ab".into());
    a.user_org_id = Some("c".into());
    let mut b = row.clone();
    b.user_org = Some("a".into());
    b.user_org_id = Some("bc".into());
    assert_ne!(a.compute_hash(&pats), b.compute_hash(&pats));
}

#[test]
fn the_stored_chain_verifies_and_names_the_first_break() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = crate::store::Store::open(&dir.path().join("a.db").display().to_string(), 2)
        .expect("open store");
    for i in 0..5 {
        let mut ev = event(EventType::RegistryStoredQuery, "/xds/registry");
        ev.document_ids = vec![format!("1.2.3.{i}")];
        store.blocking_write(|c| append(c, &ev)).expect("append");
    }
    let v = store.blocking_write(verify).expect("verify");
    assert_eq!((v.records, v.broken), (5, None));
    store
        .blocking_write(|c| {
            use diesel::RunQueryDsl;
            diesel::sql_query("UPDATE audit_patients SET patient_id = 'x' WHERE record_seq = 4")
                .execute(c)
                .map_err(crate::store::StoreError::from)
        })
        .expect("edit");
    let v = store.blocking_write(verify).expect("verify");
    assert_eq!(v.broken, Some(Break::Edited { seq: 4 }));
    assert_eq!(v.records, 3);
}
