//! Group commit for SQLite: concurrent writes are queued to one thread that runs as many as are
//! waiting (up to [`MAX_BATCH`]) in a single transaction, each inside its own savepoint.
//!
//! Why: on SQLite a commit writes every page it touched to the WAL, and a verification touches
//! the same few pages (the sightings table and its indexes) as the next one. Measured on this
//! machine, one insert per transaction cost about 100 µs, almost all of it `pwrite` of WAL frames;
//! batching makes that cost shared. A job's result is handed back only after the batch commits,
//! so no caller ever sees a write that was then lost; a job that fails rolls back its own
//! savepoint and leaves the others alone.

use std::sync::mpsc;
use std::time::Duration;

use diesel::Connection;

use super::DbConnection;
use super::conn::DbPool;
use crate::error::{Error, Result};

/// Most jobs in one transaction: bounds how long the first job of a batch waits for its commit.
pub const MAX_BATCH: usize = 256;

/// Runs a job in the batch; returns what to do once the batch's fate is known (`true` when it
/// committed).
pub type Job = Box<dyn FnOnce(&mut DbConnection) -> Box<dyn FnOnce(bool) + Send> + Send>;

#[derive(Clone)]
pub struct GroupCommit {
    queue: mpsc::Sender<Job>,
}

impl GroupCommit {
    /// Starts the writer thread; it takes a connection from `pool` per batch, so other users of
    /// the pool (the CLI, imports) interleave with it instead of starving.
    pub fn start(pool: DbPool) -> GroupCommit {
        let (queue, jobs) = mpsc::channel::<Job>();
        let spawned = std::thread::Builder::new()
            .name("db-writer".into())
            .spawn(move || writer_loop(&pool, &jobs));
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start the database writer thread");
        }
        GroupCommit { queue }
    }

    /// Queues `f` and waits (asynchronously) until its batch has committed.
    pub async fn write<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&mut DbConnection) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel::<Result<T>>();
        let job: Job = Box::new(move |conn: &mut DbConnection| {
            // Each job in its own savepoint: a failing job undoes only itself.
            let outcome = conn.transaction(|c| f(c));
            Box::new(move |committed: bool| {
                let reply = match outcome {
                    Ok(v) if committed => Ok(v),
                    Ok(_) => Err(Error::Unavailable("the write was not committed".into())),
                    Err(e) => Err(e),
                };
                let _ = tx.send(reply);
            })
        });
        self.queue
            .send(job)
            .map_err(|_| Error::Unavailable("the database writer has stopped".into()))?;
        rx.await
            .map_err(|_| Error::Unavailable("the database writer dropped a write".into()))?
    }
}

fn writer_loop(pool: &DbPool, jobs: &mpsc::Receiver<Job>) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let mut conn = loop {
            match pool.get() {
                Ok(conn) => break conn,
                Err(e) => {
                    tracing::warn!(error = %e, "database writer waiting for a connection");
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        };
        let mut finish = Vec::with_capacity(batch.len());
        let committed = conn
            .transaction::<_, diesel::result::Error, _>(|c| {
                for job in batch.drain(..) {
                    finish.push(job(c));
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
}
