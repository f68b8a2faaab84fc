//! The /xcpd SOAP service: ITI-55 Cross Gateway Patient Discovery, responding.
//! Every well-addressed request gets a PRPA_IN201306UV02; only a wrong SOAP action (or a broken
//! envelope, in the transport layer) gets a SOAP fault. Logs carry counts and outcomes only,
//! never identifiers or names of patients.

use super::xcpd::{self, bare_oid, Decision, ANSWER_NOT_AVAILABLE, INTERNAL_ERROR};
use crate::hl7v3::{
    parse_query, write_response, AckCode, FoundPatient, Ii, Issue, MessageHeader,
    QueryResponseCode, Response,
};
use crate::ids::action;
use crate::saml::xspa::permissions;
use crate::soap::{Access, Endpoint, ServiceFuture, SoapCall, SoapReply, SoapService};
use crate::store::consent::{self, Scope};
use crate::store::{patients, Store, StoreError};
use crate::xds::confidentiality::Audience;
use crate::xml::Element;
use std::collections::HashSet;

pub struct XcpdResponding {
    /// This community's homeCommunityId.
    pub home: String,
    /// The patient index.
    pub store: Store,
}

const ENDPOINT: Endpoint = Endpoint {
    path: "/xcpd",
    wsdl: include_str!("../../wsdl/xcpd.wsdl"),
    schemas: super::HL7V3_SCHEMAS,
    actions: &[action::XCPD],
    access: Access::CrossBorder {
        trc: false,
        permissions: permissions::XCPD,
    },
};

impl SoapService for XcpdResponding {
    fn endpoint(&self) -> &'static Endpoint {
        &ENDPOINT
    }

    fn call(&self, call: SoapCall) -> ServiceFuture<'_> {
        Box::pin(async move {
            // A patient's refusal of the eHDSI exchange concerns foreign contact points.
            let audience = super::xca_responding::audience(&call);
            Ok(self.discover(call.body(), audience).await)
        })
    }
}

impl XcpdResponding {
    async fn discover(&self, body: &Element, audience: Audience) -> SoapReply {
        let a = answer(&self.store, body, audience).await;
        let hc = bare_oid(&self.home);
        let now = time::OffsetDateTime::now_utc();
        let fmt = time::macros::format_description!("[year][month][day][hour][minute][second]");
        let body = write_response(&Response {
            id: Ii::new(uuid::Uuid::new_v4().to_string(), None),
            creation_time: now.format(&fmt).unwrap_or_default(),
            sender_device: Ii::new(hc, None),
            home_community_oid: hc,
            receiver_device: a.header.sender_device.clone(),
            ack: a.ack,
            target_message: a.header.id.clone(),
            issue: a.issue.clone(),
            query_response: a.code,
            query_id: a.query_id.clone(),
            patients: &a.patients,
            echo_query: a.echo,
        });
        tracing::info!(
            query_ids = a.asked,
            norwegian_ids = a.looked_up,
            matched = a.patients.len(),
            outcome = a.outcome(),
            "xcpd patient discovery"
        );
        SoapReply::new(action::XCPD_RESPONSE, body, a.outcome())
    }
}

/// What the response says, before it is written.
struct Answer<'a> {
    header: MessageHeader,
    ack: AckCode,
    code: QueryResponseCode,
    issue: Option<Issue>,
    query_id: Option<Ii>,
    patients: Vec<FoundPatient>,
    echo: Option<&'a Element>,
    /// Counts for the log line.
    asked: usize,
    looked_up: usize,
}

impl<'a> Answer<'a> {
    fn new(header: MessageHeader, ack: AckCode, code: QueryResponseCode) -> Answer<'a> {
        Answer {
            header,
            ack,
            code,
            issue: None,
            query_id: None,
            patients: Vec::new(),
            echo: None,
            asked: 0,
            looked_up: 0,
        }
    }

    fn error(header: MessageHeader, ack: AckCode, issue: Issue) -> Answer<'a> {
        let mut a = Answer::new(header, ack, QueryResponseCode::ApplicationError);
        a.issue = Some(issue);
        a
    }

    fn outcome(&self) -> &'static str {
        match (self.ack, self.code) {
            (AckCode::Reject, _) => "AR",
            (AckCode::Error, _) => "AE",
            (AckCode::Accept, QueryResponseCode::Ok) => "OK",
            (AckCode::Accept, _) => "NF",
        }
    }
}

async fn answer<'a>(store: &Store, body: &'a Element, audience: Audience) -> Answer<'a> {
    let msg = match parse_query(body) {
        Ok(m) => m,
        Err(e) => {
            let issue = Issue::ihe(ANSWER_NOT_AVAILABLE, e.to_string());
            return Answer::error(*e.header, AckCode::Reject, issue);
        }
    };
    let q = match msg.query {
        Ok(q) => q,
        // The query is not echoed: it is the part that is broken.
        Err(e) => {
            return Answer::error(
                msg.header,
                AckCode::Error,
                Issue::ihe(ANSWER_NOT_AVAILABLE, e.to_string()),
            )
        }
    };
    let finish = |mut a: Answer<'a>| {
        a.query_id = q.query_id.clone();
        a.echo = msg.query_by_parameter;
        a.asked = q.ids.len();
        a
    };
    let keys = match xcpd::lookup_keys(&q) {
        Ok(k) => k,
        Err(e) => {
            let header = msg.header.clone();
            return finish(Answer::error(
                header,
                AckCode::Error,
                Issue::ihe(ANSWER_NOT_AVAILABLE, e.to_string()),
            ));
        }
    };
    let looked_up = keys.len();
    let cxs: Vec<String> = keys.into_iter().map(|k| k.cx).collect();
    let rows = store
        .read(move |c| {
            let mut rows = Vec::with_capacity(cxs.len());
            for cx in &cxs {
                if let Some(r) = patients::get(c, cx)? {
                    rows.push(r);
                }
            }
            let refused = match audience {
                Audience::CrossBorder => consent::denied(c, &cxs, Scope::Ehdsi)?,
                Audience::National => HashSet::new(),
            };
            Ok::<_, StoreError>((rows, refused))
        })
        .await;
    let header = msg.header.clone();
    let mut a = match rows {
        Err(e) => {
            // Database errors carry no bound values, so no patient id reaches the log.
            tracing::error!(error = %e, "xcpd: patient index lookup failed");
            Answer::error(
                header,
                AckCode::Error,
                Issue::ihe(
                    INTERNAL_ERROR,
                    "internal error in the responding gateway; the query was not answered".into(),
                ),
            )
        }
        Ok((rows, refused)) => match xcpd::withhold_refused(xcpd::decide(&q, &rows), &refused) {
            Decision::Match(p) => {
                let mut a = Answer::new(header, AckCode::Accept, QueryResponseCode::Ok);
                a.patients.push(p);
                a
            }
            Decision::NoMatch => Answer::new(header, AckCode::Accept, QueryResponseCode::NotFound),
            Decision::Error(issue) => Answer::error(header, AckCode::Error, issue),
        },
    };
    a.looked_up = looked_up;
    finish(a)
}
