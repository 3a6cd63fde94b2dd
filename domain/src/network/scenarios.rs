//! Scenario tests: DOMAIN's rules walked with seed 004's real numbers, and each known trap of
//! issue 4 as a named test that shows it cannot happen here.

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;

use super::ledger::{Account, Applied, HqAccount, Ledger, Posting};
use super::order::{OrderKind, OrderLine, ProductId, RestockOrder};
use super::placement::{self, AgentGraph, MemoryGraph};
use super::postings::{self, keys};
use super::settlement::{Settleable, settle_completed};
use super::upgrade::{top_up, upgrade_target};
use super::{
    AgentId, BookedOrder, OrderId, OrderState, PaidVia, Party, Policy, Referrer, SupplierLink,
    TierRank, dec, plan_forwarding,
};

const NATIONAL: TierRank = TierRank(1);
const PROVINCIAL: TierRank = TierRank(2);
const CITY: TierRank = TierRank(3);
const DISTRICT: TierRank = TierRank(4);

const SALES: Account = Account::Hq(HqAccount::Sales);
const EXPENSE: Account = Account::Hq(HqAccount::RebateExpense);
const PAYABLES: Account = Account::Hq(HqAccount::Payables);
const CASH: Account = Account::Hq(HqAccount::Cash);

fn a(n: u64) -> AgentId {
    AgentId(n)
}

fn seed() -> Policy {
    Policy::seed_004().expect("preset")
}

fn day(n: i64) -> DateTime<Utc> {
    DateTime::<Utc>::UNIX_EPOCH + Duration::days(n)
}

/// A small world: the policy, the referral graph and the ledger.
struct World {
    policy: Policy,
    graph: MemoryGraph,
    ledger: Ledger,
}

impl World {
    fn new() -> World {
        World {
            policy: seed(),
            graph: MemoryGraph::default(),
            ledger: Ledger::default(),
        }
    }

    fn join(&mut self, id: u64, referrer: Option<u64>, tier: TierRank) {
        self.graph
            .join(a(id), referrer.map(a), tier)
            .expect("no cycle");
    }

    fn referrer_now(&self, buyer: AgentId) -> Option<Referrer> {
        self.graph.referrer(buyer).map(|r| Referrer {
            agent: r,
            tier: self.graph.tier(r),
        })
    }

    /// Places an order at the buyer's tier price from its current supplier.
    fn order(&self, id: u64, kind: OrderKind, buyer: u64, quantity: u32) -> RestockOrder {
        let tier = self.graph.tier(a(buyer));
        let price = self.policy.price(tier, "TEA").expect("priced");
        let seller = placement::supplier_of(&self.graph, a(buyer)).expect("acyclic");
        let chain = placement::supplier_chain(&self.graph, a(buyer)).expect("acyclic");
        let v = self.policy.version();
        RestockOrder::new(
            OrderId(id),
            kind,
            a(buyer),
            tier,
            seller,
            chain,
            vec![OrderLine::new(ProductId(1), quantity, price)],
            v,
        )
    }

    /// Books the payment of a (not forwarded) order with the referrer as it stands now.
    fn pay(&mut self, order: &RestockOrder, via: PaidVia) -> BookedOrder {
        let referrer = self.referrer_now(order.buyer);
        let b = BookedOrder::at_payment(&self.policy, order, None, referrer, via).expect("booked");
        self.book(postings::on_payment(&b));
        b
    }

    fn book(&mut self, ps: impl IntoIterator<Item = Posting>) {
        for p in ps {
            assert_eq!(self.ledger.apply(p), Ok(Applied::Booked));
        }
    }

    fn complete(&mut self, b: &BookedOrder, returned: u32) {
        let s = Settleable {
            booked: b.clone(),
            state: OrderState::Received,
            received_at: Some(day(0)),
            returned: vec![returned],
            open_case: false,
        };
        let done = settle_completed(&mut self.ledger, &[s], day(7)).expect("no conflict");
        assert_eq!(done, vec![b.order]);
    }

    fn bal(&self, account: Account) -> Decimal {
        self.ledger.balance(&account)
    }

