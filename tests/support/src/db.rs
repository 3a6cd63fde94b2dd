//! A fresh database per test on each backend. Every store-touching test runs against SQLite and
//! PostgreSQL (DOMAIN's rules must hold on both). PostgreSQL comes from
//! CHAINMARK_TEST_DATABASE_URL (./scripts/test starts one); without it the PostgreSQL half is
//! skipped with a message, except under CI=true, where that fails the test.

use chainmark_store::{Db, Error, PooledConn};
use tempfile::TempDir;

use crate::postgres::PgDatabase;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The backends to run on: SQLite always, PostgreSQL when configured (required under CI).
pub fn backends() -> Vec<Backend> {
    let mut all = vec![Backend::Sqlite];
    match std::env::var("CHAINMARK_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => all.push(Backend::Postgres),
        _ if crate::ci() => {
            panic!(
                "CI=true but CHAINMARK_TEST_DATABASE_URL is not set: run ./scripts/test, which starts PostgreSQL"
            )
        }
        _ => eprintln!(
            "note: CHAINMARK_TEST_DATABASE_URL not set, skipping the PostgreSQL half (./scripts/test sets it)"
        ),
    }
    all
}

/// A migrated database of its own for one test; dropped with it. `E` is the error type its
/// [`Db`] answers in (the server's tests use the server's).
pub struct TestDb<E = Error> {
    pub db: Db<E>,
    pub url: String,
    pub backend: Backend,
    _dir: Option<TempDir>,
    _pg: Option<PgDatabase>,
}

impl<E: From<Error> + std::fmt::Debug + Send + 'static> TestDb<E> {
    pub fn new(backend: Backend) -> TestDb<E> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("test.db").display());
                let db = Db::open(&url, 4).expect("open sqlite");
                db.migrate().expect("migrate sqlite");
                TestDb {
                    db,
                    url,
                    backend,
                    _dir: Some(dir),
                    _pg: None,
                }
            }
            Backend::Postgres => {
                let pg = PgDatabase::create().expect("CHAINMARK_TEST_DATABASE_URL");
                let url = pg.url.clone();
                let db = Db::open(&url, 4).expect("open postgres");
                db.migrate().expect("migrate postgres");
                TestDb {
                    db,
                    url,
                    backend,
                    _dir: None,
                    _pg: Some(pg),
                }
            }
        }
    }

    pub fn conn(&self) -> PooledConn {
        self.db.get().expect("connection")
    }
}
