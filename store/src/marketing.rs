//! Scan marketing's rewards (issue 21): the draw on a genuine first verification and the claim.
//! The rules are `chainmark_domain::marketing`; campaigns themselves are set up by HQ
//! (`campaigns`).
//!
//! What keeps a budget and a prize's stock from being overrun, on one server or several: both are
//! spent by a conditional update (`spent_cents + x <= budget_cents`, `remaining > 0`) that either
//! takes its share or changes nothing, inside the draw's transaction. What keeps a code to one
//! draw ever: the reward row, keyed by serial, is inserted first (`ON CONFLICT DO NOTHING`), so a
//! replayed or concurrent verification of the same code finds it taken before it spends anything.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::domain::Refusal;
use crate::domain::marketing::{
    self, CampaignState, MarketingError, Prize, PrizeKind, Scope, Terms,
};
use crate::domain::network::{Account, ConsumerWallet, HqAccount, Posting};
use crate::error::{Error, Result};
use crate::network::ledger::{self, Meta};
use crate::network::money;
use crate::store::DbConnection;
use crate::store::schema::{
    campaign_days, campaign_prizes, campaign_rewards, campaigns, consumers,
};
use crate::typed::Stored;

/// A running campaign with its prizes, as the verification path keeps it in memory.
#[derive(Debug, Clone)]
pub struct Offer {
    pub id: i64,
    pub name: String,
    pub terms: Terms,
    pub daily_limit: i32,
    /// `(prize id, prize)` in the order their odds are walked.
    pub prizes: Vec<(i64, Prize)>,
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_string).collect()
}

/// The campaigns that are running and not over at `now`.
pub fn offers(conn: &mut DbConnection, now: NaiveDateTime) -> Result<Vec<Offer>> {
    type Row = (
        i64,
        String,
        CampaignState,
        String,
        String,
        String,
        NaiveDateTime,
        NaiveDateTime,
        i32,
    );
    let rows: Vec<Row> = campaigns::table
        .filter(campaigns::state.eq(Stored(CampaignState::Running)))
        .filter(campaigns::ends_at.gt(now))
        .order(campaigns::id)
        .select((
            campaigns::id,
            campaigns::name,
            campaigns::state,
            campaigns::skus,
            campaigns::batches,
            campaigns::regions,
            campaigns::starts_at,
            campaigns::ends_at,
            campaigns::daily_limit,
        ))
        .load(conn)?;
    let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let prizes = prizes_of(conn, &ids)?;
    Ok(rows
        .into_iter()
        .map(|r| Offer {
            id: r.0,
            name: r.1,
            terms: Terms {
                state: r.2,
                starts_at: r.6,
                ends_at: r.7,
                scope: Scope {
                    skus: words(&r.3),
                    batches: words(&r.4),
                    regions: words(&r.5),
                },
            },
            daily_limit: r.8,
            prizes: prizes
                .iter()
                .filter(|(c, _, _)| *c == r.0)
                .map(|(_, id, p)| (*id, p.clone()))
                .collect(),
        })
        .collect())
}

/// The prizes of some campaigns: `(campaign, prize id, prize)` in position order.
fn prizes_of(conn: &mut DbConnection, campaign_ids: &[i64]) -> Result<Vec<(i64, i64, Prize)>> {
    type Row = (i64, i64, String, PrizeKind, i64, i64, i64, i32, Option<i64>);
    let rows: Vec<Row> = campaign_prizes::table
        .filter(campaign_prizes::campaign_id.eq_any(campaign_ids))
        .order((campaign_prizes::campaign_id, campaign_prizes::position))
        .select((
            campaign_prizes::campaign_id,
            campaign_prizes::id,
            campaign_prizes::name,
            campaign_prizes::kind,
            campaign_prizes::points,
            campaign_prizes::min_cents,
            campaign_prizes::max_cents,
            campaign_prizes::odds_bp,
            campaign_prizes::stock,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.0,
                r.1,
                Prize {
                    name: r.2,
                    kind: r.3,
                    points: r.4,
                    min_cents: r.5,
                    max_cents: r.6,
                    odds_bp: u32::try_from(r.7).unwrap_or(0),
                    stock: r.8,
                },
            )
        })
        .collect())
}

