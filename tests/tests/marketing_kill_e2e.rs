//! Scan marketing through a `kill -9` (issue 21), every part a real process: two `chainmark
//! serve` instances on one database (a SQLite file, then PostgreSQL) draw rewards for a stream of
//! first verifications from their leases of one campaign's budget and stock; one is killed with
//! -9 mid-stream, holding a lease and rewards not yet booked. The other goes on, gives the dead
//! instance's lease back once it is stale, and is stopped with SIGTERM.
//!
//! Then: every reward a consumer was told of is in the database with its amount; the budget and
//! the stock were never passed; no lease is left, and the campaign's spent figure is exactly what
//! its rewards cost (nothing held back by the dead instance); every reward is booked once, by a
//! posting of its group, and the ledger sums to zero.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chainmark_server::domain::marketing::{CampaignAction, CampaignDraft, Prize, PrizeKind, Scope};
use chainmark_server::store::schema::{
    campaign_leases, campaign_prizes, campaign_rewards, campaigns, ledger_accounts, postings,
};
use chainmark_server::store::{Db, campaigns as desk};
use chainmark_tests::fixture::Fixture;
use chainmark_tests::postgres::PgDatabase;
use chainmark_tests::server::Server;
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde_json::{Value, json};

const PHONE_UA: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) \
                        AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.40";
const ITEMS: u64 = 601;
const CLIENTS: usize = 4;
const BUDGET_CENTS: i64 = 6_000;
const CASH_STOCK: i64 = 100;

/// A lottery: a ¥0.50 red packet (40%, 100 of them) or 20 points (40%), ¥60.00 in all — less
/// than the draws would win, so both the stock and the budget run out.
fn start_campaign(url: &str) -> i64 {
    let db = Db::open(url, 1).expect("open database");
    let mut conn = db.get().expect("connection");
    let now = chainmark_server::store::users::now();
    let prize = |name: &str, kind, points, cents, stock| Prize {
        name: name.into(),
        kind,
        points,
        min_cents: cents,
        max_cents: cents,
        odds_bp: 4_000,
        stock,
    };
    let draft = CampaignDraft {
        name: "扫码有礼".into(),
        scope: Scope::default(),
        starts_at: now - chrono::Duration::hours(1),
        ends_at: now + chrono::Duration::days(1),
        budget: Decimal::new(BUDGET_CENTS, 2),
        daily_limit: 5,
        lottery: true,
        prizes: vec![
            prize("红包", PrizeKind::Cash, 0, 50, Some(CASH_STOCK)),
            prize("积分", PrizeKind::Points, 20, 0, None),
        ],
    };
    let id = desk::create(&mut conn, &draft, None, now)
        .expect("campaign")
        .id;
    desk::apply(&mut conn, id, CampaignAction::Start, now).expect("start");
    id
}

/// Verifies `items` spread over `servers` from client threads, each verification from an address
/// of its own; returns, per serial, the reward's amount in cents each answer told of.
fn verify_all(servers: &[&Server], items: &[(String, String, String)]) -> HashMap<String, i64> {
    let urls: Vec<String> = servers.iter().map(|s| s.url("/api/v1/verify")).collect();
    let chunk = items.len().div_ceil(CLIENTS);
    let threads: Vec<_> = items
        .chunks(chunk)
        .enumerate()
        .map(|(client, share)| {
            let (urls, share) = (urls.clone(), share.to_vec());
            std::thread::spawn(move || {
                let http = reqwest::blocking::Client::new();
                let mut told = HashMap::new();
                for (i, (serial, tag, code)) in share.iter().enumerate() {
                    let url = &urls[(client + i) % urls.len()];
                    let body = json!({"serial": serial, "tag": tag, "security_code": code});
                    let Ok(r) = http
                        .post(url)
                        .header("User-Agent", PHONE_UA)
                        .header("X-Forwarded-For", format!("10.7.{client}.{}", i % 250))
                        .json(&body)
                        .send()
                    else {
                        continue;
                    };
                    if r.status().as_u16() != 200 {
                        continue;
                    }
                    let v: Value = r.json().expect("JSON answer");
                    if v["reward"]["won"] == json!(true) {
                        let amount: Decimal = v["reward"]["amount"]
                            .as_str()
                            .expect("amount")
                            .parse()
                            .expect("a decimal");
                        let cents = (amount * Decimal::new(100, 0))
                            .to_string()
                            .parse::<Decimal>()
                            .expect("cents");
                        told.insert(
                            serial.clone(),
                            cents.trunc().to_string().parse().expect("i64"),
                        );
                    }
                }
                told
            })
        })
        .collect();
    let mut told = HashMap::new();
    for t in threads {
        told.extend(t.join().expect("client thread"));
    }
    told
}

fn leases_left(url: &str) -> i64 {
    let db = Db::open(url, 1).expect("open database");
    let mut conn = db.get().expect("connection");
    campaign_leases::table
        .count()
        .get_result(&mut conn)
        .expect("leases")
}

