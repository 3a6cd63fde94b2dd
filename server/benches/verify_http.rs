//! Benchmark: `POST /api/v1/verify` under `wrk`, with `/healthz` of the same server as the ceiling.
//!
//! ```sh
//! cargo bench -p chainmark-server --bench verify_http -- --codes 1000000
//! cargo bench -p chainmark-server --bench verify_http -- --codes 1000000 \
//!     --database-url postgres://postgres@127.0.0.1:54329/postgres
//! ```
//!
//! It generates `--codes` codes with codegen (in batches of at most 1,000,000), imports them through
//! the real import path, releases them all for sale, serves the real router on loopback with the
//! rate limits lifted, and runs `wrk` (Debian package `wrk`) against `/healthz` and then against
//! `/api/v1/verify` with a Lua script that posts a random code (serial, tag, security code) of a
//! sample of 50,000 per request. Prints a Markdown row for BENCHMARKS.md.
//!
//! Options: `--codes N` (default 100000), `--database-url URL` (default: SQLite in a temp dir;
//! a PostgreSQL URL gets a fresh database created in it; either is settled before the measurement:
//! vacuumed and analysed, or its WAL written back), `--duration SECS` (default 10),
//! `--connections N` (default 32), `--pool N` (database connections, default 8), `--keep DIR`
//! (reuse/keep the imported codes in DIR between runs, and on PostgreSQL the database too; a
//! reused database's verifications, sightings and alerts are cleared before each run).
//!
//! `--instances N` (PostgreSQL only) serves instead from N server processes (this program run
//! again with `--serve`, each with its own pool of `--pool` connections) behind one `haproxy`
//! port (Debian package `haproxy`; `CHAINMARK_HAPROXY` overrides the path), round robin with
//! kept-alive connections to the servers. Compare `--instances 1` with `--instances 2`: the
//! same proxy in front of one and of two servers.
//!
//! `--campaign` measures verification again with a running scan-marketing campaign (issue 21),
//! next to the run without one: the verifications are forgotten, a lottery covering every code is
//! started, and `wrk` runs again with the same script. Every request comes from a phone's browser
//! and an address of its own (`X-Forwarded-For`), so first verifications draw as a consumer's
//! would; prints both rows and how many draws the second run made.

#[path = "support/pg.rs"]
mod pg;

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail};
use chainmark_server::app::{self, App};
use chainmark_server::config::{RateLimitSettings, Settings};
use chainmark_server::keys::KeyRing;
use chainmark_server::registry::{self, ImportOptions, ProductInput};
use chainmark_server::store::Db;
use codegen::batch::{BatchSpec, write_batch};
use codegen::keys::MasterKey;
use rand::seq::SliceRandom;

const PER_BATCH: u64 = 1_000_000;
const SAMPLE: usize = 50_000;

struct Options {
    codes: u64,
    database_url: Option<String>,
    duration: u32,
    connections: u32,
    keep: Option<PathBuf>,
    pool: u32,
    instances: u32,
    campaign: bool,
}

