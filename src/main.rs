//! The ncpeh command line.

use clap::{Args, Parser, Subcommand};
use ncpeh::config::Config;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

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
    /// The load generator: fill a registry, drive a workload, compare with the raw store.
    Bench {
        #[command(subcommand)]
        cmd: ncpeh::bench::BenchCmd,
    },
    /// Registered documents: the operator's changes (audited).
    Document {
        #[command(subcommand)]
        cmd: ncpeh::registry::operator::DocumentCmd,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// The configuration (file and NCPEH_* variables).
    Config {
        #[command(subcommand)]
        cmd: ConfigCmd,
    },
    /// Replay NIST XDS Toolkit test plans against any XDS endpoint (runs ncpeh-conformance).
    Conformance(ConformanceArgs),
    /// Convert between Norwegian documents and the eHDSI pivot CDA.
    Translate(ncpeh::translate::cli::TranslateArgs),
    /// The ATNA audit trail: verify its hash chain, list who looked at what.
    Audit {
        #[command(subcommand)]
        cmd: ncpeh::audit::cli::AuditCmd,
    },
    /// The configured peer communities: check that each is reachable.
    Peers {
        #[command(subcommand)]
        cmd: ncpeh::gateway::peer_check::PeersCmd,
    },
    /// XUA SAML assertions: check one offline, or issue test assertions.
    Xua {
        #[command(subcommand)]
        cmd: ncpeh::trust::cli::XuaCmd,
    },
}

/// Everything after `conformance` goes to `ncpeh-conformance` unchanged.
#[derive(Args)]
struct ConformanceArgs {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<std::ffi::OsString>,
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
    /// Issue the dev CA's CRL (<dir>/crl.pem) again, adding --revoke certificates; name it in
    /// [tls] crl_files and send the node SIGHUP.
    Crl {
        /// The PKI directory (default: <data_dir>/pki).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// A certificate (PEM) to list as revoked; repeatable.
        #[arg(long)]
        revoke: Vec<PathBuf>,
        /// Days until nextUpdate: past it the node refuses the CA's clients.
        #[arg(long, default_value_t = 30)]
        days: i64,
    },
    /// A client certificate from the dev CA for another Norwegian organisation (a second
    /// health trust, say): <dir>/<NAME>.pem and <dir>/<NAME>.key.
    Client {
        name: String,
        /// The organisation (certificate CN and O).
        #[arg(long)]
        org: String,
        /// The PKI directory (default: <data_dir>/pki).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// A new key and server certificate from the dev CA; send the node SIGHUP to use them.
    RenewServer {
        /// The PKI directory (default: <data_dir>/pki).
        #[arg(long)]
        dir: Option<PathBuf>,
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
    /// Record (--deny ehdsi) or take back (--allow ehdsi) a patient's refusal of the eHDSI
    /// exchange: no XCPD match, no PS/eP and no documents for foreign contact points.
    Consent(PatientConsent),
}

#[derive(Args)]
struct PatientConsent {
    /// The patient: 'ID^^^&OID&ISO'.
    pid: String,
    #[command(flatten)]
    change: ConsentChange,
}

#[derive(Args)]
#[group(required = true, multiple = false)]
struct ConsentChange {
    /// The exchange the patient refuses.
    #[arg(long, value_parser = ["ehdsi"])]
    deny: Option<String>,
    /// The exchange the patient allows again.
    #[arg(long, value_parser = ["ehdsi"])]
    allow: Option<String>,
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
        Cmd::Pki {
            cmd: PkiCmd::Crl { dir, revoke, days },
        } => ncpeh::pki::ca::issue_crl(&dir.unwrap_or_else(|| cfg.pki_dir()), &revoke, days)
            .map(|c| {
                println!(
                    "CRL #{} with {} revoked certificate(s) written to {}; valid until {}",
                    c.number,
                    c.revoked,
                    c.path.display(),
                    c.next_update
                )
            })
            .map_err(|e| e.to_string()),
        Cmd::Pki {
            cmd: PkiCmd::Client { name, org, dir },
        } => ncpeh::pki::ca::issue_client(&dir.unwrap_or_else(|| cfg.pki_dir()), &name, &org)
            .map(|p| println!("client certificate {}", p.display()))
            .map_err(|e| e.to_string()),
        Cmd::Pki {
            cmd: PkiCmd::RenewServer { dir },
        } => ncpeh::pki::ca::renew_server(&dir.unwrap_or_else(|| cfg.pki_dir()))
            .map(|p| println!("new server key and certificate in {}", p.dir.display()))
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
        Cmd::Patient {
            cmd: PatientCmd::Consent(c),
        } => match (c.change.deny, c.change.allow) {
            (Some(scope), _) => ncpeh::cli::patient_consent(&cfg, &c.pid, &scope, true),
            (_, Some(scope)) => ncpeh::cli::patient_consent(&cfg, &c.pid, &scope, false),
            (None, None) => Err("give --deny or --allow".into()),
        },
        Cmd::Config {
            cmd: ConfigCmd::Check,
        } => {
            config_check(&cfg, cli.config.as_deref());
            Ok(())
        }
        Cmd::Conformance(a) => return conformance(a),
        Cmd::Translate(a) => ncpeh::translate::cli::run(a).map_err(|e| e.to_string()),
        Cmd::Audit { cmd } => return ncpeh::audit::cli::run(&cfg, cmd),
        Cmd::Document { cmd } => return ncpeh::registry::operator::run(&cfg, cmd),
        Cmd::Bench { cmd } => return ncpeh::bench::run(&cfg, cmd),
        Cmd::Xua { cmd } => return ncpeh::trust::cli::run(&cfg, cmd),
        Cmd::Peers { cmd } => return ncpeh::gateway::peer_check::run(&cfg, cmd),
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

/// The runner is its own program (the server never links it); this runs the one built beside
/// this binary, with its exit code.
fn conformance(a: ConformanceArgs) -> ExitCode {
    let runner = std::env::current_exe()
        .map(|p| p.with_file_name("ncpeh-conformance"))
        .unwrap_or_else(|_| PathBuf::from("ncpeh-conformance"));
    match std::process::Command::new(&runner).args(&a.args).status() {
        Ok(s) => ExitCode::from(s.code().and_then(|c| u8::try_from(c).ok()).unwrap_or(2)),
        Err(e) => {
            eprintln!(
                "ncpeh conformance: cannot run {}: {e} (build it with `cargo build -p ncpeh-conformance`)",
                runner.display()
            );
            ExitCode::from(2)
        }
    }
}

fn serve(cfg: Config) -> Result<(), String> {
    let grace = cfg.server.shutdown_grace;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let admin_scheme = if cfg.server.admin_tls {
        "https"
    } else {
        "http"
    };
    let served = rt.block_on(async move {
        let running = ncpeh::node::start(cfg).await.map_err(|e| e.to_string())?;
        // Tests and scripts read this line to learn the bound ports.
        println!(
            "ncpeh listening soap=https://{} admin={admin_scheme}://{} feed={}",
            running.soap,
            running.admin,
            running
                .feed
                .map(|f| f.to_string())
                .unwrap_or_else(|| "off".into())
        );
        tracing::info!(soap = %running.soap, admin = %running.admin, "node started");
        shutdown_signal().await;
        running.shutdown(grace).await;
        Ok(())
    });
    // Work still running after the grace period (a request cut in its database transaction) is
    // not waited for: the process exits and the database rolls that transaction back.
    rt.shutdown_timeout(Duration::from_secs(1));
    served
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
