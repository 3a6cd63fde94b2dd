//! The SQLite database file is created 0600 before SQLite first opens it: SQLite gives the
//! `-wal` and `-shm` files the database file's mode, so all three stay private to the server's
//! user whatever the umask (issue 15, item 5). Only a missing file is created here, and the
//! descriptor is closed before SQLite opens the file, so no lock of SQLite's is ever dropped
//! (closing any descriptor of a file drops every POSIX lock the process holds on it).

use std::fs::OpenOptions;
use std::io::ErrorKind;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use crate::error::{Error, Result};

/// Creates the database file at `path` empty and 0600 if it does not exist yet; warns when an
/// existing one is readable by other users. In-memory and URI names are left to SQLite.
pub fn prepare(path: &str) -> Result<()> {
    if path.is_empty() || path == ":memory:" || path.starts_with("file:") {
        return Ok(());
    }
    let file = Path::new(path);
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(file)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {
            // `stat`, not `open`: looking at the mode takes no descriptor.
            if let Ok(meta) = std::fs::metadata(file) {
                let mode = meta.permissions().mode() & 0o777;
                if mode & 0o077 != 0 {
                    tracing::warn!(
                        path,
                        mode = format!("{mode:o}"),
                        "the database file is readable by other users: chmod 600 it (and its -wal, -shm)"
                    );
                }
            }
            Ok(())
        }
        // A missing folder and the like: SQLite's own open will say so.
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::Database(format!("cannot create {path}: {e}"))),
    }
}