/// The chance a draw needs, made by the caller (the store has no randomness of its own).
#[derive(Debug, Clone)]
pub struct Rolls {
    /// In `0..marketing::ALL_ODDS`: which prize.
    pub prize: u32,
    /// Which amount of a random cash range.
    pub cash: u64,
    /// The code of a coupon, if one is won.
    pub coupon_code: String,
    /// The hash of the claim token shown once to the consumer who verified.
    pub claim_hash: String,
}

/// A draw to make for a code verified genuine for the first time.
#[derive(Debug, Clone)]
pub struct Draw<'a> {
    pub offer: &'a Offer,
    pub serial: &'a str,
    /// The county the verification was placed in.
    pub region: Option<&'a str>,
    /// The consumer already signed in, who gets the reward at once (within the daily limit).
    pub consumer: Option<i64>,
    pub at: NaiveDateTime,
    pub rolls: Rolls,
}

/// What a draw gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drawn {
    pub reward_id: i64,
    pub campaign: String,
    /// `None`: the draw won nothing (a lottery's blank, a prize sold out, the budget spent).
    pub prize: Option<Won>,
    /// Claimed by the signed-in consumer at once.
    pub claimed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Won {
    pub name: String,
    pub kind: PrizeKind,
    pub points: i64,
    /// The value booked (a point is a cent).
    pub amount_cents: i64,
    pub coupon_code: Option<String>,
}

/// Draws once for a code: nothing when the code has drawn before (replays, concurrent
/// verifications). Run it in the transaction that counted the verification.
pub fn draw(conn: &mut DbConnection, d: &Draw<'_>) -> Result<Option<Drawn>> {
    let insert = diesel::insert_into(campaign_rewards::table)
        .values((
            campaign_rewards::serial.eq(d.serial),
            campaign_rewards::campaign_id.eq(d.offer.id),
            campaign_rewards::claim_token_hash.eq(&d.rolls.claim_hash),
            campaign_rewards::region_code.eq(d.region),
            campaign_rewards::drawn_at.eq(d.at),
        ))
        .on_conflict(campaign_rewards::serial)
        .do_nothing();
    let inserted: Vec<i64> = per_backend!(conn, |c| insert
        .returning(campaign_rewards::id)
        .get_results(c))?;
    let Some(reward_id) = inserted.first().copied() else {
        return Ok(None);
    };
    let province = d
        .region
        .and_then(marketing::province_of)
        .unwrap_or_default();
    let day = marketing::china_day(d.at);
    let won = spend(conn, d)?;
    let Some((prize_id, won)) = won else {
        let scan = Tally {
            scans: 1,
            ..Tally::default()
        };
        count_day(conn, d.offer.id, day, &province, scan)?;
        return Ok(Some(Drawn {
            reward_id,
            campaign: d.offer.name.clone(),
            prize: None,
            claimed: false,
        }));
    };
    diesel::update(campaign_rewards::table.find(reward_id))
        .set((
            campaign_rewards::prize_id.eq(prize_id),
            campaign_rewards::kind.eq(Stored(won.kind)),
            campaign_rewards::points.eq(won.points),
            campaign_rewards::amount_cents.eq(won.amount_cents),
            campaign_rewards::coupon_code.eq(won.coupon_code.as_deref()),
        ))
        .execute(conn)?;
    let posting = Posting::transfers(
        format!("reward:{}", d.serial),
        [(
            Account::Hq(HqAccount::MarketingExpense),
            Account::Hq(HqAccount::RewardsOwed),
            money(won.amount_cents),
        )],
    )
    .ok_or_else(|| Error::Internal("a reward of no value".into()))?;
    ledger::book(conn, &posting, meta("reward"))?;
    let rewarded = Tally {
        scans: 1,
        rewards: 1,
        cost_cents: won.amount_cents,
        ..Tally::default()
    };
    count_day(conn, d.offer.id, day, &province, rewarded)?;
    let claimed = match d.consumer {
        Some(consumer) => match claim_row(conn, reward_id, consumer, d.at) {
            Ok(_) => true,
            // Over the day's limit: the reward waits, unclaimed, for another day.
            Err(Error::Conflict { .. }) => false,
            Err(e) => return Err(e),
        },
        None => false,
    };
    Ok(Some(Drawn {
        reward_id,
        campaign: d.offer.name.clone(),
        prize: Some(won),
        claimed,
    }))
}

