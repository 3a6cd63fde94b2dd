//! A shipment's track (物流轨迹, issue 20): the shipper types events, a courier adapter fetches
//! them, and the order's parties read them.
//!
//! The courier sits behind [`Courier`]. A real adapter (顺丰, 中通, …) makes a network call, so the
//! fetch job asks it outside any database write: it reads which shipments are on their way, asks
//! the courier about each on a blocking thread, then merges what came back in a short write of its
//! own. Merging is keyed by the courier's id of each event, so a fetch repeated — after a crash, or
//! by two instances — adds nothing. The server ships with [`DemoCourier`], which plays a parcel's
//! journey without a network (the demo and the tests); `CHAINMARK_COURIER=none` turns fetching off
//! and leaves the track to what shippers type.

use std::sync::Arc;

use chrono::{Duration, NaiveDateTime};
use serde::{Deserialize, Serialize};

use super::{Actor, refused, shipping};
use crate::domain::network::OrderState;
use crate::domain::network::tracking::{self, TrackingEvent, TrackingStatus};
use crate::error::{Error, Result};
use crate::store::agent_pages::{self as pages_store, WaybillRow};
use crate::store::network::orders::{self as order_store, OrderRow};
use crate::store::tracking::{self as store, Fetched, OpenShipment, TrackingRow};
use crate::store::users::now;
use crate::store::{Db, DbConnection, job_runs};

/// How long after asking the courier about a shipment it is asked again.
pub const ASK_AGAIN_AFTER: Duration = Duration::minutes(30);
/// Shipments asked about per round of the job.
pub const PER_ROUND: i64 = 200;

/// Which courier adapter the server asks (`CHAINMARK_COURIER`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CourierChoice {
    /// No fetching: the track is what shippers type.
    #[default]
    None,
    /// [`DemoCourier`].
    Demo,
}

impl std::str::FromStr for CourierChoice {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s.trim() {
            "none" | "" => Ok(CourierChoice::None),
            "demo" => Ok(CourierChoice::Demo),
            other => Err(format!("unknown courier {other:?}: none or demo")),
        }
    }
}

impl CourierChoice {
    pub fn courier(self) -> Option<Arc<dyn Courier>> {
        match self {
            CourierChoice::None => None,
            CourierChoice::Demo => Some(Arc::new(DemoCourier)),
        }
    }
}

/// Why a courier gave no track.
#[derive(Debug, thiserror::Error)]
pub enum CourierError {
    #[error("the courier's service did not answer: {0}")]
    Unavailable(String),
    #[error("the courier does not know this waybill")]
    UnknownWaybill,
}

/// A courier company's tracking service.
pub trait Courier: Send + Sync {
    /// The whole track of `shipment` as the courier knows it at `now` (events already stored are
    /// recognised by their `external_id` and skipped).
    fn track(
        &self,
        shipment: &OpenShipment,
        now: NaiveDateTime,
    ) -> std::result::Result<Vec<Fetched>, CourierError>;
}

/// Plays a parcel's journey from the time its waybill was recorded: picked up an hour later,
/// leaving the sender's hub at 6 h, at the destination hub at 20 h, out for delivery at 26 h,
/// delivered at 30 h — each event only once its time has come. A waybill starting with `HOLD`
/// stops at the destination hub with an exception (a parcel held), one starting with `NONE` is
/// unknown to the courier.
#[derive(Debug, Clone, Copy, Default)]
pub struct DemoCourier;

impl Courier for DemoCourier {
    fn track(
        &self,
        shipment: &OpenShipment,
        now: NaiveDateTime,
    ) -> std::result::Result<Vec<Fetched>, CourierError> {
        let waybill = shipment.waybill.to_ascii_uppercase();
        if waybill.starts_with("NONE") {
            return Err(CourierError::UnknownWaybill);
        }
        let held = waybill.starts_with("HOLD");
        let script: &[(i64, TrackingStatus, &str, &str)] = if held {
            &[
                (1, TrackingStatus::PickedUp, "发件网点", "快递员已揽收"),
                (
                    6,
                    TrackingStatus::InTransit,
                    "始发转运中心",
                    "已发往目的地转运中心",
                ),
                (
                    20,
                    TrackingStatus::InTransit,
                    "目的地转运中心",
                    "已到达目的地转运中心",
                ),
                (
                    22,
                    TrackingStatus::Exception,
                    "目的地转运中心",
                    "包裹滞留：收件地址不详，待联系收件人",
                ),
            ]
        } else {
            &[
                (1, TrackingStatus::PickedUp, "发件网点", "快递员已揽收"),
                (
                    6,
                    TrackingStatus::InTransit,
                    "始发转运中心",
                    "已发往目的地转运中心",
                ),
                (
                    20,
                    TrackingStatus::InTransit,
                    "目的地转运中心",
                    "已到达目的地转运中心",
                ),
                (
                    26,
                    TrackingStatus::OutForDelivery,
                    "派送网点",
                    "快递员正在派送",
                ),
                (
                    30,
                    TrackingStatus::Delivered,
                    "收件地址",
                    "已签收，签收人：本人",
                ),
            ]
        };
        Ok(script
            .iter()
            .enumerate()
            .map(|(i, (hours, status, place, detail))| Fetched {
                external_id: format!("demo-{}-{i}", shipment.waybill),
                event: TrackingEvent {
                    at: shipment.recorded_at + Duration::hours(*hours),
                    status: *status,
                    place: Some((*place).to_string()),
                    detail: (*detail).to_string(),
                },
            })
            .filter(|f| f.event.at <= now)
            .collect())
    }
}

