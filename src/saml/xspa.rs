//! XSPA / eHDSI / NHN attribute names, and the claims the node acts on.

pub const SUBJECT_ID: &str = "urn:oasis:names:tc:xspa:1.0:subject:subject-id";
pub const ROLE: &str = "urn:oasis:names:tc:xacml:2.0:subject:role";
/// The XSPA 1.0 name of the role, which NHN's assertions may use instead.
pub const ROLE_XSPA: &str = "urn:oasis:names:tc:xspa:1.0:subject:role";
pub const ORGANIZATION: &str = "urn:oasis:names:tc:xspa:1.0:subject:organization";
pub const ORGANIZATION_ID: &str = "urn:oasis:names:tc:xspa:1.0:subject:organization-id";
pub const FACILITY_TYPE: &str = "urn:ehdsi:names:subject:healthcare-facility-type";
pub const PURPOSE_OF_USE: &str = "urn:oasis:names:tc:xspa:1.0:subject:purposeofuse";
pub const PERMISSION: &str = "urn:oasis:names:tc:xspa:1.0:subject:hl7:permission";
pub const LOCALITY: &str = "urn:oasis:names:tc:xspa:1.0:environment:locality";
/// The patient the assertion is about (TRC; NHN assertions).
pub const RESOURCE_ID: &str = "urn:oasis:names:tc:xacml:2.0:resource:resource-id";
pub const RESOURCE_ID_10: &str = "urn:oasis:names:tc:xacml:1.0:resource:resource-id";
pub const HOME_COMMUNITY_ID: &str = "urn:ihe:iti:xca:2010:homeCommunityId";
/// NHN: the practitioner's HPR number and the care relationship.
pub const NPI: &str = "urn:oasis:names:tc:xspa:1.0:subject:npi";
pub const NPI_20: &str = "urn:oasis:names:tc:xspa:2.0:subject:npi";
pub const PROVIDER_ID: &str = "urn:ihe:iti:xua:2017:subject:provider-identifier";
pub const ACP: &str = "urn:ihe:iti:xua:2012:acp";

/// eHDSI purposes of use.
pub const TREATMENT: &str = "TREATMENT";
pub const EMERGENCY: &str = "EMERGENCY";

/// eHDSI permissions (HL7 permission catalogue codes) each transaction needs, as OpenNCP's policy
/// manager enforces them.
pub mod permissions {
    /// XCPD: identify a patient.
    pub const XCPD: &[&str] = &["PRD-006"];
    /// A Patient Summary (60591-5).
    pub const PATIENT_SUMMARY: &[&str] = &["PRD-003", "PRD-005", "PRD-010", "PRD-016"];
    /// ePrescriptions (57833-6).
    pub const EPRESCRIPTION: &[&str] = &["PRD-004", "PRD-010"];
    /// Original Clinical Documents (discharge reports, lab results, imaging): the permissions a
    /// Patient Summary needs, as both review the patient's clinical record.
    pub const ORIGINAL_CLINICAL_DOCUMENT: &[&str] = &["PRD-003", "PRD-005", "PRD-010", "PRD-016"];
    /// An eDispensation received over XDR.
    pub const EDISPENSATION: &[&str] = &["PPD-046"];
    /// Every permission above: what a test doctor gets by default.
    pub const ALL: &[&str] = &[
        "PRD-003", "PRD-004", "PRD-005", "PRD-006", "PRD-010", "PRD-016", "PPD-046",
    ];
}

/// A permission value without the URN prefix some issuers put before it
/// (`urn:oasis:names:tc:xspa:1.0:subject:hl7:permission:PRD-006` is `PRD-006`).
pub fn permission_code(value: &str) -> &str {
    value.rsplit(':').next().unwrap_or(value)
}
