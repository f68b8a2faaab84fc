//! Counters exposed on the admin listener in Prometheus text format, and the short history the
//! operator console shows (the last hour by minute, the latest transactions, the peers).

pub mod peers;
pub mod recent;
pub mod timeline;

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;

/// (endpoint, action, outcome) to (count, seconds).
type RequestTable = BTreeMap<(String, String, String), (u64, f64)>;

/// Upper bounds (seconds) of the latency histogram's buckets: from a cached query to a large
/// ITI-41 or a slow peer.
const BUCKETS: [f64; 13] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// One latency histogram: per bucket the requests at or under its bound (not yet cumulative),
/// the count, the sum, and the extremes (so that estimates stay within what was seen).
#[derive(Default, Clone, Copy)]
pub struct Histogram {
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
    min: f64,
    max: f64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        if let Some(i) = BUCKETS.iter().position(|b| seconds <= *b) {
            self.buckets[i] += 1;
        }
        if self.count == 0 || seconds < self.min {
            self.min = seconds;
        }
        self.max = self.max.max(seconds);
        self.count += 1;
        self.sum += seconds;
    }

    fn add(&mut self, other: &Histogram) {
        if other.count == 0 {
            return;
        }
        for (a, b) in self.buckets.iter_mut().zip(other.buckets) {
            *a += b;
        }
        if self.count == 0 || other.min < self.min {
            self.min = other.min;
        }
        self.max = self.max.max(other.max);
        self.count += other.count;
        self.sum += other.sum;
    }
}

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<RequestTable>,
    /// (endpoint, action) to the latency histogram, so that p50 and p99 can be read.
    latency: Mutex<BTreeMap<(String, String), Histogram>>,
    timeline: Mutex<timeline::Timeline>,
    recent: Mutex<recent::Recent>,
    pub tls_failures: AtomicU64,
    pub tls_reloads: AtomicU64,
    pub tls_reload_failures: AtomicU64,
    pub connections_open: AtomicI64,
    pub connections_total: AtomicU64,
    pub refused_oversize: AtomicU64,
    /// Turned away at once: a caller over its requests in flight, over its rate, and
    /// connections from an address over its share.
    pub refused_in_flight: AtomicU64,
    pub refused_rate: AtomicU64,
    pub refused_per_ip: AtomicU64,
    /// SQLite's group commit: (transactions, writes they carried).
    store_writes: std::sync::OnceLock<StoreWrites>,
}

type StoreWrites = Box<dyn Fn() -> (u64, u64) + Send + Sync>;

impl Metrics {
    /// One finished SOAP request: endpoint path, action, outcome label and seconds taken.
    pub fn request(&self, endpoint: &str, action: &str, outcome: &str, seconds: f64) {
        let mut m = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        let e = m
            .entry((
                endpoint.to_string(),
                action.to_string(),
                outcome.to_string(),
            ))
            .or_insert((0, 0.0));
        e.0 += 1;
        e.1 += seconds;
        drop(m);
        let mut h = self.latency.lock().unwrap_or_else(|p| p.into_inner());
        h.entry((endpoint.to_string(), action.to_string()))
            .or_default()
            .observe(seconds);
        drop(h);
        let minute = (unix_ms() / 60_000) as u64;
        lock(&self.timeline).record(minute, endpoint, outcome, seconds);
    }

    /// One finished transaction for the console's list of the latest.
    pub fn transaction(&self, t: recent::Transaction) {
        lock(&self.recent).push(t);
    }

    /// The last hour of every endpoint, minute by minute.
    pub fn hour(&self) -> Vec<timeline::EndpointHour> {
        let minute = (unix_ms() / 60_000) as u64;
        lock(&self.timeline).hour(minute)
    }

    /// The latest transactions, newest first.
    pub fn recent(&self) -> Vec<recent::Transaction> {
        lock(&self.recent).newest_first()
    }

