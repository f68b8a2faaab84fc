//! e-resept M1 -> eHDSI ePrescription pivot CDA L3.
use super::{Terminology, TranslateError, TranslationWarning};

#[derive(Debug, Clone, Default)]
pub struct EpOptions {}

#[derive(Debug, Clone)]
pub struct TranslatedEp {
    pub xml: String,
    pub prescription_id: String,
    pub event_codes: Vec<(String, String, String)>,
    pub warnings: Vec<TranslationWarning>,
}

pub fn eresept_to_ep(
    _xml: &[u8],
    _term: &Terminology,
    _opts: &EpOptions,
) -> Result<Vec<TranslatedEp>, TranslateError> {
    Err(TranslateError::MissingElement("not yet".into()))
}
