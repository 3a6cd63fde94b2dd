//! Consumers of scan marketing (issue 21): who signs in by phone with a one-time code, their
//! sessions, and the rewards they claimed. The rules are `chainmark_domain::marketing::sign_in`;
//! the server's `consumers` use case combines them with these reads and writes.
//!
//! Codes and session tokens are stored only as hashes. Every step that must happen once is a
//! conditional update, so it holds across server instances on one database: a try is counted
//! only while the code has tries left, a code is used only while unused.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::domain::marketing::PrizeKind;
use crate::domain::marketing::sign_in::MAX_ATTEMPTS;
use crate::domain::network::{Account, ConsumerWallet};
use crate::error::Result;
use crate::store::DbConnection;
use crate::store::schema::{
    campaign_rewards, campaigns, consumer_codes, consumer_sessions, consumers, ledger_accounts,
    payout_batches,
};
use crate::typed::Stored;

/// The newest code sent to a phone, as checking it needs.
#[derive(Debug, Clone, Queryable)]
pub struct CodeRow {
    pub id: i64,
    pub code_hash: String,
    pub expires_at: NaiveDateTime,
    pub attempts: i32,
    pub used_at: Option<NaiveDateTime>,
}

/// A live session's consumer.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct SessionOwner {
    pub consumer_id: i64,
    pub phone: String,
}

/// When codes were sent to `phone` since `since` (what `sign_in::may_send` decides on).
pub fn codes_sent_since(
    conn: &mut DbConnection,
    phone: &str,
    since: NaiveDateTime,
) -> Result<Vec<NaiveDateTime>> {
    Ok(consumer_codes::table
        .filter(consumer_codes::phone.eq(phone))
        .filter(consumer_codes::created_at.gt(since))
        .select(consumer_codes::created_at)
        .load(conn)?)
}

/// Stores a code sent to `phone` (its hash only).
pub fn insert_code(
    conn: &mut DbConnection,
    phone: &str,
    code_hash: &str,
    at: NaiveDateTime,
    expires_at: NaiveDateTime,
    client_addr: &str,
) -> Result<()> {
    diesel::insert_into(consumer_codes::table)
        .values((
            consumer_codes::phone.eq(phone),
            consumer_codes::code_hash.eq(code_hash),
            consumer_codes::created_at.eq(at),
            consumer_codes::expires_at.eq(expires_at),
            consumer_codes::client_addr.eq(client_addr),
        ))
        .execute(conn)?;
    Ok(())
}

/// The newest code sent to `phone`, whatever its state: an older code is never accepted once a
/// newer one was sent.
pub fn newest_code(conn: &mut DbConnection, phone: &str) -> Result<Option<CodeRow>> {
    Ok(consumer_codes::table
        .filter(consumer_codes::phone.eq(phone))
        .order(consumer_codes::id.desc())
        .select((
            consumer_codes::id,
            consumer_codes::code_hash,
            consumer_codes::expires_at,
            consumer_codes::attempts,
            consumer_codes::used_at,
        ))
        .first(conn)
        .optional()?)
}

/// Counts one try of code `id`, if it is unused and has tries left; `false` when it has not.
pub fn count_attempt(conn: &mut DbConnection, id: i64) -> Result<bool> {
    let n = diesel::update(
        consumer_codes::table
            .filter(consumer_codes::id.eq(id))
            .filter(consumer_codes::used_at.is_null())
            .filter(consumer_codes::attempts.lt(MAX_ATTEMPTS)),
    )
    .set(consumer_codes::attempts.eq(consumer_codes::attempts + 1))
    .execute(conn)?;
    Ok(n == 1)
}

/// Uses code `id`, if nobody used it yet; `false` when someone did (two submits at once: one
/// wins).
pub fn use_code(conn: &mut DbConnection, id: i64, at: NaiveDateTime) -> Result<bool> {
    let n = diesel::update(
        consumer_codes::table
            .filter(consumer_codes::id.eq(id))
            .filter(consumer_codes::used_at.is_null()),
    )
    .set(consumer_codes::used_at.eq(at))
    .execute(conn)?;
    Ok(n == 1)
}

/// The consumer with this phone, added when new; answers its id. One statement, so two first
/// sign-ins at once make one consumer.
pub fn upsert_consumer(conn: &mut DbConnection, phone: &str, at: NaiveDateTime) -> Result<i64> {
    let upsert = diesel::insert_into(consumers::table)
        .values((
            consumers::phone.eq(phone),
            consumers::created_at.eq(at),
            consumers::last_seen_at.eq(at),
        ))
        .on_conflict(consumers::phone)
        .do_update()
        .set(consumers::last_seen_at.eq(at))
        .returning(consumers::id);
    Ok(per_backend!(conn, |c| upsert.get_result(c))?)
}

