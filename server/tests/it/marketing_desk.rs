//! HQ's campaign desk (issue 21) on both backends: campaigns of every kind of reward made and
//! read back, bad drafts refused in words with nothing stored, start / pause / end (two admins at
//! once make one change), the list searched, filtered and paged, the dashboard's sums of
//! `campaign_days`, and cash payouts exported once and marked paid once with balancing postings;
//! who may do what; the API and the pages.

use axum::http::{Method, StatusCode};
use chainmark_server::campaign_desk as cases;
use chainmark_server::domain::Role;
use chainmark_server::domain::marketing::{
    ALL_ODDS, CampaignAction, CampaignDraft, CampaignState, Prize, PrizeKind, Scope,
};
use chainmark_server::domain::network::{Account, ConsumerWallet, HqAccount, Posting};
use chainmark_server::error::Error;
use chainmark_server::network::Actor;
use chainmark_server::store::campaigns as store;
use chainmark_server::store::network::ledger::{self as ledger_store, Meta};
use chainmark_server::store::payouts;
use chainmark_server::store::schema::{
    campaign_days, campaign_rewards, campaigns, consumers, ledger_accounts, postings,
};
use chainmark_server::store::users::now;
use chainmark_test_support::form::post;
use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde_json::json;

use crate::common::backends;
use crate::joining::pages::{account, hidden_csrf, page, session};
use crate::network::{Net, SKU, dec};

fn code<T>(r: Result<T, Error>) -> String {
    match r {
        Err(Error::Refused { code, .. }) => code.to_string(),
        Err(Error::Forbidden(_)) => "forbidden".into(),
        Err(e) => format!("{e:?}"),
        Ok(_) => "ok".into(),
    }
}

fn at(days: i64) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 12, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("a time")
        + Duration::days(days)
}

fn prize(kind: PrizeKind, min: i64, max: i64, odds: u32, stock: Option<i64>) -> Prize {
    Prize {
        name: format!("{kind:?}"),
        kind,
        points: if kind == PrizeKind::Points { min } else { 0 },
        min_cents: if kind == PrizeKind::Points { 0 } else { min },
        max_cents: if kind == PrizeKind::Points { 0 } else { max },
        odds_bp: odds,
        stock,
    }
}

fn draft(name: &str, prizes: Vec<Prize>) -> CampaignDraft {
    CampaignDraft {
        name: name.into(),
        scope: Scope::default(),
        starts_at: at(0),
        ends_at: at(30),
        budget: dec("5000.00"),
        daily_limit: 3,
        lottery: prizes.len() > 1 || prizes.iter().any(|p| p.odds_bp < ALL_ODDS),
        prizes,
    }
}

fn hq(net: &Net, name: &str, role: Role) -> Actor {
    Actor::Hq {
        user: account(net, name, role),
        role,
    }
}

fn count_campaigns(net: &Net) -> i64 {
    campaigns::table
        .count()
        .get_result(&mut net.conn())
        .expect("count")
}

