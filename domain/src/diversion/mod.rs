//! Diversion audit (防串货, DOMAIN §8) as pure rules: regions and containment, where a sighting
//! was, bots, the cloning speed rule, risk and the alert's dedupe key. No I/O here: the use cases
//! in `crate::diversion` load the facts and store what these rules decide.

pub mod alert;
pub mod bots;
pub mod cloning;
pub mod ip;
pub mod place;
pub mod region;

pub use alert::{AlertKind, Verdict, judge};
pub use place::{Place, PlaceSource};
pub use region::{Level, Region, RegionBook, RegionCode};
