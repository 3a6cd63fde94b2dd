//! Helpers shared by the end-to-end scenarios: the real binaries, a server process on a free
//! port, and the browser to drive.

pub mod bins;
pub mod browser;
pub mod devices;
pub mod fixture;
pub mod postgres;
pub mod server;

/// True when running under CI, where a missing service fails a test instead of skipping it.
pub fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}
