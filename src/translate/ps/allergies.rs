//! PS allergy and intolerance entries: a concern (3.16) holding the allergy observation (3.17)
//! with its agent, reactions (3.44), criticality, certainty and status.

use serde_json::Value;

use super::section::{ivl, period_of, Detail, Entry, CERTAINTY_CODE};
use crate::ids::oid;
use crate::translate::cda;
use crate::translate::coded::Src;
use crate::translate::fhir::{arr, cc_code, cc_text, codings, human_date, str_at};
use crate::translate::terminology::vs;

const CRITICALITY: Detail = Detail {
    rel: ("SUBJ", Some("true")),
    templates: &["1.3.6.1.4.1.12559.11.10.1.3.1.3.33"],
    code: ("82606-5", oid::LOINC, "Criticality"),
    value: ("CE", "1.3.6.1.4.1.12559.11.10.1.3.1.42.57"),
    part: "criticality",
};

const CERTAINTY: Detail = Detail {
    rel: ("SUBJ", Some("true")),
    templates: &["1.3.6.1.4.1.12559.11.10.1.3.1.3.35"],
    code: CERTAINTY_CODE,
    value: ("CE", "1.3.6.1.4.1.12559.11.10.1.3.1.42.58"),
    part: "certainty",
};

const STATUS: Detail = Detail {
    rel: ("REFR", None),
    templates: &["1.3.6.1.4.1.12559.11.10.1.3.1.3.34"],
    code: ("33999-4", oid::LOINC, "Status"),
    value: ("CE", "1.3.6.1.4.1.12559.11.10.1.3.1.42.59"),
    part: "status",
};

pub fn allergy(e: &mut Entry, r: &Value) -> bool {
    let agent = cc_text(r.get("code")).unwrap_or_else(|| "substance".into());
    let (onset, end) = period_of(r, "onset");
    let clinical = cc_code(r.get("clinicalStatus"));
    let mut line = format!("{} {}", str_at(r, "type").unwrap_or("allergy"), agent);
    if let Some(c) = str_at(r, "criticality") {
        line.push_str(&format!(", criticality {c}"));
    }
    if let Some(o) = onset {
        line.push_str(&format!(", since {}", human_date(o)));
    }
    let id = e.sec.narrative_line(&line);
    let done = matches!(clinical, Some("inactive" | "resolved"));
    e.open_concern(
        &["1.3.6.1.4.1.12559.11.10.1.3.1.3.16"],
        None,
        if done { "completed" } else { "active" },
    );
    ivl(&mut e.w, "effectiveTime", onset, end, false);
    e.open_subject("1.3.6.1.4.1.12559.11.10.1.3.1.3.17", e.n * 100 + 1);
    let ty = match str_at(r, "type") {
        Some("intolerance") => ("782197009", "Intolerance to substance"),
        Some("allergy") => ("609328004", "Allergic disposition"),
        _ => ("420134006", "Propensity to adverse reaction"),
    };
    let src = [Src::new(vs::SNOMED, ty.0, Some(ty.1))];
    e.cd("code", &[], vs::ADVERSE_EVENT_TYPE, &src, None, "code");
    e.text_ref(&id);
    e.completed();
    ivl(&mut e.w, "effectiveTime", onset, end, false);
    e.w.open("participant", &[("typeCode", "CSM")]);
    e.w.open("participantRole", &[("classCode", "MANU")]);
    e.w.open("playingEntity", &[("classCode", "MMAT")]);
    let src = codings(e.cx.term, r.get("code"));
    let set = agent_set(e, r, &src);
    e.cd("code", &[], set, &src, Some(&agent), "agent");
    e.w.close("playingEntity");
    e.w.close("participantRole");
    e.w.close("participant");
    for (k, reac) in arr(r, "reaction").iter().enumerate() {
        for (j, m) in arr(reac, "manifestation").iter().enumerate() {
            let t = cc_text(Some(m)).unwrap_or_else(|| "reaction".into());
            let rid = e.sec.narrative_line(&format!("Reaction: {t}"));
            cda::open_observation(&mut e.w, "MFST", Some("true"));
            e.w.template("1.3.6.1.4.1.12559.11.10.1.3.1.3.44");
            let obs_id = e.sec.id(e.n * 100 + 10 + k * 10 + j);
            e.w.empty("id", &[("root", &obs_id)]);
            e.w.empty(
                "code",
                &[
                    ("code", "ASSERTION"),
                    ("codeSystem", "2.16.840.1.113883.5.4"),
                ],
            );
            e.text_ref(&rid);
            e.completed();
            let when = str_at(reac, "onset").or(onset);
            ivl(&mut e.w, "effectiveTime", when, None, false);
            let src = codings(e.cx.term, Some(m));
            // 3.44 takes eHDSIReactionAllergy or eHDSIIllnessandDisorder (the coded element list names the latter)
            let set = e.cx.first_set(&[vs::REACTION_ALLERGY, vs::ILLNESS], &src);
            e.value_cd(set, &src, Some(&t), "reaction");
            cda::close_observation(&mut e.w);
        }
    }
    if let Some(c) = str_at(r, "criticality") {
        let src = [Src::new("2.16.840.1.113883.4.642.4.130", c, None)];
        e.detail(&CRITICALITY, Some(&id), &src);
    }
    let verif = codings(e.cx.term, r.get("verificationStatus"));
    if !verif.is_empty() {
        e.detail(&CERTAINTY, Some(&id), &verif);
    }
    let clin = codings(e.cx.term, r.get("clinicalStatus"));
    if !clin.is_empty() {
        e.detail(&STATUS, Some(&id), &clin);
    }
    cda::close_observation(&mut e.w);
    e.w.close("act");
    true
}

/// The value set for the agent: active ingredients for a medication allergy, other allergens
/// otherwise; a drug allergen coded only in the no-drug set (SNOMED substances) takes that set.
fn agent_set(e: &Entry, r: &Value, src: &[Src]) -> &'static str {
    let is_drug = arr(r, "category")
        .iter()
        .any(|c| c.as_str() == Some("medication"));
    let member = |set: &str| {
        src.iter().any(|s| {
            s.system
                .as_deref()
                .is_some_and(|sys| e.cx.term.lookup(set, sys, &s.code).is_some())
        })
    };
    if is_drug && (member(vs::ACTIVE_INGREDIENT) || !member(vs::ALLERGEN_NO_DRUG)) {
        vs::ACTIVE_INGREDIENT
    } else {
        vs::ALLERGEN_NO_DRUG
    }
}
