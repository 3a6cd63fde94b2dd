//! WAL checkpoints for SQLite, on a thread of their own.
//!
//! Why: by default the connection whose commit pushes the WAL past 1,000 pages copies the WAL
//! back into the database file and fsyncs it, inside that commit. With every write going through
//! one writer thread ([`super::group_commit`]), that was a fifth of the writer's time under load
//! (perf, BENCHMARKS.md). Here a background thread runs passive checkpoints, which never block
//! the writer or readers.
//!
//! Passive checkpoints alone never let the WAL start over under steady writes: SQLite rewinds
//! the WAL when a write transaction begins with *every* frame already copied, and the writer
//! always appends a few more while a checkpoint runs. The WAL then grows until the writer's own
//! automatic checkpoint (a backstop at [`BACKSTOP_PAGES`]) copies the rest and fsyncs inside a
//! commit: measured, 70–190 ms during which every verification waits, twice a second under load.
//! So once the WAL is longer than [`RESTART_FRAMES`], this thread checkpoints back to back until
//! one round finds little left (each round copies what the writer appended during the last),
//! then asks the writer ([`Restart::finish_if_wanted`]) to checkpoint the few frames since on
//! its own connection before its next transaction, which then starts the WAL over. Doing that
//! last step on the writer's connection, between two of its transactions, rather than taking the
//! write lock from another connection, keeps a write transaction from finding its read snapshot
//! outdated ("database is locked").
//!
//! A passive checkpoint that cannot copy to the end of the WAL (the writer's open transaction
//! holds the last frames back) writes the database file without fsyncing it; the one that finally
//! reaches the end fsyncs everything the rounds before it wrote, 30–60 ms on this machine's disk,
//! and that one runs on the writer. So each round here is followed by an fsync of the database
//! file and the WAL through a handle of this thread's own (on Linux an fsync flushes the file,
//! whichever handle asks): the writer's last step finds little left to flush. Measured on the
//! verification benchmark: p99 from 110 ms to 11 ms (BENCHMARKS.md).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use diesel::RunQueryDsl;
use diesel::sql_types::Integer;

use super::DbConnection;
use super::conn::DbPool;

/// How often the WAL is looked at while it is short or idle.
pub const INTERVAL: Duration = Duration::from_millis(100);

/// How soon after asking the writer for a restart the next catch-up starts: under load the WAL
/// grows by thousands of frames in [`INTERVAL`], and the first round after a wait is the slowest.
const BUSY_INTERVAL: Duration = Duration::from_millis(10);

/// The writers' own automatic checkpoint, only reached if this thread falls behind (the disk
/// cannot take the pages back as fast as they are written).
pub const BACKSTOP_PAGES: u32 = 16_384;

/// A WAL longer than this (4 MiB of 4 KiB pages) is brought to a restart.
pub const RESTART_FRAMES: i32 = 1_024;

/// A round that found at most this many new frames since the last one had little to copy, and
/// the writer appends about as few before it finishes the catch-up on its own connection: the
/// few milliseconds that holds the writer up.
const FEW_FRAMES: i32 = 512;

/// Back-to-back rounds before giving up until the next interval (the writer outpaces the disk).
const MAX_CATCH_UP: usize = 20;

/// The request from this thread to the writer to finish a catch-up on its own connection.
#[derive(Clone, Default)]
pub struct Restart(Arc<AtomicBool>);

impl Restart {
    /// For the writer, between two transactions: checkpoints what is left if this thread asked.
    pub fn finish_if_wanted(&self, writer: &mut DbConnection) {
        if !self.0.swap(false, Ordering::AcqRel) {
            return;
        }
        match passive(writer) {
            Ok(_) => metrics::counter!("chainmark_wal_restarts_total").increment(1),
            Err(e) => tracing::warn!(error = %e, "WAL checkpoint before a restart failed"),
        }
    }

    fn want(&self) {
        self.0.store(true, Ordering::Release);
    }
}

/// Keeps the checkpoint thread running; it stops once every clone of this is dropped.
#[derive(Clone)]
pub struct Checkpointer {
    _alive: mpsc::Sender<()>,
}

