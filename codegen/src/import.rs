//! Reading a batch folder back — what the server calls to import a batch — verified, streaming.
//!
//! ```no_run
//! use codegen::import::{VerifiedImport, peek_key_id};
//! use codegen::batch::Record;
//! use codegen::keys::MasterKey;
//! # fn main() -> codegen::Result<()> {
//! let dir = std::path::Path::new("out/batch-1");
//! let key_id = peek_key_id(dir)?; // pick the master key with this id
//! let key = MasterKey::load("master.key".as_ref())?;
//! // Pass 1: checks everything, keeps nothing in memory. Refuses the folder on any problem.
//! let import = VerifiedImport::open(dir, &key)?;
//! println!("batch {} with {} items", import.header().id, import.header().items);
//! // Pass 2: streams the records, in file order (each case, then its items).
//! for record in import.records()? {
//!     match record? {
//!         Record::Case(case) => { /* insert case */ }
//!         Record::Item(item) => { /* insert item with item.code_hash, item.case_index */ }
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! What [`VerifiedImport::open`] checks (any failure is an [`Error::Import`] naming the file,
//! the line and an [`ImportProblem`]):
//! - `batch.json` and the batch line of `import.jsonl` parse and agree; version is 1;
//! - the key id is the given key's ([`ImportProblem::WrongKey`]);
//! - every case and item line: well-formed codes, consecutive indices, serials and case codes of
//!   this batch, every item inside the case it names, full cases except the last;
//! - every tag verifies ([`ImportProblem::ForgedTag`]);
//! - the seal line is there ([`ImportProblem::Truncated`]), its counts match, its MAC matches
//!   every preceding byte ([`ImportProblem::Tampered`]), nothing follows it;
//! - the SHA-256 of `import.jsonl` is the `import_sha256` of `batch.json`.
//!
//! [`VerifiedImport::records`] reads the file again with the same checks of form and order, and
//! its last item is an error ([`ImportProblem::Changed`]) if the bytes differ from those verified
//! — so run the import inside a database transaction and roll back on any `Err`. It does not work
//! out the tags and the seal's MAC again: bytes with the SHA-256 verified are the bytes whose tags
//! and MAC verified, and different bytes end in that error before anything commits. (Those keyed
//! checks were a tenth of a 10,000,000-code import's time on SQLite, BENCHMARKS.md.)

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use data_encoding::HEXLOWER;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::batch::records::{HeaderLine, IMPORT_VERSION};
use crate::batch::{BatchHeader, CaseRecord, ItemRecord, Manifest, Record, read_manifest};
use crate::error::{Error, ImportProblem, Result};
use crate::gs1::Sscc;
use crate::keys::{BatchKey, CodeHash, MasterKey, Sealer, Tag};
use crate::payload::CaseId;
use crate::serial::{CaseCode, Serial};

/// Longest line accepted in `import.jsonl`; a longer one is malformed (and not read whole).
pub const MAX_LINE: u64 = 64 * 1024;

/// The key id a batch folder claims (from `batch.json`), unverified: use it to choose the key to
/// pass to [`VerifiedImport::open`], which checks it.
pub fn peek_key_id(dir: &Path) -> Result<String> {
    Ok(read_manifest(dir)?.key_id)
}

/// A batch folder whose `import.jsonl` has been verified in full.
#[derive(Debug)]
pub struct VerifiedImport {
    path: PathBuf,
    header: BatchHeader,
    manifest: Manifest,
    batch_key: BatchKey,
    sha256: String,
}

impl VerifiedImport {
    /// Verifies the batch folder `dir` under `key` (pass 1; see the module docs).
    pub fn open(dir: &Path, key: &MasterKey) -> Result<Self> {
        let manifest = read_manifest(dir)?;
        let path = dir.join("import.jsonl");
        let mut scanner = Scanner::open(&path, key)?;
        if !manifest_matches(&manifest, &scanner.header) {
            return Err(scanner.fail(
                1,
                ImportProblem::Inconsistent(
                    "batch.json and import.jsonl describe different batches".into(),
                ),
            ));
        }
        while scanner.next_record()?.is_some() {}
        let sha256 = scanner.digest();
        if sha256 != manifest.import_sha256 {
            return Err(scanner.fail(
                0,
                ImportProblem::Inconsistent(
                    "import_sha256 in batch.json does not match import.jsonl".into(),
                ),
            ));
        }
        Ok(VerifiedImport {
            path,
            header: scanner.header,
            manifest,
            batch_key: scanner.batch_key,
            sha256,
        })
    }

    /// The batch line.
    pub fn header(&self) -> &BatchHeader {
        &self.header
    }

    /// `batch.json`.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The batch key, to verify tags and security codes of this batch later.
    pub fn batch_key(&self) -> &BatchKey {
        &self.batch_key
    }

    /// Streams the records (pass 2): each case, then its items, in file order. The iterator
    /// ends after the last record; a final `Err` means the file changed since [`Self::open`].
    pub fn records(&self) -> Result<Records> {
        let mut scanner =
            Scanner::open_with(&self.path, self.batch_key.clone(), &self.header.key_id)?;
        if scanner.header != self.header {
            return Err(scanner.fail(1, ImportProblem::Changed));
        }
        scanner.expected_sha = Some(self.sha256.clone());
        // The digest at the end stands for the keyed checks (see the module's documentation).
        scanner.sealer = None;
        Ok(Records {
            scanner,
            done: false,
        })
    }
}

fn manifest_matches(m: &Manifest, h: &BatchHeader) -> bool {
    m.id == h.id
        && m.key_id == h.key_id
        && m.product == h.product
        && m.gtin == h.gtin
        && m.company_prefix == h.company_prefix
        && m.items == h.items
        && m.cases == h.cases
        && m.case_size == h.case_size
        && m.production_date == h.production_date
        && m.created_at == h.created_at
}

/// The records of a verified import; see [`VerifiedImport::records`].
#[derive(Debug)]
pub struct Records {
    scanner: Scanner,
    done: bool,
}

impl Iterator for Records {
    type Item = Result<Record>;

    fn next(&mut self) -> Option<Result<Record>> {
        if self.done {
            return None;
        }
        match self.scanner.next_record() {
            Ok(Some(record)) => Some(Ok(record)),
            Ok(None) => {
                self.done = true;
                let same = Some(self.scanner.digest()) == self.scanner.expected_sha;
                (!same).then(|| Err(self.scanner.fail(0, ImportProblem::Changed)))
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// One line after the batch line; fields by line type.
#[derive(Deserialize)]
struct RawLine<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    index: Option<u64>,
    // case
    code: Option<&'a str>,
    sscc: Option<Sscc>,
    // item
    serial: Option<Serial>,
    tag: Option<Tag>,
    code_hash: Option<CodeHash>,
    case: Option<&'a str>,
    // seal
    items: Option<u64>,
    cases: Option<u64>,
    mac: Option<&'a str>,
}

/// Reads and checks `import.jsonl` line by line.
#[derive(Debug)]
struct Scanner {
    path: PathBuf,
    reader: BufReader<File>,
    line: Vec<u8>,
    line_no: u64,
    sha: Sha256,
    sealer: Option<Sealer>,
    header: BatchHeader,
    batch_key: BatchKey,
    /// The current case, and how many items it has had.
    case: Option<(CaseRecord, u64)>,
    cases_seen: u64,
    items_seen: u64,
    sealed: bool,
    expected_sha: Option<String>,
}

impl Scanner {
    fn open(path: &Path, key: &MasterKey) -> Result<Self> {
        Self::open_inner(path, |header| {
            let key_id = key.key_id();
            if header.key_id != key_id {
                return Err(ImportProblem::WrongKey {
                    expected: key_id,
                    found: header.key_id.clone(),
                });
            }
            Ok(key.batch_key(&header.id))
        })
    }

    fn open_with(path: &Path, batch_key: BatchKey, key_id: &str) -> Result<Self> {
        Self::open_inner(path, |header| {
            if header.key_id == key_id {
                Ok(batch_key)
            } else {
                Err(ImportProblem::Changed)
            }
        })
    }

    fn open_inner(
        path: &Path,
        key_for: impl FnOnce(&BatchHeader) -> Result<BatchKey, ImportProblem>,
    ) -> Result<Self> {
        let fail = |line, problem| Error::Import {
            path: path.to_owned(),
            line,
            problem,
        };
        let file = File::open(path).map_err(Error::io(path))?;
        let mut reader = BufReader::with_capacity(1 << 20, file);
        let mut line = Vec::with_capacity(1024);
        read_line(&mut reader, &mut line).map_err(Error::io(path))?;
        if !line.ends_with(b"\n") {
            return Err(fail(1, ImportProblem::Truncated));
        }
        let first: HeaderLine = serde_json::from_slice(&line)
            .map_err(|e| fail(1, ImportProblem::Malformed(format!("batch line: {e}"))))?;
        if first.kind != "batch" || first.version != IMPORT_VERSION {
            return Err(fail(
                1,
                ImportProblem::Malformed(format!(
                    "the first line must be the batch line of version {IMPORT_VERSION}"
                )),
            ));
        }
        let header = first.header;
        if header.items == 0 || header.case_size == 0 {
            return Err(fail(
                1,
                ImportProblem::Inconsistent("empty batch or case size 0".into()),
            ));
        }
        if header.cases != header.items.div_ceil(u64::from(header.case_size)) {
            return Err(fail(
                1,
                ImportProblem::Inconsistent("cases do not match items and case size".into()),
            ));
        }
        let batch_key = key_for(&header).map_err(|p| fail(1, p))?;
        let mut sha = Sha256::new();
        sha.update(&line);
        let mut sealer = batch_key.sealer();
        sealer.update(&line);
        Ok(Scanner {
            path: path.to_owned(),
            reader,
            line,
            line_no: 1,
            sha,
            sealer: Some(sealer),
            header,
            batch_key,
            case: None,
            cases_seen: 0,
            items_seen: 0,
            sealed: false,
            expected_sha: None,
        })
    }

    fn fail(&self, line: u64, problem: ImportProblem) -> Error {
        Error::Import {
            path: self.path.clone(),
            line,
            problem,
        }
    }

    fn digest(&self) -> String {
        HEXLOWER.encode(&self.sha.clone().finalize())
    }

    /// The next case or item, `None` after a valid seal line at the very end.
    fn next_record(&mut self) -> Result<Option<Record>> {
        loop {
            read_line(&mut self.reader, &mut self.line).map_err(Error::io(&self.path))?;
            if self.line.is_empty() {
                return if self.sealed {
                    Ok(None)
                } else {
                    Err(self.fail(self.line_no, ImportProblem::Truncated))
                };
            }
            self.line_no += 1;
            if self.sealed {
                return Err(self.bad("content after the seal line"));
            }
            if !self.line.ends_with(b"\n") {
                let problem = if self.line.len() as u64 > MAX_LINE {
                    ImportProblem::Malformed("line too long".into())
                } else {
                    ImportProblem::Truncated
                };
                return Err(self.fail(self.line_no, problem));
            }
            self.sha.update(&self.line);
            let line = std::mem::take(&mut self.line);
            let result = self.check_line(&line);
            self.line = line;
            match result? {
                Some(record) => return Ok(Some(record)),
                None => continue,
            }
        }
    }

    fn bad(&self, why: impl Into<String>) -> Error {
        self.fail(self.line_no, ImportProblem::Malformed(why.into()))
    }

    fn inconsistent(&self, why: impl Into<String>) -> Error {
        self.fail(self.line_no, ImportProblem::Inconsistent(why.into()))
    }

    fn check_line(&mut self, bytes: &[u8]) -> Result<Option<Record>> {
        let raw: RawLine<'_> =
            serde_json::from_slice(bytes).map_err(|e| self.bad(e.to_string()))?;
        match raw.kind {
            "case" => {
                let record = self.check_case(&raw)?;
                self.feed_seal(bytes);
                Ok(Some(Record::Case(record)))
            }
            "item" => {
                let record = self.check_item(&raw)?;
                self.feed_seal(bytes);
                Ok(Some(Record::Item(record)))
            }
            "seal" => {
                self.check_seal(&raw)?;
                Ok(None)
            }
            other => Err(self.bad(format!("unexpected line type {other:?}"))),
        }
    }

    fn feed_seal(&mut self, bytes: &[u8]) {
        if let Some(sealer) = &mut self.sealer {
            sealer.update(bytes);
        }
    }

    fn close_case(&self) -> Result<()> {
        if let Some((case, n)) = &self.case {
            let last = case.index + 1 == self.header.cases;
            if n == &0 || (!last && *n != u64::from(self.header.case_size)) {
                return Err(self.inconsistent(format!(
                    "case {} has {n} items, expected {}",
                    case.id.as_str(),
                    self.header.case_size
                )));
            }
        }
        Ok(())
    }

    fn check_case(&mut self, raw: &RawLine<'_>) -> Result<CaseRecord> {
        self.close_case()?;
        let index = raw.index.ok_or_else(|| self.bad("case without index"))?;
        if index != self.cases_seen || index >= self.header.cases {
            return Err(
                self.inconsistent(format!("case index {index}, expected {}", self.cases_seen))
            );
        }
        let code = raw.code.ok_or_else(|| self.bad("case without code"))?;
        let id = match (&self.header.company_prefix, raw.sscc) {
            (Some(prefix), Some(sscc)) => {
                if code != sscc.as_str() || !sscc.as_str()[1..].starts_with(prefix.as_str()) {
                    return Err(
                        self.inconsistent("SSCC does not match the code or the company prefix")
                    );
                }
                CaseId::Sscc(sscc)
            }
            (None, None) => {
                let case = CaseCode::parse(code).map_err(|e| self.bad(e.to_string()))?;
                if case.batch_id() != self.header.id || case.index() != index {
                    return Err(self.inconsistent(format!(
                        "case code {case} is not case {index} of this batch"
                    )));
                }
                CaseId::Code(case)
            }
            _ => {
                return Err(self
                    .inconsistent("sscc must be present exactly when there is a company prefix"));
            }
        };
        let record = CaseRecord { index, id };
        self.case = Some((record, 0));
        self.cases_seen += 1;
        Ok(record)
    }

    fn check_item(&mut self, raw: &RawLine<'_>) -> Result<ItemRecord> {
        let Some((case, in_case)) = self.case else {
            return Err(self.inconsistent("item before any case"));
        };
        let (Some(serial), Some(index), Some(tag), Some(code_hash), Some(case_code)) =
            (raw.serial, raw.index, raw.tag, raw.code_hash, raw.case)
        else {
            return Err(self.bad("item needs serial, index, tag, code_hash and case"));
        };
        if index != self.items_seen || index >= self.header.items {
            return Err(
                self.inconsistent(format!("item index {index}, expected {}", self.items_seen))
            );
        }
        if serial.batch_id() != self.header.id || serial.index() != index {
            return Err(
                self.inconsistent(format!("serial {serial} is not item {index} of this batch"))
            );
        }
        if case_code != case.id.as_str() {
            return Err(self.inconsistent(format!(
                "item {serial} names case {case_code}, but is inside {}",
                case.id.as_str()
            )));
        }
        if in_case >= u64::from(self.header.case_size) {
            return Err(self.inconsistent(format!(
                "case {} holds more than {} items",
                case.id.as_str(),
                self.header.case_size
            )));
        }
        if self.expected_sha.is_none() && !self.batch_key.verify_tag(&serial, tag.as_str()) {
            return Err(self.fail(
                self.line_no,
                ImportProblem::ForgedTag {
                    serial: serial.to_string(),
                },
            ));
        }
        self.case = Some((case, in_case + 1));
        self.items_seen += 1;
        Ok(ItemRecord {
            index,
            serial,
            tag,
            code_hash,
            case_index: case.index,
            case: case.id,
        })
    }

    fn check_seal(&mut self, raw: &RawLine<'_>) -> Result<()> {
        self.close_case()?;
        let (Some(items), Some(cases), Some(mac)) = (raw.items, raw.cases, raw.mac) else {
            return Err(self.bad("seal needs items, cases and mac"));
        };
        let h = &self.header;
        if items != h.items
            || cases != h.cases
            || self.items_seen != h.items
            || self.cases_seen != h.cases
        {
            return Err(self.inconsistent(format!(
                "counts differ: header {}/{}, seal {items}/{cases}, lines {}/{} (items/cases)",
                h.items, h.cases, self.items_seen, self.cases_seen
            )));
        }
        if self.expected_sha.is_none() {
            let sealer = self
                .sealer
                .take()
                .ok_or_else(|| self.bad("second seal line"))?;
            if !sealer.verify(mac) {
                return Err(self.fail(self.line_no, ImportProblem::Tampered));
            }
        }
        self.sealed = true;
        Ok(())
    }
}

/// Reads one line (with its `\n`, if any) into `line`, at most [`MAX_LINE`] + 1 bytes.
fn read_line(reader: &mut BufReader<File>, line: &mut Vec<u8>) -> std::io::Result<usize> {
    line.clear();
    reader.by_ref().take(MAX_LINE + 1).read_until(b'\n', line)
}
