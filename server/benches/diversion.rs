//! Benchmark: the diversion audit (issue 7) with millions of sightings on record — the extra time
//! the diversion check adds to one right-code verification, the trace of an item with 10 hops,
//! and the region-to-region flow matrix over every sighting.
//!
//! ```sh
//! cargo bench -p chainmark-server --bench diversion                      # 10,000,000 sightings
//! cargo bench -p chainmark-server --bench diversion -- --sightings 1000000
//! cargo bench -p chainmark-server --bench diversion -- --sightings 1000000 \
//!     --database-url postgres://postgres@127.0.0.1:54330/postgres
//! ```
//!
//! Setup (not timed), straight into the tables with `INSERT … SELECT` over a generated series in
//! transactions of 1,000,000 rows, shaped as the real code writes them: one product and its
//! batches; `--items` items (default a tenth of the sightings), each held by one of 1,000 agents
//! (one authorised district each, in `agent_regions`) after a `ship` (hq → transit:order) and a
//! `receive` (transit:order → agent) custody event; the first `--traces` items instead went
//! through 10 hops (HQ → 总代 → 省代 → 市代 → … → the 10th agent, each a ship and a receive).
//! Then `--sightings` right-code verifications spread over the last 365 days, round-robin over
//! the items (so each item's `verify_count` is right): the expected region is the holder's, the
//! observed one is that same district 9 times in 10 and another district otherwise, the place
//! source cycles through client address / browser / picked, one in 50 is a bot. One diversion
//! alert per 20 items and one scan alert per 200 items.
//!
//! Timed:
//! 1. `--verifications` right-code verifications of random items (9 in 10 inside the holder's
//!    region), each in one transaction on the writer as `verify::with_code` runs them:
//!    `check_verification`, `count_genuine`, `check_count`. The extra time is the two checks'
//!    time; the verification's whole transaction is shown beside it.
//! 2. `diversion::views::trace` (what the trace page and `/api/v1/diversion/trace` call) of
//!    `--traces` different 10-hop items.
//! 3. `diversion::views::flows` over 366 days (every sighting), `--flow-runs` times.
//!
//! Beside each, the same less the time the thread waited for a CPU
//! (`/proc/thread-self/schedstat`), as the benchmark machine is shared with other builds.
//!
//! Options: `--sightings N` (default 10000000), `--items N`, `--verifications N` (default 10000),
//! `--traces N` (default 1000), `--flow-runs N` (default 3), `--database-url URL` (default SQLite
//! in a temp dir; a PostgreSQL URL gets a fresh database created in it, except one naming a
//! `cm_bench_diversion_N` database made before, which is reused), `--keep DIR` (keep the
//! SQLite file in DIR and reuse it when it is already there; the timed verifications add to it).

#[path = "support/pg.rs"]
mod pg;

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chainmark_server::diversion::{check_count, check_verification, regions, views};
use chainmark_server::domain::diversion::PlaceSource;
use chainmark_server::store::verify::{Sighting, count_genuine};
use chainmark_server::store::{Backend, Db, DbConnection};
use diesel::Connection;
use diesel::connection::SimpleConnection;
use rand::Rng;

const AGENTS: i64 = 1000;
const HOPS: i64 = 10;
const CHUNK: i64 = 1_000_000;
const PER_BATCH: i64 = 100_000;
const MAX_VERIFICATIONS: u32 = 30;
const REGIONS_CSV: &str = include_str!("../data/regions/gb2260.csv");

struct Options {
    sightings: i64,
    items: Option<i64>,
    verifications: usize,
    traces: i64,
    flow_runs: usize,
    database_url: Option<String>,
    keep: Option<std::path::PathBuf>,
}

fn parse_args() -> anyhow::Result<Options> {
    let mut o = Options {
        sightings: 10_000_000,
        items: None,
        verifications: 10_000,
        traces: 1000,
        flow_runs: 3,
        database_url: None,
        keep: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().with_context(|| format!("{a} needs a value"));
        match a.as_str() {
            "--sightings" => o.sightings = value()?.parse()?,
            "--items" => o.items = Some(value()?.parse()?),
            "--verifications" => o.verifications = value()?.parse()?,
            "--traces" => o.traces = value()?.parse()?,
            "--flow-runs" => o.flow_runs = value()?.parse()?,
            "--database-url" => o.database_url = Some(value()?),
            "--keep" => o.keep = Some(value()?.into()),
            "--bench" => {}
            other => bail!("unknown option {other} (see the file's doc comment)"),
        }
    }
    Ok(o)
}

