//! A small XML text builder. Output is built as a String because pivot documents are written
//! once, front to back; escaping is the only thing that needs care.

/// Escapes text for element content and attribute values (quotes included, so one function serves both).
pub fn escape(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains(['<', '>', '&', '"', '\'']) && !s.chars().any(needs_drop) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if needs_drop(c) => {}
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Characters that XML 1.0 cannot carry at all (control characters other than tab/CR/LF).
fn needs_drop(c: char) -> bool {
    (c < ' ' && c != '\t' && c != '\n' && c != '\r') || c == '\u{FFFE}' || c == '\u{FFFF}'
}

#[derive(Default)]
pub struct XmlW {
    pub s: String,
}

impl XmlW {
    pub fn new() -> Self {
        let mut s = String::with_capacity(32 * 1024);
        s.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        XmlW { s }
    }

    fn start(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.s.push('<');
        self.s.push_str(name);
        for (k, v) in attrs {
            self.s.push(' ');
            self.s.push_str(k);
            self.s.push_str("=\"");
            self.s.push_str(&escape(v));
            self.s.push('"');
        }
    }

    pub fn open(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.start(name, attrs);
        self.s.push('>');
    }

    pub fn close(&mut self, name: &str) {
        self.s.push_str("</");
        self.s.push_str(name);
        self.s.push('>');
    }

    pub fn empty(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.start(name, attrs);
        self.s.push_str("/>");
    }

    pub fn text(&mut self, t: &str) {
        self.s.push_str(&escape(t));
    }

    /// `<name attrs>text</name>`
    pub fn leaf(&mut self, name: &str, attrs: &[(&str, &str)], text: &str) {
        self.open(name, attrs);
        self.text(text);
        self.close(name);
    }

    pub fn raw(&mut self, xml: &str) {
        self.s.push_str(xml);
    }

    pub fn template(&mut self, root: &str) {
        self.empty("templateId", &[("root", root)]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn escapes_markup_and_drops_controls() {
        assert_eq!(escape("a<b & \"c\"\u{1}"), "a&lt;b &amp; &quot;c&quot;");
        assert!(matches!(escape("plain"), std::borrow::Cow::Borrowed(_)));
    }
}
