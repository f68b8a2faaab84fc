//! Blocks to positioned lines on A4 pages: word wrapping by glyph advances, page breaks, tables
//! (rows kept whole on a page when they fit one, the header repeated), page numbers. Nothing
//! here knows krilla; the pages are drawn by the module above.

use super::fonts::{Fonts, Style};
use super::{Block, PdfDoc};

pub const PAGE_W: f32 = 595.28;
pub const PAGE_H: f32 = 841.89;
pub const MARGIN: f32 = 50.0;
pub const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN;
const BOTTOM: f32 = PAGE_H - MARGIN;
/// Baseline of the page number, inside the bottom margin.
const FOOTER_Y: f32 = PAGE_H - 28.0;
/// Cell padding: left/right and top/bottom.
const PAD: f32 = 3.0;
const VPAD: f32 = 2.0;

/// A face, a size and the height of one line.
#[derive(Debug, Clone, Copy)]
pub struct Type {
    pub style: Style,
    pub size: f32,
    pub leading: f32,
}

const TITLE: Type = Type {
    style: Style::Bold,
    size: 16.0,
    leading: 20.0,
};
const HEADING: Type = Type {
    style: Style::Bold,
    size: 13.0,
    leading: 17.0,
};
const BODY: Type = Type {
    style: Style::Regular,
    size: 10.0,
    leading: 13.0,
};
const BODY_BOLD: Type = Type {
    style: Style::Bold,
    ..BODY
};
const FOOTER: Type = Type {
    style: Style::Regular,
    size: 8.0,
    leading: 10.0,
};

/// What a page holds, in points from the top left corner.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// One line of text; `y` is its baseline.
    Text {
        x: f32,
        y: f32,
        style: Style,
        size: f32,
        text: String,
    },
    /// A horizontal line.
    Rule {
        x1: f32,
        x2: f32,
        y: f32,
        width: f32,
    },
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page {
    pub ops: Vec<Op>,
}

/// Lines of one paragraph of `text` (no '\n'; cleaned by [`Fonts::clean`]) no wider than `width`:
/// broken at spaces, and a word wider than a line broken between characters.
pub fn wrap(fonts: &Fonts, t: Type, text: &str, width: f32) -> Vec<String> {
    let face = fonts.face(t.style);
    // Widths add up glyph by glyph, so each word and character is measured once: a long text
    // costs time in proportion to its length.
    let space = face.width(" ", t.size);
    let mut lines = Vec::new();
    let mut cur = String::new();
    let mut cur_w = 0.0f32;
    for word in text.split_whitespace() {
        let word_w = face.width(word, t.size);
        if !cur.is_empty() {
            if cur_w + space + word_w <= width {
                cur.push(' ');
                cur.push_str(word);
                cur_w += space + word_w;
                continue;
            }
            lines.push(std::mem::take(&mut cur));
            cur_w = 0.0;
        }
        if word_w <= width {
            cur.push_str(word);
            cur_w = word_w;
            continue;
        }
        // a word longer than the line: as many characters as fit, at least one per line
        for c in word.chars() {
            let mut buf = [0u8; 4];
            let c_w = face.width(c.encode_utf8(&mut buf), t.size);
            if cur.is_empty() || cur_w + c_w <= width {
                cur.push(c);
                cur_w += c_w;
            } else {
                lines.push(std::mem::replace(&mut cur, c.to_string()));
                cur_w = c_w;
            }
        }
    }
    if !cur.is_empty() || lines.is_empty() {
        lines.push(cur);
    }
    lines
}

/// [`wrap`] for text that may hold '\n' (each starts a new line) and is not yet cleaned.
fn wrap_text(fonts: &Fonts, t: Type, text: &str, width: f32) -> Vec<String> {
    text.split('\n')
        .flat_map(|piece| wrap(fonts, t, &fonts.clean(piece), width))
        .collect()
}

/// Lays out the document: the title at the top of page 1, the blocks, then "n / N" on each page.
pub fn layout(doc: &PdfDoc, fonts: &Fonts) -> Vec<Page> {
    let mut f = Flow {
        fonts,
        pages: vec![Page::default()],
        y: MARGIN,
    };
    if !doc.title.trim().is_empty() {
        f.text(TITLE, &doc.title, MARGIN, CONTENT_W);
        f.gap(8.0);
    }
    for b in &doc.blocks {
        match b {
            Block::Heading(s) => f.heading(HEADING, s, 12.0),
            Block::Subheading(s) => f.heading(BODY_BOLD, s, 6.0),
            Block::Paragraph(s) => {
                f.text(BODY, s, MARGIN, CONTENT_W);
                f.gap(4.0);
            }
            Block::Field(label, value) => f.field(label, value),
            Block::Table { header, rows } => f.table(header, rows),
        }
    }
    let n = f.pages.len();
    for (i, p) in f.pages.iter_mut().enumerate() {
        let text = format!("{} / {n}", i + 1);
        let w = fonts.face(FOOTER.style).width(&text, FOOTER.size);
        p.ops.push(Op::Text {
            x: (PAGE_W - w) / 2.0,
            y: FOOTER_Y,
            style: FOOTER.style,
            size: FOOTER.size,
            text,
        });
    }
    f.pages
}

