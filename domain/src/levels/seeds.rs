//! The worked examples of seeds 001, 002 and 003 as dated tests, on the seed-004 tiers
//! (总代 national, 省代 provincial, 市代 city, 区代 district, 特约 special).

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::*;
use crate::network::{Policy, TierRank};

const NATIONAL: TierRank = TierRank(1);
const PROVINCIAL: TierRank = TierRank(2);
const CITY: TierRank = TierRank(3);
const DISTRICT: TierRank = TierRank(4);
const SPECIAL: TierRank = TierRank(5);

pub(super) fn tiers() -> Policy {
    Policy::seed_004().expect("preset")
}

pub(super) fn policy(doc: &str) -> LevelPolicy {
    LevelPolicy::parse(doc, &tiers()).unwrap_or_else(|e| panic!("{e}"))
}

pub(super) fn d(m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, day).expect("date")
}

fn yuan(s: &str) -> Decimal {
    s.parse().expect("decimal")
}

fn sales(on: NaiveDate, amount: &str) -> (NaiveDate, Metrics) {
    let m = Metrics {
        personal_sales: yuan(amount),
        ..Metrics::default()
    };
    (on, m)
}

fn paid(on: NaiveDate, amount: &str) -> (NaiveDate, Metrics) {
    let m = Metrics {
        amount_paid: yuan(amount),
        orders: 1,
        ..Metrics::default()
    };
    (on, m)
}

fn agent(rank: TierRank, reached_on: NaiveDate) -> AgentLevel {
    AgentLevel {
        rank,
        reached_on,
        quota: Quota::new(),
        last_decided_on: None,
    }
}

fn on(
    p: &LevelPolicy,
    a: &AgentLevel,
    activity: &[(NaiveDate, Metrics)],
    today: NaiveDate,
) -> Option<Decision> {
    decide(p, a, &over_windows(activity, &p.windows(), today), today)
}

/// 限期10天: the threshold set on 4.12 (成交金额 2000) must be met within 4.3–4.12.
#[test]
fn seed_001_ten_day_window() {
    let p = policy(
        r#"version = 1
        name = "10-day window"
        on_change = "relevel"
        [[levels]]
        tier = "city"
        [[levels.paths]]
        window_days = 10
        thresholds = { personal_sales = "2000.00" }
        "#,
    );
    let a = agent(SPECIAL, d(1, 1));
    let activity = [sales(d(4, 2), "1500.00"), sales(d(4, 5), "600.00")];
    // On 4.11 the window 4.2–4.11 holds 2,100.00: upgraded.
    let up = on(&p, &a, &activity, d(4, 11)).expect("upgrade on 4.11");
    assert_eq!((up.kind, up.to), (ChangeKind::Upgrade, CITY));
    assert_eq!(
        up.summary(&p, Lang::En),
        "upgraded to city: personal sales 2,100.00 ≥ 2,000.00 in the last 10 days"
    );
    assert_eq!(
        up.summary(&p, Lang::Zh),
        "升级为市代:近10天个人业绩 2,100.00 ≥ 2,000.00"
    );
    // On 4.12 the 4.2 sale has left the window (4.3–4.12): 600.00 is not enough.
    assert_eq!(on(&p, &a, &activity, d(4, 12)), None);
    let more = [
        activity[0].clone(),
        activity[1].clone(),
        sales(d(4, 12), "1400.00"),
    ];
    assert_eq!(on(&p, &a, &more, d(4, 12)).map(|x| x.to), Some(CITY));
}