#[tokio::test]
async fn campaigns_of_every_reward_are_made_refused_listed_and_moved_once() {
    for backend in backends() {
        let net = Net::new(backend);
        let admin = net.admin;
        let auditor = hq(&net, "auditor", Role::HqAuditor);
        let mut c = net.conn();

        // Every kind of reward.
        let mut scoped = draft(
            "春节积分",
            vec![prize(PrizeKind::Points, 50, 50, ALL_ODDS, None)],
        );
        scoped.scope = Scope {
            skus: vec![SKU.into()],
            batches: vec![net.batch.clone()],
            regions: vec!["440000".into(), "310000".into()],
        };
        let points = cases::create(&mut c, admin, &scoped).expect("points");
        assert_eq!(points.state, CampaignState::Draft, "{backend:?}");
        assert_eq!(points.regions, "440000 310000");
        assert_eq!(points.scope(), scoped.scope, "the scope reads back");
        assert_eq!(points.budget_cents, 500_000);
        let kinds = [
            prize(PrizeKind::Coupon, 1000, 1000, ALL_ODDS, None),
            prize(PrizeKind::Cash, 188, 188, ALL_ODDS, None),
            prize(PrizeKind::Cash, 100, 500, ALL_ODDS, None),
        ];
        for (i, p) in kinds.iter().enumerate() {
            let row = cases::create(
                &mut c,
                admin,
                &draft(&format!("单一奖励 {i}"), vec![p.clone()]),
            )
            .expect("single prize");
            let (_, prizes) = store::get(&mut c, row.id).expect("get");
            assert_eq!(prizes.len(), 1);
            assert_eq!(prizes[0].prize(), *p, "{backend:?}: prize {i} reads back");
        }
        let lottery = cases::create(
            &mut c,
            admin,
            &draft(
                "双十二抽奖",
                vec![
                    prize(PrizeKind::Cash, 8800, 8800, 10, Some(3)),
                    prize(PrizeKind::Coupon, 2000, 2000, 1000, Some(100)),
                    prize(PrizeKind::Points, 20, 20, 5000, None),
                ],
            ),
        )
        .expect("lottery");
        assert!(lottery.lottery);
        let (_, prizes) = store::get(&mut c, lottery.id).expect("get");
        assert_eq!(
            prizes
                .iter()
                .map(|p| (p.position, p.stock, p.remaining))
                .collect::<Vec<_>>(),
            vec![
                (1, Some(3), Some(3)),
                (2, Some(100), Some(100)),
                (3, None, None)
            ],
            "remaining starts at the stock"
        );

        // Bad drafts: refused under their code, nothing stored.
        let before = count_campaigns(&net);
        let bad: Vec<(&str, CampaignDraft)> = vec![
            (
                "campaign_name",
                CampaignDraft {
                    name: "  ".into(),
                    ..draft("x", vec![prize(PrizeKind::Points, 5, 5, ALL_ODDS, None)])
                },
            ),
            (
                "campaign_window",
                CampaignDraft {
                    ends_at: at(0),
                    ..draft("x", vec![prize(PrizeKind::Points, 5, 5, ALL_ODDS, None)])
                },
            ),
            (
                "campaign_budget",
                CampaignDraft {
                    budget: dec("10.001"),
                    ..draft("x", vec![prize(PrizeKind::Points, 5, 5, ALL_ODDS, None)])
                },
            ),
            (
                "campaign_region",
                CampaignDraft {
                    scope: Scope {
                        regions: vec!["990000".into()],
                        ..Scope::default()
                    },
                    ..draft("x", vec![prize(PrizeKind::Points, 5, 5, ALL_ODDS, None)])
                },
            ),
            (
                "campaign_sku",
                CampaignDraft {
                    scope: Scope {
                        skus: vec!["NO-SUCH-SKU".into()],
                        ..Scope::default()
                    },
                    ..draft("x", vec![prize(PrizeKind::Points, 5, 5, ALL_ODDS, None)])
                },
            ),
            (
                "prize_odds",
                draft(
                    "x",
                    vec![
                        prize(PrizeKind::Points, 5, 5, 6000, None),
                        prize(PrizeKind::Points, 5, 5, 6000, None),
                    ],
                ),
            ),
            (
                "prize_value",
                draft("x", vec![prize(PrizeKind::Cash, 500, 100, ALL_ODDS, None)]),
            ),
            (
                "prize_stock",
                draft(
                    "x",
                    vec![
                        prize(PrizeKind::Points, 5, 5, 100, Some(0)),
                        prize(PrizeKind::Points, 5, 5, 100, None),
                    ],
                ),
            ),
        ];
        for (expected, d) in &bad {
            assert_eq!(
                code(cases::create(&mut c, admin, d)),
                *expected,
                "{backend:?}"
            );
        }
        assert_eq!(count_campaigns(&net), before, "{backend:?}: nothing stored");

        // Who may: the auditor reads, cannot create or start; finance cannot create.
        assert_eq!(code(cases::create(&mut c, auditor, &scoped)), "forbidden");
        assert_eq!(
            code(cases::create(&mut c, net.finance, &scoped)),
            "forbidden"
        );
        assert_eq!(
            code(cases::act(
                &mut c,
                auditor,
                points.id,
                CampaignAction::Start
            )),
            "forbidden"
        );
        assert_eq!(
            cases::get(&mut c, auditor, lottery.id)
                .expect("the auditor reads")
                .prizes
                .len(),
            3
        );

        // Transitions.
        let act =
            |c: &mut chainmark_server::store::DbConnection, a| cases::act(c, admin, points.id, a);
        assert_eq!(
            code(act(&mut c, CampaignAction::Pause)),
            "campaign_transition"
        );
        assert_eq!(
            act(&mut c, CampaignAction::Start).expect("start"),
            CampaignState::Running
        );
        assert_eq!(
            act(&mut c, CampaignAction::Pause).expect("pause"),
            CampaignState::Paused
        );
        assert_eq!(
            act(&mut c, CampaignAction::Start).expect("again"),
            CampaignState::Running
        );
        assert_eq!(
            act(&mut c, CampaignAction::End).expect("end"),
            CampaignState::Ended
        );
        assert_eq!(
            code(act(&mut c, CampaignAction::Start)),
            "campaign_transition"
        );
        drop(c);

        // Two admins start the same draft at once: one starts it, the other is refused.
        let db = net.app.state.db.clone();
        let id = lottery.id;
        let start = |db: chainmark_server::store::Db| async move {
            db.write(move |c| cases::act(c, admin, id, CampaignAction::Start))
                .await
        };
        let (a, b) = tokio::join!(start(db.clone()), start(db.clone()));
        let mut answers = [code(a), code(b)];
        answers.sort();
        assert_eq!(answers, ["campaign_transition", "ok"], "{backend:?}");

        // The list: search, filter, pages.
        let mut c = net.conn();
        let all = store::page(&mut c, None, None, 0, 100).expect("all");
        assert_eq!(all.rows.len(), 5);
        assert!(
            !all.rows.is_empty() && all.rows[0].id > all.rows[1].id,
            "newest first"
        );
        let found = store::page(&mut c, Some("抽奖"), None, 0, 10).expect("search");
        assert_eq!(
            found.rows.iter().map(|r| r.id).collect::<Vec<_>>(),
            [lottery.id]
        );
        let none = store::page(&mut c, Some("100%_"), None, 0, 10).expect("wildcards");
        assert!(none.rows.is_empty(), "LIKE's wildcards are taken literally");
        let running = store::page(&mut c, None, Some(CampaignState::Running), 0, 10).expect("f");
        assert_eq!(
            running.rows.iter().map(|r| r.id).collect::<Vec<_>>(),
            [lottery.id]
        );
        let drafts = store::page(&mut c, None, Some(CampaignState::Draft), 0, 2).expect("page 1");
        assert_eq!((drafts.rows.len(), drafts.more), (2, true));
        let rest = store::page(&mut c, None, Some(CampaignState::Draft), 2, 2).expect("page 2");
        assert_eq!((rest.rows.len(), rest.more), (1, false));
    }
}

