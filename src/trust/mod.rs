//! Who is on the other end: peer certificate identity (and later XUA assertions and policy).

pub mod identity;

pub use identity::PeerIdentity;
