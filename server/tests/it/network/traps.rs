//! The known traps of the systems brands use today (issue 4), each shown impossible here, on
//! both backends. (A clawback capped at the balance: `scenarios::refund_after_withdrawal_…`;
//! settlement paying twice: `concurrency::overlapping_settlement_runs_pay_once`.)

use chainmark_server::domain::custody::CustodianKind;
use chainmark_server::domain::network::policy::SEED_004;
use chainmark_server::domain::network::{HqAccount, PaidVia};
use chainmark_server::network::{agents, orders, policy, refunds};

use super::{Net, dec};
use crate::common::backends;

fn refund_all(net: &Net, order: i64, quantity: i64) {
    let input = refunds::RefundInput {
        sku: None,
        quantity,
        serials: Vec::new(),
        reason: "returned".into(),
    };
    refunds::refund(&mut net.conn(), order, &input, net.finance).expect("refund");
}

/// A refund reverses the booked 9% although the policy now says 20%.
#[test]
fn a_refund_reverses_the_booked_amount_not_todays_rate() {
    for backend in backends() {
        let net = Net::new(backend);
        net.items((CustodianKind::Hq, None), 100);
        let (p1, _) = net.active("p1", "provincial", None);
        let (_, p2a) = net.active("p2", "provincial", Some(p1));
        let order = net.submit(p2a, 100);
        orders::accept(&mut net.conn(), order, net.admin).expect("accept");
        net.pay(order, PaidVia::Offline, net.finance);
        assert_eq!(net.frozen(p1), dec("225.00"));
        let v2 = SEED_004
            .replace("version = 1", "version = 2")
            .replace("same_tier_rate = \"0.09\"", "same_tier_rate = \"0.20\"");
        policy::save_draft(&mut net.conn(), &v2, net.admin.user()).expect("draft");
        policy::activate(&mut net.conn(), 2, net.admin.user()).expect("activate v2");
        net.ship_and_receive(order, p2a);
        refund_all(&net, order, 40);
        assert_eq!(
            net.frozen(p1),
            dec("135.00"),
            "{backend:?}: 225.00 − 40% of 225.00"
        );
        assert_eq!(net.order(order).policy_version, 1);
        net.assert_books_balance();
    }
}

/// A → B → C → A is refused, like A ↔ B; nothing changes.
#[test]
fn a_referral_cycle_longer_than_two_is_refused() {
    for backend in backends() {
        let net = Net::new(backend);
        let (a, _) = net.active("a", "city", None);
        let (b, _) = net.active("b", "city", Some(a));
        let (c, _) = net.active("c", "city", Some(b));
        let err =
            agents::correct_referrer(&mut net.conn(), a, c, net.admin.user()).expect_err("cycle");
        assert!(err.to_string().contains("cycle"), "{backend:?}: {err}");
        assert!(agents::correct_referrer(&mut net.conn(), a, b, None).is_err());
        assert!(agents::correct_referrer(&mut net.conn(), a, a, None).is_err());
        assert_eq!(net.agent(a).referrer_id, None);
    }
}

/// Earnings fixed at payment stay with whom they were booked for, whatever happens upstream
/// afterwards: the referrer is suspended and the buyer's referrer corrected, and the completion
/// still releases the stored rebate to the original referrer.
#[test]
fn an_upline_change_does_not_rewrite_old_orders() {
    for backend in backends() {
        let net = Net::new(backend);
        net.items((CustodianKind::Hq, None), 100);
        let (p1, _) = net.active("p1", "provincial", None);
        let (p3, _) = net.active("p3", "provincial", None);
        let (p2, p2a) = net.active("p2", "provincial", Some(p1));
        let order = net.submit(p2a, 100);
        orders::accept(&mut net.conn(), order, net.admin).expect("accept");
        net.pay(order, PaidVia::Offline, net.finance);
        agents::correct_referrer(&mut net.conn(), p2, p3, None).expect("new referrer");
        agents::suspend(&mut net.conn(), p1, "audit", None).expect("suspend");
        net.ship_and_receive(order, p2a);
        net.settle_after(8);
        assert_eq!(net.available(p1), dec("225.00"), "{backend:?}");
        assert_eq!(net.available(p3), dec("0"));
        assert_eq!(net.order(order).rebate_agent_id, Some(p1));
    }
}

/// A same-tier fee with no same-tier referrer stays with HQ: a 省代 referred by a 市代 pays no
/// rebate to anyone (its supplier, the 总代, gets none either).
#[test]
fn a_same_tier_fee_without_a_same_tier_referrer_stays_with_hq() {
    for backend in backends() {
        let net = Net::new(backend);
        let (n, na) = net.active("n", "national", None);
        let (c, _) = net.active("c", "city", Some(n));
        let (p, pa) = net.active("p", "provincial", Some(c));
        assert_eq!(net.agent(p).supplier_id, Some(n), "{backend:?}");
        net.items((CustodianKind::Agent, Some(n)), 100);
        let order = net.submit(pa, 100);
        orders::accept(&mut net.conn(), order, na).expect("accept");
        net.pay(order, PaidVia::Offline, na);
        let row = net.order(order);
        assert_eq!((row.rebate_agent_id, row.rebate_cents), (None, None));
        assert_eq!((net.frozen(c), net.frozen(n)), (dec("0"), dec("0")));
        assert_eq!(net.hq(HqAccount::RebateExpense), dec("0"));
        net.assert_books_balance();
    }
}

/// A suspended supplier's downline orders go to the next active agent above it, and come back
/// when it is reinstated.
#[test]
fn suspension_moves_the_downline_to_the_next_supplier() {
    for backend in backends() {
        let net = Net::new(backend);
        let (n, _) = net.active("n", "national", None);
        let (p, _) = net.active("p", "provincial", Some(n));
        let (c, _) = net.active("c", "city", Some(p));
        assert_eq!(net.agent(c).supplier_id, Some(p), "{backend:?}");
        agents::suspend(&mut net.conn(), p, "audit", None).expect("suspend");
        assert_eq!(net.agent(c).supplier_id, Some(n));
        assert!(agents::suspend(&mut net.conn(), p, "again", None).is_err());
        agents::reinstate(&mut net.conn(), p, None).expect("reinstate");
        assert_eq!(net.agent(c).supplier_id, Some(p));
    }
}
