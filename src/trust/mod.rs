//! Who is on the other end, and what they may do. The router asks [`Policy`] before any service
//! runs: the caller's certificate decides whether it is a national caller or a configured
//! foreign contact point, the endpoint's [`crate::soap::Access`] what it must present, and the
//! XUA assertions in wsse:Security are verified (`xua`) and turned into the principal
//! (`claims`). Trust anchors are sets of certificates (`anchors`).

pub mod anchors;
mod cache;
pub mod claims;
pub mod cli;
pub mod outbound;
pub mod policy;
pub mod xua;

pub use outbound::Outbound;
pub use policy::{Policy, PolicyError};
