//! Confidentiality and consent against the real server over mTLS: a NORN_* document appears
//! nowhere and its retrieve is answered exactly as for an unknown document; a NORS document is
//! seen in Norway but not by a foreign contact point (the `foreign-se` certificate); a plain N
//! crosses; a patient who refused the eHDSI exchange gets eHDSI's no-consent XCPD answer and
//! no PS/eP abroad until the refusal is taken back. A Norwegian source that is deprecated takes
//! the pivot made from it along: it can no longer be retrieved, and the next query translates
//! afresh.

mod cda;
mod common;
use common::answer::{self, SUCCESS};
use common::ehdsi::{
    call_as, find_docs, fnr_patient, foreign, provide, set_of, uuid, with_home, APPROVED, HOME,
    NATIONAL, REPO,
};
use common::meta::{self, Doc};
use common::xdsb::{self, Content};
use common::{schema, TestNode, BIN};
use ncpeh::ids::action::{RETRIEVE, STORED_QUERY, XC_QUERY, XC_RETRIEVE};
use ncpeh::registry::query as sq;
use ncpeh::xds::confidentiality::{HL7_CONFIDENTIALITY, VOLVEN_9603};
use ncpeh::xds::ids;

const XCPD: &str = "urn:hl7-org:v3:PRPA_IN201305UV02:CrossGatewayPatientDiscovery";
const HL7: &str = "urn:hl7-org:v3";

/// A document for ITI-41 with one confidentialityCode.
fn doc(pid: &str, code: &str, scheme: &str) -> Doc {
    let mut d = xdsb::doc(&uuid(), pid, "text/plain");
    d.conf = vec![(code.into(), scheme.into())];
    d
}

/// One ITI-41 with these objects; every document gets a few bytes.
async fn provide_docs(node: &TestNode, objects: &[String], docs: &[&Doc]) {
    let contents: Vec<(&str, Content)> = docs
        .iter()
        .map(|d| (d.id.as_str(), Content::Inline(d.uid.as_bytes())))
        .collect();
    provide(node, objects, &contents).await;
}

/// A stored query answer (which must be a Success): the uniqueIds, the whole answer as text,
/// and the number of objects.
async fn query(node: &TestNode, who: &str, path: &str, q: &str) -> (Vec<String>, String, usize) {
    let action = if path == "/xca" {
        XC_QUERY
    } else {
        STORED_QUERY
    };
    let r = call_as(node, who, path, action, q).await;
    let errors = answer::error_codes(&r.body);
    assert_eq!(answer::status(&r.body), SUCCESS, "{errors:?}");
    let count = answer::objects(&r.body).len();
    (answer::unique_ids(&r.body), schema::to_xml(&r.body), count)
}

fn by_id(query_id: &str, params: &[(&str, &str)]) -> String {
    with_home(meta::query(query_id, true, params))
}

fn one(v: &str) -> String {
    format!("('{v}')")
}

/// A list naming `v` first and again after 600 ids of nothing.
fn twice_apart(v: &str) -> String {
    let fillers: Vec<String> = (0..600).map(|_| format!("'{}'", uuid())).collect();
    format!("('{v}',{},'{v}')", fillers.join(","))
}

/// Retrieves one document: its bytes, or the (code, codeContext, location) of the error with
/// the uniqueId written as `UID`, so that answers for different documents compare.
async fn retrieve(
    node: &TestNode,
    who: &str,
    path: &str,
    uid: &str,
) -> Result<usize, (String, String, String)> {
    let body = format!(
        "<xdsb:RetrieveDocumentSetRequest xmlns:xdsb=\"{}\"><xdsb:DocumentRequest><xdsb:HomeCommunityId>{HOME}</xdsb:HomeCommunityId><xdsb:RepositoryUniqueId>{REPO}</xdsb:RepositoryUniqueId><xdsb:DocumentUniqueId>{uid}</xdsb:DocumentUniqueId></xdsb:DocumentRequest></xdsb:RetrieveDocumentSetRequest>",
        xdsb::XDSB
    );
    let action = if path == "/xca" {
        XC_RETRIEVE
    } else {
        RETRIEVE
    };
    let r = call_as(node, who, path, action, &body).await;
    let docs = xdsb::documents(&r);
    if !docs.is_empty() {
        return Ok(docs.len());
    }
    let rr = xdsb::registry_response(&r.body);
    let e = rr
        .find(answer::RS, "RegistryError")
        .expect("an error for the document");
    let attr = |n: &str| e.attr(n).unwrap_or_default().replace(uid, "UID");
    Err((attr("errorCode"), attr("codeContext"), attr("location")))
}

