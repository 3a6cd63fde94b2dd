//! The SSCC counter kept beside the key file (`KEYFILE.sscc.json`): for each GS1 company prefix,
//! the next free SSCC serial reference. Advanced only after a batch was written successfully.
//!
//! File format: a JSON object `{"<company prefix>": <next serial reference>, ...}`.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::gs1::CompanyPrefix;

use super::spec::FIRST_SSCC_SERIAL;

/// The counter file of a key file: the key file's path with `.sscc.json` appended.
pub fn counter_path(key_file: &Path) -> PathBuf {
    let mut name = OsString::from(key_file.as_os_str());
    name.push(".sscc.json");
    PathBuf::from(name)
}

/// The counter, loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsccCounter {
    path: PathBuf,
    next: BTreeMap<String, u64>,
}

impl SsccCounter {
    /// Loads the counter; a missing file is an empty counter.
    pub fn load(path: &Path) -> Result<Self> {
        let next = match fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| Error::SsccCounter {
                path: path.to_owned(),
                reason: format!(
                    "unreadable ({e}); fix or remove it and give --sscc-start explicitly"
                ),
            })?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => BTreeMap::new(),
            Err(source) => {
                return Err(Error::KeyIo {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        Ok(SsccCounter {
            path: path.to_owned(),
            next,
        })
    }

    /// The next free serial reference for `prefix`.
    pub fn next(&self, prefix: &CompanyPrefix) -> u64 {
        self.next
            .get(prefix.as_str())
            .copied()
            .unwrap_or(FIRST_SSCC_SERIAL)
    }

    /// Records that serial references below `end` are used (never moves backwards) and saves
    /// the file atomically (temporary file, then rename), mode 0600.
    pub fn advance(&mut self, prefix: &CompanyPrefix, end: u64) -> Result<()> {
        let slot = self.next.entry(prefix.as_str().to_owned()).or_insert(0);
        *slot = (*slot).max(end);
        let io_err = |source| Error::KeyIo {
            path: self.path.clone(),
            source,
        };
        let json =
            serde_json::to_vec_pretty(&self.next).map_err(|e| io_err(io::Error::other(e)))?;
        let mut tmp = self.path.clone().into_os_string();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(io_err)?;
        file.write_all(&json)
            .and_then(|()| file.write_all(b"\n"))
            .and_then(|()| file.sync_all())
            .map_err(io_err)?;
        fs::rename(&tmp, &self.path).map_err(io_err)
    }
}
