//! The postings of each money event (DOMAIN §5), built only from what is stored on the order
//! ([`BookedOrder`]): the payment, forwarding margins, the same-tier rebate, the cross-tier award,
//! unfreezing at completion, clawback on refund, and withdrawals.
//!
//! Rebates, awards and margins land `frozen` and move to `available` when the order completes.
//! A refund reverses exactly the stored amounts in proportion to the returned quantity, from
//! wherever they sit now — also after withdrawal, so `available` may go negative.
//!
//! Idempotency keys name the business event: `order:{id}:paid`, `order:{id}:margin:{agent}`,
//! `order:{id}:rebate:{agent}`, `order:{id}:award:{agent}`, `order:{id}:allowance:{agent}`,
//! `order:{id}:complete`,
//! `order:{id}:refund:{refund}`, `withdrawal:{id}:requested|approved|rejected`.

use rust_decimal::Decimal;

use super::earnings::{BookedOrder, Earning, PaidVia};
use super::ledger::{Account, HqAccount, Posting};
use super::order::RefundScope;
use super::{AgentId, OrderId, Party, round_cents};

const SALES: Account = Account::Hq(HqAccount::Sales);
const EXPENSE: Account = Account::Hq(HqAccount::RebateExpense);
const PAYABLES: Account = Account::Hq(HqAccount::Payables);
const CASH: Account = Account::Hq(HqAccount::Cash);

/// Idempotency keys, one per business event.
pub mod keys {
    use super::{AgentId, OrderId};

    pub fn paid(o: OrderId) -> String {
        format!("order:{o}:paid")
    }
    pub fn margin(o: OrderId, a: AgentId) -> String {
        format!("order:{o}:margin:{a}")
    }
    pub fn rebate(o: OrderId, a: AgentId) -> String {
        format!("order:{o}:rebate:{a}")
    }
    pub fn award(o: OrderId, a: AgentId) -> String {
        format!("order:{o}:award:{a}")
    }
    pub fn complete(o: OrderId) -> String {
        format!("order:{o}:complete")
    }
    pub fn allowance(o: OrderId, a: AgentId) -> String {
        format!("order:{o}:allowance:{a}")
    }
    pub fn refund(o: OrderId, refund: u64) -> String {
        format!("order:{o}:refund:{refund}")
    }
    pub fn withdrawal(id: u64, step: &str) -> String {
        format!("withdrawal:{id}:{step}")
    }
}

/// The part of a stored `amount` that belongs to `returned` of `quantity` items, rounded once.
/// Cumulative, so successive partial refunds add up to exactly `amount` and never more.
pub fn share(amount: Decimal, returned: u32, quantity: u32) -> Decimal {
    if quantity == 0 || returned >= quantity {
        return amount;
    }
    round_cents(amount * Decimal::from(returned) / Decimal::from(quantity))
}

/// Margins that passed through the books (an offline payment to an agent settles them offline).
fn booked_margins(b: &BookedOrder) -> &[Earning] {
    if b.through_platform() {
        &b.margins
    } else {
        &[]
    }
}

/// Where the buyer's money sits until completion: HQ's own direct sale is revenue at once;
/// money owed to an agent seller waits in payables.
fn held_in(b: &BookedOrder) -> Account {
    if b.payee == Party::Hq {
        SALES
    } else {
        PAYABLES
    }
}

/// An upgrade allowance paid to an agent payee that was paid offline: HQ owes it the part of the
/// goods the buyer did not pay (the buyer's own money went to it outside the books). It waits in
/// the payee's frozen wallet until completion, like an earning.
fn payee_allowance(b: &BookedOrder) -> Option<Earning> {
    match b.payee {
        Party::Agent(agent) if !b.through_platform() && !b.upgrade_allowance.is_zero() => {
            Some(Earning {
                agent,
                amount: b.upgrade_allowance,
            })
        }
        _ => None,
    }
}

