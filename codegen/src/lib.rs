//! chainmark's code domain: everything about the codes printed on products and cases.
//!
//! The formats are specified in `docs/codes.md`; this crate is their one implementation, shared
//! by the `chainmark-codegen` CLI, the server (import and verification) and the scanner agent
//! (offline checks). It knows nothing of databases or networks.
//!
//! - [`alphabet`], [`serial`], [`security`], [`gs1`]: the identifiers;
//! - [`keys`]: master key file, batch keys, tags, code hashes, the import seal;
//! - [`payload`], [`inspect`]: reading what a scanner saw;
//! - [`batch`]: writing a batch folder; [`import`]: reading one back, verified;
//! - [`card`]: pictures with text and a QR (certificates, posters), as SVG or PNG.

pub mod alphabet;
pub mod batch;
pub mod card;
pub mod error;
pub mod gs1;
pub mod import;
pub mod inspect;
pub mod keys;
pub mod payload;
pub mod security;
pub mod serial;
pub mod slip;

pub use error::{CodeError, Error, ErrorKind, ImportProblem, Result};

pub mod decode;
pub mod label;
