//! Cash rewards (红包) paid out to consumers in batches (issue 21): what is owed (claimed cash
//! rewards in no batch yet), a batch exported for the bank's bulk transfer, and the batch marked
//! paid once with the bank's reference, booking the money out of HQ's bank.
//!
//! A reward joins a batch by a conditional update (`payout_batch_id IS NULL`), so two exports at
//! once never put it in both; a batch is marked paid by a conditional update on its state, in
//! the transaction that books the postings, so nothing is paid twice.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::campaigns::refused;
use crate::desk::Page;
use crate::domain::marketing::{MarketingError, PrizeKind};
use crate::domain::network::{Account, ConsumerWallet, HqAccount, Posting};
use crate::error::{Error, Result};
use crate::network::ledger::{self, Meta};
use crate::network::money;
use crate::schema::{campaign_rewards, payout_batches};
use crate::typed::Stored;
use crate::{DbConnection, in_transaction};

/// A batch exported and waiting for the bank.
pub const EXPORTED: &str = "exported";
/// A batch the bank has paid.
pub const PAID: &str = "paid";
/// The longest bank reference kept.
pub const MAX_REFERENCE: usize = 64;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = payout_batches)]
pub struct BatchRow {
    pub id: i64,
    /// [`EXPORTED`] or [`PAID`].
    pub state: String,
    pub total_cents: i64,
    /// Consumers paid (lines of the CSV).
    pub line_count: i32,
    pub created_at: NaiveDateTime,
    pub created_by: Option<i64>,
    pub reference: Option<String>,
    pub paid_at: Option<NaiveDateTime>,
    pub paid_by: Option<i64>,
}

impl BatchRow {
    pub fn is_paid(&self) -> bool {
        self.state == PAID
    }

    /// The batch's number as the bank's remark shows it (备注).
    pub fn number(&self) -> String {
        format!("HB{:06}", self.id)
    }
}

/// One consumer's cash in a batch, or owed.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct Line {
    #[diesel(sql_type = BigInt)]
    pub consumer_id: i64,
    #[diesel(sql_type = Text)]
    pub phone: String,
    #[diesel(sql_type = BigInt)]
    pub cents: i64,
    /// Rewards summed into the line.
    #[diesel(sql_type = BigInt)]
    pub rewards: i64,
}

/// Cash rewards a consumer claimed and nobody exported yet: what `WHERE` owes.
const OWED: &str = "r.kind = 'cash' AND r.consumer_id IS NOT NULL AND r.claimed_at IS NOT NULL \
    AND r.payout_batch_id IS NULL";

/// Lines per consumer (by consumer id), of batch `batch` or, with `None`, of what is owed.
pub fn lines(
    conn: &mut DbConnection,
    batch: Option<i64>,
    offset: i64,
    limit: i64,
) -> Result<Page<Line>> {
    let sql = |p: [&str; 3]| {
        let filter = match batch {
            Some(_) => format!("r.payout_batch_id = {}", p[0]),
            None => OWED.to_string(),
        };
        let (limit_p, offset_p) = if batch.is_some() {
            (p[1], p[2])
        } else {
            (p[0], p[1])
        };
        format!(
            "SELECT r.consumer_id AS consumer_id, c.phone AS phone, \
             CAST(SUM(r.amount_cents) AS BIGINT) AS cents, CAST(COUNT(*) AS BIGINT) AS rewards \
             FROM campaign_rewards r JOIN consumers c ON c.id = r.consumer_id \
             WHERE {filter} GROUP BY r.consumer_id, c.phone ORDER BY r.consumer_id \
             LIMIT {limit_p} OFFSET {offset_p}"
        )
    };
    let rows: Vec<Line> = match (conn, batch) {
        (DbConnection::Sqlite(c), Some(b)) => diesel::sql_query(sql(["?", "?", "?"]))
            .bind::<BigInt, _>(b)
            .bind::<BigInt, _>(limit + 1)
            .bind::<BigInt, _>(offset)
            .load(c)?,
        (DbConnection::Sqlite(c), None) => diesel::sql_query(sql(["?", "?", ""]))
            .bind::<BigInt, _>(limit + 1)
            .bind::<BigInt, _>(offset)
            .load(c)?,
        (DbConnection::Postgres(c), Some(b)) => diesel::sql_query(sql(["$1", "$2", "$3"]))
            .bind::<BigInt, _>(b)
            .bind::<BigInt, _>(limit + 1)
            .bind::<BigInt, _>(offset)
            .load(c)?,
        (DbConnection::Postgres(c), None) => diesel::sql_query(sql(["$1", "$2", ""]))
            .bind::<BigInt, _>(limit + 1)
            .bind::<BigInt, _>(offset)
            .load(c)?,
    };
    Ok(Page::of_rows(rows, limit))
}

