//! Cross-community gateways (responding side so far: ITI-55 XCPD).
//! `xcpd` holds the matching rules; `endpoint` ties them to SOAP, the HL7 v3 wire types and the
//! patient index.

pub mod endpoint;
pub mod xcpd;
