//! The crate's one error type. Wire errors map to the stable rejection reasons the server sends
//! back in an ack ([`Error::reject_reason`]); journal errors tell the caller to stop accepting
//! scans rather than lose them.

use std::path::PathBuf;

use crate::wire::RejectReason;

/// Everything that can go wrong in the agent library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A message larger than [`crate::wire::MAX_MESSAGE_BYTES`]; not even parsed.
    #[error("message of {size} bytes exceeds the {max}-byte limit")]
    Oversize {
        /// Bytes received.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// A message that does not decode or authenticate (the protocol's own error).
    #[error(transparent)]
    Wire(#[from] crate::wire::Error),
    /// An I/O error on the journal file.
    #[error("journal {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The journal file is not a journal (bad magic), so we refuse to touch it.
    #[error("journal {0}: not a chainmark journal (bad header)")]
    NotAJournal(PathBuf),
    /// A record that passed recovery no longer verifies (the file changed under us, or disk rot).
    #[error("journal {path}: corrupt record at offset {offset}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Where the record starts.
        offset: u64,
    },
    /// Appending would grow the journal past its cap even after compaction: stop accepting scans.
    #[error("journal full: {pending} unsent scans fill the {max_bytes}-byte cap")]
    JournalFull {
        /// The configured cap.
        max_bytes: u64,
        /// Scans still waiting for the server's ack.
        pending: usize,
    },
    /// The event built for a journal append does not carry the sequence number it was given.
    #[error("event carries seq {got}, journal assigned {expected}")]
    SeqMismatch {
        /// The journal's sequence number.
        expected: u64,
        /// The event's.
        got: u64,
    },
    /// The handheld configuration is unusable (every problem, as `file:line: field: message`).
    #[error("{0}")]
    Config(#[from] firmware_config::ConfigError),
    /// The password file named by the config cannot be read (its content is never shown).
    #[error("password file {}: {source}", path.display())]
    Secret {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The TLS set-up for an `mqtts://` broker failed (CA, client certificate or key).
    #[error("TLS: {0}")]
    Tls(String),
    /// The MQTT client stopped working (not a lost connection: those are retried).
    #[error("MQTT: {0}")]
    Mqtt(String),
    /// The scan input (serial port, frames folder, stdin) cannot be opened or read.
    #[error("scan input {what}: {source}")]
    Input {
        /// Which input, e.g. the serial port path.
        what: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A scan input that never ends by itself (serial port, camera frames folder) stopped for
    /// good while the agent was running.
    #[error(
        "scan input {what} stopped: {reason}. The agent stops too; scans already taken are kept \
         in the journal and sent at the next start"
    )]
    InputDied {
        /// Which input: "serial", "camera" (or "stdin").
        what: String,
        /// Why it stopped.
        reason: String,
    },
    /// `--provision`: the input ended before a provisioning code was scanned.
    #[error("the input ended before a provisioning code (CMPROV1:...) was scanned")]
    NoProvisioning,
    /// `--provision` would overwrite an existing config file.
    #[error(
        "{}: a config file is already there; run `chainmark-scanner --config {}` to use it, or remove it to provision again",
        .0.display(), .0.display()
    )]
    ConfigExists(PathBuf),
    /// Writing the provisioned config file failed.
    #[error("cannot write {}: {source}", path.display())]
    WriteConfig {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// The rejection reason a server acks with for this decoding error, if it is one.
    pub fn reject_reason(&self) -> Option<RejectReason> {
        match self {
            Error::Oversize { .. } => Some(RejectReason::Malformed),
            Error::Wire(e) => Some(e.reject_reason()),
            _ => None,
        }
    }

    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        Error::Io {
            path: path.to_owned(),
            source,
        }
    }
}
