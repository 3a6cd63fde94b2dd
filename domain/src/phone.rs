//! Phone numbers as people type them (agents joining, imported networks, end customers).

/// A phone as it is stored and signed in with: digits, an optional leading `+`, spaces and
/// dashes dropped; 6 to 20 digits. `None` when it is not one.
pub fn normalise(raw: &str) -> Option<String> {
    let compact: String = raw
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .collect();
    let digits = compact.strip_prefix('+').unwrap_or(&compact);
    ((6..=20).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()))
        .then_some(compact)
}

#[cfg(test)]
mod tests {
    use super::normalise;

    #[test]
    fn phones() {
        assert_eq!(normalise(" 138-0013 8000 ").as_deref(), Some("13800138000"));
        assert_eq!(
            normalise("+8613800138000").as_deref(),
            Some("+8613800138000")
        );
        for bad in [
            "",
            "12345",
            "138001380001380013800",
            "1380013800a",
            "++123456",
        ] {
            assert_eq!(normalise(bad), None, "{bad}");
        }
    }
}
