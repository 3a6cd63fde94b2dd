//! A shipment's track (物流轨迹, seed 004: "物流轨迹信息一目了然"): the events between the shipper
//! handing the parcel to the courier and the buyer holding it, as the shipper types them or as a
//! courier adapter fetches them. The track is information for the buyer and the seller; it moves
//! no money and no custody (the buyer's receipt does, DOMAIN §4).

use chrono::{Duration, NaiveDateTime};

use crate::Refusal;

/// Where a parcel is.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::AsRefStr,
    strum::EnumIter,
)]
#[strum(serialize_all = "snake_case")]
pub enum TrackingStatus {
    /// 已揽收: the courier took the parcel.
    PickedUp,
    /// 运输中: between the courier's depots.
    InTransit,
    /// 派送中: on the last van.
    OutForDelivery,
    /// 已签收: handed over.
    Delivered,
    /// 异常: held, returned, damaged, refused.
    Exception,
}

impl TrackingStatus {
    pub const ALL: [TrackingStatus; 5] = [
        TrackingStatus::PickedUp,
        TrackingStatus::InTransit,
        TrackingStatus::OutForDelivery,
        TrackingStatus::Delivered,
        TrackingStatus::Exception,
    ];

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(s: &str) -> Option<TrackingStatus> {
        s.parse().ok()
    }
}

/// Who put an event on the track.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::AsRefStr,
    strum::EnumIter,
)]
#[strum(serialize_all = "snake_case")]
pub enum TrackingSource {
    /// The shipper typed it.
    Manual,
    /// The courier adapter fetched it.
    Courier,
}

impl TrackingSource {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(s: &str) -> Option<TrackingSource> {
        s.parse().ok()
    }
}

/// An event as typed or fetched, before it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackingEvent {
    pub at: NaiveDateTime,
    pub status: TrackingStatus,
    /// The city or depot, when known.
    pub place: Option<String>,
    /// What happened, in the courier's or the shipper's words.
    pub detail: String,
}

/// How far ahead of the server's clock an event may be dated (a phone's clock running fast).
pub const CLOCK_SLACK: Duration = Duration::minutes(10);
/// The longest description kept.
pub const MAX_DETAIL: usize = 200;
/// The longest place kept.
pub const MAX_PLACE: usize = 60;

/// Why a typed event is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrackingError {
    #[error("detail: say what happened, in 1 to {MAX_DETAIL} characters")]
    Detail,
    #[error("place: at most {MAX_PLACE} characters")]
    Place,
    #[error("at: the event cannot be later than now")]
    InTheFuture,
    #[error("at: the event cannot be earlier than the order was placed")]
    BeforeTheOrder,
}

impl Refusal for TrackingError {
    fn code(&self) -> &'static str {
        match self {
            TrackingError::Detail | TrackingError::Place => "bad_tracking_event",
            TrackingError::InTheFuture | TrackingError::BeforeTheOrder => "tracking_event_time",
        }
    }
}

/// Checks an event the shipper typed: a description, a place of sensible length, and a time
/// between the order's placing and now. Texts come back trimmed; an empty place is none.
pub fn check_typed(
    event: TrackingEvent,
    placed_at: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<TrackingEvent, TrackingError> {
    let detail = event.detail.trim().to_string();
    if detail.is_empty() || detail.chars().count() > MAX_DETAIL {
        return Err(TrackingError::Detail);
    }
    let place = event
        .place
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty());
    if place
        .as_ref()
        .is_some_and(|p| p.chars().count() > MAX_PLACE)
    {
        return Err(TrackingError::Place);
    }
    if event.at > now + CLOCK_SLACK {
        return Err(TrackingError::InTheFuture);
    }
    if event.at < placed_at {
        return Err(TrackingError::BeforeTheOrder);
    }
    Ok(TrackingEvent {
        at: event.at,
        status: event.status,
        place,
        detail,
    })
}

