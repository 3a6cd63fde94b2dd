//! The handheld configuration (see README.md): a typed TOML schema, validation that reports every
//! problem with its file, line and field, and the device profiles in `profiles/`.
//! [`provision`]: the payload of the QR code the server prints for a new device, and the config
//! made from it.

mod checks;
mod error;
mod input;
mod lines;
pub mod provision;
mod schema;
mod validate;

pub use error::{ConfigError, Problem};
pub use provision::{ProvisionError, Provisioning};
pub use schema::{
    Broker, Config, Credentials, DEFAULT_DEBOUNCE_MS, DEFAULT_JOURNAL_MAX_BYTES,
    DEFAULT_TOPIC_PREFIX, Device, Display, Feedback, Input, Journal, Language, STANDARD_BAUD_RATES,
    Tls,
};
