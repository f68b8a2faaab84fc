//! Soak: a mixed load against `ncpeh serve` over mutual TLS, from `CLIENTS` keep-alive clients:
//! ITI-18 FindDocuments, ITI-42, ITI-41 of 1 MiB documents (MTOM), ITI-43 of 1 MiB documents,
//! and Sweden's contact point asking over XCA (ITI-38 and ITI-39, with HCP + TRC assertions).
//!
//! First the peak: every client sends its next request as soon as the last is answered, for
//! NCPEH_SOAK_PEAK_SECS (20). Then the soak: requests issued on a fixed timetable at 80 % of
//! that peak for NCPEH_SOAK_SECS (120; `tests/soak-long.sh` runs 3600). Every 10 s it samples
//! the node's RSS, open fds, database connections (pg_stat_activity on PostgreSQL; on SQLite the
//! fds include the database files), throughput, p50/p99 latency and errors. It then asserts:
//! - no error: any SOAP fault, any status but Success, any missing document or byte is one;
//! - RSS flat: the mean RSS of the last 10 minutes is within 10 % of minutes 10–20 (a soak
//!   under 30 minutes compares its last third with its middle third instead, so the start-up
//!   growth of the first third is left out the same way);
//! - fds and database connections, once the node is idle again, as before the load, give or
//!   take the connections the pool may still hold above its minimum (see `POOL_SLACK`);
//! - p99 steady: no 10 s interval of the soak has a p99 above 3x the median of their p99s.
//!
//! The samples go to soak.csv and soak.svg in NCPEH_SOAK_OUT (default: target/tmp/soak).
//! Latency is measured from sending a request to its answer, not from its slot on the
//! timetable; the `backlog` column shows requests waiting for a free client.

mod common;
#[path = "soak/fixture.rs"]
mod fixture;
#[path = "soak/load.rs"]
mod load;
#[path = "soak/plot.rs"]
mod plot;
#[path = "soak/probe.rs"]
mod probe;

use common::TestNode;
use load::{Recorder, BIG, MIX};
use probe::{mean_rss_mib, quantile, Probe, Sample};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

const CLIENTS: usize = 8;
const SAMPLE_EVERY: Duration = Duration::from_secs(10);
const SOAK_SHARE: f64 = 0.8;
const RSS_TOLERANCE: f64 = 0.10;
const P99_FACTOR: f64 = 3.0;
/// The test node's pool (common/mod.rs: pool_size = 4) keeps 2 connections at least and may hold
/// the other 2 until they have been idle 10 minutes, so after the load it may hold up to 2 more
/// or fewer than before. On SQLite each connection holds 3 fds (database, -wal, -shm).
const POOL_SLACK: i64 = 2;
const FDS_PER_CONNECTION: i64 = 3;
/// The load stops (and the test fails) when the disk holding the node's data has less free.
const MIN_FREE_DISK: f64 = 2.0 * 1024.0 * 1024.0 * 1024.0;

fn env_secs(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("{name} must be seconds"))
        })
        .unwrap_or(default)
}

/// The ITI-41 weight of the mix that keeps its documents within a sixteenth of the free disk
/// (at most 1 GiB): every ITI-41 keeps 1 MiB, on a disk the audit records of an hour already
/// take several GiB of (see `load::MIX`).
fn provide_weight(rate: f64, soak_secs: u64, dir: &std::path::Path) -> f64 {
    let wanted = MIX
        .iter()
        .find(|m| m.0 == load::Op::Provide)
        .map_or(0.0, |m| m.1);
    let total: f64 = MIX.iter().map(|m| m.1).sum();
    let free = free_bytes(dir);
    let budget = (free / 16.0).min(1024.0 * 1024.0 * 1024.0);
    let per_sec = budget / soak_secs as f64 / BIG as f64;
    let allowed_share = per_sec / rate;
    if wanted / total <= allowed_share {
        return wanted;
    }
    let w = allowed_share * (total - wanted) / (1.0 - allowed_share);
    println!(
        "soak: ITI-41 weight lowered from {wanted} to {w:.2} to keep within {:.1} GiB of disk",
        budget / 1073741824.0
    );
    w
}

