//! What the soak watches on the node (memory, file descriptors, database connections) and the
//! figures it derives from its samples.

use std::time::Duration;

/// One sampling interval.
#[derive(Clone, Debug)]
pub struct Sample {
    /// Seconds since the load began (end of the interval).
    pub t: f64,
    pub phase: &'static str,
    pub rss_kib: u64,
    pub fds: usize,
    /// Connections to the node's database (PostgreSQL only).
    pub db_conns: Option<i64>,
    pub requests: usize,
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub errors: u64,
    pub backlog: i64,
}

/// The node process, and its database when that is PostgreSQL.
pub struct Probe {
    pid: u32,
    pg: Option<(String, String)>,
}

impl Probe {
    /// `db_url` is the node's; a PostgreSQL one is counted in pg_stat_activity through the
    /// test server's admin URL (NCPEH_TEST_PG_URL), so the probe adds no connection of its own
    /// to the database it counts.
    pub fn new(pid: u32, db_url: &str) -> Probe {
        let pg = db_url.starts_with("postgres").then(|| {
            let admin = std::env::var("NCPEH_TEST_PG_URL").expect("PostgreSQL admin URL");
            let name = db_url.rsplit('/').next().unwrap_or_default().to_string();
            (admin, name)
        });
        Probe { pid, pg }
    }

    pub fn is_postgres(&self) -> bool {
        self.pg.is_some()
    }

    /// VmRSS in KiB.
    pub fn rss_kib(&self) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid)).expect("node status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS")
    }

    pub fn fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid))
            .expect("node fds")
            .count()
    }

    pub fn db_conns(&self) -> Option<i64> {
        use diesel::{Connection, RunQueryDsl};
        let (admin, name) = self.pg.as_ref()?;
        let mut c = diesel::PgConnection::establish(admin).expect("connect to test PostgreSQL");
        let q = format!("(SELECT count(*) FROM pg_stat_activity WHERE datname = '{name}')");
        let n = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(&q))
            .get_result(&mut c)
            .expect("pg_stat_activity");
        Some(n)
    }

    /// (fds, DB connections) once they stop moving: two equal readings a second apart, or
    /// the last reading after `limit`.
    pub async fn settled(&self, limit: Duration) -> (usize, Option<i64>) {
        let until = std::time::Instant::now() + limit;
        let mut last = (self.fds(), self.db_conns());
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let now = (self.fds(), self.db_conns());
            if now == last || std::time::Instant::now() >= until {
                return now;
            }
            last = now;
        }
    }
}

/// The `q` quantile (nearest rank) of unsorted values; 0 for none.
pub fn quantile(v: &mut [f64], q: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    v[rank - 1]
}

pub fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

/// The two windows whose mean RSS is compared, in seconds of the soak phase: minutes 10–20
/// against the last 10 minutes when the soak lasts 30 minutes or more, else the middle third
/// against the last third.
pub fn rss_windows(soak_secs: f64) -> ((f64, f64), (f64, f64)) {
    if soak_secs >= 1800.0 {
        ((600.0, 1200.0), (soak_secs - 600.0, soak_secs))
    } else {
        let third = soak_secs / 3.0;
        ((third, 2.0 * third), (2.0 * third, soak_secs))
    }
}

/// Mean RSS (MiB) of the soak samples whose interval ends inside (from, to].
pub fn mean_rss_mib(soak: &[(f64, &Sample)], (from, to): (f64, f64)) -> f64 {
    let v: Vec<f64> = soak
        .iter()
        .filter(|(t, _)| *t > from && *t <= to + 1.0)
        .map(|(_, s)| s.rss_kib as f64 / 1024.0)
        .collect();
    assert!(!v.is_empty(), "no RSS samples in {from}..{to} s");
    mean(&v)
}
