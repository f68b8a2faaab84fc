//! Validates XML against the ebRS 3.0 and HL7 v3 schemas in ../shared with xmllint.

use std::path::PathBuf;
use std::process::Command;

/// The shared folder, or None with the reason printed.
pub fn shared() -> Option<PathBuf> {
    let p = std::env::var("NCPEH_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    if p.join("schemas/ihe-schema/ebRS/rs.xsd").exists() {
        Some(p)
    } else {
        eprintln!(
            "SKIP schema validation: ebRS schemas not found under {} (set NCPEH_SHARED)",
            p.display()
        );
        None
    }
}

/// Copies the ebRS schemas next to a minimal xml.xsd so that rim.xsd's import of
/// ../../../w3/xml.xsd resolves; returns the ebRS folder.
fn schema_dir(shared: &std::path::Path) -> PathBuf {
    let root = std::env::temp_dir().join(format!("ncpeh-xsd-{}", std::process::id()));
    let ebrs = root.join("a/b/ebRS");
    if !ebrs.join("rs.xsd").exists() {
        std::fs::create_dir_all(&ebrs).expect("mkdir");
        std::fs::create_dir_all(root.join("w3")).expect("mkdir");
        for f in ["rim.xsd", "rs.xsd", "query.xsd", "lcm.xsd"] {
            std::fs::copy(shared.join("schemas/ihe-schema/ebRS").join(f), ebrs.join(f))
                .expect("copy xsd");
        }
        std::fs::write(root.join("a/b").join("../../w3/xml.xsd"), XML_XSD).expect("write xml.xsd");
    }
    // The XDS.b repository schema imports ../ebRS/*.xsd.
    let ihe = root.join("a/b/IHE");
    let repo_xsd = shared.join("schemas/ihe-schema/IHE/XDS.b_DocumentRepository.xsd");
    if !ihe.join("XDS.b_DocumentRepository.xsd").exists() && repo_xsd.exists() {
        std::fs::create_dir_all(&ihe).expect("mkdir");
        std::fs::copy(&repo_xsd, ihe.join("XDS.b_DocumentRepository.xsd")).expect("copy xsd");
    }
    ebrs
}

/// The attributes of the XML namespace that ebRIM refers to.
const XML_XSD: &str = r#"<?xml version="1.0"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="http://www.w3.org/XML/1998/namespace">
  <xs:attribute name="lang" type="xs:language"/>
  <xs:attribute name="space"><xs:simpleType><xs:restriction base="xs:NCName"><xs:enumeration value="default"/><xs:enumeration value="preserve"/></xs:restriction></xs:simpleType></xs:attribute>
  <xs:attribute name="base" type="xs:anyURI"/>
  <xs:attribute name="id" type="xs:ID"/>
</xs:schema>"#;

/// The XDS.b repository schema, relative to the ebRS folder `validate` uses.
pub const XDSB_XSD: &str = "../IHE/XDS.b_DocumentRepository.xsd";

/// Validates `xml` against `xsd` (e.g. "query.xsd"); returns xmllint's complaint on failure.
pub fn validate(xml: &str, xsd: &str) -> Result<(), String> {
    let Some(shared) = shared() else {
        return Ok(());
    };
    let dir = schema_dir(&shared);
    let file = dir.join(format!("doc-{}.xml", uuid::Uuid::new_v4()));
    std::fs::write(&file, xml).map_err(|e| e.to_string())?;
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(dir.join(xsd))
        .arg(&file)
        .output()
        .map_err(|e| format!("xmllint not runnable (install libxml2-utils): {e}"))?;
    let _ = std::fs::remove_file(&file);
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// Serialises an element tree back to text for validation.
pub fn to_xml(e: &ncpeh::xml::Element) -> String {
    ncpeh::xml::write::serialize(e, &|_| None)
}

/// The HL7 v3 (Normative Edition 2008) message schemas, or None with the reason printed.
fn hl7v3_dir() -> Option<PathBuf> {
    let p = std::env::var("NCPEH_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"))
        .join("schemas/ihe-schema/HL7V3/NE2008/multicacheschemas");
    if p.join("PRPA_IN201306UV02.xsd").exists() {
        Some(p)
    } else {
        eprintln!(
            "SKIP schema validation: HL7 v3 schemas not found under {} (set NCPEH_SHARED)",
            p.display()
        );
        None
    }
}

/// True when the HL7 v3 schemas are there, so `validate_hl7v3` really checks.
pub fn hl7v3_available() -> bool {
    hl7v3_dir().is_some()
}

/// Validates `xml` against an HL7 v3 message schema (e.g. "PRPA_IN201306UV02.xsd"). The schemas'
/// includes are relative to their own folder, so they are used where they are.
pub fn validate_hl7v3(xml: &str, xsd: &str) -> Result<(), String> {
    let Some(dir) = hl7v3_dir() else {
        return Ok(());
    };
    let file = std::env::temp_dir().join(format!("ncpeh-hl7v3-{}.xml", uuid::Uuid::new_v4()));
    std::fs::write(&file, xml).map_err(|e| e.to_string())?;
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(dir.join(xsd))
        .arg(&file)
        .output()
        .map_err(|e| format!("xmllint not runnable (install libxml2-utils): {e}"));
    let _ = std::fs::remove_file(&file);
    let out = out?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}
