//! Benchmark: the agent's phone pages (issue 17) for a busy agent — 10,000 orders and 1,000
//! downline agents — on SQLite, through the real router (session cookie, gate, store, markup).
//!
//! ```sh
//! cargo bench -p chainmark-server --bench agent_pages                # 10,000 orders, 1,000 agents
//! cargo bench -p chainmark-server --bench agent_pages -- 20000 2000  # orders agents
//! ```
//!
//! Setup (not timed): a 总代 with a signed-in account; N downline agents it referred (省代, 市代,
//! 区代 in turn, a tenth of them referred by another downline agent, so the tree is two deep);
//! M orders the downline placed with it in every state (a tenth forwarded with a leg, a tenth
//! shipped with a waybill), each with its history. Timed: 200 requests of each page after 20 of
//! warm-up, one at a time; p50, p95 and max per page.

use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::connect_info::MockConnectInfo;
use chainmark_server::accounts;
use chainmark_server::app::{self, App};
use chainmark_server::config::Settings;
use chainmark_server::domain::Role;
use chainmark_server::domain::network::{OrderKind, OrderState, PartyKind};
use chainmark_server::network::agents;
use chainmark_server::store::network::agents as agent_store;
use chainmark_server::store::network::orders::{
    self as order_store, LegRow, LineLegRow, NewLine, NewOrder,
};
use chainmark_server::store::products::{self, NewProduct};
use chainmark_server::store::typed::Stored;
use chainmark_server::store::users::now;

#[path = "support/pages.rs"]
mod timing;

const PASSWORD: &str = "bench-password-agent-1";
const STATES: &[OrderState] = &[
    OrderState::Submitted,
    OrderState::Accepted,
    OrderState::Forwarded,
    OrderState::Paid,
    OrderState::Shipping,
    OrderState::Shipped,
    OrderState::Received,
    OrderState::Completed,
    OrderState::Cancelled,
    OrderState::Refunded,
];

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let orders = args.first().copied().unwrap_or(10_000);
    let downline = args.get(1).copied().unwrap_or(1_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let settings = Settings {
        database_url: format!("sqlite://{}", dir.path().join("bench.db").display()),
        ..Settings::default()
    };
    let app = App::open(settings).expect("open the app");

    let setup = Instant::now();
    let mut conn = app.db.get().expect("connection");
    let product = products::create(
        &mut conn,
        &NewProduct::named("TEA-250G", "明前龙井 250g", 72),
    )
    .expect("product");
    let (user, _) = accounts::create_user(
        &mut conn,
        "bench-agent",
        "赵总代",
        Role::Agent,
        Some(PASSWORD),
    )
    .expect("account");
    let me = agents::create(
        &mut conn,
        agents::NewAgentInput {
            name: "赵总代".into(),
            tier: "national".into(),
            referrer_id: None,
            region: "330106".into(),
            user_id: Some(user.id),
        },
        None,
    )
    .expect("agent");
    assert!(agent_store::activate(&mut conn, me.id, 1, 4_320_000).expect("activate"));
    let tiers = [("provincial", 2), ("city", 3), ("district", 4)];
    let mut team = Vec::with_capacity(downline);
    chainmark_server::store::in_transaction::<_, chainmark_server::error::Error>(
        &mut conn,
        |conn| {
            for i in 0..downline {
                let (tier, rank) = tiers[i % tiers.len()];
                let referrer = if i % 10 == 9 { team[i - 1] } else { me.id };
                let row = agents::create(
                    conn,
                    agents::NewAgentInput {
                        name: format!("代理{i:04}"),
                        tier: tier.into(),
                        referrer_id: Some(referrer),
                        region: "330106".into(),
                        user_id: None,
                    },
                    None,
                )?;
                agent_store::activate(conn, row.id, rank, 0)?;
                team.push(row.id);
            }
            Ok(())
        },
    )
    .expect("downline");
    let at = now();
    let mut forwarded_id = 0;
    chainmark_server::store::in_transaction::<_, chainmark_server::error::Error>(
        &mut conn,
        |conn| {
            for i in 0..orders {
                let state = STATES[i % STATES.len()];
                let buyer = team[i % team.len()];
                let (row, lines) = order_store::insert(
                    conn,
                    &NewOrder {
                        kind: Stored(OrderKind::Restock),
                        buyer_id: buyer,
                        tier_rank: 3,
                        seller_kind: Stored(PartyKind::Agent),
                        seller_id: Some(me.id),
                        quantity: 72,
                        goods_amount_cents: 223_200,
                        policy_version: 1,
                        receive_days: 10,
                        state: Stored(state),
                        created_at: at,
                        upgrade_allowance_cents: None,
                    },
                    &[NewLine {
                        position: 0,
                        product_id: product.id,
                        quantity: 72,
                        unit_price_cents: 3100,
                        goods_amount_cents: 223_200,
                        upgrade_allowance_cents: None,
                        supplier_chain: format!("{}@2000", me.id),
                    }],
                )?;
                order_store::add_events(
                    conn,
                    &[
                        (row.id, None, OrderState::Submitted, None, None),
                        (row.id, Some(OrderState::Submitted), state, None, None),
                    ],
                    at,
                )?;
                if i % 10 == 2 {
                    order_store::insert_legs(
                        conn,
                        &[LegRow {
                            order_id: row.id,
                            position: 0,
                            buyer_id: buyer,
                            seller_kind: PartyKind::Agent,
                            seller_id: Some(me.id),
                            goods_amount_cents: 223_200,
                            margin_cents: None,
                        }],
                        &[LineLegRow {
                            line_id: lines[0].id,
                            position: 0,
                            unit_price_cents: 3100,
                            goods_amount_cents: 223_200,
                            margin_cents: None,
                        }],
                    )?;
                    forwarded_id = row.id;
                }
                if state == OrderState::Shipped {
                    chainmark_server::store::agent_pages::set_waybill(
                        conn,
                        row.id,
                        "顺丰速运",
                        "SF1234567890",
                        None,
                        at,
                    )?;
                }
            }
            Ok(())
        },
    )
    .expect("orders");
    drop(conn);
    println!(
        "setup: {orders} orders, {downline} downline agents in {:.1} s",
        setup.elapsed().as_secs_f64()
    );

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let login = runtime
        .block_on(accounts::login(
            &app,
            [127, 0, 0, 1].into(),
            "bench-agent",
            PASSWORD,
            chainmark_server::domain::role::TokenKind::Session,
        ))
        .expect("sign in");
    let cookie = format!("cm_session={}; cm_lang=zh", login.token);
    let router = app::router(app.into_state())
        .layer(MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
    let pages = [
        "/agent".to_string(),
        "/agent/orders".to_string(),
        "/agent/orders?tab=ship".to_string(),
        "/agent/orders?tab=done&before=5000".to_string(),
        "/agent/orders?q=%E4%BB%A3%E7%90%860500".to_string(),
        format!("/agent/orders/{forwarded_id}"),
        format!("/agent/orders/{forwarded_id}/ship"),
        "/agent/money".to_string(),
        "/agent/team".to_string(),
    ];
    println!("| page | p50 | p95 | max | bytes |");
    println!("|---|---|---|---|---|");
    for page in &pages {
        let t = timing::time(&runtime, &router, page, Some(&cookie), 20, 200);
        println!(
            "| `{page}` | {} | {} | {} | {} |",
            timing::ms(t.p50),
            timing::ms(t.p95),
            timing::ms(t.max),
            t.bytes
        );
    }
}
