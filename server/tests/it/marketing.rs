//! Scan marketing (issue 21): draws on genuine first verifications, on both backends — stock used
//! up exactly under parallel first scans, a budget that stops at its cent, one draw per code
//! ever, claims once within the daily limit, and a ledger that sums to zero throughout.

use std::net::{IpAddr, Ipv4Addr};

use chainmark_server::app::{App, AppState};
use chainmark_server::domain::marketing::{CampaignAction, CampaignDraft, Prize, PrizeKind, Scope};
use chainmark_server::store::campaigns as desk;
use chainmark_server::store::marketing as store;
use chainmark_server::store::schema::{campaign_prizes, campaign_rewards, campaigns, consumers};
use chainmark_server::store::typed::Stored;
use chainmark_server::verify::{self, Answer, Request};
use chrono::Duration;
use diesel::prelude::*;
use rust_decimal::Decimal;

use crate::common::{TestApp, backends, make_batch, release, with_conn};

const PHONE_UA: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) \
                        AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.40";

/// A prize as a test sets it up: kind, points or cents (min, max), odds, stock.
struct P(PrizeKind, i64, i64, i64, u32, Option<i64>);

/// A running campaign over every product, from an hour ago to tomorrow, made and started as HQ
/// makes one (`campaigns::create`, `campaigns::apply`).
fn campaign(
    app: &TestApp,
    budget_cents: i64,
    daily_limit: i32,
    regions: &str,
    prizes: &[P],
) -> i64 {
    let now = chainmark_server::store::users::now();
    let draft = CampaignDraft {
        name: "双十二扫码有礼".into(),
        scope: Scope {
            regions: regions.split_whitespace().map(str::to_string).collect(),
            ..Scope::default()
        },
        starts_at: now - Duration::hours(1),
        ends_at: now + Duration::days(1),
        budget: Decimal::new(budget_cents, 2),
        daily_limit,
        lottery: prizes.len() > 1,
        prizes: prizes
            .iter()
            .enumerate()
            .map(|(i, p)| Prize {
                name: format!("奖品{}", i + 1),
                kind: p.0,
                points: p.1,
                min_cents: p.2,
                max_cents: p.3,
                odds_bp: p.4,
                stock: p.5,
            })
            .collect(),
    };
    with_conn(&app.db, |c| {
        let id = desk::create(c, &draft, None, now).expect("campaign").id;
        desk::apply(c, id, CampaignAction::Start, now).expect("start");
        id
    })
}

/// A consumer signed in by phone.
fn consumer(app: &TestApp, phone: &str) -> i64 {
    let now = chainmark_server::store::users::now();
    with_conn(&app.db, |c| {
        diesel::insert_into(consumers::table)
            .values((
                consumers::phone.eq(phone),
                consumers::created_at.eq(now),
                consumers::last_seen_at.eq(now),
            ))
            .returning(consumers::id)
            .get_result(c)
            .expect("consumer")
    })
}

fn scan(serial: &str, tag: &str, code: &str, client: u32, consumer: Option<i64>) -> Request {
    Request {
        serial: serial.into(),
        tag: tag.into(),
        security_code: Some(code.into()),
        client: IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + client)),
        user_agent: Some(PHONE_UA.into()),
        latitude: None,
        longitude: None,
        region: None,
        consumer,
    }
}

async fn verify_on(state: &AppState, req: Request) -> Answer {
    verify::verify(state, req).await.expect("verify")
}

/// Every stored balance is the sum of its lines, and the whole ledger sums to zero (every
/// posting was checked to balance when it was built).
fn ledger_sums_to_zero(app: &TestApp) {
    let rows = with_conn(&app.db, |c| {
        chainmark_server::store::network::ledger::balances_vs_lines(c).expect("balances")
    });
    let mut total = 0i64;
    for (code, balance, lines) in rows {
        assert_eq!(balance, lines, "{code}: stored balance vs its lines");
        total += balance;
    }
    assert_eq!(total, 0, "the whole ledger sums to zero");
}

fn balance(app: &TestApp, code: &str) -> i64 {
    use chainmark_server::store::schema::ledger_accounts;
    with_conn(&app.db, |c| {
        ledger_accounts::table
            .filter(ledger_accounts::code.eq(code))
            .select(ledger_accounts::balance_cents)
            .first::<i64>(c)
            .optional()
            .expect("balance")
            .unwrap_or(0)
    })
}

/// What every instance holds of the budgets given back and every reward booked, as at shutdown.
async fn quiesce(states: &[&AppState]) {
    for state in states {
        chainmark_server::marketing::quiesce(state)
            .await
            .expect("quiesce");
    }
}

