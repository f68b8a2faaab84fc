//! Small CDA-writing helpers that the PS and eP writers (and the M10 writer's ids) share: the
//! document start, fixed codes, times with their unknown form, dose and product parts, stable ids.

use sha1::{Digest, Sha1};

use super::coded::{Chosen, Ctx, Src};
use super::terminology::vs;
use crate::ids::oid;
use crate::xml::XmlWriter;

/// A name-based UUID (SHA-1, version 5 layout) so that output ids are stable for the same input.
pub fn uuid_from(seed: &str) -> String {
    let h = Sha1::digest(seed.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&h[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x: String = b.iter().map(|v| format!("{v:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &x[0..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..32]
    )
    .to_uppercase()
}

/// A number as written in a PQ: whole numbers without a fraction.
pub fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// `<ClinicalDocument>` with the namespaces the pivots use, its typeId and the document templateId.
pub fn open_document(w: &mut XmlWriter, template: &str) {
    w.open(
        "ClinicalDocument",
        &[
            ("xmlns", "urn:hl7-org:v3"),
            ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"),
            ("xmlns:pharm", "urn:hl7-org:pharm"),
        ],
    );
    w.empty(
        "typeId",
        &[
            ("root", "2.16.840.1.113883.1.3"),
            ("extension", "POCD_HD000040"),
        ],
    );
    w.template(template);
}

/// The `<code>` of a document or section: LOINC, with the system's name.
pub fn loinc_code(w: &mut XmlWriter, code: &str, display: &str) {
    w.empty(
        "code",
        &[
            ("code", code),
            ("codeSystem", oid::LOINC),
            ("codeSystemName", "LOINC"),
            ("displayName", display),
        ],
    );
}

/// A fixed `<code>` (code, system, display) that no value set governs.
pub fn code(w: &mut XmlWriter, code: &str, system: &str, display: &str) {
    fixed(w, "code", code, system, display);
}

/// `<elem code codeSystem displayName/>`.
fn fixed(w: &mut XmlWriter, elem: &str, code: &str, system: &str, display: &str) {
    let attrs = [
        ("code", code),
        ("codeSystem", system),
        ("displayName", display),
    ];
    w.empty(elem, &attrs);
}

/// The concern act's fixed `<code>` (CONC in ActClass).
pub fn concern_code(w: &mut XmlWriter) {
    w.empty(
        "code",
        &[("code", "CONC"), ("codeSystem", "2.16.840.1.113883.5.6")],
    );
}

/// confidentialityCode N, R or V with its display (anything else is written as N).
pub fn confidentiality(w: &mut XmlWriter, code: &str) {
    let (code, display) = match code {
        "R" => ("R", "restricted"),
        "V" => ("V", "very restricted"),
        _ => ("N", "normal"),
    };
    fixed(
        w,
        "confidentialityCode",
        code,
        "2.16.840.1.113883.5.25",
        display,
    );
}

/// administrativeGenderCode M or F; anything else is written as UN (undifferentiated).
pub fn gender(w: &mut XmlWriter, code: &str) {
    let (code, display) = match code {
        "M" => ("M", "Male"),
        "F" => ("F", "Female"),
        _ => ("UN", "Undifferentiated"),
    };
    fixed(
        w,
        "administrativeGenderCode",
        code,
        "2.16.840.1.113883.5.1",
        display,
    );
}

/// `<text><reference value="#id"/></text>`: an entry's pointer to its narrative.
pub fn text_ref(w: &mut XmlWriter, id: &str) {
    w.open("text", &[]);
    w.empty("reference", &[("value", &format!("#{id}"))]);
    w.close("text");
}

/// `<elem value="t"/>`, or nullFlavor UNK when the time is not known.
pub fn time_or_unk(w: &mut XmlWriter, elem: &str, t: Option<&str>) {
    match t {
        Some(t) => w.empty(elem, &[("value", t)]),
        None => w.empty(elem, &[("nullFlavor", "UNK")]),
    }
}

/// The PIVL_TS frequency: the period (value, unit) between doses, or the unknown form that PS and
/// eP want in its place.
pub fn frequency(w: &mut XmlWriter, period: Option<(&str, &str)>) {
    match period {
        Some((value, unit)) => {
            w.open(
                "effectiveTime",
                &[
                    ("xsi:type", "PIVL_TS"),
                    ("institutionSpecified", "true"),
                    ("operator", "A"),
                ],
            );
            w.empty("period", &[("value", value), ("unit", unit)]);
        }
        None => {
            w.open(
                "effectiveTime",
                &[("xsi:type", "PIVL_TS"), ("operator", "A")],
            );
            w.empty("period", &[("nullFlavor", "UNK")]);
        }
    }
    w.close("effectiveTime");
}

/// doseQuantity of one dose: a range from and to the same value.
pub fn dose_quantity(w: &mut XmlWriter, value: &str, unit: &str) {
    w.open("doseQuantity", &[]);
    w.empty("low", &[("value", value), ("unit", unit)]);
    w.empty("high", &[("value", value), ("unit", unit)]);
    w.close("doseQuantity");
}

/// `<elem xsi:type="PQ" value unit/>`.
pub fn pq(w: &mut XmlWriter, elem: &str, value: &str, unit: &str) {
    w.empty(
        elem,
        &[("xsi:type", "PQ"), ("value", value), ("unit", unit)],
    );
}

/// Opens consumable/manufacturedProduct/manufacturedMaterial with the product and material
/// templates; [`close_material`] closes them.
pub fn open_material(
    w: &mut XmlWriter,
    consumable: &[(&str, &str)],
    product_template: &str,
    material_template: &str,
) {
    w.open("consumable", consumable);
    w.open("manufacturedProduct", &[("classCode", "MANU")]);
    w.template(product_template);
    w.open(
        "manufacturedMaterial",
        &[("classCode", "MMAT"), ("determinerCode", "KIND")],
    );
    w.template(material_template);
}

pub fn close_material(w: &mut XmlWriter) {
    w.close("manufacturedMaterial");
    w.close("manufacturedProduct");
    w.close("consumable");
}

/// The product's class (ATC) as pharm:asSpecializedKind/generalizedMaterialKind.
pub fn generalized_kind(cx: &mut Ctx, w: &mut XmlWriter, atc: &[Src], path: &str) -> Chosen {
    w.open("pharm:asSpecializedKind", &[("classCode", "GRIC")]);
    w.open(
        "pharm:generalizedMaterialKind",
        &[("classCode", "MMAT"), ("determinerCode", "KIND")],
    );
    let chosen = cx.write_cd(w, "pharm:code", &[], vs::ACTIVE_INGREDIENT, atc, None, path);
    w.close("pharm:generalizedMaterialKind");
    w.close("pharm:asSpecializedKind");
    chosen
}

/// Opens an entryRelationship of `type_code` (with inversionInd when given) holding an observation
/// in event mood; [`close_observation`] closes both.
pub fn open_observation(w: &mut XmlWriter, type_code: &str, inversion: Option<&str>) {
    match inversion {
        Some(inv) => w.open(
            "entryRelationship",
            &[("typeCode", type_code), ("inversionInd", inv)],
        ),
        None => w.open("entryRelationship", &[("typeCode", type_code)]),
    }
    w.open("observation", &[("classCode", "OBS"), ("moodCode", "EVN")]);
}

pub fn close_observation(w: &mut XmlWriter) {
    w.close("observation");
    w.close("entryRelationship");
}

/// An `<id>` with its extension when there is one.
pub fn id(w: &mut XmlWriter, root: &str, extension: Option<&str>) {
    match extension {
        Some(e) => w.empty("id", &[("root", root), ("extension", e)]),
        None => w.empty("id", &[("root", root)]),
    }
}

/// relatedDocument XFRM: the pivot is a transformation of the national document with this id.
pub fn transformed_from(w: &mut XmlWriter, root: &str, extension: Option<&str>) {
    w.open("relatedDocument", &[("typeCode", "XFRM")]);
    w.open("parentDocument", &[]);
    id(w, root, extension);
    w.close("parentDocument");
    w.close("relatedDocument");
}
