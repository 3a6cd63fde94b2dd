//! Parsing anything a scanner or a person may hand us into a typed [`Payload`].
//!
//! Recognised (`docs/codes.md` § URLs and § Identifiers), case-insensitively:
//! - `{base}/v/{serial}?t={tag}` — anti-counterfeit URL;
//! - `{base}/01/{gtin}/21/{serial}` (GS1 Digital Link) and `{base}/s/{serial}` — logistics URLs;
//! - `{base}/00/{sscc}` and `{base}/c/{case_code}` — case URLs;
//! - a bare serial (16), case code (15), SSCC (18 digits) or GTIN (8, 12, 13 or 14 digits).
//!
//! Parsing checks shape and check characters/digits only; authenticity (the tag) needs a key:
//! see [`crate::inspect`].

use serde::Serialize;

use crate::error::CodeError;
use crate::gs1::{Gtin14, Sscc};
use crate::keys::Tag;
use crate::serial::{CASE_CODE_LEN, CaseCode, SERIAL_LEN, Serial};

/// Longest input we look at; anything longer is not one of ours.
pub const MAX_INPUT: usize = 2048;

/// What a scanned string is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Payload {
    /// Anti-counterfeit URL `{base}/v/{serial}?t={tag}`.
    VerifyUrl {
        /// Everything before `/v/`, without trailing slash.
        base: String,
        /// The item.
        serial: Serial,
        /// The tag (shape checked, authenticity not).
        tag: Tag,
    },
    /// Logistics URL: GS1 Digital Link `{base}/01/{gtin}/21/{serial}` or `{base}/s/{serial}`.
    LogisticsUrl {
        /// Everything before the path that identifies the item.
        base: String,
        /// The GTIN (Digital Link form only).
        gtin: Option<Gtin14>,
        /// The item.
        serial: Serial,
    },
    /// Case URL `{base}/00/{sscc}` or `{base}/c/{case_code}`.
    CaseUrl {
        /// Everything before `/00/` or `/c/`.
        base: String,
        /// The case.
        case: CaseId,
    },
    /// A bare item serial.
    Serial {
        /// The item.
        serial: Serial,
    },
    /// A bare case code or SSCC.
    Case {
        /// The case.
        case: CaseId,
    },
    /// A bare GTIN (product, not item).
    Gtin {
        /// Padded to 14 digits.
        gtin: Gtin14,
    },
}

/// A case, by SSCC (with a GS1 company prefix) or by internal case code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseId {
    /// SSCC-18.
    Sscc(Sscc),
    /// Internal case code.
    Code(CaseCode),
}

impl CaseId {
    /// The case as printed.
    pub fn as_str(&self) -> &str {
        match self {
            CaseId::Sscc(s) => s.as_str(),
            CaseId::Code(c) => c.as_str(),
        }
    }
}

impl Payload {
    /// The item serial, for payloads that name an item.
    pub fn serial(&self) -> Option<&Serial> {
        match self {
            Payload::VerifyUrl { serial, .. }
            | Payload::LogisticsUrl { serial, .. }
            | Payload::Serial { serial } => Some(serial),
            _ => None,
        }
    }

    /// The case, for payloads that name a case.
    pub fn case(&self) -> Option<&CaseId> {
        match self {
            Payload::CaseUrl { case, .. } | Payload::Case { case } => Some(case),
            _ => None,
        }
    }

    /// A short human description of the kind.
    pub fn describe(&self) -> &'static str {
        match self {
            Payload::VerifyUrl { .. } => "anti-counterfeit URL",
            Payload::LogisticsUrl { gtin: Some(_), .. } => "logistics URL (GS1 Digital Link)",
            Payload::LogisticsUrl { .. } => "logistics URL",
            Payload::CaseUrl { .. } => "case URL",
            Payload::Serial { .. } => "item serial",
            Payload::Case {
                case: CaseId::Sscc(_),
            } => "SSCC",
            Payload::Case { .. } => "case code",
            Payload::Gtin { .. } => "GTIN",
        }
    }
}

/// Parses a scanned or typed string. Surrounding whitespace is ignored.
pub fn parse(input: &str) -> Result<Payload, CodeError> {
    let s = input.trim();
    if s.is_empty() || s.len() > MAX_INPUT {
        return Err(CodeError::UnknownFormat);
    }
    match url_rest(s) {
        Some((scheme_len, rest)) => parse_url(s, scheme_len, rest),
        None => parse_bare(s),
    }
}

