//! Generating a batch: the folder of `docs/codes.md` § "Batch output folder" — `print.csv`,
//! `import.jsonl` (sealed), `batch.json` and, on request, `labels/`.
//!
//! ```no_run
//! use codegen::batch::{BatchSpec, write_batch};
//! use codegen::keys::MasterKey;
//! # fn main() -> codegen::Result<()> {
//! let key = MasterKey::load("master.key".as_ref())?;
//! let spec = BatchSpec::new("SKU-1", 10_000, "https://chainmark.example", "out/batch-1");
//! let summary = write_batch(&spec, &key, &mut |p| eprintln!("{}/{}", p.done, p.total))?;
//! println!("batch {} written", summary.header.id);
//! # Ok(()) }
//! ```
//!
//! Guarantees: the spec and the output folder are checked before anything is written; rows are
//! streamed (memory does not grow with the batch); the folder appears only when complete (see
//! `folder.rs`); the SSCC counter advances only after that.
//!
//! Labels: when `spec.labels` is set, every case and item is also fed, in file order, to a
//! [`crate::label::LabelFolder`] created inside the temporary folder (`labels/`): cases get the
//! case URL, items the anti-counterfeit URL. Rendering lives in [`crate::label`].

mod folder;
mod lines;
pub mod records;
pub mod spec;
pub mod sscc_counter;

use std::fs;

use chrono::{SecondsFormat, Utc};
use rand::SeedableRng;
use rand::rngs::{OsRng, StdRng};

use crate::error::{Error, Result};
use crate::gs1::Sscc;
use crate::keys::MasterKey;
use crate::label::{LabelFolder, LabelSink};
use crate::payload::CaseId;
use crate::security::SecurityCode;
use crate::serial::{BatchId, CaseCode, Serial};

pub use records::{BatchHeader, CaseRecord, ItemRecord, Manifest, Record};
pub use spec::{BatchSpec, DEFAULT_CASE_SIZE};
pub use sscc_counter::{SsccCounter, counter_path};

use folder::TempFolder;
use lines::{ImportWriter, OutFile};

/// How far generation is; passed to the progress hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Items written so far.
    pub done: u64,
    /// Items in the batch.
    pub total: u64,
}

/// Items between two calls of the progress hook.
pub const PROGRESS_EVERY: u64 = 8192;

/// What a successful [`write_batch`] produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchSummary {
    /// The batch line of `import.jsonl`.
    pub header: BatchHeader,
    /// SHA-256 of `import.jsonl`.
    pub import_sha256: String,
    /// SSCC serial references used, `first..end`, when cases got SSCCs.
    pub sscc_range: Option<(u64, u64)>,
}

/// Generates the batch described by `spec` under `key` into `spec.out`.
///
/// `progress` is called every [`PROGRESS_EVERY`] items and once at the end; pass `&mut |_| {}`
/// for none. Errors: [`Error::InvalidInput`] (spec), [`Error::OutputExists`] /
/// [`Error::OutputUnwritable`] (folder), [`Error::SsccCounter`] / [`Error::KeyIo`] (counter),
/// [`Error::Io`] (mid-way; nothing is left behind).
pub fn write_batch(
    spec: &BatchSpec,
    key: &MasterKey,
    progress: &mut dyn FnMut(Progress),
) -> Result<BatchSummary> {
    let mut plan = spec.plan()?;
    let tmp = TempFolder::create(&plan.parent, &plan.name, &spec.out)?;
    let header = BatchHeader {
        id: BatchId::random(),
        key_id: key.key_id(),
        product: spec.product.clone(),
        gtin: spec.gtin,
        company_prefix: spec.company_prefix.clone(),
        base_url: plan.base_url.clone(),
        items: spec.items,
        cases: plan.cases,
        case_size: spec.case_size,
        production_date: spec.production_date,
        created_at: Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
    };
    let mut labels = match spec.labels.filter(|l| !l.is_empty()) {
        Some(formats) => Some(LabelFolder::create(
            tmp.path(),
            formats,
            spec.label_options,
        )?),
        None => None,
    };
    let import_sha256 = write_files(spec, key, &plan, &header, &tmp, &mut labels, progress)?;
    let manifest = Manifest::new(&header, import_sha256.clone());
    let manifest_path = tmp.path().join("batch.json");
    let mut json = serde_json::to_vec_pretty(&manifest).map_err(|e| Error::Io {
        path: manifest_path.clone(),
        source: e.into(),
    })?;
    json.push(b'\n');
    let mut file = OutFile::create(manifest_path)?;
    file.write(&json)?;
    file.finish()?;
    tmp.commit(&spec.out)?;

    let sscc_range = plan.sscc_first.map(|first| (first, first + plan.cases));
    if let (Some(counter), Some(prefix), Some((_, end))) =
        (plan.counter.as_mut(), &spec.company_prefix, sscc_range)
    {
        counter.advance(prefix, end)?;
    }
    Ok(BatchSummary {
        header,
        import_sha256,
        sscc_range,
    })
}

