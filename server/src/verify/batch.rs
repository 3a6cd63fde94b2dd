//! Verifications on PostgreSQL, decided and written in batches.
//!
//! Why: on PostgreSQL every statement is a round trip to another process, and on this 2-core
//! machine the round trips, not the statements, were the cost. Measured on an idle machine
//! (BENCHMARKS.md, issue 22): one verification per job was two statements and its own commit,
//! and served 3,386 verifications a second against SQLite's 15,347, with the server process and
//! eight PostgreSQL backends passing the work back and forth (40,000 context switches a second;
//! `perf` put a third of the server's time in the scheduler).
//!
//! Here the requests in flight queue for a few writer threads. A thread takes every verification
//! waiting (up to [`MAX_BATCH`]) and, in one transaction: reads all their items in one query
//! (`serial = ANY($1)`), decides each in Rust, and writes the counts and sightings of all the
//! plain ones (a right code, no place to judge, under the ceiling, no campaign) in one statement
//! (`store::verify::count_genuine_many`). The rest (a wrong code, a place to judge, a campaign,
//! a code twice in the batch, an unknown code) run their whole decision one by one in the same
//! transaction. Answers go back only after the commit, so no caller is told of a count that was
//! then lost. A batch that fails is rolled back and its verifications run again one by one,
//! each on its own, so one bad verification fails alone.
//!
//! A batch of one (a quiet server) skips the transaction and runs as before: two statements.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};

use tokio::sync::oneshot;

use super::{Answer, Pending, Rules, counted_answer};
use crate::error::{Error, Result};
use crate::keys::KeyRing;
use crate::store::verify::{self as store, Sighting};
use crate::store::{Db, DbConnection, in_transaction, panic_message};

/// Most verifications in one batch: bounds the statement's arrays and how long the first
/// verification of a batch waits for its commit.
pub const MAX_BATCH: usize = 128;

/// Writer threads: while one waits for PostgreSQL, the next batch gathers on another. Two, as
/// measured (BENCHMARKS.md); each holds one pooled connection while it works.
const THREADS: usize = 2;

struct Job {
    pending: Pending,
    keys: Arc<KeyRing>,
    rules: Rules,
    reply: oneshot::Sender<Result<Answer>>,
}

/// The queue to the writer threads, started on first use.
#[derive(Default)]
pub struct Batches {
    queue: OnceLock<Mutex<mpsc::Sender<Job>>>,
    stats: Arc<Stats>,
}

/// What this server's writers have done so far (the Prometheus metrics say the same for the whole
/// process, where every server of a test binary adds to them).
#[derive(Debug, Default)]
pub struct Stats {
    largest: AtomicUsize,
    failed: AtomicUsize,
}

impl Stats {
    /// The most verifications one batch held.
    pub fn largest_batch(&self) -> usize {
        self.largest.load(Ordering::Relaxed)
    }

    /// How many batches failed and ran their verifications one by one.
    pub fn failed_batches(&self) -> usize {
        self.failed.load(Ordering::Relaxed)
    }
}

impl Batches {
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Decides and records `pending` in the next batch; answers once the batch committed.
    pub(crate) async fn verify(
        &self,
        db: &Db,
        keys: &Arc<KeyRing>,
        rules: Rules,
        pending: Pending,
    ) -> Result<Answer> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            pending,
            keys: keys.clone(),
            rules,
            reply,
        };
        let queue = self
            .queue
            .get_or_init(|| Mutex::new(start(db.clone(), self.stats.clone())));
        queue
            .lock()
            .map_err(|_| Error::Internal("the verification queue is poisoned".into()))?
            .send(job)
            .map_err(|_| Error::Unavailable("the verification writers have stopped".into()))?;
        answer
            .await
            .map_err(|_| Error::Internal("the verification was dropped by its writer".into()))?
    }
}

fn start(db: Db, stats: Arc<Stats>) -> mpsc::Sender<Job> {
    let (queue, jobs) = mpsc::channel();
    let jobs = Arc::new(Mutex::new(jobs));
    for i in 0..THREADS {
        let (db, jobs, stats) = (db.clone(), jobs.clone(), stats.clone());
        let spawned = std::thread::Builder::new()
            .name(format!("verify-batch-{i}"))
            .spawn(move || writer(&db, &jobs, &stats));
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start a verification writer thread");
        }
    }
    queue
}

