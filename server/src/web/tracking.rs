//! A shipment's track on the order pages (issue 20), the agent's phone page and HQ's desk alike:
//! where the parcel is now, the events newest first, and for the shipper a form to add an event
//! it learnt of. The times people type and read are China's time on Chinese pages and UTC on
//! English ones, as everywhere else ([`w::when`]).

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDateTime};
use maud::{Markup, html};

use super::agent_i18n::{self as w, tr};
use super::form_key;
use super::i18n::Lang;
use crate::domain::network::tracking::{TrackingEvent, TrackingSource, TrackingStatus};
use crate::error::{Error, Result};
use crate::network::tracking::Track;

/// The offset of the page's clock from UTC.
fn offset(lang: Lang) -> Duration {
    match lang {
        Lang::Zh => Duration::hours(8),
        Lang::En => Duration::zero(),
    }
}

/// A parcel's status in words.
pub fn status_words(lang: Lang, s: TrackingStatus) -> &'static str {
    match s {
        TrackingStatus::PickedUp => tr(lang, "已揽收", "Picked up"),
        TrackingStatus::InTransit => tr(lang, "运输中", "In transit"),
        TrackingStatus::OutForDelivery => tr(lang, "派送中", "Out for delivery"),
        TrackingStatus::Delivered => tr(lang, "已签收", "Delivered"),
        TrackingStatus::Exception => tr(lang, "异常", "Problem"),
    }
}

/// The track as a card: nothing before a waybill or an event exists.
pub fn timeline(lang: Lang, track: &Track) -> Markup {
    if track.waybill.is_none() && track.events.is_empty() {
        return html! {};
    }
    html! {
        div.card id="tracking" {
            h2 { (tr(lang, "物流轨迹", "Tracking")) }
            @if let Some(wb) = &track.waybill {
                p { (wb.carrier) " " code { (wb.waybill) } }
            }
            @match track.status() {
                Some(s) => p id="tracking-status" data-status=(s.as_str()) { strong { (status_words(lang, s)) } },
                None => p.muted id="tracking-status" { (tr(lang, "快递公司尚未更新物流信息。", "The courier has not reported anything yet.")) },
            }
            @if !track.events.is_empty() {
                ol.track style="list-style:none;padding:0;margin:0" {
                    @for e in track.events.iter().rev() {
                        li data-event=(e.id) style="border-left:3px solid #d6d3d1;padding:.2rem 0 .4rem .6rem;margin-left:.2rem" {
                            span.muted { (w::when(lang, e.at)) } " · " strong { (status_words(lang, e.status)) }
                            @if let Some(p) = &e.place { " · " (p) }
                            br;
                            (e.detail)
                            @if e.source == TrackingSource::Manual {
                                " " span.muted { "(" (tr(lang, "发货方录入", "entered by the shipper")) ")" }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The shipper's form to add an event, posted to `action`.
pub fn event_form(lang: Lang, csrf: &str, action: &str, now: NaiveDateTime) -> Markup {
    let local = (now + offset(lang)).format("%Y-%m-%dT%H:%M").to_string();
    html! {
        form.card method="post" action=(action) id="tracking-form" {
            h2 { (tr(lang, "添加物流信息", "Add a tracking event")) }
            p.muted { (tr(lang, "快递公司未自动更新时，可在此录入（例如电话询问所得）。", "When the courier does not report it, enter what you learnt (a phone call, say).")) }
            input type="hidden" name="csrf" value=(csrf);
            (form_key::field())
            label for="t-status" { (tr(lang, "状态", "Status")) }
            select id="t-status" name="status" {
                @for s in TrackingStatus::ALL {
                    option value=(s.as_str()) { (status_words(lang, s)) }
                }
            }
            label for="t-at" { (tr(lang, "时间（北京时间）", "Time (UTC)")) }
            input type="datetime-local" id="t-at" name="at" value=(local) required;
            label for="t-place" { (tr(lang, "地点（选填）", "Place (optional)")) }
            input type="text" id="t-place" name="place" maxlength="60";
            label for="t-detail" { (tr(lang, "说明", "What happened")) }
            input type="text" id="t-detail" name="detail" required maxlength="200";
            button type="submit" { (tr(lang, "添加", "Add")) }
        }
    }
}

/// The event the form describes (checked further by the use case).
pub fn from_form(lang: Lang, f: &BTreeMap<String, String>) -> Result<TrackingEvent> {
    let text = |k: &str| f.get(k).map_or("", String::as_str);
    let status = TrackingStatus::parse(text("status"))
        .ok_or_else(|| Error::BadRequest("status: pick where the parcel is".into()))?;
    let at = NaiveDateTime::parse_from_str(text("at").trim(), "%Y-%m-%dT%H:%M")
        .map_err(|_| Error::BadRequest("at: give the event's date and time".into()))?
        - offset(lang);
    let place = Some(text("place").to_string());
    Ok(TrackingEvent {
        at,
        status,
        place,
        detail: text("detail").to_string(),
    })
}
