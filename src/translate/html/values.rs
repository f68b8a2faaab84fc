//! Reading CDA data types for display: HL7 timestamps as Norwegian dates, person names,
//! instance identifiers and addresses.

use crate::xml::Element;

use super::out::squash;

pub const HL7: &str = "urn:hl7-org:v3";
pub const PHARM: &str = "urn:hl7-org:pharm";
/// The older eP/PS product namespace, still written by some countries.
pub const EPSOS: &str = "urn:epsos-org:ep:medication";

/// An HL7 TS (`YYYYMMDDHHMMSS[.f][+ZZZZ]`, any precision) as `dd.mm.yyyy kl. HH:MM (+ZZ:ZZ)`.
/// A value that is not a timestamp is shown as written.
pub fn ts(value: &str) -> String {
    let v = value.trim();
    let digits: String = v.chars().take_while(char::is_ascii_digit).collect();
    let zone = v
        .find(['+', '-'])
        .map(|i| &v[i..])
        .filter(|z| z.len() == 5 && z[1..].chars().all(|c| c.is_ascii_digit()));
    let part = |a: usize, b: usize| digits.get(a..b);
    let mut out = match (part(0, 4), part(4, 6), part(6, 8)) {
        (Some(y), Some(m), Some(d)) => format!("{d}.{m}.{y}"),
        (Some(y), Some(m), None) => format!("{m}.{y}"),
        (Some(y), None, None) => y.to_string(),
        _ => return v.to_string(),
    };
    if let (Some(h), Some(mi)) = (part(8, 10), part(10, 12)) {
        out.push_str(&format!(" kl. {h}:{mi}"));
        if let Some(z) = zone {
            out.push_str(&format!(" ({}:{})", &z[..3], &z[3..]));
        }
    }
    out
}

/// A TS element (`value`, or `low`/`high` children for an interval), or None when null.
pub fn time_of(e: &Element) -> Option<String> {
    if let Some(v) = e.attr("value") {
        return Some(ts(v));
    }
    let end = |n: &str| e.child(HL7, n).and_then(|c| c.attr("value")).map(ts);
    match (end("low"), end("high")) {
        (None, None) => None,
        (Some(low), None) => Some(format!("fra {low}")),
        (None, Some(high)) => Some(format!("til {high}")),
        (Some(low), Some(high)) => Some(format!("{low} – {high}")),
    }
}

/// A PN/ON: given names before family names, as a Norwegian reader writes them; a name with no
/// parts is its text.
pub fn name(n: &Element) -> String {
    let parts = |what: &str| -> Vec<String> {
        n.children_named(HL7, what)
            .map(|p| squash(&p.deep_text()))
            .filter(|p| !p.is_empty())
            .collect()
    };
    let mut all = parts("prefix");
    all.extend(parts("given"));
    all.extend(parts("family"));
    all.extend(parts("suffix"));
    if all.is_empty() {
        squash(&n.deep_text())
    } else {
        all.join(" ")
    }
}

/// Every `<name>` child, joined.
pub fn names_in(e: &Element) -> Option<String> {
    let all: Vec<String> = e
        .children_named(HL7, "name")
        .map(name)
        .filter(|n| !n.is_empty())
        .collect();
    (!all.is_empty()).then(|| all.join(" / "))
}

/// An II: `extension (root)`, or the root alone; None for a null flavour.
pub fn ii(e: &Element) -> Option<String> {
    let root = e.attr("root").map(str::trim).filter(|r| !r.is_empty());
    let ext = e.attr("extension").map(str::trim).filter(|x| !x.is_empty());
    match (ext, root) {
        (Some(x), Some(r)) => Some(format!("{x} ({r})")),
        (Some(x), None) => Some(x.to_string()),
        (None, Some(r)) => Some(r.to_string()),
        (None, None) => None,
    }
}

/// Every `<id>` child, joined.
pub fn ids_in(e: &Element) -> Option<String> {
    let all: Vec<String> = e.children_named(HL7, "id").filter_map(ii).collect();
    (!all.is_empty()).then(|| all.join(", "))
}

/// An AD on one line: street, postal code and city, country.
pub fn address(a: &Element) -> Option<String> {
    let text = |n: &str| -> Vec<String> {
        a.children_named(HL7, n)
            .map(|p| squash(&p.deep_text()))
            .filter(|p| !p.is_empty())
            .collect()
    };
    let mut lines = text("streetAddressLine");
    let place = [text("postalCode"), text("city")].concat().join(" ");
    if !place.is_empty() {
        lines.push(place);
    }
    lines.extend(text("state"));
    lines.extend(text("country"));
    if lines.is_empty() {
        let all = squash(&a.deep_text());
        return (!all.is_empty()).then_some(all);
    }
    Some(lines.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_of_any_precision() {
        assert_eq!(ts("19820508"), "08.05.1982");
        assert_eq!(ts("20191122143500+0200"), "22.11.2019 kl. 14:35 (+02:00)");
        assert_eq!(ts("201911"), "11.2019");
        assert_eq!(ts("garbage"), "garbage");
    }
}
