//! Property tests of the money: after any sequence of orders, payments, refunds, completions and
//! withdrawals, every balance is the sum of its lines, the whole ledger sums to zero, replaying any
//! posting books nothing, and no refund reverses more than was booked.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;
use rust_decimal::Decimal;

use super::ledger::{Account, Applied, HqAccount, Ledger, Posting};
use super::order::OrderState;
use super::order::{OrderKind, OrderLine, ProductId, RestockOrder};
use super::placement::{self, AgentGraph, MemoryGraph};
use super::postings::{self, keys};
use super::settlement::{Settleable, settle_completed};
use super::{
    AgentId, BookedOrder, OrderId, PaidVia, Party, Policy, Referrer, SupplierLink, TierRank,
    plan_forwarding,
};

#[derive(Debug, Clone)]
enum Op {
    Order {
        buyer: usize,
        quantity: u32,
        wallet: bool,
        stock: u8,
    },
    Refund {
        order: usize,
        quantity: u32,
    },
    Complete {
        order: usize,
    },
    Withdraw {
        agent: usize,
        cents: i64,
        approve: bool,
    },
    Replay {
        posting: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0usize..8, 1u32..400, any::<bool>(), any::<u8>())
            .prop_map(|(buyer, quantity, wallet, stock)| Op::Order { buyer, quantity, wallet, stock }),
        2 => (0usize..40, 1u32..400).prop_map(|(order, quantity)| Op::Refund { order, quantity }),
        2 => (0usize..40).prop_map(|order| Op::Complete { order }),
        2 => (0usize..8, 1i64..500_000, any::<bool>())
            .prop_map(|(agent, cents, approve)| Op::Withdraw { agent, cents, approve }),
        1 => (0usize..200).prop_map(|posting| Op::Replay { posting }),
    ]
}

struct Open {
    booked: BookedOrder,
    returned: u32,
    completed: bool,
}

fn network(tiers: &[u8], referrers: &[usize]) -> MemoryGraph {
    let mut g = MemoryGraph::default();
    for (i, t) in tiers.iter().enumerate() {
        // Agent i may be referred by an earlier agent: acyclic by construction.
        let referrer =
            (i > 0 && referrers[i] % (i + 1) < i).then(|| AgentId((referrers[i] % i) as u64));
        g.join(AgentId(i as u64), referrer, TierRank(*t))
            .expect("acyclic");
    }
    g
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn the_books_always_balance(
        tiers in proptest::collection::vec(1u8..=5, 8),
        referrers in proptest::collection::vec(0usize..8, 8),
        ops in proptest::collection::vec(op(), 1..60),
    ) {
        let policy = Policy::seed_004().expect("preset");
        let graph = network(&tiers, &referrers);
        let mut ledger = Ledger::default();
        let mut orders: Vec<Open> = Vec::new();
        let mut withdrawals = 0u64;
        let mut refunds = 0u64;
        for op in ops {
            match op {
                Op::Order { buyer, quantity, wallet, stock } => {
                    let buyer = AgentId(buyer as u64);
                    let tier = graph.tier(buyer);
                    let price = policy.price(tier, "TEA").expect("priced");
                    let seller = placement::supplier_of(&graph, buyer).expect("acyclic");
                    let chain = placement::supplier_chain(&graph, buyer).expect("acyclic");
                    let id = OrderId(orders.len() as u64);
                    let order = RestockOrder::new(id, OrderKind::Entry, buyer, tier, seller, chain.clone(), vec![OrderLine::new(ProductId(1), quantity, price)], 1);
                    let links: Vec<_> = chain.iter().map(|&s| SupplierLink {
                        agent: s, unit_price: policy.price(graph.tier(s), "TEA").expect("priced"),
                    }).collect();
                    // Bit i of `stock`: the i-th supplier holds stock; HQ always does.
                    let plan = plan_forwarding(buyer, price, quantity, &links, |p| match p {
                        Party::Hq => true,
                        Party::Agent(s) => chain.iter().position(|&c| c == s).is_some_and(|i| stock & (1 << i) != 0),
                    }).expect("HQ has stock");
                    let covered = ledger.balance(&Account::available(buyer)) >= order.goods_amount();
                    let via = if wallet && covered { PaidVia::Wallet } else { PaidVia::Offline };
                    let referrer = graph.referrer(buyer).map(|r| Referrer { agent: r, tier: graph.tier(r) });
                    let booked = BookedOrder::at_payment(&policy, &order, Some(std::slice::from_ref(&plan)), referrer, via).expect("booked");
                    for p in postings::on_payment(&booked) {
                        prop_assert_eq!(ledger.apply(p), Ok(Applied::Booked));
                    }
                    orders.push(Open { booked, returned: 0, completed: false });
                }
                Op::Refund { order, quantity } => {
                    let Some(o) = orders.get_mut(order) else { continue };
                    let returning = quantity.min(o.booked.lines[0].quantity - o.returned);
                    if returning == 0 { continue }
                    refunds += 1;
                    let p = postings::refund(&o.booked, refunds, 0, o.returned, returning, o.completed).expect("quantity");
                    o.returned += returning;
                    if let Some(p) = p {
                        prop_assert_eq!(ledger.apply(p), Ok(Applied::Booked));
                    }
                }
                Op::Complete { order } => {
                    let Some(o) = orders.get(order) else { continue };
                    let s = Settleable {
                        booked: o.booked.clone(),
                        state: OrderState::Received,
                        received_at: Some(DateTime::<Utc>::UNIX_EPOCH),
                        returned: vec![o.returned],
                        open_case: false,
                    };
                    let now = DateTime::<Utc>::UNIX_EPOCH + Duration::days(30);
                    let done = settle_completed(&mut ledger, std::slice::from_ref(&s), now).expect("no conflict");
                    if o.completed {
                        prop_assert!(done.is_empty(), "settled twice");
                    }
                    orders[order].completed = true;
                }
                Op::Withdraw { agent, cents, approve } => {
                    let agent = AgentId(agent as u64);
                    let amount = Decimal::new(cents, 2);
                    let available = ledger.balance(&Account::available(agent));
                    withdrawals += 1;
                    match postings::withdrawal_requested(agent, withdrawals, amount, available) {
                        Err(_) => prop_assert!(available < amount),
                        Ok(p) => {
                            prop_assert_eq!(ledger.apply(p), Ok(Applied::Booked));
                            let done = if approve {
                                postings::withdrawal_approved(withdrawals, amount)
                            } else {
                                postings::withdrawal_rejected(agent, withdrawals, amount)
                            };
                            ledger.apply_all(done).expect("fresh key");
                        }
                    }
                }
                Op::Replay { posting } => {
                    let Some(p) = ledger.postings().get(posting).cloned() else { continue };
                    let before: HashMap<Account, Decimal> = ledger.accounts().map(|a| (*a, ledger.balance(a))).collect();
                    prop_assert_eq!(ledger.apply(p), Ok(Applied::Replayed));
                    for (a, b) in before {
                        prop_assert_eq!(ledger.balance(&a), b);
                    }
                }
            }
        }
        check_books(&ledger)?;
        check_refunds(&ledger, &orders)?;
        // Replaying every posting books nothing.
        let all: Vec<Posting> = ledger.postings().to_vec();
        for p in all {
            prop_assert_eq!(ledger.apply(p), Ok(Applied::Replayed));
        }
        check_books(&ledger)?;
    }
}

