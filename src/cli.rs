//! CLI actions that work on the database directly (safe while the node runs: SQLite is in WAL mode).

use crate::config::Config;
use crate::store::consent::{self, Scope};
use crate::store::patients::{self, PatientRow};
use crate::store::StoreError;
use crate::xds::cx;

pub struct NewPatient {
    pub pid: String,
    pub family: Option<String>,
    pub given: Option<String>,
    pub birth_date: Option<String>,
    pub gender: Option<String>,
}

pub fn patient_add(cfg: &Config, p: NewPatient) -> Result<(), String> {
    cx::validate(&p.pid)?;
    if let Some(b) = &p.birth_date {
        if b.len() != 8 || !b.bytes().all(|c| c.is_ascii_digit()) {
            return Err(format!("birth date '{b}' is not YYYYMMDD"));
        }
    }
    let store = crate::node::open_store(cfg).map_err(|e| e.to_string())?;
    let row = PatientRow {
        pid: p.pid.clone(),
        family: p.family,
        given: p.given,
        birth_date: p.birth_date,
        gender: p.gender,
        updated_at: time::OffsetDateTime::now_utc().unix_timestamp(),
    };
    store
        .blocking_write(|c| patients::upsert(c, &row).map_err(crate::store::StoreError::from))
        .map_err(|e| e.to_string())?;
    println!("patient {} stored", p.pid);
    Ok(())
}

/// `ncpeh patient consent PID --deny SCOPE` (`deny`) or `--allow SCOPE`. A refusal may be
/// recorded before the patient is in the index; it keeps the time it was first recorded.
pub fn patient_consent(cfg: &Config, pid: &str, scope: &str, deny: bool) -> Result<(), String> {
    cx::validate(pid)?;
    let scope = Scope::parse(scope).ok_or_else(|| format!("unknown consent scope '{scope}'"))?;
    let store = crate::node::open_store(cfg).map_err(|e| e.to_string())?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let pid_owned = pid.to_string();
    let changed = store
        .blocking_write(move |c| {
            let r = if deny {
                consent::deny(c, &pid_owned, scope, now)
            } else {
                consent::allow(c, &pid_owned, scope)
            };
            r.map_err(StoreError::from)
        })
        .map_err(|e| e.to_string())?;
    let what = match (deny, changed) {
        (true, true) => "refusal recorded",
        (true, false) => "refusal was already recorded",
        (false, true) => "refusal taken back",
        (false, false) => "had no refusal recorded",
    };
    println!("patient {pid}: {} {what}", scope.name());
    Ok(())
}
