//! `ncpeh conformance`: replays NIST XDS Toolkit test plans against any XDS endpoint.
//! Transport-independent: the SOAP/MLLP client plugs in through [`transport::Transport`].

pub mod assertions;
pub mod cli;
pub mod codes;
pub mod expected;
pub mod messages;
pub mod metadata_prep;
pub mod report;
mod retrieve_check;
pub mod rim21;
pub mod runner;
pub mod site;
mod step;
pub mod steplog;
pub mod testkit;
pub mod testplan;
pub mod transport;
pub mod xml;

#[cfg(test)]
mod runner_tests;
