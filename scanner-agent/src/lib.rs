//! The scanner agent library (see README.md): the wire protocol the server shares, the durable
//! journal that makes "lose none, double none" hold across crashes, and the offline code pre-check.
//!
//! Layering follows rumqtt: these modules are pure formats and state (the journal's only I/O is its
//! own file); the MQTT session and the binary come later and sit on top.

pub mod error;
pub mod journal;
pub mod offline;
pub mod wire;

pub use error::Error;
