//! The tables of a network import (issue 23): the import itself, what the file said of each
//! agent, opening frozen amounts waiting for their day, uploads awaiting confirmation; and the
//! bulk look-ups and inserts the use case `network_import` makes. Rows go in multi-row INSERTs
//! of 1,000 (a 100,000-agent file is a few hundred statements, not a few hundred thousand).

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::domain::joining::Status as ApplicationStatus;
use crate::domain::network::AgentStatus;
use crate::error::{Error, Result};
use crate::store::DbConnection;
use crate::store::levels::changes::ActivityRow;
use crate::store::levels::state::AgentLevelRow;
use crate::store::schema::{
    agent_levels, agent_regions, agents, applications, imported_agents, level_activity,
    network_import_uploads, network_imports, opening_frozen, products, users,
};
use crate::typed::Stored;

const CHUNK: usize = 1000;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = network_imports)]
pub struct ImportRow {
    pub id: i64,
    pub digest: String,
    pub file_names: String,
    pub agents: i64,
    pub balances: i64,
    pub orders: i64,
    pub activity: i64,
    pub opening_cents: i64,
    pub report: String,
    pub imported_at: NaiveDateTime,
    pub imported_by: Option<i64>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = network_imports)]
pub struct NewImport {
    pub digest: String,
    pub file_names: String,
    pub agents: i64,
    pub balances: i64,
    pub orders: i64,
    pub activity: i64,
    pub opening_cents: i64,
    pub report: String,
    pub imported_at: NaiveDateTime,
    pub imported_by: Option<i64>,
}

pub fn by_digest(conn: &mut DbConnection, digest: &str) -> Result<Option<ImportRow>> {
    Ok(network_imports::table
        .filter(network_imports::digest.eq(digest))
        .select(ImportRow::as_select())
        .load(conn)?
        .pop())
}

/// Records the import; a second import of the same digest is a conflict (the unique index).
pub fn insert_import(conn: &mut DbConnection, new: &NewImport) -> Result<ImportRow> {
    let insert = diesel::insert_into(network_imports::table).values(new);
    Ok(per_backend!(conn, |c| insert
        .returning(ImportRow::as_returning())
        .get_result(c))?)
}

/// Imports newest first, before the id `before` when given (the next page).
pub fn list(conn: &mut DbConnection, before: Option<i64>, limit: i64) -> Result<Vec<ImportRow>> {
    let mut q = network_imports::table
        .order(network_imports::id.desc())
        .limit(limit)
        .select(ImportRow::as_select())
        .into_boxed();
    if let Some(b) = before {
        q = q.filter(network_imports::id.lt(b));
    }
    Ok(q.load(conn)?)
}

pub fn get(conn: &mut DbConnection, id: i64) -> Result<ImportRow> {
    network_imports::table
        .filter(network_imports::id.eq(id))
        .select(ImportRow::as_select())
        .load(conn)?
        .pop()
        .ok_or_else(|| Error::not_found("import"))
}

/// Of `names`, the user names that exist: with the agent each signs in as, if any.
pub fn accounts(conn: &mut DbConnection, names: &[String]) -> Result<HashMap<String, Option<i64>>> {
    let mut out = HashMap::new();
    for chunk in names.chunks(CHUNK) {
        let rows: Vec<(String, Option<i64>)> = users::table
            .left_join(agents::table.on(agents::user_id.eq(users::id.nullable())))
            .filter(users::username.eq_any(chunk))
            .select((users::username, agents::id.nullable()))
            .load(conn)?;
        out.extend(rows);
    }
    Ok(out)
}

/// Of `phones`, those with a join application not rejected.
pub fn pending_phones(conn: &mut DbConnection, phones: &[String]) -> Result<HashSet<String>> {
    let mut out = HashSet::new();
    for chunk in phones.chunks(CHUNK) {
        let rows: Vec<String> = applications::table
            .filter(applications::phone.eq_any(chunk))
            .filter(applications::status.ne(Stored(ApplicationStatus::Rejected)))
            .select(applications::phone)
            .load(conn)?;
        out.extend(rows);
    }
    Ok(out)
}

/// The user name (phone) of each agent of `ids` that has an account.
pub fn phones_of(conn: &mut DbConnection, ids: &[i64]) -> Result<HashMap<i64, String>> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(CHUNK) {
        let rows: Vec<(i64, String)> = agents::table
            .inner_join(users::table.on(users::id.nullable().eq(agents::user_id)))
            .filter(agents::id.eq_any(chunk))
            .select((agents::id, users::username))
            .load(conn)?;
        out.extend(rows);
    }
    Ok(out)
}

