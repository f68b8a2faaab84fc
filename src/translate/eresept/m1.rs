//! Reading an e-resept M1 message (KITH MsgHead around one or more Resept) into typed values: the
//! patient, the prescriber and the prescriber's organisation from MsgInfo, and per prescription
//! what the eP writer uses of ReseptDokLegemiddel and its Forskrivning. Strings borrow from the
//! parsed document; texts are trimmed and an empty text counts as absent.

use crate::ids::oid;
use crate::translate::coded::Src;
use crate::translate::{fhir, TranslateError};
use crate::xml::Element;

const MSGHEAD: &str = "http://www.kith.no/xmlstds/msghead/2006-05-24";
const M1: &str = "http://www.kith.no/xmlstds/eresept/m1/2013-10-08";
const FORSKR: &str = "http://www.kith.no/xmlstds/eresept/forskrivning/2013-10-08";

/// Volven 9060: category of health personnel (HPR).
pub const V9060: &str = "2.16.578.1.12.4.1.1.9060";
/// Volven 7477: route of administration.
pub const V7477: &str = "2.16.578.1.12.4.1.1.7477";
/// Volven 7452: units of measure.
pub const V7452: &str = "2.16.578.1.12.4.1.1.7452";
/// Volven 7448: pharmaceutical dose form.
pub const V7448: &str = "2.16.578.1.12.4.1.1.7448";
/// Volven 7180: ATC as published in Volven.
pub const V7180: &str = "2.16.578.1.12.4.1.1.7180";

fn txt(el: Option<&Element>) -> Option<&str> {
    el.and_then(Element::value_text)
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

fn missing(what: &str) -> TranslateError {
    TranslateError::MissingElement(what.into())
}

/// A KITH coded or measured value (CS, CV, PQ): its attributes V, S, DN, OT and U. Present when
/// the element is, whichever attributes it has.
#[derive(Debug, Clone, Copy, Default)]
pub struct KithValue<'a> {
    pub v: Option<&'a str>,
    pub s: Option<&'a str>,
    pub dn: Option<&'a str>,
    pub ot: Option<&'a str>,
    pub u: Option<&'a str>,
}

impl<'a> KithValue<'a> {
    fn read(el: Option<&'a Element>) -> Option<KithValue<'a>> {
        let el = el?;
        Some(KithValue {
            v: el.attr("V"),
            s: el.attr("S"),
            dn: el.attr("DN"),
            ot: el.attr("OT"),
            u: el.attr("U"),
        })
    }
}

/// A Volven-coded value as a source code; `default_system` when S is absent; none without V.
pub fn volven(kv: Option<KithValue>, default_system: &str) -> Vec<Src> {
    let Some(code) = kv.and_then(|k| k.v) else {
        return Vec::new();
    };
    vec![Src {
        system: Some(kv.and_then(|k| k.s).unwrap_or(default_system).to_string()),
        code: code.to_string(),
        display: kv.and_then(|k| k.dn).map(str::to_string),
    }]
}

/// One Ident: an id and the Volven 8116 type of it (FNR, DNR, HPR, ENH, HER, RSH ...).
#[derive(Debug, Clone, Copy)]
pub struct Ident<'a> {
    pub id: &'a str,
    pub kind: &'a str,
}

/// Identifier types the eP carries, in order of preference, with their OIDs.
const ID_TYPES: [(&str, &str); 6] = [
    ("FNR", oid::FNR),
    ("DNR", oid::DNR),
    ("HPR", oid::HPR),
    ("ENH", oid::ORGNR),
    ("HER", oid::HER),
    ("RSH", oid::RESH),
];

fn idents(el: &Element) -> Vec<Ident<'_>> {
    el.children_named(MSGHEAD, "Ident")
        .filter_map(|i| {
            Some(Ident {
                id: txt(i.child(MSGHEAD, "Id"))?,
                kind: i.child(MSGHEAD, "TypeId")?.attr("V")?,
            })
        })
        .collect()
}

/// The identifier to write as `(root OID, extension)`: the first of the most preferred known
/// type, leaving out unset numbers ("0").
pub fn preferred_id<'a>(idents: &[Ident<'a>]) -> Option<(&'static str, &'a str)> {
    idents
        .iter()
        .filter(|i| i.id != "0")
        .filter_map(|i| {
            let rank = ID_TYPES.iter().position(|(k, _)| *k == i.kind)?;
            Some((rank, ID_TYPES[rank].1, i.id))
        })
        .min_by_key(|(rank, _, _)| *rank)
        .map(|(_, root, id)| (root, id))
}

