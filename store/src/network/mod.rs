//! Storage of the agent network: policy versions, agents, restock orders, item custody for
//! orders, the ledger, withdrawals and statements. Only loads and saves: every rule is in
//! `domain::network`, applied by the use cases in `crate::network`.
//!
//! Money is stored as BIGINT cents (see the migration for why); [`cents`] and [`money`] convert.

pub mod agents;
pub mod history;
pub mod ledger;
pub mod orders;
pub mod policies;
pub mod statements;
pub mod stock;
pub mod withdrawals;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::domain::custody::CustodianKind;
use crate::domain::network::{AgentId, Party, PartyKind};
use crate::error::{Error, Result};

/// A stored amount of cents as money.
pub fn money(cents: i64) -> Decimal {
    Decimal::new(cents, 2)
}

/// Money as cents; refuses fractions of a cent (which the domain rounds away before booking).
pub fn cents(amount: Decimal) -> Result<i64> {
    let scaled = amount * Decimal::ONE_HUNDRED;
    if !scaled.fract().is_zero() {
        return Err(Error::BadRequest(format!(
            "{amount} is not a whole number of cents"
        )));
    }
    scaled
        .to_i64()
        .ok_or_else(|| Error::BadRequest(format!("{amount} is out of range")))
}

/// A party as stored: kind `hq` (no id) or `agent` with its id.
pub fn party_columns(p: Party) -> (PartyKind, Option<i64>) {
    match p {
        Party::Hq => (PartyKind::Hq, None),
        Party::Agent(a) => (PartyKind::Agent, Some(agent_key(a))),
    }
}

/// A party as an item's custodian columns (`items.custodian_kind`, `custodian_id`).
pub fn custodian_columns(p: Party) -> (CustodianKind, Option<i64>) {
    match p {
        Party::Hq => (CustodianKind::Hq, None),
        Party::Agent(a) => (CustodianKind::Agent, Some(agent_key(a))),
    }
}

/// A party read back from its columns.
pub fn party_of(kind: PartyKind, id: Option<i64>) -> Result<Party> {
    match (kind, id) {
        (PartyKind::Hq, _) => Ok(Party::Hq),
        (PartyKind::Agent, Some(id)) => Ok(Party::Agent(agent_id(id))),
        (PartyKind::Agent, None) => {
            Err(Error::Internal("an agent party without an agent id".into()))
        }
    }
}

/// Database ids are positive BIGINTs; the domain's ids are u64.
pub fn agent_id(id: i64) -> AgentId {
    AgentId(id.unsigned_abs())
}

pub fn agent_key(id: AgentId) -> i64 {
    i64::try_from(id.0).unwrap_or(i64::MAX)
}

/// An optional agent column (NULL = HQ) as a party.
pub fn supplier_party(id: Option<i64>) -> Party {
    id.map_or(Party::Hq, |id| Party::Agent(agent_id(id)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cents_round_trip_exactly() {
        for s in ["0.01", "810.00", "-1472.00", "123456789.99", "20"] {
            let d: Decimal = s.parse().expect("decimal");
            assert_eq!(money(cents(d).expect("cents")), d);
        }
        assert!(cents("0.001".parse().expect("decimal")).is_err());
    }
}
