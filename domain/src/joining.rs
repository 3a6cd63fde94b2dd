//! Joining the network (DOMAIN §3, 加入): the checks on an application (入驻申请) — its profile,
//! the brand's custom fields, the tier an invitation offers — who decides it under each approval
//! mode, and what an authorisation certificate (授权证书) says at a given moment. Pure: the use
//! cases in `crate::joining` load and save.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use rust_decimal::Decimal;

use super::network::AgentStatus;
use super::network::policy::ApprovalMode;

/// An application refused, naming the field or the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JoinError {
    #[error("{field}: {message}")]
    Field { field: String, message: String },
    #[error("this application is {0}: {1}")]
    WrongState(&'static str, &'static str),
}

impl crate::Refusal for JoinError {
    fn code(&self) -> &'static str {
        match self {
            JoinError::Field { .. } => "bad_field",
            JoinError::WrongState(..) => "application_already_decided",
        }
    }
}

fn field(name: &str, message: impl Into<String>) -> JoinError {
    JoinError::Field {
        field: name.to_string(),
        message: message.into(),
    }
}

/// The applicant's profile, as checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub name: String,
    /// Digits only (a leading `+` kept): the agent signs in with it.
    pub phone: String,
    pub region: String,
    /// Upper-case letters and digits.
    pub id_number: String,
}

fn text(name: &str, value: &str, max: usize) -> Result<String, JoinError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(field(name, "is required"));
    }
    if v.chars().count() > max || v.chars().any(char::is_control) {
        return Err(field(
            name,
            format!("must be at most {max} printable characters"),
        ));
    }
    Ok(v.to_string())
}

impl Profile {
    /// Checks and normalises the four profile fields.
    pub fn check(
        name: &str,
        phone: &str,
        region: &str,
        id_number: &str,
    ) -> Result<Profile, JoinError> {
        let name = text("name", name, 100)?;
        let Some(compact) = crate::phone::normalise(phone) else {
            return Err(field(
                "phone",
                "must be 6 to 20 digits (an optional leading +)",
            ));
        };
        let region = text("region", region, 100)?;
        let id = id_number.trim().to_ascii_uppercase();
        if !(6..=32).contains(&id.len()) || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(field("id_number", "must be 6 to 32 letters or digits"));
        }
        Ok(Profile {
            name,
            phone: compact,
            region,
            id_number: id,
        })
    }
}

/// An ID number as pages show it: the first 3 and last 4 characters, the rest starred.
pub fn mask_id(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() <= 7 {
        return "*".repeat(chars.len());
    }
    let mut out: String = chars[..3].iter().collect();
    out.push_str(&"*".repeat(chars.len() - 7));
    out.extend(&chars[chars.len() - 4..]);
    out
}

/// What kind of answer a custom field takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    Number,
    /// One of these answers.
    Choice(Vec<String>),
}

/// A field's kind without its choices: what `join_fields.kind` stores.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::AsRefStr,
    strum::EnumIter,
)]
#[strum(serialize_all = "snake_case")]
pub enum FieldType {
    Text,
    Number,
    Choice,
}

impl FieldType {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(s: &str) -> Option<FieldType> {
        s.parse().ok()
    }
}

impl FieldKind {
    pub fn field_type(&self) -> FieldType {
        match self {
            FieldKind::Text => FieldType::Text,
            FieldKind::Number => FieldType::Number,
            FieldKind::Choice(_) => FieldType::Choice,
        }
    }

    pub fn as_str(&self) -> &'static str {
        self.field_type().as_str()
    }

    /// From a kind as given (HQ's form, the API) and its choices (one per line).
    pub fn parse(kind: &str, choices: &str) -> Result<FieldKind, JoinError> {
        match FieldType::parse(kind) {
            Some(t) => FieldKind::of(t, choices),
            None => Err(field(
                "kind",
                format!("{kind:?} is not one of text, number, choice"),
            )),
        }
    }

    /// From the stored kind and its choices (one per line).
    pub fn of(kind: FieldType, choices: &str) -> Result<FieldKind, JoinError> {
        match kind {
            FieldType::Text => Ok(FieldKind::Text),
            FieldType::Number => Ok(FieldKind::Number),
            FieldType::Choice => {
                let list: Vec<String> = choices
                    .lines()
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(String::from)
                    .collect();
                if list.is_empty() {
                    return Err(field("choices", "a choice field needs at least one choice"));
                }
                Ok(FieldKind::Choice(list))
            }
        }
    }
}

