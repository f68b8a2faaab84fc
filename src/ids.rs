//! Identifiers defined once: SOAP actions, Norwegian and international OIDs, and eHDSI codes.
//! A leaf module: it imports nothing, so every layer may use it.

/// WS-Addressing actions of the transactions the node serves or sends.
pub mod action {
    /// ITI-41 Provide and Register Document Set-b (also XDR).
    pub const PROVIDE_AND_REGISTER: &str = "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b";
    pub const PROVIDE_AND_REGISTER_RESPONSE: &str =
        "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-bResponse";
    /// ITI-42 Register Document Set-b.
    pub const REGISTER: &str = "urn:ihe:iti:2007:RegisterDocumentSet-b";
    pub const REGISTER_RESPONSE: &str = "urn:ihe:iti:2007:RegisterDocumentSet-bResponse";
    /// ITI-18 Registry Stored Query.
    pub const STORED_QUERY: &str = "urn:ihe:iti:2007:RegistryStoredQuery";
    pub const STORED_QUERY_RESPONSE: &str = "urn:ihe:iti:2007:RegistryStoredQueryResponse";
    /// ITI-43 Retrieve Document Set.
    pub const RETRIEVE: &str = "urn:ihe:iti:2007:RetrieveDocumentSet";
    pub const RETRIEVE_RESPONSE: &str = "urn:ihe:iti:2007:RetrieveDocumentSetResponse";
    /// ITI-38 Cross Gateway Query.
    pub const XC_QUERY: &str = "urn:ihe:iti:2007:CrossGatewayQuery";
    pub const XC_QUERY_RESPONSE: &str = "urn:ihe:iti:2007:CrossGatewayQueryResponse";
    /// ITI-39 Cross Gateway Retrieve.
    pub const XC_RETRIEVE: &str = "urn:ihe:iti:2007:CrossGatewayRetrieve";
    pub const XC_RETRIEVE_RESPONSE: &str = "urn:ihe:iti:2007:CrossGatewayRetrieveResponse";
    /// ITI-57 Update Document Set (XDS Metadata Update).
    pub const UPDATE: &str = "urn:ihe:iti:2010:UpdateDocumentSet";
    pub const UPDATE_RESPONSE: &str = "urn:ihe:iti:2010:UpdateDocumentSetResponse";
    /// ITI-92 Restricted Update Document Set (also across communities, to a responding gateway).
    pub const RESTRICTED_UPDATE: &str = "urn:ihe:iti:2018:RestrictedUpdateDocumentSet";
    pub const RESTRICTED_UPDATE_RESPONSE: &str =
        "urn:ihe:iti:2018:RestrictedUpdateDocumentSetResponse";
    /// ITI-62 Remove Metadata (the action keeps its old name, Delete Document Set).
    pub const REMOVE_METADATA: &str = "urn:ihe:iti:2010:DeleteDocumentSet";
    pub const REMOVE_METADATA_RESPONSE: &str = "urn:ihe:iti:2010:DeleteDocumentSetResponse";
    /// ITI-86 Remove Documents.
    pub const REMOVE_DOCUMENTS: &str = "urn:ihe:iti:2017:RemoveDocuments";
    pub const REMOVE_DOCUMENTS_RESPONSE: &str = "urn:ihe:iti:2017:RemoveDocumentsResponse";
    /// ITI-55 Cross Gateway Patient Discovery.
    pub const XCPD: &str = "urn:hl7-org:v3:PRPA_IN201305UV02:CrossGatewayPatientDiscovery";
    pub const XCPD_RESPONSE: &str = "urn:hl7-org:v3:PRPA_IN201306UV02:CrossGatewayPatientDiscovery";
}

/// OIDs of identifier systems and code systems (bare, without `urn:oid:`).
pub mod oid {
    /// Fødselsnummer.
    pub const FNR: &str = "2.16.578.1.12.4.1.4.1";
    /// D-nummer.
    pub const DNR: &str = "2.16.578.1.12.4.1.4.2";
    /// HPR-nummer (health personnel register).
    pub const HPR: &str = "2.16.578.1.12.4.1.4.4";
    /// Organisasjonsnummer (Enhetsregisteret).
    pub const ORGNR: &str = "2.16.578.1.12.4.1.4.101";
    /// RESH-id (the specialist health service's unit register).
    pub const RESH: &str = "2.16.578.1.12.4.1.4.102";
    /// HER-id (the address register).
    pub const HER: &str = "2.16.578.1.12.4.1.2";
    pub const LOINC: &str = "2.16.840.1.113883.6.1";
}

/// eHDSI (MyHealth@EU) document classes and formats.
pub mod ehdsi {
    /// Patient Summary (LOINC).
    pub const PS_CLASS: &str = "60591-5";
    /// ePrescription (LOINC).
    pub const EP_CLASS: &str = "57833-6";
    /// eDispensation (LOINC).
    pub const ED_CLASS: &str = "60593-1";
    /// The class of an eDispensation discard.
    pub const DISCARD_CLASS: &str = "DISCARD-60593-1";
    pub const FORMAT_SCHEME: &str = "eHDSI formatCodes";
    pub const PS_FORMAT: &str = "urn:epSOS:ps:ps:2010";
    pub const EP_FORMAT: &str = "urn:epsos:ep:pre:2010";
    pub const ED_FORMAT: &str = "urn:epSOS:ep:dis:2010";
    /// Code system of the open/closed event code on eP DocumentEntries.
    pub const EP_STATUS_SYSTEM: &str = "urn:ehdsi:ep:status";
    /// Norway's homeCommunityId in MyHealth@EU.
    pub const NO_HOME_COMMUNITY: &str = "urn:oid:2.16.578.1.12.4.5.10.1";
}
