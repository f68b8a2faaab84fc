//! The fixed UUIDs and names of XDS metadata (ITI TF-3 4.2.5).

pub const DE_STABLE: &str = "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1";
pub const DE_ON_DEMAND: &str = "urn:uuid:34268e47-fdf5-41a6-ba33-82133c465248";
pub const SUBMISSION_SET_NODE: &str = "urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd";
pub const FOLDER_NODE: &str = "urn:uuid:d9d542f3-6cc4-48b6-8870-ea235fbc94c2";
pub const REGISTRY_PACKAGE_TYPE: &str =
    "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:RegistryPackage";
pub const ASSOCIATION_TYPE: &str =
    "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Association";
pub const CLASSIFICATION_TYPE: &str =
    "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Classification";
pub const EXTERNAL_ID_TYPE: &str =
    "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:ExternalIdentifier";

pub const DE_CLASS_CODE: &str = "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a";
pub const DE_CONFIDENTIALITY: &str = "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f";
pub const DE_EVENT_CODE: &str = "urn:uuid:2c6b8cb7-8b2a-4051-b291-b1ae6a575ef4";
pub const DE_FORMAT_CODE: &str = "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d";
pub const DE_FACILITY_TYPE: &str = "urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1";
pub const DE_PRACTICE_SETTING: &str = "urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead";
pub const DE_TYPE_CODE: &str = "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983";
pub const DE_AUTHOR: &str = "urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d";
pub const DE_PATIENT_ID: &str = "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427";
pub const DE_UNIQUE_ID: &str = "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab";

pub const SS_AUTHOR: &str = "urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d";
pub const SS_CONTENT_TYPE: &str = "urn:uuid:aa543740-bdda-424e-8c96-df4873be8500";
pub const SS_PATIENT_ID: &str = "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446";
pub const SS_SOURCE_ID: &str = "urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832";
pub const SS_UNIQUE_ID: &str = "urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8";

pub const FOLDER_CODE_LIST: &str = "urn:uuid:1ba97051-7806-41a8-a48b-8fce7af683c5";
pub const FOLDER_PATIENT_ID: &str = "urn:uuid:f64ffdf0-4b97-4e06-b79f-a52b38ec2f8a";
pub const FOLDER_UNIQUE_ID: &str = "urn:uuid:75df8f67-9973-4fbe-a900-df66cefecc5a";

/// Classification on a lifecycle association giving the reason for the change.
pub const ASSOCIATION_DOCUMENTATION: &str = "urn:uuid:abd807a3-4432-4053-87b4-fd82c643d1f3";

pub const HAS_MEMBER: &str = "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember";
pub const RPLC: &str = "urn:ihe:iti:2007:AssociationType:RPLC";
pub const APND: &str = "urn:ihe:iti:2007:AssociationType:APND";
pub const XFRM: &str = "urn:ihe:iti:2007:AssociationType:XFRM";
pub const XFRM_RPLC: &str = "urn:ihe:iti:2007:AssociationType:XFRM_RPLC";
pub const SIGNS: &str = "urn:ihe:iti:2007:AssociationType:signs";
/// ITI-57: an availability status change, from the SubmissionSet to the object it changes.
pub const UPDATE_AVAILABILITY_STATUS: &str =
    "urn:ihe:iti:2010:AssociationType:UpdateAvailabilityStatus";
/// ITI-57: the SubmissionSet's link to a new association between registered objects.
pub const SUBMIT_ASSOCIATION: &str = "urn:ihe:iti:2010:AssociationType:SubmitAssociation";
pub const IS_SNAPSHOT_OF: &str = "urn:ihe:iti:2010:AssociationType:IsSnapshotOf";

pub const REFERENCE_ID_LIST: &str = "urn:ihe:iti:xds:2013:referenceIdList";

/// Association types that place a new document in a lifecycle relation with an existing one.
pub const LIFECYCLE_TYPES: [&str; 6] = [RPLC, APND, XFRM, XFRM_RPLC, SIGNS, IS_SNAPSHOT_OF];

/// Which of those deprecate their target.
pub fn deprecates_target(assoc_type: &str) -> bool {
    assoc_type == RPLC || assoc_type == XFRM_RPLC
}
