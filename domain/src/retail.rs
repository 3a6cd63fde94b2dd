//! Retail (seed 004: 零售开单出库, 管理终端会员, O2O扫码下单; DOMAIN §10): an agent sells items out
//! of its custody to end customers, keeps them as its members, and receives their reorders from
//! a product's code.
//!
//! - A **retail sale** (零售开单) moves scanned items from the agent's custody to "sold", once
//!   each, with the customer when one is given (a walk-in sale has none) and a receipt.
//! - An **end customer** (终端会员) belongs to one agent, known by phone: selling to a phone the
//!   agent knows, a consumer joining from a verified item the agent sold, or a reorder, all find
//!   the same member.
//! - An **O2O order** (扫码下单) is a consumer's order from an item's logistics URL: it goes to the
//!   agent that sold that item, or to the agent authorised for the region the consumer picks; the
//!   agent fulfils it by a retail sale (or cancels it).

use crate::Refusal;

/// How an end customer came to an agent.
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
pub enum CustomerSource {
    /// The agent recorded the customer at a sale.
    Sale,
    /// A consumer joined after verifying an item the agent sold.
    Verify,
    /// A consumer reordered from an item's code.
    Reorder,
}

impl CustomerSource {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(s: &str) -> Option<CustomerSource> {
        s.parse().ok()
    }
}

/// Where an O2O order stands.
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
pub enum RetailOrderState {
    /// Placed by the consumer, waiting for the agent.
    Open,
    /// The agent sold the items (a retail sale names the order).
    Fulfilled,
    /// The agent (or the consumer, by asking it) called it off.
    Cancelled,
}

impl RetailOrderState {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(s: &str) -> Option<RetailOrderState> {
        s.parse().ok()
    }
}

/// A customer as typed: a name and a phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    pub name: String,
    pub phone: String,
}

/// The most items one retail order or sale holds (a shop's counter, not a warehouse).
pub const MAX_ITEMS: usize = 500;
/// The longest customer name and note kept.
pub const MAX_NAME: usize = 40;
pub const MAX_NOTE: usize = 200;

/// Why retail input is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RetailError {
    #[error("name: the customer's name, 1 to {MAX_NAME} characters")]
    Name,
    #[error("phone: the customer's phone, 6 to 20 digits")]
    Phone,
    #[error("quantity: 1 to {MAX_ITEMS} items")]
    Quantity,
    #[error("note: at most {MAX_NOTE} characters")]
    Note,
    #[error("codes: scan or type at least one item's code, at most {MAX_ITEMS}")]
    NothingToSell,
    #[error("this order is no longer open")]
    OrderNotOpen,
    #[error("no agent sells here yet: pick another region")]
    NoAgent,
}

impl Refusal for RetailError {
    fn code(&self) -> &'static str {
        match self {
            RetailError::Name => "customer_name",
            RetailError::Phone => "customer_phone",
            RetailError::Quantity => "retail_quantity",
            RetailError::Note => "retail_note",
            RetailError::NothingToSell => "nothing_to_sell",
            RetailError::OrderNotOpen => "retail_order_not_open",
            RetailError::NoAgent => "no_agent_for_region",
        }
    }
}

/// The customer of a sale: both fields, or neither (a walk-in sale, 散客).
pub fn sale_customer(name: &str, phone: &str) -> Result<Option<Customer>, RetailError> {
    if name.trim().is_empty() && phone.trim().is_empty() {
        return Ok(None);
    }
    customer(name, phone).map(Some)
}

/// A customer who must be named (a reorder, a member joining).
pub fn customer(name: &str, phone: &str) -> Result<Customer, RetailError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(RetailError::Name);
    }
    let phone = crate::phone::normalise(phone).ok_or(RetailError::Phone)?;
    Ok(Customer {
        name: name.to_string(),
        phone,
    })
}

/// A reorder's quantity and note as typed.
pub fn reorder(quantity: &str, note: &str) -> Result<(u32, Option<String>), RetailError> {
    let q: u32 = quantity.trim().parse().map_err(|_| RetailError::Quantity)?;
    if q == 0 || q as usize > MAX_ITEMS {
        return Err(RetailError::Quantity);
    }
    let note = note.trim();
    if note.chars().count() > MAX_NOTE {
        return Err(RetailError::Note);
    }
    Ok((q, (!note.is_empty()).then(|| note.to_string())))
}