    fn available(&self, id: u64) -> Decimal {
        self.bal(Account::available(a(id)))
    }

    fn frozen(&self, id: u64) -> Decimal {
        self.bal(Account::frozen(a(id)))
    }

    fn total(&self) -> Decimal {
        self.ledger
            .accounts()
            .map(|acc| self.ledger.balance(acc))
            .sum()
    }
}

/// 区代 1 refers 市代 2; 2's entry order (72 × 31.00 = 2232.00, paid to HQ's bank) activates it:
/// 1 earns the 跨级推荐奖 of 150.00, frozen until the entry order completes.
#[test]
fn district_refers_city_award_150() {
    let mut w = World::new();
    w.join(1, None, DISTRICT);
    w.join(2, Some(1), CITY);
    let entry = w.order(10, OrderKind::Entry, 2, 72);
    assert_eq!(
        entry.seller,
        Party::Hq,
        "a 区代 referrer cannot supply a 市代"
    );
    let b = w.pay(&entry, PaidVia::Offline);
    assert_eq!(b.goods_amount(), dec("2232.00"));
    assert_eq!((w.frozen(1), w.available(1)), (dec("150.00"), dec("0")));
    assert_eq!(
        (w.bal(SALES), w.bal(CASH), w.bal(EXPENSE)),
        (dec("2232.00"), dec("-2232.00"), dec("-150.00"))
    );
    w.complete(&b, 0);
    assert_eq!((w.frozen(1), w.available(1)), (dec("0"), dec("150.00")));
    assert_eq!(w.total(), Decimal::ZERO);
}

/// 省代 1 refers 省代 2: 9% of each of 2's orders — the entry 360 × 25.00 = 9000.00 → 810.00, a
/// restock of 100 × 25.00 = 2500.00 → 225.00.
#[test]
fn provincial_refers_provincial_nine_percent_on_each_order() {
    let mut w = World::new();
    w.join(1, None, PROVINCIAL);
    w.join(2, Some(1), PROVINCIAL);
    let b1 = w.pay(&w.order(10, OrderKind::Entry, 2, 360), PaidVia::Offline);
    let b2 = w.pay(&w.order(11, OrderKind::Restock, 2, 100), PaidVia::Offline);
    assert_eq!(b1.rebate().map(|e| e.amount), Some(dec("810.00")));
    assert_eq!(b2.rebate().map(|e| e.amount), Some(dec("225.00")));
    assert_eq!(w.frozen(1), dec("1035.00"));
    assert!(b1.award().is_none(), "same tier: no 跨级推荐奖");
    w.complete(&b1, 0);
    assert_eq!(
        (w.frozen(1), w.available(1)),
        (dec("225.00"), dec("810.00"))
    );
}

