//! Two contact points on 127.0.0.1, "NO" and "SE", each with its own config, database and
//! certificate (both from `ncpeh pki init`): SE discovers a Norwegian patient over XCPD, finds
//! and retrieves the Patient Summary through its initiating gateway (a pivot PS CDA that
//! validates against the eHDSI schema), finds the ePrescription, sends an eDispensation over
//! XDR, and sees the ePrescription closed in NO's next answer. A client with the untrusted
//! certificate is refused.

mod cda;
mod common;
use bytes::Bytes;
use common::answer::{self, SUCCESS};
use common::meta;
use common::xdsb::{self, Content};
use common::{init_pki, TestNode};
use ncpeh::ids::action::STORED_QUERY;
use ncpeh::ids::action::{PROVIDE_AND_REGISTER, RETRIEVE};
use ncpeh::registry::query::FIND_DOCUMENTS;
use ncpeh::xds::ids;

const NO_HOME: &str = "urn:oid:2.16.578.1.12.4.5.10.1";
const SE_HOME: &str = "urn:oid:2.16.752.1.2.4.5.10.1";
const FNR: &str = "21014605158";

fn pid() -> String {
    format!("{FNR}^^^&2.16.578.1.12.4.1.4.1&ISO")
}

fn subject_of(pem: &std::path::Path) -> String {
    let der = ncpeh::pki::load_certs(pem).unwrap().remove(0);
    ncpeh::pki::PeerIdentity::from_der(&der).unwrap().subject
}

/// Registers a Norwegian source document (inline ITI-41) with the given formatCode.
async fn register_source(no: &TestNode, id: &str, format: &str, mime: &str, bytes: &[u8]) {
    let mut d = xdsb::doc(id, &pid(), mime);
    d.format = (format.into(), "1.3.6.1.4.1.19376.1.2.3".into());
    let body = xdsb::pnr_body(
        &meta::simple_submission(&pid(), &[d]),
        &[(id, Content::Inline(bytes))],
    );
    let r = no
        .call("/xds/repository", PROVIDE_AND_REGISTER, &body)
        .await;
    assert_eq!(
        answer::status(&r.body),
        SUCCESS,
        "{:?}",
        answer::error_codes(&r.body)
    );
}

fn find(pid: &str, class: &str) -> String {
    meta::query(
        FIND_DOCUMENTS,
        true,
        &[
            ("$XDSDocumentEntryPatientId", &format!("'{pid}'")),
            (
                "$XDSDocumentEntryStatus",
                "('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')",
            ),
            (
                "$XDSDocumentEntryClassCode",
                &format!("('{class}^^2.16.840.1.113883.6.1')"),
            ),
        ],
    )
    .replacen(
        "<rim:AdhocQuery id=",
        &format!("<rim:AdhocQuery home=\"{NO_HOME}\" id="),
        1,
    )
}

/// The eventCode values of each returned DocumentEntry.
fn event_codes(body: &ncpeh::xml::Element) -> Vec<Vec<String>> {
    let Some(list) = body.child(answer::RIM, "RegistryObjectList") else {
        return Vec::new();
    };
    list.elements()
        .map(|eo| {
            eo.children_named(answer::RIM, "Classification")
                .filter(|c| c.attr("classificationScheme") == Some(ids::DE_EVENT_CODE))
                .filter_map(|c| c.attr("nodeRepresentation").map(str::to_string))
                .collect()
        })
        .collect()
}

