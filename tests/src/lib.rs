//! Helpers shared by the end-to-end scenarios: the real binaries, a server process on a free
//! port, and the browser to drive. What the server's own tests share too (test databases, the
//! mosquitto launcher, free ports) is in `chainmark-test-support`, re-exported here.

pub mod bins;
pub mod browser;
pub mod browser_steps;
pub mod devices;
pub mod fixture;
pub mod server;

pub use chainmark_test_support::mosquitto;
pub use chainmark_test_support::net::free_port;
pub use chainmark_test_support::postgres;
pub use chainmark_test_support::{ci, random_u64};
