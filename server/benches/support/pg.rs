//! PostgreSQL for the benchmarks that can run on it.

use diesel::Connection;
use diesel::connection::SimpleConnection;

/// Creates database `name` afresh on the server `admin` names (dropping any left by an earlier
/// run); returns its URL.
pub fn fresh_database(admin: &str, name: &str) -> anyhow::Result<String> {
    let mut conn = diesel::PgConnection::establish(admin)?;
    conn.batch_execute(&format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE); CREATE DATABASE {name}"
    ))
    // Servers that refuse both in one batch (the DROP runs outside a transaction) get two.
    .or_else(|_| {
        conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))?;
        conn.batch_execute(&format!("CREATE DATABASE {name}"))
    })?;
    Ok(url_of(admin, name))
}

/// The URL of database `name` on the server `admin` names, if it exists (a benchmark reusing
/// its imported codes).
#[allow(dead_code)] // not every benchmark including this reuses databases
pub fn existing_database(admin: &str, name: &str) -> Option<String> {
    let url = url_of(admin, name);
    diesel::PgConnection::establish(&url).ok().map(|_| url)
}

fn url_of(admin: &str, name: &str) -> String {
    let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(admin);
    format!("{base}/{name}")
}
