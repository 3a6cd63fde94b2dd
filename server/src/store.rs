//! The store crate (`chainmark-store`) as the server sees it: everything it exports, with the
//! database answering in the server's own error type.

pub use chainmark_store::*;

/// The database; the work handed to `run` and `write` returns the server's `Result`.
pub type Db = chainmark_store::Db<crate::Error>;
