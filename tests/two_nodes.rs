//! Two contact points on 127.0.0.1, "NO" and "SE", each with its own config, database and
//! certificate (both from `ncpeh pki init`): SE discovers a Norwegian patient over XCPD, finds
//! and retrieves the Patient Summary through its initiating gateway (a pivot PS CDA that
//! validates against the eHDSI schema), finds the ePrescription, sends an eDispensation over
//! XDR, and sees the ePrescription closed in NO's next answer. Every cross-border call carries
//! eHDSI assertions (an HCP identity and a TRC) signed by SE's test issuer; NO refuses a missing
//! TRC, a TRC for another patient, an expired HCP assertion, a signature that wraps a forged
//! assertion, and an assertion from a third country's issuer sent over SE's connection. A
//! client with the untrusted certificate is refused.

mod cda;
mod common;
use bytes::Bytes;
use common::answer::{self, SUCCESS};
use common::meta;
use common::xdsb::{self, Content};
use common::{init_pki, TestNode};
use ncpeh::ids::action::STORED_QUERY;
use ncpeh::ids::action::{PROVIDE_AND_REGISTER, RETRIEVE, XC_QUERY};
use ncpeh::registry::query::FIND_DOCUMENTS;
use ncpeh::saml::issue::{ehdsi_security, Defect, Professional, Signer};
use ncpeh::xds::ids;

const NO_HOME: &str = "urn:oid:2.16.578.1.12.4.5.10.1";
const SE_HOME: &str = "urn:oid:2.16.752.1.2.4.5.10.1";
const FNR: &str = "21014605158";

fn pid() -> String {
    format!("{FNR}^^^&2.16.578.1.12.4.1.4.1&ISO")
}

/// SE's test issuer, from the shared dev PKI.
fn se_issuer(pki: &std::path::Path) -> Signer {
    Signer::from_files(&pki.join("issuer-se.pem"), &pki.join("issuer-se.key")).unwrap()
}

/// HCP (+ TRC for `patient`) assertions in a wsse:Security header.
fn security(
    signer: &Signer,
    who: &Professional,
    patient: Option<&str>,
    defect: Option<Defect>,
) -> String {
    ehdsi_security(
        signer,
        who,
        patient,
        defect,
        time::OffsetDateTime::now_utc(),
    )
    .unwrap()
}