/// The order paid: the goods amount to the payee's sales or payables — what the buyer pays from
/// the payer, HQ's upgrade allowance (if any) from its expense — and each forwarding agent's
/// margin from payables into its frozen wallet. Paid offline to an agent, only the allowance is
/// booked (to the payee).
pub fn paid(b: &BookedOrder) -> Vec<Posting> {
    if !b.through_platform() {
        return payee_allowance(b)
            .and_then(|e| {
                Posting::transfers(
                    keys::allowance(b.order, e.agent),
                    [(EXPENSE, Account::frozen(e.agent), e.amount)],
                )
            })
            .into_iter()
            .collect();
    }
    let source = match b.paid_via {
        PaidVia::Wallet => Account::available(b.buyer),
        PaidVia::Offline => CASH,
    };
    let mut out: Vec<Posting> = Posting::transfers(
        keys::paid(b.order),
        [
            (source, held_in(b), b.buyer_pays()),
            (EXPENSE, held_in(b), b.upgrade_allowance),
        ],
    )
    .into_iter()
    .collect();
    out.extend(booked_margins(b).iter().filter_map(|m| {
        Posting::transfers(
            keys::margin(b.order, m.agent),
            [(PAYABLES, Account::frozen(m.agent), m.amount)],
        )
    }));
    out
}

/// 同级推荐奖: from HQ's rebate expense into the referrer's frozen wallet.
pub fn rebate(b: &BookedOrder) -> Option<Posting> {
    let r = b.rebate?;
    Posting::transfers(
        keys::rebate(b.order, r.agent),
        [(EXPENSE, Account::frozen(r.agent), r.amount)],
    )
}

/// 跨级推荐奖: once, from HQ's rebate expense into the referrer's frozen wallet.
pub fn award(b: &BookedOrder) -> Option<Posting> {
    let a = b.award?;
    Posting::transfers(
        keys::award(b.order, a.agent),
        [(EXPENSE, Account::frozen(a.agent), a.amount)],
    )
}

/// Everything booked when an order is paid.
pub fn on_payment(b: &BookedOrder) -> Vec<Posting> {
    let mut out = paid(b);
    out.extend(rebate(b));
    out.extend(award(b));
    out
}

/// Every stored earning that sits in a frozen wallet until completion.
fn frozen_earnings(b: &BookedOrder) -> Vec<Earning> {
    booked_margins(b)
        .iter()
        .copied()
        .chain(b.rebate)
        .chain(b.award)
        .chain(payee_allowance(b))
        .collect()
}

/// The order completed with `returned` items refunded so far: what is left of each earning moves
/// from frozen to available, and what is left of the shipper's goods money leaves payables.
pub fn completion(b: &BookedOrder, returned: u32) -> Option<Posting> {
    let left = |amount: Decimal| amount - share(amount, returned, b.quantity);
    let mut moves: Vec<_> = frozen_earnings(b)
        .into_iter()
        .map(|e| {
            (
                Account::frozen(e.agent),
                Account::available(e.agent),
                left(e.amount),
            )
        })
        .collect();
    if b.through_platform() && held_in(b) == PAYABLES {
        let to = match b.shipper {
            Party::Hq => SALES,
            Party::Agent(s) => Account::available(s),
        };
        moves.push((PAYABLES, to, left(b.shipper_amount)));
    }
    Posting::transfers(keys::complete(b.order), moves)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RefundError {
    #[error(
        "cannot return {returning} more of {quantity} items ({returned_before} already returned)"
    )]
    BadQuantity {
        quantity: u32,
        returned_before: u32,
        returning: u32,
    },
}

