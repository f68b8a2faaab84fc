//! ebRIM 3.0 / ebRS 3.0 wire types: parsing from and writing to XML. No XDS rules here.

pub mod parse;
pub mod query;
pub mod response;
pub mod rim;
pub mod write;

pub use parse::{parse_object_list, parse_submit_objects, ParseError};
pub use rim::{LocalizedString, RegistryObject, RimTag, Slot};

pub const RIM: &str = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0";
pub const RS: &str = "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0";
pub const LCM: &str = "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0";
pub const QUERY: &str = "urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0";

pub const STATUS_SUCCESS: &str = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success";
pub const STATUS_FAILURE: &str = "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure";
pub const STATUS_PARTIAL: &str = "urn:ihe:iti:2007:ResponseStatusType:PartialSuccess";
pub const APPROVED: &str = "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved";
pub const DEPRECATED: &str = "urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated";
