//! DOMAIN's rules walked with seed 004's real numbers, through the use cases and the real store.

use chainmark_server::domain::custody::CustodianKind;
use chainmark_server::domain::network::OrderState;
use chainmark_server::domain::network::{HqAccount, PaidVia};
use chainmark_server::network::{upgrade, withdrawals};

use super::{Net, dec};
use crate::common::backends;

/// 区代 D refers 市代 C; C's entry order (72 × 31.00 = 2232.00) goes to HQ (a 区代 cannot supply a
/// 市代), HQ finance confirms the transfer: D earns the 跨级推荐奖 150.00, frozen until the order
/// completes, and C is active.
#[test]
fn district_refers_city_award_150() {
    for backend in backends() {
        let net = Net::new(backend);
        net.items((CustodianKind::Hq, None), 100);
        let (d, _) = net.active("district-1", "district", None);
        let (c, c_actor) = net.pending("city-1", "city", Some(d));
        assert_eq!(
            net.agent(c).supplier_id,
            None,
            "{backend:?}: HQ supplies the 市代"
        );
        let order = net.submit(c_actor, 72);
        assert_eq!(net.order(order).goods_amount_cents, 223_200);
        chainmark_server::network::orders::accept(&mut net.conn(), order, net.admin)
            .expect("accept");
        net.pay(order, PaidVia::Offline, net.finance);
        assert_eq!(
            net.agent(c).status,
            chainmark_server::domain::network::AgentStatus::Active
        );
        assert_eq!(net.order(order).award_cents, Some(15_000));
        assert_eq!((net.frozen(d), net.available(d)), (dec("150.00"), dec("0")));
        assert_eq!(net.hq(HqAccount::Sales), dec("2232.00"));
        assert_eq!(net.hq(HqAccount::RebateExpense), dec("-150.00"));
        net.ship_and_receive(order, c_actor);
        assert_eq!(
            net.settle_after(6).completed,
            0,
            "the return window is 7 days"
        );
        assert_eq!(net.settle_after(8).completed, 1);
        assert_eq!((net.frozen(d), net.available(d)), (dec("0"), dec("150.00")));
        assert_eq!(net.order(order).state, OrderState::Completed);
        net.assert_books_balance();
    }
}

/// 省代 P1 refers 省代 P2: 9% of each of P2's orders — entry 360 × 25.00 = 9000.00 → 810.00,
/// restock 100 × 25.00 = 2500.00 → 225.00 — and no 跨级推荐奖.
#[test]
fn provincial_refers_provincial_nine_percent_on_each_order() {
    for backend in backends() {
        let net = Net::new(backend);
        net.items((CustodianKind::Hq, None), 460);
        let (p1, _) = net.active("prov-1", "provincial", None);
        let (p2, p2_actor) = net.pending("prov-2", "provincial", Some(p1));
        assert_eq!(
            net.agent(p2).supplier_id,
            None,
            "a same-tier referrer does not supply"
        );
        let entry = net.submit(p2_actor, 360);
        chainmark_server::network::orders::accept(&mut net.conn(), entry, net.admin)
            .expect("accept");
        net.pay(entry, PaidVia::Offline, net.finance);
        let restock = net.submit(p2_actor, 100);
        chainmark_server::network::orders::accept(&mut net.conn(), restock, net.admin)
            .expect("accept");
        net.pay(restock, PaidVia::Offline, net.finance);
        assert_eq!(net.order(entry).rebate_cents, Some(81_000), "{backend:?}");
        assert_eq!(net.order(restock).rebate_cents, Some(22_500));
        assert_eq!(net.order(entry).award_cents, None);
        assert_eq!(net.frozen(p1), dec("1035.00"));
        net.ship_and_receive(entry, p2_actor);
        net.settle_after(8);
        assert_eq!(
            (net.frozen(p1), net.available(p1)),
            (dec("225.00"), dec("810.00"))
        );
        net.assert_books_balance();
    }
}

