//! Writing PRPA_IN201306UV02 (Patient Registry Find Candidates Response, as ITI-55 uses it).
//! Every value from outside is escaped; the echoed query is re-serialised from the parsed tree.

use super::{AckCode, Ii, HL7, INTERACTION_ROOT, RESPONSE_INTERACTION, XSI};
use crate::xml::{esc_attr, esc_text, Element};
use std::fmt::Write;

/// IHE code system of the XCPD error codes (InternalError, AnswerNotAvailable, ...).
pub const IHE_XCPD_ERROR_CODES: &str = "1.3.6.1.4.1.19376.1.2.27.3";
/// IHE code system of the custodian role codes (NotHealthDataLocator).
pub const IHE_XCPD_CUSTODIAN_CODES: &str = "1.3.6.1.4.1.19376.1.2.27.2";
const ADMIN_GENDER: &str = "2.16.840.1.113883.5.1";
const ACT_CODE: &str = "2.16.840.1.113883.5.4";

/// queryAck/queryResponseCode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryResponseCode {
    Ok,
    NotFound,
    ApplicationError,
    QueryParameterError,
}

impl QueryResponseCode {
    pub fn code(self) -> &'static str {
        match self {
            QueryResponseCode::Ok => "OK",
            QueryResponseCode::NotFound => "NF",
            QueryResponseCode::ApplicationError => "AE",
            QueryResponseCode::QueryParameterError => "QE",
        }
    }
}

/// Why the query was not answered: an XCPD error code and a text that names no patient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// A code of `code_system`, e.g. `InternalError`, `AnswerNotAvailable`.
    pub code: &'static str,
    /// [`IHE_XCPD_ERROR_CODES`], or a profile's own (eHDSI adds `InsufficientRights`, ...).
    pub code_system: &'static str,
    pub text: String,
}

impl Issue {
    /// An issue with one of the IHE XCPD error codes.
    pub fn ihe(code: &'static str, text: String) -> Issue {
        Issue {
            code,
            code_system: IHE_XCPD_ERROR_CODES,
            text,
        }
    }
}

/// A matched patient as the response describes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FoundPatient {
    pub ids: Vec<Ii>,
    pub family: Option<String>,
    pub given: Option<String>,
    /// TS, e.g. `19790317`.
    pub birth_time: Option<String>,
    /// HL7 AdministrativeGender code: M, F or UN.
    pub gender: Option<String>,
}

/// Everything a PRPA_IN201306UV02 carries.
#[derive(Debug, Clone)]
pub struct Response<'a> {
    pub id: Ii,
    /// TS of the response, `YYYYMMDDHHMMSS`.
    pub creation_time: String,
    pub sender_device: Ii,
    /// Our homeCommunityId as a bare OID: sender organisation and custodian.
    pub home_community_oid: &'a str,
    /// The requester's device (its sender), None when unknown.
    pub receiver_device: Option<Ii>,
    pub ack: AckCode,
    /// The id of the message answered, None when unknown.
    pub target_message: Option<Ii>,
    pub issue: Option<Issue>,
    pub query_response: QueryResponseCode,
    pub query_id: Option<Ii>,
    pub patients: &'a [FoundPatient],
    /// The original queryByParameter, echoed as received.
    pub echo_query: Option<&'a Element>,
}