/// An order's shipment as its parties see it.
#[derive(Debug, Clone)]
pub struct Track {
    pub waybill: Option<WaybillRow>,
    pub events: Vec<TrackingRow>,
}

impl Track {
    /// Where the parcel is now, by the latest event.
    pub fn status(&self) -> Option<TrackingStatus> {
        let events: Vec<_> = self.events.iter().map(|e| (e.at, e.status)).collect();
        tracking::current(&events)
    }
}

/// May `actor` read order `o`? Its parties (buyer, seller, shipper, the sellers of its legs) and
/// HQ staff who read orders: the same question for the API and the pages.
pub fn may_see(c: &mut DbConnection, actor: Actor, o: &OrderRow) -> Result<()> {
    if let Actor::Agent { agent, .. } = actor {
        let in_legs = order_store::legs_of(c, &[o.id])?
            .iter()
            .any(|l| l.buyer_id == agent || l.seller_id == Some(agent));
        if o.buyer_id == agent
            || o.seller_id == Some(agent)
            || o.shipper_id == Some(agent)
            || in_legs
        {
            return Ok(());
        }
        return Err(Error::Forbidden("this order is not yours to see".into()));
    }
    actor.require(crate::domain::Permission::ReadOrders, "see orders")
}

/// The track of order `id`, for a party of it or HQ.
pub fn track_of(c: &mut DbConnection, id: i64, actor: Actor) -> Result<Track> {
    let row = order_store::get(c, id)?;
    may_see(c, actor, &row)?;
    load(c, id)
}

/// The track of order `id`, unchecked (the caller checked who asks).
pub fn load(c: &mut DbConnection, id: i64) -> Result<Track> {
    Ok(Track {
        waybill: pages_store::waybill(c, id)?,
        events: store::events_of(c, id)?,
    })
}

/// States in which a shipment exists to track.
pub const ON_ITS_WAY: &[OrderState] = &[
    OrderState::Shipping,
    OrderState::Shipped,
    OrderState::Received,
    OrderState::Completed,
];

/// The shipper adds an event it learnt of (a phone call with the courier, a courier without an
/// adapter). Refused before shipping starts, for a time before the order or after now, or an
/// empty description.
pub fn add_event(
    c: &mut DbConnection,
    id: i64,
    actor: Actor,
    event: TrackingEvent,
) -> Result<Track> {
    shipping::may_ship(c, id, actor)?;
    let row = order_store::get(c, id)?;
    if !ON_ITS_WAY.contains(&row.state) {
        return Err(Error::refuse(
            "order_not_shipped",
            format!("order {id} is not shipped yet: it is {}", row.state),
        ));
    }
    let at = now();
    let event = tracking::check_typed(event, row.created_at, at).map_err(refused)?;
    store::add_typed(c, id, &event, actor.user(), at)?;
    load(c, id)
}

/// What one round of fetching did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Fetch {
    /// Shipments the courier was asked about.
    pub asked: usize,
    /// Events new to the tracks.
    pub added: usize,
    /// Shipments the courier gave no track for (logged; asked again next period).
    pub failed: usize,
}

/// One round of the fetch job at `at`: once per settlement slot across instances (the claim is
/// its own short write: the courier is never asked inside a database write).
pub async fn fetch_round(
    db: &Db,
    courier: Arc<dyn Courier>,
    at: NaiveDateTime,
    slot: String,
    instance: &str,
) -> Result<Option<Fetch>> {
    let who = instance.to_owned();
    let claimed = db
        .write(move |c| Ok(job_runs::claim(c, "track", &slot, &who, at)?))
        .await?;
    if !claimed {
        return Ok(None);
    }
    fetch_now(db, courier, at).await.map(Some)
}

/// Asks the courier about the shipments on their way not asked since [`ASK_AGAIN_AFTER`], and
/// merges what it answers.
pub async fn fetch_now(db: &Db, courier: Arc<dyn Courier>, at: NaiveDateTime) -> Result<Fetch> {
    let open = db
        .run(move |c| Ok(store::open_shipments(c, at - ASK_AGAIN_AFTER, PER_ROUND)?))
        .await?;
    let mut out = Fetch::default();
    for shipment in open {
        let asked = courier.clone();
        let answer = tokio::task::spawn_blocking(move || {
            let track = asked.track(&shipment, at);
            (shipment, track)
        })
        .await
        .map_err(|e| Error::Internal(format!("the courier call panicked: {e}")))?;
        out.asked += 1;
        match answer {
            (shipment, Ok(events)) => {
                out.added += db
                    .write(move |c| Ok(store::merge_fetched(c, shipment.order_id, &events, at)?))
                    .await?;
            }
            (shipment, Err(e)) => {
                out.failed += 1;
                tracing::warn!(order = shipment.order_id, waybill = %shipment.waybill, error = %e, "no track from the courier");
                // Asked: not again before the period is over.
                db.write(move |c| Ok(store::merge_fetched(c, shipment.order_id, &[], at)?))
                    .await?;
            }
        }
    }
    Ok(out)
}