#[derive(Debug, Clone, Copy)]
pub struct Address<'a> {
    pub street: Option<&'a str>,
    pub postal_code: Option<&'a str>,
    pub city: Option<&'a str>,
}

fn address(el: &Element) -> Option<Address<'_>> {
    let a = el.child(MSGHEAD, "Address")?;
    Some(Address {
        street: txt(a.child(MSGHEAD, "StreetAdr")),
        postal_code: txt(a.child(MSGHEAD, "PostalCode")),
        city: txt(a.child(MSGHEAD, "City")),
    })
}

/// A patient or health professional.
#[derive(Debug, Clone, Default)]
pub struct Person<'a> {
    pub idents: Vec<Ident<'a>>,
    pub family: Option<&'a str>,
    pub given: Option<&'a str>,
    pub address: Option<Address<'a>>,
}

impl<'a> Person<'a> {
    fn read(el: &'a Element) -> Person<'a> {
        Person {
            idents: idents(el),
            family: txt(el.child(MSGHEAD, "FamilyName")),
            given: txt(el.child(MSGHEAD, "GivenName")),
            address: address(el),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Patient<'a> {
    pub person: Person<'a>,
    /// Sex V (1 male, 2 female)
    pub sex: Option<&'a str>,
}

impl Patient<'_> {
    /// The fødselsnummer or D-nummer (the last one given).
    pub fn fnr(&self) -> Option<&str> {
        let ids = self.person.idents.iter();
        ids.rev()
            .find(|i| matches!(i.kind, "FNR" | "DNR"))
            .map(|i| i.id)
    }
}

#[derive(Debug, Clone)]
pub struct Prescriber<'a> {
    pub person: Person<'a>,
    /// TypeHealthcareProfessional (Volven 9060)
    pub category: Option<KithValue<'a>>,
}

#[derive(Debug, Clone)]
pub struct Organisation<'a> {
    pub idents: Vec<Ident<'a>>,
    pub name: Option<&'a str>,
    /// TeleCom/TeleAddress values
    pub telecoms: Vec<&'a str>,
    pub address: Option<Address<'a>>,
}

/// What the MsgHead says about all prescriptions in it.
pub struct Message<'a> {
    pub id: &'a str,
    /// GenDate as written
    pub generated: Option<&'a str>,
    pub patient: Patient<'a>,
    pub organisation: Organisation<'a>,
    pub prescriber: Option<Prescriber<'a>>,
    /// The Resept elements, read one at a time with [`Prescription::read`].
    pub resepter: Vec<&'a Element>,
}

impl<'a> Message<'a> {
    pub fn read(root: &'a Element) -> Result<Message<'a>, TranslateError> {
        if !root.is(MSGHEAD, "MsgHead") {
            return Err(TranslateError::WrongDocument {
                expected: "KITH MsgHead",
                found: format!("{{{}}}{}", root.ns.as_deref().unwrap_or(""), root.name),
            });
        }
        let info = root
            .child(MSGHEAD, "MsgInfo")
            .ok_or_else(|| missing("MsgHead/MsgInfo"))?;
        let id =
            txt(info.child(MSGHEAD, "MsgId")).ok_or_else(|| missing("MsgHead/MsgInfo/MsgId"))?;
        let patient = info
            .child(MSGHEAD, "Patient")
            .ok_or_else(|| missing("MsgHead/MsgInfo/Patient"))?;
        let org = info
            .path(MSGHEAD, &["Sender", "Organisation"])
            .ok_or_else(|| missing("MsgHead/MsgInfo/Sender/Organisation"))?;
        let resepter = root.descendants_named(M1, "Resept");
        if resepter.is_empty() {
            return Err(missing(
                "Resept (m1/2013-10-08) in MsgHead/Document/RefDoc/Content",
            ));
        }
        let hcp = org.child(MSGHEAD, "HealthcareProfessional");
        Ok(Message {
            id,
            generated: txt(info.child(MSGHEAD, "GenDate")),
            patient: Patient {
                person: Person::read(patient),
                sex: patient.child(MSGHEAD, "Sex").and_then(|s| s.attr("V")),
            },
            organisation: Organisation {
                idents: idents(org),
                name: txt(org.child(MSGHEAD, "OrganisationName")),
                telecoms: org
                    .children_named(MSGHEAD, "TeleCom")
                    .filter_map(|t| t.child(MSGHEAD, "TeleAddress")?.attr("V"))
                    .collect(),
                address: address(org),
            },
            prescriber: hcp.map(|h| Prescriber {
                person: Person::read(h),
                category: KithValue::read(h.child(MSGHEAD, "TypeHealthcareProfessional")),
            }),
            resepter,
        })
    }
}

/// The prescribed product: a package, a brand or a compounded mixture (in that order of
/// preference when the Forskrivning names more than one).
#[derive(Debug, Clone, Default)]
pub struct Product<'a> {
    /// NavnFormStyrke, else Navn
    pub name: Option<&'a str>,
    pub prescription_group: Option<KithValue<'a>>,
    /// LegemiddelformKort, else Legemiddelform
    pub form: Option<KithValue<'a>>,
    pub atc: Option<KithValue<'a>>,
}