/// The fault subcode of a SOAP fault answer ("env:Sender/wsse:InvalidSecurity: ...").
fn fault_of(r: &ncpeh::transport::client::SoapResponse) -> String {
    r.fault.clone().unwrap_or_default()
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
        &format!(
            "[node]\nhome_community_id = \"{NO_HOME}\"\n[xua]\nnational_issuers = \"{p}/issuer-no.pem\"\n\
             [[peers]]\nhome_community_id = \"{SE_HOME}\"\ncountry = \"SE\"\nexpected_subject = \"{se_subject}\"\n\
             xua_issuers = \"{p}/issuer-se.pem\"\n",
            p = pki.display(),
            se_subject = subject_of(&pki.join("foreign-se.pem")),
        ),
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
            "[node]\nhome_community_id = \"{SE_HOME}\"\ncountry = \"SE\"\n[xua]\nnational_issuers = \"{p}/issuer-se.pem\"\n\
             [[peers]]\nhome_community_id = \"{NO_HOME}\"\ncountry = \"NO\"\nxca_url = \"{}/xca\"\nxcpd_url = \"{}/xcpd\"\nxdr_url = \"{}/xdr\"\nexpected_subject = \"{}\"\n\
             xua_issuers = \"{p}/issuer-no.pem\"\n",
            no.soap,
            no.soap,
            no.soap,
            subject_of(&pki.join("server.pem")),
            p = pki.display(),
        ),
    );
    let signer = se_issuer(&pki);
    let doctor = Professional::default();
    // SE's national consumer: a Swedish doctor, with SE's certificate (national to SE).
    let se_consumer = |path: &'static str, action: &'static str, body: String, sec: String| {
        let se = &se;
        async move {
            se.call_as("foreign-se", path, action, &body, Some(&sec))
                .await
        }
    };

    // 1. XCPD, sent with SE's certificate.
    let se_client = no.client_as(Some("foreign-se"));
    let url = no.url("/xcpd");
    let action = "urn:hl7-org:v3:PRPA_IN201305UV02:CrossGatewayPatientDiscovery";
    let hcp_only = security(&signer, &doctor, None, None);
    let env = ncpeh::soap::envelope::encode_secured_request(
        action,
        &url,
        "urn:uuid:two-nodes-xcpd",
        Some(&hcp_only),
        &common::xcpd_request(FNR),
    );
    let r = se_client.soap(&url, action, env).await.expect("XCPD");
    let code = r
        .body
        .find("urn:hl7-org:v3", "queryResponseCode")
        .and_then(|c| c.attr("code"))
        .map(str::to_string);
    assert_eq!(code.as_deref(), Some("OK"), "the fødselsnummer is found");

    // 2. The PS through SE's initiating gateway, which forwards the assertions unchanged.
    let with_trc = security(&signer, &doctor, Some(&pid()), None);
    let r = se_consumer(
        "/xca/initiating",
        STORED_QUERY,
        find(&pid(), "60591-5"),
        with_trc.clone(),
    )
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
    let r = se_consumer("/xca/initiating", RETRIEVE, body, with_trc.clone()).await;
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
    let r = se_consumer(
        "/xca/initiating",
        STORED_QUERY,
        find(&pid(), "57833-6"),
        with_trc.clone(),
    )
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
    let pharmacist = Professional {
        role: "2262".into(),
        ..Professional::default()
    };
    let env = ncpeh::soap::envelope::encode_secured_request(
        PROVIDE_AND_REGISTER,
        &url,
        "urn:uuid:two-nodes-xdr",
        Some(&security(&signer, &pharmacist, Some(&pid()), None)),
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
    let r = se_consumer(
        "/xca/initiating",
        STORED_QUERY,
        find(&pid(), "57833-6"),
        with_trc.clone(),
    )
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

/// NO with SE as a configured contact point, and the patient's IPS registered.
async fn start_no(pki: &std::path::Path) -> TestNode {
    let no = TestNode::start_in_pki(
        pki,
        "server",
        &format!(
            "[node]\nhome_community_id = \"{NO_HOME}\"\n[xua]\nnational_issuers = \"{p}/issuer-no.pem\"\n\
             [[peers]]\nhome_community_id = \"{SE_HOME}\"\ncountry = \"SE\"\nexpected_subject = \"{se_subject}\"\n\
             xua_issuers = \"{p}/issuer-se.pem\"\n",
            p = pki.display(),
            se_subject = subject_of(&pki.join("foreign-se.pem")),
        ),
    );
    no.add_patient_with(&pid(), "Nordmann", "Kari", Some("19460121"), Some("F"));
    no
}

/// A signed assertion wrapped the way signature wrapping attacks do: the genuine assertion is
/// moved into another element and a forged one (other subject, the same ID and signature)
/// takes its place.
fn wrapped(genuine_security: &str) -> String {
    let start = genuine_security.find("<saml2:Assertion").unwrap();
    let end = genuine_security.find("</saml2:Assertion>").unwrap() + "</saml2:Assertion>".len();
    let genuine = &genuine_security[start..end];
    let forged = genuine.replace("Dr. Test Testesen", "Mallory");
    format!(
        "{}{forged}<wsse:Wrapper>{genuine}</wsse:Wrapper>{}",
        &genuine_security[..start],
        &genuine_security[end..]
    )
}

#[tokio::test]
async fn no_refuses_what_se_may_not_send() {
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    init_pki(&pki);
    let no = start_no(&pki).await;
    let signer = se_issuer(&pki);
    let doctor = Professional::default();
    let q = find(&pid(), "60591-5");
    let from_se = |sec: Option<String>| {
        let (no, q) = (&no, &q);
        async move {
            no.call_as("foreign-se", "/xca", XC_QUERY, q, sec.as_deref())
                .await
        }
    };

    // The right assertions are served (a PS query answers; there is no source, so no entries).
    let ok = from_se(Some(security(&signer, &doctor, Some(&pid()), None))).await;
    assert!(ok.fault.is_none(), "{:?}", ok.fault);

    let r = from_se(None).await;
    assert!(
        fault_of(&r).contains("wsse:InvalidSecurity"),
        "no assertion: {r:?}"
    );

    let r = from_se(Some(security(&signer, &doctor, None, None))).await;
    assert!(
        fault_of(&r).contains("treatment relationship"),
        "no TRC: {r:?}"
    );

    let other = "01010112345^^^&2.16.578.1.12.4.1.4.1&ISO";
    let r = from_se(Some(security(&signer, &doctor, Some(other), None))).await;
    assert!(r.fault.is_none(), "{:?}", r.fault);
    assert_eq!(answer::status(&r.body), answer::FAILURE);
    assert!(
        answer::error_codes(&r.body).contains(&"XDSRegistryError".to_string()),
        "TRC for another patient: {:?}",
        answer::error_codes(&r.body)
    );

    let r = from_se(Some(security(
        &signer,
        &doctor,
        Some(&pid()),
        Some(Defect::Expired),
    )))
    .await;
    assert!(
        fault_of(&r).contains("wsse:FailedAuthentication"),
        "expired: {r:?}"
    );
    assert!(fault_of(&r).contains("expired"), "{r:?}");

    let genuine = security(&signer, &doctor, Some(&pid()), None);
    let r = from_se(Some(wrapped(&genuine))).await;
    assert!(fault_of(&r).contains("wsse:"), "signature wrapping: {r:?}");

    // Denmark's issuer is not SE's: its assertion over SE's connection is refused.
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "DK issuer");
    params
        .distinguished_name
        .push(rcgen::DnType::CountryName, "DK");
    let dk_cert = params.self_signed(&key).unwrap();
    let dk = Signer::new(dk_cert.der().to_vec(), key.serialize_pem()).unwrap();
    let r = from_se(Some(security(&dk, &doctor, Some(&pid()), None))).await;
    assert!(
        fault_of(&r).contains("issuers of SE assertions"),
        "third country: {r:?}"
    );

    // A foreign contact point cannot use the national XDS endpoints at all.
    let r = no
        .call_as("foreign-se", "/xds/registry", STORED_QUERY, &q, None)
        .await;
    assert!(
        fault_of(&r).contains("not open to foreign contact points"),
        "{r:?}"
    );
    // National callers keep working without assertions.
    let r = no.call("/xca", XC_QUERY, &q).await;
    assert!(r.fault.is_none(), "{:?}", r.fault);

    // The audit trail has every one of these, refusals included, and is intact.
    let trail = audit_json(&no, &["list", "--json"]);
    let events: Vec<(String, String)> = trail
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["event"].as_str().unwrap().into(),
                r["outcome"].as_str().unwrap().into(),
            )
        })
        .collect();
    let count = |e: &str, o: &str| events.iter().filter(|(a, b)| a == e && b == o).count();
    assert_eq!(count("ITI-38", "success"), 2, "{events:?}");
    assert_eq!(
        count("ITI-38", "serious-failure"),
        1,
        "TRC for another patient: {events:?}"
    );
    assert!(
        count("authentication-failure", "serious-failure") >= 5,
        "{events:?}"
    );
    assert_eq!(count("access-denied", "serious-failure"), 1, "{events:?}");
    let first = &trail[0];
    assert_eq!(first["peer"]["country"], "SE");
    assert_eq!(first["user"]["subject_id"], "Dr. Test Testesen");
    assert_eq!(first["user"]["purpose_of_use"], "TREATMENT");
    assert!(first["patients"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p == &pid()));
    let refused = trail
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["event"] == "authentication-failure")
        .unwrap();
    assert!(
        refused["reason"]
            .as_str()
            .unwrap()
            .contains("wsse:Security"),
        "{refused}"
    );
    let verify = std::process::Command::new(common::BIN)
        .args([
            "--config",
            &no.config.display().to_string(),
            "audit",
            "verify",
        ])
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
}

