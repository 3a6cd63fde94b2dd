//! A fresh PostgreSQL database for one scenario, on the server `./scripts/test` starts
//! (`CHAINMARK_TEST_DATABASE_URL`); dropped with the value.

use diesel::Connection;
use diesel::connection::SimpleConnection;

/// A database of its own; `url` is what the servers get as `CHAINMARK_DATABASE_URL`.
pub struct PgDatabase {
    pub url: String,
    admin: String,
    name: String,
}

impl PgDatabase {
    /// A new empty database, or `None` (with a message) without PostgreSQL outside CI; under
    /// CI=true a missing PostgreSQL fails the test.
    pub fn create() -> Option<PgDatabase> {
        let admin = match std::env::var("CHAINMARK_TEST_DATABASE_URL") {
            Ok(url) if !url.is_empty() => url,
            _ => {
                assert!(
                    !crate::ci(),
                    "CI=true but CHAINMARK_TEST_DATABASE_URL is not set: run ./scripts/test"
                );
                eprintln!("SKIPPED: CHAINMARK_TEST_DATABASE_URL is not set");
                return None;
            }
        };
        let name = format!("cm_e2e_{:016x}", crate::random_u64());
        let mut conn = diesel::PgConnection::establish(&admin)
            .unwrap_or_else(|e| panic!("cannot reach PostgreSQL: {e}"));
        conn.batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create database");
        // The admin URL names a database (…/postgres): the same server, another database.
        let base = admin
            .rsplit_once('/')
            .filter(|(b, _)| b.contains("://") && !b.ends_with('/'))
            .map_or(admin.as_str(), |(b, _)| b);
        Some(PgDatabase {
            url: format!("{base}/{name}"),
            admin,
            name,
        })
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if let Ok(mut conn) = diesel::PgConnection::establish(&self.admin) {
            let _ = conn.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}
