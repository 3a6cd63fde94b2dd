//! One connection type over both backends, its pool, and the bridge off the async runtime.

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
#[derive(Clone)]
pub struct Db {
    pool: DbPool,
    writer: Option<DbPool>,
    group: Option<GroupCommit>,
    /// SQLite: copies the WAL back off the writer's path.
    _checkpointer: Option<Checkpointer>,
    backend: Backend,
}

impl Db {
    /// Opens a pool for `url`. A bare path or `sqlite://path` is a SQLite file (created if
    /// missing); `postgres://` is PostgreSQL.
    pub fn open(url: &str, max_size: u32) -> Result<Db> {
        let backend = Backend::of_url(url);
        let target = match backend {
            Backend::Postgres => url.to_string(),
            Backend::Sqlite => url.strip_prefix("sqlite://").unwrap_or(url).to_string(),
        };
        if backend == Backend::Sqlite {
            super::private_file::prepare(&target)?;
        }
        let build = |size: u32| {
            let builder = Pool::builder()
                .max_size(size)
                .connection_timeout(Duration::from_secs(30));
            let builder = match backend {
                // A local file does not go stale: no `SELECT 1` each time one is handed out.
                Backend::Sqlite => builder
                    .test_on_check_out(false)
                    .connection_customizer(Box::new(SqlitePragmas)),
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
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Whether writes can be taken: on SQLite, whether the writer thread runs (readiness asks).
    pub fn writer_running(&self) -> bool {
        self.group.as_ref().is_none_or(GroupCommit::running)
    }

    /// Applies every pending migration of this backend; returns how many ran.
    pub fn migrate(&self) -> Result<usize> {
        let mut conn = self.get()?;
        let migrations = match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS,
            Backend::Postgres => POSTGRES_MIGRATIONS,
        };
        let applied = conn
            .run_pending_migrations(migrations)
            .map_err(|e| Error::Database(format!("migration failed: {e}")))?;
        Ok(applied.len())
    }

    /// A pooled connection, for blocking code (CLI commands, tests, `run`).
    pub fn get(&self) -> Result<PooledConn> {
        self.pool
            .get()
            .map_err(|e| Error::Unavailable(format!("database pool: {e}")))
    }

    /// The connection to write with: the single writer on SQLite, any pooled one on PostgreSQL.
    pub fn get_writer(&self) -> Result<PooledConn> {
        self.writer
            .as_ref()
            .unwrap_or(&self.pool)
            .get()
            .map_err(|e| Error::Unavailable(format!("database pool: {e}")))
    }

    /// Like [`Db::run`], for work that writes: in one transaction of its own on PostgreSQL, or in
    /// a savepoint of a shared transaction on SQLite (see [`GroupCommit`]). Either way the result
    /// comes back only once the write is committed.
    pub async fn write<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&mut DbConnection) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        if let Some(group) = &self.group {
            return group.write(f).await;
        }
        self.run(move |c| c.transaction(|c| f(c))).await
    }

    /// Runs blocking database work on tokio's blocking pool, so async workers never wait on I/O.
    pub async fn run<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&mut DbConnection) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool
                .get()
                .map_err(|e| Error::Unavailable(format!("database pool: {e}")))?;
            f(&mut conn)
        })
        .await
        .map_err(|e| Error::Internal(format!("database task failed: {e}")))?
    }
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
