//! Batches made from HQ's desk (issues 18 and 20): generated with codegen into the server's data
//! folder and imported with [`registry::import_batch`] in the background, their progress kept in
//! the database (`batch_jobs`) so every instance shows it; label sheets (PDF, ZPL) rendered on
//! request from the registry and streamed; the print file handed to the printing house as an
//! encrypted code pack (`age`, a passphrase the server makes and shows once).

use std::collections::HashMap;
use std::fs;
use std::io::{self, BufWriter, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use age::secrecy::SecretString;
use axum::body::Bytes;
use chrono::NaiveDate;
use codegen::batch::BatchSpec;
use codegen::gs1::Gtin14;
use codegen::label::LabelOptions;
use codegen::label::pdf::{SheetLayout, SheetWriter};
use codegen::serial::{BatchId, Serial};
use rand::Rng;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use crate::app::AppState;
use crate::error::{Error, Result};
use crate::registry::{self, ImportOptions};
use crate::store::DbConnection;
use crate::store::audit;
use crate::store::batch_desk::{self as store, JobPhase, JobRow, NewJob, PackRow};
use crate::store::batches::{BatchRow, IndexRange};

/// The most items one batch made on the desk may have: a million codes take a few minutes to
/// generate and import on a small server; bigger batches are made with `chainmark-codegen` and
/// `chainmark import`.
pub const MAX_DESK_ITEMS: u64 = 1_000_000;
/// The most labels one PDF download holds (about 830 A4 pages): a print shop's file, not a
/// whole big batch; ask for serial ranges.
pub const MAX_PDF_LABELS: i64 = 20_000;
/// The most labels one ZPL download holds.
pub const MAX_ZPL_LABELS: i64 = 200_000;
/// A job silent for this long stopped with its server: shown as interrupted.
pub const STALE_AFTER: chrono::Duration = chrono::Duration::minutes(10);

/// A batch asked for on the desk, checked.
#[derive(Debug, Clone)]
pub struct NewBatch {
    pub product_id: i64,
    pub items: u64,
    pub case_size: u32,
    pub production_date: Option<NaiveDate>,
    pub note: Option<String>,
}

impl NewBatch {
    pub fn job(&self, actor: i64) -> NewJob {
        NewJob {
            product_id: self.product_id,
            items: self.items as i64,
            case_size: self.case_size as i32,
            production_date: self.production_date.map(|d| d.to_string()),
            note: self.note.clone(),
            created_by: Some(actor),
        }
    }
}

/// The batches folder inside the data folder, created 0700 (it holds every print file).
pub fn batches_folder(state: &AppState) -> Result<PathBuf> {
    let data = state.settings.data_folder().ok_or_else(|| {
        Error::Config(
            "no data folder: set data_dir (CHAINMARK_DATA_DIR) or key_files to make batches".into(),
        )
    })?;
    let dir = data.join("batches");
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .map_err(|e| Error::Internal(format!("cannot create {}: {e}", dir.display())))?;
    Ok(dir)
}

/// Import progress of the jobs this instance runs: on SQLite the import holds the database's
/// one writer, so it cannot record its own progress there until it commits.
static IMPORTING: LazyLock<Mutex<HashMap<i64, i64>>> = LazyLock::new(Default::default);

/// Items imported so far by job `id` on this instance, if it imports now.
pub fn importing(id: i64) -> Option<i64> {
    IMPORTING.lock().ok().and_then(|m| m.get(&id).copied())
}

/// Whether a job that has not ended has stopped reporting (its server stopped).
pub fn is_stale(job: &JobRow) -> bool {
    !job.phase().ended() && crate::store::users::now() - job.updated_at > STALE_AFTER
}

/// Starts job `id` in the background: generation and import on a blocking thread.
pub fn start(state: AppState, id: i64) {
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let outcome = generate(&state, &handle, id);
        if let Ok(mut m) = IMPORTING.lock() {
            m.remove(&id);
        }
        let (batch, problem) = match outcome {
            Ok(batch) => (Some(batch), None),
            Err(e) => {
                tracing::warn!(job = id, error = %e, "a batch job failed");
                (None, Some(e.to_string()))
            }
        };
        let ended = handle.block_on(state.db.write(move |c| {
            store::end_job(c, id, batch.as_deref(), problem.as_deref())?;
            Ok(())
        }));
        if let Err(e) = ended {
            tracing::error!(job = id, error = %e, "cannot record the end of a batch job");
        }
    });
}

