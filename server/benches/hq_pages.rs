//! Benchmark: HQ's desk (issue 18) for a large brand — 100,000 agents and 1,000,000 orders — on
//! SQLite, through the real router (session cookie, gate, store, markup).
//!
//! ```sh
//! cargo bench -p chainmark-server --bench hq_pages --profile dev               # 100k agents, 1M orders
//! cargo bench -p chainmark-server --bench hq_pages --profile dev -- 100000 100000
//! ```
//!
//! Setup (not timed): the network of `network_settlement` (10 总代, 100 省代, 1,000 市代, 10,000
//! 区代, the rest 特约, each with its referrer and supplier, regions spread over eleven cities) and
//! N orders of 区代 and 特约 from their suppliers over the last year, in every state, one line
//! each, a tenth forwarded once (with their legs), this month's paid orders booked in the ledger
//! through the real posting builders. Timed: 100 requests of each list page after 10 of
//! warm-up, one at a time, as an HQ admin; p50, p95 and max per page. The reference in the same
//! run is the sign-in page (signed out), which reads nothing: the router's and the markup's floor.

use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::connect_info::MockConnectInfo;
use chainmark_server::accounts;
use chainmark_server::app::{self, App};
use chainmark_server::config::Settings;
use chainmark_server::domain::Role;
use chainmark_server::domain::network::{
    AgentId, BookedLine, BookedOrder, OrderId, OrderKind, OrderState, PaidVia, Party, PartyKind,
    postings,
};
use chainmark_server::store::DbConnection;
use chainmark_server::store::network::ledger::{self as ledger_store, Meta};
use chainmark_server::store::network::money;
use chainmark_server::store::schema::{order_legs, order_lines, restock_orders};
use chainmark_server::store::typed::Stored;
use chainmark_server::store::users::now;
use chrono::{Datelike, Duration as Days, NaiveDateTime};
use diesel::prelude::*;
use rust_decimal::Decimal;

#[path = "support/network.rs"]
mod network;
#[path = "support/pages.rs"]
mod timing;
use network::{exec, price_cents, tier_of, upline};

const PASSWORD: &str = "bench-password-hq-admin-1";
/// The states orders are in, by weight: most of a year's orders are done.
const STATES: &[(OrderState, usize)] = &[
    (OrderState::Completed, 60),
    (OrderState::Received, 8),
    (OrderState::Shipped, 6),
    (OrderState::Shipping, 2),
    (OrderState::Paid, 6),
    (OrderState::Accepted, 3),
    (OrderState::Submitted, 5),
    (OrderState::Cancelled, 7),
    (OrderState::Refunded, 3),
];

fn state_of(i: i64) -> OrderState {
    let total: usize = STATES.iter().map(|(_, w)| w).sum();
    let mut at = usize::try_from((i * 7) % i64::try_from(total).unwrap_or(1)).unwrap_or(0);
    for (state, weight) in STATES {
        if at < *weight {
            return *state;
        }
        at -= weight;
    }
    OrderState::Completed
}

fn is_paid(state: OrderState) -> bool {
    !matches!(
        state,
        OrderState::Submitted | OrderState::Accepted | OrderState::Cancelled
    )
}