#[tokio::test]
async fn the_dashboard_sums_campaign_days_by_day_and_province() {
    for backend in backends() {
        let net = Net::new(backend);
        let mut c = net.conn();
        let row = cases::create(
            &mut c,
            net.admin,
            &draft(
                "看板",
                vec![prize(PrizeKind::Cash, 100, 100, ALL_ODDS, None)],
            ),
        )
        .expect("campaign");
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 12, d).expect("day");
        // (day, province, scans, rewards, claimed, cost)
        let rows = [
            (day(1), "440000", 10, 4, 2, 400),
            (day(1), "310000", 5, 1, 1, 100),
            (day(2), "440000", 20, 8, 3, 800),
            (day(3), "110000", 1, 0, 0, 0),
        ];
        for (d, p, scans, rewards, claimed, cost) in rows {
            diesel::insert_into(campaign_days::table)
                .values((
                    campaign_days::campaign_id.eq(row.id),
                    campaign_days::day.eq(d),
                    campaign_days::province.eq(p),
                    campaign_days::scans.eq(scans as i64),
                    campaign_days::rewards.eq(rewards as i64),
                    campaign_days::claimed.eq(claimed as i64),
                    campaign_days::cost_cents.eq(cost as i64),
                ))
                .execute(&mut c)
                .expect("day row");
        }
        let (days, provinces) = cases::dashboard(&mut c, net.admin, row.id).expect("dashboard");
        let d: Vec<_> = days
            .iter()
            .map(|d| {
                (
                    d.day,
                    d.counts.scans,
                    d.counts.rewards,
                    d.counts.claimed,
                    d.counts.cost_cents,
                )
            })
            .collect();
        assert_eq!(
            d,
            [
                (day(1), 15, 5, 3, 500),
                (day(2), 20, 8, 3, 800),
                (day(3), 1, 0, 0, 0)
            ],
            "{backend:?}"
        );
        let p: Vec<_> = provinces
            .iter()
            .map(|p| (p.province.as_str(), p.counts.scans, p.counts.cost_cents))
            .collect();
        assert_eq!(
            p,
            [("440000", 30, 1200), ("310000", 5, 100), ("110000", 1, 0)]
        );
        let totals = store::totals(&mut c, row.id).expect("totals");
        assert_eq!(
            (
                totals.scans,
                totals.rewards,
                totals.claimed,
                totals.cost_cents
            ),
            (36, 13, 6, 1300)
        );
        let empty = cases::create(
            &mut c,
            net.admin,
            &draft("空", vec![prize(PrizeKind::Cash, 100, 100, ALL_ODDS, None)]),
        )
        .expect("another");
        assert_eq!(
            store::totals(&mut c, empty.id).expect("none"),
            store::Counts::default()
        );

        // The page shows the numbers, the tiles and the provinces by name.
        account(&net, "boss", Role::HqAdmin);
        let cookie = session(&net, "boss").await;
        let (status, html, _) =
            page(&net, &format!("/hq/marketing/{}", row.id), Some(&cookie)).await;
        assert_eq!(status, StatusCode::OK, "{backend:?}");
        assert!(html.contains("id=\"tile-map\""));
        assert!(html.contains("data-province=\"440000\" data-scans=\"30\""));
        assert!(html.contains("广东"), "a province by name");
        assert!(
            html.contains("<td class=\"num\">36</td>"),
            "the total scans"
        );
        assert!(html.contains("36.1%"), "rewards / scans");
    }
}

