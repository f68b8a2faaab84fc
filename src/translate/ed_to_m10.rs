//! eHDSI eDispensation pivot CDA (templateId ...1.1.2) from a foreign pharmacy -> a Norwegian
//! dispensing report shaped like e-resept M10 (MsgHead + Utleveringsrapport/Utlevering).
//! The report links to the prescription id and carries what was dispensed; a substituted product
//! is flagged and the prescribed one kept beside it. Quantities are checked: the number of packages
//! must be a positive whole number and a package size must be positive.

use super::cda::uuid_from;
use super::parse_xml;
use super::terminology::{vs, Terminology};
use super::{TranslateError, TranslationWarning, WarningKind};
use crate::ids::oid;
use crate::xml::Element;
use crate::xml::XmlWriter;

pub const ED_TEMPLATE: &str = "1.3.6.1.4.1.12559.11.10.1.3.1.1.2";
const HL7: &str = "urn:hl7-org:v3";
const PHARM: &str = "urn:hl7-org:pharm";
const MSGHEAD: &str = "http://www.kith.no/xmlstds/msghead/2006-05-24";
const M10: &str = "http://www.kith.no/xmlstds/eresept/m10/2013-10-08";
const UTLEVERING: &str = "http://www.kith.no/xmlstds/eresept/utlevering/2013-10-08";
const M1: &str = "http://www.kith.no/xmlstds/eresept/m1/2013-10-08";
const FORSKR: &str = "http://www.kith.no/xmlstds/eresept/forskrivning/2013-10-08";
const V7484: &str = "2.16.578.1.12.4.1.1.7484";

/// A product as read from the eD.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Product {
    pub name: Option<String>,
    pub desc: Option<String>,
    pub atc: Option<String>,
    pub atc_display: Option<String>,
    pub package_code: Option<String>,
    pub package_size: Option<String>,
    pub package_unit: Option<String>,
}

/// One dispensed line.
#[derive(Debug, Clone)]
pub struct Dispensed {
    pub packages: u64,
    pub product: Product,
    pub prescribed: Option<Product>,
    pub substituted: bool,
}

#[derive(Debug, Clone)]
pub struct M10Report {
    pub xml: String,
    pub prescription_id: String,
    pub dispensed: Vec<Dispensed>,
    pub warnings: Vec<TranslationWarning>,
}

fn t(el: Option<&Element>) -> Option<String> {
    el.map(|e| e.text().trim().to_string())
        .filter(|s| !s.is_empty())
}

fn has_template(el: &Element, root: &str) -> bool {
    el.children_named(HL7, "templateId")
        .any(|t| t.attr("root") == Some(root))
}

/// A positive number of packages: a whole number above zero.
fn packages(q: Option<&Element>) -> Result<u64, TranslateError> {
    let element = "supply/quantity/@value".to_string();
    let v = q.and_then(|q| q.attr("value")).ok_or_else(|| {
        TranslateError::MissingElement(
            "supply/quantity/@value (number of packages dispensed)".into(),
        )
    })?;
    let n: f64 = v.trim().parse().map_err(|_| TranslateError::InvalidValue {
        element: element.clone(),
        reason: format!("{v:?} is not a number"),
    })?;
    if !n.is_finite() || n <= 0.0 {
        return Err(TranslateError::InvalidValue {
            element,
            reason: format!("{v} packages: must be more than zero"),
        });
    }
    if n.fract() != 0.0 {
        return Err(TranslateError::InvalidValue {
            element,
            reason: format!("{v} packages: must be a whole number"),
        });
    }
    Ok(n as u64)
}

fn product(mm: &Element, path: &str) -> Result<Product, TranslateError> {
    let mut p = Product {
        name: t(mm.child(HL7, "name")),
        desc: t(mm.child(PHARM, "desc")),
        ..Default::default()
    };
    if let Some(ac) = mm.child(PHARM, "asContent") {
        if let Some(q) = ac.child(PHARM, "quantity") {
            if let Some(v) = q.attr("value") {
                let n: f64 = v.trim().parse().map_err(|_| TranslateError::InvalidValue {
                    element: format!("{path}/pharm:asContent/pharm:quantity/@value"),
                    reason: format!("{v:?} is not a number"),
                })?;
                if !n.is_finite() || n <= 0.0 {
                    return Err(TranslateError::InvalidValue {
                        element: format!("{path}/pharm:asContent/pharm:quantity/@value"),
                        reason: format!("package size {v}: must be more than zero"),
                    });
                }
                p.package_size = Some(v.trim().to_string());
                p.package_unit = q.attr("unit").map(str::to_string);
            }
        }
        p.package_code = ac
            .path(PHARM, &["containerPackagedProduct", "code"])
            .and_then(|c| c.attr("code"))
            .map(str::to_string);
    }
    if let Some(c) = mm.path(
        PHARM,
        &["asSpecializedKind", "generalizedMaterialKind", "code"],
    ) {
        if c.attr("codeSystem") == Some(vs::ATC) {
            p.atc = c.attr("code").map(str::to_string);
            p.atc_display = c.attr("displayName").map(str::to_string);
        }
    }
    Ok(p)
}

