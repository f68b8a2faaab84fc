//! Foreign pivot CDA -> same document with bokmål display names.
use super::{Terminology, TranslateError, Translated};

pub fn pivot_to_nb(_xml: &[u8], _term: &Terminology) -> Result<Translated, TranslateError> {
    Err(TranslateError::MissingElement("not yet".into()))
}