/// 获得等级3天后单次考核: reached on 4.12, 成交金额 2000 within 4.12–4.14, else down one level.
#[test]
fn seed_001_single_assessment_after_three_days() {
    let p = policy(
        r#"version = 1
        name = "single"
        on_change = "relevel"
        [[levels]]
        tier = "city"
        [[levels.paths]]
        thresholds = { personal_sales = "2000.00" }
        [[levels.downgrade]]
        kind = "single"
        days = 3
        [[levels.downgrade]]
        kind = "thresholds"
        [[levels]]
        tier = "district"
        [[levels.paths]]
        thresholds = { personal_sales = "500.00" }
        "#,
    );
    let a = agent(CITY, d(4, 12));
    let before = [sales(d(4, 1), "2000.00")];
    let short = [before[0].clone(), sales(d(4, 13), "1000.00")];
    assert_eq!(on(&p, &a, &short, d(4, 13)), None, "not due before 4.14");
    let down = on(&p, &a, &short, d(4, 14)).expect("due on 4.14");
    assert_eq!((down.kind, down.to), (ChangeKind::Downgrade, DISTRICT));
    assert_eq!(
        down.summary(&p, Lang::En),
        "downgraded to district: single assessment 3 days after reaching city; personal sales \
         1,000.00 < 2,000.00 in the last 3 days"
    );
    let enough = [before[0].clone(), sales(d(4, 14), "2500.00")];
    assert_eq!(on(&p, &a, &enough, d(4, 14)), None, "passed");
    assert_eq!(
        on(&p, &a, &enough, d(4, 20)),
        None,
        "single: never due again"
    );
    // 叠加考核: a later refund takes the cumulative sales under 2000: the thresholds rule fires.
    let refunded = [
        enough[0].clone(),
        enough[1].clone(),
        sales(d(4, 18), "-3000.00"),
    ];
    let again = on(&p, &a, &refunded, d(4, 20)).expect("thresholds rule");
    assert_eq!(
        (again.kind, again.to),
        (ChangeKind::Downgrade, DISTRICT),
        "still meets 500"
    );
}

/// 周期循环考核 10天: reached 4.12, checked over 4.12–4.21 (on 4.21), 4.22–5.1 (on 5.1), …
#[test]
fn seed_001_cyclic_ten_day_assessment() {
    let p = policy(
        r#"version = 1
        name = "cyclic"
        on_change = "relevel"
        [[levels]]
        tier = "provincial"
        [[levels.paths]]
        window_days = 10
        thresholds = { personal_sales = "2000.00" }
        [[levels.downgrade]]
        kind = "cyclic"
        days = 10
        to = "district"
        "#,
    );
    let a = agent(PROVINCIAL, d(4, 12));
    let activity = [sales(d(4, 15), "2000.00"), sales(d(4, 25), "1999.99")];
    assert_eq!(on(&p, &a, &activity, d(4, 21)), None, "first period met");
    assert_eq!(on(&p, &a, &activity, d(4, 30)), None, "not a period end");
    let down = on(&p, &a, &activity, d(5, 1)).expect("second period failed");
    assert_eq!(
        (down.kind, down.to),
        (ChangeKind::Downgrade, DISTRICT),
        "指定等级"
    );
    assert!(
        down.summary(&p, Lang::En)
            .contains("10-day cyclic assessment of provincial")
    );
    assert!(down.summary(&p, Lang::Zh).contains("省代每10天周期考核"));
}

/// 保级: triggered on 4.12, kept when 实收金额 ≥ 10 within 4.10–4.12.
#[test]
fn seed_001_protection_over_three_days() {
    let p = policy(
        r#"version = 1
        name = "protection"
        on_change = "relevel"
        [[levels]]
        tier = "city"
        [[levels.paths]]
        window_days = 10
        thresholds = { personal_sales = "2000.00" }
        [[levels.downgrade]]
        kind = "thresholds"
        [levels.protection]
        days = 3
        match = "any"
        thresholds = { amount_paid = "10.00" }
        "#,
    );
    let a = agent(CITY, d(4, 1));
    let kept = on(&p, &a, &[paid(d(4, 10), "12.00")], d(4, 12)).expect("protected");
    assert_eq!(
        (kept.kind, kept.from, kept.to),
        (ChangeKind::Protected, CITY, CITY)
    );
    assert_eq!(
        kept.summary(&p, Lang::En),
        "kept city (protection): no longer meets the thresholds of city; amount paid 12.00 ≥ \
         10.00 in the last 3 days"
    );
    let down = on(&p, &a, &[paid(d(4, 9), "12.00")], d(4, 12)).expect("4.9 is outside 4.10–4.12");
    assert_eq!((down.kind, down.to), (ChangeKind::Downgrade, SPECIAL));
}