/// The pages so far and the top of the next line on the last one.
struct Flow<'a> {
    fonts: &'a Fonts,
    pages: Vec<Page>,
    y: f32,
}

impl Flow<'_> {
    fn ops(&mut self) -> &mut Vec<Op> {
        if self.pages.is_empty() {
            self.pages.push(Page::default());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last].ops
    }

    fn at_top(&self) -> bool {
        self.y <= MARGIN
    }

    fn new_page(&mut self) {
        self.pages.push(Page::default());
        self.y = MARGIN;
    }

    /// Starts a new page unless `h` more points fit on this one (or it is still empty).
    fn room(&mut self, h: f32) {
        if self.y + h > BOTTOM && !self.at_top() {
            self.new_page();
        }
    }

    /// Vertical space, dropped at the top of a page.
    fn gap(&mut self, h: f32) {
        if !self.at_top() {
            self.y += h;
        }
    }

    fn put(&mut self, x: f32, baseline: f32, t: Type, text: String) {
        if !text.is_empty() {
            self.ops().push(Op::Text {
                x,
                y: baseline,
                style: t.style,
                size: t.size,
                text,
            });
        }
    }

    fn line(&mut self, x: f32, t: Type, text: String) {
        self.room(t.leading);
        let baseline = self.y + t.size;
        self.put(x, baseline, t, text);
        self.y += t.leading;
    }

    fn text(&mut self, t: Type, text: &str, x: f32, width: f32) {
        for l in wrap_text(self.fonts, t, text, width) {
            self.line(x, t, l);
        }
    }

    /// A heading kept on the page of the line that follows it.
    fn heading(&mut self, t: Type, text: &str, before: f32) {
        let lines = wrap_text(self.fonts, t, text, CONTENT_W);
        self.gap(before);
        self.room(lines.len() as f32 * t.leading + BODY.leading);
        for l in lines {
            self.line(MARGIN, t, l);
        }
        self.gap(2.0);
    }

    /// "label: value": the value beside the bold label, its lines indented to it; below the label
    /// when the label takes more than 40% of the line.
    fn field(&mut self, label: &str, value: &str) {
        let label = format!("{}: ", self.fonts.clean(label.trim()));
        let lw = self.fonts.face(Style::Bold).width(&label, BODY.size);
        if lw > CONTENT_W * 0.4 {
            self.text(BODY_BOLD, label.trim_end(), MARGIN, CONTENT_W);
            self.text(BODY, value, MARGIN, CONTENT_W);
        } else {
            let lines = wrap_text(self.fonts, BODY, value, CONTENT_W - lw);
            for (i, l) in lines.into_iter().enumerate() {
                self.room(BODY.leading);
                let baseline = self.y + BODY.size;
                if i == 0 {
                    self.put(MARGIN, baseline, BODY_BOLD, label.clone());
                }
                self.put(MARGIN + lw, baseline, BODY, l);
                self.y += BODY.leading;
            }
        }
        self.gap(1.0);
    }

    fn rule(&mut self, width: f32) {
        let y = self.y;
        self.ops().push(Op::Rule {
            x1: MARGIN,
            x2: MARGIN + CONTENT_W,
            y,
            width,
        });
    }

    fn table(&mut self, header: &[String], rows: &[Vec<String>]) {
        let ncols = rows
            .iter()
            .map(Vec::len)
            .chain([header.len()])
            .max()
            .unwrap_or(0);
        if ncols == 0 {
            return;
        }
        let widths = col_widths(self.fonts, header, rows, ncols);
        let cells = |t: Type, row: &[String]| -> Vec<Vec<String>> {
            (0..ncols)
                .map(|i| {
                    let text = row.get(i).map(String::as_str).unwrap_or("");
                    wrap_text(self.fonts, t, text, widths[i] - 2.0 * PAD)
                })
                .collect()
        };
        let head = if header.is_empty() {
            None
        } else {
            Some(cells(BODY_BOLD, header))
        };
        let height = |c: &[Vec<String>]| {
            c.iter().map(Vec::len).max().unwrap_or(1) as f32 * BODY.leading + 2.0 * VPAD
        };
        let head_h = head.as_deref().map_or(0.0, height);
        self.gap(4.0);
        let first_h = rows.first().map_or(0.0, |r| height(&cells(BODY, r)));
        self.room(head_h + first_h);
        self.table_head(head.as_deref(), &widths);
        // a row taller than a page by itself is split between lines; any other moves whole
        let fresh = BOTTOM - MARGIN - head_h;
        for row in rows {
            let lines = cells(BODY, row);
            let total = lines.iter().map(Vec::len).max().unwrap_or(1).max(1);
            let mut from = 0;
            let mut broke = false;
            loop {
                let rest_h = (total - from) as f32 * BODY.leading + 2.0 * VPAD;
                if self.y + rest_h <= BOTTOM {
                    self.table_row(&lines, &widths, from, total);
                    break;
                }
                let fit = ((BOTTOM - self.y - 2.0 * VPAD) / BODY.leading)
                    .floor()
                    .max(0.0) as usize;
                if !broke && (rest_h <= fresh || fit == 0) {
                    self.new_page();
                    self.table_head(head.as_deref(), &widths);
                    broke = true;
                    continue;
                }
                // at least one line per page, even under a header taller than the page
                let to = (from + fit.max(1)).min(total);
                self.table_row(&lines, &widths, from, to);
                from = to;
                if from >= total {
                    break;
                }
                self.new_page();
                self.table_head(head.as_deref(), &widths);
                broke = true;
            }
        }
        self.gap(6.0);
    }

    /// The rule above a table (or its continuation) and the header row, if any.
    fn table_head(&mut self, head: Option<&[Vec<String>]>, widths: &[f32]) {
        self.rule(0.8);
        if let Some(h) = head {
            let n = h.iter().map(Vec::len).max().unwrap_or(1);
            self.row_lines(h, widths, 0, n, BODY_BOLD);
            self.rule(0.8);
        }
    }

    /// Lines `from..to` of each cell, then the rule below them.
    fn table_row(&mut self, cells: &[Vec<String>], widths: &[f32], from: usize, to: usize) {
        self.row_lines(cells, widths, from, to, BODY);
        self.rule(0.4);
    }

    fn row_lines(
        &mut self,
        cells: &[Vec<String>],
        widths: &[f32],
        from: usize,
        to: usize,
        t: Type,
    ) {
        let top = self.y + VPAD;
        let mut x = MARGIN;
        for (c, w) in cells.iter().zip(widths) {
            for (k, l) in c.iter().enumerate().take(to).skip(from) {
                let baseline = top + (k - from) as f32 * t.leading + t.size;
                self.put(x + PAD, baseline, t, l.clone());
            }
            x += w;
        }
        self.y = top + (to - from) as f32 * t.leading + VPAD;
    }
}

