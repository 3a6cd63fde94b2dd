//! The handheld configuration (see README.md): a typed TOML schema, validation that reports every
//! problem with its file, line and field, and the device profiles in `profiles/`.
//! Provisioning (the server issuing a config and a QR code) comes later.

mod checks;
mod error;
mod input;
mod lines;
mod schema;
mod validate;

pub use error::{ConfigError, Problem};
pub use schema::{
    Broker, Config, Credentials, DEFAULT_DEBOUNCE_MS, DEFAULT_JOURNAL_MAX_BYTES,
    DEFAULT_TOPIC_PREFIX, Device, Display, Feedback, Input, Journal, Language, STANDARD_BAUD_RATES,
    Tls,
};
