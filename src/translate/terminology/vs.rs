//! OIDs of the eHDSI MVC value sets and code systems this crate emits.

pub const ACTIVE_INGREDIENT: &str = "1.3.6.1.4.1.12559.11.10.1.3.1.42.24";
pub const ADVERSE_EVENT_TYPE: &str = "1.3.6.1.4.1.12559.11.10.1.3.1.42.18";
pub const ALLERGEN_NO_DRUG: &str = "1.3.6.1.4.1.12559.11.10.1.3.1.42.19";
pub const DOSE_FORM: &str = "1.3.6.1.4.1.12559.11.10.1.3.1.42.2";
pub const PACKAGE: &str = "1.3.6.1.4.1.12559.11.10.1.3.1.42.3";
pub const ILLNESS: &str = "1.3.6.1.4.1.12559.11.10.1.3.1.42.5";
pub const MEDICAL_DEVICE: &str = "1.3.6.1.4.1.12559.11.10.1.3.1.42.8";
pub const PROCEDURE: &str = "1.3.6.1.4.1.12559.11.10.1.3.1.42.10";
pub const REACTION_ALLERGY: &str = "1.3.6.1.4.1.12559.11.10.1.3.1.42.11";
pub const ROUTE: &str = "1.3.6.1.4.1.12559.11.10.1.3.1.42.12";
pub const SEVERITY: &str = "1.3.6.1.4.1.12559.11.10.1.3.1.42.13";
pub const SOCIAL_HISTORY: &str = "1.3.6.1.4.1.12559.11.10.1.3.1.42.14";
pub const UNIT: &str = "1.3.6.1.4.1.12559.11.10.1.3.1.42.16";
pub const BLOOD_GROUP: &str = "1.3.6.1.4.1.12559.11.10.1.3.1.42.20";
pub const VACCINE: &str = "1.3.6.1.4.1.12559.11.10.1.3.1.42.28";
pub const QUANTITY_UNIT: &str = "1.3.6.1.4.1.12559.11.10.1.3.1.42.56";
pub const LAB_STUDY: &str = "1.3.6.1.4.1.12559.11.10.1.3.1.42.66";

pub const SNOMED: &str = "2.16.840.1.113883.6.96";
pub const EDQM: &str = "0.4.0.127.0.16.1.1.2.1";
pub const ATC: &str = "2.16.840.1.113883.6.73";
pub const UCUM: &str = "2.16.840.1.113883.6.8";
pub const ICD10: &str = "1.3.6.1.4.1.12559.11.10.1.3.1.44.2";
pub const ABSENT_UNKNOWN: &str = "2.16.840.1.113883.5.1150.1";