/// Legemiddelpakning: the package's sales name, size and unit (PakningsinfoResept) and its
/// Norwegian item number.
#[derive(Debug, Clone, Default)]
pub struct Package<'a> {
    pub brand: Option<&'a str>,
    pub size: Option<&'a str>,
    pub size_unit: Option<KithValue<'a>>,
    pub item_number: Option<&'a str>,
}

/// One active substance of a compounded mixture and its strength (Teller per Nevner).
#[derive(Debug, Clone)]
pub struct Substance<'a> {
    pub name: Option<&'a str>,
    pub numerator: Option<KithValue<'a>>,
    pub denominator: Option<KithValue<'a>>,
}

/// Legemiddelblanding: the amount to make and the active substances.
#[derive(Debug, Clone, Default)]
pub struct Mixture<'a> {
    pub amount: Option<KithValue<'a>>,
    pub substances: Vec<Substance<'a>>,
}

/// A dose at a fixed time (DoseFastTidspunkt).
#[derive(Debug, Clone)]
pub struct Dose<'a> {
    pub amount: Option<KithValue<'a>>,
    /// Tidsomrade DN (morning, evening ...)
    pub time_of_day: Option<&'a str>,
    pub interval: Option<KithValue<'a>>,
}

impl Dose<'_> {
    /// Whether the dose is given once a day.
    pub fn daily(&self) -> bool {
        self.interval
            .is_some_and(|i| i.u == Some("Døgn") && i.v == Some("1"))
    }
}

/// One Resept: ReseptDokLegemiddel with its Forskrivning.
#[derive(Debug, Clone)]
pub struct Prescription<'a> {
    /// Forskrivningsdato as an HL7 TS
    pub written: String,
    /// Antall: number of packages to dispense
    pub count: Option<&'a str>,
    /// Reiterasjon: repeats
    pub repeats: Option<&'a str>,
    /// BytteresRekvirent V=1: the prescriber reserves against generic substitution
    pub no_substitution: bool,
    pub reimbursement_basis: Option<KithValue<'a>>,
    pub reimbursement_code: Option<KithValue<'a>>,
    pub product: Option<Product<'a>>,
    pub package: Option<Package<'a>>,
    pub mixture: Option<Mixture<'a>>,
    /// DosVeiledEnkel: the dosage as text
    pub dosage_text: Option<&'a str>,
    /// Bruksomrade: area of use
    pub reason: Option<&'a str>,
    pub usage: Option<KithValue<'a>>,
    pub short_dose: Option<KithValue<'a>>,
    /// Dosering start and end (V as written)
    pub start: Option<&'a str>,
    pub end: Option<&'a str>,
    pub doses: Vec<Dose<'a>>,
    /// AdministreringForskrivning/AdmMate
    pub route: Option<KithValue<'a>>,
}