/// Every balance is the sum of its lines; each posting and the whole ledger sum to zero.
fn check_books(ledger: &Ledger) -> Result<(), TestCaseError> {
    let mut sums: HashMap<Account, Decimal> = HashMap::new();
    for p in ledger.postings() {
        let net: Decimal = p.lines().iter().map(|l| l.amount).sum();
        prop_assert_eq!(net, Decimal::ZERO);
        for l in p.lines() {
            prop_assert!(l.amount.normalize().scale() <= 2, "whole cents");
            *sums.entry(l.account).or_default() += l.amount;
        }
    }
    for a in ledger.accounts() {
        prop_assert_eq!(ledger.balance(a), sums.get(a).copied().unwrap_or_default());
    }
    let total: Decimal = ledger.accounts().map(|a| ledger.balance(a)).sum();
    prop_assert_eq!(total, Decimal::ZERO);
    Ok(())
}

/// Per order, refunds reverse at most what was booked: rebates and awards back to HQ, margins and
/// goods back to the buyer.
fn check_refunds(ledger: &Ledger, orders: &[Open]) -> Result<(), TestCaseError> {
    let expense = Account::Hq(HqAccount::RebateExpense);
    for o in orders {
        let b = &o.booked;
        let prefix = format!("order:{}:refund:", b.order);
        let refunds: Vec<&Posting> = ledger
            .postings()
            .iter()
            .filter(|p| p.key().starts_with(&prefix))
            .collect();
        let clawed: Decimal = refunds.iter().map(|p| p.net(&expense)).sum();
        let earned: Decimal = b.rebate().iter().chain(&b.award()).map(|e| e.amount).sum();
        prop_assert!(
            clawed >= Decimal::ZERO && clawed <= earned,
            "{clawed} > {earned}"
        );
        if u64::from(o.returned) == b.quantity() {
            prop_assert_eq!(
                clawed,
                earned,
                "a full return reverses exactly the booked amounts"
            );
        }
        let to_buyer: Decimal = refunds
            .iter()
            .map(|p| p.net(&Account::available(b.buyer)))
            .sum();
        let paid_back_limit = if b.through_platform() {
            b.goods_amount()
        } else {
            Decimal::ZERO
        };
        // The buyer may also be the referrer or an intermediate; bound the goods part loosely.
        if b.rebate().is_none_or(|r| r.agent != b.buyer)
            && b.award().is_none_or(|r| r.agent != b.buyer)
            && b.margins().iter().all(|m| m.agent != b.buyer)
        {
            prop_assert!(
                to_buyer <= paid_back_limit,
                "{to_buyer} > {paid_back_limit}"
            );
        }
        if ledger.contains(&keys::complete(b.order)) {
            prop_assert!(o.completed);
        }
    }
    Ok(())
}
