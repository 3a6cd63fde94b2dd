//! Offline pre-check of a scanned string with `codegen` (format and check characters; no key, so
//! tags are not verified here — the server does that). A mistyped, misread or foreign code is
//! refused on the spot instead of travelling to the server and coming back rejected.

use codegen::inspect::{self, Reason};

/// The outcome of [`precheck`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precheck {
    /// Well-formed item or case code; worth journaling and sending.
    Accepted {
        /// What it is ("item serial", "case code", ...).
        describe: &'static str,
    },
    /// Refused on the device; nothing is journaled.
    Rejected {
        /// Stable machine-readable reason (`unknown_format`, `bad_check_character`, ...).
        reason: &'static str,
        /// Human explanation for the handheld's screen.
        message: String,
    },
}

/// Reason for a well-formed code that names a product (a bare GTIN), not an item or a case:
/// custody moves item by item or case by case, so such a scan can never apply.
pub const NOT_ITEM_OR_CASE: &str = "not_item_or_case";

/// Checks `scanned` offline.
pub fn precheck(scanned: &str) -> Precheck {
    precheck_case(scanned).0
}

/// [`precheck`], and whether the code is a well-formed case code (for pack mode, where scanning a
/// case names the case the next items go into).
pub fn precheck_case(scanned: &str) -> (Precheck, bool) {
    let found = inspect::inspect(scanned, None);
    let is_case = found.valid && found.payload.as_ref().is_some_and(|p| p.case().is_some());
    (judge(found), is_case)
}

fn judge(found: inspect::Inspection) -> Precheck {
    if !found.valid {
        let reason = found.reason.unwrap_or(Reason::Malformed);
        return Precheck::Rejected {
            reason: reason.code(),
            message: found.message.unwrap_or_else(|| reason.code().to_owned()),
        };
    }
    match &found.payload {
        Some(p) if p.serial().is_none() && p.case().is_none() => Precheck::Rejected {
            reason: NOT_ITEM_OR_CASE,
            message: format!("a {} names a product, not an item or a case", p.describe()),
        },
        Some(p) => Precheck::Accepted {
            describe: p.describe(),
        },
        None => Precheck::Rejected {
            reason: Reason::Malformed.code(),
            message: "no payload".to_owned(),
        },
    }
}
