//! The bytes of the batch files: URLs, `print.csv` rows and `import.jsonl` lines, formatted by
//! hand into reused buffers (every value is plain ASCII needing no quoting or escaping — the
//! base URL is checked for that), plus the writer that hashes and seals `import.jsonl`.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use data_encoding::HEXLOWER;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::gs1::Gtin14;
use crate::keys::{CodeHash, Sealer, Tag};
use crate::payload::CaseId;
use crate::security::SecurityCode;
use crate::serial::Serial;

/// Header row of `print.csv`.
pub(crate) const CSV_HEADER: &[u8] = b"serial,security_code,verify_url,logistics_url,case_code\n";

/// Appends the decimal form of `n`.
pub(crate) fn push_u64(out: &mut Vec<u8>, n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut n = n;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// `{base}/v/{serial}?t={tag}`.
pub(crate) fn push_verify_url(out: &mut Vec<u8>, base: &str, serial: &Serial, tag: &Tag) {
    out.extend_from_slice(base.as_bytes());
    out.extend_from_slice(b"/v/");
    out.extend_from_slice(serial.as_bytes());
    out.extend_from_slice(b"?t=");
    out.extend_from_slice(tag.as_str().as_bytes());
}

/// `{base}/01/{gtin14}/21/{serial}` or `{base}/s/{serial}`.
pub(crate) fn push_logistics_url(
    out: &mut Vec<u8>,
    base: &str,
    gtin: Option<&Gtin14>,
    serial: &Serial,
) {
    out.extend_from_slice(base.as_bytes());
    match gtin {
        Some(gtin) => {
            out.extend_from_slice(b"/01/");
            out.extend_from_slice(gtin.as_str().as_bytes());
            out.extend_from_slice(b"/21/");
        }
        None => out.extend_from_slice(b"/s/"),
    }
    out.extend_from_slice(serial.as_bytes());
}

/// `{base}/00/{sscc}` or `{base}/c/{case_code}`.
pub(crate) fn case_url(base: &str, case: &CaseId) -> String {
    match case {
        CaseId::Sscc(s) => format!("{base}/00/{s}"),
        CaseId::Code(c) => format!("{base}/c/{c}"),
    }
}

/// One `print.csv` row; `verify_url` is the already formatted anti-counterfeit URL.
pub(crate) fn push_csv_row(
    out: &mut Vec<u8>,
    serial: &Serial,
    code: &SecurityCode,
    verify_url: &[u8],
    base: &str,
    gtin: Option<&Gtin14>,
    case: &CaseId,
) {
    out.extend_from_slice(serial.as_bytes());
    out.push(b',');
    code.write_grouped(out);
    out.push(b',');
    out.extend_from_slice(verify_url);
    out.push(b',');
    push_logistics_url(out, base, gtin, serial);
    out.push(b',');
    out.extend_from_slice(case.as_str().as_bytes());
    out.push(b'\n');
}

/// `{"type":"case","code":…,"sscc":…,"index":…}`.
pub(crate) fn push_case_line(out: &mut Vec<u8>, case: &CaseId, index: u64) {
    out.extend_from_slice(b"{\"type\":\"case\",\"code\":\"");
    out.extend_from_slice(case.as_str().as_bytes());
    match case {
        CaseId::Sscc(s) => {
            out.extend_from_slice(b"\",\"sscc\":\"");
            out.extend_from_slice(s.as_str().as_bytes());
            out.extend_from_slice(b"\",\"index\":");
        }
        CaseId::Code(_) => out.extend_from_slice(b"\",\"sscc\":null,\"index\":"),
    }
    push_u64(out, index);
    out.extend_from_slice(b"}\n");
}

/// `{"type":"item","serial":…,"index":…,"tag":…,"code_hash":…,"case":…}`.
pub(crate) fn push_item_line(
    out: &mut Vec<u8>,
    serial: &Serial,
    index: u64,
    tag: &Tag,
    code_hash: &CodeHash,
    case: &CaseId,
) {
    out.extend_from_slice(b"{\"type\":\"item\",\"serial\":\"");
    out.extend_from_slice(serial.as_bytes());
    out.extend_from_slice(b"\",\"index\":");
    push_u64(out, index);
    out.extend_from_slice(b",\"tag\":\"");
    out.extend_from_slice(tag.as_str().as_bytes());
    out.extend_from_slice(b"\",\"code_hash\":\"");
    out.extend_from_slice(code_hash.as_str().as_bytes());
    out.extend_from_slice(b"\",\"case\":\"");
    out.extend_from_slice(case.as_str().as_bytes());
    out.extend_from_slice(b"\"}\n");
}

/// A buffered file writer that names its path in errors.
pub(crate) struct OutFile {
    path: PathBuf,
    inner: BufWriter<File>,
}

impl OutFile {
    /// Creates the file 0600: `print.csv` holds every security code in clear, `import.jsonl`
    /// their sealed form; neither is for other users of the machine.
    pub fn create(path: PathBuf) -> Result<Self> {
        use std::os::unix::fs::OpenOptionsExt;
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)
            .map_err(Error::io(&path))?;
        Ok(OutFile {
            inner: BufWriter::with_capacity(1 << 20, file),
            path,
        })
    }

    pub fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.inner.write_all(bytes).map_err(Error::io(&self.path))
    }

    /// Flushes and syncs the file to disk.
    pub fn finish(self) -> Result<()> {
        let file = self
            .inner
            .into_inner()
            .map_err(|e| Error::io(&self.path)(e.into_error()))?;
        file.sync_all().map_err(Error::io(&self.path))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// `import.jsonl`: every byte goes through SHA-256 (for `batch.json`) and, until the seal line,
/// through the seal MAC.
pub(crate) struct ImportWriter {
    file: OutFile,
    sha: Sha256,
    sealer: Option<Sealer>,
}

impl ImportWriter {
    pub fn new(file: OutFile, sealer: Sealer) -> Self {
        ImportWriter {
            file,
            sha: Sha256::new(),
            sealer: Some(sealer),
        }
    }

    pub fn write(&mut self, bytes: &[u8]) -> Result<()> {
        self.sha.update(bytes);
        if let Some(sealer) = &mut self.sealer {
            sealer.update(bytes);
        }
        self.file.write(bytes)
    }

    /// Writes the seal line, syncs, and returns the SHA-256 of the whole file.
    pub fn seal(mut self, items: u64, cases: u64) -> Result<String> {
        let mac = self.sealer.take().map(Sealer::finish).unwrap_or_default();
        let mut line = Vec::with_capacity(160);
        line.extend_from_slice(b"{\"type\":\"seal\",\"items\":");
        push_u64(&mut line, items);
        line.extend_from_slice(b",\"cases\":");
        push_u64(&mut line, cases);
        line.extend_from_slice(b",\"mac\":\"");
        line.extend_from_slice(mac.as_bytes());
        line.extend_from_slice(b"\"}\n");
        self.write(&line)?;
        let digest = HEXLOWER.encode(&self.sha.finalize());
        self.file.finish()?;
        Ok(digest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal() {
        for n in [0, 7, 10, 123_456_789, u64::MAX] {
            let mut v = Vec::new();
            push_u64(&mut v, n);
            assert_eq!(v, n.to_string().as_bytes());
        }
    }
}
