//! `ncpeh-conformance` (also reachable as `ncpeh conformance`): replays NIST XDS Toolkit test
//! plans against any XDS endpoint, ours or a third party's. Exit code 0 only when every row
//! passed, 1 on failed rows, 2 when the run could not start.

use clap::Parser;
use ncpeh_conformance::transport::Transport;
use ncpeh_conformance::{cli, wire::WireTransport};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "ncpeh-conformance",
    version,
    about = "Replay NIST XDS Toolkit test plans against any XDS endpoint"
)]
struct Args {
    /// The NIST testkit (shared/conformance/nist-testkit). Give it again for further testkits
    /// of the same layout, e.g. the MHD plans (shared/conformance/nist-mhd): their tests and
    /// collections join the first's.
    #[arg(long, env = "NCPEH_TESTKIT", required = true)]
    testkit: Vec<PathBuf>,
    /// Site file (TOML) with the endpoints under test; see conformance/site-local.toml.
    #[arg(long)]
    site: PathBuf,
    /// Directory with ca.pem, client.pem and client.key (overrides the site file).
    #[arg(long)]
    pki: Option<PathBuf>,
    /// Collections, e.g. R.b,SQ.b,PR.b,Ret.b.
    #[arg(long, value_delimiter = ',')]
    collections: Vec<String>,
    /// Single tests, e.g. 11966,11990.
    #[arg(long, value_delimiter = ',')]
    tests: Vec<String>,
    /// Write a JUnit XML report here.
    #[arg(long)]
    junit: Option<PathBuf>,
    /// Write toolkit-style step logs under this directory.
    #[arg(long)]
    logs: Option<PathBuf>,
}

fn main() -> ExitCode {
    let a = Args::parse();
    let mut testkits = a.testkit.into_iter();
    let args = cli::Args {
        testkit: testkits.next().unwrap_or_default(),
        more_testkits: testkits.collect(),
        site: a.site,
        pki: a.pki,
        collections: a.collections,
        tests: a.tests,
        junit: a.junit,
        logs: a.logs,
    };
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ncpeh-conformance: {e}");
            return ExitCode::from(2);
        }
    };
    let _guard = rt.enter();
    // The runner is synchronous; the transport blocks on this runtime from the main thread.
    match cli::run(&args, |site| {
        WireTransport::new(site).map(|t| Box::new(t) as Box<dyn Transport>)
    }) {
        Ok(outcome) => {
            println!("{}", outcome.report.table());
            if outcome.all_passed() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("ncpeh-conformance: {e}");
            ExitCode::from(2)
        }
    }
}
