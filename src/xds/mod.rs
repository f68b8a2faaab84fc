//! The XDS metadata model, its rules and its error codes.

pub mod codes;
pub mod confidentiality;
pub mod cx;
pub mod error;
pub mod ids;
pub mod model;
pub mod time;
pub mod validate;

pub use error::{ErrorCode, XdsError};
pub use model::{AvailabilityStatus, Code, CodeKind, Entry, EntryKind};
