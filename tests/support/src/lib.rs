//! What the server's tests and the end-to-end scenarios share: a fresh database per test on
//! each backend, a fresh PostgreSQL database for a scenario, the mosquitto launcher, free ports,
//! and the form and cookie helpers of page tests.

pub mod db;
pub mod form;
pub mod mosquitto;
pub mod net;
pub mod pdf;
pub mod postgres;

pub use db::{Backend, TestDb, backends};

/// True when running under CI, where a missing service fails a test instead of skipping it.
pub fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// The CJK font the server draws certificates and posters with (`codegen::card::Fonts`), or
/// `None` after saying why when the machine has none; under CI a missing font fails the test
/// (`./scripts/test` installs `fonts-wqy-microhei`).
pub fn fonts() -> Option<codegen::card::Fonts> {
    match codegen::card::Fonts::discover(None) {
        Ok(fonts) => Some(fonts),
        Err(e) if ci() => panic!("{e}: install fonts-wqy-microhei"),
        Err(e) => {
            eprintln!("skipped: {e}");
            None
        }
    }
}

/// A random number for names and ports that parallel tests must not share. `RandomState` is
/// seeded per process from the OS; the clock and a counter tell calls in one process apart.
pub fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(CALLS.fetch_add(1, Ordering::Relaxed));
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish()
}
