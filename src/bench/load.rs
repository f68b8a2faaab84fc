//! `ncpeh bench load`: fills the registry through the store layer, many submissions to one
//! transaction, with the checks ITI-42 makes (the same `prepare` and `store_submission`), and
//! the patients in the index. Generating and parsing run on one thread while the database
//! writes on another.

use super::entries::{loaded_unique_id, patient_id, submission};
use crate::config::Config;
use crate::ebxml::parse_submit_objects;
use crate::registry::register::store_submission;
use crate::registry::submission::{prepare, Submission};
use crate::store::patients::{self, PatientRow};
use crate::store::{DbConn, StoreError};
use crate::xds::validate::Expect;
use crate::xml::{parse, Limits};
use diesel::connection::SimpleConnection;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// Patients per transaction.
const BATCH: u64 = 200;

pub struct LoadArgs {
    pub patients: u64,
    pub docs_per_patient: u64,
    /// The first patient number (to add to an earlier load).
    pub first: u64,
}

/// Loads and prints entries per second; returns the number of entries stored.
pub fn load(cfg: &Config, a: &LoadArgs) -> Result<u64, String> {
    if a.docs_per_patient == 0 || a.docs_per_patient > 999 {
        return Err("--docs-per-patient is 1 to 999".into());
    }
    // SQLite: one writer (it allows no more) on two connections, each with a page cache large
    // enough for the random-key index pages (uuid, uniqueId) that every insert touches; with
    // SQLite's default 2 MB the load slowed from 2,400 to 1,550 entries/s between 10^4 and
    // 5 x 10^5 entries. PostgreSQL: a single writer waits on round trips (the node and the
    // server each half idle), so three write side by side, each its own transactions.
    let mut cfg = cfg.clone();
    let writers = if is_postgres_url(cfg.database.url.as_deref()) {
        3
    } else {
        1
    };
    cfg.database.pool_size = writers + 1;
    let store = crate::node::open_store(&cfg).map_err(|e| e.to_string())?;
    let registry = crate::node::registry(&cfg, store.clone()).map_err(|e| e.to_string())?;
    let (first_pid, last_pid) = (
        patient_id(a.first),
        patient_id(a.first + a.patients.max(1) - 1),
    );
    let taken = store
        .blocking_write(move |c| {
            Ok::<_, StoreError>(patients::exists(c, &first_pid)? || patients::exists(c, &last_pid)?)
        })
        .map_err(|e| e.to_string())?;
    if taken {
        return Err(format!(
            "bench patients {}..{} are (partly) loaded already; add more with --first",
            a.first,
            a.first + a.patients
        ));
    }
    let repository = cfg.repository.unique_id.clone();
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<(PatientRow, Submission)>>(2);
    let (first, end, per) = (a.first, a.first + a.patients, a.docs_per_patient);
    let policy = registry.policy.clone();
    let maker = std::thread::spawn(move || -> Result<(), String> {
        let mut i = first;
        while i < end {
            let mut batch = Vec::new();
            for p in i..(i + BATCH).min(end) {
                let pid = patient_id(p);
                let xml = submission(&pid, per, p, &repository, |j| loaded_unique_id(p, j));
                let root = parse(xml.as_bytes(), Limits::default()).map_err(|e| e.to_string())?;
                let objects = parse_submit_objects(&root).map_err(|e| e.to_string())?;
                let sub = prepare(objects, &policy, Expect::default()).map_err(|e| {
                    format!(
                        "generated submission refused: {:?}",
                        e.first().map(|e| e.to_string())
                    )
                })?;
                let row = PatientRow {
                    pid,
                    family: Some("Testesen".into()),
                    given: Some(format!("Pasient {p}")),
                    birth_date: Some(format!("19{:02}0101", 30 + p % 70)),
                    gender: Some(if p % 2 == 0 { "F" } else { "M" }.into()),
                    updated_at: 0,
                };
                batch.push((row, sub));
            }
            i += BATCH;
            if tx.send(batch).is_err() {
                break;
            }
        }
        Ok(())
    });
    let started = Instant::now();
    let stored = AtomicU64::new(0);
    let rx = Mutex::new(rx);
    let failed = AtomicBool::new(false);
    let write_batches = || -> Result<(), String> {
        while !failed.load(Ordering::Relaxed) {
            let batch = match rx.lock().map_err(|_| "a writer failed".to_string())?.recv() {
                Ok(b) => b,
                Err(_) => return Ok(()),
            };
            let n = batch.len() as u64 * per;
            if let Err(e) = store.blocking_write(move |conn| write_batch(conn, &batch)) {
                failed.store(true, Ordering::Relaxed);
                return Err(e.to_string());
            }
            let total = stored.fetch_add(n, Ordering::Relaxed) + n;
            let secs = started.elapsed().as_secs_f64();
            eprint!(
                "\r{total} entries in {secs:.0} s ({:.0} entries/s)   ",
                total as f64 / secs.max(0.001)
            );
        }
        Ok(())
    };
    let written: Vec<Result<(), String>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..writers).map(|_| s.spawn(write_batches)).collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("a writer panicked".into())))
            .collect()
    });
    // A failed writer ends the load: the others stop after their current batch (each batch is
    // one transaction, so nothing is half stored), and its error is the answer.
    drop(rx);
    written.into_iter().collect::<Result<Vec<()>, String>>()?;
    let stored = stored.into_inner();
    maker
        .join()
        .map_err(|_| "the generator thread failed".to_string())??;
    let secs = started.elapsed().as_secs_f64();
    eprintln!();
    println!(
        "loaded {stored} entries for {} patients in {secs:.1} s ({:.0} entries/s)",
        a.patients,
        stored as f64 / secs.max(0.001)
    );
    Ok(stored)
}

fn write_batch(conn: &mut DbConn, batch: &[(PatientRow, Submission)]) -> Result<(), StoreError> {
    if let DbConn::Sqlite(c) = conn {
        c.batch_execute("PRAGMA cache_size = -262144")?;
    }
    for (row, sub) in batch {
        patients::upsert(conn, row)?;
        store_submission(conn, sub, true).map_err(|f| match f {
            crate::registry::RegistryFailure::Store(e) => e,
            crate::registry::RegistryFailure::Xds(errs) => StoreError::Corrupt(format!(
                "a generated submission was refused (loaded before?): {}",
                errs.first().map(|e| e.to_string()).unwrap_or_default()
            )),
        })?;
    }
    Ok(())
}

fn is_postgres_url(url: Option<&str>) -> bool {
    url.is_some_and(|u| u.starts_with("postgres://") || u.starts_with("postgresql://"))
}