/// Refund `refund_id` returns `returning` items after `returned_before`: the buyer gets back the
/// matching share of the shipper's money and of each margin, and the rebate and award are clawed
/// back in the same proportion — from frozen before completion, from available after (which may
/// go negative). Exactly the stored amounts: nothing is recomputed.
pub fn refund(
    b: &BookedOrder,
    refund_id: u64,
    returned_before: u32,
    returning: u32,
    completed: bool,
) -> Result<Option<Posting>, RefundError> {
    if RefundScope::of(b.quantity, returned_before, returning).is_none() {
        return Err(RefundError::BadQuantity {
            quantity: b.quantity,
            returned_before,
            returning,
        });
    }
    let after = returned_before + returning;
    let part = |amount: Decimal| {
        share(amount, after, b.quantity) - share(amount, returned_before, b.quantity)
    };
    let wallet = |a: AgentId| {
        if completed {
            Account::available(a)
        } else {
            Account::frozen(a)
        }
    };
    let mut moves = Vec::new();
    if b.through_platform() {
        let refund_to = Account::available(b.buyer);
        // Where the shipper's money sits now: HQ's direct sale is revenue from the start;
        // otherwise payables until completion, then the shipper's own account.
        let shipper_holds = if held_in(b) == SALES {
            SALES
        } else if !completed {
            PAYABLES
        } else {
            match b.shipper {
                Party::Hq => SALES,
                Party::Agent(s) => Account::available(s),
            }
        };
        moves.push((shipper_holds, refund_to, part(b.shipper_amount)));
        for m in booked_margins(b) {
            moves.push((wallet(m.agent), refund_to, part(m.amount)));
        }
        if !b.upgrade_allowance.is_zero() {
            // The buyer gets back its share of what it paid, exactly; the rest of the returned
            // goods money is HQ's allowance going back to its expense.
            let returned: Decimal = moves.iter().map(|m| m.2).sum();
            moves.push((refund_to, EXPENSE, returned - part(b.buyer_pays())));
        }
    }
    for e in b.rebate.iter().chain(&b.award).chain(&payee_allowance(b)) {
        moves.push((wallet(e.agent), EXPENSE, part(e.amount)));
    }
    Ok(Posting::transfers(keys::refund(b.order, refund_id), moves))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WithdrawalError {
    #[error("a withdrawal must be a positive amount in whole cents")]
    BadAmount,
    #[error("available {available} does not cover {requested}")]
    Insufficient {
        available: Decimal,
        requested: Decimal,
    },
}

/// An agent asks to withdraw: the amount leaves `available` into payables until HQ finance acts.
/// Blocked unless available covers it (so a negative balance blocks every withdrawal).
pub fn withdrawal_requested(
    agent: AgentId,
    id: u64,
    amount: Decimal,
    available: Decimal,
) -> Result<Posting, WithdrawalError> {
    if amount <= Decimal::ZERO || amount.normalize().scale() > 2 {
        return Err(WithdrawalError::BadAmount);
    }
    if available < amount {
        return Err(WithdrawalError::Insufficient {
            available,
            requested: amount,
        });
    }
    Posting::transfers(
        keys::withdrawal(id, "requested"),
        [(Account::available(agent), PAYABLES, amount)],
    )
    .ok_or(WithdrawalError::BadAmount)
}

/// HQ finance approved and paid the withdrawal out of its bank.
pub fn withdrawal_approved(id: u64, amount: Decimal) -> Option<Posting> {
    Posting::transfers(keys::withdrawal(id, "approved"), [(PAYABLES, CASH, amount)])
}

/// HQ finance refused it: the amount returns to the agent's available wallet.
pub fn withdrawal_rejected(agent: AgentId, id: u64, amount: Decimal) -> Option<Posting> {
    Posting::transfers(
        keys::withdrawal(id, "rejected"),
        [(PAYABLES, Account::available(agent), amount)],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::network::dec;

    #[test]
    fn shares_add_up_to_the_stored_amount() {
        let a = dec("0.10");
        // Three returns of 1 out of 3: 0.03 + 0.04 + 0.03, exactly 0.10 in all.
        let parts: Vec<_> = (0..3)
            .map(|r| share(a, r + 1, 3) - share(a, r, 3))
            .collect();
        assert_eq!(parts, [dec("0.03"), dec("0.04"), dec("0.03")]);
        assert_eq!(share(dec("810.00"), 10, 360), dec("22.50"));
        assert_eq!(share(dec("810.00"), 360, 360), dec("810.00"));
    }

    /// DOMAIN §5's top-up, forwarded: 48 items, goods 1488.00, HQ's allowance 168.00, margin
    /// 288.00, shipper 1200.00. Whichever way it is paid, the books balance, the buyer is charged
    /// and refunded exactly what it pays, and HQ's allowance comes back on a full refund.
    #[test]
    fn a_top_up_books_the_allowance_and_refunds_only_what_the_buyer_paid() {
        use super::super::ledger::Ledger;
        let (buyer, mid, ship) = (AgentId(1), AgentId(2), AgentId(3));
        for via in [PaidVia::Wallet, PaidVia::Offline] {
            let b = BookedOrder {
                order: OrderId(7),
                policy_version: 1,
                buyer,
                payee: Party::Agent(mid),
                shipper: Party::Agent(ship),
                quantity: 48,
                goods_amount: dec("1488.00"),
                upgrade_allowance: dec("168.00"),
                shipper_amount: dec("1200.00"),
                margins: vec![Earning {
                    agent: mid,
                    amount: dec("288.00"),
                }],
                rebate: None,
                award: None,
                paid_via: via,
                return_days: 7,
            };
            let mut ledger = Ledger::default();
            let deposit = Posting::transfers(
                "deposit",
                [(CASH, Account::available(buyer), dec("1320.00"))],
            )
            .expect("deposit");
            ledger.apply(deposit).expect("deposit");
            for p in on_payment(&b) {
                ledger.apply(p).expect("payment");
            }
            assert_eq!(
                ledger.balance(&EXPENSE),
                dec("-168.00"),
                "{via:?}: HQ bears it"
            );
            let refunds = [(0, 10), (10, 38)].map(|(before, n)| {
                refund(&b, u64::from(before) + 1, before, n, false)
                    .expect("in range")
                    .expect("moves")
            });
            for p in refunds {
                ledger.apply(p).expect("refund");
            }
            let total: Decimal = ledger.accounts().map(|a| ledger.balance(a)).sum();
            assert!(total.is_zero(), "{via:?}: the books balance");
            assert_eq!(
                ledger.balance(&EXPENSE),
                Decimal::ZERO,
                "{via:?}: allowance back"
            );
            match via {
                PaidVia::Wallet => {
                    assert_eq!(ledger.balance(&Account::available(buyer)), dec("1320.00"));
                    assert_eq!(ledger.balance(&Account::frozen(mid)), Decimal::ZERO);
                    assert_eq!(ledger.balance(&PAYABLES), Decimal::ZERO);
                }
                PaidVia::Offline => {
                    // The buyer paid the payee outside the books, and is refunded outside them.
                    assert_eq!(ledger.balance(&Account::available(buyer)), dec("1320.00"));
                    assert_eq!(ledger.balance(&Account::frozen(mid)), Decimal::ZERO);
                }
            }
        }
    }

    #[test]
    fn withdrawals_need_cover() {
        let a = AgentId(1);
        assert_eq!(
            withdrawal_requested(a, 1, dec("10.00"), dec("-5.00")),
            Err(WithdrawalError::Insufficient {
                available: dec("-5.00"),
                requested: dec("10.00")
            })
        );
        assert_eq!(
            withdrawal_requested(a, 1, dec("0"), dec("5")),
            Err(WithdrawalError::BadAmount)
        );
        assert_eq!(
            withdrawal_requested(a, 1, dec("1.001"), dec("5")),
            Err(WithdrawalError::BadAmount)
        );
        let p = withdrawal_requested(a, 1, dec("5.00"), dec("5.00")).expect("covered");
        assert_eq!(p.key(), "withdrawal:1:requested");
        assert_eq!(p.net(&Account::available(a)), dec("-5.00"));
    }
}
