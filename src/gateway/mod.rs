//! Cross-community gateways, one SOAP service per file:
//! - `xca_responding`: ITI-38/39 answered from the local registry and repository (with the eHDSI
//!   path in `ehdsi`);
//! - `xca_initiating`: ITI-18/43 from local consumers, asked of the peers over ITI-38/39;
//! - `xcpd_responding` / `xcpd_initiating`: ITI-55, with the matching rules in `xcpd`;
//! - `xdr`: the eDispensation recipient (ITI-41).
//!
//! `peers` holds the configured communities and the bounded outbound call; `peer_check` is the
//! operator's `ncpeh peers check` over them.

pub mod ehdsi;
mod ehdsi_sources;
mod orcd_sources;
pub mod peer_check;
pub mod peers;
pub mod xca_initiating;
pub mod xca_responding;
pub mod xcpd;
pub mod xcpd_initiating;
pub mod xcpd_responding;
pub mod xdr;

/// The HL7 v3 schemas the XCPD endpoints serve beside their WSDLs (`wsdl/xsd/`, this project's
/// own and open on the interactions' content).
pub const HL7V3_SCHEMAS: &[crate::soap::wsdl::Schema] = &[
    crate::soap::wsdl::Schema {
        name: "PRPA_IN201305UV02.xsd",
        text: include_str!("../../wsdl/xsd/PRPA_IN201305UV02.xsd"),
    },
    crate::soap::wsdl::Schema {
        name: "PRPA_IN201306UV02.xsd",
        text: include_str!("../../wsdl/xsd/PRPA_IN201306UV02.xsd"),
    },
    crate::soap::wsdl::Schema {
        name: "hl7v3-datatypes.xsd",
        text: include_str!("../../wsdl/xsd/hl7v3-datatypes.xsd"),
    },
];