fn material<'a>(holder: &'a Element, wrapper: &str) -> Option<&'a Element> {
    holder
        .child(HL7, wrapper)?
        .child(HL7, "manufacturedProduct")?
        .child(HL7, "manufacturedMaterial")
}

/// Translates an eDispensation to an M10-shaped dispensing report.
pub fn ed_to_m10(xml: &[u8], term: &Terminology) -> Result<M10Report, TranslateError> {
    let doc = parse_xml(xml)?;
    if !doc.is(HL7, "ClinicalDocument") {
        return Err(TranslateError::WrongDocument {
            expected: "eHDSI eDispensation (CDA ClinicalDocument)",
            found: format!("{{{}}}{}", doc.ns.as_deref().unwrap_or(""), doc.name),
        });
    }
    if !has_template(&doc, ED_TEMPLATE) {
        let found = doc
            .children_named(HL7, "templateId")
            .filter_map(|t| t.attr("root"))
            .collect::<Vec<_>>()
            .join(",");
        return Err(TranslateError::WrongDocument {
            expected: "eDispensation (templateId 1.3.6.1.4.1.12559.11.10.1.3.1.1.2)",
            found,
        });
    }
    let mut warnings = Vec::new();
    let supplies: Vec<&Element> = doc
        .descendants_named(HL7, "supply")
        .into_iter()
        .filter(|s| has_template(s, "1.3.6.1.4.1.12559.11.10.1.3.1.3.3"))
        .collect();
    if supplies.is_empty() {
        return Err(TranslateError::MissingElement(
            "section/entry/supply (templateId 1.3.6.1.4.1.12559.11.10.1.3.1.3.3): no dispensed item".into(),
        ));
    }
    // the prescription this dispensation fulfils
    let order_id = doc.path(HL7, &["inFulfillmentOf", "order", "id"]);
    let refr_id = supplies.iter().find_map(|s| {
        s.children_named(HL7, "entryRelationship")
            .filter(|e| e.attr("typeCode") == Some("REFR"))
            .find_map(|e| e.child(HL7, "substanceAdministration")?.child(HL7, "id"))
    });
    let id_el = order_id.or(refr_id).ok_or_else(|| {
        TranslateError::MissingElement(
            "inFulfillmentOf/order/id or supply/entryRelationship[@typeCode='REFR']/substanceAdministration/id (the prescription this dispensation fulfils)".into(),
        )
    })?;
    let prescription_id = id_el
        .attr("extension")
        .or_else(|| id_el.attr("root"))
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| {
            TranslateError::MissingElement(
                "the prescription id has neither @extension nor @root".into(),
            )
        })?
        .to_string();

    let mut dispensed = Vec::new();
    for (i, s) in supplies.iter().enumerate() {
        let path = format!("supply[{}]", i + 1);
        let n = packages(s.child(HL7, "quantity"))?;
        let mm = material(s, "product").ok_or_else(|| {
            TranslateError::MissingElement(format!(
                "{path}/product/manufacturedProduct/manufacturedMaterial"
            ))
        })?;
        let prod = product(
            mm,
            &format!("{path}/product/manufacturedProduct/manufacturedMaterial"),
        )?;
        let prescribed = s
            .children_named(HL7, "entryRelationship")
            .filter(|e| e.attr("typeCode") == Some("REFR"))
            .find_map(|e| e.child(HL7, "substanceAdministration"))
            .and_then(|sa| material(sa, "consumable"))
            .map(|m| {
                product(
                    m,
                    &format!("{path}/entryRelationship/substanceAdministration/consumable"),
                )
            })
            .transpose()?;
        let subst_act = s.children_named(HL7, "entryRelationship").any(|e| {
            e.elements()
                .any(|a| a.child(HL7, "code").and_then(|c| c.attr("code")) == Some("SUBST"))
        });
        let differs = prescribed.as_ref().is_some_and(|p| {
            p.name != prod.name
                || p.package_code != prod.package_code
                || p.atc.is_some() && prod.atc.is_some() && p.atc != prod.atc
        });
        if prescribed.is_none() {
            warnings.push(TranslationWarning {
                kind: WarningKind::Dropped,
                element: path.clone(),
                detail: "no prescribed product in the eD; substitution cannot be compared".into(),
            });
        }
        dispensed.push(Dispensed {
            packages: n,
            product: prod,
            prescribed,
            substituted: subst_act || differs,
        });
    }
    let when = supplies
        .iter()
        .find_map(|s| s.child(HL7, "effectiveTime").and_then(|e| e.attr("value")))
        .or_else(|| {
            doc.path(HL7, &["author", "time"])
                .and_then(|e| e.attr("value"))
        })
        .or_else(|| {
            doc.child(HL7, "effectiveTime")
                .and_then(|e| e.attr("value"))
        })
        .ok_or_else(|| {
            TranslateError::MissingElement("effectiveTime (date of dispensation)".into())
        })?;
    let date = v3_date(when).ok_or_else(|| TranslateError::InvalidValue {
        element: "effectiveTime/@value".into(),
        reason: format!("{when:?} is not an HL7 date"),
    })?;
    let pharmacy = doc
        .path(
            HL7,
            &[
                "author",
                "assignedAuthor",
                "representedOrganization",
                "name",
            ],
        )
        .and_then(|n| t(Some(n)))
        .unwrap_or_else(|| "Foreign pharmacy".into());
    let country = doc
        .path(
            HL7,
            &[
                "author",
                "assignedAuthor",
                "representedOrganization",
                "addr",
                "country",
            ],
        )
        .and_then(|n| t(Some(n)));
    let pat = doc.path(HL7, &["recordTarget", "patientRole"]);
    let xml = write_m10(
        term,
        &doc,
        pat,
        &prescription_id,
        &date,
        &pharmacy,
        country.as_deref(),
        &dispensed,
    );
    Ok(M10Report {
        xml,
        prescription_id,
        dispensed,
        warnings,
    })
}

