//! CLI actions that work on the database directly (safe while the node runs: SQLite is in WAL mode).

use crate::config::Config;
use crate::store::patients::{self, PatientRow};
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
