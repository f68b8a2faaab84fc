//! The four eHDSI Original Clinical Document kinds, and which Norwegian documents become which.

use crate::translate::terminology::Terminology;

/// An OrCD document class (its LOINC classCode, or eHDSI's `x-clinical-image`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrcdClass {
    DischargeReport,
    LabResult,
    ImagingReport,
    Images,
}

/// Whether a source is a report (PDF or a structured document) or a picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Media {
    Report,
    Image,
}

impl Media {
    pub fn of_mime(mime: &str) -> Media {
        match mime.split(';').next().unwrap_or("").trim() {
            "image/png" | "image/jpeg" | "image/jpg" => Media::Image,
            _ => Media::Report,
        }
    }
}

impl OrcdClass {
    pub const ALL: [OrcdClass; 4] = [
        OrcdClass::DischargeReport,
        OrcdClass::LabResult,
        OrcdClass::ImagingReport,
        OrcdClass::Images,
    ];

    /// The classCode (and the CDA's document code).
    pub fn code(self) -> &'static str {
        match self {
            OrcdClass::DischargeReport => "34105-7",
            OrcdClass::LabResult => "11502-2",
            OrcdClass::ImagingReport => "18748-4",
            OrcdClass::Images => "x-clinical-image",
        }
    }

    pub fn from_code(code: &str) -> Option<OrcdClass> {
        OrcdClass::ALL.into_iter().find(|c| c.code() == code)
    }

    /// The eHDSI document templateId.
    pub fn template(self) -> &'static str {
        match self {
            OrcdClass::DischargeReport => "1.3.6.1.4.1.12559.11.10.1.3.1.1.9",
            OrcdClass::LabResult => "1.3.6.1.4.1.12559.11.10.1.3.1.1.8",
            OrcdClass::ImagingReport => "1.3.6.1.4.1.12559.11.10.1.3.1.1.10",
            OrcdClass::Images => "1.3.6.1.4.1.12559.11.10.1.3.1.1.11",
        }
    }

    /// The document code's displayName, as eHDSI gives it.
    pub fn display(self) -> &'static str {
        match self {
            OrcdClass::DischargeReport => "Hospital Discharge summary",
            OrcdClass::LabResult => "Laboratory report",
            OrcdClass::ImagingReport => "Diagnostic imaging study",
            OrcdClass::Images => "Medical Images",
        }
    }

    /// A title for documents that carry none.
    pub fn title(self) -> &'static str {
        match self {
            OrcdClass::DischargeReport => "Hospital Discharge Report",
            OrcdClass::LabResult => "Laboratory Result Report",
            OrcdClass::ImagingReport => "Medical Imaging Report",
            OrcdClass::Images => "Medical Images",
        }
    }

    /// The eHDSI formatCodes that documents of this class are offered in.
    pub fn format_codes(self) -> &'static [&'static str] {
        match self {
            OrcdClass::Images => &[FORMAT_PNG, FORMAT_JPEG],
            _ => &[FORMAT_PDF],
        }
    }

    pub fn media(self) -> Media {
        match self {
            OrcdClass::Images => Media::Image,
            _ => Media::Report,
        }
    }
}

pub const FORMAT_PDF: &str = "urn:eHDSI:orcd:pdf:2021";
pub const FORMAT_PNG: &str = "urn:eHDSI:orcd:png:2021";
pub const FORMAT_JPEG: &str = "urn:eHDSI:orcd:jpeg:2021";

/// The formatCode of an OrCD whose body has this media type.
pub fn format_for(media_type: &str) -> &'static str {
    match media_type {
        "image/png" | "application/png" => FORMAT_PNG,
        "image/jpeg" | "application/jpeg" => FORMAT_JPEG,
        _ => FORMAT_PDF,
    }
}

/// The OrCD class of a Norwegian document, by its typeCode (Volven 9602 in the built-in table,
/// `orcd_classes.tsv`) and whether it is a picture or a report; None when it has none.
pub fn class_of(
    term: &Terminology,
    system: &str,
    type_code: &str,
    media: Media,
) -> Option<OrcdClass> {
    classes_of_type(term, system, type_code).find(|c| c.media() == media)
}

/// Every OrCD class a document type may be given as.
pub fn classes_of_type<'a>(
    term: &'a Terminology,
    system: &str,
    type_code: &str,
) -> impl Iterator<Item = OrcdClass> + 'a {
    term.orcd_classes(system, type_code)
        .iter()
        .filter_map(|c| OrcdClass::from_code(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_and_the_classes_agree() {
        let codes: Vec<&str> = OrcdClass::ALL.iter().map(|c| c.code()).collect();
        assert_eq!(codes, crate::translate::terminology::ORCD_CLASS_CODES);
        let t = Terminology::builtin();
        let volven = "2.16.578.1.12.4.1.1.9602";
        assert_eq!(
            class_of(t, volven, "A03-2", Media::Report),
            Some(OrcdClass::DischargeReport)
        );
        assert_eq!(
            class_of(t, volven, "E01-2", Media::Image),
            Some(OrcdClass::Images)
        );
        assert_eq!(
            class_of(t, volven, "E01-2", Media::Report),
            Some(OrcdClass::ImagingReport)
        );
        // a picture filed as a lab result is neither
        assert_eq!(class_of(t, volven, "C01-2", Media::Image), None);
        assert_eq!(class_of(t, volven, "A01-2", Media::Report), None);
    }
}
