//! Writing the page. Tag and attribute names are `&'static str`, so only the renderer's own
//! markup can become an element; every text and attribute value goes through [`esc`], so
//! nothing a foreign document holds can become markup or script.

/// Escapes text or a double- or single-quoted attribute value. Characters HTML cannot carry
/// as text (C0 controls other than tab, LF and CR; noncharacters) are dropped.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {}
            '\u{FDD0}'..='\u{FDEF}' | '\u{FFFE}' | '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// Collapses runs of whitespace to one space and trims the ends (titles, names, headings).
pub fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// An HTML page being written.
#[derive(Debug, Default)]
pub struct Html(String);

impl Html {
    pub fn new() -> Html {
        Html(String::with_capacity(64 * 1024))
    }

    /// `<tag a="v" ...>`; values are escaped.
    pub fn open(&mut self, tag: &'static str, attrs: &[(&'static str, &str)]) {
        self.0.push('<');
        self.0.push_str(tag);
        for (name, value) in attrs {
            self.0.push(' ');
            self.0.push_str(name);
            self.0.push_str("=\"");
            self.0.push_str(&esc(value));
            self.0.push('"');
        }
        self.0.push('>');
    }

    pub fn close(&mut self, tag: &'static str) {
        self.0.push_str("</");
        self.0.push_str(tag);
        self.0.push('>');
    }

    /// An element that holds only text.
    pub fn leaf(&mut self, tag: &'static str, attrs: &[(&'static str, &str)], text: &str) {
        self.open(tag, attrs);
        self.text(text);
        self.close(tag);
    }

    pub fn text(&mut self, t: &str) {
        self.0.push_str(&esc(t));
    }

    /// The renderer's own fixed markup (doctype, style sheet); never anything from a document.
    pub fn fixed(&mut self, markup: &'static str) {
        self.0.push_str(markup);
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_text_and_attributes_is_escaped() {
        let mut h = Html::new();
        h.open("p", &[("title", "\"><script>x</script>")]);
        h.text("<img src=x onerror=alert(1)> & 'q'\u{1}");
        h.close("p");
        let s = h.into_string();
        assert_eq!(
            s,
            "<p title=\"&quot;&gt;&lt;script&gt;x&lt;/script&gt;\">&lt;img src=x onerror=alert(1)&gt; &amp; &#39;q&#39;</p>"
        );
    }

    #[test]
    fn squash_collapses_whitespace() {
        assert_eq!(squash("  a \n\t b  "), "a b");
    }
}
