//! Reading a FHIR JSON document Bundle: resolving references and turning FHIR datatypes into
//! their CDA forms (codes with OIDs, HL7 v3 timestamps).

use std::collections::HashMap;

use serde_json::Value;

use super::cda::fmt_num;
use super::coded::Src;
use super::terminology::Terminology;
use super::TranslateError;

pub struct Bundle<'a> {
    pub composition: &'a Value,
    by_ref: HashMap<String, &'a Value>,
}

impl<'a> Bundle<'a> {
    pub fn index(root: &'a Value) -> Result<Self, TranslateError> {
        let rt = str_at(root, "resourceType").unwrap_or("(none)");
        if rt != "Bundle" {
            return Err(TranslateError::WrongResourceType {
                expected: "Bundle",
                found: rt.to_string(),
            });
        }
        let ty = str_at(root, "type").unwrap_or("(none)");
        if ty != "document" {
            return Err(TranslateError::NotDocumentBundle(ty.to_string()));
        }
        let entries = arr(root, "entry");
        let mut by_ref = HashMap::new();
        for e in entries {
            let Some(res) = e.get("resource") else {
                continue;
            };
            let rtype = str_at(res, "resourceType").unwrap_or("");
            if let Some(full) = str_at(e, "fullUrl") {
                by_ref.insert(full.to_string(), res);
                // absolute URLs end in Type/id: also index that tail
                let parts: Vec<&str> = full.rsplitn(3, '/').collect();
                if parts.len() >= 2 {
                    by_ref.insert(format!("{}/{}", parts[1], parts[0]), res);
                }
            }
            if let Some(id) = str_at(res, "id") {
                by_ref.entry(format!("{rtype}/{id}")).or_insert(res);
            }
        }
        let composition = entries
            .first()
            .and_then(|e| e.get("resource"))
            .filter(|r| str_at(r, "resourceType") == Some("Composition"))
            .ok_or(TranslateError::NoComposition)?;
        Ok(Bundle {
            composition,
            by_ref,
        })
    }

    /// Resolves a Reference object (`{"reference": ...}`).
    pub fn resolve(&self, reference: &Value) -> Option<&'a Value> {
        let r = str_at(reference, "reference")?;
        self.by_ref.get(r).copied()
    }
}

pub fn str_at<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
    v.get(key)?.as_str()
}

pub fn arr<'v>(v: &'v Value, key: &str) -> &'v [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// The codings of a CodeableConcept as CDA sources.
pub fn codings(term: &Terminology, cc: Option<&Value>) -> Vec<Src> {
    let Some(cc) = cc else { return Vec::new() };
    arr(cc, "coding")
        .iter()
        .filter_map(|c| {
            let code = str_at(c, "code")?;
            let system = str_at(c, "system").and_then(|s| term.system_oid(s).map(str::to_string));
            Some(Src {
                system,
                code: code.to_string(),
                display: str_at(c, "display").map(str::to_string),
            })
        })
        .collect()
}

/// Text for a CodeableConcept: its text, else the first display.
pub fn cc_text(cc: Option<&Value>) -> Option<String> {
    let cc = cc?;
    if let Some(t) = str_at(cc, "text") {
        return Some(t.to_string());
    }
    arr(cc, "coding")
        .iter()
        .find_map(|c| str_at(c, "display"))
        .map(str::to_string)
}

/// First coding's code of a CodeableConcept.
pub fn cc_code(cc: Option<&Value>) -> Option<&str> {
    arr(cc?, "coding").iter().find_map(|c| str_at(c, "code"))
}

/// When an Observation was made: its effectiveDateTime, else the start of its effectivePeriod.
pub fn effective(r: &Value) -> Option<&str> {
    str_at(r, "effectiveDateTime")
        .or_else(|| r.get("effectivePeriod").and_then(|p| str_at(p, "start")))
}

/// The unit of a Quantity as shown in narrative: its unit text, else its code.
pub fn unit_text(q: &Value) -> &str {
    str_at(q, "unit")
        .or_else(|| str_at(q, "code"))
        .unwrap_or("")
}

/// An Observation's value[x] (Quantity with a value, CodeableConcept or string) as narrative text.
pub fn value_text(r: &Value) -> Option<String> {
    if let Some(q) = r.get("valueQuantity") {
        let v = q.get("value")?.as_f64()?;
        return Some(format!("{} {}", fmt_num(v), unit_text(q)));
    }
    if let Some(cc) = r.get("valueCodeableConcept") {
        return cc_text(Some(cc));
    }
    str_at(r, "valueString").map(str::to_string)
}

/// FHIR date/dateTime/instant -> HL7 v3 TS (`2017-12-11T14:30:00+01:00` -> `20171211143000+0100`).
/// Returns None for text that is not a FHIR date.
pub fn ts(s: &str) -> Option<String> {
    let (date, time) = match s.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (s, None),
    };
    let dparts: Vec<&str> = date.split('-').collect();
    let digits = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_digit());
    match dparts.as_slice() {
        [y] if digits(y, 4) => {}
        [y, m] if digits(y, 4) && digits(m, 2) => {}
        [y, m, d] if digits(y, 4) && digits(m, 2) && digits(d, 2) => {}
        _ => return None,
    }
    let mut out: String = dparts.concat();
    if let Some(t) = time {
        let (clock, zone) = if let Some(stripped) = t.strip_suffix('Z') {
            (stripped, "+0000".to_string())
        } else if let Some(i) = t.rfind(['+', '-']) {
            (&t[..i], t[i..].replace(':', ""))
        } else {
            (t, String::new())
        };
        let clock = clock.split('.').next().unwrap_or("");
        let c: String = clock.chars().filter(|c| *c != ':').collect();
        if !(c.len() == 4 || c.len() == 6) || !c.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        if !(zone.is_empty() || (zone.len() == 5 && zone[1..].bytes().all(|b| b.is_ascii_digit())))
        {
            return None;
        }
        out.push_str(&c);
        out.push_str(&zone);
    }
    Some(out)
}

/// Human form of a FHIR date for narrative (kept as written, the date part only).
pub fn human_date(s: &str) -> &str {
    s.split('T').next().unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::ts;
    #[test]
    fn timestamps() {
        assert_eq!(ts("2015").as_deref(), Some("2015"));
        assert_eq!(ts("2016-10").as_deref(), Some("201610"));
        assert_eq!(
            ts("2017-12-11T14:30:00+01:00").as_deref(),
            Some("20171211143000+0100")
        );
        assert_eq!(
            ts("2017-12-11T14:30:00.123Z").as_deref(),
            Some("20171211143000+0000")
        );
        assert_eq!(ts("hello"), None);
        assert_eq!(ts("2017-1x"), None);
    }
}
