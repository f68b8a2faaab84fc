//! Crash safety: nothing acknowledged is lost, nothing half-done is kept.
//!
//! Client tasks send ITI-41 (MTOM, real bytes), ITI-42 and eDispensations over XDR while the
//! test `SIGKILL`s `ncpeh serve` at random moments, `NCPEH_CRASH_KILLS` times (3 by default;
//! the long form is 20), restarting it on the same config and database each time. After each
//! kill, before the restart, the database must be consistent (SQLite `integrity_check` and
//! `foreign_key_check`; on both backends: every registered document has its bytes and every
//! stored document its registration, chunks add up, associations point at stored objects). After
//! the restart, over the node's own endpoints:
//! - every submission answered Success is all there: metadata and associations (ITI-18), bytes
//!   with the right SHA-1 and size (ITI-43), and an audit record;
//! - every submission left unanswered is either all there (with its audit record) or not there
//!   at all (no entry, no bytes, no record), and stays so;
//! - an eDispensation's ePrescription is closed exactly when the eD is stored;
//! - `ncpeh audit verify` finds the hash chain intact.
//!
//! `NCPEH_CRASH_SEED` replays a run (the seed is printed).

mod cda;
#[path = "crash/check.rs"]
mod check;
#[path = "crash/clients.rs"]
mod clients;
mod common;

use check::{Db, Presence};
use clients::{Kind, Outcome, Rng, Submission, Target};
use common::TestNode;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Submission tasks running at once (the machine may have two cores).
const PROVIDERS: usize = 2;
const REGISTERERS: usize = 1;
const DISPENSERS: usize = 1;

#[tokio::test(flavor = "multi_thread", worker_threads = 3)]
async fn sigkill_during_submissions_loses_nothing_acknowledged_and_keeps_nothing_half_done() {
    let started = Instant::now();
    let kills: usize = std::env::var("NCPEH_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    assert!(kills >= 1, "NCPEH_CRASH_KILLS must be at least 1");
    let seed: u64 = std::env::var("NCPEH_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        });
    let backend = if std::env::var("NCPEH_TEST_PG_URL").is_ok_and(|v| !v.is_empty()) {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    eprintln!("crash safety on {backend}: {kills} kills, NCPEH_CRASH_SEED={seed}");
    let shared = cda::shared()
        .expect("the eDispensation part needs the shared reference folder (set NCPEH_SHARED)");
    let ep = clients::EpSamples::load(&shared);
    let mut rng = Rng::new(seed);
    let mut node = TestNode::start_with("[registry]\nallow_unknown_patients = true\n");
    let mut all: Vec<Submission> = Vec::new();
    // Unanswered submissions, once seen after a restart, must stay as they were found.
    let mut settled: HashMap<String, Presence> = HashMap::new();
    let mut pivots: Vec<String> = Vec::new();
    for round in 0..kills {
        let target = Target::of(&node);
        let stop = Arc::new(AtomicBool::new(false));
        let mut tasks = Vec::new();
        for i in 0..PROVIDERS + REGISTERERS + DISPENSERS {
            let kind = if i < PROVIDERS {
                Kind::Provide
            } else if i < PROVIDERS + REGISTERERS {
                Kind::Register
            } else {
                Kind::Dispense
            };
            let (t, s, ep, seed) = (target.clone(), stop.clone(), ep.clone(), rng.next());
            tasks.push(tokio::spawn(clients::run(t, kind, seed, s, ep)));
        }
        // The kill comes at a random moment while the clients are busy.
        let delay = Duration::from_millis(400 + rng.below(2600));
        tokio::time::sleep(delay).await;
        stop.store(true, Ordering::SeqCst);
        node.kill9();
        let mut this_round = Vec::new();
        for t in tasks {
            this_round.extend(t.await.expect("client task"));
        }

        // The database as the crash left it.
        let mut db = Db::open(&node.db_url);
        db.assert_consistent(&pivots);
        drop(db);

        node.restart();
        let target = Target::of(&node);
        for s in &this_round {
            let found = check::submission(&target, s, true).await;
            if s.outcome == Outcome::Acked {
                assert_eq!(found, Presence::Whole, "acknowledged {s:?}");
            }
            settled.insert(s.set_uid.clone(), found);
        }
        // The earlier ones are still as they were (their bytes are read again at the end).
        for s in &all {
            let found = check::submission(&target, s, false).await;
            assert_eq!(Some(&found), settled.get(&s.set_uid), "{s:?}");
        }
        let in_round = this_round.len();
        all.extend(this_round);
        let mut closed = std::collections::BTreeSet::new();
        let mut prescriptions = Vec::new();
        for s in all.iter().filter(|s| s.kind == Kind::Dispense) {
            let whole = settled.get(&s.set_uid) == Some(&Presence::Whole);
            pivots.extend(check::prescription_closed(&target, s, whole).await);
            let rx = s
                .prescription
                .as_deref()
                .expect("an eD dispenses a prescription");
            prescriptions.push(rx);
            if whole {
                closed.insert(rx.to_string());
            }
        }
        // The same, read from the dispensation records themselves.
        assert_eq!(Db::open(&node.db_url).dispensed(&prescriptions), closed);
        check::audit(&node, &all, &settled);
        let acked = all.iter().filter(|s| s.outcome == Outcome::Acked).count();
        eprintln!(
            "kill {}/{kills} after {delay:?}: {} submissions this round, {acked} acknowledged so far",
            round + 1,
            in_round,
        );
    }
    // Every stored byte once more, after the last restart.
    let target = Target::of(&node);
    for s in &all {
        let found = check::submission(&target, s, true).await;
        assert_eq!(Some(&found), settled.get(&s.set_uid), "{s:?}");
    }
    let refused: Vec<&Submission> = all
        .iter()
        .filter(|s| matches!(s.outcome, Outcome::Refused(_)))
        .collect();
    assert!(refused.is_empty(), "refused submissions: {refused:?}");
    let count = |f: &dyn Fn(&Submission) -> bool| all.iter().filter(|s| f(s)).count();
    let acked = count(&|s| s.outcome == Outcome::Acked);
    let unanswered_whole = count(&|s| {
        s.outcome == Outcome::Unanswered && settled.get(&s.set_uid) == Some(&Presence::Whole)
    });
    let unanswered_absent = count(&|s| {
        s.outcome == Outcome::Unanswered && settled.get(&s.set_uid) == Some(&Presence::Absent)
    });
    assert!(
        acked > 0,
        "no submission was acknowledged: the test proved nothing"
    );
    eprintln!(
        "crash safety on {backend}: {kills} kills, {} submissions, {acked} acknowledged (all kept), \
         {} unanswered ({unanswered_whole} kept whole, {unanswered_absent} absent), \
         {} eDispensations, {:.1} s, seed {seed}",
        all.len(),
        unanswered_whole + unanswered_absent,
        count(&|s| s.kind == Kind::Dispense),
        started.elapsed().as_secs_f64()
    );
}
