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