fn parse_args() -> anyhow::Result<Options> {
    let mut o = Options {
        codes: 100_000,
        database_url: None,
        duration: 10,
        connections: 32,
        keep: None,
        pool: 8,
        instances: 0,
        campaign: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().with_context(|| format!("{a} needs a value"));
        match a.as_str() {
            "--codes" => o.codes = value()?.parse()?,
            "--database-url" => o.database_url = Some(value()?),
            "--duration" => o.duration = value()?.parse()?,
            "--connections" => o.connections = value()?.parse()?,
            "--keep" => o.keep = Some(PathBuf::from(value()?)),
            "--pool" => o.pool = value()?.parse()?,
            "--instances" => o.instances = value()?.parse()?,
            "--campaign" => o.campaign = true,
            "--bench" => {}
            other => bail!("unknown option {other} (see the file's doc comment)"),
        }
    }
    Ok(o)
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).is_some_and(|a| a == "--serve") {
        return serve_instance(&args[2..]);
    }
    let o = parse_args()?;
    if o.instances > 0
        && !o
            .database_url
            .as_deref()
            .is_some_and(|u| u.starts_with("postgres"))
    {
        bail!("--instances needs --database-url postgres://… (instances share one database)");
    }
    let tmp = tempfile::tempdir()?;
    let dir = o.keep.clone().unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&dir)?;
    let on_pg = o
        .database_url
        .as_deref()
        .is_some_and(|u| u.starts_with("postgres"));
    let sample_path = dir.join(format!(
        "sample-{}{}.tsv",
        if on_pg { "pg-" } else { "" },
        o.codes
    ));
    let url = match &o.database_url {
        Some(admin) if admin.starts_with("postgres") => {
            let name = format!("cm_bench_{}", o.codes);
            match pg::existing_database(admin, &name) {
                Some(url) if o.keep.is_some() && sample_path.exists() => url,
                _ => {
                    // A sample without its database is from another server: made anew.
                    let _ = std::fs::remove_file(&sample_path);
                    pg::fresh_database(admin, &name)?
                }
            }
        }
        Some(url) => url.clone(),
        None => format!(
            "sqlite://{}",
            dir.join(format!("bench-{}.db", o.codes)).display()
        ),
    };
    let key_path = dir.join("master.key");
    let key = if key_path.exists() {
        MasterKey::load(&key_path)?
    } else {
        MasterKey::generate_to(&key_path)?
    };
    let db = Db::open(&url, o.pool)?;
    db.migrate()?;
    let mut keys = KeyRing::default();
    keys.insert(key.clone());
    if !sample_path.exists() {
        populate(&db, &keys, &key, &dir, o.codes, &sample_path)?;
    } else {
        eprintln!("reusing {} codes in {}", o.codes, dir.display());
        forget_verifications(&db)?;
    }
    settle(&db, on_pg)?;

    let settings = Settings {
        database_url: url.clone(),
        database_pool_size: o.pool,
        rate_limit: RateLimitSettings {
            enabled: false,
            ..RateLimitSettings::default()
        },
        // The load script names each consumer's address in X-Forwarded-For.
        trust_proxy: true,
        ..Settings::default()
    };
    let runtime = tokio::runtime::Runtime::new()?;
    // Kept until the measurement is over: dropping them stops the servers and the proxy.
    let mut _servers = Vec::new();
    let db_handle = db.clone();
    let addr: SocketAddr = if o.instances == 0 {
        let state = App::with(settings, db, keys).into_state();
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
        let addr = listener.local_addr()?;
        runtime.spawn(app::serve(state, listener));
        addr
    } else {
        drop(db);
        let mut ports = Vec::new();
        for _ in 0..o.instances {
            let (child, port) = Instance::start(&url, o.pool, &key_path)?;
            _servers.push(child);
            ports.push(port);
        }
        let (proxy, addr) = Instance::haproxy(&dir, &ports)?;
        _servers.push(proxy);
        addr
    };
    eprintln!("serving on http://{addr} (metrics at /metrics)");

    let lua = dir.join("verify.lua");
    write_lua(&lua, &sample_path)?;
    let health = wrk(&o, &format!("http://{addr}/healthz"), None)?;
    let verify = wrk(&o, &format!("http://{addr}/api/v1/verify"), Some(&lua))?;
    let with_campaign = if o.campaign {
        forget_verifications(&db_handle)?;
        settle(&db_handle, on_pg)?;
        start_campaign(&db_handle)?;
        // Each server reads the running campaigns again within `marketing::REFRESH`.
        std::thread::sleep(
            chainmark_server::marketing::REFRESH + std::time::Duration::from_millis(500),
        );
        let run = wrk(&o, &format!("http://{addr}/api/v1/verify"), Some(&lua))?;
        // The rewards are booked by each server's settling, every second: how long until the
        // last draw of the load is booked.
        let after = std::time::Instant::now();
        let mut counted = draws(&db_handle)?;
        while counted.3 > 0 && after.elapsed() < std::time::Duration::from_secs(120) {
            std::thread::sleep(std::time::Duration::from_millis(250));
            counted = draws(&db_handle)?;
        }
        Some((run, counted, after.elapsed()))
    } else {
        None
    };
    let backend = if url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    println!();
    let backend = match o.instances {
        0 => backend.to_string(),
        n => format!("{backend}, {n} instance(s) behind haproxy"),
    };
    println!(
        "| backend | codes | /healthz req/s | /healthz p99 | verify req/s | verify p99 | verify / healthz |"
    );
    println!("|---|---|---|---|---|---|---|");
    println!(
        "| {backend} | {} | {:.0} | {} | {:.0} | {} | {:.2} |",
        o.codes,
        health.0,
        health.1,
        verify.0,
        verify.1,
        verify.0 / health.0
    );
    if let Some((run, (drawn, won, spent, unsettled), booked_in)) = with_campaign {
        println!(
            "| {backend}, a campaign running | {} | {:.0} | {} | {:.0} | {} | {:.2} |",
            o.codes,
            health.0,
            health.1,
            run.0,
            run.1,
            run.0 / health.0
        );
        println!();
        println!(
            "with the campaign: {drawn} first verifications drew, {won} won, ¥{} spent; \
             every draw booked {:.1} s after the load ({unsettled} left); \
             verify with / without a campaign: {:.2}",
            rust_decimal::Decimal::new(spent, 2),
            booked_in.as_secs_f64(),
            run.0 / verify.0
        );
    }
    Ok(())
}

