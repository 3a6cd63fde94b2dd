//! Agents (代理): their rows, the referrer links between them, and the account each one signs in
//! with. Supplier recomputation is a use case (`network::agents`); this module loads the parts of
//! the graph it needs and saves the results.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::domain::network::{AgentStatus, OrderKind};
use crate::typed::Stored;

use crate::error::{Error, Result};
use crate::store::DbConnection;
use crate::store::schema::agents;
use crate::store::users::now;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = agents)]
pub struct AgentRow {
    pub id: i64,
    pub user_id: Option<i64>,
    pub name: String,
    pub tier_rank: i32,
    pub referrer_id: Option<i64>,
    /// `None`: HQ supplies this agent.
    pub supplier_id: Option<i64>,
    pub region: String,
    pub status: AgentStatus,
    pub joined_at: NaiveDateTime,
    pub activated_at: Option<NaiveDateTime>,
    pub activated_tier_rank: Option<i32>,
    pub policy_version: i64,
    pub entry_paid_cents: i64,
    /// Items bought by its entry order and top-ups (`entry_paid_cents` is their value at the
    /// prices on those orders); `None`: not kept (activated before it was, or imported).
    pub entry_items: Option<i64>,
}

impl AgentRow {
    pub fn is_active(&self) -> bool {
        self.status == AgentStatus::Active
    }
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = agents)]
pub struct NewAgent {
    pub user_id: Option<i64>,
    pub name: String,
    pub tier_rank: i32,
    pub referrer_id: Option<i64>,
    pub supplier_id: Option<i64>,
    pub region: String,
    pub status: Stored<AgentStatus>,
    pub joined_at: NaiveDateTime,
    pub activated_at: Option<NaiveDateTime>,
    pub activated_tier_rank: Option<i32>,
    pub policy_version: i64,
    pub entry_paid_cents: i64,
}

/// Inserts the agent and returns its row.
pub fn insert(conn: &mut DbConnection, new: &NewAgent) -> Result<AgentRow> {
    let insert = diesel::insert_into(agents::table).values(new);
    Ok(per_backend!(conn, |c| insert
        .returning(AgentRow::as_returning())
        .get_result(c))?)
}

pub fn find(conn: &mut DbConnection, id: i64) -> Result<Option<AgentRow>> {
    Ok(agents::table
        .filter(agents::id.eq(id))
        .select(AgentRow::as_select())
        .load(conn)?
        .pop())
}

/// The ids of the agents named exactly `name` (names are not unique: a page asking "which
/// agent" by name must say when several answer), at most `limit`.
pub fn ids_named(conn: &mut DbConnection, name: &str, limit: i64) -> Result<Vec<i64>> {
    Ok(agents::table
        .filter(agents::name.eq(name))
        .order(agents::id)
        .limit(limit)
        .select(agents::id)
        .load(conn)?)
}

pub fn get(conn: &mut DbConnection, id: i64) -> Result<AgentRow> {
    find(conn, id)?.ok_or_else(|| Error::not_found("agent"))
}

/// The agent a user account signs in as.
pub fn by_user(conn: &mut DbConnection, user_id: i64) -> Result<Option<AgentRow>> {
    Ok(agents::table
        .filter(agents::user_id.eq(user_id))
        .select(AgentRow::as_select())
        .load(conn)?
        .pop())
}

/// A page of agents by id, optionally only one status.
pub fn list(
    conn: &mut DbConnection,
    status: Option<AgentStatus>,
    after_id: i64,
    limit: i64,
) -> Result<Vec<AgentRow>> {
    let mut q = agents::table
        .filter(agents::id.gt(after_id))
        .order(agents::id)
        .limit(limit)
        .select(AgentRow::as_select())
        .into_boxed();
    if let Some(s) = status {
        q = q.filter(agents::status.eq(Stored(s)));
    }
    Ok(q.load(conn)?)
}

