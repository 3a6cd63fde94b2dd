//! Facts about the database shared by every server instance on it (`server_facts`).

use diesel::prelude::*;

use super::DbConnection;
use super::schema::server_facts;
use crate::error::Result;

/// The value of `name`; if it has none yet, `make()` becomes it. Two instances racing here both
/// end with the value that was stored first.
pub fn get_or_init(
    conn: &mut DbConnection,
    name: &str,
    make: impl FnOnce() -> String,
) -> Result<String> {
    let insert = diesel::insert_into(server_facts::table)
        .values((server_facts::name.eq(name), server_facts::value.eq(make())))
        .on_conflict(server_facts::name)
        .do_nothing();
    per_backend!(conn, |c| insert.execute(c))?;
    Ok(server_facts::table
        .find(name)
        .select(server_facts::value)
        .first(conn)?)
}