fn run(fixture: &Fixture) {
    let url = fixture.database_url.clone();
    fixture.release_all();
    let id = start_campaign(&url);
    let mut env = fixture.env();
    env.push(("CHAINMARK_RATE_LIMIT_ENABLED", "false".into()));
    env.push(("CHAINMARK_MQTT_ENABLED", "false".into()));
    env.push(("CHAINMARK_TRUST_PROXY", "true".into()));
    env.push(("CHAINMARK_MARKETING_LEASE_STALE_SECS", "3".into()));
    let dir = fixture.dir.path();
    let mut first = Server::start(dir, &env);
    let mut second = Server::start(dir, &env);

    let items: Vec<(String, String, String)> = fixture
        .items
        .iter()
        .map(|item| {
            let rest = item.verify_path.strip_prefix("/v/").expect("verify path");
            let (serial, tag) = rest.split_once("?t=").expect("tag");
            (
                serial.to_string(),
                tag.to_string(),
                item.security_code.clone(),
            )
        })
        .collect();
    let (before, after) = items.split_at(items.len() / 2);
    // Both instances draw; then the first dies, holding its lease and rewards not yet booked.
    let mut told = verify_all(&[&first, &second], before);
    first.kill9();
    assert!(
        leases_left(&url) >= 1,
        "the dead instance's lease is left behind"
    );
    told.extend(verify_all(&[&second], after));

    // The survivor gives the dead instance's lease back once it is stale (3 s here).
    let deadline = Instant::now() + Duration::from_secs(60);
    while leases_left(&url) > 1 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(leases_left(&url) <= 1, "the stale lease was not given back");
    // A clean stop gives the survivor's lease back and books every reward drawn.
    assert!(
        second
            .terminate(Duration::from_secs(30))
            .is_some_and(|s| s.success()),
        "the survivor stops cleanly on SIGTERM"
    );

    let db = Db::open(&url, 1).expect("reopen");
    let mut conn = db.get().expect("connection");
    let rewards: Vec<(String, Option<i64>, i64, bool)> = campaign_rewards::table
        .filter(campaign_rewards::campaign_id.eq(id))
        .select((
            campaign_rewards::serial,
            campaign_rewards::prize_id,
            campaign_rewards::amount_cents,
            campaign_rewards::settled,
        ))
        .load(&mut conn)
        .expect("rewards");
    let stored: HashMap<&str, i64> = rewards
        .iter()
        .filter(|r| r.1.is_some())
        .map(|r| (r.0.as_str(), r.2))
        .collect();
    assert!(told.len() > 50, "only {} rewards were won", told.len());
    for (serial, cents) in &told {
        assert_eq!(
            stored.get(serial.as_str()),
            Some(cents),
            "{serial}: a reward the consumer was told of"
        );
    }
    let cost: i64 = rewards.iter().map(|r| r.2).sum();
    let (spent, budget): (i64, i64) = campaigns::table
        .find(id)
        .select((campaigns::spent_cents, campaigns::budget_cents))
        .first(&mut conn)
        .expect("campaign");
    assert_eq!(leases_left(&url), 0, "every lease given back");
    assert_eq!(spent, cost, "the budget's figure is what the rewards cost");
    assert!(cost <= budget, "{cost} of {budget}");
    let cash_prize: (i64, Option<i64>) = campaign_prizes::table
        .filter(campaign_prizes::campaign_id.eq(id))
        .order(campaign_prizes::position)
        .select((campaign_prizes::id, campaign_prizes::remaining))
        .first(&mut conn)
        .expect("prize");
    let cash_won = rewards.iter().filter(|r| r.1 == Some(cash_prize.0)).count() as i64;
    assert!(cash_won <= CASH_STOCK);
    assert_eq!(
        cash_prize.1,
        Some(CASH_STOCK - cash_won),
        "the stock left is what was not won"
    );
    assert!(rewards.iter().all(|r| r.3), "every reward is booked");
    // Booked in groups: each reward won names the posting that booked it, and those postings
    // sum to the rewards' cost.
    let booked: Vec<(Option<i64>, i64)> = campaign_rewards::table
        .filter(campaign_rewards::prize_id.is_not_null())
        .select((campaign_rewards::posting_id, campaign_rewards::amount_cents))
        .load(&mut conn)
        .expect("postings of rewards");
    assert!(
        booked.iter().all(|b| b.0.is_some()),
        "every reward won is booked"
    );
    let groups: i64 = postings::table
        .filter(postings::idempotency_key.like("rewards:%"))
        .count()
        .get_result(&mut conn)
        .expect("postings");
    let named: std::collections::HashSet<i64> = booked.iter().filter_map(|b| b.0).collect();
    assert_eq!(
        groups,
        named.len() as i64,
        "no posting of rewards without its rewards"
    );
    let owed: i64 = ledger_accounts::table
        .filter(ledger_accounts::code.eq("hq:rewards_owed"))
        .select(ledger_accounts::balance_cents)
        .first(&mut conn)
        .expect("rewards owed");
    assert_eq!(owed, cost);
    let rows =
        chainmark_server::store::network::ledger::balances_vs_lines(&mut conn).expect("balances");
    let mut total = 0;
    for (code, balance, lines) in rows {
        assert_eq!(balance, lines, "{code}: stored balance vs its lines");
        total += balance;
    }
    assert_eq!(total, 0, "the ledger sums to zero");
}

#[test]
fn rewards_survive_a_kill_9_and_its_lease_is_given_back_to_the_cent_on_sqlite() {
    run(&Fixture::issue(ITEMS));
}

#[test]
fn rewards_survive_a_kill_9_and_its_lease_is_given_back_to_the_cent_on_postgres() {
    let Some(pg) = PgDatabase::create() else {
        return;
    };
    run(&Fixture::issue_into(ITEMS, Some(pg.url.clone())));
}