#[tokio::test]
async fn a_norn_document_appears_nowhere() {
    let node = TestNode::start_with_foreign_peer("");
    let pid = common::new_pid();
    node.add_patient(&pid);
    let n = doc(&pid, "N", HL7_CONFIDENTIALITY);
    let nors = doc(&pid, "NORS", VOLVEN_9603);
    let norn = doc(&pid, "NORN_DUP", VOLVEN_9603);
    let (ss, folder) = (uuid(), uuid());
    let in_folder = uuid();
    let mut objs = set_of(&ss, &pid, &[&n, &nors, &norn]);
    objs.push(meta::folder(&folder, &pid, &meta::new_uid()));
    objs.push(meta::assoc(&uuid(), ids::HAS_MEMBER, &ss, &folder, None));
    objs.push(meta::assoc(
        &in_folder,
        ids::HAS_MEMBER,
        &folder,
        &norn.id,
        None,
    ));
    objs.push(meta::assoc(&uuid(), ids::HAS_MEMBER, &ss, &in_folder, None));
    objs.push(meta::assoc(&uuid(), ids::HAS_MEMBER, &folder, &n.id, None));
    provide_docs(&node, &objs, &[&n, &nors, &norn]).await;
    // A later document appended to the hidden one.
    let app = doc(&pid, "N", HL7_CONFIDENTIALITY);
    let mut objs = set_of(&uuid(), &pid, &[&app]);
    objs.push(meta::assoc(&uuid(), ids::APND, &app.id, &norn.id, None));
    provide_docs(&node, &objs, &[&app]).await;

    let mut everything = vec![
        find_docs(&pid, &[]),
        meta::query(
            sq::FIND_DOCUMENTS,
            false,
            &[
                ("$XDSDocumentEntryPatientId", &format!("'{pid}'")),
                ("$XDSDocumentEntryStatus", APPROVED),
            ],
        ),
        meta::query(
            sq::GET_ALL,
            true,
            &[
                ("$patientId", &format!("'{pid}'")),
                ("$XDSDocumentEntryStatus", APPROVED),
                ("$XDSSubmissionSetStatus", APPROVED),
                ("$XDSFolderStatus", APPROVED),
            ],
        ),
        by_id(
            sq::GET_SUBMISSION_SET_AND_CONTENTS,
            &[("$XDSSubmissionSetEntryUUID", &one(&ss))],
        ),
        by_id(
            sq::GET_FOLDER_AND_CONTENTS,
            &[("$XDSFolderEntryUUID", &one(&folder))],
        ),
        by_id(
            sq::GET_ASSOCIATIONS,
            &[("$uuid", &format!("('{}','{}')", norn.id, app.id))],
        ),
    ];
    // Asked for by its own ids, the NORN document finds nothing at all.
    let empty = [
        by_id(
            sq::GET_DOCUMENTS,
            &[("$XDSDocumentEntryUniqueId", &one(&norn.uid))],
        ),
        by_id(
            sq::GET_DOCUMENTS,
            &[("$XDSDocumentEntryEntryUUID", &one(&norn.id))],
        ),
        by_id(
            sq::GET_DOCUMENTS_AND_ASSOCIATIONS,
            &[("$XDSDocumentEntryEntryUUID", &one(&norn.id))],
        ),
        by_id(
            sq::GET_FOLDERS_FOR_DOCUMENT,
            &[("$XDSDocumentEntryEntryUUID", &one(&norn.id))],
        ),
        by_id(sq::GET_SUBMISSION_SETS, &[("$uuid", &one(&norn.id))]),
        by_id(
            sq::GET_RELATED_DOCUMENTS,
            &[
                ("$XDSDocumentEntryEntryUUID", &one(&app.id)),
                ("$AssociationTypes", &one(ids::APND)),
            ],
        ),
        by_id(
            sq::GET_RELATED_DOCUMENTS,
            &[
                ("$XDSDocumentEntryEntryUUID", &one(&norn.id)),
                ("$AssociationTypes", &one(ids::APND)),
            ],
        ),
        find_docs(
            &pid,
            &[(
                "$XDSDocumentEntryConfidentialityCode",
                &format!("('NORN_DUP^^{VOLVEN_9603}')"),
            )],
        ),
        // Named twice, in two different 500-id chunks of the store's reads: each copy of the
        // row is decided with its codes.
        by_id(
            sq::GET_DOCUMENTS,
            &[("$XDSDocumentEntryEntryUUID", &twice_apart(&norn.id))],
        ),
    ];
    everything.extend(empty.iter().cloned());
    for (path, who) in [
        ("/xds/registry", NATIONAL),
        ("/xca", NATIONAL),
        ("/xca", foreign(&pid).as_str()),
    ] {
        for q in &everything {
            let (_, text, _) = query(&node, who, path, q).await;
            assert!(
                !text.contains(&norn.id) && !text.contains(&norn.uid),
                "{path} as {who}: the NORN document shows in\n{text}"
            );
        }
        for q in &empty {
            let (_, text, count) = query(&node, who, path, q).await;
            assert_eq!(count, 0, "{path} as {who}: {text}");
        }
    }
    // Everything else is still there for a national caller.
    let (uids, _, _) = query(&node, NATIONAL, "/xds/registry", &find_docs(&pid, &[])).await;
    let mut want = vec![n.uid.clone(), nors.uid.clone(), app.uid.clone()];
    want.sort();
    let mut got = uids.clone();
    got.sort();
    assert_eq!(got, want);
    // Named twice, a document is answered once.
    let twice = by_id(
        sq::GET_DOCUMENTS,
        &[("$XDSDocumentEntryEntryUUID", &twice_apart(&n.id))],
    );
    let (uids, _, _) = query(&node, NATIONAL, "/xds/registry", &twice).await;
    assert_eq!(uids, vec![n.uid.clone()]);
    let (_, text, _) = query(&node, NATIONAL, "/xds/registry", &everything[4]).await;
    assert!(
        text.contains(&n.id),
        "the folder still holds the N document"
    );

    // ITI-43 and ITI-39: the same error, word for word, as for a document that does not exist.
    let unknown = meta::new_uid();
    for (path, who) in [
        ("/xds/repository", NATIONAL),
        ("/xca", NATIONAL),
        ("/xca", foreign(&pid).as_str()),
    ] {
        let absent = retrieve(&node, who, path, &unknown).await.unwrap_err();
        assert_eq!(absent.0, "XDSDocumentUniqueIdError");
        assert_eq!(retrieve(&node, who, path, &norn.uid).await, Err(absent));
        assert_eq!(retrieve(&node, who, path, &n.uid).await, Ok(1));
    }
}