/// Every line of batch `batch` (the CSV and the postings need them all).
pub fn all_lines(conn: &mut DbConnection, batch: i64) -> Result<Vec<Line>> {
    Ok(lines(conn, Some(batch), 0, i64::MAX - 1)?.rows)
}

/// What is owed in all: `(consumers, cents, rewards)`.
pub fn owed_totals(conn: &mut DbConnection) -> Result<(i64, i64, i64)> {
    let (cents, rewards) = campaign_rewards::table
        .filter(owed())
        .select((
            diesel::dsl::sql::<BigInt>("CAST(COALESCE(SUM(amount_cents), 0) AS BIGINT)"),
            diesel::dsl::count_star(),
        ))
        .first::<(i64, i64)>(conn)?;
    let consumers = campaign_rewards::table
        .filter(owed())
        .select(diesel::dsl::sql::<BigInt>("COUNT(DISTINCT consumer_id)"))
        .first::<i64>(conn)?;
    Ok((consumers, cents, rewards))
}

type OwedFilter = diesel::dsl::And<
    diesel::dsl::And<
        diesel::dsl::And<
            diesel::dsl::Eq<campaign_rewards::kind, Stored<PrizeKind>>,
            diesel::dsl::IsNotNull<campaign_rewards::consumer_id>,
        >,
        diesel::dsl::IsNotNull<campaign_rewards::claimed_at>,
    >,
    diesel::dsl::IsNull<campaign_rewards::payout_batch_id>,
>;

/// The same rule as [`OWED`], for diesel's own queries.
fn owed() -> OwedFilter {
    campaign_rewards::kind
        .eq(Stored(PrizeKind::Cash))
        .and(campaign_rewards::consumer_id.is_not_null())
        .and(campaign_rewards::claimed_at.is_not_null())
        .and(campaign_rewards::payout_batch_id.is_null())
}

/// Exports everything owed as a new batch: the batch row, then every owed reward assigned to it
/// by one conditional update. Of two exports at once the second finds nothing left
/// (`payout_empty`) and stores nothing.
pub fn export(conn: &mut DbConnection, by: Option<i64>, at: NaiveDateTime) -> Result<BatchRow> {
    in_transaction(conn, |c| {
        let id: i64 = diesel::insert_into(payout_batches::table)
            .values((
                payout_batches::state.eq(EXPORTED),
                payout_batches::total_cents.eq(0i64),
                payout_batches::line_count.eq(0),
                payout_batches::created_at.eq(at),
                payout_batches::created_by.eq(by),
            ))
            .returning(payout_batches::id)
            .get_result(c)?;
        let assigned = diesel::update(campaign_rewards::table.filter(owed()))
            .set(campaign_rewards::payout_batch_id.eq(id))
            .execute(c)?;
        if assigned == 0 {
            // The error rolls the batch row back.
            return Err(refused(MarketingError::NothingToPay));
        }
        let mine = campaign_rewards::table.filter(campaign_rewards::payout_batch_id.eq(id));
        let total: i64 = mine
            .select(diesel::dsl::sql::<BigInt>(
                "CAST(COALESCE(SUM(amount_cents), 0) AS BIGINT)",
            ))
            .first(c)?;
        let consumers: i64 = mine
            .select(diesel::dsl::sql::<BigInt>("COUNT(DISTINCT consumer_id)"))
            .first(c)?;
        let line_count = i32::try_from(consumers)
            .map_err(|_| Error::Internal("too many consumers in one batch".into()))?;
        Ok(diesel::update(payout_batches::table.find(id))
            .set((
                payout_batches::total_cents.eq(total),
                payout_batches::line_count.eq(line_count),
            ))
            .returning(payout_batches::all_columns)
            .get_result(c)?)
    })
}

