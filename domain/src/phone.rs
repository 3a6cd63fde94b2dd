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

/// A mainland China mobile number as a consumer types it (`138 0013 8000`, `+86 138-0013-8000`,
/// `8613800138000`): the 11 digits, starting `1` and then `3`–`9`. `None` for anything else
/// (landlines, numbers abroad), which cannot receive the sign-in text.
pub fn mainland_mobile(raw: &str) -> Option<String> {
    let compact = normalise(raw)?;
    let digits = compact.strip_prefix('+').unwrap_or(&compact);
    let national = match digits.strip_prefix("86") {
        Some(rest) if rest.len() == 11 => rest,
        _ if compact.starts_with('+') => return None,
        _ => digits,
    };
    let b = national.as_bytes();
    (b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1])).then(|| national.to_string())
}

#[cfg(test)]
mod tests {
    use super::{mainland_mobile, normalise};

    #[test]
    fn mainland_mobiles() {
        for ok in [
            "13800138000",
            " 138 0013 8000 ",
            "+86 138-0013-8000",
            "8613800138000",
            "19912345678",
        ] {
            assert_eq!(mainland_mobile(ok).as_deref(), Some(ok_digits(ok)), "{ok}");
        }
        for bad in [
            "",
            "1380013800",
            "138001380001",
            "12800138000",
            "010-12345678",
            "+1 415 555 0100",
            "+13800138000",
            "23800138000",
        ] {
            assert_eq!(mainland_mobile(bad), None, "{bad}");
        }
    }

    fn ok_digits(raw: &str) -> &'static str {
        if raw.contains("199") {
            "19912345678"
        } else {
            "13800138000"
        }
    }

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
