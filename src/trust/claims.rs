//! From verified assertions to the principal: which assertion is the health professional's
//! identity (HCP) and which the treatment relationship (TRC), and what eHDSI demands of them.

use super::xua::Checked;
use crate::saml::{xspa, Assertion};
use crate::soap::User;

/// The identity assertion and, when there is one, the TRC assertion that refers to it.
pub struct Pair<'a> {
    pub hcp: &'a Checked,
    pub trc: Option<&'a Checked>,
}

/// Picks the HCP assertion (the one no other refers to... and that refers to none) and the TRC
/// assertion (the one whose Advice names the HCP assertion's ID).
pub fn pair(assertions: &[Checked]) -> Result<Pair<'_>, String> {
    let mut hcps = assertions
        .iter()
        .filter(|a| a.assertion.advice_refs.is_empty());
    let hcp = match (hcps.next(), hcps.next()) {
        (Some(h), None) => h,
        (None, _) => return Err("no identity (HCP) assertion".into()),
        (Some(_), Some(_)) => return Err("more than one identity (HCP) assertion".into()),
    };
    let hcp_id = hcp.assertion.id.as_deref().unwrap_or_default();
    let mut trcs = assertions
        .iter()
        .filter(|a| !a.assertion.advice_refs.is_empty());
    let trc = match (trcs.next(), trcs.next()) {
        (None, _) => None,
        (Some(t), None) if t.assertion.advice_refs.iter().any(|r| r == hcp_id) => Some(t),
        (Some(_), None) => {
            return Err(format!(
                "the TRC assertion does not refer to the identity assertion {hcp_id}"
            ))
        }
        (Some(_), Some(_)) => return Err("more than one TRC assertion".into()),
    };
    Ok(Pair { hcp, trc })
}

/// The first of these attributes the assertion has a single value for: eHDSI and NHN name some
/// attributes differently.
fn first_of(a: &Assertion, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| a.single(n)).map(str::to_string)
}

/// The user an identity assertion names.
pub fn user(c: &Checked) -> User {
    let a = &c.assertion;
    let one = |name: &str| a.single(name).map(str::to_string);
    User {
        provider_id: first_of(a, &[xspa::NPI_20, xspa::NPI, xspa::PROVIDER_ID]),
        subject_id: one(xspa::SUBJECT_ID)
            .or_else(|| a.subject.as_ref().and_then(|s| s.name_id.clone()))
            .unwrap_or_default(),
        role: first_of(a, &[xspa::ROLE, xspa::ROLE_XSPA]),
        organization: one(xspa::ORGANIZATION),
        organization_id: one(xspa::ORGANIZATION_ID),
        facility_type: one(xspa::FACILITY_TYPE),
        purpose_of_use: one(xspa::PURPOSE_OF_USE),
        permissions: a
            .attribute(xspa::PERMISSION)
            .iter()
            .map(|v| xspa::permission_code(v.value()).to_string())
            .collect(),
        issuer: a
            .issuer
            .as_ref()
            .map(|i| i.value.clone())
            .unwrap_or_default(),
        country: c.signer.as_ref().and_then(|s| s.country.clone()),
    }
}

/// The patient a TRC assertion is about: its resource-id attribute, else its subject.
pub fn patient(a: &Assertion) -> Option<String> {
    resource_id(a)
        .or_else(|| a.subject.as_ref().and_then(|s| s.name_id.clone()))
        .filter(|p| !p.is_empty())
}

/// The patient an identity assertion names as its resource (NHN assertions do).
pub fn resource_id(a: &Assertion) -> Option<String> {
    first_of(a, &[xspa::RESOURCE_ID, xspa::RESOURCE_ID_10]).filter(|p| !p.is_empty())
}

/// What eHDSI requires of the identity assertion itself.
pub fn ehdsi_hcp(user: &User) -> Result<(), String> {
    if user.subject_id.is_empty() {
        return Err("the identity assertion names no subject (subject-id)".into());
    }
    if user.role.is_none() {
        return Err("the identity assertion has no role".into());
    }
    match user.purpose_of_use.as_deref() {
        Some(xspa::TREATMENT) | Some(xspa::EMERGENCY) => Ok(()),
        Some(other) => Err(format!(
            "purpose of use {other} is not TREATMENT or EMERGENCY"
        )),
        None => Err("the identity assertion has no purpose of use".into()),
    }
}
