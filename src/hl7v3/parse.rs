//! Reading PRPA_IN201305UV02 (Patient Registry Query by Demographics, as ITI-55 uses it) from a
//! parsed element tree. Only what the query means is kept; the rules that answer it live in
//! src/gateway.

use super::{Ii, HL7};
use crate::xml::Element;

/// The transmission wrapper: what a response must echo whether or not the query is usable.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MessageHeader {
    pub id: Option<Ii>,
    pub interaction: Option<Ii>,
    /// The first id of sender/device.
    pub sender_device: Option<Ii>,
    /// The first id of the first receiver/device.
    pub receiver_device: Option<Ii>,
}

/// One livingSubjectName value: its family and given parts, in document order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PersonName {
    pub family: Vec<String>,
    pub given: Vec<String>,
}

/// The parameters of controlActProcess/queryByParameter/parameterList that ITI-55 matches on.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PatientQuery {
    pub query_id: Option<Ii>,
    /// livingSubjectId values (at least one).
    pub ids: Vec<Ii>,
    pub names: Vec<PersonName>,
    /// livingSubjectBirthTime values as given (TS, e.g. `19790317`).
    pub birth_times: Vec<String>,
    /// livingSubjectAdministrativeGender codes (M, F, UN).
    pub genders: Vec<String>,
}

/// A PRPA_IN201305UV02 message: its header, and its query or why the query cannot be used.
#[derive(Debug)]
pub struct QueryMessage<'a> {
    pub header: MessageHeader,
    pub query: Result<PatientQuery, QueryError>,
    /// The queryByParameter element as received, echoed in the response when the query is usable.
    pub query_by_parameter: Option<&'a Element>,
}

/// The body is not a PRPA_IN201305UV02 at all (answered with AR).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("the body element {{{ns}}}{name} is not an HL7 v3 PRPA_IN201305UV02")]
pub struct NotAQuery {
    pub ns: String,
    pub name: String,
    /// Whatever wrapper fields could be read, to address the rejection (boxed: rarely built).
    pub header: Box<MessageHeader>,
}

/// The message is a PRPA_IN201305UV02 but its query cannot be answered (answered with AE).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("the message has no controlActProcess")]
    NoControlActProcess,
    #[error("controlActProcess has no queryByParameter")]
    NoQueryByParameter,
    #[error("queryByParameter has no parameterList")]
    NoParameterList,
    #[error("parameterList has no livingSubjectId value")]
    NoLivingSubjectId,
    #[error("a livingSubjectId value has no root or no extension")]
    IncompleteId,
}

/// Reads a SOAP body element as PRPA_IN201305UV02.
pub fn parse_query(body: &Element) -> Result<QueryMessage<'_>, NotAQuery> {
    let header = header(body);
    if !body.is(HL7, super::QUERY_INTERACTION) {
        return Err(NotAQuery {
            ns: body.ns.clone().unwrap_or_default(),
            name: body.name.clone(),
            header: Box::new(header),
        });
    }
    let qbp = body
        .child(HL7, "controlActProcess")
        .and_then(|c| c.child(HL7, "queryByParameter"));
    Ok(QueryMessage {
        header,
        query: query(body),
        query_by_parameter: qbp,
    })
}

/// The wrapper fields, read leniently from any HL7 v3 message root.
pub fn header(root: &Element) -> MessageHeader {
    let device_id = |party: &str| {
        root.child(HL7, party)
            .and_then(|p| p.child(HL7, "device"))
            .and_then(|d| d.child(HL7, "id"))
            .and_then(ii)
    };
    MessageHeader {
        id: root.child(HL7, "id").and_then(ii),
        interaction: root.child(HL7, "interactionId").and_then(ii),
        sender_device: device_id("sender"),
        receiver_device: device_id("receiver"),
    }
}

fn query(root: &Element) -> Result<PatientQuery, QueryError> {
    let cap = root
        .child(HL7, "controlActProcess")
        .ok_or(QueryError::NoControlActProcess)?;
    let qbp = cap
        .child(HL7, "queryByParameter")
        .ok_or(QueryError::NoQueryByParameter)?;
    let params = qbp
        .child(HL7, "parameterList")
        .ok_or(QueryError::NoParameterList)?;
    let mut q = PatientQuery {
        query_id: qbp.child(HL7, "queryId").and_then(ii),
        ..Default::default()
    };
    for v in values(params, "livingSubjectId") {
        // An id the responder cannot look up is a malformed query, not a miss.
        match (non_empty(v.attr("root")), non_empty(v.attr("extension"))) {
            (Some(root), Some(ext)) => q.ids.push(Ii::new(root, Some(ext))),
            _ => return Err(QueryError::IncompleteId),
        }
    }
    if q.ids.is_empty() {
        return Err(QueryError::NoLivingSubjectId);
    }
    for v in values(params, "livingSubjectName") {
        let parts = |name: &str| -> Vec<String> {
            v.children_named(HL7, name)
                .map(|p| p.text().trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        };
        let name = PersonName {
            family: parts("family"),
            given: parts("given"),
        };
        if !name.family.is_empty() || !name.given.is_empty() {
            q.names.push(name);
        }
    }
    q.birth_times = values(params, "livingSubjectBirthTime")
        .filter_map(|v| non_empty(v.attr("value")))
        .collect();
    q.genders = values(params, "livingSubjectAdministrativeGender")
        .filter_map(|v| non_empty(v.attr("code")))
        .collect();
    Ok(q)
}

/// The `value` children of every parameter element with this name.
fn values<'a>(params: &'a Element, parameter: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
    params
        .children_named(HL7, parameter)
        .flat_map(|p| p.children_named(HL7, "value"))
}

fn ii(e: &Element) -> Option<Ii> {
    let root = non_empty(e.attr("root"))?;
    Some(Ii::new(root, non_empty(e.attr("extension"))))
}

fn non_empty(v: Option<&str>) -> Option<String> {
    v.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