fn main() -> anyhow::Result<()> {
    let o = parse_args()?;
    let items = o
        .items
        .unwrap_or((o.sightings / 10).max(o.traces).max(AGENTS));
    anyhow::ensure!(o.traces <= items, "--traces exceeds the items");
    let tmp = tempfile::tempdir()?;
    let dir = o.keep.clone().unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&dir)?;
    let url = match &o.database_url {
        // A database this bench made before is reused as it is (like `--keep` for SQLite).
        Some(url) if url.contains("/cm_bench_diversion_") => url.clone(),
        Some(admin) if admin.starts_with("postgres") => {
            pg::fresh_database(admin, &format!("cm_bench_diversion_{}", o.sightings))?
        }
        Some(url) => url.clone(),
        None => format!(
            "sqlite://{}",
            dir.join(format!("diversion-{}-{items}.db", o.sightings))
                .display()
        ),
    };
    let db = Db::open(&url, 4)?;
    db.migrate()?;
    let districts = districts();
    {
        let mut conn = db.get_writer()?;
        let have: i64 = count(&mut conn, "SELECT COUNT(*) AS n FROM sightings")?;
        if have >= o.sightings {
            eprintln!("reusing {have} sightings in {url}");
        } else {
            anyhow::ensure!(have == 0, "{url} holds {have} sightings already");
            let t = Instant::now();
            populate(&mut conn, &districts, o.sightings, items, o.traces)?;
            eprintln!("setup took {:.0?}", t.elapsed());
        }
        if db.backend() == Backend::Sqlite {
            // The load's last pages go from the WAL into the file now, not during the timing.
            conn.batch_execute("PRAGMA wal_checkpoint(TRUNCATE)")?;
        }
    }
    let backend = match db.backend() {
        Backend::Sqlite => "SQLite",
        Backend::Postgres => "PostgreSQL",
    };

    // 1. The check on the verification path.
    let mut rng = rand::thread_rng();
    let mut extra = Vec::with_capacity(o.verifications);
    let mut whole = Vec::with_capacity(o.verifications);
    let mut unqueued = Vec::with_capacity(o.verifications);
    let mut conn = db.get_writer()?;
    let sources = [
        PlaceSource::ClientAddress,
        PlaceSource::Browser,
        PlaceSource::Picked,
    ];
    let before_alerts = count(&mut conn, "SELECT COUNT(*) AS n FROM diversion_alerts")?;
    for _ in 0..o.verifications {
        let j = rng.gen_range(0..items);
        let region = if rng.gen_ratio(9, 10) {
            districts[region_index(agent_of(j, o.traces), districts.len())].clone()
        } else {
            districts[rng.gen_range(0..districts.len())].clone()
        };
        let mut s = Sighting {
            serial: serial(j),
            known_item: true,
            result: String::new(),
            client_addr: Some(format!("10.{}.{}.{}", j % 250, j % 199, j % 97)),
            user_agent: Some("Mozilla/5.0 (iPhone) MicroMessenger/8.0".into()),
            region_code: Some(region),
            place_source: Some(sources[rng.gen_range(0..sources.len())]),
            ..Sighting::default()
        };
        let (e, q, w) = chainmark_server::store::in_transaction(
            &mut conn,
            |c| -> chainmark_server::Result<_> {
                let q0 = runq_wait();
                let t0 = Instant::now();
                check_verification(c, &mut s)?;
                let t1 = Instant::now();
                let q1 = runq_wait();
                let counted = count_genuine(c, &s)?;
                let q2 = runq_wait();
                let t2 = Instant::now();
                check_count(c, &s, counted.verify_count, MAX_VERIFICATIONS)?;
                let t3 = Instant::now();
                let q3 = runq_wait();
                let queued = (q1 - q0) + (q3 - q2);
                Ok(((t1 - t0) + (t3 - t2), queued, t3 - t0))
            },
        )?;
        extra.push(e);
        unqueued.push(e.saturating_sub(q));
        whole.push(w);
    }
    let raised = count(&mut conn, "SELECT COUNT(*) AS n FROM diversion_alerts")? - before_alerts;
    drop(conn);

    // 2. Traces of different 10-hop items, through the view the page and the API use.
    let mut conn = db.get()?;
    let mut traces = Vec::new();
    let mut traces_unqueued = Vec::new();
    let mut events = 0usize;
    for j in 0..o.traces {
        let code = serial(j);
        let q = runq_wait();
        let t = Instant::now();
        let trace = views::trace(&mut conn, &code)?;
        let took = t.elapsed();
        traces.push(took);
        traces_unqueued.push(took.saturating_sub(runq_wait() - q));
        anyhow::ensure!(
            trace.events.len() >= (2 * HOPS) as usize,
            "{code}: {} events",
            trace.events.len()
        );
        events += trace.events.len();
    }

    // 3. The flow matrix over every sighting.
    let mut flows = Vec::new();
    let mut cells = 0;
    for _ in 0..o.flow_runs {
        let t = Instant::now();
        let m = views::flows(&mut conn, views::MAX_DAYS)?;
        flows.push(t.elapsed());
        cells = m.cells.len();
    }

    let ms = |d: Duration| format!("{:.3} ms", d.as_secs_f64() * 1000.0);
    let (e50, e99) = (pct(&mut extra, 50.0), pct(&mut extra, 99.0));
    let (w50, w99) = (pct(&mut whole, 50.0), pct(&mut whole, 99.0));
    let (u50, u99) = (pct(&mut unqueued, 50.0), pct(&mut unqueued, 99.0));
    let (t50, t99) = (pct(&mut traces, 50.0), pct(&mut traces, 99.0));
    let (v50, v99) = (
        pct(&mut traces_unqueued, 50.0),
        pct(&mut traces_unqueued, 99.0),
    );
    let (f50, fmax) = (pct(&mut flows, 50.0), pct(&mut flows, 100.0));
    let met = |ok: bool| if ok { "yes" } else { "**no**" };
    println!();
    println!(
        "{backend}: {} sightings, {items} items, {AGENTS} agents; {} verifications ({raised} alerts raised), {} traces ({:.1} events each), {} flow runs ({cells} cells)",
        o.sightings,
        o.verifications,
        o.traces,
        events as f64 / o.traces.max(1) as f64,
        o.flow_runs
    );
    println!();
    println!("| backend | measure | n | p50 | p99 / max | goal | met |");
    println!("|---|---|---|---|---|---|---|");
    println!(
        "| {backend} | diversion check, extra per verification | {} | {} | {} (p99) | p99 < 1 ms | {} |",
        extra.len(),
        ms(e50),
        ms(e99),
        met(e99 < Duration::from_millis(1))
    );
    println!(
        "| {backend} | the same, less time waiting for a CPU | {} | {} | {} (p99) | p99 < 1 ms | {} |",
        unqueued.len(),
        ms(u50),
        ms(u99),
        met(u99 < Duration::from_millis(1))
    );
    println!(
        "| {backend} | (whole verification transaction, for scale) | {} | {} | {} (p99) | – | – |",
        whole.len(),
        ms(w50),
        ms(w99)
    );
    println!(
        "| {backend} | trace of a 10-hop item | {} | {} | {} (p99) | p99 < 5 ms | {} |",
        traces.len(),
        ms(t50),
        ms(t99),
        met(t99 < Duration::from_millis(5))
    );
    println!(
        "| {backend} | the same, less time waiting for a CPU | {} | {} | {} (p99) | p99 < 5 ms | {} |",
        traces_unqueued.len(),
        ms(v50),
        ms(v99),
        met(v99 < Duration::from_millis(5))
    );
    println!(
        "| {backend} | flow matrix, 366 days | {} | {} | {} (max) | < 2 s | {} |",
        flows.len(),
        ms(f50),
        ms(fmax),
        met(fmax < Duration::from_secs(2))
    );
    Ok(())
}