/// Writes the batch with codegen, then imports it; answers its id.
fn generate(state: &AppState, handle: &tokio::runtime::Handle, id: i64) -> Result<String> {
    let job = handle
        .block_on(state.db.run(move |c| Ok(store::find_job(c, id)?)))?
        .ok_or_else(|| Error::not_found("batch job"))?;
    let key = state.keys.current().cloned().ok_or_else(|| {
        Error::Config("no master key is configured (key_files): batches cannot be made".into())
    })?;
    let folder = batches_folder(state)?;
    let partial = folder.join(format!("job-{id}"));
    let mut spec = BatchSpec::new(
        job.sku.clone(),
        job.items as u64,
        state.settings.base_url.clone(),
        &partial,
    );
    spec.case_size = job.case_size as u32;
    spec.gtin = job
        .gtin
        .as_deref()
        .map(Gtin14::parse)
        .transpose()
        .map_err(|e| Error::BadRequest(format!("the product's GTIN: {e}")))?;
    spec.production_date = job
        .production_date
        .as_deref()
        .and_then(|d| d.parse::<NaiveDate>().ok());

    let report = |phase: JobPhase, written: i64, imported: i64| {
        let r = handle.block_on(state.db.write(move |c| {
            store::set_progress(c, id, phase, written, imported)?;
            Ok(())
        }));
        if let Err(e) = r {
            tracing::warn!(job = id, error = %e, "cannot record a batch job's progress");
        }
    };
    report(JobPhase::Writing, 0, 0);
    let mut last = Instant::now();
    let summary = codegen::batch::write_batch(&spec, &key, &mut |p| {
        if last.elapsed() >= Duration::from_millis(300) || p.done == p.total {
            last = Instant::now();
            report(JobPhase::Writing, p.done as i64, 0);
        }
    })
    .map_err(|e| Error::Import(e.to_string()))?;
    let batch_id = summary.header.id.to_string();
    let dir = folder.join(&batch_id);
    fs::rename(&partial, &dir)
        .map_err(|e| Error::Internal(format!("cannot move the batch folder: {e}")))?;
    report(JobPhase::Importing, job.items, 0);

    let (keys, key_files, actor) = (
        state.keys.clone(),
        state.settings.key_files.clone(),
        job.created_by,
    );
    // On PostgreSQL the import's progress is recorded from another connection as it goes; on
    // SQLite the import holds the one writer, so this instance keeps it in memory until then.
    let side = match state.db.backend() {
        crate::store::Backend::Postgres => Some(state.db.clone()),
        crate::store::Backend::Sqlite => None,
    };
    let items = job.items;
    let dir2 = dir.clone();
    let imported = handle.block_on(state.db.write(move |c| {
        let mut last = Instant::now();
        let mut progress = |done: u64, _total: u64| {
            if let Ok(mut m) = IMPORTING.lock() {
                m.insert(id, done as i64);
            }
            if let Some(db) = &side {
                if last.elapsed() >= Duration::from_millis(300) {
                    last = Instant::now();
                    if let Ok(mut other) = db.get() {
                        let _ = store::set_progress(
                            &mut other,
                            id,
                            JobPhase::Importing,
                            items,
                            done as i64,
                        );
                    }
                }
            }
        };
        registry::import_batch(
            c,
            &keys,
            &key_files,
            &dir2,
            ImportOptions {
                create_product: false,
                actor,
            },
            &mut progress,
        )
    }));
    if let Err(e) = imported {
        // Nothing was imported: the folder's print file (every code in clear) goes too.
        let _ = fs::remove_dir_all(&dir);
        return Err(e);
    }
    tracing::info!(job = id, batch = %batch_id, items, "batch made on the desk");
    Ok(batch_id)
}

/// The folder a batch was written to on this server, if it was made here.
pub fn batch_dir(state: &AppState, batch_id: &str) -> Result<PathBuf> {
    let id = BatchId::parse(batch_id).map_err(|_| Error::not_found("batch"))?;
    Ok(batches_folder(state)?.join(id.as_str()))
}