/// Product ids of the SKUs that exist.
pub fn products_by_sku(conn: &mut DbConnection, skus: &[String]) -> Result<HashMap<String, i64>> {
    let mut out = HashMap::new();
    for chunk in skus.chunks(CHUNK) {
        let rows: Vec<(String, i64)> = products::table
            .filter(products::sku.eq_any(chunk))
            .select((products::sku, products::id))
            .load(conn)?;
        out.extend(rows);
    }
    Ok(out)
}

/// A new agent account: `password_hash` of its one-time password, to be changed at first
/// sign-in.
pub struct NewAccount<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
}

/// Inserts agent accounts; returns their ids by user name.
pub fn insert_accounts(
    conn: &mut DbConnection,
    rows: &[NewAccount<'_>],
    at: NaiveDateTime,
) -> Result<HashMap<String, i64>> {
    let mut out = HashMap::with_capacity(rows.len());
    for chunk in rows.chunks(CHUNK) {
        let values: Vec<_> = chunk
            .iter()
            .map(|r| {
                (
                    users::username.eq(r.username),
                    users::display_name.eq(r.display_name),
                    users::password_hash.eq(r.password_hash),
                    users::role.eq(Stored(crate::domain::Role::Agent)),
                    users::must_change_password.eq(true),
                    users::disabled.eq(false),
                    users::created_at.eq(at),
                )
            })
            .collect();
        let insert = diesel::insert_into(users::table)
            .values(values)
            .returning((users::username, users::id));
        let made: Vec<(String, i64)> = per_backend!(conn, |c| insert.get_results(c))?;
        out.extend(made);
    }
    Ok(out)
}

/// An agent row to insert: active or suspended, activated when it joined.
pub struct NewImportedAgent {
    pub user_id: i64,
    pub name: String,
    pub tier_rank: i32,
    pub referrer_id: Option<i64>,
    pub supplier_id: Option<i64>,
    pub region: String,
    pub status: AgentStatus,
    pub joined_at: NaiveDateTime,
    pub policy_version: i64,
}

/// Inserts agents; returns their ids by user id.
pub fn insert_agents(
    conn: &mut DbConnection,
    rows: &[NewImportedAgent],
) -> Result<HashMap<i64, i64>> {
    let mut out = HashMap::with_capacity(rows.len());
    for chunk in rows.chunks(CHUNK) {
        let values: Vec<_> = chunk
            .iter()
            .map(|a| {
                (
                    agents::user_id.eq(Some(a.user_id)),
                    agents::name.eq(a.name.clone()),
                    agents::tier_rank.eq(a.tier_rank),
                    agents::referrer_id.eq(a.referrer_id),
                    agents::supplier_id.eq(a.supplier_id),
                    agents::region.eq(a.region.clone()),
                    agents::status.eq(Stored(a.status)),
                    agents::joined_at.eq(a.joined_at),
                    agents::activated_at.eq(Some(a.joined_at)),
                    agents::activated_tier_rank.eq(Some(a.tier_rank)),
                    agents::policy_version.eq(a.policy_version),
                    agents::entry_paid_cents.eq(0i64),
                )
            })
            .collect();
        let insert = diesel::insert_into(agents::table)
            .values(values)
            .returning((agents::user_id.assume_not_null(), agents::id));
        let made: Vec<(i64, i64)> = per_backend!(conn, |c| insert.get_results(c))?;
        out.extend(made);
    }
    Ok(out)
}

pub fn insert_regions(conn: &mut DbConnection, rows: &[(i64, String)]) -> Result<()> {
    for chunk in rows.chunks(CHUNK) {
        let values: Vec<_> = chunk
            .iter()
            .map(|(agent, code)| {
                (
                    agent_regions::agent_id.eq(*agent),
                    agent_regions::region_code.eq(code.clone()),
                )
            })
            .collect();
        let insert = diesel::insert_into(agent_regions::table).values(values);
        per_backend!(conn, |c| insert.execute(c))?;
    }
    Ok(())
}

/// What the file said of an imported agent.
pub struct ImportedAgent {
    pub agent_id: i64,
    pub source_row: i64,
    pub phone: String,
    pub id_number: String,
    pub old_supplier: Option<String>,
}

pub fn insert_imported_agents(
    conn: &mut DbConnection,
    import_id: i64,
    rows: &[ImportedAgent],
) -> Result<()> {
    for chunk in rows.chunks(CHUNK) {
        let values: Vec<_> = chunk
            .iter()
            .map(|r| {
                (
                    imported_agents::agent_id.eq(r.agent_id),
                    imported_agents::import_id.eq(import_id),
                    imported_agents::source_row.eq(r.source_row),
                    imported_agents::phone.eq(r.phone.clone()),
                    imported_agents::id_number.eq(r.id_number.clone()),
                    imported_agents::old_supplier.eq(r.old_supplier.clone()),
                )
            })
            .collect();
        let insert = diesel::insert_into(imported_agents::table).values(values);
        per_backend!(conn, |c| insert.execute(c))?;
    }
    Ok(())
}

pub fn insert_levels(conn: &mut DbConnection, rows: &[AgentLevelRow]) -> Result<()> {
    for chunk in rows.chunks(CHUNK) {
        let insert = diesel::insert_into(agent_levels::table).values(chunk);
        per_backend!(conn, |c| insert.execute(c))?;
    }
    Ok(())
}

pub fn insert_activity(conn: &mut DbConnection, rows: &[ActivityRow]) -> Result<()> {
    for chunk in rows.chunks(CHUNK) {
        // Owned: the kind is written through `Stored` (`serialize_as`), which takes the value.
        let insert = diesel::insert_into(level_activity::table).values(chunk.to_vec());
        per_backend!(conn, |c| insert.execute(c))?;
    }
    Ok(())
}

pub fn insert_opening_frozen(
    conn: &mut DbConnection,
    import_id: i64,
    rows: &[(i64, i64, NaiveDate)],
) -> Result<()> {
    for chunk in rows.chunks(CHUNK) {
        let values: Vec<_> = chunk
            .iter()
            .map(|(agent, cents, on)| {
                (
                    opening_frozen::import_id.eq(import_id),
                    opening_frozen::agent_id.eq(*agent),
                    opening_frozen::amount_cents.eq(*cents),
                    opening_frozen::release_on.eq(*on),
                    opening_frozen::released_at.eq(None::<NaiveDateTime>),
                )
            })
            .collect();
        let insert = diesel::insert_into(opening_frozen::table).values(values);
        per_backend!(conn, |c| insert.execute(c))?;
    }
    Ok(())
}

/// An opening frozen amount due for release.
#[derive(Debug, Clone, Queryable)]
pub struct DueFrozen {
    pub id: i64,
    pub import_id: i64,
    pub agent_id: i64,
    pub amount_cents: i64,
}

/// Opening frozen amounts whose release day is `day` or earlier and not released yet, oldest
/// first.
pub fn frozen_due(conn: &mut DbConnection, day: NaiveDate, limit: i64) -> Result<Vec<DueFrozen>> {
    Ok(opening_frozen::table
        .filter(opening_frozen::released_at.is_null())
        .filter(opening_frozen::release_on.le(day))
        .order(opening_frozen::id)
        .limit(limit)
        .select((
            opening_frozen::id,
            opening_frozen::import_id,
            opening_frozen::agent_id,
            opening_frozen::amount_cents,
        ))
        .load(conn)?)
}

/// Marks opening frozen amounts released (only those not released yet).
pub fn mark_released(conn: &mut DbConnection, ids: &[i64], at: NaiveDateTime) -> Result<usize> {
    let mut n = 0;
    for chunk in ids.chunks(CHUNK) {
        n += diesel::update(
            opening_frozen::table
                .filter(opening_frozen::id.eq_any(chunk))
                .filter(opening_frozen::released_at.is_null()),
        )
        .set(opening_frozen::released_at.eq(Some(at)))
        .execute(conn)?;
    }
    Ok(n)
}

/// Keeps an upload for its confirmation.
pub fn save_upload(
    conn: &mut DbConnection,
    token: &str,
    user_id: i64,
    files: &str,
    at: NaiveDateTime,
) -> Result<()> {
    diesel::insert_into(network_import_uploads::table)
        .values((
            network_import_uploads::token.eq(token),
            network_import_uploads::user_id.eq(user_id),
            network_import_uploads::files.eq(files),
            network_import_uploads::created_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

/// The upload `token` of `user_id` (another user's upload is not found).
pub fn upload(conn: &mut DbConnection, token: &str, user_id: i64) -> Result<String> {
    network_import_uploads::table
        .filter(network_import_uploads::token.eq(token))
        .filter(network_import_uploads::user_id.eq(user_id))
        .select(network_import_uploads::files)
        .load::<String>(conn)?
        .pop()
        .ok_or_else(|| Error::not_found("upload"))
}

pub fn delete_upload(conn: &mut DbConnection, token: &str) -> Result<()> {
    diesel::delete(network_import_uploads::table.filter(network_import_uploads::token.eq(token)))
        .execute(conn)?;
    Ok(())
}

/// Forgets uploads older than `before` (never confirmed).
pub fn prune_uploads(conn: &mut DbConnection, before: NaiveDateTime) -> Result<usize> {
    Ok(diesel::delete(
        network_import_uploads::table.filter(network_import_uploads::created_at.lt(before)),
    )
    .execute(conn)?)
}