/// A consumer with the phone `phone`.
fn consumer(net: &Net, phone: &str) -> i64 {
    diesel::insert_into(consumers::table)
        .values((
            consumers::phone.eq(phone),
            consumers::created_at.eq(now()),
            consumers::last_seen_at.eq(now()),
        ))
        .returning(consumers::id)
        .get_result(&mut net.conn())
        .expect("consumer")
}

/// A reward of `campaign` as the engine and a claim leave it: drawn, and claimed by `who` (with
/// its value booked from the marketing expense to the consumer, as a claim books it).
fn reward(net: &Net, campaign: i64, serial: &str, kind: PrizeKind, cents: i64, who: Option<i64>) {
    diesel::insert_into(campaign_rewards::table)
        .values((
            campaign_rewards::serial.eq(serial),
            campaign_rewards::campaign_id.eq(campaign),
            campaign_rewards::kind.eq(Some(chainmark_server::store::typed::Stored(kind))),
            campaign_rewards::amount_cents.eq(cents),
            campaign_rewards::consumer_id.eq(who),
            campaign_rewards::drawn_at.eq(now()),
            campaign_rewards::claimed_at.eq(who.map(|_| now())),
        ))
        .execute(&mut net.conn())
        .expect("reward");
    if let (Some(consumer), PrizeKind::Cash) = (who, kind) {
        let posting = Posting::transfers(
            format!("test-claim:{serial}"),
            [(
                Account::Hq(HqAccount::MarketingExpense),
                Account::Consumer(consumer, ConsumerWallet::Cash),
                Decimal::new(cents, 2),
            )],
        )
        .expect("posting");
        ledger_store::book(
            &mut net.conn(),
            &posting,
            Meta {
                kind: chainmark_server::domain::network::PostingKind::RewardClaim,
                ..Meta::default()
            },
        )
        .expect("book");
    }
}

