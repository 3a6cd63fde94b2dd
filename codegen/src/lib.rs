//! chainmark's code domain: everything about the codes printed on products and cases.
//!
//! The formats are specified in `docs/codes.md`; this crate is their one implementation, shared
//! by the `chainmark-codegen` CLI, the server (import and verification) and the scanner agent
//! (offline checks). It knows nothing of databases or networks.
