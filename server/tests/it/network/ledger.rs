//! The ledger's properties through the store: after any sequence of orders, payments,
//! shipments, refunds, settlements and withdrawals, every balance is the sum of its lines and the
//! ledger sums to zero; and replaying every business event books nothing.

use chainmark_server::domain::custody::CustodianKind;
use chainmark_server::domain::network::OrderState;
use chainmark_server::domain::network::{PaidVia, postings};
use chainmark_server::network::book::booked;
use chainmark_server::network::{Actor, orders, refunds, withdrawals};
use chainmark_server::store::network::ledger::{self as ledger_store, Booked, Meta};
use chainmark_server::store::network::orders as orders_store;
use chainmark_server::store::schema::order_refunds;
use diesel::prelude::*;

use super::{Net, dec};
use crate::common::backends;

/// A small deterministic generator, so a failing sequence can be replayed from its seed.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

fn run_sequence(net: &Net, seed: u64, steps: usize) {
    let mut rng = Lcg(seed);
    net.items((CustodianKind::Hq, None), 1000);
    let (p1, p1a) = net.active("p1", "provincial", None);
    let (p2, p2a) = net.active("p2", "provincial", Some(p1));
    let (c1, c1a) = net.active("c1", "city", Some(p2));
    let (d1, d1a) = net.active("d1", "district", Some(c1));
    net.items((CustodianKind::Agent, Some(p2)), 30);
    for a in [p2, c1, d1] {
        net.deposit(a, "5000.00");
    }
    let buyers = [(p2, p2a), (c1, c1a), (d1, d1a)];
    let actors = [(p1, p1a), (p2, p2a), (c1, c1a), (d1, d1a)];
    let actor_of = |id: Option<i64>| -> Actor {
        match id {
            None => net.finance,
            Some(id) => actors
                .iter()
                .find(|(a, _)| *a == id)
                .map(|(_, x)| *x)
                .expect("known"),
        }
    };
    let mut received = Vec::new();
    for _ in 0..steps {
        let (_, buyer_actor) = buyers[rng.next(3) as usize];
        let order = net.submit(buyer_actor, 1 + rng.next(20) as i64);
        let row = net.order(order);
        let seller = actor_of(row.seller_id);
        let seller_answer = if row.seller_id.is_none() {
            net.admin
        } else {
            seller
        };
        if orders::accept(&mut net.conn(), order, seller_answer).is_err() {
            orders::forward(&mut net.conn(), order, seller_answer).expect("forward");
        }
        let via = if rng.next(2) == 0 {
            PaidVia::Wallet
        } else {
            PaidVia::Offline
        };
        let payer = if via == PaidVia::Wallet {
            buyer_actor
        } else {
            seller
        };
        if chainmark_server::network::payment::pay(&mut net.conn(), order, via, payer).is_err() {
            chainmark_server::network::payment::pay(
                &mut net.conn(),
                order,
                PaidVia::Offline,
                seller,
            )
            .expect("offline payment");
        }
        if rng.next(3) > 0 {
            net.ship_and_receive(order, buyer_actor);
            received.push(order);
        }
        if rng.next(4) == 0 && !received.is_empty() {
            let o = received[rng.next(received.len() as u64) as usize];
            let row = net.order(o);
            let left = row.quantity - row.returned_quantity;
            if left > 0 {
                let input = refunds::RefundInput {
                    sku: None,
                    quantity: 1 + rng.next(left as u64) as i64,
                    serials: Vec::new(),
                    reason: "after-sale".into(),
                };
                refunds::refund(&mut net.conn(), o, &input, net.finance).expect("refund");
            }
        }
        if rng.next(3) == 0 {
            net.settle_after(8);
        }
        if rng.next(3) == 0 {
            let (_, who) = actors[rng.next(4) as usize];
            let amount = dec(&format!("{}.{:02}", rng.next(300), rng.next(100)));
            // Refused when not covered; either way the books stay whole.
            if let Ok(w) = withdrawals::request(&mut net.conn(), who, amount) {
                let approve = rng.next(2) == 0;
                withdrawals::decide(&mut net.conn(), w.id, approve, None, net.finance)
                    .expect("decide");
            }
        }
        net.assert_books_balance();
    }
}

/// Rebuilds every order's postings from what is stored and books them again: all replays.
fn replay_everything(net: &Net) {
    let mut conn = net.conn();
    let before = ledger_store::balances_vs_lines(&mut conn).expect("balances");
    let rows =
        orders_store::list(&mut conn, orders_store::Listing::All, None, 0, 10_000).expect("orders");
    let rows = orders_store::full(&mut conn, rows).expect("lines");
    let mut again = Vec::new();
    for full in rows.iter().filter(|r| r.row.paid_via.is_some()) {
        let row = &full.row;
        let b = booked(full).expect("booked");
        again.extend(postings::on_payment(&b));
        let refunds: Vec<(i64, Option<i64>, i64, bool)> = order_refunds::table
            .filter(order_refunds::order_id.eq(row.id))
            .order(order_refunds::id)
            .select((
                order_refunds::id,
                order_refunds::line_id,
                order_refunds::quantity,
                order_refunds::after_completion,
            ))
            .load(&mut conn)
            .expect("refunds");
        // Each line's returned count before each refund, replayed in order.
        let mut line_returned = vec![0u32; full.lines.len()];
        let mut before_completion = vec![0u32; full.lines.len()];
        for (id, line, q, completed) in &refunds {
            let index = full
                .lines
                .iter()
                .position(|l| Some(l.id) == *line)
                .expect("the refund's line");
            let p = postings::refund(
                &b,
                *id as u64,
                index,
                line_returned[index],
                *q as u32,
                *completed,
            )
            .expect("quantities");
            line_returned[index] += *q as u32;
            if !completed {
                before_completion[index] += *q as u32;
            }
            again.extend(p);
        }
        if row.state == OrderState::Completed || refunds.iter().any(|r| r.3) {
            again.extend(postings::completion(&b, &before_completion));
        }
    }
    assert!(!again.is_empty());
    let items: Vec<_> = again
        .into_iter()
        .map(|p| {
            (
                p,
                Meta {
                    kind: chainmark_server::domain::network::PostingKind::Other,
                    ..Meta::default()
                },
            )
        })
        .collect();
    let outcome = ledger_store::book_all(&mut conn, &items).expect("replay");
    assert!(
        outcome.iter().all(|b| *b == Booked::Replayed),
        "a replay booked something"
    );
    let after = ledger_store::balances_vs_lines(&mut conn).expect("balances");
    assert_eq!(before, after, "replaying changed balances");
}

#[test]
fn any_sequence_keeps_the_books_whole_and_replays_book_nothing() {
    for backend in backends() {
        for seed in [1, 7, 42] {
            let net = Net::new(backend);
            run_sequence(&net, seed, 12);
            replay_everything(&net);
        }
    }
}