impl<'a> Prescription<'a> {
    pub fn read(resept: &'a Element) -> Result<Prescription<'a>, TranslateError> {
        let dok = resept
            .child(M1, "ReseptDokLegemiddel")
            .ok_or_else(|| missing("Resept/ReseptDokLegemiddel"))?;
        let f = dok
            .child(FORSKR, "Forskrivning")
            .ok_or_else(|| missing("ReseptDokLegemiddel/Forskrivning"))?;
        let written = txt(resept.child(M1, "Forskrivningsdato"))
            .ok_or_else(|| missing("Resept/Forskrivningsdato"))?;
        let written = kith_ts(written).ok_or_else(|| TranslateError::InvalidValue {
            element: "Resept/Forskrivningsdato".into(),
            reason: "not a date".into(),
        })?;
        let pakning = f.child(FORSKR, "Legemiddelpakning");
        let blanding = f.child(FORSKR, "Legemiddelblanding");
        let merkevare = f.child(FORSKR, "Legemiddelmerkevare");
        let dosering = f.child(FORSKR, "Dosering");
        let value = |el: Option<&'a Element>, name: &str| KithValue::read(el?.child(FORSKR, name));
        Ok(Prescription {
            written,
            count: txt(dok.child(M1, "Antall")),
            repeats: txt(dok.child(M1, "Reiterasjon")),
            no_substitution: dok.child(M1, "BytteresRekvirent").and_then(|x| x.attr("V"))
                == Some("1"),
            reimbursement_basis: KithValue::read(dok.child(M1, "RefHjemmel")),
            reimbursement_code: KithValue::read(dok.child(M1, "RefKode")),
            product: pakning.or(merkevare).or(blanding).map(|p| Product {
                name: txt(p.child(FORSKR, "NavnFormStyrke"))
                    .or_else(|| txt(p.child(FORSKR, "Navn"))),
                prescription_group: value(Some(p), "Reseptgruppe"),
                form: value(Some(p), "LegemiddelformKort")
                    .or_else(|| value(Some(p), "Legemiddelform")),
                atc: value(Some(p), "Atc"),
            }),
            package: pakning.map(|p| {
                let info = p.child(FORSKR, "PakningsinfoResept");
                Package {
                    brand: txt(info.and_then(|i| i.child(FORSKR, "Varenavn"))),
                    size: txt(info.and_then(|i| i.child(FORSKR, "Pakningsstr"))),
                    size_unit: value(info, "EnhetPakning"),
                    item_number: txt(p.child(FORSKR, "Varenr")),
                }
            }),
            mixture: blanding.map(|b| Mixture {
                amount: value(Some(b), "Mengde"),
                substances: b
                    .children_named(FORSKR, "BestanddelVirkestoff")
                    .map(|s| {
                        let styrke = s.child(FORSKR, "Styrke");
                        Substance {
                            name: txt(s.path(FORSKR, &["Virkestoff", "Navn"])),
                            numerator: value(styrke, "Teller"),
                            denominator: value(styrke, "Nevner"),
                        }
                    })
                    .collect(),
            }),
            dosage_text: txt(f.child(FORSKR, "DosVeiledEnkel")),
            reason: txt(f.child(FORSKR, "Bruksomrade")),
            usage: value(Some(f), "Bruk"),
            short_dose: value(Some(f), "Kortdose"),
            start: value(dosering, "Starttidspunkt").and_then(|k| k.v),
            end: value(dosering, "Sluttidspunkt").and_then(|k| k.v),
            doses: dosering
                .map(|d| {
                    d.children_named(FORSKR, "DoseFastTidspunkt")
                        .map(|d| Dose {
                            amount: value(Some(d), "Mengde"),
                            time_of_day: value(Some(d), "Tidsomrade").and_then(|k| k.dn),
                            interval: value(Some(d), "Intervall"),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            route: value(f.child(FORSKR, "AdministreringForskrivning"), "AdmMate"),
        })
    }
}

/// `2019-07-16+02:00` / `2019-07-16T14:25:01.52+02:00` -> HL7 TS (a date keeps no zone).
pub fn kith_ts(s: &str) -> Option<String> {
    let s = s.trim();
    if s.contains('T') {
        return fhir::ts(s);
    }
    fhir::ts(s.get(..10).unwrap_or(s))
}

/// Birth date from a fødselsnummer or D-nummer (the individual number fixes the century).
pub fn birth_from_fnr(id: &str) -> Option<String> {
    if id.len() != 11 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let d: u32 = id[0..2].parse().ok()?;
    let d = if d > 40 { d - 40 } else { d }; // D-nummer
    let m: u32 = id[2..4].parse().ok()?;
    let yy: u32 = id[4..6].parse().ok()?;
    let ind: u32 = id[6..9].parse().ok()?;
    let century = match ind {
        0..=499 => 1900,
        500..=749 if yy >= 54 => 1800,
        500..=999 if yy <= 39 => 2000,
        900..=999 if yy >= 40 => 1900,
        _ => return None,
    };
    if !(1..=31).contains(&d) || !(1..=12).contains(&m) {
        return None;
    }
    Some(format!("{:04}{:02}{:02}", century + yy, m, d))
}

#[cfg(test)]
mod tests {
    use super::{birth_from_fnr, kith_ts};
    #[test]
    fn birth_dates_from_fnr() {
        assert_eq!(birth_from_fnr("21014605158").as_deref(), Some("19460121"));
        assert_eq!(birth_from_fnr("61014605158").as_deref(), Some("19460121"));
        assert_eq!(birth_from_fnr("0101"), None);
    }
    #[test]
    fn kith_dates() {
        assert_eq!(kith_ts("2019-07-16+02:00").as_deref(), Some("20190716"));
        assert_eq!(
            kith_ts("2019-07-16T14:25:01.52+02:00").as_deref(),
            Some("20190716142501+0200")
        );
    }
}