/// A brand-defined field of the application form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldDef {
    pub key: String,
    pub label_zh: String,
    pub label_en: String,
    pub required: bool,
    pub kind: FieldKind,
}

impl FieldDef {
    /// Checks a definition HQ entered.
    pub fn check(
        key: &str,
        label_zh: &str,
        label_en: &str,
        required: bool,
        kind: &str,
        choices: &str,
    ) -> Result<FieldDef, JoinError> {
        let key = key.trim();
        let ok_key = (1..=40).contains(&key.len())
            && key
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            && key.bytes().next().is_some_and(|b| b.is_ascii_lowercase());
        if !ok_key {
            return Err(field(
                "key",
                "must be 1 to 40 of a-z, 0-9 and _, starting with a letter",
            ));
        }
        if ["name", "phone", "region", "id_number", "tier"].contains(&key) {
            return Err(field("key", format!("{key:?} is a profile field already")));
        }
        Ok(FieldDef {
            key: key.to_string(),
            label_zh: text("label_zh", label_zh, 100)?,
            label_en: text("label_en", label_en, 100)?,
            required,
            kind: FieldKind::parse(kind, choices)?,
        })
    }
}

/// Checks the answers to the custom fields: every required one given, none unknown, each of its
/// kind. Returns the answers kept (blank optional ones dropped).
pub fn check_answers(
    defs: &[FieldDef],
    answers: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, JoinError> {
    if let Some(unknown) = answers.keys().find(|k| !defs.iter().any(|d| &d.key == *k)) {
        return Err(field(
            &format!("fields.{unknown}"),
            "is not a field of this form",
        ));
    }
    let mut kept = BTreeMap::new();
    for def in defs {
        let name = format!("fields.{}", def.key);
        let value = answers.get(&def.key).map_or("", |v| v.trim());
        if value.is_empty() {
            if def.required {
                return Err(field(&name, "is required"));
            }
            continue;
        }
        let value = text(&name, value, 500)?;
        match &def.kind {
            FieldKind::Text => {}
            FieldKind::Number => {
                if value.parse::<Decimal>().is_err() {
                    return Err(field(&name, format!("{value:?} is not a number")));
                }
            }
            FieldKind::Choice(choices) => {
                if !choices.contains(&value) {
                    return Err(field(
                        &name,
                        format!("must be one of: {}", choices.join(", ")),
                    ));
                }
            }
        }
        kept.insert(def.key.clone(), value);
    }
    Ok(kept)
}

/// The tier applied for: the one the invitation offers, else the applicant's choice.
pub fn applied_tier(offered: Option<&str>, chosen: Option<&str>) -> Result<String, JoinError> {
    let chosen = chosen.map(str::trim).filter(|c| !c.is_empty());
    match (offered, chosen) {
        (Some(o), Some(c)) if o != c => Err(field(
            "tier",
            format!("this invitation offers the tier {o:?} only"),
        )),
        (Some(o), _) => Ok(o.to_string()),
        (None, Some(c)) => Ok(c.to_string()),
        (None, None) => Err(field("tier", "choose a tier")),
    }
}

/// Whether an invitation that names no tier offers the tier at `tier_rank` to an applicant
/// invited by an agent at `inviter_rank` (rank 1 is the highest tier): only tiers below the
/// inviter's. A same or higher tier is offered only by a link that names it, the inviter's
/// deliberate choice; otherwise an anonymous applicant could pick 总代 from a 特约's link and,
/// where approval is automatic, walk away with an account at that tier.
pub fn open_link_offers(inviter_rank: i32, tier_rank: i32) -> bool {
    tier_rank > inviter_rank
}

/// Where an application stands.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::AsRefStr,
    strum::EnumIter,
)]
#[strum(serialize_all = "snake_case")]
pub enum Status {
    AwaitingSupplier,
    AwaitingHq,
    Approved,
    Rejected,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::AwaitingSupplier,
        Status::AwaitingHq,
        Status::Approved,
        Status::Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(s: &str) -> Option<Status> {
        s.parse().ok()
    }
}

