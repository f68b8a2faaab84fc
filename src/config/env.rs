//! NCPEH_<SECTION>__<KEY> variables: each sets one key, parsed by the type of its field, so
//! NCPEH_REPOSITORY__UNIQUE_ID=123 is the string "123". An unknown name is a problem like an
//! unknown key in the file.

use super::setting::Raw;
use super::{Config, Problems};

/// Variables of the tools around the node (CLI, tests, benches, scripts), not settings.
const NOT_CONFIG: [&str; 15] = [
    "NCPEH_CONFIG",
    "NCPEH_SHARED",
    "NCPEH_PYTHON",
    "NCPEH_TEST_PG_URL",
    "NCPEH_TESTKIT",
    "NCPEH_TERMINOLOGY_DIR",
    "NCPEH_PG_PORT",
    "NCPEH_BENCH_DOCS",
    "NCPEH_BENCH_PG_URL",
    "NCPEH_FUZZ_ROUNDS",
    "NCPEH_CRASH_KILLS",
    "NCPEH_CRASH_SEED",
    "NCPEH_SOAK_SECS",
    "NCPEH_SOAK_PEAK_SECS",
    "NCPEH_SOAK_OUT",
];

pub fn apply(
    cfg: &mut Config,
    vars: impl IntoIterator<Item = (String, String)>,
    problems: &mut Problems,
) {
    for (name, value) in vars {
        let Some(rest) = name.strip_prefix("NCPEH_") else {
            continue;
        };
        if NOT_CONFIG.contains(&name.as_str()) {
            continue;
        }
        let lower = rest.to_ascii_lowercase();
        let note = format!(" (from {name})");
        if lower == "peers" || lower.starts_with("peers__") {
            let m = "[[peers]] can only be set in the config file";
            problems.push("peers", format!("{m}{note}"));
            continue;
        }
        let (key, result, part, known) = match lower.split_once("__") {
            Some((section, k)) => {
                let key = format!("{section}.{k}");
                match cfg.section_mut(section) {
                    Some(s) => (key, s.set(k, Raw::Env(&value)), k, s.keys()),
                    None => (key, None, section, Config::TOP_KEYS),
                }
            }
            None if cfg.section(&lower).is_some() => {
                let m = format!("is a section: set its keys as {name}__<KEY>");
                problems.push(lower, format!("{m}{note}"));
                continue;
            }
            None => {
                let r = cfg.set_top(&lower, Raw::Env(&value));
                (lower.clone(), r, lower.as_str(), Config::TOP_KEYS)
            }
        };
        match result {
            Some(Ok(())) => {}
            Some(Err(m)) => problems.push(key, format!("{m}{note}")),
            None => problems.unknown(&key, part, known, &note),
        }
    }
}
