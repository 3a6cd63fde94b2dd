//! The provisioning payload: what the server prints as a QR code for a new handheld, so that a
//! fresh agent configured with nothing but one scan of it comes up working.
//!
//! Text form: `CMPROV1:` followed by unpadded base64url of a small JSON object. Base64url keeps
//! the payload to characters every keyboard-wedge scanner types faithfully (no quotes, braces or
//! non-ASCII, which scanners with a foreign keyboard layout garble), and the version sits in the
//! clear prefix so a newer payload is reported as such, not as garbage.

use std::path::Path;

use data_encoding::BASE64URL_NOPAD;
use serde::{Deserialize, Serialize};

use crate::error::ConfigError;
use crate::schema::{
    Broker, Config, Credentials, DEFAULT_DEBOUNCE_MS, DEFAULT_JOURNAL_MAX_BYTES, Device, Feedback,
    Input, Journal, Language,
};

/// The family prefix of every provisioning payload, before the version number.
pub const PREFIX_FAMILY: &str = "CMPROV";
/// The version this crate writes and reads.
pub const VERSION: u32 = 1;
/// A payload longer than this is refused before decoding; a real one is about 300 characters,
/// and the limit keeps a scanned novel from being parsed.
pub const MAX_PAYLOAD_CHARS: usize = 2048;
/// Where a provisioned agent keeps its journal (and, by `chainmark-scanner --provision`, its
/// config file) unless told otherwise.
pub const DEFAULT_DATA_DIR: &str = "/var/lib/chainmark";

/// Everything a new handheld needs to know, issued by the server (`chainmark device add`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provisioning {
    /// The device id registered on the server (also the topic level).
    pub device_id: String,
    /// The warehouse the device scans for.
    pub warehouse: String,
    /// `mqtt://host:port` or `mqtts://host:port`.
    pub broker_url: String,
    /// The site's MQTT topic prefix.
    pub topic_prefix: String,
    /// The broker login.
    pub username: String,
    /// The broker password, which is also the device's MAC secret for scans and acks.
    pub secret: String,
}

// Hand-written so that logging a payload never shows the secret.
impl std::fmt::Debug for Provisioning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provisioning")
            .field("device_id", &self.device_id)
            .field("warehouse", &self.warehouse)
            .field("broker_url", &self.broker_url)
            .field("topic_prefix", &self.topic_prefix)
            .field("username", &self.username)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// Why a scanned line is not a usable provisioning payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProvisionError {
    /// The line does not start with `CMPROV<version>:` — some other code was scanned.
    #[error("not a provisioning code (it must start with \"CMPROV1:\")")]
    NotProvisioning,
    /// A provisioning payload of a version this agent does not read.
    #[error("provisioning code version {0:?} is not supported (this agent reads version 1)")]
    UnknownVersion(String),
    /// Longer than [`MAX_PAYLOAD_CHARS`].
    #[error("provisioning code is {0} characters long, more than the 2048 allowed")]
    TooLong(usize),
    /// The part after the prefix is not unpadded base64url.
    #[error("provisioning code is damaged: not base64url ({0})")]
    BadBase64(String),
    /// The decoded bytes are not the expected JSON object.
    #[error("provisioning code is damaged: {0}")]
    BadJson(String),
    /// A required field is absent from the JSON object.
    #[error("provisioning code lacks the field `{0}`")]
    MissingField(String),
    /// A field is present but unusable (a bad device id, broker URL, ...).
    #[error("provisioning code field `{field}`: {message}")]
    InvalidField { field: String, message: String },
}

impl ProvisionError {
    /// Stable snake_case name (for the agent's line output and tests).
    pub fn code(&self) -> &'static str {
        match self {
            ProvisionError::NotProvisioning => "not_provisioning",
            ProvisionError::UnknownVersion(_) => "unknown_version",
            ProvisionError::TooLong(_) => "too_long",
            ProvisionError::BadBase64(_) => "bad_base64",
            ProvisionError::BadJson(_) => "bad_json",
            ProvisionError::MissingField(_) => "missing_field",
            ProvisionError::InvalidField { .. } => "invalid_field",
        }
    }
}

/// The payload as text for a QR code: `CMPROV1:` + base64url(JSON).
pub fn encode(provisioning: &Provisioning) -> String {
    // Serialising a struct of six Strings cannot fail; an empty object would be caught by decode.
    let json = serde_json::to_vec(provisioning).unwrap_or_default();
    format!("{PREFIX_FAMILY}{VERSION}:{}", BASE64URL_NOPAD.encode(&json))
}

/// Reads a scanned payload; surrounding whitespace (a scanner's suffix) is ignored. Field values
/// are checked too, so a payload that decodes is one [`Provisioning::to_config`] accepts.
pub fn decode(text: &str) -> Result<Provisioning, ConfigError> {
    decode_inner(text.trim()).map_err(ConfigError::Provisioning)
}