/// One writer thread: takes what is waiting, answers it, and again, until the queue closes.
fn writer(db: &Db, jobs: &Mutex<mpsc::Receiver<Job>>, stats: &Stats) {
    loop {
        let batch = {
            let Ok(jobs) = jobs.lock() else {
                return;
            };
            let Ok(first) = jobs.recv() else {
                return;
            };
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match jobs.try_recv() {
                    Ok(job) => batch.push(job),
                    Err(_) => break,
                }
            }
            batch
        };
        metrics::histogram!("chainmark_verify_batch_size").record(batch.len() as f64);
        stats.largest.fetch_max(batch.len(), Ordering::Relaxed);
        // A panic fails this batch's verifications, not the thread.
        let answers = catch_unwind(AssertUnwindSafe(|| answer_batch(db, &batch, stats)))
            .unwrap_or_else(|panic| {
                let message = panic_message(panic.as_ref());
                tracing::error!(panic = %message, "a verification batch panicked");
                batch
                    .iter()
                    .map(|_| Err(Error::Internal(format!("verification failed: {message}"))))
                    .collect()
            });
        for (job, answer) in batch.into_iter().zip(answers) {
            // The caller may have gone (its request was cancelled): nothing to tell.
            let _ = job.reply.send(answer);
        }
    }
}

/// The answers to `batch`, in its order, each final (committed, or an error).
fn answer_batch(db: &Db, batch: &[Job], stats: &Stats) -> Vec<Result<Answer>> {
    let mut conn = match db.get_writer() {
        Ok(conn) => conn,
        Err(e) => {
            let message = e.to_string();
            return batch
                .iter()
                .map(|_| Err(Error::Unavailable(message.clone())))
                .collect();
        }
    };
    if batch.len() > 1 {
        match in_transaction(&mut conn, |c| together(c, batch)) {
            Ok(answers) => return answers.into_iter().map(Ok).collect(),
            Err(e) => {
                metrics::counter!("chainmark_verify_batches_failed_total").increment(1);
                stats.failed.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(error = %e, count = batch.len(),
                    "verification batch failed; running its verifications one by one");
            }
        }
    }
    batch
        .iter()
        .map(|job| job.pending.run(&mut conn, &job.keys, job.rules))
        .collect()
}

/// Decides and records every verification of `batch` on `conn`, inside the caller's transaction.
fn together(conn: &mut DbConnection, batch: &[Job]) -> Result<Vec<Answer>> {
    let mut times: HashMap<&str, usize> = HashMap::new();
    for job in batch {
        *times.entry(job.pending.serial()).or_default() += 1;
    }
    let serials: Vec<&str> = times.keys().copied().collect();
    let views: HashMap<String, store::VerifyView> = store::load_many(conn, &serials)?
        .into_iter()
        .map(|view| (view.serial.clone(), view))
        .collect();
    let mut answers: Vec<Option<Answer>> = vec![None; batch.len()];
    // The plain ones (each item once in the batch): their index and the item as read.
    let mut plain = Vec::new();
    for (i, job) in batch.iter().enumerate() {
        let serial = job.pending.serial();
        match views.get(serial) {
            Some(view)
                if times.get(serial) == Some(&1)
                    && job.pending.is_plain(view, &job.keys, job.rules) =>
            {
                plain.push((i, view));
            }
            _ => answers[i] = Some(job.pending.run(conn, &job.keys, job.rules)?),
        }
    }
    let sightings: Vec<Sighting> = plain
        .iter()
        .map(|&(i, _)| batch[i].pending.plain_sighting())
        .collect();
    let counted = store::count_genuine_many(conn, &sightings.iter().collect::<Vec<_>>())?;
    for ((&(i, view), counted), sighting) in plain.iter().zip(counted).zip(&sightings) {
        // A ceiling crossed since the read (another batch counted the same item) raises its
        // alert here, as a single verification's does.
        let frozen = crate::diversion::check_count(
            conn,
            sighting,
            counted.verify_count,
            batch[i].rules.max_verifications,
        )?;
        answers[i] = Some(counted_answer(view, counted, frozen, None));
    }
    answers
        .into_iter()
        .map(|a| {
            a.ok_or_else(|| Error::Internal("a verification of the batch went unanswered".into()))
        })
        .collect()
}
