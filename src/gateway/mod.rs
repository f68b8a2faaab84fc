//! Cross-community gateways: XCA responding (ITI-38/39) and XCPD responding (ITI-55).
//! `xcpd` holds the matching rules; `endpoint` ties them to SOAP, the HL7 v3 wire types and the
//! patient index.

pub mod endpoint;
pub mod xca_responding;
pub mod xcpd;
