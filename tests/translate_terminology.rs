//! Terminology: the built-in tables parse, a directory overrides them, transcoding follows the
//! tables, and every code the PS writer emits as a main code is a member of its value set.

use ncpeh::translate::terminology::vs;
use ncpeh::translate::Terminology;

#[test]
fn builtin_tables_load() {
    assert!(Terminology::try_builtin().is_ok());
    let t = Terminology::builtin();
    assert!(t.concept_count() > 30_000, "{}", t.concept_count());
    assert_eq!(t.lookup(vs::ILLNESS, vs::ICD10, "J45"), Some("Asthma"));
    assert_eq!(t.system_oid("http://snomed.info/sct"), Some(vs::SNOMED));
    assert_eq!(t.system_oid("urn:oid:1.2.3"), Some("1.2.3"));
    let m = t
        .transcode("2.16.578.1.12.4.1.1.7448", "95", vs::DOSE_FORM)
        .unwrap();
    assert_eq!((m.system.as_str(), m.code.as_str()), (vs::EDQM, "11210000"));
    // a whole-system row: Norwegian ATC is WHO ATC
    let atc = t
        .transcode("2.16.578.1.12.4.1.1.7180", "N02BE01", vs::ACTIVE_INGREDIENT)
        .unwrap();
    assert_eq!(atc.code, "N02BE01");
    assert_eq!(
        t.designation(ncpeh::ids::oid::LOINC, "11450-4", "nb"),
        Some("Problemliste")
    );
    // every transcoding target is a member of the value set it claims
    let text = include_str!("../src/translate/terminology/data/transcoding.tsv");
    for l in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let c: Vec<&str> = l.split('\t').collect();
        if c[5] != "*" {
            assert!(
                t.lookup(c[3], c[4], c[5]).is_some(),
                "transcoding target not in its value set: {l}"
            );
        }
    }
}

#[test]
fn a_directory_overrides_the_builtin_tables() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("designations.tsv"),
        "# test\n2.16.840.1.113883.6.1\t11450-4\tnb-NO\tProblemer\n",
    )
    .unwrap();
    let t = Terminology::load_dir(dir.path()).unwrap();
    assert_eq!(
        t.designation(ncpeh::ids::oid::LOINC, "11450-4", "nb-NO"),
        Some("Problemer")
    );
    // tables not in the directory stay built in
    assert!(t.lookup(vs::ILLNESS, vs::ICD10, "J45").is_some());
    std::fs::write(dir.path().join("systems.tsv"), "one-column-only\n").unwrap();
    assert!(Terminology::load_dir(dir.path()).is_err());
}