/// Time this thread has spent runnable but waiting for a CPU (`/proc/thread-self/schedstat`,
/// second field): on a shared machine the other builds' time slices, not the code's.
fn runq_wait() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse().ok())
        .map_or(Duration::ZERO, Duration::from_nanos)
}

fn pct(v: &mut [Duration], p: f64) -> Duration {
    if v.is_empty() {
        return Duration::ZERO;
    }
    v.sort();
    let i = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[i.clamp(1, v.len()) - 1]
}

/// The districts of the shipped table the region book knows.
fn districts() -> Vec<String> {
    REGIONS_CSV
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').next())
        .filter(|c| c.len() == 6 && !c.ends_with("00"))
        .filter(|c| regions().known(c).is_some())
        .map(String::from)
        .collect()
}

fn serial(j: i64) -> String {
    format!("DV{:02}-{:08}", j / PER_BATCH, j % PER_BATCH)
}

/// The agent holding item `j` (1-based ids): the 10th of the chain for the traced items.
fn agent_of(j: i64, traced: i64) -> i64 {
    if j < traced { HOPS } else { j % AGENTS + 1 }
}

fn region_index(agent: i64, n: usize) -> usize {
    ((agent * 7) % n as i64) as usize
}

#[derive(diesel::QueryableByName)]
struct N {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn count(conn: &mut DbConnection, sql: &str) -> anyhow::Result<i64> {
    use diesel::RunQueryDsl;
    let rows: Vec<N> = diesel::sql_query(sql).load(conn)?;
    Ok(rows.first().map_or(0, |r| r.n))
}

/// SQL dialect bits.
struct Dialect {
    pg: bool,
}

impl Dialect {
    /// `SELECT i FROM <series lo..hi>` as a FROM item named `s` with column `i`.
    fn series(&self, lo: i64, hi: i64) -> String {
        if self.pg {
            format!("generate_series({lo}::bigint, {}::bigint) AS s(i)", hi - 1)
        } else {
            format!(
                "(WITH RECURSIVE g(i) AS (SELECT {lo} UNION ALL SELECT i + 1 FROM g WHERE i + 1 < {hi}) SELECT i FROM g) AS s"
            )
        }
    }

