//! The scanner agent library (see README.md): the wire protocol the server shares, the durable
//! journal that makes "lose none, double none" hold across crashes, and the offline code pre-check.
//!
//! Layering follows rumqtt: `wire`, `operator`, `session` and `note` are pure formats and state
//! (the journal's only I/O is its own file); the I/O loop around rumqttc's event loop, the scan
//! inputs and the display sit on top, and `main.rs` is a thin shell.

pub mod agent;
pub mod cli;
pub mod display;
pub mod error;
pub mod input;
pub mod journal;
pub mod note;
pub mod offline;
pub mod operator;
pub mod session;
/// The device protocol lives in its own crate, shared with the server.
pub use chainmark_wire as wire;

pub use error::Error;
