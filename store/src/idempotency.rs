//! Idempotency keys of requests that move money or stock: one row per (user, route, key), with a
//! hash of the request and, once answered, the answer. Written inside the transaction of the write
//! it guards (see `crate::idempotency`), so a key and its booking commit together or not at all.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::error::Result;
use crate::store::DbConnection;
use crate::store::schema::idempotency_keys as k;

/// Which request a key belongs to.
#[derive(Debug, Clone, Copy)]
pub struct KeyOf<'a> {
    pub user: i64,
    /// Method and route template, e.g. `POST /api/v1/orders/{id}/refund`.
    pub route: &'a str,
    pub key: &'a str,
}

/// A key as stored.
#[derive(Debug, Clone, Queryable)]
pub struct StoredKey {
    pub request_sha256: String,
    pub response_status: Option<i32>,
    pub response_body: Option<String>,
}

/// Inserts the key for this request unless it is there already; `true` when this call inserted
/// it. On PostgreSQL a concurrent transaction holding the same key makes this wait until that
/// one ends: then it inserts (the other rolled back) or finds the key (the other committed).
pub fn claim(
    conn: &mut DbConnection,
    of: KeyOf<'_>,
    request_sha256: &str,
    at: NaiveDateTime,
) -> Result<bool> {
    let insert = diesel::insert_into(k::table)
        .values((
            k::user_id.eq(of.user),
            k::route.eq(of.route),
            k::idem_key.eq(of.key),
            k::request_sha256.eq(request_sha256),
            k::created_at.eq(at),
        ))
        .on_conflict((k::user_id, k::route, k::idem_key))
        .do_nothing();
    let n = per_backend!(conn, |c| insert.execute(c))?;
    Ok(n == 1)
}

/// The stored key, if any.
pub fn find(conn: &mut DbConnection, of: KeyOf<'_>) -> Result<Option<StoredKey>> {
    Ok(k::table
        .filter(k::user_id.eq(of.user))
        .filter(k::route.eq(of.route))
        .filter(k::idem_key.eq(of.key))
        .select((k::request_sha256, k::response_status, k::response_body))
        .first(conn)
        .optional()?)
}

/// Stores the answer given to the request that claimed the key.
pub fn answer(conn: &mut DbConnection, of: KeyOf<'_>, status: i32, body: &str) -> Result<()> {
    diesel::update(
        k::table
            .filter(k::user_id.eq(of.user))
            .filter(k::route.eq(of.route))
            .filter(k::idem_key.eq(of.key)),
    )
    .set((
        k::response_status.eq(Some(status)),
        k::response_body.eq(Some(body)),
    ))
    .execute(conn)?;
    Ok(())
}

/// Deletes up to `limit` keys created before `before` (lowest ids first); returns how many.
/// Bounded so one pass holds the writer briefly: what is left goes on the next pass. Uses the
/// `idempotency_keys_created` index.
pub fn prune(conn: &mut DbConnection, before: NaiveDateTime, limit: i64) -> Result<usize> {
    // The `limit`-th expired id bounds the delete (diesel's DELETE takes no subquery with LIMIT,
    // and an IN list of every id could pass SQLite's limit on parameters).
    let ids: Vec<i64> = k::table
        .select(k::id)
        .filter(k::created_at.lt(before))
        .order(k::id)
        .limit(limit)
        .load(conn)?;
    let Some(last) = ids.last() else {
        return Ok(0);
    };
    Ok(diesel::delete(
        k::table
            .filter(k::created_at.lt(before))
            .filter(k::id.le(last)),
    )
    .execute(conn)?)
}
