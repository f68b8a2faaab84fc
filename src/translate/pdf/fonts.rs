//! The two faces the renderer uses (DejaVu Sans regular and bold), read from a directory once per
//! process, with the per-character glyph and advance table that both measuring and drawing use,
//! so that a line measured to fit is drawn exactly that wide.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use krilla::text::{GlyphId, KrillaGlyph};
use skrifa::instance::{LocationRef, Size};
use skrifa::MetadataProvider;

use super::PdfError;

/// Directory read when `NCPEH_PDF_FONTS` is not set (Debian package `fonts-dejavu-core`).
pub const DEFAULT_DIR: &str = "/usr/share/fonts/truetype/dejavu";
pub const REGULAR_FILE: &str = "DejaVuSans.ttf";
pub const BOLD_FILE: &str = "DejaVuSans-Bold.ttf";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Regular,
    Bold,
}

/// One font file: the krilla font (embedded and subsetted on output) and, per character, its
/// glyph and advance in em.
pub struct Face {
    pub font: krilla::text::Font,
    glyphs: HashMap<char, (u32, f32)>,
    /// '?' for characters the font has no glyph for.
    missing: (u32, f32),
}

pub struct Fonts {
    pub regular: Face,
    pub bold: Face,
}

impl Face {
    fn load(path: &Path) -> Result<Face, PdfError> {
        let bad = |reason: String| PdfError::Font {
            path: path.to_path_buf(),
            reason,
        };
        let bytes = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
        let data = Arc::new(bytes);
        let glyphs = {
            let f = skrifa::FontRef::new(&data).map_err(|e| bad(format!("not a font: {e}")))?;
            let upem = f
                .metrics(Size::unscaled(), LocationRef::default())
                .units_per_em;
            if upem == 0 {
                return Err(bad("no units per em".into()));
            }
            let metrics = f.glyph_metrics(Size::unscaled(), LocationRef::default());
            let mut glyphs = HashMap::new();
            for (cp, gid) in f.charmap().mappings() {
                if let (Some(c), Some(adv)) = (char::from_u32(cp), metrics.advance_width(gid)) {
                    glyphs.insert(c, (gid.to_u32(), adv / f32::from(upem)));
                }
            }
            glyphs
        };
        let missing = *glyphs
            .get(&'?')
            .ok_or_else(|| bad("no glyph for '?'".into()))?;
        if !glyphs.contains_key(&' ') {
            return Err(bad("no glyph for the space".into()));
        }
        let font = krilla::text::Font::new(data.into(), 0)
            .ok_or_else(|| bad("krilla cannot read it".into()))?;
        Ok(Face {
            font,
            glyphs,
            missing,
        })
    }

    pub fn has(&self, c: char) -> bool {
        self.glyphs.contains_key(&c)
    }

    fn glyph(&self, c: char) -> (u32, f32) {
        self.glyphs.get(&c).copied().unwrap_or(self.missing)
    }

    /// Width of `s` in points at `size`.
    pub fn width(&self, s: &str, size: f32) -> f32 {
        s.chars().map(|c| self.glyph(c).1).sum::<f32>() * size
    }

    /// One glyph per character, each mapped back to its character (for text extraction).
    pub fn glyphs(&self, s: &str) -> Vec<KrillaGlyph> {
        s.char_indices()
            .map(|(i, c)| {
                let (gid, adv) = self.glyph(c);
                KrillaGlyph::new(
                    GlyphId::new(gid),
                    adv,
                    0.0,
                    0.0,
                    0.0,
                    i..i + c.len_utf8(),
                    None,
                )
            })
            .collect()
    }
}

impl Fonts {
    /// Reads both faces from `dir`.
    pub fn load(dir: &Path) -> Result<Fonts, PdfError> {
        Ok(Fonts {
            regular: Face::load(&dir.join(REGULAR_FILE))?,
            bold: Face::load(&dir.join(BOLD_FILE))?,
        })
    }

    pub fn face(&self, style: Style) -> &Face {
        match style {
            Style::Regular => &self.regular,
            Style::Bold => &self.bold,
        }
    }

    /// `s` as the faces can draw it: tabs become spaces, other control and byte-order characters
    /// are dropped, and characters either face lacks become '?' (PDF/A forbids no glyph, but a
    /// `.notdef` box tells the reader nothing).
    pub fn clean(&self, s: &str) -> String {
        s.chars()
            .filter_map(|c| match c {
                '\t' => Some(' '),
                '\u{feff}' | '\u{fffe}' | '\u{ad}' => None,
                c if c.is_control() => None,
                c if self.regular.has(c) && self.bold.has(c) => Some(c),
                _ => Some('?'),
            })
            .collect()
    }
}

/// The font directory: `NCPEH_PDF_FONTS`, else [`DEFAULT_DIR`].
pub fn dir() -> PathBuf {
    std::env::var_os("NCPEH_PDF_FONTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DIR))
}

static SHARED: OnceLock<Fonts> = OnceLock::new();

/// The process's fonts, read on first use. A failure is not remembered, so fonts installed
/// after a failed attempt are found by the next one.
pub fn shared() -> Result<&'static Fonts, PdfError> {
    if let Some(f) = SHARED.get() {
        return Ok(f);
    }
    let loaded = Fonts::load(&dir())?;
    Ok(SHARED.get_or_init(|| loaded))
}