/// The agents whose referrer is one of `ids`.
pub fn referred_by(conn: &mut DbConnection, ids: &[i64]) -> Result<Vec<AgentRow>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        out.extend(
            agents::table
                .filter(agents::referrer_id.eq_any(chunk))
                .select(AgentRow::as_select())
                .load(conn)?,
        );
    }
    Ok(out)
}

/// The tiers at which the agents `id` referred were activated (for its upgrade).
pub fn referred_activation_tiers(conn: &mut DbConnection, id: i64) -> Result<Vec<i32>> {
    Ok(agents::table
        .filter(agents::referrer_id.eq(id))
        .filter(agents::activated_tier_rank.is_not_null())
        .select(agents::activated_tier_rank.assume_not_null())
        .load(conn)?)
}

/// `id` and its referrer chain, nearest first, loaded row by row (chains are short); stops at a
/// repeat so a corrupt chain cannot loop here.
pub fn with_ancestors(conn: &mut DbConnection, id: i64) -> Result<Vec<AgentRow>> {
    let mut out: Vec<AgentRow> = Vec::new();
    let mut next = Some(id);
    while let Some(at) = next {
        if out.iter().any(|a| a.id == at) {
            break;
        }
        let row = get(conn, at)?;
        next = row.referrer_id;
        out.push(row);
    }
    Ok(out)
}

/// `id` and every agent with it in their referrer chain (its whole referral subtree).
pub fn with_descendants(conn: &mut DbConnection, id: i64) -> Result<Vec<AgentRow>> {
    let mut all: HashMap<i64, AgentRow> = HashMap::new();
    let root = get(conn, id)?;
    all.insert(root.id, root);
    let mut frontier = vec![id];
    while !frontier.is_empty() {
        let children = referred_by(conn, &frontier)?;
        frontier = Vec::new();
        for c in children {
            if let Entry::Vacant(slot) = all.entry(c.id) {
                frontier.push(c.id);
                slot.insert(c);
            }
        }
    }
    let mut rows: Vec<AgentRow> = all.into_values().collect();
    rows.sort_by_key(|a| a.id);
    Ok(rows)
}

pub fn set_supplier(conn: &mut DbConnection, id: i64, supplier: Option<i64>) -> Result<()> {
    diesel::update(agents::table.filter(agents::id.eq(id)))
        .set(agents::supplier_id.eq(supplier))
        .execute(conn)?;
    Ok(())
}

pub fn set_referrer(conn: &mut DbConnection, id: i64, referrer: i64) -> Result<()> {
    diesel::update(agents::table.filter(agents::id.eq(id)))
        .set(agents::referrer_id.eq(Some(referrer)))
        .execute(conn)?;
    Ok(())
}

/// Sets the agent's authorised region (a GB/T 2260 code the caller has checked).
pub fn set_region(conn: &mut DbConnection, id: i64, region: &str) -> Result<()> {
    diesel::update(agents::table.filter(agents::id.eq(id)))
        .set(agents::region.eq(region))
        .execute(conn)?;
    Ok(())
}

/// Moves the agent from status `from` to `to`; false when it was not in `from` (someone else
/// changed it first).
pub fn change_status(
    conn: &mut DbConnection,
    id: i64,
    from: AgentStatus,
    to: AgentStatus,
) -> Result<bool> {
    let n = diesel::update(
        agents::table
            .filter(agents::id.eq(id))
            .filter(agents::status.eq(Stored(from))),
    )
    .set(agents::status.eq(Stored(to)))
    .execute(conn)?;
    Ok(n == 1)
}

