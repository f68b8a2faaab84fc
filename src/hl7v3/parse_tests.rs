use super::*;
use crate::xml::{parse, Limits};

/// A query as a foreign contact point would send it: prefixed HL7 elements, xsi:type on
/// values, two names, an id of the asking country and a Norwegian fødselsnummer.
const QUERY: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<v3:PRPA_IN201305UV02 xmlns:v3="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ITSVersion="XML_1.0">
  <v3:id root="1.2.752.129.2.1.4.1" extension="7f3c9a52-0d1e-4b8a-9c6e-2e5f1a7b3d90"/>
  <v3:creationTime value="20261122090512"/>
  <v3:interactionId root="2.16.840.1.113883.1.6" extension="PRPA_IN201305UV02"/>
  <v3:processingCode code="P"/>
  <v3:processingModeCode code="T"/>
  <v3:acceptAckCode code="AL"/>
  <v3:receiver typeCode="RCV">
    <v3:device classCode="DEV" determinerCode="INSTANCE">
      <v3:id root="2.16.578.1.12.4.5.10.1.2"/>
      <v3:asAgent classCode="AGNT">
        <v3:representedOrganization classCode="ORG" determinerCode="INSTANCE">
          <v3:id root="2.16.578.1.12.4.5.10.1"/>
        </v3:representedOrganization>
      </v3:asAgent>
    </v3:device>
  </v3:receiver>
  <v3:sender typeCode="SND">
    <v3:device classCode="DEV" determinerCode="INSTANCE">
      <v3:id root="1.2.752.129.2.1.4.1.7"/>
      <v3:asAgent classCode="AGNT">
        <v3:representedOrganization classCode="ORG" determinerCode="INSTANCE">
          <v3:id root="1.2.752.129.2.1.4.1"/>
        </v3:representedOrganization>
      </v3:asAgent>
    </v3:device>
  </v3:sender>
  <v3:controlActProcess classCode="CACT" moodCode="EVN">
    <v3:code code="PRPA_TE201305UV02" codeSystem="2.16.840.1.113883.1.6"/>
    <v3:authorOrPerformer typeCode="AUT">
      <v3:assignedDevice classCode="ASSIGNED">
        <v3:id root="1.2.752.129.2.1.4.1"/>
      </v3:assignedDevice>
    </v3:authorOrPerformer>
    <v3:queryByParameter>
      <v3:queryId root="1.2.752.129.2.1.4.1.9" extension="q-20261122-0042"/>
      <v3:statusCode code="new"/>
      <v3:responseModalityCode code="R"/>
      <v3:responsePriorityCode code="I"/>
      <v3:parameterList>
        <v3:livingSubjectAdministrativeGender>
          <v3:value code="F" codeSystem="2.16.840.1.113883.5.1"/>
          <v3:semanticsText>LivingSubject.administrativeGender</v3:semanticsText>
        </v3:livingSubjectAdministrativeGender>
        <v3:livingSubjectBirthTime>
          <v3:value value="19790317"/>
          <v3:semanticsText>LivingSubject.birthTime</v3:semanticsText>
        </v3:livingSubjectBirthTime>
        <v3:livingSubjectId>
          <v3:value root="2.16.578.1.12.4.1.4.1" extension="17037912345"/>
          <v3:value root="1.2.752.129.2.1.3.1" extension="197903179988"/>
          <v3:semanticsText>LivingSubject.id</v3:semanticsText>
        </v3:livingSubjectId>
        <v3:livingSubjectName>
          <v3:value xsi:type="PN">
            <v3:given>Ingrid</v3:given>
            <v3:given>Marie</v3:given>
            <v3:family> Bakken </v3:family>
          </v3:value>
          <v3:value><v3:family>Sørlie</v3:family></v3:value>
          <v3:semanticsText>LivingSubject.name</v3:semanticsText>
        </v3:livingSubjectName>
      </v3:parameterList>
    </v3:queryByParameter>
  </v3:controlActProcess>
</v3:PRPA_IN201305UV02>"#;

fn root(x: &str) -> Element {
    parse(x.as_bytes(), Limits::default()).expect("well-formed")
}

