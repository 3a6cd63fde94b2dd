//! Benchmark: bringing a network in (issue 23) — `network_import::import` of N agents with
//! history, on SQLite and PostgreSQL, against a reference measured in the same run: the raw
//! insert rate of the same database (rows of an agents-like table in multi-row INSERTs of
//! 1,000, one transaction).
//!
//! ```sh
//! cargo bench -p chainmark-server --bench network_import                  # 100,000 agents, SQLite
//! cargo bench -p chainmark-server --bench network_import -- 100000 postgres://postgres@127.0.0.1:54330/postgres
//! ```
//!
//! The file (not timed): `network_import::sample` — N agents in referral trees, one available
//! balance each and a frozen one for every fourth, 3 orders each, one activity row per ten
//! agents; as CSV files in memory. Timed: reading and checking (`check`, what the page's preview
//! does) and the whole import (read, check again, write, one transaction), as
//! `chainmark import network` runs it. For PostgreSQL the URL is an admin connection: a fresh
//! database is created and dropped.

use std::time::Instant;

use chainmark_server::network_import::{self, Checked, Outcome, sample};
use chainmark_server::store::products::{self, NewProduct};
use chainmark_server::store::users::now;
use chainmark_server::store::{Db, DbConnection};
use diesel::Connection;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;

const SKU: &str = "BENCH-TEA";

fn raw_rate(conn: &mut DbConnection, rows: usize) -> f64 {
    conn.batch_execute(
        "CREATE TABLE bench_raw (id BIGINT PRIMARY KEY, user_id BIGINT, name TEXT, tier_rank INTEGER, \
         referrer_id BIGINT, supplier_id BIGINT, region TEXT, status TEXT, joined_at TIMESTAMP, \
         activated_at TIMESTAMP, policy_version BIGINT, entry_paid_cents BIGINT)",
    )
    .expect("scratch table");
    let started = Instant::now();
    conn.transaction::<_, diesel::result::Error, _>(|c| {
        for start in (0..rows).step_by(1000) {
            let mut sql = String::from("INSERT INTO bench_raw VALUES ");
            for i in start..(start + 1000).min(rows) {
                if i > start {
                    sql.push(',');
                }
                sql.push_str(&format!(
                    "({i}, {i}, '代理{i}', 5, {}, NULL, '330106', 'active', \
                     '2026-01-01 00:00:00', '2026-01-01 00:00:00', 1, 0)",
                    i / 10
                ));
            }
            c.batch_execute(&sql)?;
        }
        Ok(())
    })
    .expect("raw inserts");
    let secs = started.elapsed().as_secs_f64();
    conn.batch_execute("DROP TABLE bench_raw").expect("drop");
    rows as f64 / secs
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let n: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let pg_admin = args.get(1).cloned();
    let dir = tempfile::tempdir().expect("temp dir");
    let (url, cleanup) = match &pg_admin {
        Some(admin) => {
            let name = format!("cm_bench_import_{}", std::process::id());
            let mut c = diesel::PgConnection::establish(admin).expect("PostgreSQL");
            c.batch_execute(&format!("CREATE DATABASE {name}"))
                .expect("create database");
            let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
            (format!("{base}/{name}"), Some((admin.clone(), name)))
        }
        None => (
            format!("sqlite://{}", dir.path().join("bench.db").display()),
            None,
        ),
    };
    let db = Db::open(&url, 2).expect("open");
    db.migrate().expect("migrate");
    let mut conn = db.get_writer().expect("connection");
    products::create(&mut conn, &NewProduct::named(SKU, "bench tea", 72)).expect("product");

    let t = Instant::now();
    let files = sample::network(n, now().date(), SKU)
        .csv_files()
        .expect("files");
    let bytes: usize = files.iter().map(|f| f.bytes.len()).sum();
    println!(
        "file: {n} agents, {:.1} MB of CSV, made in {:.1} s (not timed below)",
        bytes as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );

    let reference = raw_rate(&mut conn, n);
    println!("reference: raw multi-row INSERT of {n} agent-like rows: {reference:.0} rows/s");

    let t = Instant::now();
    match network_import::check(&mut conn, &files).expect("check") {
        Checked::Ready(plan) => assert_eq!(plan.agents.len(), n),
        other => panic!("the sample should pass: {other:?}"),
    }
    let check = t.elapsed().as_secs_f64();
    println!(
        "check (read + validate, the preview): {check:.2} s, {:.0} agents/s",
        n as f64 / check
    );

    let t = Instant::now();
    let outcome =
        network_import::import(&mut conn, &files, None, &mut |_, _, _| {}).expect("import");
    let secs = t.elapsed().as_secs_f64();
    let Outcome::Imported(done) = outcome else {
        panic!("expected an import: {outcome:?}")
    };
    let i = &done.import;
    let rows: i64 = [
        "users",
        "agents",
        "agent_regions",
        "imported_agents",
        "agent_levels",
        "postings",
        "posting_lines",
        "ledger_accounts",
        "opening_frozen",
        "restock_orders",
        "order_lines",
        "imported_orders",
        "level_activity",
    ]
    .iter()
    .map(|t| {
        #[derive(QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let q = diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {t}"));
        let r: N = match &mut *conn {
            DbConnection::Sqlite(c) => q.get_result(c),
            DbConnection::Postgres(c) => q.get_result(c),
        }
        .expect("count");
        r.n
    })
    .sum();
    println!(
        "import: {} agents, {} balances, {} orders, {} activity rows in {secs:.2} s: {:.0} agents/s, \
         {rows} rows written ({:.0} rows/s, {:.0}% of the raw insert rate)",
        i.agents,
        i.balances,
        i.orders,
        i.activity,
        i.agents as f64 / secs,
        rows as f64 / secs,
        100.0 * rows as f64 / secs / reference
    );
    drop(conn);
    drop(db);
    if let Some((admin, name)) = cleanup {
        if let Ok(mut c) = diesel::PgConnection::establish(&admin) {
            let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}
