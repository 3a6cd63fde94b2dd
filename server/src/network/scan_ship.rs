//! Shipping from the agent's phone (issue 17): one input takes whatever a keyboard-wedge scanner
//! types — an item's serial, a case code, an SSCC, or the URL of a label's QR — and ships it
//! against the order like a handheld's `ship` scan does: an item alone, a sealed case with all its
//! items or none of them. Plus the courier company and waybill number of the shipment.

use chainmark_wire::RejectReason;

use super::{Actor, shipping};
use crate::domain::custody::{self, Scanned};
use crate::domain::network::OrderState;
use crate::error::{Error, Result};
use crate::store::DbConnection;
use crate::store::agent_pages;
use crate::store::custody::{CaseKey, load_case};
use crate::store::network::stock;
use crate::store::users::now;

/// A scanned text, read as the code it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Code {
    /// An item's serial (明码), or a case code: tried as a serial first.
    Plain(String),
    /// A case by its SSCC-18.
    Sscc(String),
}

/// Reads what a scanner typed: the raw code, or a label's URL (`/s/{serial}`, `/v/{serial}?t=…`,
/// `/01/{gtin}/21/{serial}`, `/00/{sscc}`, `/c/{code}`), or a GS1 element string `(00)…`/`00…`.
pub fn read(scanned: &str) -> Option<Code> {
    let text = scanned.trim();
    if text.is_empty() || text.len() > 300 {
        return None;
    }
    let path = match text.find("://") {
        Some(i) => {
            let rest = &text[i + 3..];
            rest.find('/').map_or("", |j| &rest[j..])
        }
        None => text,
    };
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let code = match parts.as_slice() {
        ["s" | "v" | "c", code] => Code::Plain((*code).to_string()),
        ["01", _gtin, "21", serial, ..] => Code::Plain((*serial).to_string()),
        ["00", sscc] => Code::Sscc((*sscc).to_string()),
        [one] => {
            let one = one.replace(['(', ')'], "");
            if one.len() == 20 && one.starts_with("00") && one.bytes().all(|b| b.is_ascii_digit()) {
                Code::Sscc(one[2..].to_string())
            } else if one.len() == 18 && one.bytes().all(|b| b.is_ascii_digit()) {
                Code::Sscc(one)
            } else {
                Code::Plain(one)
            }
        }
        _ => return None,
    };
    Some(code)
}

/// The code a scanned text names, as text: a label's URL or GS1 string shortened to the serial,
/// case code or SSCC it carries; a text that names none, as typed (trimmed). What the refund form
/// looks serials up by, and what the shipping notices show.
pub fn code_text(scanned: &str) -> String {
    match read(scanned) {
        Some(Code::Plain(code) | Code::Sscc(code)) => code,
        None => scanned.trim().to_string(),
    }
}

/// [`code_text`] cut to fit one line of a notice on a phone.
pub fn code_for_notice(scanned: &str) -> String {
    code_text(scanned).chars().take(40).collect()
}

/// What one scan did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanOutcome {
    /// Items moved to the shipment by this scan (a case: all of its items).
    pub items: usize,
    /// The case it was, if it was one.
    pub case: Option<String>,
    /// Why nothing moved.
    pub refused: Option<RejectReason>,
    /// The order's state and shipped count afterwards.
    pub state: OrderState,
    pub shipped: i64,
}

enum Abort {
    Refused(RejectReason),
    Failed(Error),
}

impl From<Error> for Abort {
    fn from(e: Error) -> Self {
        Abort::Failed(e)
    }
}

impl From<crate::store::Error> for Abort {
    fn from(e: crate::store::Error) -> Self {
        Abort::Failed(e.into())
    }
}