fn balance(net: &Net, account: Account) -> Decimal {
    ledger_store::balance(&mut net.conn(), &account).expect("balance")
}

#[tokio::test]
async fn cash_owed_is_exported_once_and_paid_once() {
    for backend in backends() {
        let net = Net::new(backend);
        let auditor = hq(&net, "auditor", Role::HqAuditor);
        let campaign = cases::create(
            &mut net.conn(),
            net.admin,
            &draft(
                "红包",
                vec![prize(PrizeKind::Cash, 100, 500, ALL_ODDS, None)],
            ),
        )
        .expect("campaign")
        .id;
        let (wang, li) = (consumer(&net, "13800138000"), consumer(&net, "13900139000"));
        reward(&net, campaign, "S1", PrizeKind::Cash, 188, Some(wang));
        reward(&net, campaign, "S2", PrizeKind::Cash, 212, Some(wang));
        reward(&net, campaign, "S3", PrizeKind::Cash, 350, Some(li));
        // Not owed in cash: unclaimed, or points.
        reward(&net, campaign, "S4", PrizeKind::Cash, 300, None);
        reward(&net, campaign, "S5", PrizeKind::Points, 50, Some(li));
        let db = net.app.state.db.clone();

        assert_eq!(code(cases::export(&mut net.conn(), auditor)), "forbidden");
        assert_eq!(
            payouts::owed_totals(&mut net.conn()).expect("owed"),
            (2, 750, 3),
            "{backend:?}"
        );

        // Two exports at once: one batch holds every owed reward, the other finds nothing.
        let finance = net.finance;
        let export = |db: chainmark_server::store::Db| async move {
            db.write(move |c| cases::export(c, finance)).await
        };
        let (a, b) = tokio::join!(export(db.clone()), export(db.clone()));
        let (batch, other) = match (a, b) {
            (Ok(batch), other) | (other, Ok(batch)) => (batch, other),
            (a, b) => panic!("{backend:?}: no export went through: {a:?} {b:?}"),
        };
        assert_eq!(code(other), "payout_empty", "{backend:?}");
        assert_eq!((batch.total_cents, batch.line_count), (750, 2));
        let in_batch: Vec<String> = campaign_rewards::table
            .filter(campaign_rewards::payout_batch_id.eq(batch.id))
            .order(campaign_rewards::serial)
            .select(campaign_rewards::serial)
            .load(&mut net.conn())
            .expect("assigned");
        assert_eq!(in_batch, ["S1", "S2", "S3"]);
        let batches: i64 = chainmark_server::store::schema::payout_batches::table
            .count()
            .get_result(&mut net.conn())
            .expect("batches");
        assert_eq!(
            batches, 1,
            "{backend:?}: the refused export stored no batch"
        );
        assert_eq!(
            code(cases::export(&mut net.conn(), finance)),
            "payout_empty"
        );

        // The CSV: one line per consumer, read back. It holds phone numbers: finance's
        // download is audited, the auditor may not download it.
        assert_eq!(
            code(cases::payout_file(&mut net.conn(), auditor, batch.id)),
            "forbidden"
        );
        let (number, bytes) =
            cases::payout_file(&mut net.conn(), finance, batch.id).expect("the bank's file");
        assert_eq!(number, batch.number());
        let downloads: i64 = {
            use chainmark_server::store::schema::audit_log;
            audit_log::table
                .filter(audit_log::action.eq("payout_downloaded"))
                .filter(audit_log::subject.eq(format!("payout:{}", batch.id)))
                .count()
                .get_result(&mut net.conn())
                .expect("audit")
        };
        assert_eq!(downloads, 1, "{backend:?}: the download is audited");
        let mut reader = csv::Reader::from_reader(bytes.as_slice());
        let headers: Vec<String> = reader
            .headers()
            .expect("headers")
            .iter()
            .map(str::to_string)
            .collect();
        assert_eq!(
            headers,
            ["序号", "收款手机号", "金额(元)", "备注", "奖励数"]
        );
        let records: Vec<Vec<String>> = reader
            .records()
            .map(|r| r.expect("record").iter().map(str::to_string).collect())
            .collect();
        let number = batch.number();
        assert_eq!(
            records,
            [
                vec!["1", "13800138000", "4.00", number.as_str(), "2"],
                vec!["2", "13900139000", "3.50", number.as_str(), "1"],
            ]
        );

        // Marked paid: a bad reference changes nothing; then one posting per consumer, once.
        assert_eq!(
            code(cases::mark_paid(&mut net.conn(), finance, batch.id, "  ")),
            "payout_reference"
        );
        assert_eq!(
            code(cases::mark_paid(
                &mut net.conn(),
                finance,
                batch.id,
                &"x".repeat(65)
            )),
            "payout_reference"
        );
        assert_eq!(
            code(cases::mark_paid(&mut net.conn(), auditor, batch.id, "B1")),
            "forbidden"
        );
        assert!(
            !payouts::get(&mut net.conn(), batch.id)
                .expect("batch")
                .is_paid()
        );
        let cash_before = balance(&net, Account::Hq(HqAccount::Cash));
        let paid = cases::mark_paid(&mut net.conn(), finance, batch.id, " ICBC-20261208-0001 ")
            .expect("paid");
        assert!(paid.is_paid());
        assert_eq!(paid.reference.as_deref(), Some("ICBC-20261208-0001"));
        assert_eq!(
            balance(&net, Account::Consumer(wang, ConsumerWallet::Cash)),
            Decimal::ZERO
        );
        assert_eq!(
            balance(&net, Account::Consumer(li, ConsumerWallet::Cash)),
            Decimal::ZERO
        );
        assert_eq!(
            balance(&net, Account::Hq(HqAccount::Cash)) - cash_before,
            dec("7.50"),
            "{backend:?}"
        );
        let payout_postings = || -> Vec<String> {
            postings::table
                .filter(postings::kind.eq(chainmark_server::store::typed::Stored(
                    chainmark_server::domain::network::PostingKind::Payout,
                )))
                .order(postings::idempotency_key)
                .select(postings::idempotency_key)
                .load(&mut net.conn())
                .expect("postings")
        };
        assert_eq!(
            payout_postings(),
            [
                payouts::posting_key(batch.id, wang),
                payouts::posting_key(batch.id, li)
            ]
        );
        assert_eq!(
            code(cases::mark_paid(
                &mut net.conn(),
                finance,
                batch.id,
                "AGAIN"
            )),
            "payout_paid"
        );
        assert_eq!(payout_postings().len(), 2, "a second mark books nothing");
        assert_eq!(
            payouts::get(&mut net.conn(), batch.id)
                .expect("batch")
                .reference
                .as_deref(),
            Some("ICBC-20261208-0001")
        );
        let sum: Vec<i64> = ledger_accounts::table
            .select(ledger_accounts::balance_cents)
            .load(&mut net.conn())
            .expect("balances");
        assert_eq!(
            sum.iter().sum::<i64>(),
            0,
            "{backend:?}: the ledger sums to zero"
        );
    }
}