/// Starts a lottery over every product: a red packet of ¥0.88–¥8.88 (10%), 50 points (50%), a
/// ¥10 coupon (10%); the rest wins nothing. The budget is large enough never to run out here.
fn start_campaign(db: &Db) -> anyhow::Result<()> {
    use chainmark_server::domain::marketing::{
        CampaignAction, CampaignDraft, Prize, PrizeKind, Scope,
    };
    use chainmark_server::store::campaigns;
    let now = chainmark_server::store::users::now();
    let prize = |name: &str, kind, points, min_cents, max_cents, odds_bp| Prize {
        name: name.into(),
        kind,
        points,
        min_cents,
        max_cents,
        odds_bp,
        stock: Some(10_000_000),
    };
    let draft = CampaignDraft {
        name: "基准测试活动".into(),
        scope: Scope::default(),
        starts_at: now - chrono::Duration::hours(1),
        ends_at: now + chrono::Duration::days(1),
        budget: rust_decimal::Decimal::new(1_000_000_000, 2),
        daily_limit: 3,
        lottery: true,
        prizes: vec![
            prize("红包", PrizeKind::Cash, 0, 88, 888, 1000),
            prize("积分", PrizeKind::Points, 50, 0, 0, 5000),
            prize("优惠券", PrizeKind::Coupon, 0, 1000, 1000, 1000),
        ],
    };
    let mut conn = db.get_writer()?;
    let id = campaigns::create(&mut conn, &draft, None, now)?.id;
    campaigns::apply(&mut conn, id, CampaignAction::Start, now)?;
    Ok(())
}

/// Draws made, prizes won, cents they cost, and draws not yet settled (booked) when asked.
fn draws(db: &Db) -> anyhow::Result<(i64, i64, i64, i64)> {
    use chainmark_server::store::schema::campaign_rewards;
    use diesel::prelude::*;
    let mut conn = db.get_writer()?;
    let drawn: i64 = campaign_rewards::table.count().get_result(&mut conn)?;
    let won: Vec<i64> = campaign_rewards::table
        .filter(campaign_rewards::prize_id.is_not_null())
        .select(campaign_rewards::amount_cents)
        .load(&mut conn)?;
    let unsettled: i64 = campaign_rewards::table
        .filter(campaign_rewards::settled.eq(false))
        .count()
        .get_result(&mut conn)?;
    Ok((drawn, won.len() as i64, won.iter().sum(), unsettled))
}

/// `--serve URL POOL KEYFILE`: one server instance for `--instances`. Prints `port N` on stdout
/// once it listens, then serves until killed.
fn serve_instance(args: &[String]) -> anyhow::Result<()> {
    let [url, pool, key_file] = args else {
        bail!("--serve URL POOL KEYFILE");
    };
    let pool: u32 = pool.parse()?;
    let db = Db::open(url, pool)?;
    let mut keys = KeyRing::default();
    keys.insert(MasterKey::load(Path::new(key_file))?);
    let settings = Settings {
        database_url: url.clone(),
        database_pool_size: pool,
        rate_limit: RateLimitSettings {
            enabled: false,
            ..RateLimitSettings::default()
        },
        // The load script names each consumer's address in X-Forwarded-For.
        trust_proxy: true,
        ..Settings::default()
    };
    let state = App::with(settings, db, keys).into_state();
    let runtime = tokio::runtime::Runtime::new()?;
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    println!("port {}", listener.local_addr()?.port());
    std::io::stdout().flush()?;
    runtime.block_on(app::serve(state, listener))?;
    Ok(())
}

/// A child process killed when dropped: a server instance or the proxy.
struct Instance(std::process::Child);

impl Instance {
    fn start(url: &str, pool: u32, key: &Path) -> anyhow::Result<(Instance, u16)> {
        use std::io::BufRead;
        let mut child = Command::new(std::env::current_exe()?)
            .arg("--serve")
            .arg(url)
            .arg(pool.to_string())
            .arg(key)
            .stdout(std::process::Stdio::piped())
            .spawn()?;
        let out = child.stdout.take().context("instance stdout")?;
        let mut line = String::new();
        std::io::BufReader::new(out).read_line(&mut line)?;
        let port = line
            .trim()
            .strip_prefix("port ")
            .and_then(|p| p.parse().ok())
            .with_context(|| format!("the instance said {line:?}, not its port"))?;
        Ok((Instance(child), port))
    }