#[tokio::test]
async fn nors_stays_in_norway_and_a_plain_n_crosses() {
    let node = TestNode::start_with_foreign_peer("");
    let pid = common::new_pid();
    node.add_patient(&pid);
    let n9603 = doc(&pid, "N", VOLVEN_9603);
    let n_hl7 = doc(&pid, "N", HL7_CONFIDENTIALITY);
    let nors = doc(&pid, "NORS", VOLVEN_9603);
    // Two codes: the more restrictive one decides.
    let mut both = doc(&pid, "N", HL7_CONFIDENTIALITY);
    both.conf.push(("NORU".into(), VOLVEN_9603.into()));
    let ss = uuid();
    provide_docs(
        &node,
        &set_of(&ss, &pid, &[&n9603, &n_hl7, &nors, &both]),
        &[&n9603, &n_hl7, &nors, &both],
    )
    .await;

    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let national = sorted(vec![
        n9603.uid.clone(),
        n_hl7.uid.clone(),
        nors.uid.clone(),
        both.uid.clone(),
    ]);
    let abroad = sorted(vec![n9603.uid.clone(), n_hl7.uid.clone()]);
    let (uids, _, _) = query(&node, NATIONAL, "/xca", &find_docs(&pid, &[])).await;
    assert_eq!(sorted(uids), national, "a national consumer on /xca");
    let (uids, _, _) = query(&node, NATIONAL, "/xds/registry", &find_docs(&pid, &[])).await;
    assert_eq!(sorted(uids), national);
    let (uids, _, _) = query(&node, &foreign(&pid), "/xca", &find_docs(&pid, &[])).await;
    assert_eq!(sorted(uids), abroad, "a foreign contact point");

    let get = by_id(
        sq::GET_DOCUMENTS,
        &[(
            "$XDSDocumentEntryUniqueId",
            &format!("('{}','{}')", nors.uid, n9603.uid),
        )],
    );
    let (uids, _, _) = query(&node, &foreign(&pid), "/xca", &get).await;
    assert_eq!(uids, vec![n9603.uid.clone()]);
    let contents = by_id(
        sq::GET_SUBMISSION_SET_AND_CONTENTS,
        &[("$XDSSubmissionSetEntryUUID", &one(&ss))],
    );
    let (_, text, _) = query(&node, &foreign(&pid), "/xca", &contents).await;
    assert!(!text.contains(&nors.id) && !text.contains(&both.id) && text.contains(&n_hl7.id));

    let unknown = meta::new_uid();
    let absent = retrieve(&node, &foreign(&pid), "/xca", &unknown)
        .await
        .unwrap_err();
    for hidden in [&nors.uid, &both.uid] {
        assert_eq!(
            retrieve(&node, &foreign(&pid), "/xca", hidden).await,
            Err(absent.clone())
        );
        assert_eq!(retrieve(&node, NATIONAL, "/xca", hidden).await, Ok(1));
        assert_eq!(
            retrieve(&node, NATIONAL, "/xds/repository", hidden).await,
            Ok(1)
        );
    }
    assert_eq!(
        retrieve(&node, &foreign(&pid), "/xca", &n9603.uid).await,
        Ok(1)
    );
    assert_eq!(
        retrieve(&node, &foreign(&pid), "/xca", &n_hl7.uid).await,
        Ok(1)
    );
}