/// Column widths filling the line: a column whose longest unbroken text fits its fair share gets
/// just that; the others share the rest equally (max-min fair), so a long column cannot squeeze a
/// short one into wrapping.
fn col_widths(fonts: &Fonts, header: &[String], rows: &[Vec<String>], ncols: usize) -> Vec<f32> {
    let measure = |t: Type, s: &str| {
        s.split('\n')
            .map(|p| fonts.face(t.style).width(&fonts.clean(p), t.size))
            .fold(0.0f32, f32::max)
            + 2.0 * PAD
    };
    let mut natural = vec![2.0 * PAD; ncols];
    for (i, s) in header.iter().enumerate() {
        natural[i] = natural[i].max(measure(BODY_BOLD, s));
    }
    for r in rows {
        for (i, s) in r.iter().enumerate() {
            natural[i] = natural[i].max(measure(BODY, s));
        }
    }
    let sum: f32 = natural.iter().sum();
    if sum <= CONTENT_W {
        // everything fits unbroken: widen all columns alike to fill the line
        let extra = (CONTENT_W - sum) / ncols as f32;
        return natural.iter().map(|w| w + extra).collect();
    }
    let mut fixed = vec![false; ncols];
    loop {
        let left = CONTENT_W
            - (0..ncols)
                .filter(|&i| fixed[i])
                .map(|i| natural[i])
                .sum::<f32>();
        let open = fixed.iter().filter(|f| !**f).count().max(1);
        let share = left / open as f32;
        let mut changed = false;
        for i in 0..ncols {
            if !fixed[i] && natural[i] <= share {
                fixed[i] = true;
                changed = true;
            }
        }
        if !changed {
            return (0..ncols)
                .map(|i| if fixed[i] { natural[i] } else { share })
                .collect();
        }
    }
}
