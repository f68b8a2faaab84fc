//! eHDSI eDispensation pivot -> Norwegian M10-shaped dispensing report.
use super::{Terminology, TranslateError, TranslationWarning};

#[derive(Debug, Clone)]
pub struct M10Report {
    pub xml: String,
    pub prescription_id: String,
    pub warnings: Vec<TranslationWarning>,
}

pub fn ed_to_m10(_xml: &[u8], _term: &Terminology) -> Result<M10Report, TranslateError> {
    Err(TranslateError::MissingElement("not yet".into()))
}
