//! ebRIM 3.0 / ebRS 3.0 wire types: parsing from and writing to XML. No XDS rules here.

pub mod document;
pub mod parse;
pub mod provide;
pub mod query;
pub mod remove;
pub mod response;
pub mod retrieve;
pub mod rim;
pub mod schemas;
pub mod write;

pub use parse::{parse_object_list, parse_submit_objects, ParseError};
pub use rim::{LocalizedString, RegistryObject, RimTag, Slot};

pub const RIM: &str = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0";
pub const RS: &str = "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0";
pub const LCM: &str = "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0";
pub const QUERY: &str = "urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0";

/// XDS.b (IHE ITI TF-3) retrieve and document namespace.
pub const XDSB: &str = "urn:ihe:iti:xds-b:2007";
pub const APPROVED: &str = "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved";
pub const DEPRECATED: &str = "urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated";

/// The status of a RegistryResponse or AdhocQueryResponse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseStatus {
    Success,
    PartialSuccess,
    Failure,
}

impl ResponseStatus {
    pub fn urn(self) -> &'static str {
        match self {
            ResponseStatus::Success => "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success",
            ResponseStatus::PartialSuccess => "urn:ihe:iti:2007:ResponseStatusType:PartialSuccess",
            ResponseStatus::Failure => "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure",
        }
    }

    /// The short name, as logs and metrics show it.
    pub fn label(self) -> &'static str {
        match self {
            ResponseStatus::Success => "Success",
            ResponseStatus::PartialSuccess => "PartialSuccess",
            ResponseStatus::Failure => "Failure",
        }
    }

    pub fn from_urn(urn: &str) -> Option<ResponseStatus> {
        [
            ResponseStatus::Success,
            ResponseStatus::PartialSuccess,
            ResponseStatus::Failure,
        ]
        .into_iter()
        .find(|s| s.urn() == urn)
    }

    /// Success when nothing went wrong, PartialSuccess when something was delivered despite
    /// errors, Failure when nothing was.
    pub fn of(delivered: bool, errors: bool) -> ResponseStatus {
        match (delivered, errors) {
            (_, false) => ResponseStatus::Success,
            (true, true) => ResponseStatus::PartialSuccess,
            (false, true) => ResponseStatus::Failure,
        }
    }
}