fn decode_inner(text: &str) -> Result<Provisioning, ProvisionError> {
    let chars = text.chars().count();
    if chars > MAX_PAYLOAD_CHARS {
        return Err(ProvisionError::TooLong(chars));
    }
    let rest = text
        .strip_prefix(PREFIX_FAMILY)
        .ok_or(ProvisionError::NotProvisioning)?;
    let (version, body) = rest
        .split_once(':')
        .ok_or(ProvisionError::NotProvisioning)?;
    if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ProvisionError::NotProvisioning);
    }
    if version != VERSION.to_string() {
        return Err(ProvisionError::UnknownVersion(version.to_owned()));
    }
    let json = BASE64URL_NOPAD
        .decode(body.as_bytes())
        .map_err(|err| ProvisionError::BadBase64(err.to_string()))?;
    let value: serde_json::Value =
        serde_json::from_slice(&json).map_err(|err| ProvisionError::BadJson(err.to_string()))?;
    // Missing fields are looked for first so the error names the field, not a serde position.
    if let serde_json::Value::Object(map) = &value {
        for field in FIELDS {
            if !map.contains_key(field) {
                return Err(ProvisionError::MissingField(field.to_owned()));
            }
        }
    }
    let provisioning: Provisioning =
        serde_json::from_value(value).map_err(|err| ProvisionError::BadJson(err.to_string()))?;
    provisioning.check()?;
    Ok(provisioning)
}

const FIELDS: [&str; 6] = [
    "device_id",
    "warehouse",
    "broker_url",
    "topic_prefix",
    "username",
    "secret",
];

impl Provisioning {
    /// A complete config for this device: journal `journal-<device id>` under `data_dir` (its
    /// own file, so devices sharing a machine or a data folder never share a journal; seqs and
    /// pending scans are per device), keyboard-wedge input on stdin
    /// (the input the provisioning scan itself came from), default debounce and feedback.
    pub fn to_config(&self, data_dir: &Path, language: Language) -> Result<Config, ConfigError> {
        self.check().map_err(ConfigError::Provisioning)?;
        Ok(self.config_unchecked(data_dir, language))
    }

    /// [`Provisioning::to_config`] as the TOML text of a config file, with a header saying where it
    /// came from. Readable back with [`Config::parse`].
    pub fn to_config_toml(
        &self,
        data_dir: &Path,
        language: Language,
    ) -> Result<String, ConfigError> {
        let config = self.to_config(data_dir, language)?;
        Ok(format!(
            "# chainmark handheld {} (warehouse {}), written from its provisioning code.\n\
             # Fields: docs/firmware-config.md. The password is also the device's scan-signing secret.\n\n{}",
            self.device_id,
            self.warehouse,
            config.to_toml()?
        ))
    }

    fn config_unchecked(&self, data_dir: &Path, language: Language) -> Config {
        Config {
            debounce_ms: DEFAULT_DEBOUNCE_MS,
            language,
            device: Device {
                id: self.device_id.clone(),
                warehouse: self.warehouse.clone(),
            },
            broker: Broker {
                url: self.broker_url.clone(),
                topic_prefix: self.topic_prefix.clone(),
                tls: None,
            },
            credentials: Credentials {
                username: self.username.clone(),
                password: Some(self.secret.clone()),
                password_file: None,
            },
            journal: Journal {
                path: data_dir.join(journal_file_name(&self.device_id)),
                max_bytes: DEFAULT_JOURNAL_MAX_BYTES,
            },
            input: Input::KeyboardWedge {
                prefix: String::new(),
                suffix: "\n".to_owned(),
            },
            feedback: Feedback::default(),
        }
    }

    /// The config checks, reported under the payload's own field names.
    fn check(&self) -> Result<(), ProvisionError> {
        if self.secret.is_empty() {
            return Err(ProvisionError::InvalidField {
                field: "secret".to_owned(),
                message: "must not be empty".to_owned(),
            });
        }
        let config = self.config_unchecked(Path::new(DEFAULT_DATA_DIR), Language::En);
        match crate::checks::check(&config).into_iter().next() {
            None => Ok(()),
            Some((field, message)) => Err(ProvisionError::InvalidField {
                field: payload_field(&field).to_owned(),
                message,
            }),
        }
    }
}

/// The journal's file name for a device. The device id is one path component (`valid` ids are
/// 1-64 of A-Z a-z 0-9 _ . -, so no `/`), and the prefix keeps `.` or `..` from naming a folder.
pub fn journal_file_name(device_id: &str) -> String {
    format!("journal-{device_id}")
}

/// The payload field a config field came from.
fn payload_field(config_field: &str) -> &str {
    match config_field {
        "device.id" => "device_id",
        "device.warehouse" => "warehouse",
        "broker.url" => "broker_url",
        "broker.topic_prefix" => "topic_prefix",
        "credentials.username" => "username",
        other => other,
    }
}