/// `ncpeh audit ...` against the node's database, as JSON.
fn audit_json(node: &TestNode, args: &[&str]) -> serde_json::Value {
    let out = std::process::Command::new(common::BIN)
        .arg("--config")
        .arg(&node.config)
        .arg("audit")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// SE, configured to issue for its national consumers: the consumer's own (identity-only)
/// assertion is not forwarded; SE issues an HCP and a TRC for the queried patient, signed with
/// its seal, and NO serves them. Without issuing, the same request lacks a TRC and is refused.
#[tokio::test]
async fn se_issues_assertions_for_its_national_consumer() {
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    init_pki(&pki);
    let no = start_no(&pki).await;
    let se_with = |issue: bool| {
        TestNode::start_in_pki(
            &pki,
            "foreign-se",
            &format!(
                "[node]\nhome_community_id = \"{SE_HOME}\"\ncountry = \"SE\"\n[xua]\nnational_issuers = \"{p}/issuer-se.pem\"\n\
                 issue = {issue}\nseal_cert = \"{p}/issuer-se.pem\"\nseal_key = \"{p}/issuer-se.key\"\n\
                 [[peers]]\nhome_community_id = \"{NO_HOME}\"\ncountry = \"NO\"\nxca_url = \"{}/xca\"\n\
                 expected_subject = \"{}\"\nxua_issuers = \"{p}/issuer-no.pem\"\n",
                no.soap,
                subject_of(&pki.join("server.pem")),
                p = pki.display(),
            ),
        )
    };
    let identity_only = security(&se_issuer(&pki), &Professional::default(), None, None);
    let q = find(&pid(), "60591-5");
    for (issue, served) in [(false, false), (true, true)] {
        let se = se_with(issue);
        let r = se
            .call_as(
                "foreign-se",
                "/xca/initiating",
                STORED_QUERY,
                &q,
                Some(&identity_only),
            )
            .await;
        let codes = answer::error_codes(&r.body);
        assert_eq!(
            answer::status(&r.body) == SUCCESS,
            served,
            "issue = {issue}: {codes:?}"
        );
    }
}
