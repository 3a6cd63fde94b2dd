//! Consumer verification (防伪查询, DOMAIN §7) as a pure decision over what the registry knows.

use crate::custody::ItemStatus;
use serde::{Deserialize, Serialize};

/// What the consumer is told.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::AsRefStr,
    strum::EnumIter,
)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Right code, first time.
    GenuineFirst,
    /// Right code, verified before: the label may have been copied.
    GenuineRepeat,
    /// The QR is genuine but the security code is wrong.
    Mismatch,
    /// Unknown serial or a tag the brand never issued: a counterfeit sighting.
    NotGenuine,
    /// A genuine code that is not for sale: still at HQ, voided or recalled.
    NotReleased,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Why a genuine code is not for sale.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::AsRefStr,
    strum::EnumIter,
)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum NotReleasedReason {
    /// Never shipped or sold out of HQ custody: a leaked label.
    AtHq,
    /// 作废: the batch or serial range was voided.
    Voided,
    /// The batch or serial range was recalled.
    Recalled,
}

impl NotReleasedReason {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// What the registry says about a serial whose tag checked out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownCode {
    /// The item's own state.
    pub item: ItemStatus,
    /// The state of its batch: a voided batch voids every item in it.
    pub batch: ItemStatus,
    /// Still in HQ custody (never released).
    pub at_hq: bool,
}

/// Where verification stands before the security code is looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precheck {
    NotGenuine,
    NotReleased(NotReleasedReason),
    /// Genuine and for sale: ask for (or check) the security code.
    ReadyForCode,
}

/// Decides everything that does not need the security code: tag, void/recall, release.
/// `known` is `None` for an unknown serial; `tag_ok` is the HMAC check of the QR's tag.
pub fn precheck(known: Option<KnownCode>, tag_ok: bool, hq_sells_direct: bool) -> Precheck {
    let Some(known) = known else {
        return Precheck::NotGenuine;
    };
    if !tag_ok {
        return Precheck::NotGenuine;
    }
    // A recall is the stronger statement to a consumer: the brand wants the item back.
    for state in [known.item, known.batch] {
        if state == ItemStatus::Recalled {
            return Precheck::NotReleased(NotReleasedReason::Recalled);
        }
    }
    for state in [known.item, known.batch] {
        if state == ItemStatus::Voided {
            return Precheck::NotReleased(NotReleasedReason::Voided);
        }
    }
    if known.at_hq && !hq_sells_direct {
        return Precheck::NotReleased(NotReleasedReason::AtHq);
    }
    Precheck::ReadyForCode
}

/// The result once the code was compared: `count_after` is the item's verification count after
/// this verification was counted (counted atomically in the store, so two simultaneous first
/// verifications cannot both be "first").
pub fn with_code(code_matches: bool, count_after: i32) -> Outcome {
    if !code_matches {
        Outcome::Mismatch
    } else if count_after <= 1 {
        Outcome::GenuineFirst
    } else {
        Outcome::GenuineRepeat
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: KnownCode = KnownCode {
        item: ItemStatus::Active,
        batch: ItemStatus::Active,
        at_hq: false,
    };

    #[test]
    fn unknown_or_forged_is_not_genuine() {
        assert_eq!(precheck(None, true, false), Precheck::NotGenuine);
        assert_eq!(precheck(Some(OK), false, false), Precheck::NotGenuine);
    }

    #[test]
    fn voided_recalled_and_unreleased_are_not_for_sale() {
        let voided = KnownCode {
            item: ItemStatus::Voided,
            ..OK
        };
        let batch_recalled = KnownCode {
            batch: ItemStatus::Recalled,
            ..voided
        };
        let at_hq = KnownCode { at_hq: true, ..OK };
        assert_eq!(
            precheck(Some(voided), true, false),
            Precheck::NotReleased(NotReleasedReason::Voided)
        );
        assert_eq!(
            precheck(Some(batch_recalled), true, false),
            Precheck::NotReleased(NotReleasedReason::Recalled)
        );
        assert_eq!(
            precheck(Some(at_hq), true, false),
            Precheck::NotReleased(NotReleasedReason::AtHq)
        );
        assert_eq!(precheck(Some(at_hq), true, true), Precheck::ReadyForCode);
        // Selling direct never un-voids.
        assert_eq!(
            precheck(
                Some(KnownCode {
                    at_hq: true,
                    ..voided
                }),
                true,
                true
            ),
            Precheck::NotReleased(NotReleasedReason::Voided)
        );
    }

    #[test]
    fn first_then_repeat_then_mismatch() {
        assert_eq!(with_code(true, 1), Outcome::GenuineFirst);
        assert_eq!(with_code(true, 2), Outcome::GenuineRepeat);
        assert_eq!(with_code(false, 0), Outcome::Mismatch);
    }
}

#[cfg(test)]
mod strum_names {
    use super::*;

    #[test]
    fn stored_names_of_outcome() {
        crate::pin_stored_names(
            &[
                (Outcome::GenuineFirst, "genuine_first"),
                (Outcome::GenuineRepeat, "genuine_repeat"),
                (Outcome::Mismatch, "mismatch"),
                (Outcome::NotGenuine, "not_genuine"),
                (Outcome::NotReleased, "not_released"),
            ],
            Outcome::as_str,
            |s: &str| s.parse::<Outcome>().ok(),
        );
    }

    #[test]
    fn stored_names_of_not_released_reason() {
        crate::pin_stored_names(
            &[
                (NotReleasedReason::AtHq, "at_hq"),
                (NotReleasedReason::Voided, "voided"),
                (NotReleasedReason::Recalled, "recalled"),
            ],
            NotReleasedReason::as_str,
            |s: &str| s.parse::<NotReleasedReason>().ok(),
        );
    }
}
