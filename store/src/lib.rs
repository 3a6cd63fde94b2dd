//! Storage: the only crate that speaks diesel. Plain functions over a `DbConnection`, each
//! returning the crate's `Result`; the server's use cases and jobs call them through `Db::run`
//! and `Db::write`.

/// Runs `$body` on the backend's own connection type. Two reasons to leave the
/// `MultiConnection` for a query: diesel implements multi-row INSERT per backend only, and it
/// caches prepared statements only on the concrete connections — on hot paths (verification)
/// re-preparing a join costs more than running it.
macro_rules! per_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::store::DbConnection::Sqlite($c) => $body,
            $crate::store::DbConnection::Postgres($c) => $body,
        }
    };
}

// The store was the server's `store` module; `crate::store::…` and `crate::domain::…` paths
// written then keep their meaning.
use crate as store;
use chainmark_domain as domain;

pub mod agent_pages;
pub mod audit;
pub mod backup;
pub mod batch_desk;
pub mod batches;
pub mod campaigns;
mod checkpoint;
mod conn;
pub mod consumers;
pub mod custody;
pub mod desk;
pub mod desk_agents;
pub mod desk_orders;
pub mod devices;
pub mod diversion_alerts;
pub mod diversion_places;
pub mod diversion_views;
pub mod epcis;
pub mod error;
pub mod facts;
pub(crate) mod fixed;
mod group_commit;
pub mod idempotency;
pub mod import;
pub mod items;
pub mod job_runs;
pub mod joining;
pub mod levels;
pub mod marketing;
pub mod network;
pub mod network_import;
pub mod packing_slips;
pub mod payouts;
mod policy_store;
pub mod printing;
mod private_file;
pub mod products;
pub mod retail;
pub mod schema;
pub mod sightings;
pub mod stats;
pub mod tracking;
pub mod typed;
pub mod users;
pub mod verify;
pub mod warehouse;

pub use conn::{Backend, Db, DbConnection, PooledConn, in_transaction, ping, redact};
pub use error::{Error, Result};
pub use group_commit::panic_message;