/// The first status of a new application. Two-stage approval whose would-be supplier is HQ has
/// only the HQ stage (HQ is the supplier).
pub fn initial_status(mode: ApprovalMode, supplier_is_hq: bool) -> Status {
    match mode {
        ApprovalMode::Automatic => Status::Approved,
        ApprovalMode::Hq => Status::AwaitingHq,
        ApprovalMode::SupplierThenHq if supplier_is_hq => Status::AwaitingHq,
        ApprovalMode::SupplierThenHq => Status::AwaitingSupplier,
    }
}

/// Who decides an application now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decider {
    /// The would-be supplier (first stage of two-stage approval).
    Supplier,
    Hq,
}

/// The status after `by` approves or rejects an application in `status`.
pub fn decide(status: Status, by: Decider, approve: bool) -> Result<Status, JoinError> {
    match (status, by) {
        (Status::AwaitingSupplier, Decider::Supplier) if approve => Ok(Status::AwaitingHq),
        (Status::AwaitingHq, Decider::Hq) if approve => Ok(Status::Approved),
        (Status::AwaitingSupplier, Decider::Supplier) | (Status::AwaitingHq, Decider::Hq) => {
            Ok(Status::Rejected)
        }
        (Status::AwaitingSupplier, Decider::Hq) => Err(JoinError::WrongState(
            "awaiting its supplier",
            "the would-be supplier decides first",
        )),
        (Status::AwaitingHq, Decider::Supplier) => Err(JoinError::WrongState(
            "awaiting HQ",
            "the supplier has decided already",
        )),
        (Status::Approved, _) => Err(JoinError::WrongState("approved", "it is decided")),
        (Status::Rejected, _) => Err(JoinError::WrongState("rejected", "it is decided")),
    }
}

/// The would-be supplier of a new agent at `tier_rank` referred by the first agent of `chain`:
/// the nearest *active* agent of the chain (referrer first, then its referrers) whose tier ranks
/// strictly above; `None` is HQ. Same rule as `domain::network::placement`, before the agent
/// exists.
pub fn would_be_supplier(chain: &[(i64, i32, bool)], tier_rank: i32) -> Option<i64> {
    chain
        .iter()
        .find(|(_, rank, active)| *active && *rank < tier_rank)
        .map(|(id, _, _)| *id)
}

/// What the public check page (授权查询) says about a certificate.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::AsRefStr,
    strum::EnumIter,
)]
#[strum(serialize_all = "snake_case")]
pub enum Standing {
    /// Authorised now, for the certificate's tier and region, until `valid_until`.
    Authorised,
    /// The agent is suspended (or no longer active).
    Suspended,
    Expired,
    NotYetValid,
    /// A newer certificate replaced this one (e.g. after an upgrade).
    Superseded,
}

impl Standing {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A certificate's standing at `now`. Suspension outranks the dates: a consumer must learn first
/// that the seller may not sell now.
pub fn standing(
    agent_status: AgentStatus,
    valid_from: NaiveDateTime,
    valid_until: NaiveDateTime,
    superseded: bool,
    now: NaiveDateTime,
) -> Standing {
    if agent_status != AgentStatus::Active {
        Standing::Suspended
    } else if now >= valid_until {
        Standing::Expired
    } else if now < valid_from {
        Standing::NotYetValid
    } else if superseded {
        Standing::Superseded
    } else {
        Standing::Authorised
    }
}

#[cfg(test)]
#[path = "joining_tests.rs"]
mod tests;

#[cfg(test)]
mod strum_names {
    use super::*;

    #[test]
    fn stored_names_of_status() {
        crate::pin_stored_names(
            &[
                (Status::AwaitingSupplier, "awaiting_supplier"),
                (Status::AwaitingHq, "awaiting_hq"),
                (Status::Approved, "approved"),
                (Status::Rejected, "rejected"),
            ],
            Status::as_str,
            Status::parse,
        );
    }

    #[test]
    fn stored_names_of_standing() {
        crate::pin_stored_names(
            &[
                (Standing::Authorised, "authorised"),
                (Standing::Suspended, "suspended"),
                (Standing::Expired, "expired"),
                (Standing::NotYetValid, "not_yet_valid"),
                (Standing::Superseded, "superseded"),
            ],
            Standing::as_str,
            |s: &str| s.parse::<Standing>().ok(),
        );
    }
}
