//! The batch folder's life: written as a hidden temporary sibling, renamed into place when
//! complete, removed if anything fails (the guard's `Drop`), so a failed run leaves no folder.
//! The folder is created 0700 and its files 0600 (`lines::OutFile`), whatever the umask.

use std::fs;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use rand::Rng;

use crate::alphabet;
use crate::error::{Error, Result};

/// A temporary batch folder; removed on drop unless [`TempFolder::commit`] renamed it.
#[derive(Debug)]
pub(crate) struct TempFolder {
    path: Option<PathBuf>,
}

impl TempFolder {
    /// Creates `{parent}/.{name}.partial-{random}`.
    pub fn create(parent: &Path, name: &str, out: &Path) -> Result<Self> {
        let mut rng = rand::thread_rng();
        let suffix: String = (0..8)
            .map(|_| char::from(alphabet::symbol(rng.gen_range(0..31))))
            .collect();
        let path = parent.join(format!(".{name}.partial-{suffix}"));
        // 0700: the folder holds every security code in clear (`print.csv`); only its owner
        // may list or open it.
        fs::DirBuilder::new()
            .mode(0o700)
            .create(&path)
            .map_err(|source| Error::OutputUnwritable {
                path: out.to_owned(),
                source,
            })?;
        Ok(TempFolder { path: Some(path) })
    }

    /// The folder being written.
    pub fn path(&self) -> &Path {
        self.path.as_deref().unwrap_or(Path::new(""))
    }

    /// Renames the folder to `out` (which must not exist, or be an empty folder).
    pub fn commit(mut self, out: &Path) -> Result<()> {
        let Some(path) = self.path.take() else {
            return Ok(());
        };
        match fs::rename(&path, out) {
            Ok(()) => Ok(()),
            Err(e) => {
                let _ = fs::remove_dir_all(&path);
                if out.exists() {
                    Err(Error::OutputExists {
                        path: out.to_owned(),
                    })
                } else {
                    Err(Error::OutputUnwritable {
                        path: out.to_owned(),
                        source: e,
                    })
                }
            }
        }
    }
}

impl Drop for TempFolder {
    fn drop(&mut self) {
        if let Some(path) = self.path.take() {
            let _ = fs::remove_dir_all(path);
        }
    }
}
