//! Cross-community gateways: XCA responding (ITI-38/39), XCA initiating (ITI-18/43 in, ITI-38/39
//! out to the configured peers) and XCPD responding (ITI-55).
//! `xcpd` holds the matching rules; `endpoint` ties them to SOAP, the HL7 v3 wire types and the
//! patient index.

pub mod ehdsi;
pub mod endpoint;
pub mod initiating;
pub mod peers;
pub mod xca_responding;
pub mod xcpd;
pub mod xcpd_initiating;
pub mod xdr;
