//! Writing PRPA_IN201305UV02 (ITI-55 Cross Gateway Patient Discovery) for one patient id, as an
//! initiating side that asks by identifier alone sends it.

use super::write::ii;
use super::{Ii, HL7, INTERACTION_ROOT, QUERY_INTERACTION};
use crate::xml::esc_attr;
use std::fmt::Write;

/// What a query by patient id carries.
#[derive(Debug, Clone)]
pub struct IdQuery {
    pub id: Ii,
    /// TS of the message, `YYYYMMDDHHMMSS`.
    pub creation_time: String,
    /// Our device (the sender), and the responder's (the receiver): homeCommunityIds as bare OIDs.
    pub sender_device: Ii,
    pub receiver_device: Ii,
    pub query_id: Ii,
    /// The livingSubjectId asked about.
    pub patient: Ii,
}

/// The PRPA_IN201305UV02 element (the SOAP body content).
pub fn write_id_query(q: &IdQuery) -> String {
    let mut o = String::with_capacity(1536);
    let _ = write!(
        o,
        r#"<PRPA_IN201305UV02 xmlns="{HL7}" ITSVersion="XML_1.0">"#
    );
    o.push_str(&ii("id", Some(&q.id)));
    let _ = write!(
        o,
        r#"<creationTime value="{}"/>"#,
        esc_attr(&q.creation_time)
    );
    o.push_str(&ii(
        "interactionId",
        Some(&Ii::new(INTERACTION_ROOT, Some(QUERY_INTERACTION.into()))),
    ));
    o.push_str(concat!(
        r#"<processingCode code="P"/><processingModeCode code="T"/>"#,
        r#"<acceptAckCode code="AL"/>"#
    ));
    let device = |o: &mut String, party: &str, type_code: &str, id: &Ii| {
        let _ = write!(
            o,
            r#"<{party} typeCode="{type_code}"><device classCode="DEV" determinerCode="INSTANCE">{}</device></{party}>"#,
            ii("id", Some(id))
        );
    };
    device(&mut o, "receiver", "RCV", &q.receiver_device);
    device(&mut o, "sender", "SND", &q.sender_device);
    o.push_str(concat!(
        r#"<controlActProcess classCode="CACT" moodCode="EVN">"#,
        r#"<code code="PRPA_TE201305UV02" codeSystem="2.16.840.1.113883.1.6"/>"#,
        r#"<queryByParameter>"#
    ));
    o.push_str(&ii("queryId", Some(&q.query_id)));
    o.push_str(concat!(
        r#"<statusCode code="new"/><responseModalityCode code="R"/>"#,
        r#"<responsePriorityCode code="I"/><parameterList><livingSubjectId>"#
    ));
    o.push_str(&ii("value", Some(&q.patient)));
    o.push_str(concat!(
        r#"<semanticsText>LivingSubject.id</semanticsText></livingSubjectId>"#,
        r#"</parameterList></queryByParameter></controlActProcess></PRPA_IN201305UV02>"#
    ));
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hl7v3::parse_query;

    #[test]
    fn the_query_reads_back_with_its_patient_and_devices() {
        let q = IdQuery {
            id: Ii::new("1.2.3", Some("m&1".into())),
            creation_time: "20261202100000".into(),
            sender_device: Ii::new("2.16.752.1.2.4.5.10.1", None),
            receiver_device: Ii::new("2.16.578.1.12.4.5.10.1", None),
            query_id: Ii::new("1.2.3.9", Some("q-1".into())),
            patient: Ii::new("2.16.578.1.12.4.1.4.1", Some("00000000000".into())),
        };
        let xml = write_id_query(&q);
        let root = crate::xml::parse(xml.as_bytes(), crate::xml::Limits::default()).unwrap();
        let m = parse_query(&root).unwrap();
        assert_eq!(m.header.id, Some(q.id.clone()));
        assert_eq!(m.header.sender_device, Some(q.sender_device.clone()));
        assert_eq!(m.header.receiver_device, Some(q.receiver_device.clone()));
        let asked = m.query.unwrap();
        assert_eq!(asked.ids, vec![q.patient.clone()]);
        assert_eq!(asked.query_id, Some(q.query_id.clone()));
    }
}
