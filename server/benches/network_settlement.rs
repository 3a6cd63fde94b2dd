//! Benchmark: month-end settlement of the agent network on SQLite — completing every order whose
//! return window has passed (releasing frozen rebates and margins, paying shippers out of
//! payables) and generating every agent's monthly statement.
//!
//! ```sh
//! cargo bench -p chainmark-server --bench network_settlement            # 100k and 1M orders
//! cargo bench -p chainmark-server --bench network_settlement -- 100000  # one size
//! cargo bench -p chainmark-server --bench network_settlement -- 100000 --lines 1
//! ```
//!
//! Setup (not timed): a network of 100,000 agents (10 总代, 100 省代, 1,000 市代, 10,000 区代, the
//! rest 特约; a third of the 区代 referred by another 区代, so they earn the 7% same-tier rebate),
//! then N received orders of 区代 and 特约 from their suppliers, each a cart of `--lines` products
//! (default 3; each line with its own price, margin and rebate), 10% of them forwarded once (a
//! margin to the forwarding agent), half paid from the wallet, each booked at payment through the
//! real `BookedOrder` and posting builders and the store's `book_all`. Timed: `complete_due` and
//! `statements::generate` for the month, as `chainmark network settle` runs them.

use std::time::Instant;

use chainmark_server::domain::network::{
    AgentId, BookedLine, BookedOrder, Earning, OrderId, OrderKind, OrderState, PaidVia, Party,
    PartyKind, postings,
};
use chainmark_server::network::settlement;
use chainmark_server::network::statements::{self, Month};
use chainmark_server::store::network::ledger::{self as ledger_store, Meta};
use chainmark_server::store::network::money;
use chainmark_server::store::schema::{order_legs, order_line_legs, order_lines, restock_orders};
use chainmark_server::store::typed::Stored;
use chainmark_server::store::users::now;
use chainmark_server::store::{Db, DbConnection};
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use rust_decimal::Decimal;

const AGENTS: i64 = 100_000;

#[path = "support/network.rs"]
mod network;
use network::{exec, price_cents, tier_of, upline};

/// A product's price at a tier: the seed's tier prices, each further product 1.10 dearer (so
/// every line's amounts differ and round on their own).
fn line_price(tier: i32, line: i64) -> i64 {
    price_cents(tier) + 110 * line
}