/// The codes of a sale as scanned or typed: one per line (a scanner types a line per scan),
/// or separated by spaces or commas; each once, in order.
pub fn scanned_codes(text: &str) -> Result<Vec<String>, RetailError> {
    let mut out: Vec<String> = Vec::new();
    for code in text
        .split(|c: char| c.is_whitespace() || c == ',' || c == '，')
        .filter(|s| !s.is_empty())
    {
        if !out.iter().any(|c| c == code) {
            out.push(code.to_string());
        }
    }
    if out.is_empty() || out.len() > MAX_ITEMS {
        return Err(RetailError::NothingToSell);
    }
    Ok(out)
}

/// May an O2O order in `state` be fulfilled or cancelled?
pub fn may_close(state: RetailOrderState) -> Result<(), RetailError> {
    match state {
        RetailOrderState::Open => Ok(()),
        _ => Err(RetailError::OrderNotOpen),
    }
}

/// The receipt number people read: the sale's day and its number.
pub fn receipt_number(sale_id: i64, day: chrono::NaiveDate) -> String {
    format!("R{}-{sale_id:06}", day.format("%Y%m%d"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_pinned() {
        for s in [
            CustomerSource::Sale,
            CustomerSource::Verify,
            CustomerSource::Reorder,
        ] {
            assert_eq!(CustomerSource::parse(s.as_str()), Some(s));
        }
        for s in [
            RetailOrderState::Open,
            RetailOrderState::Fulfilled,
            RetailOrderState::Cancelled,
        ] {
            assert_eq!(RetailOrderState::parse(s.as_str()), Some(s));
        }
        assert_eq!(CustomerSource::Reorder.as_str(), "reorder");
        assert_eq!(RetailOrderState::Fulfilled.as_str(), "fulfilled");
    }

    #[test]
    fn customers() {
        assert_eq!(sale_customer(" ", ""), Ok(None));
        assert_eq!(
            sale_customer(" 王女士 ", "138 0013 8000"),
            Ok(Some(Customer {
                name: "王女士".into(),
                phone: "13800138000".into()
            }))
        );
        assert_eq!(sale_customer("王女士", ""), Err(RetailError::Phone));
        assert_eq!(sale_customer("", "13800138000"), Err(RetailError::Name));
        assert_eq!(
            customer(&"名".repeat(41), "13800138000"),
            Err(RetailError::Name)
        );
        assert_eq!(RetailError::Phone.code(), "customer_phone");
    }

    #[test]
    fn reorders_and_codes() {
        assert_eq!(
            reorder(" 2 ", " 下午送到 "),
            Ok((2, Some("下午送到".into())))
        );
        assert_eq!(reorder("1", ""), Ok((1, None)));
        for bad in ["0", "-1", "x", "501", ""] {
            assert_eq!(reorder(bad, ""), Err(RetailError::Quantity), "{bad}");
        }
        assert_eq!(reorder("1", &"长".repeat(201)), Err(RetailError::Note));
        assert_eq!(
            scanned_codes("A1\nhttps://b.example/s/A2 , A1，A3\r\n"),
            Ok(vec![
                "A1".into(),
                "https://b.example/s/A2".into(),
                "A3".into()
            ])
        );
        assert_eq!(scanned_codes(" \n"), Err(RetailError::NothingToSell));
        let many: String = (0..501).map(|i| format!("C{i}\n")).collect();
        assert_eq!(scanned_codes(&many), Err(RetailError::NothingToSell));
        assert_eq!(may_close(RetailOrderState::Open), Ok(()));
        assert_eq!(
            may_close(RetailOrderState::Fulfilled),
            Err(RetailError::OrderNotOpen)
        );
        let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 6).expect("day");
        assert_eq!(receipt_number(42, day), "R20261206-000042");
    }
}

#[cfg(test)]
mod strum_names {
    use super::*;

    #[test]
    fn stored_names_of_customer_source() {
        crate::pin_stored_names(
            &[
                (CustomerSource::Sale, "sale"),
                (CustomerSource::Verify, "verify"),
                (CustomerSource::Reorder, "reorder"),
            ],
            CustomerSource::as_str,
            CustomerSource::parse,
        );
    }

    #[test]
    fn stored_names_of_retail_order_state() {
        crate::pin_stored_names(
            &[
                (RetailOrderState::Open, "open"),
                (RetailOrderState::Fulfilled, "fulfilled"),
                (RetailOrderState::Cancelled, "cancelled"),
            ],
            RetailOrderState::as_str,
            RetailOrderState::parse,
        );
    }
}