/// Inserts `n` orders over the 365 days before `at`; books the payments of this month's.
fn seed_orders(conn: &mut DbConnection, n: i64, agents: i64, at: NaiveDateTime) {
    let month_start = at
        .date()
        .with_day(1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("first of the month");
    let mut next = 0i64;
    while next < n {
        let end = (next + 5000).min(n);
        let (mut rows, mut lines, mut legs, mut booked) = (vec![], vec![], vec![], vec![]);
        for i in next..end {
            let id = i + 1;
            let buyer = 1111 + (i * 7919) % (agents - 1110);
            let tier = tier_of(buyer);
            let seller = upline(buyer).1.unwrap_or(1);
            let state = state_of(i);
            // Spread over the year, the newest orders last (ids grow with time, as they do).
            let created = at - Days::seconds((n - i) * 365 * 86_400 / n);
            let q = 20i64;
            let goods = q * price_cents(tier);
            let up = upline(seller).1.filter(|_| i % 10 == 0);
            let paid = is_paid(state).then_some(created + Days::hours(2));
            let wallet = i % 2 == 0;
            rows.push((
                restock_orders::id.eq(id),
                restock_orders::kind.eq(Stored(OrderKind::Restock)),
                restock_orders::buyer_id.eq(buyer),
                restock_orders::tier_rank.eq(tier),
                restock_orders::seller_kind.eq(Stored(PartyKind::Agent)),
                restock_orders::seller_id.eq(Some(seller)),
                restock_orders::quantity.eq(q),
                restock_orders::goods_amount_cents.eq(goods),
                restock_orders::policy_version.eq(1i64),
                restock_orders::receive_days.eq(10),
                restock_orders::state.eq(Stored(state)),
                restock_orders::paid_via.eq(paid.map(|_| {
                    Stored(if wallet {
                        PaidVia::Wallet
                    } else {
                        PaidVia::Offline
                    })
                })),
                restock_orders::created_at.eq(created),
                restock_orders::paid_at.eq(paid),
            ));
            lines.push((
                order_lines::id.eq(id),
                order_lines::order_id.eq(id),
                order_lines::position.eq(0),
                order_lines::product_id.eq(1 + i % 3),
                order_lines::quantity.eq(q),
                order_lines::unit_price_cents.eq(price_cents(tier)),
                order_lines::goods_amount_cents.eq(goods),
                order_lines::supplier_chain.eq(""),
            ));
            if let Some(up) = up {
                let margin = q * (price_cents(tier_of(seller)) - price_cents(tier_of(up)));
                for (pos, b, s, g, m) in [
                    (0, buyer, seller, goods, None),
                    (1, seller, up, goods - margin, Some(margin)),
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
            if paid.is_some_and(|p| p >= month_start) {
                let a = |x: i64| AgentId(x.unsigned_abs());
                booked.push(BookedOrder {
                    order: OrderId(id.unsigned_abs()),
                    policy_version: 1,
                    buyer: a(buyer),
                    payee: Party::Agent(a(seller)),
                    shipper: Party::Agent(a(seller)),
                    lines: vec![BookedLine {
                        quantity: 20,
                        goods_amount: money(goods),
                        upgrade_allowance: Decimal::ZERO,
                        shipper_amount: money(goods),
                        margins: vec![],
                        rebate: Decimal::ZERO,
                        award: Decimal::ZERO,
                    }],
                    rebate_agent: None,
                    award_agent: None,
                    paid_via: if wallet {
                        PaidVia::Wallet
                    } else {
                        PaidVia::Offline
                    },
                    return_days: 7,
                });
            }
        }
        for chunk in rows.chunks(800) {
            exec(
                conn,
                diesel::insert_into(restock_orders::table).values(chunk.to_vec()),
            );
        }
        for chunk in lines.chunks(800) {
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

fn main() {
    let args: Vec<i64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let agents = args.first().copied().unwrap_or(100_000).max(20_000);
    let orders = args.get(1).copied().unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let settings = Settings {
        database_url: format!("sqlite://{}", dir.path().join("bench.db").display()),
        ..Settings::default()
    };
    let app = App::open(settings).expect("open the app");

    let setup = Instant::now();
    let at = now();
    {
        let mut conn = app.db.get().expect("connection");
        accounts::create_user(
            &mut conn,
            "bench-admin",
            "总部管理员",
            Role::HqAdmin,
            Some(PASSWORD),
        )
        .expect("account");
        chainmark_server::store::in_transaction::<_, chainmark_server::error::Error>(
            &mut conn,
            |c| {
                for (sku, name) in [
                    ("TEA-250G", "明前龙井 250g"),
                    ("TEA-500G", "明前龙井 500g"),
                    ("GIFT-BOX", "龙井礼盒"),
                ] {
                    chainmark_server::store::products::create(
                        c,
                        &chainmark_server::store::products::NewProduct::named(sku, name, 72),
                    )?;
                }
                network::seed_agents(c, agents, at - Days::days(400));
                seed_orders(c, orders, agents, at);
                Ok(())
            },
        )
        .expect("setup");
    }
    println!(
        "setup: {agents} agents, {orders} orders in {:.1} s",
        setup.elapsed().as_secs_f64()
    );

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let login = runtime
        .block_on(accounts::login(
            &app,
            [127, 0, 0, 1].into(),
            "bench-admin",
            PASSWORD,
            chainmark_server::domain::role::TokenKind::Session,
        ))
        .expect("sign in");
    let cookie = format!("cm_session={}; cm_lang=zh", login.token);
    let router = app::router(app.into_state())
        .layer(MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
    let busy = 1111 + (4242 * 7919) % (agents - 1110);
    let forwarded = orders - orders % 10 - 9;
    let today = at.date();
    let pages = [
        // Signed out: a signed-in caller is sent home from it.
        (
            "reference: the sign-in page".to_string(),
            "/login".to_string(),
        ),
        ("dashboard".into(), "/hq".into()),
        ("agents, first page".into(), "/hq/agents".into()),
        ("agents, page 200".into(), "/hq/agents?page=200".into()),
        (
            "agents, search by name".into(),
            format!("/hq/agents?q=agent-{busy}"),
        ),
        (
            "agents: 区代 in 杭州, active".into(),
            "/hq/agents?tier=4&region=330100&status=active".into(),
        ),
        ("agent page".into(), format!("/hq/agents/{busy}")),
        ("orders, all".into(), "/hq/orders".into()),
        ("orders, to ship".into(), "/hq/orders?tab=ship".into()),
        (
            "orders, done, page 500".into(),
            "/hq/orders?tab=done&page=500".into(),
        ),
        (
            "orders, search by buyer".into(),
            format!("/hq/orders?q=agent-{busy}"),
        ),
        (
            "orders, last week".into(),
            format!("/hq/orders?from={}&to={}", today - Days::days(7), today),
        ),
        (
            "order page (forwarded)".into(),
            format!("/hq/orders/{forwarded}"),
        ),
        ("applications".into(), "/hq/applications".into()),
        ("money desk (this month)".into(), "/hq/money".into()),
        ("network".into(), "/hq/network".into()),
        ("audit alerts".into(), "/hq/audit/alerts".into()),
        ("products".into(), "/hq/products".into()),
        ("staff".into(), "/hq/staff".into()),
    ];
    println!("| page | address | p50 | p95 | max | bytes |");
    println!("|---|---|---|---|---|---|");
    for (what, page) in &pages {
        // Signed out: a signed-in caller is sent home from it.
        let cookie = (page != "/login").then_some(cookie.as_str());
        let t = timing::time(&runtime, &router, page, cookie, 10, 100);
        println!(
            "| {what} | `{page}` | {} | {} | {} | {} |",
            timing::ms(t.p50),
            timing::ms(t.p95),
            timing::ms(t.max),
            t.bytes
        );
    }
}
