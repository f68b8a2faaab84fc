//! `ncpeh conformance` minus argument parsing and the wire: the binary maps its clap
//! arguments onto [`Args`], builds a [`Transport`] from the loaded [`Site`], and exits
//! non-zero unless [`Outcome::all_passed`].

use std::path::PathBuf;

use super::report::RunReport;
use super::runner::{select_tests, RunError, RunOptions, Runner};
use super::site::{Site, SiteError};
use super::testkit::{Testkit, TESTKIT_ENV};
use super::transport::Transport;

#[derive(Debug, Clone, Default)]
pub struct Args {
    /// The testkit root (holding `testkit/`), or its `testkit/` directory.
    pub testkit: PathBuf,
    /// Further testkits of the same layout whose tests join the first's (the MHD plans).
    pub more_testkits: Vec<PathBuf>,
    pub site: PathBuf,
    /// ca.pem, client.pem, client.key here override the site file's TLS paths.
    pub pki: Option<PathBuf>,
    pub collections: Vec<String>,
    pub tests: Vec<String>,
    pub junit: Option<PathBuf>,
    /// Write the toolkit-style step logs here (`<test>/<section>/log.xml`).
    pub logs: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("no NIST testkit at {0} (point --testkit or {TESTKIT_ENV} at shared/conformance/nist-testkit)")]
    NoTestkit(String),
    #[error(transparent)]
    Site(#[from] SiteError),
    #[error("no tests selected: give --collections or --tests")]
    NothingSelected,
    #[error("transport: {0}")]
    Transport(String),
    #[error(transparent)]
    Run(#[from] RunError),
    #[error("{0}: {1}")]
    Write(String, std::io::Error),
}

pub struct Outcome {
    pub report: RunReport,
}

impl Outcome {
    pub fn all_passed(&self) -> bool {
        self.report.all_passed()
    }
}

/// Load the testkit and site, run, write JUnit/logs; the table is for the caller to print.
pub fn run<F>(args: &Args, make_transport: F) -> Result<Outcome, CliError>
where
    F: FnOnce(&Site) -> Result<Box<dyn Transport>, String>,
{
    let mut tk = Testkit::open(&args.testkit)
        .ok_or_else(|| CliError::NoTestkit(args.testkit.display().to_string()))?;
    for more in &args.more_testkits {
        tk.add(more)
            .ok_or_else(|| CliError::NoTestkit(more.display().to_string()))?;
    }
    let mut site = Site::load(&args.site)?;
    if let Some(dir) = &args.pki {
        site = site.with_pki_dir(dir);
    }
    let tests = select_tests(&tk, &args.collections, &args.tests);
    if tests.is_empty() {
        return Err(CliError::NothingSelected);
    }
    let transport = make_transport(&site).map_err(CliError::Transport)?;
    let mut runner = Runner::new(tk, site, transport.as_ref())?.with_options(RunOptions::default());
    runner.run(&tests);
    if let Some(dir) = &args.logs {
        runner
            .logs()
            .write_all(dir)
            .map_err(|e| CliError::Write(dir.display().to_string(), e))?;
    }
    let report = runner.into_report();
    if let Some(p) = &args.junit {
        std::fs::write(p, report.junit())
            .map_err(|e| CliError::Write(p.display().to_string(), e))?;
    }
    Ok(Outcome { report })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_testkit_is_named_clearly() {
        let args = Args {
            testkit: PathBuf::from("/nonexistent/nist-testkit"),
            site: PathBuf::from("conformance/site-local.toml"),
            ..Default::default()
        };
        let err = run(&args, |_| Err("unused".into())).err().unwrap();
        assert!(err.to_string().contains(TESTKIT_ENV), "{err}");
    }
}