fn meta(kind: &'static str) -> Meta<'static> {
    Meta {
        kind,
        ..Meta::default()
    }
}

/// Picks the prize and takes its stock and its value from the budget, or nothing.
fn spend(conn: &mut DbConnection, d: &Draw<'_>) -> Result<Option<(i64, Won)>> {
    let ids: Vec<i64> = d.offer.prizes.iter().map(|(id, _)| *id).collect();
    let remaining: Vec<(i64, Option<i64>)> = campaign_prizes::table
        .filter(campaign_prizes::id.eq_any(&ids))
        .select((campaign_prizes::id, campaign_prizes::remaining))
        .load(conn)?;
    let in_stock: Vec<(u32, bool)> = d
        .offer
        .prizes
        .iter()
        .map(|(id, p)| {
            let left = remaining.iter().find(|(i, _)| i == id).and_then(|r| r.1);
            (p.odds_bp, p.stock.is_none() || left.is_some_and(|n| n > 0))
        })
        .collect();
    let Some(index) = marketing::draw(&in_stock, d.rolls.prize) else {
        return Ok(None);
    };
    let (prize_id, prize) = &d.offer.prizes[index];
    if prize.stock.is_some() {
        let taken = diesel::update(
            campaign_prizes::table
                .find(*prize_id)
                .filter(campaign_prizes::remaining.gt(0)),
        )
        .set(campaign_prizes::remaining.eq(campaign_prizes::remaining - 1))
        .execute(conn)?;
        if taken == 0 {
            return Ok(None);
        }
    }
    let value = prize.value_cents(d.rolls.cash);
    let Some(cost) = take_budget(conn, d.offer.id, prize, value, d.at)? else {
        if prize.stock.is_some() {
            // The budget could not pay for the prize taken from stock: put it back.
            diesel::update(campaign_prizes::table.find(*prize_id))
                .set(campaign_prizes::remaining.eq(campaign_prizes::remaining + 1))
                .execute(conn)?;
        }
        return Ok(None);
    };
    Ok(Some((
        *prize_id,
        Won {
            name: prize.name.clone(),
            kind: prize.kind,
            points: if prize.kind == PrizeKind::Points {
                prize.points
            } else {
                0
            },
            amount_cents: cost,
            coupon_code: (prize.kind == PrizeKind::Coupon).then(|| d.rolls.coupon_code.clone()),
        },
    )))
}

/// Takes `value` (or, for a random cash amount, what is left of the budget when that is less)
/// from a running campaign's budget. A conditional update: a concurrent draw that took the
/// money first makes it change nothing, and the amount is worked out again from what is left.
fn take_budget(
    conn: &mut DbConnection,
    campaign: i64,
    prize: &Prize,
    value: i64,
    at: NaiveDateTime,
) -> Result<Option<i64>> {
    for _ in 0..4 {
        let left: Option<(i64, i64)> = campaigns::table
            .find(campaign)
            .select((campaigns::budget_cents, campaigns::spent_cents))
            .first(conn)
            .optional()?;
        let Some((budget, spent)) = left else {
            return Ok(None);
        };
        let Some(cost) = prize.fit(value, budget - spent) else {
            return Ok(None);
        };
        let taken = diesel::update(
            campaigns::table
                .find(campaign)
                .filter(campaigns::state.eq(Stored(CampaignState::Running)))
                .filter(campaigns::starts_at.le(at))
                .filter(campaigns::ends_at.gt(at))
                .filter((campaigns::spent_cents + cost).le(campaigns::budget_cents)),
        )
        .set(campaigns::spent_cents.eq(campaigns::spent_cents + cost))
        .execute(conn)?;
        if taken == 1 {
            return Ok(Some(cost));
        }
        let running: i64 = campaigns::table
            .find(campaign)
            .filter(campaigns::state.eq(Stored(CampaignState::Running)))
            .count()
            .get_result(conn)?;
        if running == 0 {
            return Ok(None);
        }
    }
    Ok(None)
}

/// What one event adds to a campaign's counters of a day and province.
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    scans: i64,
    rewards: i64,
    claimed: i64,
    cost_cents: i64,
}