/// Bytes of the files under `dir` (the node's database, documents and PKI).
fn disk_used(dir: &std::path::Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => disk_used(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

fn free_bytes(dir: &std::path::Path) -> f64 {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).expect("path");
    // SAFETY: statvfs fills the zeroed struct; the path is a valid C string.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::statvfs(path.as_ptr(), &mut st) };
    assert_eq!(rc, 0, "statvfs");
    st.f_bavail as f64 * st.f_frsize as f64
}

/// Samples every SAMPLE_EVERY until `load` ends (a last, shorter interval included).
async fn sample_while(
    mut load: tokio::task::JoinHandle<()>,
    probe: &Probe,
    rec: &Recorder,
    t0: Instant,
    phase: &'static str,
    dir: &std::path::Path,
    out: &mut Vec<Sample>,
) {
    let mut tick = tokio::time::interval(SAMPLE_EVERY);
    tick.tick().await;
    let mut last = Instant::now();
    loop {
        let done = tokio::select! {
            _ = tick.tick() => false,
            r = &mut load => { r.expect("load"); true }
        };
        let secs = last.elapsed().as_secs_f64();
        last = Instant::now();
        if done && secs < 1.0 {
            break;
        }
        let mut iv = rec.take();
        let s = Sample {
            t: t0.elapsed().as_secs_f64(),
            phase,
            rss_kib: probe.rss_kib(),
            fds: probe.fds(),
            db_conns: probe.db_conns(),
            requests: iv.latencies_ms.len(),
            rps: iv.latencies_ms.len() as f64 / secs,
            p50_ms: quantile(&mut iv.latencies_ms, 0.50),
            p99_ms: quantile(&mut iv.latencies_ms, 0.99),
            errors: iv.errors,
            backlog: rec.backlog.load(Ordering::Relaxed),
        };
        println!(
            "soak {phase} t={:>6.0}s rss={:>7.1} MiB fds={:>4} db={:?} {:>6.1} req/s p50={:>7.1} ms p99={:>7.1} ms errors={} backlog={}",
            s.t, s.rss_kib as f64 / 1024.0, s.fds, s.db_conns, s.rps, s.p50_ms, s.p99_ms, s.errors, s.backlog
        );
        out.push(s);
        let free = free_bytes(dir);
        assert!(
            free > MIN_FREE_DISK,
            "stopped: {:.1} GiB of disk left",
            free / 1073741824.0
        );
        if done {
            break;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_load_at_80_percent_of_peak_keeps_memory_latency_fds_and_connections_flat() {
    let on_pg = std::env::var("NCPEH_TEST_PG_URL").is_ok_and(|u| !u.is_empty());
    if on_pg && std::env::var("NCPEH_SOAK_SECS").is_err() {
        // Written past the test harness's capture, so that `cargo test --quiet` shows it too.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "soak: skipped on PostgreSQL: tests/run.sh has just soaked the same code on SQLite, and \
             doubling would add ~3 minutes; set NCPEH_SOAK_SECS to soak on PostgreSQL too (which \
             also counts pg_stat_activity)"
        );
        return;
    }
    let soak_secs = env_secs("NCPEH_SOAK_SECS", 120);
    let peak_secs = env_secs("NCPEH_SOAK_PEAK_SECS", 20);
    let began = Instant::now();
    let node = TestNode::start_with_foreign_peer("");
    let fx = fixture::build(&node).await;
    let renew = fixture::renew_headers(fx.clone(), node.pki.clone());
    let probe = Probe::new(node.pid(), &node.db_url);
    let (fds_before, db_before) = probe.settled(Duration::from_secs(15)).await;
    println!(
        "soak: node ready after {:.1?}; before the load: {fds_before} fds, {db_before:?} DB connections, {:.1} MiB RSS",
        began.elapsed(),
        probe.rss_kib() as f64 / 1024.0
    );

    let rec = Arc::new(Recorder::default());
    let mut samples = Vec::new();
    let t0 = Instant::now();
    let until = Instant::now() + Duration::from_secs(peak_secs);
    let load = tokio::spawn(load::closed_loop(
        fx.clone(),
        rec.clone(),
        CLIENTS,
        MIX[2].1,
        until,
    ));
    sample_while(
        load,
        &probe,
        &rec,
        t0,
        "peak",
        node.dir.path(),
        &mut samples,
    )
    .await;
    let peak = rec.requests.load(Ordering::Relaxed) as f64 / t0.elapsed().as_secs_f64();
    let rate = SOAK_SHARE * peak;
    let provide = provide_weight(rate, soak_secs, node.dir.path());
    println!("soak: peak {peak:.1} req/s; soaking at {rate:.1} req/s for {soak_secs} s");

    let soak_start = t0.elapsed().as_secs_f64();
    let until = Instant::now() + Duration::from_secs(soak_secs);
    let load = tokio::spawn(load::paced(
        fx.clone(),
        rec.clone(),
        CLIENTS,
        provide,
        rate,
        until,
    ));
    sample_while(
        load,
        &probe,
        &rec,
        t0,
        "soak",
        node.dir.path(),
        &mut samples,
    )
    .await;
    let soaked = t0.elapsed().as_secs_f64() - soak_start;
    renew.abort();
    drop(fx);

    // Idle again: the clients are gone; wait for the node to close their connections.
    let fd_slack = POOL_SLACK
        * if probe.is_postgres() {
            1
        } else {
            FDS_PER_CONNECTION
        };
    let idle_by = Instant::now() + Duration::from_secs(60);
    let (fds_after, db_after) = loop {
        let (fds, db) = probe.settled(Duration::from_secs(10)).await;
        let near = (fds as i64 - fds_before as i64).abs() <= fd_slack
            && db
                .zip(db_before)
                .is_none_or(|(a, b)| (a - b).abs() <= POOL_SLACK);
        if near || Instant::now() >= idle_by {
            break (fds, db);
        }
    };

    let dir = std::env::var("NCPEH_SOAK_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("soak"));
    std::fs::create_dir_all(&dir).expect("output directory");
    let backend = if probe.is_postgres() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    plot::csv(&samples, &dir.join("soak.csv"));
    let title = format!(
        "ncpeh soak ({backend}, {CLIENTS} clients): {:.0} s at {rate:.0} req/s = {:.0} % of the peak {peak:.0} req/s",
        soaked,
        SOAK_SHARE * 100.0
    );
    plot::svg(&samples, &dir.join("soak.svg"), &title);

    // The figures, then the checks.
    let soak: Vec<(f64, &Sample)> = samples
        .iter()
        .filter(|s| s.phase == "soak")
        .map(|s| (s.t - soak_start, s))
        .collect();
    let (early, late) = probe::rss_windows(soaked);
    let (rss_early, rss_late) = (mean_rss_mib(&soak, early), mean_rss_mib(&soak, late));
    // Intervals of at least half a sampling period (the last one may be shorter).
    let mut p99s: Vec<f64> = soak
        .iter()
        .filter(|(_, s)| s.requests as f64 >= rate * SAMPLE_EVERY.as_secs_f64() / 2.0)
        .map(|(_, s)| s.p99_ms)
        .collect();
    let p99_max = p99s.iter().copied().fold(0.0, f64::max);
    let p99_median = quantile(&mut p99s, 0.5);
    let soak_requests: usize = soak.iter().map(|(_, s)| s.requests).sum();
    let errors = rec.errors.load(Ordering::Relaxed);
    println!("soak: output in {}", dir.display());
    println!(
        "soak: backend {backend}, {CLIENTS} clients, whole test {:.0} s",
        began.elapsed().as_secs_f64()
    );
    println!("soak: peak {peak:.1} req/s over {peak_secs} s; soak {soaked:.0} s at {rate:.1} req/s target, {:.1} req/s achieved", soak_requests as f64 / soaked);
    println!(
        "soak: RSS mean {rss_early:.1} MiB in {:.0}-{:.0} s vs {rss_late:.1} MiB in {:.0}-{:.0} s ({:+.1} %)",
        early.0, early.1, late.0, late.1, (rss_late / rss_early - 1.0) * 100.0
    );
    println!(
        "soak: p99 per 10 s: median {p99_median:.1} ms, max {p99_max:.1} ms ({:.2}x)",
        p99_max / p99_median
    );
    println!(
        "soak: node data directory {:.2} GiB after the run",
        disk_used(node.dir.path()) as f64 / 1073741824.0
    );
    println!(
        "soak: errors {errors} of {} requests",
        rec.requests.load(Ordering::Relaxed)
    );
    println!("soak: fds {fds_before} before, {fds_after} after; DB connections {db_before:?} before, {db_after:?} after");

    assert_eq!(errors, 0, "error responses: {:#?}", rec.first_errors());
    assert!(
        (rss_late - rss_early).abs() <= RSS_TOLERANCE * rss_early,
        "RSS not flat: {rss_early:.1} MiB then {rss_late:.1} MiB"
    );
    assert!(
        (fds_after as i64 - fds_before as i64).abs() <= fd_slack,
        "fds: {fds_before} before, {fds_after} after the load"
    );
    if let (Some(a), Some(b)) = (db_after, db_before) {
        assert!(
            (a - b).abs() <= POOL_SLACK,
            "DB connections: {b} before, {a} after"
        );
    }
    assert!(p99s.len() >= 3, "too few full intervals: {}", p99s.len());
    assert!(
        p99_max <= P99_FACTOR * p99_median,
        "p99 not steady: an interval at {p99_max:.1} ms, median {p99_median:.1} ms"
    );
}