/// The entry order was paid: the agent is active at `tier_rank`.
pub fn activate(
    conn: &mut DbConnection,
    id: i64,
    tier_rank: i32,
    entry_paid_cents: i64,
) -> Result<bool> {
    let n = diesel::update(
        agents::table
            .filter(agents::id.eq(id))
            .filter(agents::status.eq(Stored(AgentStatus::Pending))),
    )
    .set((
        agents::status.eq(Stored(AgentStatus::Active)),
        agents::activated_at.eq(Some(now())),
        agents::activated_tier_rank.eq(Some(tier_rank)),
        agents::entry_paid_cents.eq(entry_paid_cents),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Records how many items the agent's entry order and top-ups bought (see `entry_items`).
pub fn set_entry_items(conn: &mut DbConnection, id: i64, items: i64) -> Result<()> {
    diesel::update(agents::table.filter(agents::id.eq(id)))
        .set(agents::entry_items.eq(Some(items)))
        .execute(conn)?;
    Ok(())
}

/// An upgrade takes effect (DOMAIN §5): the agent moves from tier `from` to `to`, with what it
/// has now paid to enter. Conditional on its tier still being `from`, so of two concurrent
/// upgrades one moves it and the other is told (`false`).
pub fn upgrade_tier(
    conn: &mut DbConnection,
    id: i64,
    from: i32,
    to: i32,
    entry_paid_cents: i64,
    policy_version: i64,
) -> Result<bool> {
    let n = diesel::update(
        agents::table
            .filter(agents::id.eq(id))
            .filter(agents::tier_rank.eq(from)),
    )
    .set((
        agents::tier_rank.eq(to),
        agents::entry_paid_cents.eq(entry_paid_cents),
        agents::policy_version.eq(policy_version),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// The agent moves to `tier_rank` (a level engine's decision).
pub fn set_tier(
    conn: &mut DbConnection,
    id: i64,
    tier_rank: i32,
    entry_paid_cents: i64,
    policy_version: i64,
) -> Result<()> {
    diesel::update(agents::table.filter(agents::id.eq(id)))
        .set((
            agents::tier_rank.eq(tier_rank),
            agents::entry_paid_cents.eq(entry_paid_cents),
            agents::policy_version.eq(policy_version),
        ))
        .execute(conn)?;
    Ok(())
}

/// The deepest tier rank any agent holds (`None`: no agents).
pub fn deepest_tier_rank(conn: &mut DbConnection) -> Result<Option<i32>> {
    Ok(agents::table
        .select(diesel::dsl::max(agents::tier_rank))
        .get_result(conn)?)
}

/// Every agent's id and referrer, by id: the referral tree.
pub fn referral_links(conn: &mut DbConnection) -> Result<Vec<(i64, Option<i64>)>> {
    Ok(agents::table
        .select((agents::id, agents::referrer_id))
        .order(agents::id)
        .load(conn)?)
}

/// How many agents are active.
pub fn count_active(conn: &mut DbConnection) -> Result<i64> {
    Ok(agents::table
        .filter(agents::status.eq(Stored(AgentStatus::Active)))
        .count()
        .get_result(conn)?)
}

/// Whether an agent with this id exists (in any state).
pub fn exists(conn: &mut DbConnection, id: i64) -> Result<bool> {
    Ok(!agents::table
        .filter(agents::id.eq(id))
        .select(agents::id)
        .load::<i64>(conn)?
        .is_empty())
}

/// When the agent's last paid top-up (a seed-004 upgrade order) was paid, if it had one.
pub fn last_paid_upgrade(conn: &mut DbConnection, agent: i64) -> Result<Option<NaiveDateTime>> {
    use crate::store::schema::restock_orders;
    Ok(restock_orders::table
        .filter(restock_orders::buyer_id.eq(agent))
        .filter(restock_orders::kind.eq(Stored(OrderKind::Upgrade)))
        .select(diesel::dsl::max(restock_orders::paid_at))
        .get_result(conn)?)
}

/// How many active agents hold each tier rank, by rank.
pub fn count_active_by_tier(conn: &mut DbConnection) -> Result<Vec<(i32, i64)>> {
    Ok(agents::table
        .filter(agents::status.eq(Stored(AgentStatus::Active)))
        .group_by(agents::tier_rank)
        .select((agents::tier_rank, diesel::dsl::count_star()))
        .order(agents::tier_rank)
        .load(conn)?)
}
