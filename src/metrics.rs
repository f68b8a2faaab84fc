//! Counters exposed on the admin listener in Prometheus text format.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;

/// (endpoint, action, outcome) to (count, seconds).
type RequestTable = BTreeMap<(String, String, String), (u64, f64)>;

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<RequestTable>,
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
}