/// 总代 N ← 省代 P ← 市代 C ← 区代 D. D orders 20 at 38.00 = 760.00 from C, paid from its wallet;
/// C and P hold nothing, N holds the stock: forwarded twice, N drop-ships to D. Margins 140.00 (C)
/// and 120.00 (P), N's sale 500.00 — released when the order completes.
#[test]
fn district_order_forwarded_twice_margins_to_each() {
    for backend in backends() {
        let net = Net::new(backend);
        let (n, n_actor) = net.active("national-1", "national", None);
        let (p, _) = net.active("prov-1", "provincial", Some(n));
        let (c, c_actor) = net.active("city-1", "city", Some(p));
        let (d, d_actor) = net.active("district-1", "district", Some(c));
        net.items((CustodianKind::Agent, Some(n)), 20);
        net.deposit(d, "1000.00");
        let order = net.submit(d_actor, 20);
        let row = net.order(order);
        assert_eq!(
            (row.seller_id, row.goods_amount_cents),
            (Some(c), 76_000),
            "{backend:?}"
        );
        let refused = chainmark_server::network::orders::accept(&mut net.conn(), order, c_actor);
        assert!(refused.is_err(), "C holds no stock, so it cannot accept");
        chainmark_server::network::orders::forward(&mut net.conn(), order, c_actor)
            .expect("forward");
        let row = net.order(order);
        assert_eq!((row.state.as_str(), row.shipper_id), ("forwarded", Some(n)));
        net.pay(order, PaidVia::Wallet, d_actor);
        let row = net.order(order);
        assert_eq!(row.shipper_amount_cents, Some(50_000));
        assert_eq!(net.available(d), dec("240.00"));
        assert_eq!(
            (net.frozen(c), net.frozen(p)),
            (dec("140.00"), dec("120.00"))
        );
        assert_eq!(net.hq(HqAccount::Payables), dec("500.00"));
        // C cannot ship N's items; N ships them straight to D.
        let serials = net.held((CustodianKind::Agent, Some(n)), 20);
        let wrong = chainmark_server::network::shipping::may_ship(&mut net.conn(), order, c_actor);
        assert!(wrong.is_err(), "only the shipper ships");
        chainmark_server::network::shipping::may_ship(&mut net.conn(), order, n_actor)
            .expect("N ships");
        let out =
            chainmark_server::network::shipping::ship_items(&mut net.conn(), order, None, &serials)
                .expect("ship");
        assert_eq!((out.accepted.len(), out.state.as_str()), (20, "shipped"));
        chainmark_server::network::shipping::receive(&mut net.conn(), order, d_actor, false)
            .expect("receive");
        assert_eq!(
            net.held((CustodianKind::Agent, Some(d)), 100).len(),
            20,
            "D holds the items now"
        );
        net.settle_after(8);
        assert_eq!(net.available(c), dec("140.00"));
        assert_eq!(net.available(p), dec("120.00"));
        assert_eq!(net.available(n), dec("500.00"));
        assert_eq!(net.hq(HqAccount::Payables), dec("0"));
        net.assert_books_balance();
    }
}

/// P1 earns 810.00 on P2's entry order, withdraws it (approved, paid out), then P2 returns all
/// 360 items: the rebate is clawed back in full although P1's wallet is empty — it goes to
/// −810.00, nothing is lost, and P1 cannot withdraw until later earnings cover it.
#[test]
fn refund_after_withdrawal_claws_back_below_zero() {
    for backend in backends() {
        let net = Net::new(backend);
        net.items((CustodianKind::Hq, None), 360);
        let (p1, p1_actor) = net.active("prov-1", "provincial", None);
        let (_, p2_actor) = net.pending("prov-2", "provincial", Some(p1));
        let entry = net.submit(p2_actor, 360);
        chainmark_server::network::orders::accept(&mut net.conn(), entry, net.admin)
            .expect("accept");
        net.pay(entry, PaidVia::Offline, net.finance);
        net.ship_and_receive(entry, p2_actor);
        net.settle_after(8);
        assert_eq!(net.available(p1), dec("810.00"), "{backend:?}");
        let w = withdrawals::request(&mut net.conn(), p1_actor, dec("810.00")).expect("request");
        withdrawals::decide(&mut net.conn(), w.id, true, None, net.finance).expect("approve");
        assert_eq!(net.available(p1), dec("0"));
        assert_eq!(net.hq(HqAccount::Cash), dec("-8190.00"), "9000 in, 810 out");
        let input = chainmark_server::network::refunds::RefundInput {
            sku: None,
            quantity: 360,
            serials: Vec::new(),
            reason: "returned".into(),
        };
        chainmark_server::network::refunds::refund(&mut net.conn(), entry, &input, net.finance)
            .expect("refund");
        assert_eq!(
            net.available(p1),
            dec("-810.00"),
            "clawed back in full, not capped"
        );
        assert_eq!(net.order(entry).state, OrderState::Refunded);
        let blocked = withdrawals::request(&mut net.conn(), p1_actor, dec("1.00"));
        assert!(blocked.is_err(), "a negative balance blocks withdrawals");
        assert_eq!(
            net.hq(HqAccount::RebateExpense),
            dec("0"),
            "the rebate is back with HQ"
        );
        net.assert_books_balance();
    }
}