/// A password for a code pack: 24 symbols of a 31-letter alphabet without look-alikes (119
/// bits from the OS RNG), in groups of four, easy to read out over the phone.
pub fn new_password() -> String {
    const ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";
    let mut rng = OsRng;
    (0..6)
        .map(|_| {
            (0..4)
                .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// Makes a code pack of `batch_id`'s print file: a new password, the file encrypted to it with
/// age (scrypt passphrase) and written 0600 beside the batch, recorded and audited. Answers the
/// pack and its password, which is kept nowhere. Blocking: call from a blocking thread.
pub fn make_pack(
    state: &AppState,
    handle: &tokio::runtime::Handle,
    batch_id: &str,
    actor: i64,
) -> Result<(PackRow, String)> {
    let dir = batch_dir(state, batch_id)?;
    let print = dir.join("print.csv");
    if !print.is_file() {
        return Err(Error::refuse(
            "print_file_not_here",
            format!(
                "the print file of batch {batch_id} is not on this server (only batches made on \
                 the desk keep theirs)"
            ),
        ));
    }
    let id = batch_id.to_string();
    let pack = handle.block_on(
        state
            .db
            .write(move |c| Ok(store::create_pack(c, &id, Some(actor))?)),
    )?;
    let packs = dir.join("packs");
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&packs)
        .map_err(|e| Error::Internal(format!("cannot create {}: {e}", packs.display())))?;
    let path = packs.join(&pack.file_name);
    let password = new_password();
    let written = encrypt_file(&print, &path, &password);
    let (bytes, sha) = match written {
        Ok(v) => v,
        Err(e) => {
            let _ = fs::remove_file(&path);
            return Err(e);
        }
    };
    let (pack_id, id) = (pack.id, batch_id.to_string());
    let sha2 = sha.clone();
    handle.block_on(state.db.write(move |c| {
        store::finish_pack(c, pack_id, bytes, &sha2)?;
        audit::record(
            c,
            Some(actor),
            "code_pack.create",
            &id,
            &serde_json::json!({"pack": pack_id, "bytes": bytes, "sha256": sha2}),
        )?;
        Ok(())
    }))?;
    let pack = PackRow {
        bytes,
        sha256: sha,
        ..pack
    };
    Ok((pack, password))
}

/// Encrypts `from` into a new file `to` (0600, never overwriting) with age to `password`;
/// answers its size and SHA-256.
pub fn encrypt_file(from: &Path, to: &Path, password: &str) -> Result<(i64, String)> {
    let fail = |e: io::Error| Error::Internal(format!("code pack {}: {e}", to.display()));
    let mut input = fs::File::open(from).map_err(fail)?;
    let file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(to)
        .map_err(fail)?;
    let encryptor = age::Encryptor::with_user_passphrase(SecretString::from(password.to_owned()));
    let mut out = encryptor.wrap_output(BufWriter::new(file)).map_err(fail)?;
    io::copy(&mut input, &mut out).map_err(fail)?;
    let mut file = out.finish().map_err(fail)?;
    file.flush().map_err(fail)?;
    let mut hasher = Sha256::new();
    let mut read = fs::File::open(to).map_err(fail)?;
    let mut buf = vec![0u8; 1 << 16];
    let mut bytes = 0i64;
    loop {
        let n = read.read(&mut buf).map_err(fail)?;
        if n == 0 {
            break;
        }
        bytes += n as i64;
        hasher.update(&buf[..n]);
    }
    Ok((bytes, data_encoding::HEXLOWER.encode(&hasher.finalize())))
}

/// Label files a download can be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelFile {
    Pdf,
    Zpl,
}

impl LabelFile {
    pub fn limit(self) -> i64 {
        match self {
            LabelFile::Pdf => MAX_PDF_LABELS,
            LabelFile::Zpl => MAX_ZPL_LABELS,
        }
    }
}

/// A `Write` that hands 64 KiB chunks to an HTTP body as they fill, waiting while the client
/// is slower than the renderer: memory stays flat whatever the batch's size.
struct ChannelWriter {
    tx: mpsc::Sender<io::Result<Bytes>>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buf,
            Vec::with_capacity(1 << 16),
        ));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the download was cancelled"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= 1 << 16 {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

/// Renders the item labels of `range` of `batch` as `file`, streamed through the answer: items
/// are read from the registry 2,000 at a time, their tags derived again from the batch key.
pub fn stream_labels(
    state: AppState,
    batch: BatchRow,
    range: IndexRange,
    file: LabelFile,
) -> mpsc::Receiver<io::Result<Bytes>> {
    let (tx, rx) = mpsc::channel(8);
    tokio::task::spawn_blocking(move || {
        let out = ChannelWriter {
            tx: tx.clone(),
            buf: Vec::with_capacity(1 << 16),
        };
        if let Err(e) = render_labels(&state, &batch, &range, file, out) {
            tracing::warn!(batch = %batch.id, error = %e, "label download stopped");
            let _ = tx.blocking_send(Err(io::Error::other(e.to_string())));
        }
    });
    rx
}