/// `Some((length of "scheme://", rest))` for http(s) URLs.
fn url_rest(s: &str) -> Option<(usize, &str)> {
    ["https://", "http://"].iter().find_map(|scheme| {
        let head = s.get(..scheme.len())?;
        head.eq_ignore_ascii_case(scheme)
            .then(|| (scheme.len(), &s[scheme.len()..]))
    })
}

fn parse_bare(s: &str) -> Result<Payload, CodeError> {
    let all_digits = s.bytes().all(|b| b.is_ascii_digit());
    match s.len() {
        8 | 12..=14 if all_digits => Ok(Payload::Gtin {
            gtin: Gtin14::parse(s)?,
        }),
        18 if all_digits => Ok(Payload::Case {
            case: CaseId::Sscc(Sscc::parse(s)?),
        }),
        SERIAL_LEN => Ok(Payload::Serial {
            serial: Serial::parse(s)?,
        }),
        CASE_CODE_LEN => Ok(Payload::Case {
            case: CaseId::Code(CaseCode::parse(s)?),
        }),
        _ => Err(CodeError::UnknownFormat),
    }
}

fn parse_url(s: &str, scheme_len: usize, rest: &str) -> Result<Payload, CodeError> {
    let rest = rest.split('#').next().unwrap_or_default();
    let (path_part, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    let path_part = path_part.strip_suffix('/').unwrap_or(path_part);
    let segments: Vec<&str> = path_part.split('/').collect();
    // segments[0] is the authority; it must be there.
    if segments.len() < 3 || segments[0].is_empty() {
        return Err(CodeError::UnknownFormat);
    }
    let n = segments.len();
    let base_of = |keep: usize| -> String {
        let len: usize = segments[..keep].iter().map(|p| p.len() + 1).sum::<usize>() - 1;
        s[..scheme_len + len].to_owned()
    };
    let last = segments[n - 1];
    let key = segments[n - 2].to_ascii_lowercase();
    if n >= 5 && segments[n - 4] == "01" && key == "21" {
        return Ok(Payload::LogisticsUrl {
            base: base_of(n - 4),
            gtin: Some(Gtin14::parse(segments[n - 3])?),
            serial: Serial::parse(last)?,
        });
    }
    match key.as_str() {
        "v" => {
            let serial = Serial::parse(last)?;
            let tag = query
                .into_iter()
                .flat_map(|q| q.split('&'))
                .find_map(|kv| kv.strip_prefix("t=").or_else(|| kv.strip_prefix("T=")))
                .ok_or(CodeError::Missing { what: "tag" })?;
            Ok(Payload::VerifyUrl {
                base: base_of(n - 2),
                serial,
                tag: Tag::parse(tag)?,
            })
        }
        "s" => Ok(Payload::LogisticsUrl {
            base: base_of(n - 2),
            gtin: None,
            serial: Serial::parse(last)?,
        }),
        "00" => Ok(Payload::CaseUrl {
            base: base_of(n - 2),
            case: CaseId::Sscc(Sscc::parse(last)?),
        }),
        "c" => Ok(Payload::CaseUrl {
            base: base_of(n - 2),
            case: CaseId::Code(CaseCode::parse(last)?),
        }),
        _ => Err(CodeError::UnknownFormat),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_bare_gs1_codes() {
        assert!(matches!(parse("4006381333931"), Ok(Payload::Gtin { .. })));
        assert!(matches!(
            parse("106141411234567897"),
            Ok(Payload::Case {
                case: CaseId::Sscc(_)
            })
        ));
        assert_eq!(
            parse("4006381333932"),
            Err(CodeError::BadCheckDigit { what: "GTIN" })
        );
        assert_eq!(parse("hello"), Err(CodeError::UnknownFormat));
        assert_eq!(parse(""), Err(CodeError::UnknownFormat));
    }

    #[test]
    fn base_keeps_a_path_prefix() {
        let p = parse("https://example.com/brand/00/106141411234567897").expect("case URL");
        assert!(
            matches!(p, Payload::CaseUrl { ref base, .. } if base == "https://example.com/brand")
        );
        assert_eq!(
            parse("https:///00/106141411234567897"),
            Err(CodeError::UnknownFormat)
        );
    }
}
