//! Booking the domain's postings through the store, and reading balances. Every posting is
//! built by `domain::network::postings` from what is stored on the order; here it only gets its
//! kind and references and is booked once under its key.

use crate::domain::network::{Account, Posting, PostingKind};
use crate::error::{Error, Result};
use crate::store::DbConnection;
use crate::store::network::ledger::{self as store, Booked, Meta};
use crate::store::network::orders::OrderRow;

/// Books an order's postings under its id and policy version.
pub fn book_order(
    conn: &mut DbConnection,
    row: &OrderRow,
    postings: &[Posting],
) -> Result<Vec<Booked>> {
    let items: Vec<(Posting, Meta)> = postings
        .iter()
        .map(|p| {
            (
                p.clone(),
                Meta {
                    kind: PostingKind::of_key(p.key()),
                    order_id: Some(row.id),
                    withdrawal_id: None,
                    policy_version: Some(row.policy_version),
                },
            )
        })
        .collect();
    Ok(store::book_all(conn, &items)?)
}

/// Books a withdrawal's posting.
pub fn book_withdrawal(conn: &mut DbConnection, id: i64, posting: &Posting) -> Result<Booked> {
    Ok(store::book(
        conn,
        posting,
        Meta {
            kind: PostingKind::of_key(posting.key()),
            order_id: None,
            withdrawal_id: Some(id),
            policy_version: None,
        },
    )?)
}

/// Fails (rolling the caller's transaction back) when `account` went below zero: a wallet
/// payment or a withdrawal it did not cover. Checked after booking, on the balance row the
/// booking locked, so two concurrent spends cannot both pass.
pub fn require_cover(conn: &mut DbConnection, account: Account) -> Result<()> {
    let balance = store::balance(conn, &account)?;
    if balance < rust_decimal::Decimal::ZERO {
        return Err(Error::refuse(
            "insufficient_balance",
            format!("{account} does not cover it: it would be {balance}; nothing was booked"),
        ));
    }
    Ok(())
}
