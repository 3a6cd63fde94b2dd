//! Where each dotted key sits in a TOML document. `toml::Table` keeps no spans, and wrapping every
//! schema field in `Spanned` would leak into the public types, so after a successful parse we scan
//! the (already known valid) text once: table headers and `key = value` lines are enough for the
//! hand-written files this crate reads. Keys inside inline tables resolve to their parent's line.

use std::collections::HashMap;

/// Dotted key path → 1-based line of its first appearance.
#[derive(Debug, Default)]
pub(crate) struct LineIndex {
    lines: HashMap<String, usize>,
    // In line order, for the reverse lookup (which key is on line N).
    keys: Vec<(usize, String)>,
    // Paths opened by a `[table]` header rather than assigned by `key = value`.
    headers: Vec<String>,
}

impl LineIndex {
    pub(crate) fn new(text: &str) -> Self {
        let mut index = LineIndex::default();
        let mut table: Vec<String> = Vec::new();
        let mut in_multiline: Option<&str> = None;
        for (n, raw) in text.lines().enumerate() {
            let line_no = n + 1;
            let line = raw.trim();
            if let Some(delim) = in_multiline {
                if line.matches(delim).count() % 2 == 1 {
                    in_multiline = None;
                }
                continue;
            }
            if line.starts_with('[') {
                let inner = line.trim_start_matches('[');
                let end = find_unquoted(inner, ']').unwrap_or(inner.len());
                table = split_key(&inner[..end]);
                index.headers.push(table.join("."));
                index.record(table.join("."), line_no);
            } else if let Some(eq) = find_unquoted(line, '=') {
                let mut path = table.clone();
                path.extend(split_key(&line[..eq]));
                index.record(path.join("."), line_no);
                let value = &line[eq + 1..];
                for delim in ["\"\"\"", "'''"] {
                    if value.matches(delim).count() % 2 == 1 {
                        in_multiline = Some(delim);
                    }
                }
            }
        }
        index
    }

    fn record(&mut self, path: String, line: usize) {
        // A duplicate key still names its own line in the reverse lookup (toml reports it there).
        self.lines.entry(path.clone()).or_insert(line);
        self.keys.push((line, path));
    }

    /// The line of `path`, or of its nearest present parent (a missing key is reported on its
    /// table), or 1 when nothing of it is in the file.
    pub(crate) fn line_of(&self, path: &str) -> usize {
        let mut probe = path;
        loop {
            if let Some(line) = self.lines.get(probe) {
                return *line;
            }
            match probe.rfind('.') {
                Some(dot) => probe = &probe[..dot],
                None => return 1,
            }
        }
    }

    /// Whether `path` itself (not only a parent) appears in the document.
    pub(crate) fn contains(&self, path: &str) -> bool {
        self.lines.contains_key(path)
    }

    /// Whether `path` was opened by a `[table]` header.
    pub(crate) fn is_header(&self, path: &str) -> bool {
        self.headers.iter().any(|h| h == path)
    }

    /// The key defined (or table opened) on `line`, if any.
    pub(crate) fn key_at(&self, line: usize) -> Option<&str> {
        self.keys
            .iter()
            .find(|(l, _)| *l == line)
            .map(|(_, k)| k.as_str())
    }
}

/// Byte offset of the first `wanted` outside a quoted string.
fn find_unquoted(s: &str, wanted: char) -> Option<usize> {
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if c == wanted => return Some(i),
            None if c == '#' => return None,
            None => {}
        }
    }
    None
}

/// `a."b.c" . d` → `["a", "b.c", "d"]`.
fn split_key(key: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut rest = key;
    while let Some(dot) = find_unquoted(rest, '.') {
        parts.push(unquote(&rest[..dot]));
        rest = &rest[dot + 1..];
    }
    parts.push(unquote(rest));
    parts
}

fn unquote(part: &str) -> String {
    part.trim().trim_matches(['"', '\'']).to_owned()
}

#[cfg(test)]
mod tests {
    use super::LineIndex;

    #[test]
    fn finds_tables_dotted_keys_and_parents() {
        let text = "a = 1\n[broker]\nurl = \"x=y\" # c\ntls.ca_file = \"f\"\n\"q.k\" = '''\nz = 2\n'''\n[input]\nbaud = 3\n";
        let index = LineIndex::new(text);
        assert_eq!(index.line_of("a"), 1);
        assert_eq!(index.line_of("broker"), 2);
        assert_eq!(index.line_of("broker.url"), 3);
        assert_eq!(index.line_of("broker.tls.ca_file"), 4);
        assert_eq!(index.line_of("broker.q.k"), 5);
        assert_eq!(index.line_of("broker.z"), 2, "inside a multi-line string");
        assert_eq!(index.line_of("input.baud"), 9);
        assert_eq!(index.line_of("input.port"), 8);
        assert_eq!(index.line_of("nothing"), 1);
        assert_eq!(index.key_at(3), Some("broker.url"));
        assert!(index.is_header("broker") && !index.is_header("broker.url"));
    }
}