#[tokio::test]
async fn se_discovers_reads_and_dispenses_a_norwegian_patient() {
    let Some(shared) = cda::shared() else { return };
    let ips =
        std::fs::read(shared.join("reference/ips/Bundle-IPS-examples-Bundle-01.json")).unwrap();
    let m1 = std::fs::read(shared.join("reference/norway/eresept/M1_Resept.xml")).unwrap();
    let ed_sample =
        std::fs::read_to_string(shared.join("reference/ehdsi/pivot-ed/dispensation1.xml")).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    init_pki(&pki);
    let no = TestNode::start_in_pki(
        &pki,
        "server",
        &format!("[node]\nhome_community_id = \"{NO_HOME}\"\n"),
    );
    no.add_patient_with(&pid(), "Nordmann", "Kari", Some("19460121"), Some("F"));
    register_source(
        &no,
        "Ips",
        "urn:ihe:pcc:ips:2020",
        "application/fhir+json",
        &ips,
    )
    .await;
    register_source(
        &no,
        "Resept",
        "urn:no:kith:xmlstds:eresept:m1",
        "text/xml",
        &m1,
    )
    .await;

    let se = TestNode::start_in_pki(
        &pki,
        "foreign-se",
        &format!(
            "[node]\nhome_community_id = \"{SE_HOME}\"\n[[peers]]\nhome_community_id = \"{NO_HOME}\"\ncountry = \"NO\"\nxca_url = \"{}/xca\"\nxcpd_url = \"{}/xcpd\"\nxdr_url = \"{}/xdr\"\nexpected_subject = \"{}\"\n",
            no.soap,
            no.soap,
            no.soap,
            subject_of(&pki.join("server.pem"))
        ),
    );

    // 1. XCPD, sent with SE's certificate.
    let se_client = no.client_as(Some("foreign-se"));
    let url = no.url("/xcpd");
    let action = "urn:hl7-org:v3:PRPA_IN201305UV02:CrossGatewayPatientDiscovery";
    let env = ncpeh::soap::envelope::encode_request(
        action,
        &url,
        "urn:uuid:two-nodes-xcpd",
        &common::xcpd_request(FNR),
    );
    let r = se_client.soap(&url, action, env).await.expect("XCPD");
    let code = r
        .body
        .find("urn:hl7-org:v3", "queryResponseCode")
        .and_then(|c| c.attr("code"))
        .map(str::to_string);
    assert_eq!(code.as_deref(), Some("OK"), "the fødselsnummer is found");

    // 2. The PS through SE's initiating gateway.
    let r = se
        .call("/xca/initiating", STORED_QUERY, &find(&pid(), "60591-5"))
        .await;
    assert_eq!(
        answer::status(&r.body),
        SUCCESS,
        "{:?}",
        answer::error_codes(&r.body)
    );
    let list = r.body.child(answer::RIM, "RegistryObjectList").unwrap();
    let ps = list.elements().next().expect("one PS entry");
    assert_eq!(ps.attr("home"), Some(NO_HOME));
    let ps_uid = answer::unique_ids(&r.body).remove(0);
    let repo = ps
        .children_named(answer::RIM, "Slot")
        .find(|s| s.attr("name") == Some("repositoryUniqueId"))
        .and_then(|s| s.find(answer::RIM, "Value"))
        .map(|v| v.text())
        .unwrap();
    let formats: Vec<&str> = ps
        .children_named(answer::RIM, "Classification")
        .filter(|c| c.attr("classificationScheme") == Some(ids::DE_FORMAT_CODE))
        .filter_map(|c| c.attr("nodeRepresentation"))
        .collect();
    assert_eq!(formats, vec!["urn:epSOS:ps:ps:2010"]);

    // 3. Retrieve: the pivot PS CDA, valid against the eHDSI CDA schema.
    let body = format!(
        "<xdsb:RetrieveDocumentSetRequest xmlns:xdsb=\"urn:ihe:iti:xds-b:2007\"><xdsb:DocumentRequest><xdsb:HomeCommunityId>{NO_HOME}</xdsb:HomeCommunityId><xdsb:RepositoryUniqueId>{repo}</xdsb:RepositoryUniqueId><xdsb:DocumentUniqueId>{ps_uid}</xdsb:DocumentUniqueId></xdsb:DocumentRequest></xdsb:RetrieveDocumentSetRequest>"
    );
    let r = se.call("/xca/initiating", RETRIEVE, &body).await;
    let docs = xdsb::documents(&r);
    assert_eq!(
        docs.len(),
        1,
        "{:?}",
        answer::error_codes(xdsb::registry_response(&r.body))
    );
    let cda_text = String::from_utf8(docs[0].2.to_vec()).unwrap();
    assert!(
        cda_text.contains("1.3.6.1.4.1.12559.11.10.1.3.1.1.3"),
        "PS L3 templateId"
    );
    if let Some(py) = cda::python() {
        let f = dir.path().join("ps.xml");
        std::fs::write(&f, &cda_text).unwrap();
        cda::xsd(&py, &shared.join("schemas/ehdsi-cda/CDA_Pharma.xsd"), &[f])
            .expect("pivot PS validates against CDA_Pharma.xsd");
    }

    // 4. The ePrescription is offered open.
    let r = se
        .call("/xca/initiating", STORED_QUERY, &find(&pid(), "57833-6"))
        .await;
    assert_eq!(
        answer::status(&r.body),
        SUCCESS,
        "{:?}",
        answer::error_codes(&r.body)
    );
    let events = event_codes(&r.body);
    assert_eq!(events.len(), 1, "one prescription in M1_Resept");
    assert!(events[0].contains(&"open".to_string()), "{events:?}");
    let ep = ncpeh::translate::eresept_to_ep(
        &m1,
        ncpeh::translate::Terminology::builtin(),
        &Default::default(),
    )
    .unwrap();
    let prescription = ep[0].prescription_id.clone();

    // 5. SE's pharmacy dispenses it: an eD over XDR, sent with SE's certificate.
    let ed = ed_sample.replace("462617619087101", &prescription);
    let mut d = xdsb::doc("Ed", &pid(), "text/xml");
    d.class = ("60593-1".into(), "2.16.840.1.113883.6.1".into());
    d.type_code = ("60593-1".into(), "2.16.840.1.113883.6.1".into());
    d.format = ("urn:epSOS:ep:dis:2010".into(), "eHDSI formatCodes".into());
    let body = xdsb::pnr_body(
        &meta::simple_submission(&pid(), &[d]),
        &[("Ed", Content::Inline(ed.as_bytes()))],
    );
    let url = no.url("/xdr");
    let env = ncpeh::soap::envelope::encode_request(
        PROVIDE_AND_REGISTER,
        &url,
        "urn:uuid:two-nodes-xdr",
        &body,
    );
    let r = se_client
        .soap(&url, PROVIDE_AND_REGISTER, env)
        .await
        .expect("XDR");
    assert_eq!(
        answer::status(&r.body),
        SUCCESS,
        "{:?}",
        answer::error_codes(&r.body)
    );

    // 6. NO's next answer: the ePrescription is closed.
    let r = se
        .call("/xca/initiating", STORED_QUERY, &find(&pid(), "57833-6"))
        .await;
    let events = event_codes(&r.body);
    assert!(
        events[0].contains(&"closed".to_string()) && !events[0].contains(&"open".to_string()),
        "{events:?}"
    );

    // 7. A third party with the untrusted certificate is refused at the TLS layer.
    let untrusted = no.client_as(Some("untrusted"));
    let res = untrusted
        .request(
            hyper::Method::GET,
            &no.url("/xca?wsdl"),
            None,
            vec![Bytes::new()],
        )
        .await;
    assert!(res.is_err(), "untrusted certificate must be refused");
}
