//! A camera station: an external capture program writes frames (PNG or JPEG) into a folder; each
//! frame is decoded with `rqrr` (through `codegen::decode`, the same decoder that checks printed
//! labels), every code in it becomes a scan, and the frame is deleted so the folder does not
//! grow and a restart does not scan it again; frames are taken in name order. The capture
//! program must write each frame under a temporary name (any other extension) and rename it
//! into place, so a half-written frame is never read.
//!
//! A frame that cannot be decoded at all (not an image, or one the QR decoder breaks down on) is
//! logged and moved into [`REJECTED`] inside the folder, for someone to look at; the next frame
//! is read as usual. Left in place it would be read again on every poll and after every restart.
//! The input stops for good, and with it the agent, only when the folder itself cannot be read
//! any more or a frame can be neither deleted nor moved aside.

use std::path::{Path, PathBuf};
use std::time::Duration;

use codegen::decode::{self, Decoded};
use tokio::sync::mpsc;

use crate::error::Error;

/// The sub-folder of the frames folder that bad frames are moved into.
pub(crate) const REJECTED: &str = "rejected";

/// Fails if `dir` is not a readable folder.
pub(crate) fn check(dir: &Path) -> Result<(), Error> {
    std::fs::read_dir(dir)
        .map(|_| ())
        .map_err(|source| Error::Input {
            what: dir.display().to_string(),
            source,
        })
}

/// Polls `dir` every `poll_ms` until the agent stops (`Ok`), or until the input cannot go on
/// (`Err`, why).
pub(crate) fn run(dir: &Path, poll_ms: u64, tx: &mpsc::Sender<String>) -> Result<(), String> {
    while !tx.is_closed() {
        for frame in frames(dir)? {
            let decoded = decode::decode_file(&frame);
            let codes = match decoded {
                Ok(Decoded::Payloads(codes)) => codes,
                Ok(Decoded::Unreadable) => {
                    tracing::debug!(frame = %frame.display(), "no code in frame");
                    Vec::new()
                }
                // Gone between listing and reading (someone else took it): nothing to set aside.
                Err(codegen::Error::Io { source, .. })
                    if source.kind() == std::io::ErrorKind::NotFound =>
                {
                    continue;
                }
                Err(e) => {
                    let to = set_aside(dir, &frame)?;
                    tracing::warn!(
                        frame = %frame.display(), moved_to = %to.display(), error = %e,
                        "bad camera frame moved aside; going on with the next one"
                    );
                    continue;
                }
            };
            // Removed before its codes are handed on: a crash in between costs a read the
            // operator never saw taken (so scans again), never a second scan of the same code.
            std::fs::remove_file(&frame).map_err(|e| {
                // Left in place it would be scanned again on every poll.
                format!("cannot delete the frame {}: {e}", frame.display())
            })?;
            for code in codes {
                if tx.blocking_send(code).is_err() {
                    return Ok(());
                }
            }
        }
        std::thread::sleep(Duration::from_millis(poll_ms));
    }
    Ok(())
}

/// Moves a bad frame into `dir/rejected/` (created when first needed) and returns its new path.
/// A rejected frame of the same name from earlier is replaced.
fn set_aside(dir: &Path, frame: &Path) -> Result<PathBuf, String> {
    let rejected = dir.join(REJECTED);
    std::fs::create_dir_all(&rejected)
        .map_err(|e| format!("cannot create {} for a bad frame: {e}", rejected.display()))?;
    let to = rejected.join(frame.file_name().unwrap_or_default());
    std::fs::rename(frame, &to).map_err(|e| {
        format!(
            "cannot move the bad frame {} to {}: {e}",
            frame.display(),
            to.display()
        )
    })?;
    Ok(to)
}

/// The frames waiting, oldest name first (capture programs name frames by time or counter).
/// Fails when the folder cannot be read: the camera's frames can no longer arrive.
fn frames(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| format!("the frames folder {} cannot be read: {e}", dir.display()))?;
    let mut frames: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                    matches!(e.to_ascii_lowercase().as_str(), "png" | "jpg" | "jpeg")
                })
        })
        .collect();
    frames.sort();
    Ok(frames)
}
