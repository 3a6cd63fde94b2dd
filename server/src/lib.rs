//! chainmark's server: the HTTP API and pages for HQ, agents and consumers, the code registry,
//! and (later) the device ingest. `domain` is pure; `store` is the only diesel; `api` and `web`
//! are thin layers over both.

pub mod error;
pub mod store;

pub use error::{Error, Result};