/// 区代 X (entry 20 × 38.00 = 760.00) has referred three 市代 who were activated: it tops up
/// 52 items for 72 × 31.00 − 760.00 = 1472.00 (goods 1612.00 less a 140.00 credit that HQ
/// bears); paying it makes X a 市代, and X's own referred
/// 区代 now buys from X.
#[test]
fn upgrade_with_top_up() {
    for backend in backends() {
        let net = Net::new(backend);
        let (p, p_actor) = net.active("prov-1", "provincial", None);
        net.items((CustodianKind::Agent, Some(p)), 52);
        let (x, x_actor) = net.pending("district-x", "district", Some(p));
        {
            let mut conn = net.conn();
            let rank = net.agent(x).tier_rank;
            chainmark_server::store::network::agents::activate(&mut conn, x, rank, 76_000)
                .expect("activate X");
        }
        let (y, _) = net.active("district-y", "district", Some(x));
        assert_eq!(
            net.agent(y).supplier_id,
            Some(p),
            "{backend:?}: X is not above Y yet"
        );
        let refused = upgrade::request(&mut net.conn(), x_actor, super::SKU);
        assert!(refused.is_err(), "no referred 市代 yet");
        for i in 0..3 {
            let (c, _) = net.pending(&format!("city-{i}"), "city", Some(x));
            let mut conn = net.conn();
            chainmark_server::store::network::agents::activate(&mut conn, c, 3, 223_200)
                .expect("activate city");
        }
        let progress = upgrade::progress(&mut net.conn(), x).expect("progress");
        assert_eq!(
            (progress.have, progress.need, progress.eligible),
            (3, 3, true)
        );
        assert_eq!(progress.top_up, Some((52, dec("1472.00"))));
        let upgrade::Requested::Order(order) =
            upgrade::request(&mut net.conn(), x_actor, super::SKU).expect("top-up order")
        else {
            panic!("{backend:?}: 52 items to top up, an order is placed")
        };
        assert_eq!(
            (
                order.kind.as_str(),
                order.quantity,
                order.goods_amount_cents,
                order.upgrade_allowance_cents
            ),
            ("upgrade", 52, 161_200, Some(14_000)),
            "52 × 31.00, less the 140.00 credit for 20 items bought at 38.00: X pays 1472.00"
        );
        assert_eq!(order.seller_id, Some(p), "the supplier at the target tier");
        chainmark_server::network::orders::accept(&mut net.conn(), order.id, p_actor)
            .expect("accept");
        assert_eq!(net.agent(x).tier_rank, 4, "not before it is paid");
        net.pay(order.id, PaidVia::Offline, p_actor);
        let after = net.agent(x);
        assert_eq!((after.tier_rank, after.entry_paid_cents), (3, 223_200));
        assert_eq!(
            net.agent(y).supplier_id,
            Some(x),
            "X's 区代 now buys from X"
        );
        assert_eq!(
            after.supplier_id,
            Some(p),
            "X (市代) still buys from the 省代"
        );
        net.ship_and_receive(order.id, x_actor);
        net.assert_books_balance();
    }
}

