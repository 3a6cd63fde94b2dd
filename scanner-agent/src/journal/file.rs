//! The journal's file operations that are not about records: replacing the file atomically and
//! durably, finding the next whole record after damage, opening for reading and writing.

use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;

use super::record::{self, HEAD_LEN};
use crate::error::Error;

/// Writes `header` then whatever `body` writes to a temp file next to `path`, fsyncs it, renames
/// it over `path` and fsyncs the folder so the rename itself is durable. Returns the new file,
/// open for reading and writing.
pub(super) fn write_atomically(
    path: &Path,
    header: &[u8],
    body: impl FnOnce(&mut BufWriter<File>) -> Result<(), Error>,
) -> Result<File, Error> {
    let tmp = path.with_extension("tmp");
    let io = |e| Error::io(&tmp, e);
    let created = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)
        .map_err(io)?;
    let mut out = BufWriter::with_capacity(64 * 1024, created);
    out.write_all(header).map_err(io)?;
    body(&mut out)?;
    let file = out.into_inner().map_err(|e| io(e.into_error()))?;
    file.sync_all().map_err(io)?;
    fs::rename(&tmp, path).map_err(|e| Error::io(path, e))?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(dir, e))?;
    Ok(file)
}

/// The offset of the first whole, valid record at or after `from`, if any. Reads in 1 MiB windows
/// that overlap by one maximal record, so a record straddling two windows is still seen. A false
/// match needs a 64-bit checksum collision.
pub(super) fn find_next_record(
    file: &File,
    path: &Path,
    from: u64,
    file_len: u64,
) -> Result<Option<u64>, Error> {
    const WINDOW: usize = 1 << 20;
    let max_record = HEAD_LEN + record::MAX_BODY as usize + record::CHECK_LEN;
    let mut start = from;
    let mut buf = Vec::new();
    while start < file_len {
        let remaining = usize::try_from(file_len - start).unwrap_or(usize::MAX);
        let want = remaining.min(WINDOW + max_record);
        buf.resize(want, 0);
        file.read_exact_at(&mut buf, start)
            .map_err(|e| Error::io(path, e))?;
        let last = want == remaining;
        let scan_to = if last { want } else { WINDOW };
        for i in 0..scan_to {
            let Ok(head) = <[u8; HEAD_LEN]>::try_from(buf.get(i..i + HEAD_LEN).unwrap_or(&[]))
            else {
                break;
            };
            let Some(h) = record::parse_head(&head) else {
                continue;
            };
            if buf.get(i..i + h.record_len()).is_some_and(record::verify) {
                return Ok(Some(start + i as u64));
            }
        }
        start += scan_to as u64;
    }
    Ok(None)
}

pub(super) fn open_rw(path: &Path) -> Result<File, Error> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| Error::io(path, e))
}