/// Inserts `n` received orders of `lines` lines each (due for completion) and books their
/// payments.
fn seed_orders(
    conn: &mut DbConnection,
    n: i64,
    lines: i64,
    paid_at: NaiveDateTime,
    received: NaiveDateTime,
) {
    let mut next = 0i64;
    let mut line_id = 0i64;
    while next < n {
        let end = (next + 5000).min(n);
        let mut rows = Vec::new();
        let mut line_rows = Vec::new();
        let mut legs = Vec::new();
        let mut line_legs = Vec::new();
        let mut booked = Vec::new();
        for i in next..end {
            let id = i + 1;
            let buyer = 1111 + (i * 7919) % (AGENTS - 1110);
            let tier = tier_of(buyer);
            let (referrer, supplier) = upline(buyer);
            let seller = supplier.unwrap_or(1);
            let q = 20i64;
            let forwarded = i % 10 == 0;
            let up = upline(seller).1.filter(|_| forwarded);
            let shipper = up.unwrap_or(seller);
            let rebate_agent = referrer.filter(|r| tier_of(*r) == tier && tier == 4);
            let wallet = i % 2 == 0;
            let a = |x: i64| AgentId(x.unsigned_abs());
            let mut booked_lines = Vec::new();
            let (mut goods, mut margins, mut rebates) = (0i64, 0i64, 0i64);
            for l in 0..lines {
                line_id += 1;
                let price = line_price(tier, l);
                let line_goods = q * price;
                let margin =
                    up.map(|up| q * (line_price(tier_of(seller), l) - line_price(tier_of(up), l)));
                let rebate = rebate_agent.map(|_| (line_goods * 7 + 50) / 100);
                goods += line_goods;
                margins += margin.unwrap_or(0);
                rebates += rebate.unwrap_or(0);
                line_rows.push((
                    order_lines::id.eq(line_id),
                    order_lines::order_id.eq(id),
                    order_lines::position.eq(i32::try_from(l).unwrap_or(0)),
                    order_lines::product_id.eq(l + 1),
                    order_lines::quantity.eq(q),
                    order_lines::unit_price_cents.eq(price),
                    order_lines::goods_amount_cents.eq(line_goods),
                    order_lines::supplier_chain.eq(""),
                    order_lines::shipped_quantity.eq(q),
                    order_lines::shipper_amount_cents.eq(Some(line_goods - margin.unwrap_or(0))),
                    order_lines::rebate_cents.eq(rebate),
                ));
                if let Some(m) = margin {
                    for (pos, p) in [(0, price), (1, line_price(tier_of(seller), l))] {
                        line_legs.push((
                            order_line_legs::line_id.eq(line_id),
                            order_line_legs::position.eq(pos),
                            order_line_legs::unit_price_cents.eq(p),
                            order_line_legs::goods_amount_cents.eq(q * p),
                            order_line_legs::margin_cents.eq((pos == 1).then_some(m)),
                        ));
                    }
                }
                booked_lines.push(BookedLine {
                    quantity: 20,
                    goods_amount: money(line_goods),
                    upgrade_allowance: Decimal::ZERO,
                    shipper_amount: money(line_goods - margin.unwrap_or(0)),
                    margins: margin
                        .map(|m| Earning {
                            agent: a(seller),
                            amount: money(m),
                        })
                        .into_iter()
                        .collect(),
                    rebate: money(rebate.unwrap_or(0)),
                    award: Decimal::ZERO,
                });
            }
            rows.push((
                restock_orders::id.eq(id),
                restock_orders::kind.eq(Stored(OrderKind::Restock)),
                restock_orders::buyer_id.eq(buyer),
                restock_orders::tier_rank.eq(tier),
                restock_orders::seller_kind.eq(Stored(PartyKind::Agent)),
                restock_orders::seller_id.eq(Some(seller)),
                restock_orders::quantity.eq(q * lines),
                restock_orders::goods_amount_cents.eq(goods),
                restock_orders::policy_version.eq(1i64),
                restock_orders::receive_days.eq(10),
                restock_orders::state.eq(Stored(OrderState::Received)),
                restock_orders::shipper_kind.eq(Some(Stored(PartyKind::Agent))),
                restock_orders::shipper_id.eq(Some(shipper)),
                restock_orders::shipper_amount_cents.eq(Some(goods - margins)),
                restock_orders::paid_via.eq(Some(Stored(if wallet {
                    PaidVia::Wallet
                } else {
                    PaidVia::Offline
                }))),
                restock_orders::rebate_agent_id.eq(rebate_agent),
                restock_orders::rebate_cents.eq(rebate_agent.map(|_| rebates)),
                restock_orders::return_days.eq(Some(7)),
                restock_orders::shipped_quantity.eq(q * lines),
                restock_orders::created_at.eq(paid_at),
                restock_orders::paid_at.eq(Some(paid_at)),
                restock_orders::received_at.eq(Some(received)),
                restock_orders::due_at.eq(Some(received + Duration::days(7))),
            ));
            if up.is_some() {
                for (pos, b, s, g, m) in [
                    (0, buyer, seller, goods, None),
                    (1, seller, shipper, goods - margins, Some(margins)),
                ] {
                    legs.push((
                        order_legs::order_id.eq(id),
                        order_legs::position.eq(pos),
                        order_legs::buyer_id.eq(b),
                        order_legs::seller_kind.eq(Stored(PartyKind::Agent)),
                        order_legs::seller_id.eq(Some(s)),
                        order_legs::goods_amount_cents.eq(g),
                        order_legs::margin_cents.eq(m),
                    ));
                }
            }
            booked.push(BookedOrder {
                order: OrderId(id.unsigned_abs()),
                policy_version: 1,
                buyer: a(buyer),
                payee: Party::Agent(a(seller)),
                shipper: Party::Agent(a(shipper)),
                lines: booked_lines,
                rebate_agent: rebate_agent.map(a),
                award_agent: None,
                paid_via: if wallet {
                    PaidVia::Wallet
                } else {
                    PaidVia::Offline
                },
                return_days: 7,
            });
        }
        for chunk in rows.chunks(800) {
            exec(
                conn,
                diesel::insert_into(restock_orders::table).values(chunk.to_vec()),
            );
        }
        for chunk in line_rows.chunks(800) {
            exec(
                conn,
                diesel::insert_into(order_lines::table).values(chunk.to_vec()),
            );
        }
        for chunk in legs.chunks(800) {
            exec(
                conn,
                diesel::insert_into(order_legs::table).values(chunk.to_vec()),
            );
        }
        for chunk in line_legs.chunks(800) {
            exec(
                conn,
                diesel::insert_into(order_line_legs::table).values(chunk.to_vec()),
            );
        }
        let items: Vec<_> = booked
            .iter()
            .flat_map(|b| {
                postings::on_payment(b).into_iter().map(move |p| {
                    (
                        p,
                        Meta {
                            kind: chainmark_server::domain::network::PostingKind::Paid,
                            order_id: Some(b.order.0 as i64),
                            ..Meta::default()
                        },
                    )
                })
            })
            .collect();
        ledger_store::book_all(conn, &items).expect("payments");
        next = end;
    }
}