/// 配额: a 等级三 agent with 16 orders; the new rules are 等级二 ≥ 10, 等级三 ≥ 21, 等级四 ≥ 31
/// orders. Re-levelled it is 等级二; kept it is 等级三 with quota +5 and needs 10 more orders.
#[test]
fn seed_001_quota_with_sixteen_orders() {
    let doc = |on_change: &str| {
        format!(
            r#"version = 2
            name = "new rules"
            on_change = "{on_change}"
            [[levels]]
            tier = "provincial"
            [[levels.paths]]
            thresholds = {{ orders = 31 }}
            [[levels]]
            tier = "city"
            [[levels.paths]]
            thresholds = {{ orders = 21 }}
            [[levels]]
            tier = "district"
            [[levels.paths]]
            thresholds = {{ orders = 10 }}
            "#
        )
    };
    let sixteen: Vec<_> = (0..16).map(|_| paid(d(3, 1), "1.00")).collect();
    let today = d(4, 1);
    let relevel_policy = policy(&doc("relevel"));
    let m = over_windows(&sixteen, &relevel_policy.windows(), today);
    let a = agent(CITY, d(1, 1));
    let r = relevel(&relevel_policy, &a, &m).expect("moves");
    assert_eq!((r.kind, r.to), (ChangeKind::Downgrade, DISTRICT));

    let keep = policy(&doc("keep"));
    let quota = keep_level_quota(&keep, &a, &m);
    assert_eq!(quota.get(&Metric::Orders), Some(&Decimal::from(5)));
    let kept = AgentLevel { quota, ..a };
    assert_eq!(
        decide(&keep, &kept, &m, today),
        None,
        "stays 等级三 with 16 + 5"
    );
    let mut more = sixteen.clone();
    more.extend((0..9).map(|_| paid(d(3, 20), "1.00")));
    assert_eq!(on(&keep, &kept, &more, today), None, "25 + 5 = 30 < 31");
    more.push(paid(d(3, 21), "1.00"));
    let up = on(&keep, &kept, &more, today).expect("the tenth order");
    assert_eq!(up.to, PROVINCIAL);
    assert_eq!(
        up.summary(&keep, Lang::En),
        "upgraded to provincial: orders 31 ≥ 31"
    );
}

/// A kept level above what the new rules allow gets a negative quota.
#[test]
fn quota_lowers_what_would_reach_a_level_above() {
    let p = policy(
        r#"version = 2
        name = "keep"
        on_change = "keep"
        [[levels]]
        tier = "city"
        [[levels.paths]]
        thresholds = { orders = 21 }
        [[levels]]
        tier = "district"
        [[levels.paths]]
        thresholds = { orders = 10 }
        "#,
    );
    let thirty: Vec<_> = (0..30).map(|_| paid(d(3, 1), "1.00")).collect();
    let m = over_windows(&thirty, &p.windows(), d(4, 1));
    let a = agent(DISTRICT, d(1, 1));
    let quota = keep_level_quota(&p, &a, &m);
    assert_eq!(quota.get(&Metric::Orders), Some(&Decimal::from(-10)));
    assert_eq!(decide(&p, &AgentLevel { quota, ..a }, &m, d(4, 1)), None);
}