impl Checkpointer {
    /// `pool` is for the passive checkpoints; `restart` is shared with the writer; `path` is the
    /// database file.
    pub fn start(pool: DbPool, restart: Restart, path: PathBuf) -> Checkpointer {
        let (alive, stopped) = mpsc::channel::<()>();
        let spawned = std::thread::Builder::new()
            .name("db-checkpoint".into())
            .spawn(move || {
                let mut failing = false;
                let mut last = None;
                let mut wait = INTERVAL;
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(wait) {
                    wait = INTERVAL;
                    match catch_up(&pool, &restart, &path, &mut last) {
                        Ok(Busy(true)) => {
                            failing = false;
                            wait = BUSY_INTERVAL;
                        }
                        Ok(Busy(false)) => failing = false,
                        // Once per outage, not ten times a second.
                        Err(e) if !failing => {
                            failing = true;
                            tracing::warn!(error = %e, "WAL checkpoint failed; retrying");
                        }
                        Err(_) => {}
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start the WAL checkpoint thread; writers will checkpoint");
        }
        Checkpointer { _alive: alive }
    }
}

/// One row of `PRAGMA wal_checkpoint`.
#[derive(diesel::QueryableByName)]
struct Progress {
    /// Frames in the WAL.
    #[diesel(sql_type = Integer)]
    log: i32,
    /// Frames copied to the database file.
    #[diesel(sql_type = Integer)]
    checkpointed: i32,
}

fn passive(conn: &mut DbConnection) -> Result<Progress, String> {
    let DbConnection::Sqlite(c) = conn else {
        return Err("WAL checkpoints are for SQLite".into());
    };
    diesel::sql_query("PRAGMA wal_checkpoint(PASSIVE)")
        .get_result::<Progress>(c)
        .map_err(|e| e.to_string())
}

/// Flushes what the checkpoints wrote to the database file, and the WAL, off the writer's path.
fn flush(db: &Path) -> Result<(), String> {
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    for path in [db.as_os_str(), wal.as_os_str()] {
        File::open(path)
            .and_then(|f| f.sync_data())
            .map_err(|e| format!("fsync {}: {e}", Path::new(path).display()))?;
    }
    Ok(())
}

/// Whether the writer is busy appending to a long WAL.
struct Busy(bool);

/// Checkpoint rounds until the WAL is short, idle or ready for the writer's last step. `last` is
/// the WAL's length at the previous round, kept between calls.
fn catch_up(
    pool: &DbPool,
    restart: &Restart,
    db: &Path,
    last: &mut Option<i32>,
) -> Result<Busy, String> {
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    for _ in 0..MAX_CATCH_UP {
        let round = passive(&mut conn)?;
        let all_copied = round.checkpointed == round.log;
        // Idle: everything copied and nothing appended since the last round. The next write
        // starts the WAL over by itself.
        let idle = all_copied && *last == Some(round.log);
        let previous = last.replace(round.log);
        if round.log < RESTART_FRAMES || idle {
            return Ok(Busy(false));
        }
        flush(db)?;
        // Few frames new since the last round, and few left uncopied (those of the writer's
        // transaction in progress): what the writer will have to copy is about as little.
        let few_new = previous.is_some_and(|l| (0..=FEW_FRAMES).contains(&(round.log - l)));
        if few_new && round.log - round.checkpointed <= FEW_FRAMES {
            restart.want();
            return Ok(Busy(true));
        }
    }
    Ok(Busy(true))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};

    use diesel::connection::SimpleConnection;

    use super::{BACKSTOP_PAGES, RESTART_FRAMES};
    use crate::store::Db;

    /// The WAL's length in frames, as SQLite's shared index says (`mxFrame`, bytes 16–19 of the
    /// `-shm` file). Read from the file so that looking does not checkpoint.
    fn wal_frames(shm: &std::path::Path) -> u32 {
        std::fs::read(shm)
            .ok()
            .and_then(|b| b.get(16..20).map(|w| [w[0], w[1], w[2], w[3]]))
            .map_or(0, u32::from_ne_bytes)
    }

    /// Under writes that never pause, the WAL must still start over long before the writer's
    /// own backstop checkpoint (the stall this module exists to avoid).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_wal_starts_over_under_steady_writes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("t.db");
        let db = Db::open(&path.display().to_string(), 2).expect("open");
        db.get_writer()
            .expect("writer")
            .batch_execute("CREATE TABLE t (b BLOB NOT NULL)")
            .expect("table");
        let stop = Arc::new(AtomicBool::new(false));
        let mut writers = Vec::new();
        for _ in 0..16 {
            let (db, stop) = (db.clone(), stop.clone());
            writers.push(tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    db.write(|c| Ok(c.batch_execute("INSERT INTO t VALUES (randomblob(500))")?))
                        .await
                        .expect("write");
                }
            }));
        }
        let shm = dir.path().join("t.db-shm");
        let (mut longest, mut restarted) = (0, false);
        let deadline = Instant::now() + Duration::from_secs(60);
        while !restarted && longest < BACKSTOP_PAGES && Instant::now() < deadline {
            let now = wal_frames(&shm);
            restarted = longest >= RESTART_FRAMES as u32 && now < longest / 2;
            longest = longest.max(now);
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        stop.store(true, Ordering::Relaxed);
        for w in writers {
            w.await.expect("writer task");
        }
        assert!(
            restarted && longest < BACKSTOP_PAGES,
            "WAL reached {longest} frames, restarted: {restarted}"
        );
    }
}