fn spent(app: &TestApp, id: i64) -> i64 {
    with_conn(&app.db, |c| {
        campaigns::table
            .find(id)
            .select(campaigns::spent_cents)
            .first(c)
            .expect("spent")
    })
}

/// A second server instance on the same database, as a load balancer would run it.
fn second_instance(app: &TestApp) -> AppState {
    let db = chainmark_server::store::Db::open(&app.db.url, 8).expect("second pool");
    App::with(
        app.state.settings.clone(),
        db,
        app.state.keys.as_ref().clone(),
    )
    .into_state()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lottery_stock_is_used_up_exactly_under_200_parallel_first_scans() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let batch = make_batch(&app, "TEA-1", 200, 10);
        release(&app, &batch.rows[0].serial, &batch.rows[199].serial);
        // Half the scans aim at each prize, far more than their stock.
        let id = campaign(
            &app,
            1_000_000,
            5,
            "",
            &[
                P(PrizeKind::Cash, 0, 100, 100, 5000, Some(30)),
                P(PrizeKind::Points, 10, 0, 0, 5000, Some(40)),
            ],
        );
        let other = second_instance(&app);
        let states = [app.state.clone(), other];
        let mut tasks = Vec::new();
        for (i, row) in batch.rows.iter().enumerate() {
            let state = states[i % 2].clone();
            let req = scan(&row.serial, &row.tag, &row.security_code, i as u32, None);
            tasks.push(tokio::spawn(async move { verify_on(&state, req).await }));
        }
        let mut won = 0;
        for t in tasks {
            let answer = t.await.expect("task");
            let reward = answer.reward.expect("every first scan draws");
            won += usize::from(reward.drawn.prize.is_some());
        }
        assert_eq!(won, 70, "{backend:?}: the stock of both prizes, exactly");
        quiesce(&[&app.state, &states[1]]).await;
        let (rows, left): (i64, Vec<Option<i64>>) = with_conn(&app.db, |c| {
            (
                campaign_rewards::table.count().get_result(c).expect("rows"),
                campaign_prizes::table
                    .filter(campaign_prizes::campaign_id.eq(id))
                    .order(campaign_prizes::position)
                    .select(campaign_prizes::remaining)
                    .load(c)
                    .expect("left"),
            )
        });
        assert_eq!(rows, 200, "one draw per code");
        assert_eq!(left, vec![Some(0), Some(0)], "{backend:?}");
        assert_eq!(spent(&app, id), 30 * 100 + 40 * 10);
        assert_eq!(balance(&app, "hq:rewards_owed"), 3400);
        assert_eq!(balance(&app, "hq:marketing_expense"), -3400);
        ledger_sums_to_zero(&app);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_budget_stops_at_its_cent() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let batch = make_batch(&app, "TEA-1", 40, 10);
        release(&app, &batch.rows[0].serial, &batch.rows[39].serial);
        // ¥2.50 red packets from ¥10.00: exactly four, concurrently on two instances.
        let fixed = campaign(
            &app,
            1000,
            5,
            "",
            &[P(PrizeKind::Cash, 0, 250, 250, 10_000, None)],
        );
        let other = second_instance(&app);
        let states = [app.state.clone(), other];
        let mut tasks = Vec::new();
        for (i, row) in batch.rows[..20].iter().enumerate() {
            let state = states[i % 2].clone();
            let req = scan(&row.serial, &row.tag, &row.security_code, i as u32, None);
            tasks.push(tokio::spawn(async move { verify_on(&state, req).await }));
        }
        let mut won = 0;
        for t in tasks {
            won += usize::from(
                t.await
                    .expect("task")
                    .reward
                    .is_some_and(|r| r.drawn.prize.is_some()),
            );
        }
        assert_eq!(won, 4, "{backend:?}");
        quiesce(&[&app.state, &states[1]]).await;
        assert_eq!(
            spent(&app, fixed),
            1000,
            "{backend:?}: to the cent, never past it"
        );

        // A random amount from ¥1.00 to ¥3.00 out of ¥10.00: the last one is cut to what is
        // left, and the budget is never passed.
        with_conn(&app.db, |c| {
            desk::apply(
                c,
                fixed,
                CampaignAction::End,
                chainmark_server::store::users::now(),
            )
            .expect("end");
        });
        let random = campaign(
            &app,
            1000,
            5,
            "",
            &[P(PrizeKind::Cash, 0, 100, 300, 10_000, None)],
        );
        app.state.offers.invalidate();
        let mut amounts = Vec::new();
        for (i, row) in batch.rows[20..].iter().enumerate() {
            let answer = verify_on(
                &app.state,
                scan(
                    &row.serial,
                    &row.tag,
                    &row.security_code,
                    100 + i as u32,
                    None,
                ),
            )
            .await;
            if let Some(p) = answer.reward.and_then(|r| r.drawn.prize) {
                assert!(p.amount_cents <= 300, "{p:?}");
                amounts.push(p.amount_cents);
            }
        }
        let total: i64 = amounts.iter().sum();
        quiesce(&[&app.state]).await;
        assert_eq!(total, spent(&app, random), "{backend:?}: {amounts:?}");
        assert!(
            total <= 1000 && total > 1000 - 100,
            "{backend:?}: {amounts:?}"
        );
        assert_eq!(balance(&app, "hq:rewards_owed"), 1000 + total);
        ledger_sums_to_zero(&app);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_reward_per_code_after_replays_and_concurrent_scans() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let batch = make_batch(&app, "TEA-1", 10, 5);
        release(&app, &batch.rows[0].serial, &batch.rows[9].serial);
        let id = campaign(
            &app,
            100_000,
            5,
            "",
            &[P(PrizeKind::Points, 50, 0, 0, 10_000, None)],
        );
        let row = batch.rows[3].clone();
        let other = second_instance(&app);
        let mut tasks = Vec::new();
        for i in 0..8u32 {
            let state = if i % 2 == 0 {
                app.state.clone()
            } else {
                other.clone()
            };
            let req = scan(&row.serial, &row.tag, &row.security_code, i, None);
            tasks.push(tokio::spawn(async move { verify_on(&state, req).await }));
        }
        let mut rewards = 0;
        for t in tasks {
            rewards += usize::from(t.await.expect("task").reward.is_some());
        }
        assert_eq!(rewards, 1, "{backend:?}: only the first verification draws");
        // Replays later: genuine repeats, no reward.
        for i in 0..3u32 {
            let again = verify_on(
                &app.state,
                scan(&row.serial, &row.tag, &row.security_code, 50 + i, None),
            )
            .await;
            assert!(again.reward.is_none());
        }
        let n: i64 = with_conn(&app.db, |c| {
            campaign_rewards::table
                .filter(campaign_rewards::serial.eq(&row.serial))
                .count()
                .get_result(c)
                .expect("count")
        });
        assert_eq!(n, 1);
        quiesce(&[&app.state, &other]).await;
        assert_eq!(spent(&app, id), 50, "a point is a cent in the ledger");
        ledger_sums_to_zero(&app);
    }
}