    /// Where the store's group-commit counts come from (SQLite only).
    pub fn count_store_writes(&self, counts: StoreWrites) {
        let _ = self.store_writes.set(counts);
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP ncpeh_requests_total SOAP requests by endpoint, action and outcome.\n# TYPE ncpeh_requests_total counter\n");
        let m = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        for ((e, a, o), (n, _)) in m.iter() {
            let _ = writeln!(
                out,
                "ncpeh_requests_total{{endpoint=\"{e}\",action=\"{a}\",outcome=\"{o}\"}} {n}"
            );
        }
        out.push_str("# HELP ncpeh_request_seconds_sum Time spent answering SOAP requests.\n# TYPE ncpeh_request_seconds_sum counter\n");
        for ((e, a, o), (_, s)) in m.iter() {
            let _ = writeln!(out, "ncpeh_request_seconds_sum{{endpoint=\"{e}\",action=\"{a}\",outcome=\"{o}\"}} {s:.6}");
        }
        drop(m);
        self.render_latency(&mut out);
        if let Some((transactions, writes)) = self.store_writes.get().map(|f| f()) {
            let _ = writeln!(out, "# HELP ncpeh_store_write_transactions_total Write transactions committed (SQLite; concurrent writes share one).\n# TYPE ncpeh_store_write_transactions_total counter\nncpeh_store_write_transactions_total {transactions}");
            let _ = writeln!(
                out,
                "# TYPE ncpeh_store_writes_total counter\nncpeh_store_writes_total {writes}"
            );
        }
        let _ = writeln!(out, "# TYPE ncpeh_tls_handshake_failures_total counter\nncpeh_tls_handshake_failures_total {}", self.tls_failures.load(Ordering::Relaxed));
        let _ = writeln!(out, "# TYPE ncpeh_tls_reloads_total counter\nncpeh_tls_reloads_total{{outcome=\"ok\"}} {}\nncpeh_tls_reloads_total{{outcome=\"failed\"}} {}", self.tls_reloads.load(Ordering::Relaxed), self.tls_reload_failures.load(Ordering::Relaxed));
        let _ = writeln!(
            out,
            "# TYPE ncpeh_connections_open gauge\nncpeh_connections_open {}",
            self.connections_open.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# TYPE ncpeh_connections_total counter\nncpeh_connections_total {}",
            self.connections_total.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# TYPE ncpeh_refused_oversize_total counter\nncpeh_refused_oversize_total {}",
            self.refused_oversize.load(Ordering::Relaxed)
        );
        out.push_str("# HELP ncpeh_refused_busy_total Requests and connections turned away by the per-caller and per-address limits.\n# TYPE ncpeh_refused_busy_total counter\n");
        for (reason, n) in [
            ("in_flight", &self.refused_in_flight),
            ("rate", &self.refused_rate),
            ("per_address", &self.refused_per_ip),
        ] {
            let _ = writeln!(
                out,
                "ncpeh_refused_busy_total{{reason=\"{reason}\"}} {}",
                n.load(Ordering::Relaxed)
            );
        }
        out
    }

    fn render_latency(&self, out: &mut String) {
        out.push_str("# HELP ncpeh_request_duration_seconds Time to answer a SOAP request, by endpoint and action.\n# TYPE ncpeh_request_duration_seconds histogram\n");
        let h = self
            .latency
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        for ((e, a), h) in &h {
            let mut cumulative = 0;
            for (bound, n) in BUCKETS.iter().zip(h.buckets) {
                cumulative += n;
                let _ = writeln!(out, "ncpeh_request_duration_seconds_bucket{{endpoint=\"{e}\",action=\"{a}\",le=\"{bound}\"}} {cumulative}");
            }
            let _ = writeln!(out, "ncpeh_request_duration_seconds_bucket{{endpoint=\"{e}\",action=\"{a}\",le=\"+Inf\"}} {}", h.count);
            let _ = writeln!(
                out,
                "ncpeh_request_duration_seconds_sum{{endpoint=\"{e}\",action=\"{a}\"}} {:.6}",
                h.sum
            );
            let _ = writeln!(
                out,
                "ncpeh_request_duration_seconds_count{{endpoint=\"{e}\",action=\"{a}\"}} {}",
                h.count
            );
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Milliseconds since the Unix epoch (0 on a clock before it).
pub fn unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_histogram_is_cumulative_and_counts_every_request() {
        let m = Metrics::default();
        for s in [0.003, 0.004, 0.02, 0.3, 120.0] {
            m.request("/xds/registry", "q", "Success", s);
        }
        m.request("/xds/registry", "q", "Fault", 0.2);
        let text = m.render();
        let line = |le: &str| {
            let key = format!("ncpeh_request_duration_seconds_bucket{{endpoint=\"/xds/registry\",action=\"q\",le=\"{le}\"}} ");
            text.lines()
                .find_map(|l| l.strip_prefix(key.as_str()))
                .map(str::to_string)
        };
        assert_eq!(line("0.005").as_deref(), Some("2"));
        assert_eq!(line("0.025").as_deref(), Some("3"));
        assert_eq!(
            line("0.25").as_deref(),
            Some("4"),
            "outcomes share the histogram"
        );
        assert_eq!(line("0.5").as_deref(), Some("5"));
        assert_eq!(
            line("60").as_deref(),
            Some("5"),
            "120 s is over the last bound"
        );
        assert_eq!(line("+Inf").as_deref(), Some("6"));
        assert!(text.contains(
            "ncpeh_request_duration_seconds_count{endpoint=\"/xds/registry\",action=\"q\"} 6"
        ));
        assert!(text.contains("# TYPE ncpeh_request_duration_seconds histogram"));
    }
}