fn render_labels(
    state: &AppState,
    batch: &BatchRow,
    range: &IndexRange,
    file: LabelFile,
    out: ChannelWriter,
) -> Result<()> {
    let opts = LabelOptions::default();
    let label_err = |e: codegen::Error| Error::Internal(format!("labels: {e}"));
    let io_err = |e: io::Error| Error::Internal(format!("labels: {e}"));
    match file {
        LabelFile::Pdf => {
            let mut sheets =
                SheetWriter::new(out, SheetLayout::default(), opts).map_err(label_err)?;
            each_label(state, batch, range, |url, serial| {
                sheets.add(url, serial).map_err(label_err)
            })?;
            sheets.finish().map_err(label_err)?.flush().map_err(io_err)
        }
        LabelFile::Zpl => {
            let mut out = out;
            each_label(state, batch, range, |url, serial| {
                let zpl = codegen::label::zpl::render_zpl(url, serial, &opts).map_err(label_err)?;
                out.write_all(zpl.as_bytes()).map_err(io_err)
            })?;
            out.flush().map_err(io_err)
        }
    }
}

/// Calls `f` with the anti-counterfeit URL and the serial of every item of `range`, in order:
/// read 2,000 at a time, each tag derived again from the batch key.
fn each_label(
    state: &AppState,
    batch: &BatchRow,
    range: &IndexRange,
    mut f: impl FnMut(&str, &str) -> Result<()>,
) -> Result<()> {
    let id = BatchId::parse(&batch.id).map_err(|_| Error::not_found("batch"))?;
    let key = state.keys.batch_key(&batch.key_id, &id).ok_or_else(|| {
        Error::Config(format!(
            "no master key {} for batch {}",
            batch.key_id, batch.id
        ))
    })?;
    let base = state.settings.base_url.trim_end_matches('/').to_string();
    let mut conn = state.db.get()?;
    let mut from = range.from;
    while from <= range.to {
        let to = (from + 1999).min(range.to);
        for (serial, _, _) in store::item_slice(&mut conn, &batch.id, from, to)? {
            let parsed = Serial::parse(&serial).map_err(|e| Error::Internal(e.to_string()))?;
            let url = codegen::batch::verify_url(&base, &parsed, &key.tag(&parsed));
            f(&url, &serial)?;
        }
        from = to + 1;
    }
    Ok(())
}

/// Records a download in the audit log (who took which file of which batch).
pub fn audit_download(
    conn: &mut DbConnection,
    actor: i64,
    batch_id: &str,
    what: &str,
    detail: serde_json::Value,
) -> Result<()> {
    Ok(audit::record(conn, Some(actor), what, batch_id, &detail)?)
}

/// Shared with the job page: a job and, when it imports on this instance, its live count.
pub fn job_with_progress(mut job: JobRow) -> JobRow {
    if job.phase() == JobPhase::Importing {
        if let Some(n) = importing(job.id) {
            job.imported = job.imported.max(n);
        }
    }
    job
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decrypt(pack: &[u8], password: &str) -> Option<Vec<u8>> {
        let identity = age::scrypt::Identity::new(SecretString::from(password.to_owned()));
        let mut reader = age::Decryptor::new(pack)
            .ok()?
            .decrypt(std::iter::once(&identity as &dyn age::Identity))
            .ok()?;
        let mut out = Vec::new();
        reader.read_to_end(&mut out).ok()?;
        Some(out)
    }

    #[test]
    fn a_pack_is_private_decrypts_with_its_password_only_and_is_never_overwritten() {
        let dir = tempfile::tempdir().expect("temp dir");
        let print = dir.path().join("print.csv");
        let text = "serial,security_code,verify_url,logistics_url,case_code\nA,1234 5678,u,l,c\n";
        fs::write(&print, text).expect("write");
        let pack = dir.path().join("p.csv.age");
        let password = new_password();
        assert_eq!(password.len(), 29, "{password}");
        assert_ne!(password, new_password());
        let (bytes, sha) = encrypt_file(&print, &pack, &password).expect("encrypt");
        let sealed = fs::read(&pack).expect("read");
        assert_eq!(bytes as usize, sealed.len());
        assert_eq!(sha.len(), 64);
        let mode = fs::metadata(&pack).expect("meta").permissions();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
            0o600
        );
        assert_eq!(
            decrypt(&sealed, &password).as_deref(),
            Some(text.as_bytes())
        );
        assert!(decrypt(&sealed, &new_password()).is_none());
        assert!(
            encrypt_file(&print, &pack, &password).is_err(),
            "never overwritten"
        );
        if let Some(out) = std::env::var_os("CHAINMARK_PACK_OUT") {
            fs::copy(&pack, &out).expect("copy");
            eprintln!("password: {password}");
        }
    }
}
