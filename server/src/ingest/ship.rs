//! Shipping and receiving against restock orders by scans. Interim: until the order tables land
//! (issue 4 store), scans against an order are refused as `not_on_order`.

use scanner_agent::wire::{RejectReason, ScanEvent};

use crate::domain::custody::{Context, Scanned};
use crate::error::Result;
use crate::ingest::directory::DeviceEntry;
use crate::store::DbConnection;

pub fn ship(
    _conn: &mut DbConnection,
    _device: &DeviceEntry,
    _scanned: &Scanned,
    _event: &ScanEvent,
    _seq: i64,
) -> Result<Result<usize, RejectReason>> {
    Ok(Err(RejectReason::NotOnOrder))
}

pub fn receive_context(
    _conn: &mut DbConnection,
    _order: Option<&str>,
) -> Result<Result<Context, RejectReason>> {
    Ok(Err(RejectReason::NotOnOrder))
}
