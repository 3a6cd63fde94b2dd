//! WAL checkpoints for SQLite, on a thread of their own.
//!
//! Why: by default the connection whose commit pushes the WAL past 1,000 pages copies the WAL
//! back into the database file and fsyncs it, inside that commit. With every write going through
//! one writer thread ([`super::group_commit`]), that was a fifth of the writer's time under load
//! (perf, BENCHMARKS.md). Here a background thread runs a passive checkpoint every
//! [`INTERVAL`]; it never blocks the writer or readers, and the writer's own automatic
//! checkpoint stays as a backstop at [`BACKSTOP_PAGES`] should this thread fall behind.

use std::sync::mpsc;
use std::time::Duration;

use diesel::connection::SimpleConnection;

use super::conn::DbPool;

/// How often the WAL is copied back: small enough that the WAL stays a few megabytes.
pub const INTERVAL: Duration = Duration::from_millis(100);

/// The writers' own automatic checkpoint, only reached if the background one falls behind.
pub const BACKSTOP_PAGES: u32 = 16_384;

/// Keeps the checkpoint thread running; it stops once every clone of this is dropped.
#[derive(Clone)]
pub struct Checkpointer {
    _alive: mpsc::Sender<()>,
}

impl Checkpointer {
    pub fn start(pool: DbPool) -> Checkpointer {
        let (alive, stopped) = mpsc::channel::<()>();
        let spawned = std::thread::Builder::new()
            .name("db-checkpoint".into())
            .spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(INTERVAL) {
                    checkpoint(&pool);
                }
            });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start the WAL checkpoint thread; writers will checkpoint");
        }
        Checkpointer { _alive: alive }
    }
}

fn checkpoint(pool: &DbPool) {
    let result = pool.get().map_err(|e| e.to_string()).and_then(|mut c| {
        c.batch_execute("PRAGMA wal_checkpoint(PASSIVE);")
            .map_err(|e| e.to_string())
    });
    if let Err(e) = result {
        tracing::warn!(error = %e, "WAL checkpoint failed; retrying");
    }
}
