//! Idempotency keys (`Idempotency-Key` header) for requests that move money or stock: pay,
//! refund, ship, receive, cancel, withdraw, approve, … A client that sends the same key again —
//! a retry after a timeout, or a duplicate sent at the same moment — gets the first answer back
//! and nothing is booked twice.
//!
//! How: the key is claimed in the same database transaction as the write it guards (on SQLite
//! the same group-commit job, on PostgreSQL the same transaction), and the answer is stored
//! beside it before that transaction commits. So a crash leaves both or neither, and of two
//! concurrent requests with one key exactly one runs: the other finds the key (SQLite's single
//! writer runs them one after the other; PostgreSQL's unique index makes the second insert wait
//! for the first transaction and then find its row). A refused request stores nothing (its
//! transaction rolls back), so it may be retried with the same key once fixed.
//!
//! A key is scoped to the caller and the route (method and path template); the request's path
//! and body are hashed, and the same key with a different request is refused
//! ([`Error::IdempotencyKeyReused`]) rather than answered with another request's answer.

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::store::DbConnection;
use crate::store::idempotency::{self as store, KeyOf};
use crate::store::users::now;

/// Longest key accepted (as Stripe's; a UUID is 36).
pub const MAX_KEY_LEN: usize = 255;

/// How long a key is kept: 7 days. A client retries within minutes or hours (a timeout, a lost
/// connection, a job rerun the next morning), a browser resubmits a form within a session (12
/// hours by default): a week is longer than any retry, and still short enough that the table
/// stays small. After it a key is forgotten and the same key would run again; the postings'
/// own keys still book no business event twice.
pub const KEEP_DAYS: i64 = 7;

/// Keys deleted per housekeeping pass (every minute): far more than a minute's worth of keys,
/// and few enough that a pass holds the database writer only briefly.
const PRUNE_BATCH: i64 = 10_000;

/// Deletes keys older than [`KEEP_DAYS`] at `now` (at most [`PRUNE_BATCH`] a pass); returns how
/// many. Run by the server's housekeeping every minute.
pub fn prune(conn: &mut DbConnection, now: chrono::NaiveDateTime) -> Result<usize> {
    Ok(store::prune(
        conn,
        now - chrono::Duration::days(KEEP_DAYS),
        PRUNE_BATCH,
    )?)
}

/// One request's idempotency: the client's key, the route it is scoped to, and what the request
/// asked (its hash).
#[derive(Debug, Clone)]
pub struct Request {
    pub key: String,
    /// Method and route template: `POST /api/v1/orders/{id}/refund`.
    pub route: String,
    /// SHA-256 (hex) of the method, the concrete path and the parsed body.
    pub fingerprint: String,
}

impl Request {
    /// Checks the key (1 to 255 visible ASCII characters) and hashes the request.
    pub fn new(key: &str, method: &str, route: &str, path: &str, body: &str) -> Result<Request> {
        if key.is_empty() || key.len() > MAX_KEY_LEN || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Error::BadRequest(format!(
                "Idempotency-Key: give 1 to {MAX_KEY_LEN} visible ASCII characters \
                 (a UUID is a good key)"
            )));
        }
        let mut h = Sha256::new();
        for part in [method, path, body] {
            h.update(part.as_bytes());
            h.update([0u8]);
        }
        Ok(Request {
            key: key.to_string(),
            route: format!("{method} {route}"),
            fingerprint: h.finalize().iter().map(|b| format!("{b:02x}")).collect(),
        })
    }
}

/// An answer: HTTP status and JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: String,
    /// The stored answer to an earlier request with the same key: nothing was done now.
    pub replayed: bool,
}

/// Runs `f` (which writes, and answers `status` with a JSON body) once per key: the first time it
/// runs and its answer is stored with the key; afterwards the stored answer comes back and `f`
/// does not run. Must be called inside the write's transaction (`Db::write`).
pub fn once<T: serde::Serialize>(
    conn: &mut DbConnection,
    user: i64,
    req: &Request,
    status: u16,
    f: impl FnOnce(&mut DbConnection) -> Result<T>,
) -> Result<Answer> {
    once_answering(conn, user, req, |c| {
        let value = f(c)?;
        let body = serde_json::to_string(&value)
            .map_err(|e| Error::Internal(format!("cannot serialise an answer: {e}")))?;
        Ok((status, body))
    })
}

/// [`once`] for a write that picks its own answer: a status and a body (JSON for the API; for a
/// page, what its redirect needs).
pub fn once_answering(
    conn: &mut DbConnection,
    user: i64,
    req: &Request,
    f: impl FnOnce(&mut DbConnection) -> Result<(u16, String)>,
) -> Result<Answer> {
    let of = KeyOf {
        user,
        route: &req.route,
        key: &req.key,
    };
    if !store::claim(conn, of, &req.fingerprint, now())? {
        return stored(conn, of, req);
    }
    let (status, body) = f(conn)?;
    store::answer(conn, of, i32::from(status), &body)?;
    Ok(Answer {
        status,
        body,
        replayed: false,
    })
}

fn stored(conn: &mut DbConnection, of: KeyOf<'_>, req: &Request) -> Result<Answer> {
    let Some(row) = store::find(conn, of)? else {
        // Claimed by a transaction that then rolled back between our insert and our read: rare;
        // the client may simply retry.
        return Err(Error::refuse(
            "idempotency_unfinished",
            format!(
                "Idempotency-Key {:?}: the first request with it did not finish; retry",
                req.key
            ),
        ));
    };
    if row.request_sha256 != req.fingerprint {
        return Err(Error::IdempotencyKeyReused(format!(
            "Idempotency-Key {:?} was used for a different request to {}: nothing was done; \
             use a new key for a new request",
            req.key, req.route
        )));
    }
    match (row.response_status, row.response_body) {
        (Some(status), Some(body)) => Ok(Answer {
            status: u16::try_from(status).unwrap_or(200),
            body,
            replayed: true,
        }),
        _ => Err(Error::refuse(
            "idempotency_in_progress",
            format!(
                "Idempotency-Key {:?}: the first request with it is still being processed; retry",
                req.key
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked_and_requests_told_apart() {
        let a = Request::new("k-1", "POST", "/o/{id}/refund", "/o/1/refund", "{}").expect("ok");
        let b = Request::new("k-1", "POST", "/o/{id}/refund", "/o/2/refund", "{}").expect("ok");
        let c = Request::new("k-1", "POST", "/o/{id}/refund", "/o/1/refund", "{}").expect("ok");
        assert_eq!(a.route, "POST /o/{id}/refund");
        assert_ne!(
            a.fingerprint, b.fingerprint,
            "another order is another request"
        );
        assert_eq!(a.fingerprint, c.fingerprint);
        for bad in ["", "has space", "汉字", &"x".repeat(256)] {
            assert!(matches!(
                Request::new(bad, "POST", "/", "/", ""),
                Err(Error::BadRequest(_))
            ));
        }
    }
}
