//! One connection type over both backends, its pool, and the bridge off the async runtime.

use std::marker::PhantomData;
use std::time::Duration;

use diesel::Connection;
use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::checkpoint::{BACKSTOP_PAGES, Checkpointer, Restart};
use super::group_commit::GroupCommit;
use crate::error::{Error, Result};

/// A connection to whichever database the URL names: `sqlite://…`/a file path, or `postgres://…`.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgres(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

pub type DbPool = Pool<ConnectionManager<DbConnection>>;
pub type PooledConn = PooledConnection<ConnectionManager<DbConnection>>;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/postgres");

/// Which backend a URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of_url(url: &str) -> Backend {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }
}

/// SQLite wants a few pragmas on every connection: WAL so readers never wait for the writer,
/// a busy timeout so writers queue instead of failing, foreign keys (off by default), and
/// memory-mapped reads with a 16 MiB page cache: without them every page of a lookup is a `pread`
/// system call, which dominated verification time.
#[derive(Debug)]
struct SqlitePragmas;

impl CustomizeConnection<DbConnection, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut DbConnection) -> std::result::Result<(), diesel::r2d2::Error> {
        if let DbConnection::Sqlite(_) = conn {
            conn.batch_execute(&format!(
                // busy_timeout first: the pool opens connections concurrently, and switching to
                // WAL takes a lock that the others must wait for rather than fail on. Checkpoints
                // are a background thread's job (`checkpoint`); the automatic one is a backstop.
                "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; \
                 PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                 PRAGMA mmap_size = 1073741824; PRAGMA cache_size = -16384; \
                 PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = {BACKSTOP_PAGES};"
            ))
            .map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

/// The database: a pool plus the backend it talks to.
///
/// On SQLite, writes go through a second pool of exactly one connection: SQLite has one writer at
/// a time anyway, and queueing writers here (fairly, in memory) is far cheaper than having them
/// spin in SQLite's busy handler. Async writes are grouped into shared transactions by
/// [`GroupCommit`]. Reads use the main pool and never wait for writers (WAL).
///
/// `E` is the error type of the work handed to [`Db::run`] and [`Db::write`] and of everything
/// they return: the store's own [`Error`] here, the server's error in the server (which names
/// `Db<chainmark_server::Error>` simply `Db`), so a use case's closure mixes store calls and its
/// own refusals with `?`.
pub struct Db<E = Error> {
    pool: DbPool,
    writer: Option<DbPool>,
    group: Option<GroupCommit>,
    /// SQLite: copies the WAL back off the writer's path.
    _checkpointer: Option<Checkpointer>,
    backend: Backend,
    _error: PhantomData<fn() -> E>,
}

impl<E> Clone for Db<E> {
    fn clone(&self) -> Self {
        Db {
            pool: self.pool.clone(),
            writer: self.writer.clone(),
            group: self.group.clone(),
            _checkpointer: self._checkpointer.clone(),
            backend: self.backend,
            _error: PhantomData,
        }
    }
}

impl<E: From<Error> + Send + 'static> Db<E> {
    /// Opens a pool for `url`. A bare path or `sqlite://path` is a SQLite file (created if
    /// missing); `postgres://` is PostgreSQL.
    pub fn open(url: &str, max_size: u32) -> Result<Db<E>, E> {
        let backend = Backend::of_url(url);
        let target = match backend {
            Backend::Postgres => url.to_string(),
            Backend::Sqlite => url.strip_prefix("sqlite://").unwrap_or(url).to_string(),
        };
        if backend == Backend::Sqlite {
            super::private_file::prepare(&target)?;
        }
        let build = |size: u32| {
            // No `SELECT 1` each time a connection is handed out: on PostgreSQL that ping was one
            // of a verification's six round trips (BENCHMARKS.md, issue 22), and a local SQLite
            // file does not go stale. A PostgreSQL connection that broke while idle fails the
            // one request that gets it; diesel then reports it broken and r2d2 drops it.
            let builder = Pool::builder()
                .max_size(size)
                .connection_timeout(Duration::from_secs(30))
                .test_on_check_out(false);
            let builder = match backend {
                Backend::Sqlite => builder.connection_customizer(Box::new(SqlitePragmas)),
                Backend::Postgres => builder,
            };
            builder
                .build(ConnectionManager::<DbConnection>::new(target.clone()))
                .map_err(|e| Error::Database(format!("cannot open database {}: {e}", redact(url))))
        };
        let pool = build(max_size)?;
        let writer = match backend {
            Backend::Sqlite => Some(build(1)?),
            Backend::Postgres => None,
        };
        let restart = Restart::default();
        let group = writer
            .clone()
            .map(|w| GroupCommit::start(w, restart.clone()));
        let checkpointer = writer
            .as_ref()
            .map(|_| Checkpointer::start(pool.clone(), restart));
        Ok(Db {
            pool,
            writer,
            group,
            _checkpointer: checkpointer,
            backend,
            _error: PhantomData,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Whether writes can be taken: on SQLite, whether the writer thread runs (readiness asks).
    pub fn writer_running(&self) -> bool {
        self.group.as_ref().is_none_or(GroupCommit::running)
    }

    /// Applies every pending migration of this backend and installs the seed tier policy on a
    /// fresh database; returns how many migrations ran.
    pub fn migrate(&self) -> Result<usize, E> {
        let mut conn = self.get()?;
        let migrations = match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS,
            Backend::Postgres => POSTGRES_MIGRATIONS,
        };
        let applied = conn
            .run_pending_migrations(migrations)
            .map_err(|e| Error::Database(format!("migration failed: {e}")))?
            .len();
        // Data every database starts with, installed here (a write at set-up) so that reads
        // never have to write it lazily.
        crate::network::policies::install_preset(&mut conn)?;
        Ok(applied)
    }

    /// Reverts the newest applied migration (its `down.sql`); returns its version. For tests of
    /// a migration's data carry-over, and for an operator backing a release out.
    pub fn revert_last_migration(&self) -> Result<String, E> {
        let mut conn = self.get()?;
        let migrations = match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS,
            Backend::Postgres => POSTGRES_MIGRATIONS,
        };
        let version = conn
            .revert_last_migration(migrations)
            .map_err(|e| Error::Database(format!("reverting the last migration failed: {e}")))?;
        Ok(version.to_string())
    }

    /// A pooled connection, for blocking code (CLI commands, tests, `run`).
    pub fn get(&self) -> Result<PooledConn, E> {
        self.pool
            .get()
            .map_err(|e| Error::Unavailable(format!("database pool: {e}")).into())
    }

    /// The connection to write with: the single writer on SQLite, any pooled one on PostgreSQL.
    pub fn get_writer(&self) -> Result<PooledConn, E> {
        self.writer
            .as_ref()
            .unwrap_or(&self.pool)
            .get()
            .map_err(|e| Error::Unavailable(format!("database pool: {e}")).into())
    }

    /// Like [`Db::run`], for work that writes: in one transaction of its own on PostgreSQL, or in
    /// a savepoint of a shared transaction on SQLite (see [`GroupCommit`]). Either way the result
    /// comes back only once the write is committed.
    pub async fn write<T, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
    {
        if let Some(group) = &self.group {
            return group.write(f).await;
        }
        self.run(move |c| in_transaction(c, f)).await
    }

    /// Like [`Db::write`], for work each of whose writes is one statement that stands alone (or
    /// that wraps the steps which must commit together in [`crate::verify::atomically`]): on
    /// PostgreSQL it runs without a transaction of its own, so each statement commits by itself
    /// and the `BEGIN` and `COMMIT` round trips are saved; on SQLite it is [`Db::write`].
    /// Verification uses it (on PostgreSQL for a batch of one and for sightings without a code):
    /// one read, then one statement that counts and records the sighting.
    pub async fn write_per_statement<T, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
    {
        if let Some(group) = &self.group {
            return group.write(f).await;
        }
        self.run(f).await
    }

    /// Runs blocking database work on tokio's blocking pool, so async workers never wait on I/O.
    pub async fn run<T, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool
                .get()
                .map_err(|e| E::from(Error::Unavailable(format!("database pool: {e}"))))?;
            f(&mut conn)
        })
        .await
        .map_err(|e| E::from(Error::Internal(format!("database task failed: {e}"))))?
    }
}

/// Whether the database answers a trivial query (readiness asks).
pub fn ping(conn: &mut DbConnection) -> Result<()> {
    conn.batch_execute("SELECT 1")?;
    Ok(())
}

/// Runs `f` in a transaction of its own: committed when it returns `Ok`, rolled back when it
/// returns `Err` (that error is what the caller gets) or when the commit fails.
pub fn in_transaction<T, E: From<Error>>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E> {
    /// diesel wants an error type it can convert its own errors into; the work's error goes
    /// through it untouched.
    enum Failed<E> {
        Work(E),
        Database(diesel::result::Error),
    }
    impl<E> From<diesel::result::Error> for Failed<E> {
        fn from(e: diesel::result::Error) -> Self {
            Failed::Database(e)
        }
    }
    conn.transaction(|c| f(c).map_err(Failed::Work))
        .map_err(|failed| match failed {
            Failed::Work(e) => e,
            Failed::Database(e) => E::from(Error::from(e)),
        })
}

/// The URL without its password, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{}:***{}", &url[..scheme + 3], user, &url[at..])
        }
        _ => url.to_string(),
    }
}
