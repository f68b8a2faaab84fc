//! The identity a client certificate gives a connection (read with x509-parser in pki.rs).

pub use crate::pki::PeerIdentity;