/// 总代 1 ← 省代 2 ← 市代 3 ← 区代 4 (each referred by the one before). The 区代 orders 20 from its
/// supplier, the 市代, at 38.00 = 760.00, paid from its wallet. The 市代 and the 省代 are out of
/// stock, so the order is forwarded twice: 市代 → 省代 (20 × 31.00 = 620.00) and 省代 → 总代
/// (20 × 25.00 = 500.00); the 总代 drop-ships. Margins (差价): 市代 20 × (38 − 31) = 140.00,
/// 省代 20 × (31 − 25) = 120.00; the 总代's own sale is 500.00; 140 + 120 + 500 = 760.
#[test]
fn district_order_forwarded_twice_margins_to_city_and_provincial() {
    let mut w = World::new();
    w.join(1, None, NATIONAL);
    w.join(2, Some(1), PROVINCIAL);
    w.join(3, Some(2), CITY);
    w.join(4, Some(3), DISTRICT);
    // The 区代 has 1000.00 in its wallet (deposited into HQ's bank).
    w.book(Posting::transfers(
        "deposit:1",
        [(CASH, Account::available(a(4)), dec("1000.00"))],
    ));

    let order = w.order(20, OrderKind::Restock, 4, 20);
    assert_eq!(order.seller, Party::Agent(a(3)));
    assert_eq!(order.supplier_chain, vec![a(3), a(2), a(1)]);
    let links: Vec<_> = order
        .supplier_chain
        .iter()
        .map(|&s| SupplierLink {
            agent: s,
            unit_price: w.policy.price(w.graph.tier(s), "TEA").expect("priced"),
        })
        .collect();
    let plan = plan_forwarding(order.buyer, order.lines[0].unit_price, 20, &links, |p| {
        p == Party::Agent(a(1))
    })
    .expect("the 总代 has stock");
    assert_eq!(
        plan.legs.len(),
        3,
        "the original order and two linked orders"
    );
    let referrer = w.referrer_now(order.buyer);
    let b = BookedOrder::at_payment(
        &w.policy,
        &order,
        Some(std::slice::from_ref(&plan)),
        referrer,
        PaidVia::Wallet,
    )
    .expect("booked");
    assert_eq!(
        b.rebate(),
        None,
        "the 区代's referrer is a 市代: no same-tier rebate"
    );
    w.book(postings::on_payment(&b));
    assert_eq!(w.available(4), dec("240.00"));
    assert_eq!((w.frozen(3), w.frozen(2)), (dec("140.00"), dec("120.00")));
    assert_eq!(
        w.bal(PAYABLES),
        dec("500.00"),
        "held for the 总代 until completion"
    );

    w.complete(&b, 0);
    assert_eq!(
        (w.available(3), w.available(2), w.available(1)),
        (dec("140.00"), dec("120.00"), dec("500.00"))
    );
    assert_eq!(
        (w.bal(PAYABLES), w.frozen(3), w.frozen(2)),
        (dec("0"), dec("0"), dec("0"))
    );
    assert_eq!(w.total(), Decimal::ZERO);
}

/// The 省代 1 earned 810.00 on its referred 省代's entry order, saw it complete and withdrew it
/// all. Then 120 of the 360 items come back: 810.00 × 120 / 360 = 270.00 is clawed back from its
/// available wallet, which goes to −270.00; any withdrawal is blocked until later earnings cover it.
#[test]
fn refund_after_withdrawal_goes_negative_and_blocks_withdrawals() {
    let mut w = World::new();
    w.join(1, None, PROVINCIAL);
    w.join(2, Some(1), PROVINCIAL);
    let b = w.pay(&w.order(10, OrderKind::Entry, 2, 360), PaidVia::Offline);
    w.complete(&b, 0);
    let req =
        postings::withdrawal_requested(a(1), 1, dec("810.00"), w.available(1)).expect("covered");
    w.book([req]);
    w.book(postings::withdrawal_approved(1, dec("810.00")));
    assert_eq!(w.available(1), dec("0"));

    let refund = postings::refund(&b, 1, 0, 0, 120, true)
        .expect("quantity")
        .expect("lines");
    w.book([refund]);
    assert_eq!(w.available(1), dec("-270.00"));
    assert_eq!(
        w.available(2),
        dec("3000.00"),
        "the buyer gets 120 × 25.00 back"
    );
    assert!(postings::withdrawal_requested(a(1), 2, dec("0.01"), w.available(1)).is_err());

    // A later 1000-item restock earns 9% of 25000.00 = 2250.00: once completed it covers the debt.
    let b2 = w.pay(&w.order(11, OrderKind::Restock, 2, 1000), PaidVia::Offline);
    w.complete(&b2, 0);
    assert_eq!(w.available(1), dec("1980.00"));
    assert!(postings::withdrawal_requested(a(1), 2, dec("1980.00"), w.available(1)).is_ok());
    assert_eq!(w.total(), Decimal::ZERO);
}

