//! Storage: the only module that speaks diesel. Plain functions over a `DbConnection`, each
//! returning the crate's `Result`; handlers and jobs call them through `Db::run`.

mod conn;
pub mod schema;
pub mod stats;
pub mod users;
pub mod verify;

pub use conn::{Backend, Db, DbConnection, PooledConn, redact};
