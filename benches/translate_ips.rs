//! Median time to translate the largest IPS example bundle to a PS pivot CDA.
//! `NCPEH_SHARED=../shared cargo bench --bench translate_ips` (target: under 2 ms).

use std::time::{Duration, Instant};

use ncpeh::translate::{ips_to_ps, PsOptions, Terminology};

fn main() {
    let shared = std::env::var_os("NCPEH_SHARED")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    let dir = shared.join("reference/ips");
    let Ok(rd) = std::fs::read_dir(&dir) else {
        eprintln!(
            "SKIP: no IPS bundles at {} (set NCPEH_SHARED)",
            dir.display()
        );
        return;
    };
    let largest = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .max_by_key(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .expect("an IPS bundle");
    let bytes = std::fs::read(&largest).expect("read bundle");
    let term = Terminology::builtin();
    let opts = PsOptions::default();
    for _ in 0..20 {
        ips_to_ps(&bytes, term, &opts).expect("translate");
    }
    let mut times: Vec<Duration> = (0..500)
        .map(|_| {
            let t = Instant::now();
            let out = ips_to_ps(&bytes, term, &opts).expect("translate");
            std::hint::black_box(out);
            t.elapsed()
        })
        .collect();
    times.sort();
    let median = times[times.len() / 2];
    println!(
        "ips_to_ps {} ({} bytes): median {:?}, p90 {:?}, min {:?}",
        largest.file_name().unwrap_or_default().to_string_lossy(),
        bytes.len(),
        median,
        times[times.len() * 9 / 10],
        times[0]
    );
    if median > Duration::from_millis(2) {
        eprintln!("median above the 2 ms budget");
        std::process::exit(1);
    }
}
