//! SOAP 1.2 faults.

use super::{SOAP12, WSA, WSSE};
use crate::xml::esc_text;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultCode {
    VersionMismatch,
    MustUnderstand,
    Sender,
    Receiver,
}

impl FaultCode {
    fn qname(self) -> &'static str {
        match self {
            FaultCode::VersionMismatch => "env:VersionMismatch",
            FaultCode::MustUnderstand => "env:MustUnderstand",
            FaultCode::Sender => "env:Sender",
            FaultCode::Receiver => "env:Receiver",
        }
    }
}

/// A SOAP fault. `subcode` is a QName with the prefix `wsa:` (WS-Addressing) or `wsse:`
/// (WS-Security), both declared by the writer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("SOAP fault {code:?}{}: {reason}", subcode.map(|s| format!("/{s}")).unwrap_or_default())]
pub struct Fault {
    pub code: FaultCode,
    pub subcode: Option<&'static str>,
    pub reason: String,
    /// HTTP status to send with it.
    pub http_status: u16,
}

impl Fault {
    pub fn sender(reason: impl Into<String>) -> Fault {
        Fault {
            code: FaultCode::Sender,
            subcode: None,
            reason: reason.into(),
            http_status: 400,
        }
    }

    pub fn receiver(reason: impl Into<String>) -> Fault {
        Fault {
            code: FaultCode::Receiver,
            subcode: None,
            reason: reason.into(),
            http_status: 500,
        }
    }

    pub fn version_mismatch() -> Fault {
        Fault {
            code: FaultCode::VersionMismatch,
            subcode: None,
            reason: "Only SOAP 1.2 envelopes are accepted".into(),
            http_status: 400,
        }
    }

    pub fn action_not_supported(action: &str) -> Fault {
        Fault {
            code: FaultCode::Sender,
            subcode: Some("wsa:ActionNotSupported"),
            reason: format!("The action '{action}' is not supported at this endpoint"),
            http_status: 400,
        }
    }

    pub fn missing_header(what: &str) -> Fault {
        Fault {
            code: FaultCode::Sender,
            subcode: Some("wsa:MessageAddressingHeaderRequired"),
            reason: format!("Required header {what} is missing"),
            http_status: 400,
        }
    }

    /// A WS-Security fault (`wsse:InvalidSecurity`, `wsse:FailedAuthentication`,
    /// `wsse:InvalidSecurityToken`, ...): the request is not processed.
    pub fn security(subcode: &'static str, reason: impl Into<String>) -> Fault {
        Fault {
            code: FaultCode::Sender,
            subcode: Some(subcode),
            reason: reason.into(),
            http_status: 400,
        }
    }

    pub fn with_subcode(mut self, subcode: &'static str) -> Fault {
        self.subcode = Some(subcode);
        self
    }

    /// The whole fault envelope, with WS-Addressing fault action and RelatesTo when known.
    pub fn to_envelope(&self, relates_to: Option<&str>) -> String {
        let sub = self
            .subcode
            .map(|s| format!("<env:Subcode><env:Value>{s}</env:Value></env:Subcode>"))
            .unwrap_or_default();
        let relates = relates_to
            .map(|r| format!("<wsa:RelatesTo>{}</wsa:RelatesTo>", esc_text(r)))
            .unwrap_or_default();
        format!(
            concat!(
                r#"<?xml version="1.0" encoding="UTF-8"?>"#,
                r#"<env:Envelope xmlns:env="{env}" xmlns:wsa="{wsa}" xmlns:wsse="{wsse}">"#,
                r#"<env:Header><wsa:Action env:mustUnderstand="1">{wsa}/fault</wsa:Action>{relates}</env:Header>"#,
                r#"<env:Body><env:Fault><env:Code><env:Value>{code}</env:Value>{sub}</env:Code>"#,
                r#"<env:Reason><env:Text xml:lang="en">{reason}</env:Text></env:Reason></env:Fault></env:Body></env:Envelope>"#
            ),
            env = SOAP12,
            wsa = WSA,
            wsse = WSSE,
            relates = relates,
            code = self.code.qname(),
            sub = sub,
            reason = esc_text(&self.reason)
        )
    }
}
