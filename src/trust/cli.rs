//! `ncpeh xua verify` (an operator checks an assertion offline, check by check) and
//! `ncpeh xua issue` (testers make assertions, good ones and the defective variants).

use super::anchors::{load_crls, Anchors};
use super::xua::{self, Check, Settings};
use crate::config::Config;
use crate::saml::issue::{ehdsi_security, Defect, Professional, Signer};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use time::OffsetDateTime;

#[derive(Subcommand)]
pub enum XuaCmd {
    /// Check every assertion of FILE (an Assertion, a wsse:Security header, a SOAP Header or a
    /// whole envelope) and say which check passes and which fails. Exit 0 only if all pass.
    Verify(VerifyArgs),
    /// Write a wsse:Security header with a signed HCP assertion and, with --patient, a TRC.
    Issue(IssueArgs),
}

#[derive(Args)]
pub struct VerifyArgs {
    pub file: PathBuf,
    /// PEM file of the issuer certificates to trust (default: [xua] national_issuers).
    #[arg(long)]
    pub trust: Option<PathBuf>,
    /// Verify as at this time (RFC 3339), e.g. for an assertion captured in a log.
    #[arg(long)]
    pub at: Option<String>,
    /// An audience to accept besides the node's own.
    #[arg(long)]
    pub audience: Vec<String>,
}

#[derive(Args)]
pub struct IssueArgs {
    #[arg(long)]
    pub issuer_cert: PathBuf,
    #[arg(long)]
    pub issuer_key: PathBuf,
    #[arg(long)]
    pub out: PathBuf,
    /// The health professional's country (XSPA locality).
    #[arg(long)]
    pub country: Option<String>,
    #[arg(long, default_value = "Dr. Test Testesen")]
    pub subject: String,
    /// ISCO-08 role code (221 doctor, 2262 pharmacist).
    #[arg(long, default_value = "221")]
    pub role: String,
    #[arg(long, default_value = "TREATMENT", value_parser = ["TREATMENT", "EMERGENCY"])]
    pub purpose: String,
    /// eHDSI permissions (default: all of them).
    #[arg(long, value_delimiter = ',')]
    pub permissions: Vec<String>,
    /// The patient ('ID^^^&OID&ISO'): adds a TRC assertion for them.
    #[arg(long)]
    pub patient: Option<String>,
    #[arg(long, default_value_t = 300)]
    pub valid_for: i64,
    /// Audiences of the assertion (default: none, any service provider).
    #[arg(long)]
    pub audience: Vec<String>,
    /// Make one of the XUA-VARIANTS.txt defects (expired, unsigned, secondrole, ...).
    #[arg(long)]
    pub defect: Option<String>,
}

pub fn run(cfg: &Config, cmd: XuaCmd) -> ExitCode {
    let result = match cmd {
        XuaCmd::Verify(a) => verify(cfg, &a),
        XuaCmd::Issue(a) => issue(&a).map(|()| ExitCode::SUCCESS),
    };
    result.unwrap_or_else(|e| {
        eprintln!("ncpeh xua: {e}");
        ExitCode::from(2)
    })
}

fn line(c: &Check) -> String {
    match &c.result {
        Ok(()) => format!("  PASS {}", c.name),
        Err((_, why)) => format!("  FAIL {}: {why}", c.name),
    }
}

fn verify(cfg: &Config, a: &VerifyArgs) -> Result<ExitCode, String> {
    let text =
        std::fs::read_to_string(&a.file).map_err(|e| format!("{}: {e}", a.file.display()))?;
    let at = match &a.at {
        Some(t) => xua::instant(t).ok_or_else(|| format!("--at {t}: not an RFC 3339 time"))?,
        None => OffsetDateTime::now_utc(),
    };
    let trust = a.trust.clone().or_else(|| cfg.national_issuers_path());
    let crls = load_crls(&cfg.xua.crls).map_err(|e| e.to_string())?;
    let anchors = match &trust {
        Some(p) => Anchors::load("trusted issuers", p, crls).map_err(|e| e.to_string())?,
        None => Anchors::empty("trusted issuers"),
    };
    let mut audiences = a.audience.clone();
    audiences.push(cfg.node.home_community_id.clone());
    audiences.push(cfg.public_url());
    let settings = Settings {
        clock_skew: time::Duration::try_from(cfg.xua.clock_skew).unwrap_or(time::Duration::MINUTE),
        audiences,
    };
    let report = xua::verify_header(&text, &anchors, &settings, at);
    for c in &report.checks {
        println!("{}", line(c));
    }
    if report.assertions.is_empty() {
        println!("no SAML 2.0 assertion found in {}", a.file.display());
        return Ok(ExitCode::FAILURE);
    }
    for checked in &report.assertions {
        let id = checked.assertion.id.as_deref().unwrap_or("(no ID)");
        let issuer = checked
            .assertion
            .issuer
            .as_ref()
            .map_or("(no issuer)", |i| i.value.as_str());
        println!("assertion {id} from {issuer}:");
        for c in &checked.checks {
            println!("{}", line(c));
        }
    }
    Ok(match report.failure() {
        None => {
            println!("all {} assertion(s) pass", report.assertions.len());
            ExitCode::SUCCESS
        }
        Some(_) => ExitCode::FAILURE,
    })
}

fn issue(a: &IssueArgs) -> Result<(), String> {
    let signer = Signer::from_files(&a.issuer_cert, &a.issuer_key).map_err(|e| e.to_string())?;
    let defect = a
        .defect
        .as_deref()
        .map(Defect::parse)
        .transpose()
        .map_err(|e| e.to_string())?;
    let mut who = Professional {
        subject: a.subject.clone(),
        role: a.role.clone(),
        purpose: a.purpose.clone(),
        audiences: a.audience.clone(),
        valid_secs: a.valid_for,
        ..Professional::default()
    };
    if !a.permissions.is_empty() {
        who.permissions = a.permissions.clone();
    }
    if let Some(c) = &a.country {
        who.locality = Some(c.clone());
    }
    let xml = ehdsi_security(
        &signer,
        &who,
        a.patient.as_deref(),
        defect,
        OffsetDateTime::now_utc(),
    )
    .map_err(|e| e.to_string())?;
    std::fs::write(&a.out, xml).map_err(|e| format!("{}: {e}", a.out.display()))?;
    println!("wrote {}", a.out.display());
    Ok(())
}