#[tokio::test]
async fn the_api_makes_reads_moves_and_pays_with_the_pages_permissions() {
    for backend in backends() {
        let net = Net::new(backend);
        let admin = net.app.token_for("api-admin", Role::HqAdmin).await;
        let auditor = net.app.token_for("api-auditor", Role::HqAuditor).await;
        let finance = net.app.token_for("api-finance", Role::HqFinance).await;
        let body = json!({
            "name": "API 抽奖",
            "regions": ["440300"],
            "starts_at": "2026-12-01T00:00:00",
            "ends_at": "2026-12-31T00:00:00",
            "budget": "1000.00",
            "daily_limit": 2,
            "lottery": true,
            "prizes": [
                {"name": "大红包", "kind": "cash", "min": "1.00", "max": "8.80", "odds_bp": 500, "stock": 10},
                {"name": "积分", "kind": "points", "points": 20, "odds_bp": 5000}
            ]
        });
        let (status, made) = net
            .app
            .json(
                Method::POST,
                "/api/v1/campaigns",
                Some(body.clone()),
                Some(&admin),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{backend:?}: {made}");
        assert_eq!(made["state"], "draft");
        assert_eq!(made["prizes"][0]["max"], "8.80");
        assert_eq!(made["prizes"][0]["remaining"], 10);
        let id = made["id"].as_i64().expect("id");
        let (status, _) = net
            .app
            .json(
                Method::POST,
                "/api/v1/campaigns",
                Some(body.clone()),
                Some(&auditor),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let mut bad = body.clone();
        bad["regions"] = json!(["449999"]);
        let (status, refused) = net
            .app
            .json(Method::POST, "/api/v1/campaigns", Some(bad), Some(&admin))
            .await;
        assert_eq!(
            (status, refused["error"]["code"].as_str()),
            (StatusCode::CONFLICT, Some("campaign_region"))
        );
        let (status, list) = net
            .app
            .json(
                Method::GET,
                "/api/v1/campaigns?state=draft&q=API",
                None,
                Some(&auditor),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(list["campaigns"].as_array().map(Vec::len), Some(1));
        let (status, started) = net
            .app
            .json(
                Method::POST,
                &format!("/api/v1/campaigns/{id}/start"),
                None,
                Some(&admin),
            )
            .await;
        assert_eq!(
            (status, started["state"].as_str()),
            (StatusCode::OK, Some("running"))
        );
        let (status, again) = net
            .app
            .json(
                Method::POST,
                &format!("/api/v1/campaigns/{id}/start"),
                None,
                Some(&admin),
            )
            .await;
        assert_eq!(
            (status, again["error"]["code"].as_str()),
            (StatusCode::CONFLICT, Some("campaign_transition"))
        );
        let (status, one) = net
            .app
            .json(
                Method::GET,
                &format!("/api/v1/campaigns/{id}"),
                None,
                Some(&auditor),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(one["totals"]["scans"], 0);

        // Payouts: finance only; nothing owed is refused by its code.
        let (status, _) = net
            .app
            .json(Method::GET, "/api/v1/payouts", None, Some(&auditor))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, empty) = net
            .app
            .json(Method::POST, "/api/v1/payouts", None, Some(&finance))
            .await;
        assert_eq!(
            (status, empty["error"]["code"].as_str()),
            (StatusCode::CONFLICT, Some("payout_empty")),
            "{backend:?}"
        );
        let who = consumer(&net, "13700137000");
        reward(&net, id, "API1", PrizeKind::Cash, 880, Some(who));
        let (status, batch) = net
            .app
            .json(Method::POST, "/api/v1/payouts", None, Some(&finance))
            .await;
        assert_eq!(
            (status, batch["total"].as_str()),
            (StatusCode::CREATED, Some("8.80"))
        );
        let paid_path = format!("/api/v1/payouts/{}/paid", batch["id"]);
        let (status, paid) = net
            .app
            .json(
                Method::POST,
                &paid_path,
                Some(json!({"reference": "CMB-1"})),
                Some(&finance),
            )
            .await;
        assert_eq!(
            (status, paid["state"].as_str()),
            (StatusCode::OK, Some("paid"))
        );
        let (status, twice) = net
            .app
            .json(
                Method::POST,
                &paid_path,
                Some(json!({"reference": "CMB-1"})),
                Some(&finance),
            )
            .await;
        assert_eq!(
            (status, twice["error"]["code"].as_str()),
            (StatusCode::CONFLICT, Some("payout_paid"))
        );
        let (status, view) = net
            .app
            .json(Method::GET, "/api/v1/payouts", None, Some(&finance))
            .await;
        assert_eq!(
            (status, view["owed"].as_str()),
            (StatusCode::OK, Some("0.00"))
        );
    }
}

#[tokio::test]
async fn the_new_campaign_form_shows_problems_by_their_field_and_keeps_what_was_typed() {
    for backend in backends() {
        let net = Net::new(backend);
        account(&net, "boss", Role::HqAdmin);
        account(&net, "auditor", Role::HqAuditor);
        let cookie = session(&net, "boss").await;
        let (status, html, _) = page(&net, "/hq/marketing", Some(&cookie)).await;
        assert_eq!(status, StatusCode::OK, "{backend:?}");
        assert!(html.contains("id=\"new-campaign\""));
        let csrf = hidden_csrf(&html);
        let sku = format!("sku.{SKU}");
        let mut form = vec![
            ("csrf", csrf.as_str()),
            ("name", "元旦抽奖"),
            (sku.as_str(), "on"),
            ("regions", "440000"),
            ("starts", "2026-12-31 20:00"),
            ("ends", "2027-01-03 23:59"),
            ("budget", "12.345"),
            ("daily_limit", "2"),
            ("reward", "lottery"),
            ("p1_name", "一等奖"),
            ("p1_kind", "cash"),
            ("p1_value", "8.88"),
            ("p1_odds", "1.5"),
            ("p1_stock", "10"),
            ("p2_name", "谢谢参与积分"),
            ("p2_kind", "points"),
            ("p2_value", "10"),
            ("p2_odds", "50"),
        ];
        let (status, _, body) = net
            .app
            .send(post("/hq/marketing/new", Some(&cookie), &form))
            .await;
        let html = String::from_utf8_lossy(&body);
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{backend:?}");
        assert!(html.contains("id=\"problem-budget\""), "{html}");
        assert!(html.contains("预算须为大于 0、最多两位小数的金额"));
        assert!(html.contains("value=\"元旦抽奖\""), "the name is kept");
        assert!(html.contains("value=\"8.88\""), "the prizes are kept");
        assert!(
            !html.contains("campaign_budget"),
            "no code reaches a person"
        );
        assert_eq!(count_campaigns(&net), 0);

        form[6] = ("budget", "100");
        let (status, headers, _) = net
            .app
            .send(post("/hq/marketing/new", Some(&cookie), &form))
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{backend:?}");
        let location = headers["location"].to_str().expect("location").to_string();
        let row = store::page(&mut net.conn(), None, None, 0, 1)
            .expect("list")
            .rows;
        assert_eq!(row.len(), 1);
        assert!(location.starts_with(&format!("/hq/marketing/{}", row[0].id)));
        assert_eq!(row[0].skus, SKU);
        // China time 20:00 is 12:00 UTC.
        assert_eq!(
            row[0].starts_at.format("%Y-%m-%d %H:%M").to_string(),
            "2026-12-31 12:00"
        );
        let (_, prizes) = store::get(&mut net.conn(), row[0].id).expect("get");
        assert_eq!(prizes[0].odds_bp, 150);
        assert_eq!((prizes[0].min_cents, prizes[0].max_cents), (888, 888));

        // The auditor reads the list but gets no form, and a post is refused.
        let auditor = session(&net, "auditor").await;
        let (status, html, _) = page(&net, "/hq/marketing", Some(&auditor)).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("元旦抽奖") && !html.contains("id=\"new-campaign\""));
        let (status, _, _) = net
            .app
            .send(post(
                "/hq/marketing/new",
                Some(&auditor),
                &[("csrf", hidden_csrf(&html).as_str())],
            ))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
}
