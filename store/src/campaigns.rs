//! Scan-marketing campaigns (扫码营销, issue 21) as HQ's desk keeps them: a campaign and its
//! prizes made from a checked [`CampaignDraft`], the list, one campaign with its prizes' stock
//! left, its start, pause and end (a conditional update on the state it was read in), and the
//! dashboard's sums of `campaign_days`. The reward engine (verification) spends the budget and
//! the stock; nothing here does.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Text};

use crate::desk::{Page, contains};
use crate::domain::Refusal;
use crate::domain::marketing::{
    CampaignAction, CampaignDraft, CampaignState, MarketingError, Prize, PrizeKind, Scope,
};
use crate::error::{Error, Result};
use crate::schema::{campaign_prizes, campaigns};
use crate::typed::Stored;
use crate::{DbConnection, in_transaction};

/// A rule of scan marketing refusing, under its stable code (`campaign_transition`, …), so the
/// server maps it to a refusal in words like any other.
pub fn refused(e: MarketingError) -> Error {
    Error::conflict(e.code(), e.to_string())
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = campaigns)]
pub struct CampaignRow {
    pub id: i64,
    pub name: String,
    pub state: CampaignState,
    /// Space-separated; empty for every product.
    pub skus: String,
    pub batches: String,
    /// GB/T 2260 codes, space-separated; empty for everywhere.
    pub regions: String,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub budget_cents: i64,
    /// What the rewards drawn cost, as settled (a second or so behind the draws). The column
    /// itself also counts what the servers' leases hold of the budget (`marketing::take_lease`),
    /// so [`page`] and [`get`] put the rewards' cost in its place.
    pub spent_cents: i64,
    pub daily_limit: i32,
    pub lottery: bool,
    pub created_at: NaiveDateTime,
    pub created_by: Option<i64>,
    pub updated_at: NaiveDateTime,
}

fn words(list: &str) -> Vec<String> {
    list.split_whitespace().map(str::to_string).collect()
}

