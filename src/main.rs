//! The ncpeh command line.

use clap::{Args, Parser, Subcommand};
use ncpeh::config::Config;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "ncpeh",
    version,
    about = "Norway's National Contact Point for eHealth and XDS.b registry/repository"
)]
struct Cli {
    /// Config file (TOML). Without it the defaults apply: ./ncpeh-data, 127.0.0.1:8443.
    #[arg(long, global = true, env = "NCPEH_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the node.
    Serve,
    /// Development PKI.
    Pki {
        #[command(subcommand)]
        cmd: PkiCmd,
    },
    /// The patient index.
    Patient {
        #[command(subcommand)]
        cmd: PatientCmd,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// The configuration (file and NCPEH_* variables).
    Config {
        #[command(subcommand)]
        cmd: ConfigCmd,
    },
    /// Replay NIST XDS Toolkit test plans against any XDS endpoint (ours or a third party's).
    Conformance(ConformanceArgs),
    /// Convert between Norwegian documents and the eHDSI pivot CDA.
    Translate(ncpeh::translate::cli::TranslateArgs),
}

#[derive(Args)]
struct ConformanceArgs {
    /// The NIST testkit (shared/conformance/nist-testkit).
    #[arg(long, env = "NCPEH_TESTKIT")]
    testkit: PathBuf,
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

#[derive(Subcommand)]
enum PkiCmd {
    /// Create a dev CA, server, client, foreign (SE) and untrusted certificates as PEM files.
    Init {
        #[arg(long, default_value = "ncpeh-data/pki")]
        out: PathBuf,
        /// Replace existing files.
        #[arg(long)]
        overwrite: bool,
    },
}

#[derive(Subcommand)]
enum ConfigCmd {
    /// Load and check the configuration; print the effective settings or every problem.
    Check,
}

#[derive(Subcommand)]
enum PatientCmd {
    /// Add or update a patient: 'ID^^^&OID&ISO'.
    Add(PatientAdd),
}

#[derive(Args)]
struct PatientAdd {
    pid: String,
    #[arg(long)]
    family: Option<String>,
    #[arg(long)]
    given: Option<String>,
    #[arg(long = "birth-date")]
    birth_date: Option<String>,
    #[arg(long, value_parser = ["M", "F", "O", "U"])]
    gender: Option<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Every command checks the configuration first: a bad one stops here, before anything binds.
    let cfg = match Config::from_env(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ncpeh: {e}");
            return ExitCode::from(2);
        }
    };
    ncpeh::logging::init(&cfg.log);
    let result = match cli.cmd {
        Cmd::Serve => serve(cfg),
        Cmd::Pki {
            cmd: PkiCmd::Init { out, overwrite },
        } => ncpeh::pki::init(&out, overwrite)
            .map(|p| println!("dev PKI written to {}", p.dir.display()))
            .map_err(|e| e.to_string()),
        Cmd::Patient {
            cmd: PatientCmd::Add(a),
        } => ncpeh::cli::patient_add(
            &cfg,
            ncpeh::cli::NewPatient {
                pid: a.pid,
                family: a.family,
                given: a.given,
                birth_date: a.birth_date,
                gender: a.gender,
            },
        ),
        Cmd::Config {
            cmd: ConfigCmd::Check,
        } => {
            config_check(&cfg, cli.config.as_deref());
            Ok(())
        }
        Cmd::Conformance(a) => return conformance(a),
        Cmd::Translate(a) => ncpeh::translate::cli::run(a).map_err(|e| e.to_string()),
        Cmd::Migrate => ncpeh::node::open_store(&cfg)
            .map(|s| {
                let n = s.migrate().unwrap_or(0);
                println!(
                    "database {} is up to date ({} migrations applied now)",
                    cfg.database_url(),
                    n
                );
            })
            .map_err(|e| e.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ncpeh: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `ncpeh config check` on a config that loaded: what the node would run with.
fn config_check(cfg: &Config, file: Option<&std::path::Path>) {
    match file {
        Some(f) => println!("config OK: {} and NCPEH_* variables", f.display()),
        None => println!("config OK: no file, defaults and NCPEH_* variables"),
    }
    for (key, value) in cfg.settings() {
        println!("{key} = {value}");
    }
}

/// Runs the test plans; exit code 0 only when every row passed.
fn conformance(a: ConformanceArgs) -> ExitCode {
    use ncpeh::conformance::{cli, wire::WireTransport};
    let args = cli::Args {
        testkit: a.testkit,
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
            eprintln!("ncpeh: {e}");
            return ExitCode::FAILURE;
        }
    };
    let _guard = rt.enter();
    // The runner is synchronous; the transport blocks on this runtime from the main thread.
    match cli::run(&args, |site| {
        WireTransport::new(site)
            .map(|t| Box::new(t) as Box<dyn ncpeh::conformance::transport::Transport>)
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
            eprintln!("ncpeh conformance: {e}");
            ExitCode::from(2)
        }
    }
}

fn serve(cfg: Config) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async move {
        let running = ncpeh::node::start(cfg).await.map_err(|e| e.to_string())?;
        // Tests and scripts read this line to learn the bound ports.
        println!(
            "ncpeh listening soap=https://{} admin=http://{} feed={}",
            running.soap,
            running.admin,
            running
                .feed
                .map(|f| f.to_string())
                .unwrap_or_else(|| "off".into())
        );
        tracing::info!(soap = %running.soap, admin = %running.admin, "node started");
        shutdown_signal().await;
        tracing::info!("shutting down");
        Ok(())
    })
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