/// Batch `id`.
pub fn get(conn: &mut DbConnection, id: i64) -> Result<BatchRow> {
    payout_batches::table
        .find(id)
        .select(BatchRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| Error::not_found("payout batch"))
}

/// Batches, newest first, only those in `state` if given; one page.
pub fn page(
    conn: &mut DbConnection,
    state: Option<&str>,
    offset: i64,
    limit: i64,
) -> Result<Page<BatchRow>> {
    let mut q = payout_batches::table
        .order(payout_batches::id.desc())
        .offset(offset)
        .limit(limit + 1)
        .select(BatchRow::as_select())
        .into_boxed();
    if let Some(s) = state {
        q = q.filter(payout_batches::state.eq(s.to_string()));
    }
    Ok(Page::of_rows(q.load(conn)?, limit))
}

/// The bank's reference as kept: trimmed, 1 to [`MAX_REFERENCE`] characters on one line.
pub fn reference(raw: &str) -> Result<String, MarketingError> {
    let r = raw.trim();
    if r.is_empty() || r.chars().count() > MAX_REFERENCE || r.chars().any(char::is_control) {
        return Err(MarketingError::PayoutReference);
    }
    Ok(r.to_string())
}

/// The idempotency key of the posting that pays `consumer`'s line of `batch`.
pub fn posting_key(batch: i64, consumer: i64) -> String {
    format!("payout:{batch}:{consumer}")
}

/// Marks batch `id` paid with the bank's `reference` and, in the same transaction, books one
/// posting per consumer moving the cash from what HQ owed them to HQ's bank going out
/// (`consumer:{id}:cash` → `hq:cash`, kind `payout`). Only an exported batch changes: a second
/// mark is `payout_paid` and books nothing.
pub fn mark_paid(
    conn: &mut DbConnection,
    id: i64,
    reference_text: &str,
    by: Option<i64>,
    at: NaiveDateTime,
) -> Result<BatchRow> {
    let reference = reference(reference_text).map_err(refused)?;
    in_transaction(conn, |c| {
        let changed = diesel::update(
            payout_batches::table
                .filter(payout_batches::id.eq(id))
                .filter(payout_batches::state.eq(EXPORTED)),
        )
        .set((
            payout_batches::state.eq(PAID),
            payout_batches::reference.eq(Some(&reference)),
            payout_batches::paid_at.eq(Some(at)),
            payout_batches::paid_by.eq(by),
        ))
        .execute(c)?;
        if changed == 0 {
            get(c, id)?;
            return Err(refused(MarketingError::PayoutPaid));
        }
        let postings = all_lines(c, id)?
            .into_iter()
            .map(|l| {
                Posting::transfers(
                    posting_key(id, l.consumer_id),
                    [(
                        Account::Consumer(l.consumer_id, ConsumerWallet::Cash),
                        Account::Hq(HqAccount::Cash),
                        money(l.cents),
                    )],
                )
                .map(|p| {
                    (
                        p,
                        Meta {
                            kind: crate::domain::network::PostingKind::Payout,
                            ..Meta::default()
                        },
                    )
                })
                .ok_or_else(|| Error::Internal(format!("payout {id}: an empty line")))
            })
            .collect::<Result<Vec<_>>>()?;
        ledger::book_all(c, &postings)?;
        get(c, id)
    })
}
