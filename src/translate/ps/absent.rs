//! The IPS absent/unknown entries of required PS sections with no data.

use super::section::{open_concern, Section};
use crate::translate::cda;
use crate::translate::terminology::vs;
use crate::xml::XmlWriter;

/// The IPS absent/unknown entry of a required section with no data.
pub fn write_absent(sec: &mut Section, code: &str, reason: Option<&str>) {
    let (text, what) = match code {
        "10160-0" => ("No information about medications", "no-medication-info"),
        "48765-2" => ("No information about allergies", "no-allergy-info"),
        "47519-4" => (
            "No information about past history of procedures",
            "no-procedure-info",
        ),
        "11450-4" => ("No information about problems", "no-problem-info"),
        _ => ("No information about medical devices", "no-device-info"),
    };
    let text = match reason {
        Some(r) => format!("{text} (reason: {r})"),
        None => text.to_string(),
    };
    let id = sec.narrative_line(&text);
    let n = 1;
    let mut w = XmlWriter::default();
    let nf = [
        ("code", what),
        ("codeSystem", vs::ABSENT_UNKNOWN),
        ("displayName", text.as_str()),
    ];
    match code {
        "10160-0" => {
            w.open(
                "substanceAdministration",
                &[("classCode", "SBADM"), ("moodCode", "INT")],
            );
            w.template("1.3.6.1.4.1.12559.11.10.1.3.1.3.4");
            w.template("2.16.840.1.113883.10.20.1.24");
            w.empty("id", &[("root", &sec.id(n))]);
            w.empty("code", &nf);
            cda::text_ref(&mut w, &id);
            w.empty("statusCode", &[("code", "completed")]);
            w.empty(
                "effectiveTime",
                &[("xsi:type", "IVL_TS"), ("nullFlavor", "UNK")],
            );
            w.empty(
                "effectiveTime",
                &[("xsi:type", "PIVL_TS"), ("nullFlavor", "NA")],
            );
            cda::open_material(
                &mut w,
                &[],
                "1.3.6.1.4.1.12559.11.10.1.3.1.3.31",
                "1.3.6.1.4.1.12559.11.10.1.3.1.3.32",
            );
            w.empty("code", &nf);
            cda::close_material(&mut w);
            w.close("substanceAdministration");
        }
        "48765-2" => concern(
            &mut w,
            &Concern {
                act_templates: &["1.3.6.1.4.1.12559.11.10.1.3.1.3.16"],
                obs_template: "1.3.6.1.4.1.12559.11.10.1.3.1.3.17",
                obs_code: ("420134006", "Propensity to adverse reaction"),
                act_text: false,
            },
            sec,
            n,
            &id,
            &nf,
        ),
        "47519-4" => {
            w.open("procedure", &[("classCode", "PROC"), ("moodCode", "EVN")]);
            w.template("1.3.6.1.4.1.12559.11.10.1.3.1.3.26");
            w.empty("id", &[("root", &sec.id(n))]);
            w.empty("code", &nf);
            cda::text_ref(&mut w, &id);
            w.empty("statusCode", &[("code", "completed")]);
            w.empty("effectiveTime", &[("nullFlavor", "NA")]);
            w.close("procedure");
        }
        "11450-4" => concern(
            &mut w,
            &Concern {
                act_templates: &[
                    "1.3.6.1.4.1.12559.11.10.1.3.1.3.15",
                    "2.16.840.1.113883.10.20.1.27",
                ],
                obs_template: "1.3.6.1.4.1.12559.11.10.1.3.1.3.7",
                obs_code: ("55607006", "Problem"),
                act_text: true,
            },
            sec,
            n,
            &id,
            &nf,
        ),
        _ => {
            w.open("supply", &[("classCode", "SPLY"), ("moodCode", "EVN")]);
            w.template("1.3.6.1.4.1.12559.11.10.1.3.1.3.5");
            w.empty("id", &[("root", &sec.id(n))]);
            cda::text_ref(&mut w, &id);
            not_applicable(&mut w, &[("xsi:type", "IVL_TS")]);
            w.open("participant", &[("typeCode", "DEV")]);
            w.open("participantRole", &[("classCode", "MANU")]);
            w.open(
                "playingDevice",
                &[("classCode", "DEV"), ("determinerCode", "INSTANCE")],
            );
            w.empty("code", &nf);
            w.close("playingDevice");
            w.close("participantRole");
            w.close("participant");
            w.close("supply");
        }
    }
    sec.entries.push(w.s);
}

/// What differs between the allergy and problem concerns that carry an absent observation.
struct Concern {
    act_templates: &'static [&'static str],
    obs_template: &'static str,
    obs_code: (&'static str, &'static str),
    /// The problem concern references the narrative on the act too; the allergy one does not.
    act_text: bool,
}

/// A concern act holding one observation whose value is the absent/unknown code.
fn concern(w: &mut XmlWriter, c: &Concern, sec: &Section, n: usize, id: &str, nf: &[(&str, &str)]) {
    let text = c.act_text.then_some(id);
    open_concern(w, c.act_templates, &sec.id(n), text, "active");
    not_applicable(w, &[]);
    cda::open_observation(w, "SUBJ", Some("false"));
    w.template(c.obs_template);
    w.empty("id", &[("root", &sec.id(n + 1))]);
    cda::code(w, c.obs_code.0, vs::SNOMED, c.obs_code.1);
    cda::text_ref(w, id);
    w.empty("statusCode", &[("code", "completed")]);
    not_applicable(w, &[]);
    let mut v = nf.to_vec();
    v.push(("xsi:type", "CD"));
    w.empty("value", &v);
    cda::close_observation(w);
    w.close("act");
}

/// An effectiveTime whose start does not apply (there is nothing to date).
fn not_applicable(w: &mut XmlWriter, attrs: &[(&str, &str)]) {
    w.open("effectiveTime", attrs);
    w.empty("low", &[("nullFlavor", "NA")]);
    w.close("effectiveTime");
}