#[tokio::test]
async fn no_reward_for_bots_frozen_codes_other_regions_or_paused_campaigns() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let batch = make_batch(&app, "TEA-1", 10, 5);
        release(&app, &batch.rows[0].serial, &batch.rows[9].serial);
        // Only in Shenzhen (440300).
        let id = campaign(
            &app,
            100_000,
            5,
            "440300",
            &[P(PrizeKind::Cash, 0, 188, 188, 10_000, None)],
        );
        let r = &batch.rows;
        // No place known: outside the campaign's regions.
        let a = verify_on(
            &app.state,
            scan(&r[0].serial, &r[0].tag, &r[0].security_code, 1, None),
        )
        .await;
        assert!(a.reward.is_none(), "{backend:?}");
        // Picked Guangzhou (440106): outside.
        let mut req = scan(&r[1].serial, &r[1].tag, &r[1].security_code, 2, None);
        req.region = Some("440106".into());
        assert!(verify_on(&app.state, req).await.reward.is_none());
        // A bot in Shenzhen: nothing.
        let mut req = scan(&r[2].serial, &r[2].tag, &r[2].security_code, 3, None);
        req.region = Some("440305".into());
        req.user_agent = Some("curl/8.0".into());
        assert!(verify_on(&app.state, req).await.reward.is_none());
        // A person in Nanshan, Shenzhen (440305): the red packet.
        let mut req = scan(&r[3].serial, &r[3].tag, &r[3].security_code, 4, None);
        req.region = Some("440305".into());
        let won = verify_on(&app.state, req).await.reward.expect("drawn");
        assert_eq!(won.drawn.prize.map(|p| p.amount_cents), Some(188));
        // A code under a cloning alert: nothing.
        with_conn(&app.db, |c| {
            use chainmark_server::domain::diversion::PlaceSource;
            use chainmark_server::domain::diversion::alert::{AlertKind, AlertStatus, Channel};
            use chainmark_server::store::schema::diversion_alerts as da;
            diesel::insert_into(da::table)
                .values((
                    da::kind.eq(Stored(AlertKind::Cloning)),
                    da::serial.eq(&r[4].serial),
                    da::dedupe_key.eq("test"),
                    da::channel.eq(Stored(Channel::Verification)),
                    da::place_source.eq(Stored(PlaceSource::Picked)),
                    da::risk.eq(90),
                    da::evidence.eq("{}"),
                    da::status.eq(Stored(AlertStatus::Open)),
                    da::created_at.eq(chainmark_server::store::users::now()),
                ))
                .execute(c)
                .expect("alert");
        });
        let mut req = scan(&r[4].serial, &r[4].tag, &r[4].security_code, 5, None);
        req.region = Some("440305".into());
        assert!(verify_on(&app.state, req).await.reward.is_none());
        // Paused (on another instance): the copy in memory may be stale, the database is not.
        with_conn(&app.db, |c| {
            desk::apply(
                c,
                id,
                CampaignAction::Pause,
                chainmark_server::store::users::now(),
            )
            .expect("pause");
        });
        let mut req = scan(&r[5].serial, &r[5].tag, &r[5].security_code, 6, None);
        req.region = Some("440305".into());
        let paused = verify_on(&app.state, req).await;
        assert!(
            paused
                .reward
                .as_ref()
                .is_none_or(|r| r.drawn.prize.is_none()),
            "{backend:?}: a paused campaign spends nothing"
        );
        quiesce(&[&app.state]).await;
        assert_eq!(spent(&app, id), 188);
        ledger_sums_to_zero(&app);
    }
}

