//! Benchmark: the daily level assessment (issue 6) on SQLite — every active agent's window sums
//! (set-based, by id pages), the team roll-up over the referral tree, the decisions, and the
//! writes of the agents that change (tier, suppliers below, state, the change with its reasons).
//!
//! ```sh
//! cargo bench -p chainmark-server --bench level_assessment                   # 1M agents, 10M orders
//! cargo bench -p chainmark-server --bench level_assessment -- 100000 1000000 # agents orders
//! ```
//!
//! Setup (not timed), generated inside SQLite: N agents in a referral tree of ten children each
//! (agent i referred by i / 10); the first 1% are 区代 and above (0.001% 总代, 0.01% 省代, 0.1%
//! 市代, 1% 区代), the rest 特约, activated on days spread over the last 60. M orders over the
//! 60 days up to the assessed day (yesterday), buyers and days drawn by SQLite's random() (about 10
//! orders per agent, Poisson-like), 70%
//! completed, 20% paid, 10% refunded. The level policy reads three windows (7 days, 30 days,
//! unbounded), team sales, thresholds with all/any, a cyclic downgrade, a thresholds downgrade and
//! protection. Timed: `levels::assess::run` for the day, as `chainmark levels assess` runs it.

use std::time::Instant;

use chainmark_server::levels::assess;
use chainmark_server::network::Actor;
use chainmark_server::store::levels::policies;
use chainmark_server::store::users::now;
use chainmark_server::store::{Db, DbConnection};
use chrono::{Days, NaiveDate};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;

const POLICY: &str = r#"version = 1
name = "bench"
on_change = "keep"

[[levels]]
tier = "provincial"
[[levels.paths]]
thresholds = { team_sales = "2000000.00" }
[[levels.downgrade]]
kind = "never"

[[levels]]
tier = "city"
[[levels.paths]]
window_days = 30
match = "any"
thresholds = { personal_sales = "3000.00", team_sales = "300000.00" }
[[levels.downgrade]]
kind = "thresholds"
[levels.protection]
days = 7
thresholds = { amount_paid = "1000.00" }

[[levels]]
tier = "district"
[[levels.paths]]
window_days = 30
thresholds = { orders = 9, amount_paid = "1500.00" }
[[levels.downgrade]]
kind = "cyclic"
days = 30
"#;

fn sqlite(conn: &mut DbConnection) -> &mut diesel::SqliteConnection {
    match conn {
        DbConnection::Sqlite(c) => c,
        DbConnection::Postgres(_) => panic!("the benchmark runs on SQLite"),
    }
}

fn seed(conn: &mut DbConnection, agents: i64, orders: i64, day: NaiveDate) {
    let c = sqlite(conn);
    let day = day.format("%Y-%m-%d");
    let tier = |n: i64| {
        format!(
            "CASE WHEN i <= {} THEN 1 WHEN i <= {} THEN 2 WHEN i <= {} THEN 3 WHEN i <= {} THEN 4 \
             ELSE 5 END",
            (n / 100_000).max(1),
            (n / 10_000).max(2),
            (n / 1_000).max(3),
            (n / 100).max(4)
        )
    };
    c.batch_execute(&format!(
        "INSERT INTO products (id, sku, name, case_size, created_at) \
         VALUES (1, 'BENCH', 'bench', 72, '{day} 00:00:00');
         WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {agents})
         INSERT INTO agents (id, name, tier_rank, referrer_id, supplier_id, region, status,
             joined_at, activated_at, activated_tier_rank, policy_version, entry_paid_cents)
         SELECT i, 'agent-' || i, {t}, CASE WHEN i >= 10 THEN i / 10 END,
             CASE WHEN i >= 10 THEN i / 10 END, '330100', 'active',
             datetime('{day}', '-' || (i % 60) || ' days'),
             datetime('{day}', '-' || (i % 60) || ' days'), {t}, 1, 0
         FROM s;",
        t = tier(agents)
    ))
    .expect("agents");
    c.batch_execute(&format!(
        "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {orders})
         INSERT INTO restock_orders (kind, buyer_id, product_id, tier_rank, seller_kind,
             supplier_chain, quantity, unit_price_cents, goods_amount_cents, policy_version,
             receive_days, state, created_at, paid_at)
         SELECT 'restock', b, 1, 5, 'hq', '', q, 6000, q * 6000, 1, 10, st, ts, ts FROM (
             SELECT abs(random() % {agents}) + 1 AS b, (i % 5) + 1 AS q,
                 CASE WHEN i % 10 < 7 THEN 'completed' WHEN i % 10 < 9 THEN 'paid'
                     ELSE 'refunded' END AS st,
                 datetime('{day}', '-' || abs(random() % 60) || ' days',
                     '+' || ((i * 13) % 86400) || ' seconds') AS ts
             FROM s);"
    ))
    .expect("orders");
}

fn install_policy(conn: &mut DbConnection) {
    chainmark_server::network::policy::active(conn).expect("tier policy");
    policies::insert_draft(conn, 1, "bench", POLICY, None).expect("draft");
    conn.transaction(|c| policies::activate(c, 1, None))
        .expect("activate");
}

fn run(agents: i64, orders: i64) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let db = Db::open(&url, 2).expect("open");
    db.migrate().expect("migrate");
    let mut conn = db.get_writer().expect("writer");
    let day = now().date() - Days::new(1);
    let setup = Instant::now();
    seed(&mut conn, agents, orders, day);
    install_policy(&mut conn);
    sqlite(&mut conn).batch_execute("ANALYZE").expect("analyze");
    eprintln!(
        "setup of {agents} agents and {orders} orders: {:.1} s",
        setup.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let mut pages = 0;
    let summary = assess::run(&mut conn, day, Actor::System, &mut |done, total| {
        pages += 1;
        if pages % 10 == 0 {
            eprintln!(
                "  {done}/{total} agents, {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }
    })
    .expect("assessment");
    let took = started.elapsed().as_secs_f64();
    assert_eq!(summary.agents, agents, "every agent assessed once");
    let again = Instant::now();
    let rerun = assess::run(&mut conn, day, Actor::System, &mut |_, _| {}).expect("rerun");
    let rerun_took = again.elapsed().as_secs_f64();
    assert_eq!(
        (rerun.upgrades, rerun.downgrades, rerun.protected),
        (0, 0, 0),
        "a second run of the day changes nothing"
    );
    println!(
        "| {agents} | {orders} | {took:.1} s | {} | {} | {} | {:.1} µs | {rerun_took:.1} s |",
        summary.upgrades,
        summary.downgrades,
        summary.protected,
        took / agents as f64 * 1e6,
    );
}

fn main() {
    let numbers: Vec<i64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.replace('_', "").parse().ok())
        .collect();
    let sizes: Vec<(i64, i64)> = if numbers.len() >= 2 {
        numbers
            .chunks(2)
            .filter(|p| p.len() == 2)
            .map(|p| (p[0], p[1]))
            .collect()
    } else {
        vec![(1_000_000, 10_000_000)]
    };
    println!(
        "| agents | orders | assessment | upgrades | downgrades | protected | per agent | re-run |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (agents, orders) in sizes {
        run(agents, orders);
    }
}