    /// A timestamp `secs` seconds after the Unix epoch.
    fn at(&self, secs: &str) -> String {
        if self.pg {
            format!("(TIMESTAMP 'epoch' + ({secs}) * INTERVAL '1 second')")
        } else {
            format!("datetime({secs}, 'unixepoch')")
        }
    }

    fn serial(&self, j: &str) -> String {
        if self.pg {
            format!(
                "'DV' || lpad(({j} / {PER_BATCH})::text, 2, '0') || '-' || lpad(({j} % {PER_BATCH})::text, 8, '0')"
            )
        } else {
            format!("printf('DV%02d-%08d', ({j}) / {PER_BATCH}, ({j}) % {PER_BATCH})")
        }
    }

    fn text(&self, e: &str) -> String {
        if self.pg {
            format!("({e})::text")
        } else {
            format!("CAST({e} AS TEXT)")
        }
    }
}

fn populate(
    conn: &mut DbConnection,
    districts: &[String],
    sightings: i64,
    items: i64,
    traced: i64,
) -> anyhow::Result<()> {
    let d = Dialect {
        pg: matches!(conn, DbConnection::Postgres(_)),
    };
    if !d.pg {
        conn.batch_execute("PRAGMA synchronous = OFF")?;
    }
    let now = chrono::Utc::now().naive_utc().and_utc().timestamp();
    let start = now - 365 * 86_400;
    let nd = districts.len() as i64;
    let t = |secs: i64| d.at(&secs.to_string());
    let mut sql = String::from(
        "DROP TABLE IF EXISTS bench_regions; CREATE TABLE bench_regions (i BIGINT PRIMARY KEY, code TEXT NOT NULL);",
    );
    for (i, chunk) in districts.chunks(500).enumerate() {
        let rows: Vec<String> = chunk
            .iter()
            .enumerate()
            .map(|(k, c)| format!("({}, '{c}')", i * 500 + k))
            .collect();
        sql.push_str(&format!(
            "INSERT INTO bench_regions (i, code) VALUES {};",
            rows.join(",")
        ));
    }
    sql.push_str(&format!(
        "INSERT INTO products (sku, name, case_size, created_at) VALUES ('DV-1', '防串货 bench', 20, {});",
        t(start)
    ));
    let batches = (items + PER_BATCH - 1) / PER_BATCH;
    for b in 0..batches {
        let n = PER_BATCH.min(items - b * PER_BATCH);
        sql.push_str(&format!(
            "INSERT INTO batches (id, key_id, product_id, item_count, case_count, case_size, production_date, created_at, imported_at, import_sha256, status) \
             VALUES ('DV{b:02}', 'k1', 1, {n}, {}, 20, '2026-01-01', {}, {}, 'sha-dv{b:02}', 'active');",
            (n + 19) / 20,
            t(start),
            t(start)
        ));
    }
    // Agents: 1..=10 are the chain the traced items went down (tiers 1..5, then 5), the rest
    // 区代/特约; each authorised for one district.
    let mut rows = Vec::new();
    for a in 1..=AGENTS {
        let tier = if a <= HOPS { a.min(5) } else { 4 + a % 2 };
        let supplier = if a > 1 && a <= HOPS {
            (a - 1).to_string()
        } else {
            "NULL".into()
        };
        rows.push(format!(
            "({a}, 'agent {a}', {tier}, {supplier}, '{}', 'active', {}, 1)",
            districts[region_index(a, districts.len())],
            t(start)
        ));
    }
    sql.push_str(&format!(
        "INSERT INTO agents (id, name, tier_rank, supplier_id, region, status, joined_at, policy_version) VALUES {};",
        rows.join(",")
    ));
    sql.push_str(&format!(
        "INSERT INTO agent_regions (agent_id, region_code) SELECT id, region FROM agents WHERE id <= {AGENTS};"
    ));
    if d.pg {
        sql.push_str(&format!(
            "SELECT setval(pg_get_serial_sequence('agents', 'id'), {AGENTS});"
        ));
    }
    conn.transaction(|c| c.batch_execute(&sql))?;

    let agent = format!("(CASE WHEN s.i < {traced} THEN {HOPS} ELSE s.i % {AGENTS} + 1 END)");
    let mut lo = 0;
    while lo < items {
        let hi = (lo + CHUNK).min(items);
        let g = d.series(lo, hi);
        let ser = d.serial("s.i");
        let released = d.at(&format!("{start} + s.i % 86400"));
        let verified = (sightings / items).to_string();
        let extra = sightings % items;
        let mut sql = format!(
            "INSERT INTO items (serial, batch_id, item_index, code_hash, status, custodian_kind, custodian_id, released_at, verify_count, first_verified_at) \
             SELECT {ser}, 'DV' || {}, s.i % {PER_BATCH}, 'h' || {}, 'active', 'agent', {agent}, {released}, {verified} + CASE WHEN s.i < {extra} THEN 1 ELSE 0 END, {released} FROM {g};",
            if d.pg {
                format!("lpad((s.i / {PER_BATCH})::text, 2, '0')")
            } else {
                format!("printf('%02d', s.i / {PER_BATCH})")
            },
            d.text("s.i"),
        );
        // Untraced items: shipped by HQ to their agent and received.
        let plain = d.series(lo.max(traced), hi.max(traced));
        if hi > traced {
            for (kind, fk, fi, tk, ti) in [
                ("ship", "'hq'", "NULL", "'transit'", "s.i + 1"),
                (
                    "receive",
                    "'transit'",
                    "s.i + 1",
                    "'agent'",
                    "s.i % 1000 + 1",
                ),
            ] {
                sql.push_str(&format!(
                    "INSERT INTO custody_events (serial, kind, from_kind, from_id, to_kind, to_id, note, at) \
                     SELECT {ser}, '{kind}', {fk}, {fi}, {tk}, {ti}, 'order ' || {}, {released} FROM {plain};",
                    d.text("s.i + 1")
                ));
            }
        }
        conn.transaction(|c| c.batch_execute(&sql))?;
        lo = hi;
    }
    // Traced items: 10 hops, HQ → agent 1 → agent 2 → … → agent 10, a ship and a receive each.
    if traced > 0 {
        let g = d.series(0, traced);
        let ser = d.serial("s.i");
        let mut sql = String::new();
        for h in 0..HOPS {
            let (fk, fi) = if h == 0 {
                ("'hq'".to_string(), "NULL".to_string())
            } else {
                ("'agent'".to_string(), h.to_string())
            };
            let order = format!("{} + s.i * {HOPS} + {h}", items + 1);
            let at = d.at(&format!("{start} + s.i % 86400 + {h} * 3600"));
            sql.push_str(&format!(
                "INSERT INTO custody_events (serial, kind, from_kind, from_id, to_kind, to_id, note, at) \
                 SELECT {ser}, 'ship', {fk}, {fi}, 'transit', {order}, 'order ' || {}, {at} FROM {g};\
                 INSERT INTO custody_events (serial, kind, from_kind, from_id, to_kind, to_id, note, at) \
                 SELECT {ser}, 'receive', 'transit', {order}, 'agent', {}, 'order ' || {}, {at} FROM {g};",
                d.text(&order),
                h + 1,
                d.text(&order)
            ));
        }
        conn.transaction(|c| c.batch_execute(&sql))?;
    }
    eprintln!("{items} items and their custody in");

    // Sightings, oldest first, round-robin over the items.
    let mut lo = 0;
    while lo < sightings {
        let hi = (lo + CHUNK).min(sightings);
        let g = d.series(lo, hi);
        let j = format!("(s.i % {items})");
        let ser = d.serial(&j);
        let agent = format!("(CASE WHEN {j} < {traced} THEN {HOPS} ELSE {j} % {AGENTS} + 1 END)");
        let at = d.at(&format!(
            "{start} + s.i * {} / {sightings}",
            365 * 86_400i64
        ));
        let sql = format!(
            "INSERT INTO sightings (serial, known_item, result, client_addr, user_agent, latitude, longitude, place, at, region_code, place_source, expected_region, bot) \
             SELECT {ser}, TRUE, CASE WHEN s.i < {items} THEN 'genuine_first' ELSE 'genuine_repeat' END, \
                    '10.' || {} || '.' || {} || '.' || {}, \
                    CASE WHEN s.i % 50 = 0 THEN 'curl/8.5' ELSE 'Mozilla/5.0 (iPhone) MicroMessenger/8.0' END, \
                    NULL, NULL, NULL, {at}, \
                    CASE WHEN s.i % 10 = 0 THEN o.code ELSE e.code END, \
                    CASE s.i % 3 WHEN 0 THEN 'client_address' WHEN 1 THEN 'browser' ELSE 'picked' END, \
                    e.code, s.i % 50 = 0 \
             FROM {g} JOIN bench_regions e ON e.i = ({agent} * 7) % {nd} \
                      JOIN bench_regions o ON o.i = (s.i * 13) % {nd};",
            d.text("s.i % 250"),
            d.text("s.i % 199"),
            d.text("s.i % 97"),
        );
        conn.transaction(|c| c.batch_execute(&sql))?;
        eprintln!("{hi} sightings in");
        lo = hi;
    }

    // Alerts: one diversion alert per 20 items, one scan alert per 200.
    let g = d.series(0, items);
    let ser = d.serial("s.i");
    let agent = format!("(CASE WHEN s.i < {traced} THEN {HOPS} ELSE s.i % {AGENTS} + 1 END)");
    let created = d.at(&format!("{start} + (s.i * 7919) % {}", 365 * 86_400i64));
    let mut sql = String::new();
    for (every, kind, channel, source) in [
        (20, "diversion", "verification", "client_address"),
        (200, "diversion", "scan", "device"),
    ] {
        sql.push_str(&format!(
            "INSERT INTO diversion_alerts (kind, serial, dedupe_key, channel, expected_region, observed_region, place_source, agent_id, risk, evidence, status, created_at) \
             SELECT '{kind}', {ser}, '{kind}:' || {ser} || ':{channel}:' || o.code, '{channel}', e.code, o.code, '{source}', {agent}, 50, \
                    '{{\"code\": \"' || {ser} || '\"}}', 'open', {created} \
             FROM {g} JOIN bench_regions e ON e.i = ({agent} * 7) % {nd} \
                      JOIN bench_regions o ON o.i = (s.i * 13 + 1) % {nd} WHERE s.i % {every} = 0;"
        ));
    }
    sql.push_str("DROP TABLE bench_regions;");
    conn.transaction(|c| c.batch_execute(&sql))?;
    if d.pg {
        conn.batch_execute("VACUUM ANALYZE")?;
    } else {
        conn.batch_execute("PRAGMA synchronous = NORMAL")?;
    }
    Ok(())
}