/// Seed 002: 1 point per yuan sold, 50 per bound customer, 80 per sub-agent; 3000 points make a
/// 市代; without 3000 points in the 3-month validity it falls back to 特约 (普通). Permanent
/// validity never falls back.
#[test]
fn seed_002_points() {
    let doc = |downgrade: &str| {
        format!(
            r#"version = 1
            name = "points"
            on_change = "relevel"
            [points]
            per_yuan_sold = "1"
            per_bound_customer = 50
            per_sub_agent = 80
            [[levels]]
            tier = "city"
            [[levels.paths]]
            thresholds = {{ points = 3000 }}
            {downgrade}
            "#
        )
    };
    let p = policy(&doc(
        "[[levels.downgrade]]\nkind = \"validity\"\ndays = 90\nto = \"special\"",
    ));
    let grow = Metrics {
        personal_sales: yuan("1000.00"),
        bound_customers: 20,
        invited_agents: 13,
        ..Metrics::default()
    };
    let a = agent(SPECIAL, d(1, 1));
    let up = on(&p, &a, &[(d(1, 10), grow.clone())], d(1, 10)).expect("3,040 points");
    assert_eq!(up.to, CITY);
    assert_eq!(
        up.summary(&p, Lang::En),
        "upgraded to city: level points 3,040 ≥ 3,000"
    );
    let mut a = a;
    a.apply(&up, d(1, 10));
    // The validity runs 1.10 – 4.9 (90 days); the points of those 90 days are checked on 4.9.
    let quiet = [(d(1, 10), grow.clone()), (d(1, 12), Metrics::default())];
    let small = Metrics {
        personal_sales: yuan("2000.00"),
        ..Metrics::default()
    };
    let down = on(
        &p,
        &a,
        &[quiet[1].clone(), (d(2, 1), small.clone())],
        d(4, 9),
    );
    assert_eq!(
        down.map(|x| (x.kind, x.to)),
        Some((ChangeKind::Downgrade, SPECIAL))
    );
    assert_eq!(
        on(&p, &a, &quiet, d(4, 9)),
        None,
        "3,040 points within the validity"
    );
    let forever = policy(&doc("[[levels.downgrade]]\nkind = \"never\""));
    assert_eq!(on(&forever, &a, &[], d(12, 31)), None, "永久有效");
}

/// Seed 003: a level valid for 30 days; the day its validity ends it is re-assessed over those
/// 30 days (按自动升级方式重新计算), or sent to a named level (按指定等级).
#[test]
fn seed_003_validity_based_downgrade() {
    let doc = |to: &str| {
        format!(
            r#"version = 1
            name = "validity"
            on_change = "relevel"
            [[levels]]
            tier = "provincial"
            [[levels.paths]]
            window_days = 30
            thresholds = {{ recharge = "5000.00" }}
            [[levels.downgrade]]
            kind = "validity"
            days = 30
            to = "{to}"
            [[levels]]
            tier = "city"
            [[levels.paths]]
            window_days = 30
            thresholds = {{ recharge = "1000.00" }}
            "#
        )
    };
    let recharge = |on: NaiveDate, amount: &str| {
        let m = Metrics {
            recharge: yuan(amount),
            ..Metrics::default()
        };
        (on, m)
    };
    let a = agent(PROVINCIAL, d(3, 1));
    let activity = [recharge(d(3, 5), "1500.00")];
    let p = policy(&doc("relevel"));
    assert_eq!(on(&p, &a, &activity, d(3, 29)), None, "still valid");
    let down = on(&p, &a, &activity, d(3, 30)).expect("validity 3.1–3.30 ended");
    assert_eq!(
        (down.kind, down.to),
        (ChangeKind::Downgrade, CITY),
        "recalculated: 1,500 ≥ 1,000"
    );
    assert!(
        down.summary(&p, Lang::En)
            .contains("the 30-day validity of provincial ended")
    );
    let named = policy(&doc("district"));
    assert_eq!(
        on(&named, &a, &activity, d(3, 30)).map(|x| x.to),
        Some(DISTRICT)
    );
    let renewed = [recharge(d(3, 20), "5000.00")];
    assert_eq!(
        on(&p, &a, &renewed, d(3, 30)),
        None,
        "met: valid another 30 days"
    );
}

