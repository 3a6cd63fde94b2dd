//! Cutting a scanner's byte stream into codes: each code ends with the configured suffix (the
//! Enter a keyboard-wedge scanner types, or a serial scanner's CR) and may start with a prefix,
//! both stripped. Pure, so any reader (stdin, a tty, a test) shares it.

/// Longest code kept whole; a stream that never sends the suffix is cut here rather than
/// buffered without end (the pre-check then refuses the piece).
pub const MAX_LINE_BYTES: usize = 8192;

/// A splitter with its partial line.
#[derive(Debug, Clone)]
pub struct Splitter {
    prefix: Vec<u8>,
    suffix: Vec<u8>,
    buf: Vec<u8>,
}

impl Splitter {
    /// `suffix` must not be empty (the config checks it); an empty one is taken as `"\n"`.
    pub fn new(prefix: &str, suffix: &str) -> Self {
        let suffix = if suffix.is_empty() { "\n" } else { suffix };
        Splitter {
            prefix: prefix.as_bytes().to_vec(),
            suffix: suffix.as_bytes().to_vec(),
            buf: Vec::new(),
        }
    }

    /// Feeds bytes; returns the codes completed by them.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        let mut lines = Vec::new();
        for &b in bytes {
            self.buf.push(b);
            if self.buf.ends_with(&self.suffix) {
                let len = self.buf.len() - self.suffix.len();
                self.buf.truncate(len);
                lines.extend(self.take());
            } else if self.buf.len() >= MAX_LINE_BYTES {
                lines.extend(self.take());
            }
        }
        lines
    }

    /// The end of the stream: a last code without its suffix still counts.
    pub fn finish(&mut self) -> Option<String> {
        self.take()
    }

    fn take(&mut self) -> Option<String> {
        let raw = std::mem::take(&mut self.buf);
        let body = raw.strip_prefix(self.prefix.as_slice()).unwrap_or(&raw);
        // CR LF line ends (Windows-style scanners, serial terminals) and stray blanks.
        let text = String::from_utf8_lossy(body).trim().to_owned();
        (!text.is_empty()).then_some(text)
    }
}

#[cfg(test)]
mod tests {
    use super::Splitter;

    #[test]
    fn splits_strips_and_joins_partial_reads() {
        let mut s = Splitter::new("]Q1", "\n");
        assert_eq!(s.push(b"]Q1ABC\r\n]Q1DE"), ["ABC"]);
        assert_eq!(s.push(b"F\n\n  \nGHI"), ["DEF"]);
        assert_eq!(s.finish(), Some("GHI".to_owned()));
        assert_eq!(s.finish(), None);
    }

    #[test]
    fn multi_byte_suffix_and_runaway_lines() {
        let mut s = Splitter::new("", "\t\t");
        assert_eq!(s.push(b"A\tB\t\tC"), ["A\tB"]);
        let mut s = Splitter::new("", "\n");
        let lines = s.push(&vec![b'x'; super::MAX_LINE_BYTES + 10]);
        assert_eq!(lines.len(), 1);
        assert_eq!(s.finish().map(|l| l.len()), Some(10));
    }
}
