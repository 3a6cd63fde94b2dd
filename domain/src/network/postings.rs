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

use super::earnings::{BookedLine, BookedOrder, Earning, PaidVia};
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

/// Whether margins pass through the books (an offline payment to an agent settles them offline).
fn margins_booked(b: &BookedOrder) -> bool {
    b.through_platform()
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
/// the payee's frozen wallet until completion, like an earning. `allowance` is the order's or a
/// line's.
fn payee_allowance(b: &BookedOrder, allowance: Decimal) -> Option<Earning> {
    match b.payee {
        Party::Agent(agent) if !b.through_platform() && !allowance.is_zero() => Some(Earning {
            agent,
            amount: allowance,
        }),
        _ => None,
    }
}

/// Adds up moves between the same two accounts, so a cart's posting has one line pair per pair
/// of accounts, however many lines the order has.
fn merged(moves: Vec<(Account, Account, Decimal)>) -> Vec<(Account, Account, Decimal)> {
    let mut out: Vec<(Account, Account, Decimal)> = Vec::with_capacity(moves.len());
    for (from, to, amount) in moves {
        match out.iter_mut().find(|m| m.0 == from && m.1 == to) {
            Some(m) => m.2 += amount,
            None => out.push((from, to, amount)),
        }
    }
    out
}

/// The order paid: the goods amount to the payee's sales or payables — what the buyer pays from
/// the payer, HQ's upgrade allowance (if any) from its expense — and each forwarding agent's
/// margin (the sum of its per-line margins) from payables into its frozen wallet. Paid offline
/// to an agent, only the allowance is booked (to the payee).
pub fn paid(b: &BookedOrder) -> Vec<Posting> {
    if !b.through_platform() {
        return payee_allowance(b, b.upgrade_allowance())
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
            (EXPENSE, held_in(b), b.upgrade_allowance()),
        ],
    )
    .into_iter()
    .collect();
    out.extend(b.margins().iter().filter_map(|m| {
        Posting::transfers(
            keys::margin(b.order, m.agent),
            [(PAYABLES, Account::frozen(m.agent), m.amount)],
        )
    }));
    out
}

/// 同级推荐奖 (the sum of its per-line parts): from HQ's rebate expense into the referrer's
/// frozen wallet.
pub fn rebate(b: &BookedOrder) -> Option<Posting> {
    let r = b.rebate()?;
    Posting::transfers(
        keys::rebate(b.order, r.agent),
        [(EXPENSE, Account::frozen(r.agent), r.amount)],
    )
}

/// 跨级推荐奖: once, from HQ's rebate expense into the referrer's frozen wallet.
pub fn award(b: &BookedOrder) -> Option<Posting> {
    let a = b.award()?;
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

/// Every stored earning of a line that sits in a frozen wallet until completion.
fn frozen_earnings(b: &BookedOrder, line: &BookedLine) -> Vec<Earning> {
    let margins = if margins_booked(b) {
        &line.margins[..]
    } else {
        &[]
    };
    let rebate = b.rebate_agent.map(|agent| Earning {
        agent,
        amount: line.rebate,
    });
    let award = b.award_agent.map(|agent| Earning {
        agent,
        amount: line.award,
    });
    margins
        .iter()
        .copied()
        .chain(rebate)
        .chain(award)
        .chain(payee_allowance(b, line.upgrade_allowance))
        .collect()
}

/// The order completed with `returned[i]` items of line `i` refunded so far: what is left of
/// each line's earnings moves from frozen to available, and what is left of the shipper's goods
/// money leaves payables — each line's share computed on the line's own stored amounts.
pub fn completion(b: &BookedOrder, returned: &[u32]) -> Option<Posting> {
    let mut moves = Vec::new();
    for (i, line) in b.lines.iter().enumerate() {
        let r = returned.get(i).copied().unwrap_or(0);
        let left = |amount: Decimal| amount - share(amount, r, line.quantity);
        for e in frozen_earnings(b, line) {
            moves.push((
                Account::frozen(e.agent),
                Account::available(e.agent),
                left(e.amount),
            ));
        }
        if b.through_platform() && held_in(b) == PAYABLES {
            let to = match b.shipper {
                Party::Hq => SALES,
                Party::Agent(s) => Account::available(s),
            };
            moves.push((PAYABLES, to, left(line.shipper_amount)));
        }
    }
    Posting::transfers(keys::complete(b.order), merged(moves))
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
    #[error("the order has no line {0}")]
    NoSuchLine(usize),
}

/// Refund `refund_id` returns `returning` items of line `line` after `returned_before` of that
/// line: the buyer gets back the matching share of the line's shipper money and margins, and the
/// line's rebate and award are clawed back in the same proportion — from frozen before
/// completion, from available after (which may go negative). Exactly the line's stored amounts:
/// nothing is recomputed.
pub fn refund(
    b: &BookedOrder,
    refund_id: u64,
    line: usize,
    returned_before: u32,
    returning: u32,
    completed: bool,
) -> Result<Option<Posting>, RefundError> {
    let l = b.lines.get(line).ok_or(RefundError::NoSuchLine(line))?;
    if RefundScope::of(l.quantity, returned_before, returning).is_none() {
        return Err(RefundError::BadQuantity {
            quantity: l.quantity,
            returned_before,
            returning,
        });
    }
    let after = returned_before + returning;
    let part = |amount: Decimal| {
        share(amount, after, l.quantity) - share(amount, returned_before, l.quantity)
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
        moves.push((shipper_holds, refund_to, part(l.shipper_amount)));
        for m in &l.margins {
            moves.push((wallet(m.agent), refund_to, part(m.amount)));
        }
        if !l.upgrade_allowance.is_zero() {
            // The buyer gets back its share of what it paid, exactly; the rest of the returned
            // goods money is HQ's allowance going back to its expense.
            let returned: Decimal = moves.iter().map(|m| m.2).sum();
            moves.push((refund_to, EXPENSE, returned - part(l.buyer_pays())));
        }
    }
    let rebate = b.rebate_agent.map(|agent| Earning {
        agent,
        amount: l.rebate,
    });
    let award = b.award_agent.map(|agent| Earning {
        agent,
        amount: l.award,
    });
    for e in rebate
        .iter()
        .chain(&award)
        .chain(&payee_allowance(b, l.upgrade_allowance))
    {
        moves.push((wallet(e.agent), EXPENSE, part(e.amount)));
    }
    Ok(Posting::transfers(
        keys::refund(b.order, refund_id),
        merged(moves),
    ))
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

impl crate::Refusal for RefundError {
    fn code(&self) -> &'static str {
        match self {
            RefundError::BadQuantity { .. } => "refund_quantity_exceeds_order",
            RefundError::NoSuchLine(_) => "refund_no_such_line",
        }
    }
}

impl crate::Refusal for WithdrawalError {
    fn code(&self) -> &'static str {
        match self {
            WithdrawalError::BadAmount => "withdrawal_bad_amount",
            WithdrawalError::Insufficient { .. } => "insufficient_balance",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::dec;

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
                lines: vec![BookedLine {
                    quantity: 48,
                    goods_amount: dec("1488.00"),
                    upgrade_allowance: dec("168.00"),
                    shipper_amount: dec("1200.00"),
                    margins: vec![Earning {
                        agent: mid,
                        amount: dec("288.00"),
                    }],
                    rebate: Decimal::ZERO,
                    award: Decimal::ZERO,
                }],
                rebate_agent: None,
                award_agent: None,
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
                refund(&b, u64::from(before) + 1, 0, before, n, false)
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