    /// haproxy on a free port in front of `ports`, round robin, connections to the servers kept
    /// alive and reused (as a production proxy would), one thread (the machine has two cores).
    fn haproxy(dir: &Path, ports: &[u16]) -> anyhow::Result<(Instance, SocketAddr)> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let servers: String = ports
            .iter()
            .enumerate()
            .map(|(i, p)| format!("    server s{i} 127.0.0.1:{p}\n"))
            .collect();
        let conf = dir.join("haproxy.cfg");
        std::fs::write(
            &conf,
            format!(
                "global\n    maxconn 4096\n    nbthread 1\n\
                 defaults\n    mode http\n    timeout connect 5s\n    timeout client 60s\n\
                 \x20   timeout server 60s\n    option http-keep-alive\n    http-reuse always\n\
                 frontend verify\n    bind 127.0.0.1:{port}\n    default_backend servers\n\
                 backend servers\n    balance roundrobin\n{servers}"
            ),
        )?;
        let bin = std::env::var("CHAINMARK_HAPROXY").unwrap_or_else(|_| "/usr/sbin/haproxy".into());
        let child = Command::new(&bin)
            .arg("-f")
            .arg(&conf)
            .arg("-db")
            .stdout(std::process::Stdio::null())
            .spawn()
            .with_context(|| format!("cannot start {bin} (apt-get install haproxy)"))?;
        let proxy = Instance(child);
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        for _ in 0..100 {
            if std::net::TcpStream::connect(addr).is_ok() {
                return Ok((proxy, addr));
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        bail!("haproxy did not listen on {addr}")
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A reused database starts each run as a fresh one would: without this, codes verified in
/// earlier runs pass the verification ceiling (30) and every later run measures overuse alerts,
/// over a sightings table that grows by a million rows a run.
fn forget_verifications(db: &Db) -> anyhow::Result<()> {
    use diesel::connection::SimpleConnection;
    let mut conn = db.get_writer()?;
    conn.batch_execute(
        "UPDATE items SET verify_count = 0, mismatch_count = 0, first_verified_at = NULL, \
             first_verified_place = NULL WHERE verify_count > 0 OR mismatch_count > 0; \
         DELETE FROM sightings; DELETE FROM diversion_alerts; DELETE FROM diversion_flow_days; \
         DELETE FROM campaign_days; DELETE FROM campaign_rewards; \
         DELETE FROM campaign_lease_stock; DELETE FROM campaign_leases; \
         DELETE FROM posting_lines; DELETE FROM postings; UPDATE ledger_accounts SET balance_cents = 0; \
         UPDATE campaigns SET spent_cents = 0; UPDATE campaign_prizes SET remaining = stock;",
    )?;
    Ok(())
}

/// Leaves the database as a server that has run a while would have it: on PostgreSQL, dead rows
/// of the import or the reset vacuumed and statistics fresh (otherwise autovacuum does it during
/// the measurement, on the same two cores); on SQLite, the WAL written back and emptied.
fn settle(db: &Db, on_pg: bool) -> anyhow::Result<()> {
    use diesel::connection::SimpleConnection;
    let t = Instant::now();
    let mut conn = db.get_writer()?;
    if on_pg {
        conn.batch_execute("VACUUM ANALYZE")?;
    } else {
        conn.batch_execute("PRAGMA wal_checkpoint(TRUNCATE)")?;
    }
    eprintln!("settled the database in {:.1} s", t.elapsed().as_secs_f64());
    Ok(())
}

/// Generates, imports and releases `codes` codes; writes a sample of them for the Lua script.
fn populate(
    db: &Db,
    keys: &KeyRing,
    key: &MasterKey,
    dir: &Path,
    codes: u64,
    sample_path: &Path,
) -> anyhow::Result<()> {
    let mut conn = db.get_writer()?;
    registry::create_product(
        &mut conn,
        ProductInput {
            sku: "BENCH-1".into(),
            name: "基准测试产品".into(),
            name_en: Some("Benchmark product".into()),
            gtin: None,
            case_size: Some(72),
            image_url: None,
        },
    )
    .ok();
    let mut sample: Vec<String> = Vec::new();
    let mut left = codes;
    let mut n = 0;
    while left > 0 {
        let items = left.min(PER_BATCH);
        let out = dir.join(format!("batch-{n}"));
        let _ = std::fs::remove_dir_all(&out);
        let t = Instant::now();
        let spec = BatchSpec::new("BENCH-1", items, "https://brand.example", &out);
        let summary = write_batch(&spec, key, &mut |_| {})?;
        let generated = t.elapsed();
        let t = Instant::now();
        registry::import_batch(
            &mut conn,
            keys,
            &[],
            &out,
            ImportOptions::default(),
            &mut |_, _| {},
        )?;
        let imported = t.elapsed();
        let first = first_and_last(&out)?;
        registry::release(
            &mut conn,
            &summary.header.id.to_string(),
            &first.0,
            &first.1,
            None,
        )?;
        eprintln!(
            "batch {n}: {items} codes generated in {generated:.1?}, imported in {imported:.1?} ({:.0} items/s)",
            items as f64 / imported.as_secs_f64()
        );
        // Keep a sample of each batch for the load script.
        let mut reader = csv::Reader::from_path(out.join("print.csv"))?;
        let mut rows: Vec<String> = Vec::new();
        for rec in reader.records() {
            let rec = rec?;
            let serial = &rec[0];
            let code = rec[1].replace(' ', "");
            let tag = rec[2].rsplit("t=").next().unwrap_or_default();
            rows.push(format!("{serial}\t{tag}\t{code}"));
        }
        rows.shuffle(&mut rand::thread_rng());
        let share = (SAMPLE as u64 * items / codes.max(1)).max(1) as usize;
        sample.extend(rows.into_iter().take(share));
        std::fs::remove_dir_all(&out)?;
        left -= items;
        n += 1;
    }
    let mut f = std::fs::File::create(sample_path)?;
    for line in &sample {
        writeln!(f, "{line}")?;
    }
    Ok(())
}

fn first_and_last(out: &Path) -> anyhow::Result<(String, String)> {
    let mut reader = csv::Reader::from_path(out.join("print.csv"))?;
    let mut first = None;
    let mut last = String::new();
    for rec in reader.records() {
        let serial = rec?[0].to_string();
        first.get_or_insert_with(|| serial.clone());
        last = serial;
    }
    Ok((first.context("empty batch")?, last))
}

fn write_lua(lua: &Path, sample: &Path) -> anyhow::Result<()> {
    // Every request is formatted once, at start: building it in `request()` and inspecting each
    // answer in a `response()` callback cost wrk ~30 µs of CPU per request, on the same two cores
    // as the server. Failed answers are counted by wrk itself ("Non-2xx or 3xx responses").
    let script = format!(
        r#"local requests = {{}}
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local n = 0
for line in io.lines("{}") do
  local s, t, c = line:match("([^\t]+)\t([^\t]+)\t([^\t]+)")
  local body = '{{"serial":"' .. s .. '","tag":"' .. t .. '","security_code":"' .. c .. '"}}'
  -- Each code from a consumer of its own, on a phone's browser: one address hitting the server
  -- thousands of times a second would be a bot to the diversion module, and bots win nothing.
  n = n + 1
  local headers = {{
    ["Content-Type"] = "application/json",
    ["User-Agent"] = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) MicroMessenger/8.0",
    ["X-Forwarded-For"] = string.format("10.%d.%d.%d", math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256),
  }}
  requests[#requests + 1] = wrk.format(nil, nil, headers, body)
end
math.randomseed(os.time())
request = function()
  return requests[math.random(#requests)]
end
"#,
        sample.display()
    );
    std::fs::write(lua, script)?;
    Ok(())
}

/// Runs wrk; returns requests/s and the p99 latency as wrk prints it.
fn wrk(o: &Options, url: &str, script: Option<&Path>) -> anyhow::Result<(f64, String)> {
    let mut cmd = Command::new("wrk");
    cmd.args([
        "-t1",
        &format!("-c{}", o.connections),
        &format!("-d{}s", o.duration),
        "--latency",
    ]);
    if let Some(s) = script {
        cmd.arg("-s").arg(s);
    }
    cmd.arg(url);
    let out = cmd
        .output()
        .context("running wrk: install it (apt-get install wrk)")?;
    let text = String::from_utf8_lossy(&out.stdout);
    eprintln!("{text}");
    let rps = text
        .lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .context("wrk printed no Requests/sec")?;
    let p99 = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("99%"))
        .map(|v| v.trim().to_string())
        .unwrap_or_default();
    if let Some(bad) = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Non-2xx or 3xx responses:"))
    {
        bail!(
            "{} answers were not 2xx: the numbers above do not count",
            bad.trim()
        );
    }
    Ok((rps, p99))
}