/// 区代 1 (referred by 市代 9; entry 20 × 38.00 = 760.00) refers three agents who activate as 市代.
/// It may upgrade to 市代: top-up 72 × 31.00 − 760.00 = 1472.00 for the 52 items it lacks (goods
/// 1612.00 less the 140.00 credit for its 20 items bought at 38.00, which HQ bears), ordered
/// from the supplier it will have as a 市代 (HQ, as its referrer is only a 市代). Its referrer 9 is
/// a 市代 when the top-up is paid, so 9 earns 8% × 1472.00 = 117.76. Once paid, 1's supplier is
/// recomputed: HQ instead of 9.
#[test]
fn upgrade_with_top_up() {
    let mut w = World::new();
    w.join(9, None, CITY);
    w.join(1, Some(9), DISTRICT);
    let entry = w.pay(&w.order(10, OrderKind::Entry, 1, 20), PaidVia::Offline);
    assert_eq!(entry.goods_amount(), dec("760.00"));
    for id in 2..=4 {
        w.join(id, Some(1), CITY);
        w.pay(
            &w.order(10 + id, OrderKind::Entry, id, 72),
            PaidVia::Offline,
        );
    }
    assert_eq!(w.frozen(1), dec("450.00"), "3 × 150.00 跨级推荐奖");

    let target = upgrade_target(&w.policy, DISTRICT, &[CITY, CITY, CITY]).expect("eligible");
    let basis = super::upgrade::EntryBasis {
        items: u32::try_from(entry.quantity()).expect("small"),
        paid: entry.goods_amount(),
    };
    let t = top_up(&w.policy, target, basis, "TEA").expect("tiers");
    assert_eq!(
        (t.amount, t.quantity, t.unit_price, t.allowance),
        (dec("1472.00"), 52, dec("31.00"), dec("140.00"))
    );
    let seller = placement::supplier_at(&w.graph, a(1), target).expect("acyclic");
    assert_eq!(seller, Party::Hq);
    let mut order = RestockOrder::new(
        OrderId(20),
        OrderKind::Upgrade,
        a(1),
        target,
        seller,
        vec![],
        vec![OrderLine::new(ProductId(1), t.quantity, t.unit_price)],
        1,
    );
    assert_eq!(order.goods_amount(), t.goods_amount, "52 × 31.00 = 1612.00");
    order.lines[0].upgrade_allowance = t.allowance;
    let b = w.pay(&order, PaidVia::Offline);
    assert_eq!(b.buyer_pays(), dec("1472.00"));
    assert_eq!(
        b.rebate().map(|e| (e.agent, e.amount)),
        Some((a(9), dec("117.76")))
    );
    assert_eq!(b.award(), None, "an upgrade is not an activation");

    assert_eq!(
        placement::supplier_of(&w.graph, a(1)),
        Ok(Party::Agent(a(9)))
    );
    w.graph.set_tier(a(1), target);
    let moved =
        placement::recompute_after_tier_change(&w.graph, a(1), w.graph.ids()).expect("acyclic");
    assert!(moved.contains(&(a(1), Party::Hq)));
    assert!(
        moved.contains(&(a(2), Party::Hq)),
        "same tier as 1 now: still HQ"
    );
}

// --- the known traps of issue 4 ---

#[test]
fn trap_clawback_is_not_capped_at_the_balance() {
    let mut w = World::new();
    w.join(1, None, CITY);
    w.join(2, Some(1), CITY);
    let b = w.pay(&w.order(10, OrderKind::Entry, 2, 72), PaidVia::Offline);
    assert_eq!(
        b.rebate().map(|e| e.amount),
        Some(dec("178.56")),
        "8% × 2232.00"
    );
    w.complete(&b, 0);
    w.book(postings::withdrawal_requested(
        a(1),
        1,
        dec("178.56"),
        w.available(1),
    ));
    w.book(postings::withdrawal_approved(1, dec("178.56")));
    w.book(postings::refund(&b, 1, 0, 0, 72, true).expect("qty"));
    assert_eq!(
        w.available(1),
        dec("-178.56"),
        "the full amount, not what was left (0.00)"
    );
    assert_eq!(w.bal(EXPENSE), dec("0"), "HQ recovered every cent");
}

