//! Group commit for SQLite: concurrent writes are queued to one thread that runs as many as are
//! waiting (up to [`MAX_BATCH`]) in a single transaction, each inside its own savepoint.
//!
//! Why: on SQLite a commit writes every page it touched to the WAL, and a verification touches
//! the same few pages (the sightings table and its indexes) as the next one. Measured on this
//! machine, one insert per transaction cost about 100 µs, almost all of it `pwrite` of WAL frames;
//! batching makes that cost shared. A job's result is handed back only after the batch commits,
//! so no caller ever sees a write that was then lost; a job that fails rolls back its own
//! savepoint and leaves the others alone.
//!
//! A job that panics is a failed job like any other: the panic is caught around the job, its
//! savepoint undone, its caller answered with an internal error, and the writer goes on. Before,
//! one panic ended the writer thread, every later write failed and `/readyz` still said ready.
//! Should a panic escape anyway (outside any job), the batch's connection is dropped while
//! unwinding, which makes the pool discard it and SQLite roll its transaction back, the callers
//! of that batch are told their write was dropped, and the loop takes the next batch.
//! [`GroupCommit::running`] is what readiness asks.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use diesel::{Connection, RunQueryDsl};

use super::DbConnection;
use super::checkpoint::Restart;
use super::conn::DbPool;
use super::fixed::{Fixed, FixedSql};
use crate::error::{Error, Result};

/// The text of a caught panic, for logs and errors.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into())
}

/// Most jobs in one transaction: bounds how long the first job of a batch waits for its commit.
pub const MAX_BATCH: usize = 256;

/// Runs a job in the batch; returns what to do once the batch's fate is known.
pub type Job = Box<dyn FnOnce(&mut DbConnection) -> Ran + Send>;

/// A job that has run in the batch.
pub struct Ran {
    /// Called with `true` once the batch committed, `false` if it did not.
    finish: Box<dyn FnOnce(bool) + Send>,
    /// The job failed and its writes could not be undone: the whole batch must roll back.
    poisoned: bool,
}

#[derive(Clone)]
pub struct GroupCommit {
    queue: mpsc::Sender<Job>,
    /// Whether the writer thread runs; cleared when it ends, however it ends.
    running: Arc<AtomicBool>,
}

/// Clears the running flag when the writer thread ends, by returning or by unwinding.
struct Running(Arc<AtomicBool>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
        // The loop ends by itself only when every handle to the queue is gone (the process is
        // closing the database): that is no news. Unwinding is.
        if std::thread::panicking() {
            tracing::error!("the database writer thread has stopped");
        }
    }
}

impl GroupCommit {
    /// Starts the writer thread; it takes a connection from `pool` per batch, so other users of
    /// the pool (the CLI, imports) interleave with it instead of starving.
    pub fn start(pool: DbPool, restart: Restart) -> GroupCommit {
        let (queue, jobs) = mpsc::channel::<Job>();
        let running = Arc::new(AtomicBool::new(true));
        let guard = Running(running.clone());
        let spawned = std::thread::Builder::new()
            .name("db-writer".into())
            .spawn(move || {
                let _running = guard;
                writer_loop(&pool, &jobs, &restart);
            });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start the database writer thread");
        }
        GroupCommit { queue, running }
    }

    /// Whether the writer thread still takes writes (readiness asks this).
    pub fn running(&self) -> bool {
        self.running.load(Ordering::Acquire)
    }

    /// Queues `f` and waits (asynchronously) until its batch has committed.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<Error> + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel::<Result<T, E>>();
        let job: Job = Box::new(move |conn: &mut DbConnection| {
            let (outcome, poisoned) = in_savepoint(conn, f);
            let finish = Box::new(move |committed: bool| {
                let reply = match outcome {
                    Ok(v) if committed => Ok(v),
                    Ok(_) => Err(Error::Unavailable("the write was not committed".into()).into()),
                    Err(e) => Err(e),
                };
                let _ = tx.send(reply);
            });
            Ran { finish, poisoned }
        });
        self.queue
            .send(job)
            .map_err(|_| E::from(Error::Unavailable("the database writer has stopped".into())))?;
        rx.await.map_err(|_| {
            E::from(Error::Unavailable(
                "the database writer dropped a write".into(),
            ))
        })?
    }
}

