//! The NIST XDS Toolkit test-plan runner (`ncpeh-conformance`, also `ncpeh conformance`): replays
//! the test plans against any XDS endpoint. Its own crate: the server never links it, and it
//! uses only the node's wire and network modules (XML, SOAP, MTOM, the mTLS client).
//! Transport-independent: the SOAP/MLLP client plugs in through [`transport::Transport`].

pub mod assertions;
pub mod cli;
pub mod codes;
pub mod errata;
pub mod expected;
mod feeding;
pub mod fhir_bundle;
mod fhir_step;
pub mod fhir_stu3;
pub mod messages;
pub mod metadata_prep;
pub mod plan_xml;
pub mod report;
mod retrieve_check;
pub mod rim21;
pub mod runner;
mod session;
pub mod site;
mod step;
pub mod steplog;
pub mod testkit;
pub mod testplan;
pub mod transport;
pub mod wire;
pub mod xml;
pub mod xua;

#[cfg(test)]
mod runner_fhir_tests;
#[cfg(test)]
mod runner_tests;
#[cfg(test)]
mod testplan_mhd_tests;
