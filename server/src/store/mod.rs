//! Storage: the only module that speaks diesel. Plain functions over a `DbConnection`, each
//! returning the crate's `Result`; handlers and jobs call them through `Db::run`.

pub mod audit;
pub mod batches;
mod conn;
pub mod import;
pub mod items;
pub mod products;
pub mod schema;
pub mod sightings;
pub mod stats;
pub mod users;
pub mod verify;

pub use conn::{Backend, Db, DbConnection, PooledConn, redact};