/// The parcel's status now: the latest event's, `None` before the first. Events of the same
/// minute keep their order of arrival (`events` is in the order stored).
pub fn current(events: &[(NaiveDateTime, TrackingStatus)]) -> Option<TrackingStatus> {
    events
        .iter()
        .enumerate()
        .max_by_key(|(i, (at, _))| (*at, *i))
        .map(|(_, (_, s))| *s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn t(h: u32, m: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 12, 6)
            .and_then(|d| d.and_hms_opt(h, m, 0))
            .expect("time")
    }

    fn typed(at: NaiveDateTime, detail: &str, place: Option<&str>) -> TrackingEvent {
        TrackingEvent {
            at,
            status: TrackingStatus::InTransit,
            place: place.map(str::to_string),
            detail: detail.into(),
        }
    }

    #[test]
    fn statuses_keep_their_stored_names() {
        for s in TrackingStatus::ALL {
            assert_eq!(TrackingStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(TrackingStatus::Delivered.as_str(), "delivered");
        assert_eq!(TrackingStatus::parse("lost"), None);
        assert_eq!(
            TrackingSource::parse("courier"),
            Some(TrackingSource::Courier)
        );
        assert_eq!(TrackingSource::Manual.as_str(), "manual");
    }

    #[test]
    fn a_typed_event_is_trimmed_and_checked() {
        let ok = check_typed(
            typed(t(12, 0), "  到达杭州转运中心 ", Some(" ")),
            t(9, 0),
            t(13, 0),
        )
        .expect("fine");
        assert_eq!(ok.detail, "到达杭州转运中心");
        assert_eq!(ok.place, None);
        let err = |e: TrackingEvent| check_typed(e, t(9, 0), t(13, 0)).expect_err("refused");
        assert_eq!(err(typed(t(12, 0), "   ", None)), TrackingError::Detail);
        assert_eq!(
            err(typed(t(12, 0), &"长".repeat(201), None)),
            TrackingError::Detail
        );
        assert_eq!(
            err(typed(t(12, 0), "ok", Some(&"杭".repeat(61)))),
            TrackingError::Place
        );
        assert_eq!(
            err(typed(t(13, 11), "ok", None)),
            TrackingError::InTheFuture
        );
        assert_eq!(
            err(typed(t(8, 59), "ok", None)),
            TrackingError::BeforeTheOrder
        );
        // A phone a few minutes fast is not refused.
        assert!(check_typed(typed(t(13, 9), "ok", None), t(9, 0), t(13, 0)).is_ok());
        assert_eq!(TrackingError::InTheFuture.code(), "tracking_event_time");
    }

    #[test]
    fn the_current_status_is_the_latest_events() {
        use TrackingStatus::*;
        assert_eq!(current(&[]), None);
        assert_eq!(
            current(&[
                (t(9, 0), PickedUp),
                (t(18, 0), Delivered),
                (t(12, 0), InTransit)
            ]),
            Some(Delivered)
        );
        // Two events of one minute: the later stored wins.
        assert_eq!(
            current(&[(t(9, 0), OutForDelivery), (t(9, 0), Delivered)]),
            Some(Delivered)
        );
    }
}

#[cfg(test)]
mod strum_names {
    use super::*;

    #[test]
    fn stored_names_of_tracking_status() {
        crate::pin_stored_names(
            &[
                (TrackingStatus::PickedUp, "picked_up"),
                (TrackingStatus::InTransit, "in_transit"),
                (TrackingStatus::OutForDelivery, "out_for_delivery"),
                (TrackingStatus::Delivered, "delivered"),
                (TrackingStatus::Exception, "exception"),
            ],
            TrackingStatus::as_str,
            TrackingStatus::parse,
        );
    }

    #[test]
    fn stored_names_of_tracking_source() {
        crate::pin_stored_names(
            &[
                (TrackingSource::Manual, "manual"),
                (TrackingSource::Courier, "courier"),
            ],
            TrackingSource::as_str,
            TrackingSource::parse,
        );
    }
}
