//! GS1 EPCIS 2.0 export, the pure half (docs/epcis.md): identifiers, which EPCIS event each
//! custody fact is, and the document around them. The use case (`crate::epcis`) loads the facts
//! page by page and streams the document out.

pub mod document;
pub mod event;
pub mod ids;
#[cfg(test)]
mod tests;

pub use event::{CustodyFact, Holder, OrderParties, PreAggregation, ScanFact, When};
pub use ids::{Ids, PartyRef};
