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
//! Nothing here touches the database's files except through SQLite. An earlier version fsynced
//! the database file and the WAL through handles of its own after each round (it halved p99 on
//! the verification benchmark): but on Linux closing *any* descriptor of a file drops every POSIX
//! lock the process holds on it, SQLite's included ("How To Corrupt An SQLite Database File",
//! §2.2). Another process that then closed its own connection (a CLI command, a backup) found no
//! shared lock, took the exclusive one, checkpointed and deleted the WAL under the running server:
//! acknowledged writes vanished after a `kill -9`, and once an index was corrupt. The fsync now
//! happens where SQLite does it, in the checkpoint that reaches the end of the WAL (on the writer's
//! last step), and `tests/it/durability.rs` guards the lock (`chainmark` processes opening and
//! closing the file while the server writes, then `kill -9`).

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

/// A WAL this long asks the writer to finish, while little is uncopied, even if it grew by many
/// frames in the last round: half the backstop, so the writer's own automatic checkpoint is not
/// reached while this thread keeps up.
const FORCE_FRAMES: i32 = BACKSTOP_PAGES as i32 / 2;

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
    /// `pool` is for the passive checkpoints; `restart` is shared with the writer.
    pub fn start(pool: DbPool, restart: Restart) -> Checkpointer {
        let (alive, stopped) = mpsc::channel::<()>();
        let spawned = std::thread::Builder::new()
            .name("db-checkpoint".into())
            .spawn(move || {
                let mut failing = false;
                let mut last = None;
                let mut wait = INTERVAL;
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(wait) {
                    let caught_up = pool
                        .get()
                        .map_err(|e| e.to_string())
                        .and_then(|mut conn| catch_up(&mut conn, &restart, &mut last));
                    wait = match &caught_up {
                        Ok(CatchUp { busy: true }) => BUSY_INTERVAL,
                        _ => INTERVAL,
                    };
                    // Once per outage, not ten times a second.
                    if let Err(e) = &caught_up
                        && !failing
                    {
                        tracing::warn!(error = %e, "WAL checkpoint failed; retrying");
                    }
                    failing = caught_up.is_err();
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

/// How a catch-up went.
struct CatchUp {
    /// The writer is busy appending to a long WAL: look again soon.
    busy: bool,
}

/// What one checkpoint round calls for next.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    /// The WAL is short, or idle with everything copied: the next write starts it over by itself.
    Rest,
    /// Another round: the writer appended too much during this one.
    Again,
    /// Ask the writer to copy the rest on its own connection.
    AskWriter,
}

/// The decision after a round, from the WAL's length at the round before (`previous`). Pure, so
/// the cases a live writer only hits by chance are tested one by one.
fn next_step(previous: Option<i32>, round: &Progress) -> Step {
    let all_copied = round.checkpointed == round.log;
    // Idle: everything copied and nothing appended since the last round.
    if round.log < RESTART_FRAMES || (all_copied && previous == Some(round.log)) {
        return Step::Rest;
    }
    // Few frames new since the last round, and few left uncopied (those appended while the round
    // ran): what the writer will have to copy is about as little. Every frame copied is not
    // required: a writer that never pauses never allows it.
    let few_new = previous.is_some_and(|l| (0..=FEW_FRAMES).contains(&(round.log - l)));
    let few_uncopied = round.log - round.checkpointed <= FEW_FRAMES;
    // Past FORCE_FRAMES the WAL grows by more than FEW_FRAMES a round: the writer is asked
    // anyway while little is left uncopied, well before its own backstop. Not when much is: a
    // reader's old snapshot holds it back, and the writer could copy no more than this thread.
    if few_uncopied && (few_new || round.log >= FORCE_FRAMES) {
        Step::AskWriter
    } else {
        Step::Again
    }
}

/// Checkpoint rounds until the WAL is short, idle or ready for the writer's last step. `last` is
/// the WAL's length at the previous round, kept between calls.
fn catch_up(
    conn: &mut DbConnection,
    restart: &Restart,
    last: &mut Option<i32>,
) -> Result<CatchUp, String> {
    for _ in 0..MAX_CATCH_UP {
        let round = passive(conn)?;
        match next_step(last.replace(round.log), &round) {
            Step::Rest => return Ok(CatchUp { busy: false }),
            Step::Again => {}
            Step::AskWriter => {
                restart.want();
                break;
            }
        }
    }
    Ok(CatchUp { busy: true })
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::atomic::Ordering;

    use diesel::Connection;
    use diesel::connection::SimpleConnection;

    use super::{FORCE_FRAMES, Progress, RESTART_FRAMES, Restart, Step, catch_up, next_step};
    use crate::store::DbConnection;

    fn round(log: i32, checkpointed: i32) -> Progress {
        Progress { log, checkpointed }
    }

    #[test]
    fn a_short_or_idle_wal_is_left_alone() {
        assert_eq!(next_step(None, &round(RESTART_FRAMES - 1, 0)), Step::Rest);
        assert_eq!(next_step(Some(3000), &round(3000, 3000)), Step::Rest);
    }

    #[test]
    fn a_wal_growing_fast_gets_another_round() {
        // The first round has nothing to compare with.
        assert_eq!(next_step(None, &round(3000, 2990)), Step::Again);
        // 1,000 frames appended since the last round.
        assert_eq!(next_step(Some(2000), &round(3000, 2990)), Step::Again);
        // Few new, but a reader's snapshot holds many back, even in a long WAL.
        assert_eq!(next_step(Some(2900), &round(3000, 1000)), Step::Again);
        let long = FORCE_FRAMES + 100;
        assert_eq!(
            next_step(Some(long - 2000), &round(long, 1000)),
            Step::Again
        );
    }

    #[test]
    fn the_writer_is_asked_when_little_is_left() {
        // All copied but still growing a little: the writer appended during the round.
        assert_eq!(next_step(Some(2900), &round(3000, 3000)), Step::AskWriter);
        // A writer that never pauses: never every frame copied, but few left.
        assert_eq!(next_step(Some(2900), &round(3000, 2700)), Step::AskWriter);
        // Growing fast, but half-way to the backstop with little uncopied.
        let long = FORCE_FRAMES;
        assert_eq!(
            next_step(Some(long - 2000), &round(long, long - 100)),
            Step::AskWriter
        );
    }

    /// The WAL's length in frames. Asked of SQLite (a passive checkpoint reports it), never
    /// read from the `-shm` file: opening and closing a descriptor of SQLite's files in this
    /// process would drop the locks of every connection the test holds.
    fn wal_frames(conn: &mut DbConnection) -> i32 {
        super::passive(conn).expect("checkpoint").log
    }

    fn open(db: &Path) -> DbConnection {
        let mut conn = DbConnection::establish(&db.display().to_string()).expect("open");
        // No automatic checkpoints: only the ones under test run.
        conn.batch_execute("PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;")
            .expect("pragmas");
        conn
    }

    fn append(conn: &mut DbConnection, rows: u32) {
        conn.batch_execute(&format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows}) \
             INSERT INTO t SELECT randomblob(2000) FROM n"
        ))
        .expect("append");
    }

    /// The state a writer that never pauses leaves: a long WAL whose last frames a checkpoint
    /// cannot copy yet (here held back by a reader's snapshot, so the test does not race). The
    /// catch-up must ask the writer, and the writer's step must let its next write start the
    /// WAL over.
    #[test]
    fn the_writer_finishes_the_catch_up_and_the_wal_starts_over() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("t.db");
        let mut writer = open(&db);
        writer
            .batch_execute("CREATE TABLE t (b BLOB NOT NULL)")
            .expect("table");
        append(&mut writer, 3000);
        let mut reader = open(&db);
        reader
            .batch_execute("BEGIN; SELECT count(*) FROM t;")
            .expect("snapshot");
        append(&mut writer, 50);
        let mut checkpointer = open(&db);
        let long = wal_frames(&mut checkpointer);
        assert!(long > RESTART_FRAMES, "WAL of {long} frames");

        let restart = Restart::default();
        let mut last = None;
        let out = catch_up(&mut checkpointer, &restart, &mut last).expect("catch up");
        assert!(out.busy, "a long WAL keeps the catch-up busy");
        assert!(
            restart.0.load(Ordering::Acquire),
            "the writer was not asked"
        );

        reader.batch_execute("COMMIT").expect("end snapshot");
        restart.finish_if_wanted(&mut writer);
        assert!(
            !restart.0.load(Ordering::Acquire),
            "the request was not taken"
        );
        append(&mut writer, 1);
        let now = wal_frames(&mut checkpointer);
        assert!(
            now < 10,
            "WAL did not start over: {long} frames, then {now}"
        );
    }
}