/// `ncpeh patient consent PID --deny|--allow ehdsi`; its one line of output.
fn consent(node: &TestNode, pid: &str, flag: &str) -> String {
    let out = std::process::Command::new(BIN)
        .args(["patient", "consent", "--config"])
        .arg(&node.config)
        .args([pid, flag, "ehdsi"])
        .output()
        .expect("run patient consent");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// (acknowledgement typeCode, queryResponseCode, detected issue code and system, subjects).
async fn discover(
    node: &TestNode,
    who: &str,
    fnr: &str,
) -> (String, String, Option<(String, String)>, usize) {
    let r = call_as(node, who, "/xcpd", XCPD, &common::xcpd_request(fnr)).await;
    let code = |e: Option<&ncpeh::xml::Element>| {
        e.and_then(|e| e.attr("code"))
            .unwrap_or_default()
            .to_string()
    };
    let ack = r
        .body
        .find(HL7, "acknowledgement")
        .and_then(|a| a.child(HL7, "typeCode"));
    let issue = r
        .body
        .find(HL7, "detectedIssueManagement")
        .and_then(|m| m.child(HL7, "code"))
        .map(|c| {
            (
                c.attr("code").unwrap_or_default().into(),
                c.attr("codeSystem").unwrap_or_default().into(),
            )
        });
    let subjects = r.body.descendants_named(HL7, "patient").len();
    (
        code(ack),
        code(r.body.find(HL7, "queryResponseCode")),
        issue,
        subjects,
    )
}

/// FindDocuments for the PS (60591-5) or eP (57833-6): the number of entries offered.
async fn pivots(node: &TestNode, who: &str, pid: &str, class: &str) -> usize {
    let class = format!("('{class}^^2.16.840.1.113883.6.1')");
    let (uids, text, _) = query(
        node,
        who,
        "/xca",
        &find_docs(pid, &[("$XDSDocumentEntryClassCode", &class)]),
    )
    .await;
    assert!(
        !text.contains("RegistryError"),
        "no error for {who}: {text}"
    );
    uids.len()
}

/// The FHIR IPS example bundle (None, with a note, without the shared reference folder).
fn ips_bundle() -> Option<Vec<u8>> {
    let shared = cda::shared()?;
    Some(std::fs::read(shared.join("reference/ips/Bundle-IPS-examples-Bundle-01.json")).unwrap())
}

/// A DocumentEntry for an IPS bundle: a source of the Patient Summary.
fn ips_source(pid: &str, code: &str, scheme: &str) -> Doc {
    let mut d = xdsb::doc(&uuid(), pid, "application/fhir+json");
    d.format = (
        "urn:ihe:pcc:ips:2020".into(),
        "1.3.6.1.4.1.19376.1.2.3".into(),
    );
    d.conf = vec![(code.into(), scheme.into())];
    d
}

#[tokio::test]
async fn an_ehdsi_refusal_withholds_the_patient_abroad() {
    let Some(ips) = ips_bundle() else { return };
    let node = TestNode::start_with_foreign_peer("");
    let (fnr, pid) = fnr_patient(&node);
    let source = ips_source(&pid, "N", VOLVEN_9603);
    let plain = doc(&pid, "N", HL7_CONFIDENTIALITY);
    let contents = [
        (source.id.as_str(), Content::Inline(&ips)),
        (plain.id.as_str(), Content::Inline(b"x")),
    ];
    provide(&node, &set_of(&uuid(), &pid, &[&source, &plain]), &contents).await;

    let found = ("AA".to_string(), "OK".to_string(), None, 1);
    assert_eq!(discover(&node, &foreign(&pid), &fnr).await, found);
    assert_eq!(pivots(&node, &foreign(&pid), &pid, "60591-5").await, 1);

    assert!(consent(&node, &pid, "--deny").contains("refusal recorded"));
    assert!(consent(&node, &pid, "--deny").contains("already recorded"));
    // eHDSI's answer for a patient without consent (as OpenNCP gives it): AE, no patient, and
    // the detected issue InsufficientRights of the eHDSI XCPD code system.
    let refused = (
        "AE".to_string(),
        "AE".to_string(),
        Some((
            "InsufficientRights".to_string(),
            "1.3.6.1.4.1.12559.11.10.1.3.2.2.1".to_string(),
        )),
        0,
    );
    assert_eq!(discover(&node, &foreign(&pid), &fnr).await, refused);
    // No PS, no eP, no documents, and no error that tells why.
    assert_eq!(pivots(&node, &foreign(&pid), &pid, "60591-5").await, 0);
    assert_eq!(pivots(&node, &foreign(&pid), &pid, "57833-6").await, 0);
    let (uids, _, _) = query(&node, &foreign(&pid), "/xca", &find_docs(&pid, &[])).await;
    assert!(uids.is_empty());
    let absent = retrieve(&node, &foreign(&pid), "/xca", &meta::new_uid())
        .await
        .unwrap_err();
    assert_eq!(
        retrieve(&node, &foreign(&pid), "/xca", &plain.uid).await,
        Err(absent)
    );
    // The refusal is of the exchange abroad: Norwegian callers are not affected.
    assert_eq!(discover(&node, NATIONAL, &fnr).await, found);
    assert_eq!(pivots(&node, NATIONAL, &pid, "60591-5").await, 1);
    assert_eq!(retrieve(&node, NATIONAL, "/xca", &plain.uid).await, Ok(1));

    assert!(consent(&node, &pid, "--allow").contains("refusal taken back"));
    assert_eq!(discover(&node, &foreign(&pid), &fnr).await, found);
    assert_eq!(pivots(&node, &foreign(&pid), &pid, "60591-5").await, 1);
    assert_eq!(
        retrieve(&node, &foreign(&pid), "/xca", &plain.uid).await,
        Ok(1)
    );
}

#[tokio::test]
async fn a_restricted_source_feeds_no_pivot_abroad() {
    let Some(ips) = ips_bundle() else { return };
    let node = TestNode::start_with_foreign_peer("");
    let (_, pid) = fnr_patient(&node);
    let source = ips_source(&pid, "NORS", VOLVEN_9603);
    let contents = [(source.id.as_str(), Content::Inline(&ips))];
    provide(&node, &set_of(&uuid(), &pid, &[&source]), &contents).await;
    assert_eq!(pivots(&node, NATIONAL, &pid, "60591-5").await, 1);
    assert_eq!(pivots(&node, &foreign(&pid), &pid, "60591-5").await, 0);
}

/// The uniqueIds of the PS pivots offered to `who`.
async fn ps_pivots(node: &TestNode, who: &str, pid: &str) -> Vec<String> {
    let class = "('60591-5^^2.16.840.1.113883.6.1')";
    let q = find_docs(pid, &[("$XDSDocumentEntryClassCode", class)]);
    query(node, who, "/xca", &q).await.0
}

#[tokio::test]
async fn a_deprecated_source_takes_its_pivot_along() {
    let Some(ips) = ips_bundle() else { return };
    let node = TestNode::start_with_foreign_peer("");
    let (_, pid) = fnr_patient(&node);
    let source = ips_source(&pid, "N", VOLVEN_9603);
    let contents = [(source.id.as_str(), Content::Inline(&ips))];
    provide(&node, &set_of(&uuid(), &pid, &[&source]), &contents).await;
    let pivots = ps_pivots(&node, &foreign(&pid), &pid).await;
    assert_eq!(pivots.len(), 1);
    assert_eq!(
        retrieve(&node, &foreign(&pid), "/xca", &pivots[0]).await,
        Ok(1)
    );

    let change = |from, to| meta::status_update(&pid, &source.id, from, to);
    let r = node
        .call(
            "/xds/registry",
            ncpeh::ids::action::UPDATE,
            &change("Approved", "Deprecated"),
        )
        .await;
    assert_eq!(
        answer::status(&r.body),
        SUCCESS,
        "{:?}",
        answer::error_codes(&r.body)
    );
    // The pivot went with its source: not offered, and not retrievable by its old uniqueId.
    assert!(ps_pivots(&node, &foreign(&pid), &pid).await.is_empty());
    let absent = retrieve(&node, &foreign(&pid), "/xca", &meta::new_uid())
        .await
        .unwrap_err();
    assert_eq!(
        retrieve(&node, &foreign(&pid), "/xca", &pivots[0]).await,
        Err(absent)
    );

    // Approved again: the next query translates the source anew.
    let r = node
        .call(
            "/xds/registry",
            ncpeh::ids::action::UPDATE,
            &change("Deprecated", "Approved"),
        )
        .await;
    assert_eq!(
        answer::status(&r.body),
        SUCCESS,
        "{:?}",
        answer::error_codes(&r.body)
    );
    let again = ps_pivots(&node, &foreign(&pid), &pid).await;
    assert_eq!(again.len(), 1);
    assert_eq!(
        retrieve(&node, &foreign(&pid), "/xca", &again[0]).await,
        Ok(1)
    );
}