fn count_day(
    conn: &mut DbConnection,
    campaign: i64,
    day: chrono::NaiveDate,
    province: &str,
    t: Tally,
) -> Result<()> {
    use campaign_days::dsl as d;
    let upsert = diesel::insert_into(campaign_days::table)
        .values((
            d::campaign_id.eq(campaign),
            d::day.eq(day),
            d::province.eq(province),
            d::scans.eq(t.scans),
            d::rewards.eq(t.rewards),
            d::claimed.eq(t.claimed),
            d::cost_cents.eq(t.cost_cents),
        ))
        .on_conflict((d::campaign_id, d::day, d::province))
        .do_update()
        .set((
            d::scans.eq(d::scans + t.scans),
            d::rewards.eq(d::rewards + t.rewards),
            d::claimed.eq(d::claimed + t.claimed),
            d::cost_cents.eq(d::cost_cents + t.cost_cents),
        ));
    per_backend!(conn, |c| upsert.execute(c))?;
    Ok(())
}

/// A reward as its claim page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimable {
    pub reward_id: i64,
    pub campaign: String,
    pub prize: Option<Won>,
    pub consumer: Option<i64>,
    pub drawn_at: NaiveDateTime,
}

/// The reward a claim token was shown for.
pub fn by_token(conn: &mut DbConnection, token_hash: &str) -> Result<Option<Claimable>> {
    type Row = (
        i64,
        String,
        Option<PrizeKind>,
        Option<String>,
        i64,
        i64,
        Option<String>,
        Option<i64>,
        NaiveDateTime,
    );
    let row: Option<Row> = campaign_rewards::table
        .inner_join(campaigns::table)
        .left_join(campaign_prizes::table)
        .filter(campaign_rewards::claim_token_hash.eq(token_hash))
        .select((
            campaign_rewards::id,
            campaigns::name,
            campaign_rewards::kind,
            campaign_prizes::name.nullable(),
            campaign_rewards::points,
            campaign_rewards::amount_cents,
            campaign_rewards::coupon_code,
            campaign_rewards::consumer_id,
            campaign_rewards::drawn_at,
        ))
        .first(conn)
        .optional()?;
    Ok(row.map(|r| Claimable {
        reward_id: r.0,
        campaign: r.1,
        prize: r.2.map(|kind| Won {
            name: r.3.unwrap_or_default(),
            kind,
            points: r.4,
            amount_cents: r.5,
            coupon_code: r.6,
        }),
        consumer: r.7,
        drawn_at: r.8,
    }))
}

/// What a claim did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claimed {
    New,
    /// This consumer had claimed it already (a double submit): nothing changed.
    Again,
}

/// Gives a drawn reward to a signed-in consumer, once, within the campaign's daily limit; the
/// value moves from rewards owed to the consumer's own account. In one transaction.
pub fn claim(
    conn: &mut DbConnection,
    reward_id: i64,
    consumer: i64,
    at: NaiveDateTime,
) -> Result<Claimed> {
    crate::conn::in_transaction(conn, |c| claim_row(c, reward_id, consumer, at))
}

fn refuse(e: MarketingError) -> Error {
    Error::conflict(e.code(), e.to_string())
}