#[test]
fn reads_a_realistic_query() {
    let doc = root(QUERY);
    let m = parse_query(&doc).expect("a PRPA_IN201305UV02");
    assert_eq!(
        m.header.id,
        Some(Ii::new(
            "1.2.752.129.2.1.4.1",
            Some("7f3c9a52-0d1e-4b8a-9c6e-2e5f1a7b3d90".into())
        ))
    );
    assert_eq!(
        m.header.sender_device,
        Some(Ii::new("1.2.752.129.2.1.4.1.7", None))
    );
    assert_eq!(
        m.header.receiver_device,
        Some(Ii::new("2.16.578.1.12.4.5.10.1.2", None))
    );
    assert_eq!(
        m.header.interaction.and_then(|i| i.extension).as_deref(),
        Some("PRPA_IN201305UV02")
    );
    let q = m.query.expect("usable query");
    assert_eq!(
        q.query_id,
        Some(Ii::new(
            "1.2.752.129.2.1.4.1.9",
            Some("q-20261122-0042".into())
        ))
    );
    assert_eq!(
        q.ids,
        vec![
            Ii::new("2.16.578.1.12.4.1.4.1", Some("17037912345".into())),
            Ii::new("1.2.752.129.2.1.3.1", Some("197903179988".into())),
        ]
    );
    assert_eq!(q.names.len(), 2);
    assert_eq!(q.names[0].family, vec!["Bakken"]);
    assert_eq!(q.names[0].given, vec!["Ingrid", "Marie"]);
    assert_eq!(q.names[1].family, vec!["Sørlie"]);
    assert_eq!(q.birth_times, vec!["19790317"]);
    assert_eq!(q.genders, vec!["F"]);
    let echo = m.query_by_parameter.expect("kept for the echo");
    assert!(echo.is(HL7, "queryByParameter"));
}

#[test]
fn only_an_id_is_enough() {
    let x = r#"<PRPA_IN201305UV02 xmlns="urn:hl7-org:v3"><controlActProcess><queryByParameter>
        <parameterList><livingSubjectId><value root="2.16.578.1.12.4.1.4.2" extension="41017912345"/>
        </livingSubjectId></parameterList></queryByParameter></controlActProcess></PRPA_IN201305UV02>"#;
    let doc = root(x);
    let m = parse_query(&doc).unwrap();
    assert_eq!(m.header, MessageHeader::default());
    let q = m.query.unwrap();
    assert_eq!(q.ids.len(), 1);
    assert!(q.names.is_empty() && q.birth_times.is_empty() && q.genders.is_empty());
    assert!(q.query_id.is_none());
}

#[test]
fn malformed_queries_keep_their_header() {
    let wrap = |inner: &str| {
        format!(
            r#"<PRPA_IN201305UV02 xmlns="urn:hl7-org:v3"><id root="1.2.3" extension="m1"/>{inner}</PRPA_IN201305UV02>"#
        )
    };
    let cases = [
        ("", QueryError::NoControlActProcess),
        ("<controlActProcess/>", QueryError::NoQueryByParameter),
        (
            "<controlActProcess><queryByParameter><queryId root=\"1.9\"/></queryByParameter></controlActProcess>",
            QueryError::NoParameterList,
        ),
        (
            "<controlActProcess><queryByParameter><parameterList><livingSubjectName><value><family>X</family></value></livingSubjectName></parameterList></queryByParameter></controlActProcess>",
            QueryError::NoLivingSubjectId,
        ),
        (
            "<controlActProcess><queryByParameter><parameterList><livingSubjectId><value root=\"2.16.578.1.12.4.1.4.1\"/></livingSubjectId></parameterList></queryByParameter></controlActProcess>",
            QueryError::IncompleteId,
        ),
    ];
    for (inner, want) in cases {
        let doc = root(&wrap(inner));
        let m = parse_query(&doc).expect("right message type");
        assert_eq!(m.query, Err(want.clone()), "{inner}");
        assert_eq!(m.header.id, Some(Ii::new("1.2.3", Some("m1".into()))));
    }
}

#[test]
fn other_messages_are_not_queries() {
    let doc =
        root(r#"<PRPA_IN201301UV02 xmlns="urn:hl7-org:v3"><id root="1.2.3"/></PRPA_IN201301UV02>"#);
    let e = parse_query(&doc).unwrap_err();
    assert_eq!(e.name, "PRPA_IN201301UV02");
    assert_eq!(e.header.id, Some(Ii::new("1.2.3", None)));
    // The right local name in another namespace is not the HL7 message either.
    let doc = root(r#"<PRPA_IN201305UV02 xmlns="urn:not-hl7"/>"#);
    assert!(parse_query(&doc).is_err());
}
