//! ITI-55 Cross Gateway Patient Discovery against the real node over mTLS: matches, misses,
//! errors, schema validity of every answer, and logs that name no patient.

mod common;
use common::{schema, TestNode};
use ncpeh::xml::Element;

const ACTION: &str = "urn:hl7-org:v3:PRPA_IN201305UV02:CrossGatewayPatientDiscovery";
const RESPONSE_ACTION: &str = "urn:hl7-org:v3:PRPA_IN201306UV02:CrossGatewayPatientDiscovery";
const HL7: &str = "urn:hl7-org:v3";
const FNR: &str = "2.16.578.1.12.4.1.4.1";
const DNR: &str = "2.16.578.1.12.4.1.4.2";
const SE_PNR: &str = "1.2.752.129.2.1.3.1";
const NO_HCID: &str = "2.16.578.1.12.4.5.10.1";

/// What a foreign gateway asks for.
#[derive(Default)]
struct Ask<'a> {
    ids: Vec<(&'a str, &'a str)>,
    family: Option<&'a str>,
    given: Option<&'a str>,
    birth: Option<&'a str>,
    gender: Option<&'a str>,
}

/// A PRPA_IN201305UV02 as the Swedish contact point would send it.
fn query(a: &Ask) -> String {
    let mut params = String::new();
    if let Some(g) = a.gender {
        params.push_str(&format!(
            r#"<livingSubjectAdministrativeGender><value code="{g}" codeSystem="2.16.840.1.113883.5.1"/><semanticsText>LivingSubject.administrativeGender</semanticsText></livingSubjectAdministrativeGender>"#
        ));
    }
    if let Some(b) = a.birth {
        params.push_str(&format!(
            r#"<livingSubjectBirthTime><value value="{b}"/><semanticsText>LivingSubject.birthTime</semanticsText></livingSubjectBirthTime>"#
        ));
    }
    if !a.ids.is_empty() {
        params.push_str("<livingSubjectId>");
        for (root, ext) in &a.ids {
            params.push_str(&format!(r#"<value root="{root}" extension="{ext}"/>"#));
        }
        params.push_str("<semanticsText>LivingSubject.id</semanticsText></livingSubjectId>");
    }
    if a.family.is_some() || a.given.is_some() {
        params.push_str("<livingSubjectName><value>");
        if let Some(g) = a.given {
            params.push_str(&format!("<given>{g}</given>"));
        }
        if let Some(f) = a.family {
            params.push_str(&format!("<family>{f}</family>"));
        }
        params.push_str(
            "</value><semanticsText>LivingSubject.name</semanticsText></livingSubjectName>",
        );
    }
    wrap(&format!(
        r#"<queryByParameter><queryId root="1.2.752.129.2.1.4.1.9" extension="q-77"/><statusCode code="new"/><responseModalityCode code="R"/><responsePriorityCode code="I"/><parameterList>{params}</parameterList></queryByParameter>"#
    ))
}

fn wrap(control_act_content: &str) -> String {
    format!(
        concat!(
            r#"<PRPA_IN201305UV02 xmlns="urn:hl7-org:v3" ITSVersion="XML_1.0">"#,
            r#"<id root="1.2.752.129.2.1.4.1" extension="msg-se-0001"/><creationTime value="20261122090512"/>"#,
            r#"<interactionId root="2.16.840.1.113883.1.6" extension="PRPA_IN201305UV02"/>"#,
            r#"<processingCode code="P"/><processingModeCode code="T"/><acceptAckCode code="AL"/>"#,
            r#"<receiver typeCode="RCV"><device classCode="DEV" determinerCode="INSTANCE"><id root="2.16.578.1.12.4.5.10.1"/></device></receiver>"#,
            r#"<sender typeCode="SND"><device classCode="DEV" determinerCode="INSTANCE"><id root="1.2.752.129.2.1.4.1.7"/></device></sender>"#,
            r#"<controlActProcess classCode="CACT" moodCode="EVN"><code code="PRPA_TE201305UV02" codeSystem="2.16.840.1.113883.1.6"/>{}</controlActProcess>"#,
            r#"</PRPA_IN201305UV02>"#
        ),
        control_act_content
    )
}

/// The parts of a PRPA_IN201306UV02 the tests look at.
struct Answer {
    body: Element,
}

impl Answer {
    fn ack(&self) -> String {
        attr(
            self.body
                .child(HL7, "acknowledgement")
                .and_then(|a| a.child(HL7, "typeCode")),
            "code",
        )
    }
    fn cap(&self) -> &Element {
        self.body
            .child(HL7, "controlActProcess")
            .expect("controlActProcess")
    }
    fn query_response(&self) -> String {
        attr(self.cap().find(HL7, "queryResponseCode"), "code")
    }
    fn subjects(&self) -> Vec<&Element> {
        self.cap().children_named(HL7, "subject").collect()
    }
    fn issue_code(&self) -> String {
        attr(
            self.cap()
                .child(HL7, "reasonOf")
                .and_then(|r| r.find(HL7, "detectedIssueManagement"))
                .and_then(|m| m.child(HL7, "code")),
            "code",
        )
    }
    fn detail_text(&self) -> String {
        self.body
            .child(HL7, "acknowledgement")
            .and_then(|a| a.child(HL7, "acknowledgementDetail"))
            .and_then(|d| d.child(HL7, "text"))
            .map(|t| t.text().into_owned())
            .unwrap_or_default()
    }
}

fn attr(e: Option<&Element>, name: &str) -> String {
    e.and_then(|e| e.attr(name)).unwrap_or_default().to_string()
}

async fn discover(node: &TestNode, body: &str) -> Answer {
    let r = node.call("/xcpd", ACTION, body).await;
    assert_eq!(r.http_status, 200, "fault: {:?}", r.fault);
    assert_eq!(r.action.as_deref(), Some(RESPONSE_ACTION));
    assert!(
        r.body.is(HL7, "PRPA_IN201306UV02"),
        "body is {}",
        r.body.name
    );
    let xml = schema::to_xml(&r.body);
    if std::env::var("XCPD_DUMP").is_ok() {
        eprintln!("{xml}");
    }
    if let Err(e) = schema::validate_hl7v3(&xml, "PRPA_IN201306UV02.xsd") {
        panic!("PRPA_IN201306UV02 does not validate:\n{e}\n{xml}");
    }
    Answer { body: r.body }
}

fn fnr() -> String {
    // Random, so parallel tests and reruns never share a patient.
    let n = uuid::Uuid::new_v4().as_u128() % 100_000_000_000;
    format!("{n:011}")
}

#[tokio::test]
async fn fnr_with_agreeing_demographics_matches() {
    let node = TestNode::start();
    let id = fnr();
    node.add_patient_with(
        &format!("{id}^^^&{FNR}&ISO"),
        "Bakken",
        "Ingrid",
        Some("19790317"),
        Some("F"),
    );
    let a = discover(
        &node,
        &query(&Ask {
            ids: vec![(SE_PNR, "197903179988"), (FNR, &id)],
            family: Some("BAKKEN"),
            given: Some("Ingrid"),
            birth: Some("19790317"),
            gender: Some("F"),
        }),
    )
    .await;
    assert_eq!(a.ack(), "AA");
    assert_eq!(a.query_response(), "OK");
    let subjects = a.subjects();
    assert_eq!(subjects.len(), 1);
    let patient = subjects[0].find(HL7, "patient").expect("patient");
    let pid = patient.child(HL7, "id").expect("patient id");
    assert_eq!(pid.attr("root"), Some(FNR));
    assert_eq!(pid.attr("extension"), Some(id.as_str()));
    let person = patient.child(HL7, "patientPerson").expect("patientPerson");
    assert_eq!(
        person.find(HL7, "family").map(|f| f.text()).as_deref(),
        Some("Bakken")
    );
    assert_eq!(
        person.find(HL7, "given").map(|f| f.text()).as_deref(),
        Some("Ingrid")
    );
    assert_eq!(attr(person.child(HL7, "birthTime"), "value"), "19790317");
    assert_eq!(
        attr(person.child(HL7, "administrativeGenderCode"), "code"),
        "F"
    );
    let custodian = subjects[0]
        .find(HL7, "custodian")
        .and_then(|c| c.find(HL7, "assignedEntity"))
        .and_then(|e| e.child(HL7, "id"));
    assert_eq!(attr(custodian, "root"), NO_HCID);
    // The standard echoes: the message answered, the query id, the query, the asker's device.
    let target = a
        .body
        .child(HL7, "acknowledgement")
        .and_then(|x| x.find(HL7, "targetMessage"))
        .and_then(|t| t.child(HL7, "id"));
    assert_eq!(attr(target, "extension"), "msg-se-0001");
    let qid = a
        .cap()
        .child(HL7, "queryAck")
        .and_then(|q| q.child(HL7, "queryId"));
    assert_eq!(attr(qid, "extension"), "q-77");
    assert!(a.cap().child(HL7, "queryByParameter").is_some());
    let rcv = a
        .body
        .child(HL7, "receiver")
        .and_then(|r| r.find(HL7, "id"));
    assert_eq!(attr(rcv, "root"), "1.2.752.129.2.1.4.1.7");

    // The id alone is enough too.
    let a = discover(
        &node,
        &query(&Ask {
            ids: vec![(FNR, &id)],
            ..Default::default()
        }),
    )
    .await;
    assert_eq!(
        (a.ack().as_str(), a.query_response().as_str()),
        ("AA", "OK")
    );
}

/// Control characters in a name (here through the CLI) are cleaned on the way into the index:
/// the answer is well-formed (the client parses it) and the cleaned name matches.
#[tokio::test]
async fn names_with_control_characters_are_cleaned_before_they_are_stored() {
    let node = TestNode::start();
    let id = fnr();
    node.add_patient_with(
        &format!("{id}^^^&{FNR}&ISO"),
        "Nord\u{0B}mann",
        "Kari\u{01}",
        Some("19800101"),
        None,
    );
    let a = discover(
        &node,
        &query(&Ask {
            ids: vec![(FNR, &id)],
            family: Some("Nordmann"),
            given: Some("Kari"),
            ..Default::default()
        }),
    )
    .await;
    assert_eq!(
        (a.ack().as_str(), a.query_response().as_str()),
        ("AA", "OK")
    );
    let person = a.subjects()[0]
        .find(HL7, "patientPerson")
        .expect("patientPerson");
    assert_eq!(
        person.find(HL7, "family").map(|f| f.text()).as_deref(),
        Some("Nordmann")
    );
    assert_eq!(
        person.find(HL7, "given").map(|f| f.text()).as_deref(),
        Some("Kari")
    );
}

#[tokio::test]
async fn unknown_ids_and_disagreeing_demographics_find_nothing() {
    let node = TestNode::start();
    let id = fnr();
    node.add_patient_with(
        &format!("{id}^^^&{FNR}&ISO"),
        "Bakken",
        "Ingrid",
        Some("19790317"),
        Some("F"),
    );
    let unknown = fnr();
    let asks = [
        Ask {
            ids: vec![(FNR, &unknown)],
            ..Default::default()
        },
        // The same number as a D-nummer is another identifier.
        Ask {
            ids: vec![(DNR, &id)],
            ..Default::default()
        },
        Ask {
            ids: vec![(FNR, &id)],
            family: Some("Hansen"),
            ..Default::default()
        },
        Ask {
            ids: vec![(FNR, &id)],
            family: Some("Bakken"),
            birth: Some("19800101"),
            ..Default::default()
        },
        Ask {
            ids: vec![(FNR, &id)],
            gender: Some("M"),
            ..Default::default()
        },
    ];
    for (i, ask) in asks.iter().enumerate() {
        let a = discover(&node, &query(ask)).await;
        assert_eq!(a.ack(), "AA", "case {i}");
        assert_eq!(a.query_response(), "NF", "case {i}");
        assert!(a.subjects().is_empty(), "case {i}");
    }
}

#[tokio::test]
async fn unsupported_roots_and_malformed_queries_are_errors() {
    let node = TestNode::start_logged();
    let id = fnr();
    node.add_patient_with(
        &format!("{id}^^^&{FNR}&ISO"),
        "Bakken",
        "Ingrid",
        Some("19790317"),
        Some("F"),
    );
    // Only a Swedish personnummer: not an identifier this gateway answers for.
    let a = discover(
        &node,
        &query(&Ask {
            ids: vec![(SE_PNR, "197903179988")],
            ..Default::default()
        }),
    )
    .await;
    assert_eq!(
        (a.ack().as_str(), a.query_response().as_str()),
        ("AE", "AE")
    );
    assert_eq!(a.issue_code(), "AnswerNotAvailable");
    assert!(a.detail_text().contains("supported"), "{}", a.detail_text());

    // No parameterList, then a parameterList without livingSubjectId.
    for (broken, why) in [
        (
            wrap(
                r#"<queryByParameter><queryId root="1.9" extension="q"/><statusCode code="new"/></queryByParameter>"#,
            ),
            "parameterList",
        ),
        (
            wrap(concat!(
                r#"<queryByParameter><queryId root="1.9" extension="q"/><statusCode code="new"/><parameterList>"#,
                r#"<livingSubjectName><value><family>Bakken</family></value><semanticsText>LivingSubject.name</semanticsText></livingSubjectName>"#,
                r#"</parameterList></queryByParameter>"#
            )),
            "livingSubjectId",
        ),
        (wrap(""), "queryByParameter"),
    ] {
        let a = discover(&node, &broken).await;
        assert_eq!(a.ack(), "AE", "{why}");
        assert_eq!(a.query_response(), "AE", "{why}");
        assert_eq!(a.issue_code(), "AnswerNotAvailable", "{why}");
        assert!(a.detail_text().contains(why), "{}", a.detail_text());
        assert!(a.subjects().is_empty());
    }

    // Not a PRPA_IN201305UV02 at all: rejected, still in a valid PRPA_IN201306UV02.
    let other = r#"<PRPA_IN201301UV02 xmlns="urn:hl7-org:v3" ITSVersion="XML_1.0"><id root="1.2.752.129.2.1.4.1" extension="msg-x"/></PRPA_IN201301UV02>"#;
    let a = discover(&node, other).await;
    assert_eq!(a.ack(), "AR");
    let target = a
        .body
        .child(HL7, "acknowledgement")
        .and_then(|x| x.find(HL7, "targetMessage"))
        .and_then(|t| t.child(HL7, "id"));
    assert_eq!(attr(target, "extension"), "msg-x");
    let a = discover(&node, r#"<x:Foo xmlns:x="urn:foo"/>"#).await;
    assert_eq!(a.ack(), "AR");

    // A match, so that the log has seen a name and an id to (not) write.
    let a = discover(
        &node,
        &query(&Ask {
            ids: vec![(FNR, &id)],
            family: Some("Bakken"),
            ..Default::default()
        }),
    )
    .await;
    assert_eq!(a.query_response(), "OK");
    let log = node.log();
    assert!(log.contains("xcpd patient discovery"), "log: {log}");
    for secret in [id.as_str(), "Bakken", "Ingrid", "19790317", "197903179988"] {
        assert!(
            !log.contains(secret),
            "the log names a patient ({secret}):\n{log}"
        );
    }
}

#[tokio::test]
async fn wrong_action_and_non_xml_get_soap_faults_and_wsdl_is_served() {
    let node = TestNode::start();
    let body = query(&Ask {
        ids: vec![(FNR, "17037912345")],
        ..Default::default()
    });
    let r = node
        .call("/xcpd", "urn:ihe:iti:2007:RegistryStoredQuery", &body)
        .await;
    assert_eq!(r.http_status, 400);
    assert!(
        r.fault
            .as_deref()
            .unwrap_or_default()
            .contains("not supported"),
        "{:?}",
        r.fault
    );
    let garbage = node
        .client()
        .request(
            hyper::Method::POST,
            &node.url("/xcpd"),
            Some("application/soap+xml; charset=UTF-8"),
            vec![b"this is not XML".to_vec().into()],
        )
        .await
        .expect("HTTP exchange");
    assert_eq!(garbage.status, 400);
    assert!(String::from_utf8_lossy(&garbage.body).contains("env:Fault"));

    let wsdl = node
        .client()
        .request(hyper::Method::GET, &node.url("/xcpd?wsdl"), None, vec![])
        .await
        .expect("wsdl");
    assert_eq!(wsdl.status, 200);
    let text = String::from_utf8_lossy(&wsdl.body);
    assert!(text.contains("RespondingGateway_Service"), "{text}");
    assert!(text.contains(&format!("{}/xcpd", node.soap)), "{text}");
}

#[test]
fn the_schema_check_is_not_vacuous() {
    if !schema::hl7v3_available() {
        return;
    }
    // No sender, no controlActProcess: both required.
    let bad = r#"<PRPA_IN201306UV02 xmlns="urn:hl7-org:v3" ITSVersion="XML_1.0"><id root="1.2"/><creationTime value="20261122"/><interactionId root="2.16.840.1.113883.1.6" extension="PRPA_IN201306UV02"/><processingCode code="P"/><processingModeCode code="T"/><acceptAckCode code="NE"/><receiver typeCode="RCV"><device classCode="DEV" determinerCode="INSTANCE"><id root="1.3"/></device></receiver></PRPA_IN201306UV02>"#;
    assert!(schema::validate_hl7v3(bad, "PRPA_IN201306UV02.xsd").is_err());
}

/// Takes the patient index away under the running node.
fn break_patient_index(db_url: &str) {
    use diesel::{Connection, RunQueryDsl};
    let sql = "ALTER TABLE patients RENAME TO patients_gone";
    if db_url.starts_with("postgres") {
        let mut c = diesel::PgConnection::establish(db_url).expect("connect");
        diesel::sql_query(sql).execute(&mut c).expect("rename");
    } else {
        let mut c = diesel::SqliteConnection::establish(db_url).expect("open");
        diesel::sql_query(sql).execute(&mut c).expect("rename");
    }
}

#[tokio::test]
async fn a_store_failure_is_an_internal_error_that_names_no_patient() {
    let node = TestNode::start_logged();
    let id = fnr();
    node.add_patient_with(
        &format!("{id}^^^&{FNR}&ISO"),
        "Bakken",
        "Ingrid",
        None,
        None,
    );
    break_patient_index(&node.db_url);
    let a = discover(
        &node,
        &query(&Ask {
            ids: vec![(FNR, &id)],
            family: Some("Bakken"),
            ..Default::default()
        }),
    )
    .await;
    assert_eq!(
        (a.ack().as_str(), a.query_response().as_str()),
        ("AE", "AE")
    );
    assert_eq!(a.issue_code(), "InternalError");
    assert!(!a.detail_text().contains("patients"), "{}", a.detail_text());
    let log = node.log();
    assert!(log.contains("patient index lookup failed"), "log: {log}");
    assert!(!log.contains(&id) && !log.contains("Bakken"), "{log}");
}
