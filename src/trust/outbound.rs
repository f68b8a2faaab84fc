//! The assertions an initiating gateway sends to peers. A consumer's own wsse:Security header
//! goes on unchanged. With `[xua] issue = true`, a national consumer whose assertion (verified
//! by the policy) names a user gets eHDSI assertions issued for it instead: an HCP assertion
//! from that user's attributes and, for a patient, a TRC assertion, signed with the node's seal.

use crate::config::Config;
use crate::saml::issue::{ehdsi_security, IssueError, Professional, Signer};
use crate::saml::xspa;
use crate::soap::{Principal, User};
use std::sync::Arc;

#[derive(Clone, Default)]
pub struct Outbound {
    seal: Option<Arc<Signer>>,
}

impl std::fmt::Debug for Outbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Outbound(issue: {})", self.seal.is_some())
    }
}

impl Outbound {
    /// Forwarding only, unless `[xua] issue` is set (then the seal must load).
    pub fn from_config(cfg: &Config) -> Result<Outbound, IssueError> {
        if !cfg.xua.issue {
            return Ok(Outbound::default());
        }
        let (cert, key) = cfg.seal_paths();
        Ok(Outbound {
            seal: Some(Arc::new(Signer::from_files(&cert, &key)?)),
        })
    }

    /// The wsse:Security header to send for `principal`, asking about `patient`.
    pub fn security(&self, principal: &Principal, patient: Option<&str>) -> Option<Arc<str>> {
        let forwarded = principal.security.as_deref().map(Arc::from);
        let (Some(seal), Some(user)) = (&self.seal, &principal.user) else {
            return forwarded;
        };
        if principal.is_foreign() {
            return forwarded;
        }
        let patient = patient.or(principal.patient.as_deref());
        let who = professional(user);
        match ehdsi_security(seal, &who, patient, None, time::OffsetDateTime::now_utc()) {
            Ok(xml) => Some(Arc::from(xml)),
            Err(e) => {
                tracing::error!(error = %e, "could not issue assertions for a peer; forwarding");
                forwarded
            }
        }
    }

    /// The wsse:Security header for an operator's harmless check call (`ncpeh peers check`),
    /// None when the node does not issue. The assertion names the check, not a person, so that
    /// the peer's audit trail shows what asked; `organization_id` is this node's community.
    pub fn check_security(&self, organization_id: &str, patient: Option<&str>) -> Option<Arc<str>> {
        let seal = self.seal.as_ref()?;
        let who = Professional {
            subject: "ncpeh peers check".into(),
            organization: "ncpeh peers check".into(),
            organization_id: organization_id.into(),
            purpose: xspa::TREATMENT.into(),
            permissions: READ_PERMISSIONS.iter().map(|p| p.to_string()).collect(),
            ..Professional::default()
        };
        match ehdsi_security(seal, &who, patient, None, time::OffsetDateTime::now_utc()) {
            Ok(xml) => Some(Arc::from(xml)),
            Err(e) => {
                tracing::error!(error = %e, "could not issue assertions for a peer check");
                None
            }
        }
    }
}

/// What a reader (anyone but a pharmacist) may do abroad.
const READ_PERMISSIONS: &[&str] = &[
    "PRD-003", "PRD-004", "PRD-005", "PRD-006", "PRD-010", "PRD-016",
];

/// The eHDSI professional a national user is abroad. National assertions carry no eHDSI
/// permissions, so they follow the role: a pharmacist dispenses, anyone else reads.
fn professional(user: &User) -> Professional {
    let pharmacist = user.role.as_deref() == Some("2262");
    let permissions: &[&str] = if pharmacist {
        &["PRD-004", "PRD-006", "PRD-010", "PPD-046"]
    } else {
        READ_PERMISSIONS
    };
    Professional {
        subject: user.subject_id.clone(),
        role: user.role.clone().unwrap_or_else(|| "221".into()),
        organization: user.organization.clone().unwrap_or_default(),
        organization_id: user.organization_id.clone().unwrap_or_default(),
        purpose: match user.purpose_of_use.as_deref() {
            Some(xspa::EMERGENCY) => xspa::EMERGENCY.into(),
            _ => xspa::TREATMENT.into(),
        },
        permissions: permissions.iter().map(|p| p.to_string()).collect(),
        ..Professional::default()
    }
}
