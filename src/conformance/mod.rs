//! `ncpeh conformance`: replays NIST XDS Toolkit test plans against any XDS endpoint.
//! Transport-independent: the SOAP/MLLP client plugs in through [`transport::Transport`].

pub mod expected;
pub mod rim21;
pub mod testkit;
pub mod testplan;
pub mod xml;