#[tokio::test]
async fn a_reward_is_claimed_once_within_the_daily_limit() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let batch = make_batch(&app, "TEA-1", 10, 5);
        release(&app, &batch.rows[0].serial, &batch.rows[9].serial);
        campaign(
            &app,
            100_000,
            2,
            "",
            &[P(PrizeKind::Cash, 0, 100, 100, 10_000, None)],
        );
        let alice = consumer(&app, "13800138000");
        let bob = consumer(&app, "13900139000");
        let r = &batch.rows;
        let mut tokens = Vec::new();
        for (i, row) in r[..4].iter().enumerate() {
            let answer = verify_on(
                &app.state,
                scan(&row.serial, &row.tag, &row.security_code, i as u32, None),
            )
            .await;
            let reward = answer.reward.expect("drawn");
            assert!(!reward.drawn.claimed);
            tokens.push(reward.claim_token);
        }
        quiesce(&[&app.state]).await;
        assert_eq!(balance(&app, "hq:rewards_owed"), 400);
        let state = &app.state;
        let (_, first) = chainmark_server::marketing::claim(state, &tokens[0], alice)
            .await
            .expect("claim");
        assert_eq!(first, store::Claimed::New);
        let (_, again) = chainmark_server::marketing::claim(state, &tokens[0], alice)
            .await
            .expect("a double submit");
        assert_eq!(again, store::Claimed::Again);
        let taken = chainmark_server::marketing::claim(state, &tokens[0], bob).await;
        assert_eq!(taken.expect_err("another's").code(), "reward_claimed");
        chainmark_server::marketing::claim(state, &tokens[1], alice)
            .await
            .expect("second of the day");
        let limit = chainmark_server::marketing::claim(state, &tokens[2], alice).await;
        assert_eq!(limit.expect_err("third").code(), "reward_daily_limit");
        let wrong = chainmark_server::marketing::claim(state, "no-such-token", alice).await;
        assert_eq!(wrong.expect_err("unknown").code(), "not_found");
        // Bob may still claim the third.
        chainmark_server::marketing::claim(state, &tokens[2], bob)
            .await
            .expect("bob's");
        assert_eq!(balance(&app, &format!("consumer:{alice}:cash")), 200);
        assert_eq!(balance(&app, &format!("consumer:{bob}:cash")), 100);
        assert_eq!(balance(&app, "hq:rewards_owed"), 100);

        // Signed in while verifying: the reward is hers at once.
        let row = &r[5];
        let answer = verify_on(
            &app.state,
            scan(&row.serial, &row.tag, &row.security_code, 9, Some(bob)),
        )
        .await;
        assert!(answer.reward.expect("drawn").drawn.claimed);
        assert_eq!(balance(&app, &format!("consumer:{bob}:cash")), 200);
        ledger_sums_to_zero(&app);
    }
}