#[test]
fn trap_settlement_run_twice_pays_once() {
    let mut w = World::new();
    w.join(1, None, DISTRICT);
    w.join(2, Some(1), CITY);
    let b = w.pay(&w.order(10, OrderKind::Entry, 2, 72), PaidVia::Offline);
    let s = Settleable {
        booked: b,
        state: OrderState::Received,
        received_at: Some(day(0)),
        returned: vec![0],
        open_case: false,
    };
    let orders = [s.clone(), s];
    assert_eq!(
        settle_completed(&mut w.ledger, &orders, day(8)),
        Ok(vec![OrderId(10)])
    );
    assert_eq!(settle_completed(&mut w.ledger, &orders, day(9)), Ok(vec![]));
    assert_eq!(w.available(1), dec("150.00"));
    let early = Settleable {
        received_at: Some(day(5)),
        ..orders[0].clone()
    };
    let mut fresh = Ledger::default();
    assert_eq!(
        settle_completed(&mut fresh, &[early], day(8)),
        Ok(vec![]),
        "window not over"
    );
}

#[test]
fn trap_refund_reverses_the_booked_amount_not_a_recomputed_rate() {
    let mut w = World::new();
    w.join(1, None, PROVINCIAL);
    w.join(2, Some(1), PROVINCIAL);
    let b = w.pay(&w.order(10, OrderKind::Entry, 2, 360), PaidVia::Offline);
    // HQ later raises the 省代 rate to 12% in policy version 2; the refund still reverses 9%.
    let v2 = Policy::parse(
        &super::policy::SEED_004
            .replacen("version = 1", "version = 2", 1)
            .replacen("\"0.09\"", "\"0.12\"", 1),
    )
    .expect("valid v2");
    assert_eq!(
        v2.tier(PROVINCIAL).and_then(|t| t.same_tier_rate),
        Some(dec("0.12"))
    );
    let p = postings::refund(&b, 1, 0, 0, 36, false)
        .expect("qty")
        .expect("lines");
    assert_eq!(
        p.net(&Account::frozen(a(1))),
        dec("-81.00"),
        "810.00 × 36/360, not 12%"
    );
    w.book([p]);
    assert_eq!(w.frozen(1), dec("729.00"));
}

#[test]
fn trap_referral_cycle_a_b_c_a_is_rejected() {
    let mut w = World::new();
    w.join(1, None, CITY);
    w.join(2, Some(1), CITY);
    w.join(3, Some(2), CITY);
    assert!(matches!(
        w.graph.set_referrer(a(1), a(3)),
        Err(placement::PlacementError::Cycle(_))
    ));
    assert_eq!(
        placement::referrer_chain(&w.graph, a(3)),
        Ok(vec![a(2), a(1)])
    );
}

#[test]
fn trap_upline_change_does_not_rewrite_existing_orders() {
    let mut w = World::new();
    w.join(1, None, PROVINCIAL);
    w.join(2, Some(1), PROVINCIAL);
    let b = w.pay(&w.order(10, OrderKind::Entry, 2, 360), PaidVia::Offline);
    let before = postings::completion(&b, &[0]);
    // The referrer upgrades to 总代: the old order keeps its 810.00; new orders earn nothing.
    w.graph.set_tier(a(1), NATIONAL);
    assert_eq!(postings::completion(&b, &[0]), before);
    assert_eq!(b.rebate().map(|e| e.amount), Some(dec("810.00")));
    let b2 = w.pay(&w.order(11, OrderKind::Restock, 2, 100), PaidVia::Offline);
    assert_eq!(b2.rebate(), None);
    w.complete(&b, 0);
    assert_eq!(w.available(1), dec("810.00"));
}

#[test]
fn trap_same_tier_fee_without_same_tier_referrer_stays_with_hq() {
    let mut w = World::new();
    w.join(1, None, CITY);
    w.join(2, Some(1), PROVINCIAL);
    w.join(3, None, PROVINCIAL);
    let b = w.pay(&w.order(10, OrderKind::Restock, 2, 360), PaidVia::Offline);
    let b3 = w.pay(&w.order(11, OrderKind::Restock, 3, 360), PaidVia::Offline);
    assert_eq!((b.rebate(), b3.rebate()), (None, None));
    assert!(
        w.ledger
            .postings()
            .iter()
            .all(|p| p.key().ends_with(":paid")),
        "no one else is paid"
    );
    assert_eq!(w.bal(EXPENSE), dec("0"));
    assert_eq!(w.bal(SALES), dec("18000.00"));
    assert!(!w.ledger.contains(&keys::rebate(OrderId(10), a(1))));
}