/// The PRPA_IN201306UV02 element (the SOAP body content).
pub fn write_response(r: &Response) -> String {
    let mut o = String::with_capacity(4096);
    let _ = write!(
        o,
        r#"<PRPA_IN201306UV02 xmlns="{HL7}" xmlns:xsi="{XSI}" ITSVersion="XML_1.0">"#
    );
    o.push_str(&ii("id", Some(&r.id)));
    let _ = write!(
        o,
        r#"<creationTime value="{}"/>"#,
        esc_attr(&r.creation_time)
    );
    o.push_str(&ii(
        "interactionId",
        Some(&Ii::new(
            INTERACTION_ROOT,
            Some(RESPONSE_INTERACTION.to_string()),
        )),
    ));
    o.push_str(concat!(
        r#"<processingCode code="P"/><processingModeCode code="T"/>"#,
        r#"<acceptAckCode code="NE"/>"#
    ));
    let _ = write!(
        o,
        r#"<receiver typeCode="RCV"><device classCode="DEV" determinerCode="INSTANCE">{}</device></receiver>"#,
        ii("id", r.receiver_device.as_ref())
    );
    let _ = write!(
        o,
        concat!(
            r#"<sender typeCode="SND"><device classCode="DEV" determinerCode="INSTANCE">{}"#,
            r#"<asAgent classCode="AGNT"><representedOrganization classCode="ORG" determinerCode="INSTANCE">"#,
            r#"<id root="{}"/></representedOrganization></asAgent></device></sender>"#
        ),
        ii("id", Some(&r.sender_device)),
        esc_attr(r.home_community_oid)
    );
    write_ack(&mut o, r);
    o.push_str(r#"<controlActProcess classCode="CACT" moodCode="EVN">"#);
    let _ = write!(
        o,
        r#"<code code="PRPA_TE201306UV02" codeSystem="{INTERACTION_ROOT}"/>"#
    );
    for p in r.patients {
        write_subject(&mut o, p, r.home_community_oid);
    }
    if let Some(issue) = &r.issue {
        let _ = write!(
            o,
            concat!(
                r#"<reasonOf typeCode="RSON"><detectedIssueEvent classCode="ALRT" moodCode="EVN">"#,
                r#"<code code="ActAdministrativeDetectedIssueCode" codeSystem="{}"/>"#,
                r#"<mitigatedBy typeCode="MITGT"><detectedIssueManagement classCode="ACT" moodCode="EVN">"#,
                r#"<code code="{}" codeSystem="{}"/></detectedIssueManagement></mitigatedBy>"#,
                r#"</detectedIssueEvent></reasonOf>"#
            ),
            ACT_CODE,
            esc_attr(issue.code),
            esc_attr(issue.code_system)
        );
    }
    o.push_str("<queryAck>");
    if let Some(q) = &r.query_id {
        o.push_str(&ii("queryId", Some(q)));
    }
    let n = r.patients.len();
    let _ = write!(
        o,
        concat!(
            r#"<statusCode code="deliveredResponse"/><queryResponseCode code="{}"/>"#,
            r#"<resultTotalQuantity value="{n}"/><resultCurrentQuantity value="{n}"/>"#,
            r#"<resultRemainingQuantity value="0"/></queryAck>"#
        ),
        r.query_response.code(),
        n = n
    );
    if let Some(q) = r.echo_query {
        o.push_str(&crate::xml::write::serialize(q, &|_| None));
    }
    o.push_str("</controlActProcess></PRPA_IN201306UV02>");
    o
}

fn write_ack(o: &mut String, r: &Response) {
    let _ = write!(
        o,
        r#"<acknowledgement><typeCode code="{}"/><targetMessage>{}</targetMessage>"#,
        r.ack.code(),
        ii("id", r.target_message.as_ref())
    );
    if let Some(issue) = &r.issue {
        let _ = write!(
            o,
            concat!(
                r#"<acknowledgementDetail typeCode="E"><code code="{}" codeSystem="{}"/>"#,
                r#"<text>{}</text></acknowledgementDetail>"#
            ),
            esc_attr(issue.code),
            esc_attr(issue.code_system),
            esc_text(&issue.text)
        );
    }
    o.push_str("</acknowledgement>");
}

fn write_subject(o: &mut String, p: &FoundPatient, home_community_oid: &str) {
    o.push_str(concat!(
        r#"<subject typeCode="SUBJ"><registrationEvent classCode="REG" moodCode="EVN">"#,
        r#"<statusCode code="active"/><subject1 typeCode="SBJ"><patient classCode="PAT">"#
    ));
    for id in &p.ids {
        o.push_str(&ii("id", Some(id)));
    }
    o.push_str(
        r#"<statusCode code="active"/><patientPerson classCode="PSN" determinerCode="INSTANCE">"#,
    );
    if p.family.is_none() && p.given.is_none() {
        o.push_str(r#"<name nullFlavor="UNK"/>"#);
    } else {
        o.push_str("<name>");
        if let Some(g) = &p.given {
            let _ = write!(o, "<given>{}</given>", esc_text(g));
        }
        if let Some(f) = &p.family {
            let _ = write!(o, "<family>{}</family>", esc_text(f));
        }
        o.push_str("</name>");
    }
    if let Some(g) = &p.gender {
        let _ = write!(
            o,
            r#"<administrativeGenderCode code="{}" codeSystem="{ADMIN_GENDER}"/>"#,
            esc_attr(g)
        );
    }
    if let Some(b) = &p.birth_time {
        let _ = write!(o, r#"<birthTime value="{}"/>"#, esc_attr(b));
    }
    let _ = write!(
        o,
        concat!(
            r#"</patientPerson><subjectOf1><queryMatchObservation classCode="COND" moodCode="EVN">"#,
            r#"<code code="IHE_PDQ"/><value xsi:type="INT" value="100"/></queryMatchObservation>"#,
            r#"</subjectOf1></patient></subject1>"#,
            r#"<custodian typeCode="CST"><assignedEntity classCode="ASSIGNED"><id root="{}"/>"#,
            r#"<code code="NotHealthDataLocator" codeSystem="{}"/></assignedEntity></custodian>"#,
            r#"</registrationEvent></subject>"#
        ),
        esc_attr(home_community_oid),
        IHE_XCPD_CUSTODIAN_CODES
    );
}

/// An II element; an unknown identifier is written with nullFlavor="UNK".
pub(super) fn ii(tag: &str, id: Option<&Ii>) -> String {
    match id {
        Some(Ii { root, extension }) => {
            let ext = extension
                .as_deref()
                .map(|e| format!(r#" extension="{}""#, esc_attr(e)))
                .unwrap_or_default();
            format!(r#"<{tag} root="{}"{ext}/>"#, esc_attr(root))
        }
        None => format!(r#"<{tag} nullFlavor="UNK"/>"#),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::{parse, Limits};

    #[test]
    fn writes_a_match_that_reads_back() {
        let echo = parse(
            br#"<q:queryByParameter xmlns:q="urn:hl7-org:v3"><q:queryId root="1.9" extension="a&amp;b"/></q:queryByParameter>"#,
            Limits::default(),
        )
        .unwrap();
        let patients = [FoundPatient {
            ids: vec![Ii::new("2.16.578.1.12.4.1.4.1", Some("17037912345".into()))],
            family: Some("Bakken <Sørlie>".into()),
            // A vertical tab from an ITI-8 feed: XML 1.0 cannot carry it, so it is dropped.
            given: Some("Kari\u{b}".into()),
            birth_time: Some("19790317".into()),
            gender: Some("F".into()),
        }];
        let x = write_response(&Response {
            id: Ii::new("5b0e8f0e-8a9d-4e41-9a57-0c1b2f6c7d10", None),
            creation_time: "20261122101010".into(),
            sender_device: Ii::new("2.16.578.1.12.4.5.10.1", None),
            home_community_oid: "2.16.578.1.12.4.5.10.1",
            receiver_device: None,
            ack: AckCode::Accept,
            target_message: Some(Ii::new("1.2.3", Some("m\"1".into()))),
            issue: None,
            query_response: QueryResponseCode::Ok,
            query_id: Some(Ii::new("1.9", Some("a&b".into()))),
            patients: &patients,
            echo_query: Some(&echo),
        });
        let doc = parse(x.as_bytes(), Limits::default()).expect("well-formed");
        assert!(doc.is(HL7, "PRPA_IN201306UV02"));
        let ack = doc.child(HL7, "acknowledgement").unwrap();
        assert_eq!(
            ack.child(HL7, "targetMessage")
                .and_then(|t| t.child(HL7, "id"))
                .and_then(|i| i.attr("extension")),
            Some("m\"1")
        );
        let cap = doc.child(HL7, "controlActProcess").unwrap();
        let person = cap.find(HL7, "patientPerson").unwrap();
        assert_eq!(
            person.find(HL7, "family").map(|f| f.text()).as_deref(),
            Some("Bakken <Sørlie>")
        );
        assert_eq!(
            person.find(HL7, "given").map(|f| f.text()).as_deref(),
            Some("Kari")
        );
        assert_eq!(
            cap.find(HL7, "queryResponseCode")
                .and_then(|c| c.attr("code")),
            Some("OK")
        );
        let echoed = cap.child(HL7, "queryByParameter").unwrap();
        assert_eq!(
            echoed
                .child(HL7, "queryId")
                .and_then(|q| q.attr("extension")),
            Some("a&b")
        );
        // No receiver known: a null-flavoured id keeps the required element.
        let rcv = doc.child(HL7, "receiver").unwrap().find(HL7, "id").unwrap();
        assert_eq!(rcv.attr("nullFlavor"), Some("UNK"));
    }
}
