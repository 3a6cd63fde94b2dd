//! The rules of DOMAIN.md as plain types and functions: no I/O, no diesel, no axum.

pub mod custody;
pub mod diversion;
pub mod epcis;
pub mod joining;
pub mod levels;
pub mod network;
pub mod network_import;
pub mod phone;
pub mod printing;
pub mod retail;
pub mod role;
pub mod verification;

pub use role::{Permission, Role};

/// A rule's refusal: what it says to a person (`Display`) and a stable machine-readable code a
/// client can act on, the same in every language. The server sends both in its error body
/// (`{"error": {"code", "message"}}`), so an API client tells "the order is already paid" from
/// "the supplier has not answered yet" without parsing the message.
pub trait Refusal: std::fmt::Display {
    fn code(&self) -> &'static str;
}
