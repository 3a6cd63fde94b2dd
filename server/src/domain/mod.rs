//! The rules of DOMAIN.md as plain types and functions: no I/O, no diesel, no axum.

pub mod custody;
pub mod diversion;
pub mod epcis;
pub mod joining;
pub mod levels;
pub mod network;
pub mod role;
pub mod verification;

pub use role::{Permission, Role};
