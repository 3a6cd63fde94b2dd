//! Withdrawals (提现, DOMAIN §5): an agent asks for part of its available balance, which moves to
//! HQ's payables at once (so it cannot be spent twice); HQ finance approves — the money leaves
//! HQ's bank — or rejects, and the amount returns to the agent. A balance below the amount (also
//! a negative one after a clawback) blocks the request. Approved withdrawals are then marked paid
//! with the bank transfer's reference.

use rust_decimal::Decimal;

use super::{Actor, HQ_MONEY, ledger, refused};
use crate::domain::network::WithdrawalStatus;
use crate::domain::network::{Account, postings};
use crate::error::{Error, Result};
use crate::store::DbConnection;
use crate::store::in_transaction;
use crate::store::network::ledger as ledger_store;
use crate::store::network::withdrawals::{self as store, WithdrawalRow};
use crate::store::network::{agent_id, cents, money};

/// The acting agent asks to withdraw `amount`.
pub fn request(conn: &mut DbConnection, actor: Actor, amount: Decimal) -> Result<WithdrawalRow> {
    let Actor::Agent { agent, user } = actor else {
        return Err(Error::Forbidden(
            "only an agent withdraws from its own wallet".into(),
        ));
    };
    if amount <= Decimal::ZERO
        || amount.normalize().scale() > 2
        || amount > Decimal::from(100_000_000)
    {
        return Err(Error::BadRequest(format!(
            "amount {amount}: give a positive amount in yuan with at most 2 decimals"
        )));
    }
    in_transaction(conn, |conn| {
        let account = Account::available(agent_id(agent));
        let available = ledger_store::balance(conn, &account)?;
        let row = store::insert(conn, agent, cents(amount)?, Some(user))?;
        let posting = postings::withdrawal_requested(
            agent_id(agent),
            row.id.unsigned_abs(),
            amount,
            available,
        )
        .map_err(refused)?;
        ledger::book_withdrawal(conn, row.id, &posting)?;
        ledger::require_cover(conn, account)?;
        tracing::info!(withdrawal = row.id, agent, %amount, "withdrawal requested");
        Ok(row)
    })
}

/// HQ finance approves (the money is paid out of HQ's bank) or rejects (it returns to the agent).
pub fn decide(
    conn: &mut DbConnection,
    id: i64,
    approve: bool,
    note: Option<&str>,
    actor: Actor,
) -> Result<WithdrawalRow> {
    actor.require_hq(HQ_MONEY, "decide withdrawals")?;
    in_transaction(conn, |conn| {
        let row = store::get(conn, id)?;
        let to = if approve {
            WithdrawalStatus::Approved
        } else {
            WithdrawalStatus::Rejected
        };
        if !store::decide(
            conn,
            id,
            WithdrawalStatus::Requested,
            to,
            actor.user(),
            note,
        )? {
            return Err(Error::refuse(
                "withdrawal_not_requested",
                format!(
                    "withdrawal {id} is {}: only a requested withdrawal can be decided",
                    row.status
                ),
            ));
        }
        let amount = money(row.amount_cents);
        let posting = if approve {
            postings::withdrawal_approved(id.unsigned_abs(), amount)
        } else {
            postings::withdrawal_rejected(agent_id(row.agent_id), id.unsigned_abs(), amount)
        }
        .ok_or_else(|| Error::Internal(format!("withdrawal {id} has no amount")))?;
        ledger::book_withdrawal(conn, id, &posting)?;
        tracing::info!(
            withdrawal = id,
            decision = to.as_str(),
            "withdrawal decided"
        );
        Ok(store::get(conn, id)?)
    })
}

/// HQ finance records the bank transfer of an approved withdrawal.
pub fn mark_paid(
    conn: &mut DbConnection,
    id: i64,
    reference: &str,
    actor: Actor,
) -> Result<WithdrawalRow> {
    actor.require_hq(HQ_MONEY, "mark withdrawals paid")?;
    let reference = reference.trim();
    if reference.is_empty() || reference.chars().count() > 200 {
        return Err(Error::BadRequest(
            "reference: the bank transfer's reference, 1 to 200 characters".into(),
        ));
    }
    let row = store::get(conn, id)?;
    if !store::mark_paid(conn, id, reference)? {
        return Err(Error::refuse(
            "withdrawal_not_approved",
            format!(
                "withdrawal {id} is {}: only an approved withdrawal can be marked paid",
                row.status
            ),
        ));
    }
    Ok(store::get(conn, id)?)
}