pub fn insert_session(
    conn: &mut DbConnection,
    consumer_id: i64,
    token_hash: &str,
    at: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> Result<()> {
    diesel::insert_into(consumer_sessions::table)
        .values((
            consumer_sessions::consumer_id.eq(consumer_id),
            consumer_sessions::token_hash.eq(token_hash),
            consumer_sessions::created_at.eq(at),
            consumer_sessions::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// The consumer of the live session with this token hash: one query on the unique hash.
pub fn session_owner(
    conn: &mut DbConnection,
    token_hash: &str,
    now: NaiveDateTime,
) -> Result<Option<SessionOwner>> {
    // Every page of a signed-in consumer runs this: on the backend's own connection, so it
    // stays prepared (see `store::per_backend`).
    let query = consumer_sessions::table
        .inner_join(consumers::table)
        .filter(consumer_sessions::token_hash.eq(token_hash))
        .filter(consumer_sessions::expires_at.gt(now))
        .select((consumers::id, consumers::phone));
    let mut rows: Vec<SessionOwner> = per_backend!(conn, |c| query.load(c))?;
    Ok(rows.pop())
}

/// Ends the session with this token hash (nothing when there is none).
pub fn delete_session(conn: &mut DbConnection, token_hash: &str) -> Result<()> {
    diesel::delete(consumer_sessions::table.filter(consumer_sessions::token_hash.eq(token_hash)))
        .execute(conn)?;
    Ok(())
}

/// Forgets expired sessions, and codes older than `codes_before` (the throttle reads only the
/// last hour); answers how many rows went.
pub fn purge(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    codes_before: NaiveDateTime,
) -> Result<usize> {
    let sessions =
        diesel::delete(consumer_sessions::table.filter(consumer_sessions::expires_at.le(now)))
            .execute(conn)?;
    let codes =
        diesel::delete(consumer_codes::table.filter(consumer_codes::created_at.lt(codes_before)))
            .execute(conn)?;
    Ok(sessions + codes)
}

/// One reward a consumer claimed, as "my rewards" lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MyReward {
    pub id: i64,
    pub campaign: String,
    /// `None`: a lottery draw that won nothing.
    pub kind: Option<PrizeKind>,
    pub points: i64,
    pub amount_cents: i64,
    pub coupon_code: Option<String>,
    pub claimed_at: NaiveDateTime,
    /// Cash only: its payout batch is marked paid.
    pub paid: bool,
}

/// A page of the rewards `consumer` claimed, newest first, of `kind` when given; and how many
/// there are in all (for the pager).
pub fn my_rewards(
    conn: &mut DbConnection,
    consumer: i64,
    kind: Option<PrizeKind>,
    offset: i64,
    limit: i64,
) -> Result<(Vec<MyReward>, i64)> {
    let mine = || {
        let mut q = campaign_rewards::table
            .filter(campaign_rewards::consumer_id.eq(consumer))
            .filter(campaign_rewards::claimed_at.is_not_null())
            .into_boxed();
        if let Some(k) = kind {
            q = q.filter(campaign_rewards::kind.eq(Stored(k)));
        }
        q
    };
    let total: i64 = mine().count().get_result(conn)?;
    let ids: Vec<i64> = mine()
        .order((
            campaign_rewards::claimed_at.desc(),
            campaign_rewards::id.desc(),
        ))
        .offset(offset)
        .limit(limit)
        .select(campaign_rewards::id)
        .load(conn)?;
    type Row = (
        i64,
        String,
        Option<PrizeKind>,
        i64,
        i64,
        Option<String>,
        Option<NaiveDateTime>,
        Option<String>,
    );
    let rows: Vec<Row> = campaign_rewards::table
        .inner_join(campaigns::table)
        .left_join(payout_batches::table)
        .filter(campaign_rewards::id.eq_any(&ids))
        .select((
            campaign_rewards::id,
            campaigns::name,
            campaign_rewards::kind,
            campaign_rewards::points,
            campaign_rewards::amount_cents,
            campaign_rewards::coupon_code,
            campaign_rewards::claimed_at,
            payout_batches::state.nullable(),
        ))
        .load(conn)?;
    // Back in the page's order (the join's order is the database's).
    let mut page: Vec<MyReward> = rows
        .into_iter()
        .filter_map(
            |(id, campaign, kind, points, amount_cents, coupon_code, claimed_at, batch)| {
                Some(MyReward {
                    id,
                    campaign,
                    kind,
                    points,
                    amount_cents,
                    coupon_code,
                    claimed_at: claimed_at?,
                    paid: batch.as_deref() == Some("paid"),
                })
            },
        )
        .collect();
    page.sort_by_key(|r| ids.iter().position(|i| *i == r.id));
    Ok((page, total))
}

/// The consumer's points: the balance of its points account in the ledger (one point is one
/// cent there, `marketing::POINT_VALUE`), which is the truth; zero before any is booked.
pub fn points(conn: &mut DbConnection, consumer: i64) -> Result<i64> {
    let code = Account::Consumer(consumer, ConsumerWallet::Points).to_string();
    let balance: Option<i64> = ledger_accounts::table
        .filter(ledger_accounts::code.eq(code))
        .select(ledger_accounts::balance_cents)
        .first(conn)
        .optional()?;
    Ok(balance.unwrap_or(0))
}
