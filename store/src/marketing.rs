//! Scan marketing's rewards (issue 21): the draw on a genuine first verification and the claim.
//! The rules are `chainmark_domain::marketing`; campaigns themselves are set up by HQ
//! (`campaigns`).
//!
//! What keeps a budget and a prize's stock from being overrun, on one server or several: each
//! instance takes them into a lease (`campaign_leases`) by conditional updates that take a share
//! or change nothing (`spent_cents + x <= budget_cents`, `remaining >= n`), and spends its lease
//! in memory; a lease ends by giving back exactly what its rewards did not use. What keeps a code
//! to one draw ever: the reward row is keyed by serial and inserted with `ON CONFLICT DO
//! NOTHING`, so a replayed or concurrent verification of the same code draws nothing. The
//! rewards' posting and the dashboard's counters are booked a moment later, per group
//! ([`settle`]), so a draw writes one row that no other draw writes.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::domain::Refusal;
use crate::domain::marketing::{
    self, CampaignState, MarketingError, Prize, PrizeKind, Scope, Terms,
};
use crate::domain::network::{Account, ConsumerWallet, HqAccount, Posting, PostingKind};
use crate::error::{Error, Result};
use crate::network::ledger::{self, Meta};
use crate::network::money;
use crate::store::DbConnection;
use crate::store::schema::{
    campaign_days, campaign_lease_stock, campaign_leases, campaign_prizes, campaign_rewards,
    campaigns, consumers, postings,
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

/// What a draw wins, paid from a lease this instance holds (taken before the draw, in memory:
/// `chainmark_server::marketing::Purses`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paid {
    pub lease_id: i64,
    /// The prize's index in [`Offer::prizes`].
    pub index: usize,
    /// The value paid: a random cash amount may have been cut to what was left of the budget.
    pub cents: i64,
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
    /// `None`: the draw wins nothing (a lottery's blank, a prize sold out, the budget spent).
    pub paid: Option<Paid>,
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
/// verifications), or when the campaign was paused or ended since this instance read it. Run it
/// in the transaction that counted the verification.
///
/// What it wins was already taken from this instance's lease, so the draw touches no row another
/// draw touches: one read of the campaign and one insert. Its posting and the dashboard's
/// counters follow in [`settle`].
pub fn draw(conn: &mut DbConnection, d: &Draw<'_>) -> Result<Option<Drawn>> {
    use crate::domain::diversion::alert::AlertKind;
    use crate::store::schema::diversion_alerts;
    use diesel::dsl::{exists, not};
    use diesel::sql_types::{BigInt, Bool, Nullable, Text, Timestamp};
    let won = match d.paid {
        Some(paid) => {
            let (prize_id, prize) = d.offer.prizes.get(paid.index).ok_or_else(|| {
                Error::Internal(format!("prize {} of campaign {}", paid.index, d.offer.id))
            })?;
            Some((
                paid.lease_id,
                *prize_id,
                Won {
                    name: prize.name.clone(),
                    kind: prize.kind,
                    points: if prize.kind == PrizeKind::Points {
                        prize.points
                    } else {
                        0
                    },
                    amount_cents: paid.cents,
                    coupon_code: (prize.kind == PrizeKind::Coupon)
                        .then(|| d.rolls.coupon_code.clone()),
                },
            ))
        }
        None => None,
    };
    // One statement: the row is inserted only while the campaign runs (a copy of the campaigns
    // a moment stale cannot reward a paused or ended one) and the code is under no cloning or
    // overuse alert, and only once per serial ever.
    let alerted = diversion_alerts::table
        .filter(diversion_alerts::serial.eq(d.serial))
        .filter(
            diversion_alerts::kind
                .eq(Stored(AlertKind::Cloning))
                .or(diversion_alerts::kind.eq(Stored(AlertKind::Overuse))),
        )
        .select(diversion_alerts::id);
    let source = campaigns::table
        .filter(campaigns::id.eq(d.offer.id))
        .filter(campaigns::state.eq(Stored(CampaignState::Running)))
        .filter(campaigns::starts_at.le(d.at))
        .filter(campaigns::ends_at.gt(d.at))
        .filter(not(exists(alerted)))
        .select((
            d.serial.into_sql::<Text>(),
            campaigns::id,
            Some(d.rolls.claim_hash.as_str()).into_sql::<Nullable<Text>>(),
            d.region.into_sql::<Nullable<Text>>(),
            d.at.into_sql::<Timestamp>(),
            won.as_ref().map(|w| w.0).into_sql::<Nullable<BigInt>>(),
            won.as_ref().map(|w| w.1).into_sql::<Nullable<BigInt>>(),
            won.as_ref()
                .map(|w| Stored(w.2.kind))
                .into_sql::<Nullable<crate::store::schema::sql_types::PrizeKindText>>(),
            won.as_ref().map_or(0, |w| w.2.points).into_sql::<BigInt>(),
            won.as_ref()
                .map_or(0, |w| w.2.amount_cents)
                .into_sql::<BigInt>(),
            won.as_ref()
                .and_then(|w| w.2.coupon_code.clone())
                .into_sql::<Nullable<Text>>(),
            false.into_sql::<Bool>(),
        ));
    let insert = diesel::insert_into(campaign_rewards::table)
        .values(source)
        .into_columns((
            campaign_rewards::serial,
            campaign_rewards::campaign_id,
            campaign_rewards::claim_token_hash,
            campaign_rewards::region_code,
            campaign_rewards::drawn_at,
            campaign_rewards::lease_id,
            campaign_rewards::prize_id,
            campaign_rewards::kind,
            campaign_rewards::points,
            campaign_rewards::amount_cents,
            campaign_rewards::coupon_code,
            campaign_rewards::settled,
        ))
        .on_conflict(campaign_rewards::serial)
        .do_nothing();
    let inserted: Vec<i64> = per_backend!(conn, |c| insert
        .returning(campaign_rewards::id)
        .get_results(c))?;
    let Some(reward_id) = inserted.first().copied() else {
        return Ok(None);
    };
    let prize = won.map(|w| w.2);
    let claimed = match (d.consumer, &prize) {
        (Some(consumer), Some(_)) => match claim_row(conn, reward_id, consumer, d.at) {
            Ok(_) => true,
            // Over the day's limit: the reward waits, unclaimed, for another day.
            Err(Error::Conflict { .. }) => false,
            Err(e) => return Err(e),
        },
        _ => false,
    };
    Ok(Some(Drawn {
        reward_id,
        campaign: d.offer.name.clone(),
        prize,
        claimed,
    }))
}

fn meta(kind: PostingKind) -> Meta {
    Meta {
        kind,
        ..Meta::default()
    }
}

/// Books rewards drawn and not yet settled, at most `limit` of them, oldest first: one posting
/// for the group (`rewards:{first reward id}`, `hq:marketing_expense → hq:rewards_owed`, the sum
/// of their values) that each reward names (`posting_id`), and the dashboard's counters, in one
/// transaction: a handful of statements for hundreds of draws. Several instances may settle at
/// once: on PostgreSQL each takes rows the others have not locked. Returns how many it settled.
pub fn settle(conn: &mut DbConnection, limit: i64) -> Result<usize> {
    crate::conn::in_transaction(conn, |c| {
        let unsettled = campaign_rewards::table
            .filter(campaign_rewards::settled.eq(false))
            .order(campaign_rewards::id)
            .limit(limit)
            .select(campaign_rewards::id);
        let ids: Vec<i64> = match c {
            DbConnection::Postgres(pg) => unsettled.for_update().skip_locked().load(pg)?,
            DbConnection::Sqlite(_) => unsettled.load(c)?,
        };
        settle_ids(c, &ids)
    })
}

/// Whether any reward waits to be settled (a read, by the partial index on unsettled rewards).
pub fn any_unsettled(conn: &mut DbConnection) -> Result<bool> {
    Ok(diesel::select(diesel::dsl::exists(
        campaign_rewards::table.filter(campaign_rewards::settled.eq(false)),
    ))
    .get_result(conn)?)
}

/// Settles these rewards, those of them not settled yet (see [`settle`]).
fn settle_ids(conn: &mut DbConnection, ids: &[i64]) -> Result<usize> {
    if ids.is_empty() {
        return Ok(0);
    }
    type Row = (
        i64,
        i64,
        i64,
        Option<PrizeKind>,
        Option<String>,
        NaiveDateTime,
    );
    let pick = campaign_rewards::table
        .filter(campaign_rewards::id.eq_any(ids))
        .filter(campaign_rewards::settled.eq(false))
        .select((
            campaign_rewards::id,
            campaign_rewards::campaign_id,
            campaign_rewards::amount_cents,
            campaign_rewards::kind,
            campaign_rewards::region_code,
            campaign_rewards::drawn_at,
        ));
    let rows: Vec<Row> = match conn {
        DbConnection::Postgres(pg) => pick.for_update().load(pg)?,
        DbConnection::Sqlite(_) => pick.load(conn)?,
    };
    if rows.is_empty() {
        return Ok(0);
    }
    let mut total = 0i64;
    let mut tallies: std::collections::BTreeMap<(i64, chrono::NaiveDate, String), Tally> =
        Default::default();
    for (_, campaign, amount, kind, region, drawn_at) in &rows {
        let won = kind.is_some() && *amount > 0;
        let province = region
            .as_deref()
            .and_then(marketing::province_of)
            .unwrap_or_default();
        let t = tallies
            .entry((*campaign, marketing::china_day(*drawn_at), province))
            .or_default();
        t.scans += 1;
        if won {
            total += amount;
            t.rewards += 1;
            t.cost_cents += amount;
        }
    }
    // Rows are read in id order (the lowest first): the group's key is its first reward, which
    // no other group can hold.
    let first = rows.iter().map(|r| r.0).min().unwrap_or_default();
    let posting_id = if total > 0 {
        let key = format!("rewards:{first}");
        let posting = Posting::transfers(
            key.clone(),
            [(
                Account::Hq(HqAccount::MarketingExpense),
                Account::Hq(HqAccount::RewardsOwed),
                money(total),
            )],
        )
        .ok_or_else(|| Error::Internal("rewards of no value".into()))?;
        ledger::book(conn, &posting, meta(PostingKind::Reward))?;
        Some(
            postings::table
                .filter(postings::idempotency_key.eq(&key))
                .select(postings::id)
                .first::<i64>(conn)?,
        )
    } else {
        None
    };
    for ((campaign, day, province), t) in tallies {
        count_day(conn, campaign, day, &province, t)?;
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    for chunk in ids.chunks(1000) {
        diesel::update(campaign_rewards::table.filter(campaign_rewards::id.eq_any(chunk)))
            .set((
                campaign_rewards::settled.eq(true),
                campaign_rewards::posting_id.eq(posting_id),
            ))
            .execute(conn)?;
    }
    Ok(rows.len())
}

/// What a lease asks of a campaign: cents of its budget and units of one prize's stock.
#[derive(Debug, Clone)]
pub struct Want {
    pub campaign: i64,
    /// The server instance that holds the lease.
    pub holder: String,
    pub at: NaiveDateTime,
    /// Cents: less than `cents_min` available is taken as none; at least `cents_need` is asked,
    /// a block of `cents_block` when there is plenty (`marketing::lease_size`).
    pub cents_min: i64,
    pub cents_need: i64,
    pub cents_block: i64,
    /// Units of a prize's stock, the same way (one at least).
    pub units: Option<(i64, i64)>,
}

/// What a lease was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    pub lease_id: i64,
    pub cents: i64,
    pub units: i64,
}

/// Takes more of a running campaign's budget and of a prize's stock into this holder's lease
/// (making the lease if it has none), by conditional updates that take a share or change nothing,
/// in one transaction. The campaign's `spent_cents` counts what leases hold, so no two leases
/// (nor a lease and the budget) hand out the same cent.
pub fn take_lease(conn: &mut DbConnection, w: &Want) -> Result<Grant> {
    crate::conn::in_transaction(conn, |c| {
        let upsert = diesel::insert_into(campaign_leases::table)
            .values((
                campaign_leases::campaign_id.eq(w.campaign),
                campaign_leases::holder.eq(&w.holder),
                campaign_leases::cents.eq(0i64),
                campaign_leases::renewed_at.eq(w.at),
            ))
            .on_conflict((campaign_leases::campaign_id, campaign_leases::holder))
            .do_update()
            .set(campaign_leases::renewed_at.eq(w.at));
        let lease_id: i64 =
            per_backend!(c, |k| upsert.returning(campaign_leases::id).get_result(k))?;
        let mut cents = 0;
        if w.cents_need > 0 {
            for _ in 0..4 {
                let left: Option<(i64, i64)> = campaigns::table
                    .find(w.campaign)
                    .filter(campaigns::state.eq(Stored(CampaignState::Running)))
                    .filter(campaigns::starts_at.le(w.at))
                    .filter(campaigns::ends_at.gt(w.at))
                    .select((campaigns::budget_cents, campaigns::spent_cents))
                    .first(c)
                    .optional()?;
                let Some((budget, spent)) = left else { break };
                let take = marketing::lease_size(budget - spent, w.cents_need, w.cents_block);
                if take < w.cents_min.max(1) {
                    break;
                }
                let taken = diesel::update(
                    campaigns::table
                        .find(w.campaign)
                        .filter(campaigns::state.eq(Stored(CampaignState::Running)))
                        .filter((campaigns::spent_cents + take).le(campaigns::budget_cents)),
                )
                .set(campaigns::spent_cents.eq(campaigns::spent_cents + take))
                .execute(c)?;
                if taken == 1 {
                    diesel::update(campaign_leases::table.find(lease_id))
                        .set(campaign_leases::cents.eq(campaign_leases::cents + take))
                        .execute(c)?;
                    cents = take;
                    break;
                }
            }
        }
        let mut units = 0;
        if let Some((prize, block)) = w.units {
            for _ in 0..4 {
                let left: Option<Option<i64>> = campaign_prizes::table
                    .find(prize)
                    .filter(campaign_prizes::campaign_id.eq(w.campaign))
                    .select(campaign_prizes::remaining)
                    .first(c)
                    .optional()?;
                let Some(Some(left)) = left else { break };
                let take = marketing::lease_size(left, 1, block);
                if take < 1 {
                    break;
                }
                let taken = diesel::update(
                    campaign_prizes::table
                        .find(prize)
                        .filter(campaign_prizes::remaining.ge(take)),
                )
                .set(campaign_prizes::remaining.eq(campaign_prizes::remaining - take))
                .execute(c)?;
                if taken == 1 {
                    let held = diesel::insert_into(campaign_lease_stock::table)
                        .values((
                            campaign_lease_stock::lease_id.eq(lease_id),
                            campaign_lease_stock::prize_id.eq(prize),
                            campaign_lease_stock::units.eq(take),
                        ))
                        .on_conflict((
                            campaign_lease_stock::lease_id,
                            campaign_lease_stock::prize_id,
                        ))
                        .do_update()
                        .set(campaign_lease_stock::units.eq(campaign_lease_stock::units + take));
                    per_backend!(c, |k| held.execute(k))?;
                    units = take;
                    break;
                }
            }
        }
        Ok(Grant {
            lease_id,
            cents,
            units,
        })
    })
}

/// Gives back part of a lease its holder cannot use (crumbs of budget too small for any draw it
/// makes), so another instance can.
pub fn give_back(conn: &mut DbConnection, lease_id: i64, campaign: i64, cents: i64) -> Result<()> {
    if cents <= 0 {
        return Ok(());
    }
    crate::conn::in_transaction(conn, |c| {
        let lowered = diesel::update(
            campaign_leases::table
                .find(lease_id)
                .filter(campaign_leases::cents.ge(cents)),
        )
        .set(campaign_leases::cents.eq(campaign_leases::cents - cents))
        .execute(c)?;
        if lowered == 1 {
            diesel::update(campaigns::table.find(campaign))
                .set(campaigns::spent_cents.eq(campaigns::spent_cents - cents))
                .execute(c)?;
        }
        Ok(())
    })
}

/// Ends a lease, giving back to the campaign exactly what was not spent of it: its cents less the
/// rewards drawn under it, its units of stock less the prizes won from them. Its holder calls it
/// when no draw of its own is under way (idle, the campaign paused or ended, shutting down);
/// `stale_before` ends another holder's lease not renewed since then (a process that died).
/// Returns whether there was such a lease to end.
pub fn end_lease(
    conn: &mut DbConnection,
    lease_id: i64,
    stale_before: Option<NaiveDateTime>,
) -> Result<bool> {
    crate::conn::in_transaction(conn, |c| {
        // A holder ends its own lease whenever; another's only when it went stale.
        let before = stale_before.unwrap_or_else(|| {
            chrono::NaiveDate::from_ymd_opt(9999, 12, 31)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .unwrap_or_default()
        });
        let pick = campaign_leases::table
            .find(lease_id)
            .filter(campaign_leases::renewed_at.lt(before))
            .select((campaign_leases::campaign_id, campaign_leases::cents));
        let lease: Option<(i64, i64)> = match c {
            DbConnection::Postgres(pg) => pick.for_update().first(pg).optional()?,
            DbConnection::Sqlite(_) => pick.first(c).optional()?,
        };
        let Some((campaign, cents)) = lease else {
            return Ok(false);
        };
        // What was drawn under the lease (a lease lives minutes to hours: thousands of rows at
        // most, read once when it ends).
        let drawn: Vec<(Option<i64>, i64)> = campaign_rewards::table
            .filter(campaign_rewards::lease_id.eq(lease_id))
            .select((campaign_rewards::prize_id, campaign_rewards::amount_cents))
            .load(c)?;
        let unspent = cents - drawn.iter().map(|d| d.1).sum::<i64>();
        if unspent > 0 {
            diesel::update(campaigns::table.find(campaign))
                .set(campaigns::spent_cents.eq(campaigns::spent_cents - unspent))
                .execute(c)?;
        }
        let held: Vec<(i64, i64)> = campaign_lease_stock::table
            .filter(campaign_lease_stock::lease_id.eq(lease_id))
            .select((campaign_lease_stock::prize_id, campaign_lease_stock::units))
            .load(c)?;
        for (prize, units) in held {
            let won = drawn.iter().filter(|d| d.0 == Some(prize)).count() as i64;
            let unused = units - won;
            if unused > 0 {
                diesel::update(campaign_prizes::table.find(prize))
                    .set(campaign_prizes::remaining.eq(campaign_prizes::remaining + unused))
                    .execute(c)?;
            }
        }
        diesel::delete(
            campaign_lease_stock::table.filter(campaign_lease_stock::lease_id.eq(lease_id)),
        )
        .execute(c)?;
        diesel::delete(campaign_leases::table.find(lease_id)).execute(c)?;
        Ok(true)
    })
}

/// Marks this holder's leases alive.
pub fn renew_leases(conn: &mut DbConnection, holder: &str, at: NaiveDateTime) -> Result<()> {
    diesel::update(campaign_leases::table.filter(campaign_leases::holder.eq(holder)))
        .set(campaign_leases::renewed_at.eq(at))
        .execute(conn)?;
    Ok(())
}

/// Leases not renewed since `before`: their holders stopped without giving them back.
pub fn stale_leases(conn: &mut DbConnection, before: NaiveDateTime) -> Result<Vec<i64>> {
    Ok(campaign_leases::table
        .filter(campaign_leases::renewed_at.lt(before))
        .select(campaign_leases::id)
        .load(conn)?)
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
    // The reward's own posting comes before the claim's, when no settling has booked it yet.
    settle_ids(conn, &[reward_id])?;
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
    ledger::book(conn, &posting, meta(PostingKind::RewardClaim))?;
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
