//! `ncpeh bench`: the load generator. `load` fills a registry with synthetic Norwegian entries
//! through the store layer; `run` drives a workload against a running node over mTLS and, in
//! the same run, the baselines the node is measured against (the raw store, an empty request),
//! and prints node/baseline ratios: the figures that hold on a shared, noisy machine.

mod documents;
pub mod drive;
mod ehdsi;
pub mod entries;
mod ips;
pub mod load;
pub mod report;
mod xca;

use crate::config::Config;
use drive::{Population, Target, Workload};
use report::{parse_duration, Report};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum BenchCmd {
    /// Fill the registry (and patient index) of the configured database directly.
    Load {
        #[arg(long)]
        patients: u64,
        #[arg(long, default_value_t = 10)]
        docs_per_patient: u64,
        /// The first patient number (to add to an earlier load).
        #[arg(long, default_value_t = 0)]
        first: u64,
    },
    /// Drive a workload against a running node and print throughput and latency.
    Run(RunArgs),
}

#[derive(clap::Args)]
pub struct RunArgs {
    #[arg(long, value_enum, default_value = "w1")]
    pub workload: Workload,
    #[arg(long, default_value_t = 8)]
    pub connections: usize,
    /// Measured time (10s, 2m, ...).
    #[arg(long, default_value = "10s")]
    pub duration: String,
    /// Unmeasured time before it.
    #[arg(long, default_value = "2s")]
    pub warmup: String,
    /// The node's SOAP base URL (default: https:// + [server] listen).
    #[arg(long)]
    pub url: Option<String>,
    /// The PKI to connect with: ca.pem, client.pem, client.key (default: the node's).
    #[arg(long)]
    pub pki: Option<PathBuf>,
    /// How many loaded patients the requests pick from (as `bench load --patients`).
    #[arg(long, default_value_t = 1000)]
    pub patients: u64,
    #[arg(long, default_value_t = 0)]
    pub first: u64,
    #[arg(long, default_value_t = 10)]
    pub docs_per_patient: u64,
    /// Leave out the raw-store and empty-request baselines.
    #[arg(long)]
    pub no_baselines: bool,
    /// Print JSON instead of the table.
    #[arg(long)]
    pub json: bool,
}

pub fn run(cfg: &Config, cmd: BenchCmd) -> ExitCode {
    let result = match cmd {
        BenchCmd::Load {
            patients,
            docs_per_patient,
            first,
        } => load::load(
            cfg,
            &load::LoadArgs {
                patients,
                docs_per_patient,
                first,
            },
        )
        .map(|_| ()),
        BenchCmd::Run(a) => run_bench(cfg, &a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ncpeh bench: {e}");
            ExitCode::from(2)
        }
    }
}

fn run_bench(cfg: &Config, a: &RunArgs) -> Result<(), String> {
    let duration = parse_duration(&a.duration)?;
    let warmup = parse_duration(&a.warmup)?;
    if a.patients == 0 || a.docs_per_patient == 0 {
        return Err("--patients and --docs-per-patient must be at least 1".into());
    }
    let pki = a.pki.clone().unwrap_or_else(|| cfg.pki_dir());
    let tls = crate::transport::tls::client_config(
        &pki.join("ca.pem"),
        Some((&pki.join("client.pem"), &pki.join("client.key"))),
    )
    .map_err(|e| e.to_string())?;
    let base = a
        .url
        .clone()
        .unwrap_or_else(|| format!("https://{}", cfg.server.listen));
    let target = Target {
        base: base.trim_end_matches('/').to_string(),
        registry_url: format!("{}/xds/registry", base.trim_end_matches('/')),
        repository_url: format!("{}/xds/repository", base.trim_end_matches('/')),
        repository_uid: cfg.repository.unique_id.clone(),
        tls,
    };
    let pop = Population {
        first: a.first,
        patients: a.patients,
        docs_per_patient: a.docs_per_patient,
    };
    let rt = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    let w = a.workload;
    let report = rt.block_on(async {
        let (node, mut raw, peers) = match w {
            Workload::W5 => {
                let urls = xca::peer_urls(&cfg.peers)?;
                let node = xca::node(&target, pop, a.connections, warmup, duration).await;
                let direct = if a.no_baselines {
                    None
                } else {
                    Some(xca::peers(&target, &urls, pop, a.connections, warmup, duration).await)
                };
                (node, None, direct)
            }
            Workload::W6 => {
                let prep = ehdsi::prepare(&target, &pki, pop, warmup + duration).await?;
                let node = ehdsi::node(&target, &prep, a.connections, warmup, duration).await;
                let raw = if a.no_baselines {
                    None
                } else {
                    Some(ehdsi::translation(pop, a.connections, warmup, duration).await)
                };
                (node, raw, None)
            }
            _ => (
                drive::node(&target, w, pop, a.connections, warmup, duration).await,
                None,
                None,
            ),
        };
        let mut empty = None;
        if !a.no_baselines {
            if matches!(w, Workload::W1 | Workload::W2) {
                // Opened only now: the node's measurement runs without a second pool beside it.
                let store = crate::node::open_store(cfg).map_err(|e| e.to_string())?;
                let reg = crate::node::registry(cfg, store).map_err(|e| e.to_string())?;
                raw = drive::raw(&reg, w, pop, a.connections, warmup, duration).await;
            }
            empty = Some(drive::empty(&target, a.connections, warmup, duration).await);
        }
        Ok::<_, String>(Report {
            workload: format!("{w:?}"),
            node,
            raw,
            empty,
            peers,
        })
    })?;
    if a.json {
        println!("{}", report.json());
    } else {
        print!("{}", report.text());
    }
    Ok(())
}