fn run(n: i64, chunk: i64, lines: i64) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let db = Db::open(&url, 2).expect("open");
    db.migrate().expect("migrate");
    let mut conn = db.get_writer().expect("writer");
    let month = Month::of(now()).expect("month");
    let paid_at = month.from + Duration::hours(1);
    let received = month.from + Duration::hours(2);
    let setup = Instant::now();
    {
        let c: &mut DbConnection = &mut conn;
        chainmark_server::store::in_transaction::<_, chainmark_server::error::Error>(c, |c| {
            for l in 0..lines {
                chainmark_server::store::products::create(
                    c,
                    &chainmark_server::store::products::NewProduct::named(
                        &format!("BENCH-{l}"),
                        "bench",
                        72,
                    ),
                )?;
            }
            network::seed_agents(c, AGENTS, paid_at);
            seed_orders(c, n, lines, paid_at, received);
            Ok::<_, chainmark_server::Error>(())
        })
        .expect("setup");
    }
    eprintln!(
        "setup of {AGENTS} agents and {n} orders of {lines} lines: {:.1} s",
        setup.elapsed().as_secs_f64()
    );
    let at = received + Duration::days(8);
    let started = Instant::now();
    let settled = settlement::complete_due_in_chunks(&mut conn, at, chunk).expect("complete");
    let completed_in = started.elapsed();
    let month_of = Month::parse(&month.name).expect("month");
    let generated = statements::generate(&mut conn, &month_of).expect("statements");
    let total = started.elapsed();
    assert_eq!(settled.completed as i64, n, "every order completed once");
    let per_order = total.as_secs_f64() / n as f64 * 1e6;
    let per_line = per_order / lines as f64;
    println!(
        "| {AGENTS} | {n} × {lines} lines | {:.1} s | {:.1} s | {generated} | {:.1} s | {per_order:.1} µs | {per_line:.1} µs |",
        completed_in.as_secs_f64(),
        (total - completed_in).as_secs_f64(),
        total.as_secs_f64(),
    );
    let sum: i64 = ledger_store::balances_vs_lines(&mut conn)
        .expect("balances")
        .iter()
        .map(|(_, b, l)| {
            assert_eq!(b, l);
            *b
        })
        .sum();
    assert_eq!(sum, 0, "the ledger sums to zero");
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `--chunk N`: orders per completion transaction (default: the server's).
    let chunk = args
        .iter()
        .position(|a| a == "--chunk")
        .and_then(|i| args.get(i + 1))
        .map(|v| v.parse::<i64>().expect("--chunk takes a number"))
        .unwrap_or(settlement::CHUNK);
    // `--lines N`: lines per order (default 3: a cart of three products).
    let lines = args
        .iter()
        .position(|a| a == "--lines")
        .and_then(|i| args.get(i + 1))
        .map(|v| v.parse::<i64>().expect("--lines takes a number"))
        .unwrap_or(3);
    let sizes: Vec<i64> = args
        .iter()
        .enumerate()
        .filter(|(i, _)| *i == 0 || (args[i - 1] != "--chunk" && args[i - 1] != "--lines"))
        .filter_map(|(_, a)| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![100_000, 1_000_000]
    } else {
        sizes
    };
    println!(
        "| agents | orders | completion | statements | statements made | total | per order | per line |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    eprintln!("{chunk} orders per completion transaction");
    for n in sizes {
        run(n, chunk, lines);
    }
}