fn claim_row(
    conn: &mut DbConnection,
    reward_id: i64,
    consumer: i64,
    at: NaiveDateTime,
) -> Result<Claimed> {
    // One claim at a time per consumer, so two at once cannot both pass the daily limit. (On
    // SQLite every write is serialised anyway.)
    if let DbConnection::Postgres(c) = conn {
        consumers::table
            .find(consumer)
            .select(consumers::id)
            .for_update()
            .first::<i64>(c)?;
    }
    type Row = (
        i64,
        Option<i64>,
        Option<PrizeKind>,
        i64,
        String,
        Option<String>,
        NaiveDateTime,
        i32,
    );
    let (campaign, owner, kind, amount, serial, region, drawn_at, daily_limit): Row =
        campaign_rewards::table
            .inner_join(campaigns::table)
            .filter(campaign_rewards::id.eq(reward_id))
            .select((
                campaign_rewards::campaign_id,
                campaign_rewards::consumer_id,
                campaign_rewards::kind,
                campaign_rewards::amount_cents,
                campaign_rewards::serial,
                campaign_rewards::region_code,
                campaign_rewards::drawn_at,
                campaigns::daily_limit,
            ))
            .first(conn)?;
    match owner {
        Some(o) if o == consumer => return Ok(Claimed::Again),
        Some(_) => return Err(refuse(MarketingError::Claimed)),
        None => {}
    }
    let Some(kind) = kind else {
        return Err(Error::conflict(
            "reward_nothing",
            "this draw won nothing, so there is nothing to claim",
        ));
    };
    let day = marketing::china_day(at);
    let day_start = day
        .and_hms_opt(0, 0, 0)
        .map(|t| t - Duration::hours(8))
        .ok_or_else(|| Error::Internal("no start of day".into()))?;
    let today: i64 = campaign_rewards::table
        .filter(campaign_rewards::campaign_id.eq(campaign))
        .filter(campaign_rewards::consumer_id.eq(consumer))
        .filter(campaign_rewards::claimed_at.ge(day_start))
        .filter(campaign_rewards::claimed_at.lt(day_start + Duration::days(1)))
        .count()
        .get_result(conn)?;
    if today >= i64::from(daily_limit) {
        return Err(refuse(MarketingError::DailyLimitReached));
    }
    let taken = diesel::update(
        campaign_rewards::table
            .find(reward_id)
            .filter(campaign_rewards::consumer_id.is_null()),
    )
    .set((
        campaign_rewards::consumer_id.eq(consumer),
        campaign_rewards::claimed_at.eq(at),
    ))
    .execute(conn)?;
    if taken == 0 {
        return Err(refuse(MarketingError::Claimed));
    }
    let wallet = match kind {
        PrizeKind::Points => ConsumerWallet::Points,
        PrizeKind::Coupon => ConsumerWallet::Coupons,
        PrizeKind::Cash => ConsumerWallet::Cash,
    };
    let posting = Posting::transfers(
        format!("claim:{serial}"),
        [(
            Account::Hq(HqAccount::RewardsOwed),
            Account::Consumer(consumer, wallet),
            money(amount),
        )],
    )
    .ok_or_else(|| Error::Internal("a reward of no value".into()))?;
    ledger::book(conn, &posting, meta("reward_claim"))?;
    let province = region
        .as_deref()
        .and_then(marketing::province_of)
        .unwrap_or_default();
    let claimed = Tally {
        claimed: 1,
        ..Tally::default()
    };
    count_day(
        conn,
        campaign,
        marketing::china_day(drawn_at),
        &province,
        claimed,
    )?;
    Ok(Claimed::New)
}

/// Whether a code is under a cloning or overuse alert, which no reward is given for.
pub fn under_alert(conn: &mut DbConnection, serial: &str) -> Result<bool> {
    use crate::domain::diversion::alert::AlertKind;
    use crate::store::schema::diversion_alerts;
    let n: i64 = diversion_alerts::table
        .filter(diversion_alerts::serial.eq(serial))
        .filter(
            diversion_alerts::kind
                .eq(Stored(AlertKind::Cloning))
                .or(diversion_alerts::kind.eq(Stored(AlertKind::Overuse))),
        )
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}