/// Each job in its own savepoint, so a failing job undoes only itself. The savepoint statements
/// are kept prepared: diesel's nested `transaction` sends them as text, parsed anew each time,
/// which was a tenth of the writer's time per verification (perf, BENCHMARKS.md).
/// Also says whether a failed job's writes could not be undone.
fn in_savepoint<T, E: From<Error>>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> (Result<T, E>, bool) {
    struct Open;
    impl FixedSql for Open {
        const SQL: &'static str = "SAVEPOINT group_commit_job";
    }
    struct Release;
    impl FixedSql for Release {
        const SQL: &'static str = "RELEASE group_commit_job";
    }
    struct Undo;
    impl FixedSql for Undo {
        const SQL: &'static str = "ROLLBACK TO group_commit_job";
    }
    fn run<S: FixedSql>(conn: &mut DbConnection) -> Result<()> {
        per_backend!(conn, |c| Fixed::<S>::new(Vec::new()).execute(c))?;
        Ok(())
    }
    if let Err(e) = run::<Open>(conn) {
        return (Err(e.into()), true);
    }
    // A panic is this job's failure, not the writer's: caught here, it is undone below like any
    // error. AssertUnwindSafe: after a panic the job's captures are dropped, never used again,
    // and the connection's state is undone to the savepoint.
    let outcome = catch_unwind(AssertUnwindSafe(|| f(&mut *conn))).unwrap_or_else(|panic| {
        let message = panic_message(panic.as_ref());
        tracing::error!(panic = %message, "a database write panicked; it is undone");
        metrics::counter!("chainmark_db_write_panics_total").increment(1);
        Err(Error::Internal(format!("a database write panicked: {message}")).into())
    });
    match outcome {
        Ok(v) => match run::<Release>(conn) {
            Ok(()) => (Ok(v), false),
            Err(e) => (Err(e.into()), true),
        },
        Err(e) => {
            // Back to the savepoint, then the savepoint itself let go.
            let undone = run::<Undo>(conn).and_then(|()| run::<Release>(conn));
            if let Err(undo) = &undone {
                tracing::error!(error = %undo, "cannot undo a failed write; the batch rolls back");
            }
            (Err(e), undone.is_err())
        }
    }
}

fn writer_loop(pool: &DbPool, jobs: &mpsc::Receiver<Job>, restart: &Restart) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let size = batch.len();
        // Jobs catch their own panics; this is for anything else. The batch's connection is
        // dropped while unwinding (the pool discards it, SQLite rolls back), and the callers whose
        // jobs were dropped unanswered get "dropped a write": nothing of theirs was committed.
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| run_batch(pool, batch, restart))) {
            tracing::error!(
                panic = %panic_message(panic.as_ref()),
                jobs = size,
                "the database writer panicked outside a job; the batch was rolled back"
            );
            metrics::counter!("chainmark_db_write_panics_total").increment(1);
        }
    }
}

/// Runs `f` in a transaction that holds SQLite's write lock from its first statement
/// (`BEGIN IMMEDIATE`). Why: a plain `BEGIN` takes the lock only at the first write, after the
/// batch's reads; if another process (a second server instance, a CLI command) committed in
/// between, SQLite cannot upgrade the stale read snapshot and answers "database is locked" at
/// once, without waiting out `busy_timeout`. Taking the lock first makes another writer a wait.
/// Jobs still nest their savepoints through diesel: the transaction manager of the multi-backend
/// connection reads the SQLite connection's own depth.
fn in_write_transaction(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> diesel::QueryResult<()>,
) -> diesel::QueryResult<()> {
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    type Manager = <DbConnection as Connection>::TransactionManager;
    match conn {
        DbConnection::Sqlite(c) => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?
        }
        DbConnection::Postgres(_) => Manager::begin_transaction(conn)?,
    }
    match f(conn) {
        Ok(()) => Manager::commit_transaction(conn),
        Err(e) => {
            Manager::rollback_transaction(conn)?;
            Err(e)
        }
    }
}