/// Streams `print.csv` and `import.jsonl` (and labels) into the temporary folder.
fn write_files(
    spec: &BatchSpec,
    key: &MasterKey,
    plan: &spec::Plan,
    header: &BatchHeader,
    tmp: &TempFolder,
    labels: &mut Option<LabelFolder>,
    progress: &mut dyn FnMut(Progress),
) -> Result<String> {
    let batch_key = key.batch_key(&header.id);
    let mut csv = OutFile::create(tmp.path().join("print.csv"))?;
    let mut import = ImportWriter::new(
        OutFile::create(tmp.path().join("import.jsonl"))?,
        batch_key.sealer(),
    );
    csv.write(lines::CSV_HEADER)?;
    let first_line = records::HeaderLine {
        kind: "batch".to_owned(),
        version: records::IMPORT_VERSION,
        header: header.clone(),
    };
    let mut buf = serde_json::to_vec(&first_line).map_err(|e| Error::Io {
        path: csv.path().to_owned(),
        source: e.into(),
    })?;
    buf.push(b'\n');
    import.write(&buf)?;

    let mut rng = StdRng::from_rng(OsRng).map_err(|e| Error::Io {
        path: tmp.path().to_owned(),
        source: std::io::Error::other(e),
    })?;
    let base = plan.base_url.as_str();
    let gtin = spec.gtin.as_ref();
    let (mut csv_buf, mut url) = (Vec::with_capacity(1 << 16), Vec::with_capacity(256));
    buf.clear();
    let case_size = u64::from(spec.case_size);
    for case_index in 0..plan.cases {
        let case = match (&spec.company_prefix, plan.sscc_first) {
            (Some(prefix), Some(first)) => CaseId::Sscc(Sscc::build(prefix, first + case_index)?),
            _ => CaseId::Code(CaseCode::new(&header.id, case_index)?),
        };
        lines::push_case_line(&mut buf, &case, case_index);
        if let Some(labels) = labels.as_mut() {
            labels.case(case.as_str(), &lines::case_url(base, &case))?;
        }
        let end = ((case_index + 1) * case_size).min(spec.items);
        for index in case_index * case_size..end {
            let serial = Serial::new(&header.id, index)?;
            let tag = batch_key.tag(&serial);
            let code = SecurityCode::generate(&mut rng);
            let code_hash = batch_key.code_hash(&serial, &code);
            url.clear();
            lines::push_verify_url(&mut url, base, &serial, &tag);
            lines::push_csv_row(&mut csv_buf, &serial, &code, &url, base, gtin, &case);
            lines::push_item_line(&mut buf, &serial, index, &tag, &code_hash, &case);
            if let Some(labels) = labels.as_mut() {
                // `url` is ASCII built from checked parts.
                labels.item(
                    serial.as_str(),
                    std::str::from_utf8(&url).unwrap_or_default(),
                )?;
            }
            if buf.len() >= 1 << 16 {
                import.write(&buf)?;
                csv.write(&csv_buf)?;
                buf.clear();
                csv_buf.clear();
            }
            if (index + 1) % PROGRESS_EVERY == 0 {
                progress(Progress {
                    done: index + 1,
                    total: spec.items,
                });
            }
        }
    }
    import.write(&buf)?;
    csv.write(&csv_buf)?;
    if let Some(labels) = labels.as_mut() {
        labels.finish()?;
    }
    csv.finish()?;
    let sha = import.seal(spec.items, plan.cases)?;
    progress(Progress {
        done: spec.items,
        total: spec.items,
    });
    Ok(sha)
}

/// The anti-counterfeit URL of an item, `{base}/v/{serial}?t={tag}`, as its label carries it.
pub fn verify_url(base: &str, serial: &Serial, tag: &crate::keys::Tag) -> String {
    let mut url = Vec::with_capacity(base.len() + 48);
    lines::push_verify_url(
        &mut url,
        base.strip_suffix('/').unwrap_or(base),
        serial,
        tag,
    );
    // Built from ASCII parts: a base URL checked by the caller, a serial and a base32 tag.
    String::from_utf8_lossy(&url).into_owned()
}

/// Reads back `batch.json` of a batch folder.
pub fn read_manifest(dir: &std::path::Path) -> Result<Manifest> {
    let path = dir.join("batch.json");
    let bytes = fs::read(&path).map_err(Error::io(&path))?;
    serde_json::from_slice(&bytes).map_err(|e| Error::Import {
        path,
        line: 0,
        problem: crate::error::ImportProblem::Malformed(e.to_string()),
    })
}