/// The highest level met wins; a level that never changes automatically is neither entered nor
/// left on its own, but can be left upwards.
#[test]
fn highest_level_wins_and_manual_levels_stay() {
    let p = policy(
        r#"version = 1
        name = "ladder"
        on_change = "relevel"
        [[levels]]
        tier = "national"
        [[levels.paths]]
        window_days = 30
        thresholds = { team_sales = "50000.00", invited_agents = 3 }
        [[levels]]
        tier = "provincial"
        automatic = false
        [[levels]]
        tier = "city"
        [[levels.paths]]
        window_days = 30
        match = "any"
        thresholds = { team_sales = "50000.00", invited_agents = 10 }
        [[levels.downgrade]]
        kind = "thresholds"
        "#,
    );
    let team = Metrics {
        team_sales: yuan("52300.00"),
        ..Metrics::default()
    };
    let a = agent(SPECIAL, d(1, 1));
    let up = on(&p, &a, &[(d(4, 1), team.clone())], d(4, 20)).expect("city");
    assert_eq!(
        up.summary(&p, Lang::En),
        "upgraded to city: team sales 52,300.00 ≥ 50,000.00 in the last 30 days"
    );
    let both = Metrics {
        invited_agents: 3,
        ..team.clone()
    };
    assert_eq!(
        on(&p, &a, &[(d(4, 1), both.clone())], d(4, 20)).map(|x| x.to),
        Some(NATIONAL)
    );
    let manual = agent(PROVINCIAL, d(1, 1));
    assert_eq!(
        on(&p, &manual, &[], d(4, 20)),
        None,
        "never downgraded on its own"
    );
    assert_eq!(
        on(&p, &manual, &[(d(4, 1), both)], d(4, 20)).map(|x| x.to),
        Some(NATIONAL)
    );
}

/// Upgrade products and level prices (seed 000 方式二, 方式三); applications wait for approval.
#[test]
fn seed_000_product_price_and_application_paths() {
    let p = policy(
        r#"version = 1
        name = "seed 000"
        on_change = "relevel"
        [[levels]]
        tier = "city"
        [[levels.paths]]
        upgrade_products = ["UP-CITY"]
        [[levels.paths]]
        level_price = "999.00"
        [[levels.paths]]
        approval = "supplier_then_hq"
        thresholds = { invited_agents = 1 }
        "#,
    );
    let a = agent(SPECIAL, d(1, 1));
    let mut bought = Metrics::default();
    bought.products.insert("UP-CITY".into());
    let up = on(&p, &a, &[(d(2, 1), bought)], d(2, 1)).expect("bought");
    assert_eq!(
        up.summary(&p, Lang::En),
        "upgraded to city: bought upgrade product UP-CITY"
    );
    let mut price = Metrics::default();
    price.level_payments.insert("city".into(), yuan("999.00"));
    assert_eq!(
        on(&p, &a, &[(d(2, 1), price)], d(2, 1)).map(|x| x.to),
        Some(CITY)
    );
    let invited = Metrics {
        invited_agents: 5,
        ..Metrics::default()
    };
    assert_eq!(
        on(&p, &a, &[(d(2, 1), invited)], d(2, 1)),
        None,
        "needs approval"
    );
}

#[test]
fn invalid_documents_name_their_fields() {
    let e = LevelPolicy::parse(
        r#"version = 0
        name = ""
        on_change = "sometimes"
        [[levels]]
        tier = "mayor"
        [[levels]]
        tier = "city"
        [[levels.paths]]
        window_days = 0
        match = "most"
        thresholds = { team_sales = "-1", orders = "1.5", charisma = 3, points = 10 }
        [[levels.downgrade]]
        kind = "cyclic"
        [[levels.downgrade]]
        kind = "single"
        days = 3
        to = "national"
        [[levels]]
        tier = "special"
        [[levels.paths]]
        level_price = "10.00"
        "#,
        &tiers(),
    )
    .expect_err("invalid");
    for field in [
        "version",
        "name",
        "on_change",
        "levels[0].tier",
        "levels[1].paths[0].window_days",
        "levels[1].paths[0].match",
        "levels[1].paths[0].thresholds.team_sales",
        "levels[1].paths[0].thresholds.orders",
        "levels[1].paths[0].thresholds.charisma",
        "levels[1].paths[0].thresholds.points",
        "levels[1].downgrade[0].days",
        "levels[1].downgrade[1].to",
        "levels[2].paths",
    ] {
        assert!(e.names(field), "{field} not named in: {e}");
    }
    let syntax = LevelPolicy::parse(
        "version = 1\nname = \"x\"\non_change = \"keep\"\nsurprise = 1",
        &tiers(),
    )
    .expect_err("unknown key");
    assert!(syntax.to_string().contains("surprise"), "{syntax}");
}
