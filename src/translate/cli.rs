//! `ncpeh translate ...`: the conversions from the command line. Input is a file or `-` (stdin);
//! output goes to stdout or `--out`. Warnings go to stderr as codes and paths only.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{read_input, Terminology, TranslateError, TranslationWarning};

#[derive(clap::Args, Debug)]
pub struct TranslateArgs {
    /// Terminology directory overriding the built-in tables (valuesets.tsv, transcoding.tsv, ...)
    #[arg(long, env = "NCPEH_TERMINOLOGY_DIR", global = true)]
    pub terminology: Option<PathBuf>,
    #[command(subcommand)]
    pub cmd: TranslateCmd,
}

#[derive(clap::Subcommand, Debug)]
pub enum TranslateCmd {
    /// FHIR IPS document Bundle (JSON) -> eHDSI Patient Summary pivot CDA L3
    IpsToPs {
        /// input file, or - for stdin
        input: PathBuf,
        #[arg(long)]
        out: Option<PathBuf>,
        /// also write the L1 (PDF) variant next to --out as NAME.l1.xml (or after the L3 on stdout)
        #[arg(long)]
        l1: bool,
        /// document language when the Composition names none
        #[arg(long, default_value = "en-GB")]
        language: String,
    },
    /// e-resept M1 -> one eHDSI ePrescription pivot CDA per prescription
    EreseptToEp {
        input: PathBuf,
        /// output file; with several prescriptions, -1, -2 ... are added before the extension
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// eHDSI eDispensation pivot CDA -> Norwegian M10-shaped dispensing report
    EdToM10 {
        input: PathBuf,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Norwegian journal document (CDA L1, KITH epikrise, PDF, PNG, JPEG) -> eHDSI OrCD
    JournalToOrcd {
        input: PathBuf,
        /// OrCD class: 34105-7, 11502-2, 18748-4 or x-clinical-image (default: from the
        /// document's typeCode, orcd_classes.tsv)
        #[arg(long)]
        class: Option<String>,
        /// the patient (fødselsnummer, or a CX) for a PDF or picture, which names none
        #[arg(long)]
        patient: Option<String>,
        /// the patient's name as FAMILY^GIVEN (the patient index gives it on the node)
        #[arg(long)]
        patient_name: Option<String>,
        /// the patient's birth date, YYYYMMDD
        #[arg(long)]
        birth_date: Option<String>,
        /// the patient's gender: M or F
        #[arg(long)]
        gender: Option<String>,
        /// the author as in XDS metadata (XCN), e.g. 9144900^Lin^Rita^^^^^^&2.16.578.1.12.4.1.4.4&ISO
        #[arg(long)]
        author: Option<String>,
        /// the author's organisation as in XDS metadata (XON)
        #[arg(long)]
        organisation: Option<String>,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// foreign pivot PS/eP -> the same document with bokmål display names
    PivotToNb {
        input: PathBuf,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// foreign pivot PS/eP/eD/OrCD/HCER -> one self-contained HTML page to read in bokmål
    PivotToHtml {
        input: PathBuf,
        /// the page's language (only nb, bokmål, is written)
        #[arg(long, default_value = "nb")]
        lang: String,
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

fn write_out(out: Option<&Path>, text: &str) -> Result<(), TranslateError> {
    match out {
        Some(p) => std::fs::write(p, text)?,
        None => {
            let mut so = std::io::stdout().lock();
            so.write_all(text.as_bytes())?;
            so.write_all(b"\n")?;
        }
    }
    Ok(())
}

fn report(warnings: &[TranslationWarning]) {
    for w in warnings {
        eprintln!("warning: {:?} at {}: {}", w.kind, w.element, w.detail);
    }
}

fn numbered(out: &Path, n: usize) -> PathBuf {
    let stem = out
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = out
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    out.with_file_name(format!("{stem}-{n}{ext}"))
}

pub fn run(args: TranslateArgs) -> Result<(), TranslateError> {
    let loaded;
    let term: &Terminology = match &args.terminology {
        Some(dir) => {
            loaded = Terminology::load_dir(dir)?;
            &loaded
        }
        None => Terminology::builtin(),
    };
    match args.cmd {
        TranslateCmd::IpsToPs {
            input,
            out,
            l1,
            language,
        } => {
            let opts = super::PsOptions {
                l1,
                language,
                ..Default::default()
            };
            let t = super::ips_to_ps(&read_input(&input)?, term, &opts)?;
            report(&t.warnings);
            write_out(out.as_deref(), &t.xml)?;
            if let Some(l1x) = &t.l1_xml {
                match &out {
                    Some(p) => std::fs::write(p.with_extension("l1.xml"), l1x)?,
                    None => write_out(None, l1x)?,
                }
            }
        }
        TranslateCmd::EreseptToEp { input, out } => {
            let eps = super::eresept_to_ep(&read_input(&input)?, term, &Default::default())?;
            let many = eps.len() > 1;
            for (i, ep) in eps.iter().enumerate() {
                report(&ep.warnings);
                for (scheme, code, _) in &ep.event_codes {
                    eprintln!("eventCode: {scheme} {code}");
                }
                let path = match (&out, many) {
                    (Some(p), true) => Some(numbered(p, i + 1)),
                    (Some(p), false) => Some(p.clone()),
                    (None, _) => None,
                };
                write_out(path.as_deref(), &ep.xml)?;
            }
        }
        TranslateCmd::EdToM10 { input, out } => {
            let r = super::ed_to_m10(&read_input(&input)?, term)?;
            report(&r.warnings);
            write_out(out.as_deref(), &r.xml)?;
        }
        TranslateCmd::JournalToOrcd {
            input,
            class,
            patient,
            patient_name,
            birth_date,
            gender,
            author,
            organisation,
            out,
        } => {
            let data = read_input(&input)?;
            let class = match class {
                Some(c) => super::OrcdClass::from_code(&c).ok_or_else(|| {
                    TranslateError::InvalidValue {
                        element: "--class".into(),
                        reason: format!("{c} is not an OrCD class (34105-7, 11502-2, 18748-4, x-clinical-image)"),
                    }
                })?,
                None => super::orcd::class_of_document(&data, term)?.ok_or_else(|| {
                    TranslateError::InvalidValue {
                        element: "--class".into(),
                        reason: "the document's type has no OrCD class; give --class".into(),
                    }
                })?,
            };
            let mut base =
                super::orcd::Facts::for_cli(patient.as_deref(), &crate::xds::time::now_dtm());
            if let Some((family, given)) = patient_name.as_deref().and_then(|n| n.split_once('^')) {
                base.patient.family = Some(family.trim().to_string());
                base.patient.given = Some(given.trim().to_string());
            }
            base.patient.birth = birth_date.or(base.patient.birth);
            base.patient.gender = gender.or(base.patient.gender);
            if let Some(a) = author.as_deref() {
                base.author = super::orcd::xcn(a);
            }
            if let Some(o) = organisation.as_deref() {
                base.author_org = super::orcd::xon(o);
                base.custodian = base.author_org.clone();
            }
            let o = super::journal_to_orcd(&super::OrcdSource {
                data: &data,
                class,
                base,
            })?;
            eprintln!("class: {} format: {}", o.class.code(), o.format_code);
            write_out(out.as_deref(), &o.xml)?;
        }
        TranslateCmd::PivotToNb { input, out } => {
            let r = super::pivot_to_nb(&read_input(&input)?, term)?;
            report(&r.warnings);
            write_out(out.as_deref(), &r.xml)?;
        }
        TranslateCmd::PivotToHtml { input, lang, out } => {
            let page = super::pivot_to_html(&read_input(&input)?, term, &lang)?;
            write_out(out.as_deref(), &page)?;
        }
    }
    Ok(())
}