/// The same chain paid offline (DOMAIN §4): D transfers 760.00 to C and C confirms; the margins
/// settle outside the books, so C pays P its price (620.00) and P pays N (500.00), each payee
/// confirming its leg. Only the leg's seller confirms, only after the order is paid, once; the
/// books hold none of the offline money.
#[test]
fn an_offline_forwarded_order_is_paid_up_the_chain_leg_by_leg() {
    use chainmark_server::error::Error;
    use chainmark_server::network::payment::confirm_leg;
    use chainmark_server::store::agent_pages::{leg_payments_of, legs_due};
    let code = |r: Result<chainmark_server::store::network::orders::OrderRow, Error>| match r {
        Err(Error::Refused { code, .. }) => code.to_string(),
        Err(e) => format!("{e:?}"),
        Ok(_) => "ok".into(),
    };
    for backend in backends() {
        let net = Net::new(backend);
        let (n, n_actor) = net.active("national-1", "national", None);
        let (p, p_actor) = net.active("prov-1", "provincial", Some(n));
        let (c, c_actor) = net.active("city-1", "city", Some(p));
        let (d, d_actor) = net.active("district-1", "district", Some(c));
        net.items((CustodianKind::Agent, Some(n)), 20);
        let order = net.submit(d_actor, 20);
        chainmark_server::network::orders::forward(&mut net.conn(), order, c_actor)
            .expect("forward");
        let legs = chainmark_server::store::network::orders::legs_of(&mut net.conn(), &[order])
            .expect("legs");
        let amounts: Vec<(i64, i64)> = legs
            .iter()
            .map(|l| (l.buyer_id, l.goods_amount_cents))
            .collect();
        assert_eq!(
            amounts,
            [(d, 76_000), (c, 62_000), (p, 50_000)],
            "{backend:?}: leg 0 is the order itself"
        );
        // Before the buyer pays: nothing to confirm yet.
        assert_eq!(
            code(confirm_leg(&mut net.conn(), order, 1, p_actor)),
            "leg_not_due"
        );
        net.pay(order, PaidVia::Offline, c_actor);
        // P owes N, and C owes P: both see it; N and P see what to confirm.
        let due = |agent: i64| {
            legs_due(&mut net.conn(), agent, 10)
                .expect("due")
                .iter()
                .map(|l| l.position)
                .collect::<Vec<_>>()
        };
        assert_eq!((due(c), due(p), due(n)), (vec![1], vec![1, 2], vec![2]));
        // Leg 0 is the order itself, paid with it.
        assert_eq!(
            code(confirm_leg(&mut net.conn(), order, 0, c_actor)),
            "leg_already_paid"
        );
        // Only the leg's seller confirms: not its buyer, not the agent above, not another.
        assert!(
            matches!(
                confirm_leg(&mut net.conn(), order, 1, c_actor),
                Err(Error::Forbidden(_))
            ),
            "{backend:?}: the leg's buyer does not confirm its own payment"
        );
        assert!(matches!(
            confirm_leg(&mut net.conn(), order, 1, n_actor),
            Err(Error::Forbidden(_))
        ));
        assert!(matches!(
            confirm_leg(&mut net.conn(), order, 7, p_actor),
            Err(Error::NotFound { .. })
        ));
        assert_eq!(code(confirm_leg(&mut net.conn(), order, 1, p_actor)), "ok");
        assert_eq!(
            code(confirm_leg(&mut net.conn(), order, 1, p_actor)),
            "leg_already_paid"
        );
        assert_eq!((due(c), due(p), due(n)), (vec![], vec![2], vec![2]));
        assert_eq!(code(confirm_leg(&mut net.conn(), order, 2, n_actor)), "ok");
        assert_eq!((due(c), due(p), due(n)), (vec![], vec![], vec![]));
        let paid: Vec<i32> = leg_payments_of(&mut net.conn(), &[order])
            .expect("payments")
            .iter()
            .map(|l| l.position)
            .collect();
        assert_eq!(paid, [1, 2]);
        // Offline: no margin passed through the books.
        assert_eq!((net.frozen(c), net.frozen(p)), (dec("0"), dec("0")));
        net.assert_books_balance();
    }
}

/// Paid from the wallet, the legs settle in the ledger: there is nothing to confirm.
#[test]
fn a_wallet_paid_forwarded_order_has_no_leg_to_confirm() {
    use chainmark_server::error::Error;
    for backend in backends() {
        let net = Net::new(backend);
        let (n, _) = net.active("national-1", "national", None);
        let (p, p_actor) = net.active("prov-1", "provincial", Some(n));
        let (c, c_actor) = net.active("city-1", "city", Some(p));
        let (d, d_actor) = net.active("district-1", "district", Some(c));
        net.items((CustodianKind::Agent, Some(n)), 20);
        net.deposit(d, "1000.00");
        let order = net.submit(d_actor, 20);
        chainmark_server::network::orders::forward(&mut net.conn(), order, c_actor)
            .expect("forward");
        net.pay(order, PaidVia::Wallet, d_actor);
        assert!(
            chainmark_server::store::agent_pages::legs_due(&mut net.conn(), p, 10)
                .expect("due")
                .is_empty(),
            "{backend:?}"
        );
        let refused =
            chainmark_server::network::payment::confirm_leg(&mut net.conn(), order, 1, p_actor);
        assert!(
            matches!(&refused, Err(Error::Refused { code, .. }) if *code == "leg_settled_in_books"),
            "{refused:?}"
        );
    }
}
