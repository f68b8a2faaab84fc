//! One flat struct covers the ebRIM object kinds XDS uses; the `tag` says which it is.
//! The XDS layer gives these a typed meaning.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RimTag {
    ExtrinsicObject,
    RegistryPackage,
    Association,
    Classification,
    ExternalIdentifier,
    ObjectRef,
}

impl RimTag {
    pub fn element(self) -> &'static str {
        match self {
            RimTag::ExtrinsicObject => "ExtrinsicObject",
            RimTag::RegistryPackage => "RegistryPackage",
            RimTag::Association => "Association",
            RimTag::Classification => "Classification",
            RimTag::ExternalIdentifier => "ExternalIdentifier",
            RimTag::ObjectRef => "ObjectRef",
        }
    }

    pub fn from_element(name: &str) -> Option<RimTag> {
        Some(match name {
            "ExtrinsicObject" => RimTag::ExtrinsicObject,
            "RegistryPackage" => RimTag::RegistryPackage,
            "Association" => RimTag::Association,
            "Classification" => RimTag::Classification,
            "ExternalIdentifier" => RimTag::ExternalIdentifier,
            "ObjectRef" => RimTag::ObjectRef,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Slot {
    pub name: String,
    pub slot_type: Option<String>,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct LocalizedString {
    pub value: String,
    pub lang: Option<String>,
    pub charset: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RegistryObject {
    pub tag: RimTag,
    pub id: String,
    pub lid: Option<String>,
    pub object_type: Option<String>,
    pub status: Option<String>,
    pub home: Option<String>,
    pub mime_type: Option<String>,
    pub is_opaque: Option<String>,
    pub name: Vec<LocalizedString>,
    pub description: Vec<LocalizedString>,
    pub version_name: Option<String>,
    pub slots: Vec<Slot>,
    pub classifications: Vec<RegistryObject>,
    pub external_identifiers: Vec<RegistryObject>,
    // Association
    pub association_type: Option<String>,
    pub source_object: Option<String>,
    pub target_object: Option<String>,
    // Classification
    pub classification_scheme: Option<String>,
    pub classified_object: Option<String>,
    pub classification_node: Option<String>,
    pub node_representation: Option<String>,
    // ExternalIdentifier
    pub identification_scheme: Option<String>,
    pub registry_object: Option<String>,
    pub value: Option<String>,
}

impl RegistryObject {
    pub fn new(tag: RimTag, id: impl Into<String>) -> RegistryObject {
        RegistryObject {
            tag,
            id: id.into(),
            lid: None,
            object_type: None,
            status: None,
            home: None,
            mime_type: None,
            is_opaque: None,
            name: Vec::new(),
            description: Vec::new(),
            version_name: None,
            slots: Vec::new(),
            classifications: Vec::new(),
            external_identifiers: Vec::new(),
            association_type: None,
            source_object: None,
            target_object: None,
            classification_scheme: None,
            classified_object: None,
            classification_node: None,
            node_representation: None,
            identification_scheme: None,
            registry_object: None,
            value: None,
        }
    }

    pub fn slot(&self, name: &str) -> Option<&Slot> {
        self.slots.iter().find(|s| s.name == name)
    }

    pub fn slot_values(&self, name: &str) -> &[String] {
        self.slot(name).map(|s| s.values.as_slice()).unwrap_or(&[])
    }

    pub fn first_slot_value(&self, name: &str) -> Option<&str> {
        self.slot_values(name).first().map(String::as_str)
    }

    pub fn set_slot(&mut self, name: &str, values: Vec<String>) {
        match self.slots.iter_mut().find(|s| s.name == name) {
            Some(s) => s.values = values,
            None => self.slots.push(Slot {
                name: name.to_string(),
                slot_type: None,
                values,
            }),
        }
    }

    pub fn external_id(&self, scheme: &str) -> Option<&RegistryObject> {
        self.external_identifiers
            .iter()
            .find(|e| e.identification_scheme.as_deref() == Some(scheme))
    }

    pub fn classifications_in(&self, scheme: &str) -> impl Iterator<Item = &RegistryObject> {
        let scheme = scheme.to_string();
        self.classifications
            .iter()
            .filter(move |c| c.classification_scheme.as_deref() == Some(scheme.as_str()))
    }

    pub fn name_text(&self) -> Option<&str> {
        self.name.first().map(|l| l.value.as_str())
    }
}
