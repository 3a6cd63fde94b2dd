//! A camera station: an external capture program writes frames (PNG or JPEG) into a folder; each
//! frame is decoded with `rqrr` (through `codegen::decode`, the same decoder that checks printed
//! labels), every code in it becomes a scan, and the frame is deleted so the folder does not
//! grow and a restart does not scan it again; frames are taken in name order. The capture program must write each frame under a
//! temporary name (any other extension) and rename it into place, so a half-written frame is
//! never read.

use std::path::{Path, PathBuf};
use std::time::Duration;

use codegen::decode::{self, Decoded};
use tokio::sync::mpsc;

use crate::error::Error;

/// Fails if `dir` is not a readable folder.
pub(crate) fn check(dir: &Path) -> Result<(), Error> {
    std::fs::read_dir(dir)
        .map(|_| ())
        .map_err(|source| Error::Input {
            what: dir.display().to_string(),
            source,
        })
}

/// Polls `dir` every `poll_ms` until the agent stops.
pub(crate) fn run(dir: &Path, poll_ms: u64, tx: &mpsc::Sender<String>) {
    while !tx.is_closed() {
        for frame in frames(dir) {
            let decoded = decode::decode_file(&frame);
            // Removed before its codes are handed on: a crash in between costs a read the
            // operator never saw taken (so scans again), never a second scan of the same code.
            if let Err(e) = std::fs::remove_file(&frame) {
                // Left in place it would be scanned again on every poll: stop instead.
                tracing::error!(frame = %frame.display(), error = %e, "cannot delete a frame; camera input stops");
                return;
            }
            match decoded {
                Ok(Decoded::Payloads(codes)) => {
                    for code in codes {
                        if tx.blocking_send(code).is_err() {
                            return;
                        }
                    }
                }
                Ok(Decoded::Unreadable) => {
                    tracing::debug!(frame = %frame.display(), "no code in frame");
                }
                Err(e) => tracing::warn!(error = %e, "frame is not an image"),
            }
        }
        std::thread::sleep(Duration::from_millis(poll_ms));
    }
}

/// The frames waiting, oldest name first (capture programs name frames by time or counter).
fn frames(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
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
    frames
}