fn lease_figures(app: &TestApp, id: i64) -> (i64, Option<i64>, i64) {
    use chainmark_server::store::schema::campaign_leases;
    let (remaining, leases) = with_conn(&app.db, |c| {
        let remaining = campaign_prizes::table
            .filter(campaign_prizes::campaign_id.eq(id))
            .select(campaign_prizes::remaining)
            .first(c)
            .expect("remaining");
        let leases: i64 = campaign_leases::table
            .count()
            .get_result(c)
            .expect("leases");
        (remaining, leases)
    });
    (spent(app, id), remaining, leases)
}

#[tokio::test]
async fn a_lease_its_server_left_behind_is_given_back_to_the_cent() {
    use chainmark_server::store::schema::campaign_leases;
    for backend in backends() {
        let app = TestApp::new(backend);
        let batch = make_batch(&app, "TEA-1", 10, 5);
        release(&app, &batch.rows[0].serial, &batch.rows[9].serial);
        // ¥1.00 red packets, 50 of them, from ¥1,000.00.
        let id = campaign(
            &app,
            100_000,
            5,
            "",
            &[P(PrizeKind::Cash, 0, 100, 100, 10_000, Some(50))],
        );
        let r = &batch.rows;
        // Another instance draws three, then dies (dropped: no shutdown, nothing given back).
        let other = second_instance(&app);
        for (i, row) in r[..3].iter().enumerate() {
            let won = verify_on(
                &other,
                scan(&row.serial, &row.tag, &row.security_code, i as u32, None),
            )
            .await;
            assert!(
                won.reward.and_then(|r| r.drawn.prize).is_some(),
                "{backend:?}"
            );
        }
        drop(other);
        let (held, left, leases) = lease_figures(&app, id);
        assert_eq!(leases, 1);
        assert!(
            held > 300,
            "{backend:?}: its lease holds more than it spent: {held}"
        );
        assert!(left.is_some_and(|n| n < 47), "{backend:?}: {left:?}");
        // Renewed recently: not yet taken for dead.
        assert_eq!(
            app.state
                .purses
                .renew(&app.state.db, chainmark_server::marketing::STALE)
                .await
                .expect("renew"),
            0
        );
        assert_eq!(lease_figures(&app, id).2, 1);
        // Not renewed for longer than STALE: any instance ends it, to the cent of its rewards.
        let long_ago = chainmark_server::store::users::now()
            - chrono::Duration::from_std(chainmark_server::marketing::STALE).expect("stale")
            - Duration::minutes(1);
        with_conn(&app.db, |c| {
            diesel::update(campaign_leases::table)
                .set(campaign_leases::renewed_at.eq(long_ago))
                .execute(c)
                .expect("age");
        });
        assert_eq!(
            app.state
                .purses
                .renew(&app.state.db, chainmark_server::marketing::STALE)
                .await
                .expect("renew"),
            1
        );
        assert_eq!(
            lease_figures(&app, id),
            (300, Some(47), 0),
            "{backend:?}: three red packets spent, the rest given back"
        );
        // Its rewards were drawn but not booked yet: settling books each once.
        assert_eq!(balance(&app, "hq:rewards_owed"), 0);
        assert_eq!(
            chainmark_server::marketing::settle(&app.state.db)
                .await
                .expect("settle"),
            3
        );
        assert_eq!(
            chainmark_server::marketing::settle(&app.state.db)
                .await
                .expect("settle"),
            0
        );
        assert_eq!(balance(&app, "hq:rewards_owed"), 300);

        // This instance draws, then its lease ends once no draw uses it and the campaign is no
        // longer running (or it sat idle): given back while the instance runs on.
        let won = verify_on(
            &app.state,
            scan(&r[3].serial, &r[3].tag, &r[3].security_code, 9, None),
        )
        .await;
        assert!(won.reward.and_then(|r| r.drawn.prize).is_some());
        assert!(lease_figures(&app, id).0 > 400);
        assert_eq!(
            app.state
                .purses
                .end_idle(&app.state.db, &[id], false)
                .await
                .expect("idle"),
            0,
            "in use and running: kept"
        );
        assert_eq!(
            app.state
                .purses
                .end_idle(&app.state.db, &[], false)
                .await
                .expect("paused"),
            1
        );
        assert_eq!(lease_figures(&app, id), (400, Some(46), 0), "{backend:?}");
        chainmark_server::marketing::settle(&app.state.db)
            .await
            .expect("settle");
        assert_eq!(balance(&app, "hq:rewards_owed"), 400);
        ledger_sums_to_zero(&app);
    }
}