/// One batch: a connection, the restart the checkpoint thread may have asked for, the jobs in one
/// transaction, then every caller told.
fn run_batch(pool: &DbPool, mut batch: Vec<Job>, restart: &Restart) {
    let mut conn = loop {
        match pool.get() {
            Ok(conn) => break conn,
            Err(e) => {
                tracing::warn!(error = %e, "database writer waiting for a connection");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    };
    restart.finish_if_wanted(&mut conn);
    let mut finish = Vec::with_capacity(batch.len());
    let committed = in_write_transaction(&mut conn, |c| {
        let mut poisoned = false;
        for job in batch.drain(..) {
            let ran = job(c);
            poisoned |= ran.poisoned;
            finish.push(ran.finish);
        }
        if poisoned {
            return Err(diesel::result::Error::RollbackTransaction);
        }
        Ok(())
    })
    .inspect_err(|e| tracing::error!(error = %e, "group commit failed"))
    .is_ok();
    metrics::histogram!("chainmark_db_group_commit_size").record(finish.len() as f64);
    for done in finish {
        done(committed);
    }
}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::sql_types::BigInt;

    use super::*;
    use crate::store::Db;

    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }

    /// A database with one table `t (v)`; the folder goes with the first value.
    fn table_t() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = Db::open(&dir.path().join("t.db").display().to_string(), 2).expect("open");
        db.get_writer()
            .expect("writer")
            .batch_execute("CREATE TABLE t (v INTEGER NOT NULL)")
            .expect("table");
        (dir, db)
    }

    /// `sql`'s single count.
    async fn count(db: &Db, sql: &'static str) -> i64 {
        db.run(move |c| {
            let DbConnection::Sqlite(c) = c else {
                unreachable!("a SQLite test")
            };
            Ok(diesel::sql_query(sql).get_result::<Count>(c)?.n)
        })
        .await
        .expect("count")
    }

    /// Jobs queued together share a transaction; the one that fails after writing takes back
    /// its own row and nothing else.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_job_undoes_only_itself() {
        let (_dir, db) = table_t();
        let mut waiting = Vec::new();
        for v in 0..40_i64 {
            let db = db.clone();
            waiting.push(tokio::spawn(async move {
                db.write(move |c| {
                    c.batch_execute(&format!("INSERT INTO t VALUES ({v})"))?;
                    if v % 3 == 0 {
                        return Err(Error::BadRequest(format!("job {v} refuses")));
                    }
                    Ok(v)
                })
                .await
            }));
        }
        let mut committed = 0;
        for (v, job) in waiting.into_iter().enumerate() {
            match job.await.expect("join") {
                Ok(got) => {
                    assert_eq!(got, v as i64);
                    committed += 1;
                }
                Err(Error::BadRequest(m)) => assert_eq!(m, format!("job {v} refuses")),
                Err(e) => panic!("job {v}: unexpected {e}"),
            }
        }
        assert_eq!(committed, 26);
        let kept = count(&db, "SELECT count(*) AS n FROM t WHERE v % 3 <> 0").await;
        let undone = count(&db, "SELECT count(*) AS n FROM t WHERE v % 3 = 0").await;
        assert_eq!(kept, 26, "every good row kept");
        assert_eq!(undone, 0, "every refused row undone");
    }

    /// A job that panics fails alone: its caller gets an internal error, the jobs queued with it
    /// commit, and the writer takes later writes. Before, the panic ended the writer thread.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_job_fails_alone_and_the_writer_goes_on() {
        let (_dir, db) = table_t();
        let mut waiting = Vec::new();
        for v in 0..30_i64 {
            let db = db.clone();
            waiting.push(tokio::spawn(async move {
                db.write(move |c| {
                    c.batch_execute(&format!("INSERT INTO t VALUES ({v})"))?;
                    assert!(v % 10 != 7, "job {v} panics after writing");
                    Ok(v)
                })
                .await
            }));
        }
        for (v, job) in waiting.into_iter().enumerate() {
            match job.await.expect("join") {
                Ok(got) => assert_eq!(got, v as i64),
                Err(Error::Internal(m)) if v % 10 == 7 => {
                    assert!(m.contains("panicked"), "{m}");
                }
                Err(e) => panic!("job {v}: unexpected {e}"),
            }
        }
        // Later writes still go through, and readiness has nothing to report.
        let later = db
            .write(|c| {
                c.batch_execute("INSERT INTO t VALUES (100)")?;
                Ok(())
            })
            .await;
        assert!(later.is_ok(), "the writer stopped: {later:?}");
        assert!(db.writer_running());
        let rows = count(
            &db,
            "SELECT count(*) AS n FROM t WHERE v % 10 = 7 OR v = 100",
        )
        .await;
        assert_eq!(
            rows, 1,
            "the panicking jobs' rows are undone, the later one kept"
        );
    }
}
