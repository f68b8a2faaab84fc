//! Who is calling, as the trust layer established it before a service runs: the mTLS peer,
//! whether it is a national caller or a foreign contact point, and what its verified assertions
//! say about the health professional and the patient.

use crate::pki::PeerIdentity;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Caller {
    /// A health trust, national consumer or other Norwegian system.
    #[default]
    National,
    /// A configured foreign contact point.
    Foreign {
        home_community_id: String,
        country: String,
    },
}

/// The health professional (or system) a verified identity assertion names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct User {
    pub subject_id: String,
    /// The professional's identifier where the assertion carries one (HPR number in Norway).
    pub provider_id: Option<String>,
    pub role: Option<String>,
    pub organization: Option<String>,
    pub organization_id: Option<String>,
    pub facility_type: Option<String>,
    pub purpose_of_use: Option<String>,
    /// HL7 permission codes (PRD-003, ...), without URN prefixes.
    pub permissions: Vec<String>,
    /// The issuer of the assertion and the country of its signer.
    pub issuer: String,
    pub country: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Principal {
    pub peer: PeerIdentity,
    pub caller: Caller,
    pub user: Option<User>,
    /// The patient a verified treatment relationship (TRC) assertion names, or a national
    /// assertion names as its resource, in CX form.
    pub patient: Option<String>,
    /// The verified wsse:Security header, which initiating gateways forward unchanged.
    pub security: Option<String>,
}

impl Principal {
    /// A caller known only by its certificate.
    pub fn peer_only(peer: PeerIdentity) -> Principal {
        Principal {
            peer,
            ..Default::default()
        }
    }

    pub fn is_foreign(&self) -> bool {
        matches!(self.caller, Caller::Foreign { .. })
    }

    /// The permissions of `needed` the user lacks (all of them when there is no user).
    pub fn missing_permissions<'a>(&self, needed: &[&'a str]) -> Vec<&'a str> {
        let have: &[String] = self.user.as_ref().map_or(&[], |u| &u.permissions);
        needed
            .iter()
            .copied()
            .filter(|n| !have.iter().any(|h| h == n))
            .collect()
    }
}
