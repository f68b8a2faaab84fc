//! The XDS.b Document Registry: ITI-42 Register Document Set-b and ITI-18 Registry Stored Query.

pub mod gate;
pub mod lifecycle;
pub mod operator;
pub mod ownership;
pub mod query;
pub mod register;
pub mod remove;
pub mod service;
pub mod submission;
pub mod update;
mod update_apply;
mod update_restricted;

use crate::config::RegistryConfig;
use crate::store::{Store, StoreError};
use crate::xds::codes::CodePolicy;
use crate::xds::confidentiality::ConfidentialityPolicy;
use crate::xds::XdsError;
use std::sync::Arc;

#[derive(Clone)]
pub struct Registry {
    pub store: Store,
    pub policy: Arc<CodePolicy>,
    pub cfg: Arc<RegistryConfig>,
    /// Who may see which documents (`[confidentiality]`).
    pub confidentiality: Arc<ConfidentialityPolicy>,
}

/// Why a registry transaction failed: XDS errors for the submitter, or storage trouble.
#[derive(Debug, thiserror::Error)]
pub enum RegistryFailure {
    #[error("{} XDS error(s)", .0.len())]
    Xds(Vec<XdsError>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for RegistryFailure {
    fn from(e: diesel::result::Error) -> Self {
        RegistryFailure::Store(StoreError::Db(e))
    }
}

impl RegistryFailure {
    /// A unique index refused a write that the checks before it had let through: another
    /// transaction stored the same thing first. The caller is told `instead`, not a storage
    /// error.
    pub fn or_if_taken(self, instead: impl FnOnce() -> XdsError) -> RegistryFailure {
        use diesel::result::{DatabaseErrorKind, Error};
        match self {
            RegistryFailure::Store(StoreError::Db(Error::DatabaseError(
                DatabaseErrorKind::UniqueViolation,
                _,
            ))) => RegistryFailure::Xds(vec![instead()]),
            other => other,
        }
    }
}

impl From<XdsError> for RegistryFailure {
    fn from(e: XdsError) -> Self {
        RegistryFailure::Xds(vec![e])
    }
}

impl Registry {
    /// Whether `[registry] metadata_update` lets this update action through.
    pub fn allows(&self, update_action: &str) -> bool {
        match self.cfg.metadata_update.as_str() {
            "full" => true,
            "restricted" => update_action == crate::ids::action::RESTRICTED_UPDATE,
            _ => false,
        }
    }
}

impl RegistryFailure {
    /// The errors to report; storage trouble becomes one XDSRegistryError without internals.
    pub fn into_errors(self) -> Vec<XdsError> {
        match self {
            RegistryFailure::Xds(v) => v,
            RegistryFailure::Store(e) => {
                tracing::error!(error = %e, "registry storage failure");
                vec![XdsError::registry(
                    "internal storage error; nothing was stored",
                )]
            }
        }
    }
}

/// A registry over an opened store with the node's settings (for tools, benches and tests
/// that work without the network).
pub fn node_registry_for_tests(cfg: &crate::config::Config, store: Store) -> Registry {
    Registry {
        store,
        policy: Arc::new(CodePolicy::Permissive),
        cfg: Arc::new(cfg.registry.clone()),
        confidentiality: Arc::new(cfg.confidentiality.policy()),
    }
}
