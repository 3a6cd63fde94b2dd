//! The handheld configuration as typed serde structs. Unknown keys are rejected everywhere: a
//! misspelt key silently falling back to a default is how a handheld ends up on the wrong broker.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use crate::input::Input;

/// Default MQTT topic prefix: topics are `<prefix>/<device id>/...`.
pub const DEFAULT_TOPIC_PREFIX: &str = "chainmark";
/// Default journal size cap: 64 MiB holds days of scans for a handheld that lost its network.
pub const DEFAULT_JOURNAL_MAX_BYTES: u64 = 64 * 1024 * 1024;
/// Default window in which a repeat of the same code is taken as a double read, not a new scan.
pub const DEFAULT_DEBOUNCE_MS: u64 = 800;
/// Baud rates serial scanners actually support; anything else is a typo.
pub const STANDARD_BAUD_RATES: [u32; 9] =
    [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400];

/// A whole handheld configuration file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Milliseconds within which a repeated identical scan is dropped as a duplicate read.
    #[serde(default = "default_debounce_ms")]
    pub debounce_ms: u64,
    /// Language of the agent's messages on the handheld.
    pub language: Language,
    pub device: Device,
    pub broker: Broker,
    pub credentials: Credentials,
    pub journal: Journal,
    pub input: Input,
    #[serde(default)]
    pub feedback: Feedback,
}

/// Which handheld this is and where it works.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Device {
    /// 1–64 characters of `[A-Za-z0-9_.-]`; it appears in MQTT topics, so no `/`, `+` or `#`.
    pub id: String,
    /// The warehouse the device scans for.
    pub warehouse: String,
}

/// The MQTT broker connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Broker {
    /// `mqtt://host:port` or `mqtts://host:port`.
    pub url: String,
    #[serde(default = "default_topic_prefix")]
    pub topic_prefix: String,
    /// TLS settings; only meaningful with `mqtts://`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<Tls>,
}

/// TLS files for an `mqtts://` broker. Without `ca_file` the system roots are used.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tls {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// Client certificate for mutual TLS; needs `client_key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_cert: Option<PathBuf>,
    /// Client private key for mutual TLS; needs `client_cert`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_key: Option<PathBuf>,
}

/// Broker login. Exactly one of `password` and `password_file`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    pub username: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// A file holding the password, so the config itself can be world-readable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_file: Option<PathBuf>,
}

// Hand-written so that a logged config never shows the password.
impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("password_file", &self.password_file)
            .finish()
    }
}

/// The durable scan journal (scans are dropped from it only on the server's ack).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Journal {
    pub path: PathBuf,
    /// Size cap in bytes; at least 1 MiB.
    #[serde(default = "default_journal_max_bytes")]
    pub max_bytes: u64,
}

/// Language of the agent's messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Language {
    #[serde(rename = "zh-CN")]
    ZhCn,
    #[serde(rename = "en")]
    En,
}

/// How the handheld tells the operator the result of a scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Feedback {
    /// Ring the terminal bell on a rejected scan.
    #[serde(default = "default_true")]
    pub bell: bool,
    #[serde(default = "default_display")]
    pub display: Display,
}

impl Default for Feedback {
    fn default() -> Self {
        Feedback {
            bell: true,
            display: Display::Terminal,
        }
    }
}

/// Where results are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Display {
    None,
    Terminal,
}

fn default_debounce_ms() -> u64 {
    DEFAULT_DEBOUNCE_MS
}
fn default_topic_prefix() -> String {
    DEFAULT_TOPIC_PREFIX.to_owned()
}
fn default_journal_max_bytes() -> u64 {
    DEFAULT_JOURNAL_MAX_BYTES
}
fn default_true() -> bool {
    true
}
fn default_display() -> Display {
    Display::Terminal
}
