//! Concurrent actions on one order resolve to one outcome, on both backends.

use chainmark_server::domain::custody::CustodianKind;
use chainmark_server::domain::network::OrderState;
use std::sync::{Arc, Barrier};

use chainmark_server::domain::network::{HqAccount, PaidVia};
use chainmark_server::network::{orders, payment, settlement};
use chainmark_server::store::schema::postings;
use diesel::prelude::*;

use super::{Net, dec, later};
use crate::common::backends;

fn paid_postings(net: &Net, order: i64) -> i64 {
    postings::table
        .filter(postings::order_id.eq(order))
        .filter(postings::kind.eq(chainmark_server::store::typed::Stored(
            chainmark_server::domain::network::PostingKind::Paid,
        )))
        .count()
        .get_result(&mut net.conn())
        .expect("count")
}

/// The same order paid from two connections at once (the payee confirming the transfer and the
/// buyer paying from its wallet): exactly one payment books.
#[test]
fn the_same_order_paid_from_two_connections_books_once() {
    for backend in backends() {
        let net = Net::new(backend);
        net.items((CustodianKind::Hq, None), 50);
        let (p1, _) = net.active("p1", "provincial", None);
        let (p2, p2a) = net.active("p2", "provincial", Some(p1));
        net.deposit(p2, "5000.00");
        let order = net.submit(p2a, 40);
        orders::accept(&mut net.conn(), order, net.admin).expect("accept");
        let barrier = Arc::new(Barrier::new(2));
        let attempts: Vec<(PaidVia, chainmark_server::network::Actor)> =
            vec![(PaidVia::Offline, net.finance), (PaidVia::Wallet, p2a)];
        let results: Vec<bool> = std::thread::scope(|s| {
            let handles: Vec<_> = attempts
                .into_iter()
                .map(|(via, actor)| {
                    let barrier = barrier.clone();
                    let mut conn = net.conn();
                    s.spawn(move || {
                        barrier.wait();
                        payment::pay(&mut conn, order, via, actor).is_ok()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("thread"))
                .collect()
        });
        assert_eq!(
            results.iter().filter(|ok| **ok).count(),
            1,
            "{backend:?}: {results:?}"
        );
        assert_eq!(paid_postings(&net, order), 1);
        assert_eq!(net.frozen(p1), dec("90.00"), "9% of 1000.00, once");
        let row = net.order(order);
        let paid = net.hq(HqAccount::Sales);
        assert_eq!(paid, dec("1000.00"), "one sale of 40 × 25.00");
        let wallet = net.available(p2);
        match row.paid_via {
            Some(chainmark_server::domain::network::earnings::PaidVia::Wallet) => {
                assert_eq!(wallet, dec("4000.00"))
            }
            _ => assert_eq!(wallet, dec("5000.00")),
        }
        net.assert_books_balance();
    }
}

/// A provincial agent p2 referred by p1 (same tier: p1 earns 9%), with four orders of 100 items
/// from HQ, each paid, shipped and received: due for completion after the return window.
fn four_received_orders(backend: crate::common::Backend) -> (Net, i64, Vec<i64>) {
    let net = Net::new(backend);
    net.items((CustodianKind::Hq, None), 400);
    let (p1, _) = net.active("p1", "provincial", None);
    let (_, p2a) = net.active("p2", "provincial", Some(p1));
    let mut orders_made = Vec::new();
    for _ in 0..4 {
        let o = net.submit(p2a, 100);
        orders::accept(&mut net.conn(), o, net.admin).expect("accept");
        net.pay(o, PaidVia::Offline, net.finance);
        net.ship_and_receive(o, p2a);
        orders_made.push(o);
    }
    (net, p1, orders_made)
}

/// Two settlement runs at once complete each order once and pay each earning once.
#[test]
fn overlapping_settlement_runs_pay_once() {
    for backend in backends() {
        let (net, p1, orders_made) = four_received_orders(backend);
        let barrier = Arc::new(Barrier::new(2));
        let completed: Vec<u64> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..2)
                .map(|_| {
                    let barrier = barrier.clone();
                    let mut conn = net.conn();
                    s.spawn(move || {
                        barrier.wait();
                        // A run that lost a race to the other may fail; it must not pay.
                        settlement::tick(&mut conn, later(8)).map_or(0, |s| s.completed)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("thread"))
                .collect()
        });
        net.settle_after(8);
        assert!(
            completed.iter().sum::<u64>() <= 4,
            "{backend:?}: {completed:?}"
        );
        for o in &orders_made {
            assert_eq!(net.order(*o).state, OrderState::Completed);
        }
        assert_eq!(net.available(p1), dec("900.00"), "4 × 225.00, once each");
        assert_eq!(net.frozen(p1), dec("0"));
        net.assert_books_balance();
    }
}

/// Two server instances on one database run their periodic jobs at the same moment: each due
/// time (the settlement slot, the month's statements, the day's assessment) is claimed by one
/// of them, every order is completed and paid once, and a later round at the same time finds
/// everything claimed. Each instance is a `Db` of its own (its own pool and, on SQLite, its own
/// writer thread), as two processes would have.
#[test]
fn two_instances_running_the_jobs_at_once_claim_each_due_time_once() {
    use chainmark_server::network::jobs;
    use chainmark_server::store::{Db, job_runs};

    for backend in backends() {
        let (net, p1, orders_made) = four_received_orders(backend);
        let at = later(8);
        let instances: Vec<Db> = (0..2)
            .map(|_| Db::open(&net.app.db.url, 4).expect("second instance"))
            .collect();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let rounds = runtime.block_on(async {
            let (a, b) = tokio::join!(
                jobs::run_once(&instances[0], at, "instance-a"),
                jobs::run_once(&instances[1], at, "instance-b"),
            );
            [a.expect("round a"), b.expect("round b")]
        });
        let once = |ran: &[bool], what: &str| {
            assert_eq!(
                ran.iter().filter(|r| **r).count(),
                1,
                "{backend:?}: {what} ran on {ran:?}"
            );
        };
        once(
            &rounds.each_ref().map(|r| r.settled.is_some()),
            "settlement",
        );
        once(
            &rounds.each_ref().map(|r| r.statements.is_some()),
            "statements",
        );
        once(
            &rounds.each_ref().map(|r| r.assessed.is_some()),
            "assessment",
        );
        let completed: u64 = rounds
            .iter()
            .filter_map(|r| r.settled.map(|s| s.completed))
            .sum();
        assert_eq!(completed, 4, "{backend:?}");
        for o in &orders_made {
            assert_eq!(net.order(*o).state, OrderState::Completed);
        }
        assert_eq!(net.available(p1), dec("900.00"), "4 × 225.00, once each");
        net.assert_books_balance();

        // The same moment again, from either instance: everything is claimed already.
        let again = runtime
            .block_on(jobs::run_once(&instances[1], at, "instance-b"))
            .expect("round again");
        assert!(
            again.settled.is_none() && again.statements.is_none() && again.assessed.is_none(),
            "{backend:?}: {again:?}"
        );
        let month = chainmark_server::network::statements::Month::of(at)
            .and_then(|m| m.previous())
            .expect("month");
        let who = job_runs::ran_by(&mut net.conn(), "statements", &month.name).expect("claim");
        assert!(
            matches!(who.as_deref(), Some("instance-a" | "instance-b")),
            "{who:?}"
        );
    }
}