/// `20240911134356+0200` -> `2024-09-11`.
fn v3_date(v: &str) -> Option<String> {
    let d = v.get(..8)?;
    if !d.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(format!("{}-{}-{}", &d[..4], &d[4..6], &d[6..8]))
}

fn patient(w: &mut XmlWriter, pat: Option<&Element>) {
    w.open("Patient", &[]);
    let name = pat.and_then(|p| p.path(HL7, &["patient", "name"]));
    if let Some(f) = name.and_then(|n| t(n.child(HL7, "family"))) {
        w.leaf("FamilyName", &[], &f);
    }
    let given: Vec<String> = name
        .map(|n| {
            n.children_named(HL7, "given")
                .filter_map(|g| t(Some(g)))
                .collect()
        })
        .unwrap_or_default();
    if !given.is_empty() {
        w.leaf("GivenName", &[], &given.join(" "));
    }
    for id in pat
        .map(|p| p.children_named(HL7, "id").collect::<Vec<_>>())
        .unwrap_or_default()
    {
        let (Some(root), Some(ext)) = (id.attr("root"), id.attr("extension")) else {
            continue;
        };
        let (v, dn) = match root {
            oid::FNR => ("FNR", "Fødselsnummer"),
            oid::DNR => ("DNR", "D-nummer"),
            _ => continue,
        };
        w.open("Ident", &[]);
        w.leaf("Id", &[], ext);
        w.empty(
            "TypeId",
            &[("V", v), ("S", "2.16.578.1.12.4.1.1.8116"), ("DN", dn)],
        );
        w.close("Ident");
    }
    w.close("Patient");
}

fn legemiddelpakning(w: &mut XmlWriter, term: &Terminology, p: &Product) {
    w.open("Legemiddelpakning", &[]);
    if let Some(a) = &p.atc {
        let dn = p.atc_display.clone().unwrap_or_else(|| a.clone());
        w.empty(
            "Atc",
            &[("V", a), ("S", "2.16.578.1.12.4.1.1.7180"), ("DN", &dn)],
        );
    }
    let nfs = match (&p.name, &p.desc) {
        (Some(n), Some(d)) => format!("{n} {d}"),
        (Some(n), None) => n.clone(),
        (None, Some(d)) => d.clone(),
        (None, None) => "ukjent legemiddel".into(),
    };
    w.leaf("NavnFormStyrke", &[], &nfs);
    // the foreign package number is not a Norwegian varenummer: it stays in Product.package_code only
    w.open("PakningsinfoResept", &[]);
    w.leaf("Varenavn", &[], p.name.as_deref().unwrap_or(&nfs));
    if let Some(s) = &p.package_size {
        w.leaf("Pakningsstr", &[], s);
    }
    if let Some(u) = &p.package_unit {
        // UCUM back to the Volven package unit where the table knows it
        match term.reverse(V7484, vs::UCUM, u) {
            Some(v) => w.empty("EnhetPakning", &[("V", v), ("S", V7484), ("DN", v)]),
            None => w.empty("EnhetPakning", &[("V", u), ("DN", u)]),
        }
    }
    w.close("PakningsinfoResept");
    w.close("Legemiddelpakning");
}

