//! XDS error codes (ITI TF-3 Table 4.2.4.1-2) as one enum.

use crate::ebxml::response::RegistryError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    RegistryError,
    RegistryMetadataError,
    RegistryDuplicateUniqueIdInMessage,
    DuplicateUniqueIdInRegistry,
    NonIdenticalHash,
    PatientIdDoesNotMatch,
    UnknownPatientId,
    StoredQueryParamNumber,
    StoredQueryMissingParam,
    ResultNotSinglePatient,
    TooManyResults,
    ExtraMetadataNotSaved,
    UnresolvedReference,
    RepositoryError,
    RepositoryMetadataError,
    MissingDocument,
    MissingDocumentMetadata,
    DocumentUniqueIdError,
    UnknownRepositoryId,
    MissingHomeCommunityId,
    UnknownCommunity,
    UnavailableCommunity,
    RegistryBusy,
    RegistryNotAvailable,
    /// ITI-57/92: an update that the registry cannot apply (no such logical object, ...).
    MetadataUpdateError,
    /// ITI-57/92: PreviousVersion is not the registry's latest version.
    MetadataVersionError,
    /// ITI-57/92: the submission mixes or repeats operations in a way the rules forbid.
    MetadataUpdateOperationError,
    /// ITI-92: the uniqueId of a new version differs from the previous one.
    MetadataIdentifierError,
    /// ITI-57/92: an update would join objects of two patients.
    PatientIdReconciliationError,
    /// ITI-92: an attribute the restricted update may not change.
    UnmodifiableMetadataError,
    /// ITI-62: an object to remove is still referenced.
    ReferencesExist,
    /// ITI-62: an object to remove is not in the registry (ITI-62 uses the bare ebRS name).
    RemoveUnresolvedReference,
    /// ITI-62: removing these would leave an association pointing at nothing.
    UnreferencedObject,
    /// ITI-62: the removal would break the metadata model (e.g. a lone lifecycle association).
    MetadataModel,
    /// ITI-57/62/92: the caller is not the source of what it tries to change.
    LocalPolicyRestriction,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::RegistryError => "XDSRegistryError",
            ErrorCode::RegistryMetadataError => "XDSRegistryMetadataError",
            ErrorCode::RegistryDuplicateUniqueIdInMessage => {
                "XDSRegistryDuplicateUniqueIdInMessage"
            }
            ErrorCode::DuplicateUniqueIdInRegistry => "XDSDuplicateUniqueIdInRegistry",
            ErrorCode::NonIdenticalHash => "XDSNonIdenticalHash",
            ErrorCode::PatientIdDoesNotMatch => "XDSPatientIdDoesNotMatch",
            ErrorCode::UnknownPatientId => "XDSUnknownPatientId",
            ErrorCode::StoredQueryParamNumber => "XDSStoredQueryParamNumber",
            ErrorCode::StoredQueryMissingParam => "XDSStoredQueryMissingParam",
            ErrorCode::ResultNotSinglePatient => "XDSResultNotSinglePatient",
            ErrorCode::TooManyResults => "XDSTooManyResults",
            ErrorCode::ExtraMetadataNotSaved => "XDSExtraMetadataNotSaved",
            ErrorCode::UnresolvedReference => {
                "urn:oasis:names:tc:ebxml-regrep:ErrorCode:UnresolvedReferenceException"
            }
            ErrorCode::RepositoryError => "XDSRepositoryError",
            ErrorCode::RepositoryMetadataError => "XDSRepositoryMetadataError",
            ErrorCode::MissingDocument => "XDSMissingDocument",
            ErrorCode::MissingDocumentMetadata => "XDSMissingDocumentMetadata",
            ErrorCode::DocumentUniqueIdError => "XDSDocumentUniqueIdError",
            ErrorCode::UnknownRepositoryId => "XDSUnknownRepositoryId",
            ErrorCode::MissingHomeCommunityId => "XDSMissingHomeCommunityId",
            ErrorCode::UnknownCommunity => "XDSUnknownCommunity",
            ErrorCode::UnavailableCommunity => "XDSUnavailableCommunity",
            ErrorCode::RegistryBusy => "XDSRegistryBusy",
            ErrorCode::RegistryNotAvailable => "XDSRegistryNotAvailable",
            ErrorCode::MetadataUpdateError => "XDSMetadataUpdateError",
            ErrorCode::MetadataVersionError => "XDSMetadataVersionError",
            ErrorCode::MetadataUpdateOperationError => "XDSMetadataUpdateOperationError",
            ErrorCode::MetadataIdentifierError => "XDSMetadataIdentifierError",
            ErrorCode::PatientIdReconciliationError => "XDSPatientIDReconciliationError",
            ErrorCode::UnmodifiableMetadataError => "UnmodifiableMetadataError",
            ErrorCode::ReferencesExist => "ReferencesExistException",
            ErrorCode::RemoveUnresolvedReference => "UnresolvedReferenceException",
            ErrorCode::UnreferencedObject => "XDSUnreferencedObjectException",
            ErrorCode::MetadataModel => "XDSMetadataModelException",
            ErrorCode::LocalPolicyRestriction => "LocalPolicyRestrictionError",
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}: {context}", code.as_str())]
pub struct XdsError {
    pub code: ErrorCode,
    pub context: String,
    pub location: Option<String>,
    pub warning: bool,
}

impl XdsError {
    pub fn new(code: ErrorCode, context: impl Into<String>) -> XdsError {
        XdsError {
            code,
            context: context.into(),
            location: None,
            warning: false,
        }
    }

    pub fn at(mut self, location: impl Into<String>) -> XdsError {
        self.location = Some(location.into());
        self
    }

    pub fn warning(mut self) -> XdsError {
        self.warning = true;
        self
    }

    pub fn metadata(context: impl Into<String>) -> XdsError {
        XdsError::new(ErrorCode::RegistryMetadataError, context)
    }

    pub fn registry(context: impl Into<String>) -> XdsError {
        XdsError::new(ErrorCode::RegistryError, context)
    }
}

impl From<&XdsError> for RegistryError {
    fn from(e: &XdsError) -> RegistryError {
        RegistryError {
            error_code: e.code.as_str().to_string(),
            code_context: e.context.clone(),
            location: e.location.clone(),
            warning: e.warning,
        }
    }
}