impl CampaignRow {
    /// What the campaign rewards, as the domain reads it.
    pub fn scope(&self) -> Scope {
        Scope {
            skus: words(&self.skus),
            batches: words(&self.batches),
            regions: words(&self.regions),
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = campaign_prizes)]
pub struct PrizeRow {
    pub id: i64,
    pub campaign_id: i64,
    /// 1-based, the order the odds are walked in.
    pub position: i32,
    pub name: String,
    pub kind: PrizeKind,
    pub points: i64,
    pub min_cents: i64,
    pub max_cents: i64,
    pub odds_bp: i32,
    /// `None`: as many as the budget allows.
    pub stock: Option<i64>,
    pub remaining: Option<i64>,
}

impl PrizeRow {
    pub fn prize(&self) -> Prize {
        Prize {
            name: self.name.clone(),
            kind: self.kind,
            points: self.points,
            min_cents: self.min_cents,
            max_cents: self.max_cents,
            odds_bp: self.odds_bp.max(0) as u32,
            stock: self.stock,
        }
    }
}

/// Stores a campaign in the draft state with its prizes (each prize's `remaining` its `stock`),
/// in one transaction. The draft is checked again here, so no caller can store a campaign the
/// rules refuse (a refusal stores nothing).
pub fn create(
    conn: &mut DbConnection,
    draft: &CampaignDraft,
    by: Option<i64>,
    at: NaiveDateTime,
) -> Result<CampaignRow> {
    draft.check().map_err(refused)?;
    let budget = draft
        .budget_cents()
        .ok_or_else(|| refused(MarketingError::Budget))?;
    in_transaction(conn, |c| {
        let row: CampaignRow = diesel::insert_into(campaigns::table)
            .values((
                campaigns::name.eq(draft.name.trim()),
                campaigns::state.eq(Stored(CampaignState::Draft)),
                campaigns::skus.eq(draft.scope.skus.join(" ")),
                campaigns::batches.eq(draft.scope.batches.join(" ")),
                campaigns::regions.eq(draft.scope.regions.join(" ")),
                campaigns::starts_at.eq(draft.starts_at),
                campaigns::ends_at.eq(draft.ends_at),
                campaigns::budget_cents.eq(budget),
                campaigns::spent_cents.eq(0i64),
                campaigns::daily_limit.eq(draft.daily_limit),
                campaigns::lottery.eq(draft.lottery),
                campaigns::created_at.eq(at),
                campaigns::created_by.eq(by),
                campaigns::updated_at.eq(at),
            ))
            .returning(campaigns::all_columns)
            .get_result(c)?;
        for (i, p) in draft.prizes.iter().enumerate() {
            diesel::insert_into(campaign_prizes::table)
                .values((
                    campaign_prizes::campaign_id.eq(row.id),
                    campaign_prizes::position.eq(i as i32 + 1),
                    campaign_prizes::name.eq(p.name.trim()),
                    campaign_prizes::kind.eq(Stored(p.kind)),
                    campaign_prizes::points.eq(p.points),
                    campaign_prizes::min_cents.eq(p.min_cents),
                    campaign_prizes::max_cents.eq(p.max_cents),
                    campaign_prizes::odds_bp.eq(p.odds_bp as i32),
                    campaign_prizes::stock.eq(p.stock),
                    campaign_prizes::remaining.eq(p.stock),
                ))
                .execute(c)?;
        }
        Ok(row)
    })
}

/// Campaigns, newest first, whose name contains `search`, in `state` if given: one page
/// (`limit + 1` rows fetched, see [`Page`]), one query.
pub fn page(
    conn: &mut DbConnection,
    search: Option<&str>,
    state: Option<CampaignState>,
    offset: i64,
    limit: i64,
) -> Result<Page<CampaignRow>> {
    let mut q = campaigns::table
        .order(campaigns::id.desc())
        .offset(offset)
        .limit(limit + 1)
        .select(CampaignRow::as_select())
        .into_boxed();
    if let Some(s) = search.map(str::trim).filter(|s| !s.is_empty()) {
        q = q.filter(campaigns::name.like(contains(s)).escape('\\'));
    }
    if let Some(state) = state {
        q = q.filter(campaigns::state.eq(Stored(state)));
    }
    let mut rows = q.load(conn)?;
    with_cost(conn, &mut rows)?;
    Ok(Page::of_rows(rows, limit))
}

/// Puts what their rewards cost in the rows' `spent_cents` (see [`CampaignRow::spent_cents`]).
fn with_cost(conn: &mut DbConnection, rows: &mut [CampaignRow]) -> Result<()> {
    #[derive(QueryableByName)]
    struct Cost {
        #[diesel(sql_type = BigInt)]
        campaign_id: i64,
        #[diesel(sql_type = BigInt)]
        cost_cents: i64,
    }
    if rows.is_empty() {
        return Ok(());
    }
    // Ids are numbers read from the table, written into the statement as such.
    let ids: Vec<String> = rows.iter().map(|r| r.id.to_string()).collect();
    let sql = format!(
        "SELECT campaign_id, CAST(COALESCE(SUM(cost_cents), 0) AS BIGINT) AS cost_cents \
         FROM campaign_days WHERE campaign_id IN ({}) GROUP BY campaign_id",
        ids.join(", ")
    );
    let costs: Vec<Cost> = match conn {
        DbConnection::Sqlite(c) => diesel::sql_query(sql).load(c)?,
        DbConnection::Postgres(c) => diesel::sql_query(sql).load(c)?,
    };
    for row in rows.iter_mut() {
        row.spent_cents = costs
            .iter()
            .find(|c| c.campaign_id == row.id)
            .map_or(0, |c| c.cost_cents);
    }
    Ok(())
}

/// Campaign `id` and its prizes in their order.
pub fn get(conn: &mut DbConnection, id: i64) -> Result<(CampaignRow, Vec<PrizeRow>)> {
    let row = campaigns::table
        .find(id)
        .select(CampaignRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| Error::not_found("campaign"))?;
    let mut row = [row];
    with_cost(conn, &mut row)?;
    let [row] = row;
    let prizes = campaign_prizes::table
        .filter(campaign_prizes::campaign_id.eq(id))
        .order(campaign_prizes::position)
        .select(PrizeRow::as_select())
        .load(conn)?;
    Ok((row, prizes))
}

/// Takes `action` on campaign `id`: the new state is written only if the campaign is still in
/// the state the rule was decided on, so of two admins acting at once one makes the transition
/// and the other is answered from the state the first left (`campaign_transition` when the
/// action no longer applies).
pub fn apply(
    conn: &mut DbConnection,
    id: i64,
    action: CampaignAction,
    at: NaiveDateTime,
) -> Result<CampaignState> {
    // Each lost race means another admin changed the state; there are three states to pass
    // through at most.
    for _ in 0..4 {
        let from: CampaignState = campaigns::table
            .find(id)
            .select(campaigns::state)
            .first(conn)
            .optional()?
            .ok_or_else(|| Error::not_found("campaign"))?;
        let to = action.apply(from).map_err(refused)?;
        let changed = diesel::update(
            campaigns::table
                .filter(campaigns::id.eq(id))
                .filter(campaigns::state.eq(Stored(from))),
        )
        .set((
            campaigns::state.eq(Stored(to)),
            campaigns::updated_at.eq(at),
        ))
        .execute(conn)?;
        if changed == 1 {
            return Ok(to);
        }
    }
    Err(Error::Unavailable(
        "the campaign's state keeps changing; try again".into(),
    ))
}

/// The dashboard's counters summed over a group of `campaign_days` rows.
#[derive(Debug, Clone, Default, PartialEq, Eq, QueryableByName)]
pub struct Counts {
    #[diesel(sql_type = BigInt)]
    pub scans: i64,
    #[diesel(sql_type = BigInt)]
    pub rewards: i64,
    #[diesel(sql_type = BigInt)]
    pub claimed: i64,
    #[diesel(sql_type = BigInt)]
    pub cost_cents: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct DayCounts {
    /// The day in China (UTC+8).
    #[diesel(sql_type = Date)]
    pub day: NaiveDate,
    #[diesel(embed)]
    pub counts: Counts,
}

#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct ProvinceCounts {
    /// `xx0000`, or the text the engine used for an unknown place.
    #[diesel(sql_type = Text)]
    pub province: String,
    #[diesel(embed)]
    pub counts: Counts,
}

const SUMS: &str = "CAST(COALESCE(SUM(scans), 0) AS BIGINT) AS scans, \
    CAST(COALESCE(SUM(rewards), 0) AS BIGINT) AS rewards, \
    CAST(COALESCE(SUM(claimed), 0) AS BIGINT) AS claimed, \
    CAST(COALESCE(SUM(cost_cents), 0) AS BIGINT) AS cost_cents";

/// `SELECT {columns}sums FROM campaign_days WHERE campaign_id = ? {rest}` on either backend
/// (the two write their bind parameters differently).
fn sums<T>(conn: &mut DbConnection, columns: &str, id: i64, rest: &str) -> Result<Vec<T>>
where
    T: QueryableByName<diesel::sqlite::Sqlite> + QueryableByName<diesel::pg::Pg> + 'static,
{
    let sql = |p: &str| {
        format!("SELECT {columns}{SUMS} FROM campaign_days WHERE campaign_id = {p} {rest}")
    };
    Ok(match conn {
        DbConnection::Sqlite(c) => diesel::sql_query(sql("?")).bind::<BigInt, _>(id).load(c)?,
        DbConnection::Postgres(c) => diesel::sql_query(sql("$1")).bind::<BigInt, _>(id).load(c)?,
    })
}

/// Campaign `id`'s counters per day, oldest first.
pub fn by_day(conn: &mut DbConnection, id: i64) -> Result<Vec<DayCounts>> {
    sums(conn, "day, ", id, "GROUP BY day ORDER BY day")
}

/// Campaign `id`'s counters per province, most scans first.
pub fn by_province(conn: &mut DbConnection, id: i64) -> Result<Vec<ProvinceCounts>> {
    sums(
        conn,
        "province, ",
        id,
        "GROUP BY province ORDER BY scans DESC, province",
    )
}

/// Campaign `id`'s counters over its whole life.
pub fn totals(conn: &mut DbConnection, id: i64) -> Result<Counts> {
    Ok(sums::<Counts>(conn, "", id, "")?.pop().unwrap_or_default())
}