#[allow(clippy::too_many_arguments)]
fn write_m10(
    term: &Terminology,
    doc: &Element,
    pat: Option<&Element>,
    rid: &str,
    date: &str,
    pharmacy: &str,
    country: Option<&str>,
    items: &[Dispensed],
) -> String {
    let mut w = XmlWriter::new();
    w.open("MsgHead", &[("xmlns", MSGHEAD)]);
    w.open("MsgInfo", &[]);
    w.empty(
        "Type",
        &[("V", "ERM10"), ("DN", "Utleveringsrapport reseptbanken")],
    );
    w.leaf("MIGversion", &[], "v1.2 2006-05-24");
    let gen = doc
        .child(HL7, "effectiveTime")
        .and_then(|e| e.attr("value"))
        .and_then(v3_date)
        .unwrap_or_else(|| date.to_string());
    w.leaf("GenDate", &[], &gen);
    let doc_id = doc
        .child(HL7, "id")
        .map(|i| {
            format!(
                "{}^{}",
                i.attr("root").unwrap_or(""),
                i.attr("extension").unwrap_or("")
            )
        })
        .unwrap_or_default();
    w.leaf(
        "MsgId",
        &[],
        &uuid_from(&format!("m10#{doc_id}#{rid}")).to_lowercase(),
    );
    w.open("Sender", &[]);
    w.open("Organisation", &[]);
    w.leaf("OrganisationName", &[], pharmacy);
    w.close("Organisation");
    w.close("Sender");
    w.open("Receiver", &[]);
    w.open("Organisation", &[]);
    w.leaf("OrganisationName", &[], "Reseptformidleren");
    w.close("Organisation");
    w.close("Receiver");
    patient(&mut w, pat);
    w.close("MsgInfo");
    w.open("Document", &[]);
    w.empty("DocumentConnection", &[("V", "H"), ("DN", "Hoveddokument")]);
    w.open("RefDoc", &[]);
    w.empty("MsgType", &[("V", "XML"), ("DN", "XML-instans")]);
    w.open("Content", &[]);
    w.open("Utleveringsrapport", &[("xmlns", M10)]);
    for item in items {
        w.open("Utlevering", &[("xmlns", UTLEVERING)]);
        w.leaf("ReseptId", &[], rid);
        w.leaf("Utleveringsdato", &[], date);
        w.leaf("Annullering", &[], "false");
        w.open("ReseptDokLegemiddel", &[("xmlns", M1)]);
        w.empty("Varegruppekode", &[("V", "L"), ("DN", "Legemiddel")]);
        w.leaf("Antall", &[], &item.packages.to_string());
        w.open("Forskrivning", &[("xmlns", FORSKR)]);
        legemiddelpakning(&mut w, term, &item.product);
        w.close("Forskrivning");
        w.close("ReseptDokLegemiddel");
        // substitution abroad: flagged, with the prescribed product beside the dispensed one
        w.leaf(
            "ByttetLegemiddel",
            &[],
            if item.substituted { "true" } else { "false" },
        );
        if let (true, Some(p)) = (item.substituted, &item.prescribed) {
            w.open("ForskrevetLegemiddel", &[]);
            w.open("Forskrivning", &[("xmlns", FORSKR)]);
            legemiddelpakning(&mut w, term, p);
            w.close("Forskrivning");
            w.close("ForskrevetLegemiddel");
        }
        w.open("Utleverer", &[]);
        w.leaf("Navn", &[], pharmacy);
        if let Some(c) = country {
            w.leaf("Land", &[], c);
        }
        w.close("Utleverer");
        w.close("Utlevering");
    }
    w.close("Utleveringsrapport");
    w.close("Content");
    w.close("RefDoc");
    w.close("Document");
    w.close("MsgHead");
    w.s
}