/// Ships what `scanned` names against order `order_id`, for the order's shipper.
pub fn ship_scanned(
    conn: &mut DbConnection,
    order_id: i64,
    actor: Actor,
    scanned: &str,
) -> Result<ScanOutcome> {
    shipping::may_ship(conn, order_id, actor)?;
    let order = crate::store::network::orders::get(conn, order_id)?;
    let mut out = ScanOutcome {
        items: 0,
        case: None,
        refused: None,
        state: order.state,
        shipped: order.shipped_quantity,
    };
    let Some(code) = read(scanned) else {
        out.refused = Some(RejectReason::UnknownCode);
        return Ok(out);
    };
    let case = match &code {
        Code::Plain(c) if stock::item(conn, &c.to_uppercase())?.is_some() => None,
        Code::Plain(c) => load_case(conn, CaseKey::Code(c))?
            .or(load_case(conn, CaseKey::Code(&c.to_uppercase()))?),
        Code::Sscc(s) => load_case(conn, CaseKey::Sscc(s))?,
    };
    let serials: Vec<String> = match (&code, &case) {
        (_, Some(scanned @ Scanned::Case { code, .. })) => {
            out.case = Some(code.clone());
            match custody::items_of(scanned) {
                Ok(items) => items.iter().map(|i| i.serial.clone()).collect(),
                Err(reason) => {
                    out.refused = Some(reason);
                    return Ok(out);
                }
            }
        }
        (Code::Plain(c), _) => vec![c.clone()],
        (Code::Sscc(_), _) => {
            out.refused = Some(RejectReason::UnknownCode);
            return Ok(out);
        }
    };
    let user = actor.user();
    let done = crate::store::in_transaction::<_, Abort>(conn, |conn| {
        let shipped = shipping::ship_items(conn, order_id, user, &serials)?;
        if let Some((_, rejection)) = shipped.rejected.first() {
            // A case ships whole or not at all.
            return Err(Abort::Refused(rejection.reason()));
        }
        Ok(shipped)
    });
    match done {
        Ok(shipped) => {
            out.items = shipped.accepted.len();
            out.state = shipped.state;
            out.shipped = shipped.shipped_quantity;
        }
        Err(Abort::Refused(reason)) => out.refused = Some(reason),
        Err(Abort::Failed(e)) => return Err(e),
    }
    Ok(out)
}

/// Records the courier company and waybill number of the order's shipment (its shipper only).
pub fn set_waybill(
    conn: &mut DbConnection,
    order_id: i64,
    actor: Actor,
    carrier: &str,
    waybill: &str,
) -> Result<()> {
    shipping::may_ship(conn, order_id, actor)?;
    let carrier = carrier.trim();
    let waybill = waybill.trim();
    if carrier.is_empty() || carrier.chars().count() > 40 {
        return Err(Error::BadRequest(
            "carrier: name the courier company, in 1 to 40 characters".into(),
        ));
    }
    if waybill.is_empty()
        || waybill.len() > 40
        || !waybill
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(Error::BadRequest(
            "waybill: the waybill number, 1 to 40 letters, digits or dashes".into(),
        ));
    }
    Ok(agent_pages::set_waybill(
        conn,
        order_id,
        carrier,
        waybill,
        actor.user(),
        now(),
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scanned_texts_name_their_codes() {
        let plain = |s: &str| Some(Code::Plain(s.into()));
        assert_eq!(read(" A1B2C3 "), plain("A1B2C3"));
        assert_eq!(read("https://brand.example/s/A1B2C3"), plain("A1B2C3"));
        assert_eq!(
            read("https://brand.example/v/A1B2C3?t=xyz"),
            plain("A1B2C3")
        );
        assert_eq!(
            read("https://brand.example/01/06901234567892/21/A1B2C3"),
            plain("A1B2C3")
        );
        assert_eq!(read("https://brand.example/c/CASE-1"), plain("CASE-1"));
        let sscc = Some(Code::Sscc("069012340000000017".into()));
        assert_eq!(read("https://brand.example/00/069012340000000017"), sscc);
        assert_eq!(read("(00)069012340000000017"), sscc);
        assert_eq!(read("00069012340000000017"), sscc);
        assert_eq!(read(""), None);
        assert_eq!(read("https://brand.example/a/b/c"), None);
    }

    #[test]
    fn a_scanned_text_as_the_code_it_names() {
        assert_eq!(code_text("https://brand.example/v/A1B2C3?t=xyz"), "A1B2C3");
        assert_eq!(code_text("(00)069012340000000017"), "069012340000000017");
        assert_eq!(
            code_text(" https://brand.example/a/b/c "),
            "https://brand.example/a/b/c"
        );
        let long = format!("https://brand.example/a/{}", "x".repeat(60));
        assert_eq!(code_for_notice(&long).chars().count(), 40);
        assert_eq!(code_for_notice(" A1B2C3 "), "A1B2C3");
    }
}
