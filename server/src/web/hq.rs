//! The HQ console (`GET /hq`): headline counts, the batches (`hq_batches`) and the newest
//! sightings, for the brand's staff.
//! Agents get a 403 page; visitors who are not signed in are sent to sign in first.

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::hq_batches;
use super::hq_i18n::tr;
use super::i18n::{Lang, Text};
use super::shell;
use super::staff::{self, with_cookies};
use crate::app::AppState;
use crate::auth::MaybeCaller;
use crate::domain::Permission;
use crate::store::batches::{self, BatchRow};
use crate::store::stats::{self, Counts, SightingRow};

const HERE: &str = "/hq";
/// How many sightings the console lists.
const RECENT: i64 = 20;

#[derive(Debug, Deserialize)]
pub struct HqQuery {
    lang: Option<String>,
    notice: Option<String>,
}

/// `GET /hq`.
pub async fn show(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Query(query): Query<HqQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(query.lang.as_deref(), &headers);
    let caller = match staff::gate_for(&state, lang, caller, HERE, Permission::HqConsole).await {
        Ok(c) => c,
        Err(redirect) => return redirect,
    };
    let sees_sightings = caller.require(Permission::ReadSightings).is_ok();
    let sees_batches = caller.require(Permission::ReadRegistry).is_ok();
    let loaded = state
        .db
        .run(move |c| {
            let counts = stats::counts(c)?;
            let recent = if sees_sightings {
                Some(stats::recent_sightings(c, RECENT)?)
            } else {
                None
            };
            let batches: Option<Vec<BatchRow>> = if sees_batches {
                Some(batches::list(c, hq_batches::LISTED)?)
            } else {
                None
            };
            let todo = crate::store::desk::to_do(c)?;
            Ok((counts, recent, batches, todo))
        })
        .await;
    let (counts, recent, batch_rows, todo) = match loaded {
        Ok(v) => v,
        Err(e) => return staff::error_page(lang, e),
    };
    let q_notice = query.notice.clone();
    let switch = format!("{HERE}?lang={}", lang.other().param());
    let body = html! {
        @if let Some(n) = &q_notice { div.card.verdict.ok id="notice" { (n) } }
        (to_do(lang, &caller, &todo))
        (overview(lang, &counts))
        @if let Some(rows) = &batch_rows { (hq_batches::table(lang, &caller, rows)) }
        @if let Some(rows) = &recent { (sightings(lang, rows)) }
        div.card {
            @if sees_sightings {
                a href="/hq/audit" id="audit-link" { (super::audit_i18n::t(lang, super::audit_i18n::A::Console)) } " · "
            }
            a href="/api/docs" { (lang.t(Text::ApiDocs)) } " · "
            a href="/api/openapi.json" { "OpenAPI" }
        }
    };
    let response = shell::page(
        lang,
        &caller,
        HERE,
        lang.t(Text::HqTitle),
        Some(&switch),
        body,
    )
    .into_response();
    with_cookies(response, [staff::lang_cookie(lang, query.lang.is_some())])
}

fn overview(lang: Lang, c: &Counts) -> Markup {
    let rows = [
        (Text::Products, c.products, "products"),
        (Text::Batches, c.batches, "batches"),
        (Text::Items, c.items, "items"),
        (Text::ItemsReleased, c.items_released, "items_released"),
        (Text::Verifications, c.verifications, "verifications"),
        (Text::Counterfeit, c.counterfeit, "counterfeit"),
        (Text::Mismatches, c.mismatches, "mismatches"),
    ];
    html! {
        div.card id="counts" {
            h2 { (lang.t(Text::Overview)) }
            dl {
                @for (label, n, key) in rows {
                    dt { (lang.t(label)) }
                    dd data-count=(key) { (n) }
                }
            }
        }
    }
}

/// A sighting's result in words; unknown results are shown as stored.
fn result_text(lang: Lang, result: &str) -> String {
    let text = match result {
        "genuine_first" => Text::GenuineFirst,
        "genuine_repeat" => Text::GenuineRepeat,
        "mismatch" => Text::Mismatch,
        "not_genuine" => Text::NotGenuine,
        r if r.starts_with("not_released") => Text::NotReleased,
        _ => return tr(lang, "其他", "other").to_string(),
    };
    lang.t(text).to_string()
}

fn sightings(lang: Lang, rows: &[SightingRow]) -> Markup {
    html! {
        div.card id="sightings" {
            h2 { (lang.t(Text::RecentSightings)) }
            @if rows.is_empty() {
                p.muted { (lang.t(Text::NoSightings)) }
            } @else {
                div style="overflow-x:auto" {
                    table {
                        thead { tr {
                            th { (lang.t(Text::Time)) } th { (lang.t(Text::Serial)) }
                            th { (lang.t(Text::Outcome)) } th { (lang.t(Text::Client)) }
                            th { (lang.t(Text::Place)) }
                        } }
                        tbody {
                            @for s in rows {
                                tr data-result=(s.result) {
                                    td { (s.at.format("%m-%d %H:%M")) }
                                    td { code { (s.serial) } }
                                    td { (result_text(lang, &s.result)) }
                                    td { (s.client_addr.as_deref().unwrap_or("")) }
                                    td { (s.place.as_deref().unwrap_or("")) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// What waits for the caller, each tile linking to the page where it is done; only tiles of
/// pages the caller may open (the same permissions as the navigation).
fn to_do(lang: Lang, caller: &crate::auth::Caller, t: &crate::store::desk::ToDo) -> Markup {
    let may = |p: Permission| caller.role.allows(p);
    html! {
        div.todo id="todo" {
            @if may(Permission::ReadApplications) {
                a href="/hq/applications" id="todo-applications" {
                    b { (t.applications) } (tr(lang, "份入驻申请待审核", "applications to decide"))
                }
            }
            @if may(Permission::MoneyDesk) {
                a href="/hq/money?status=requested" id="todo-withdrawals" {
                    b { (t.withdrawals_requested) } (tr(lang, "笔提现待审批", "withdrawals to decide"))
                }
            }
            @if may(Permission::ReadSightings) {
                a href="/hq/audit/alerts?status=open" id="todo-alerts" {
                    b { (t.alerts_open) } (tr(lang, "条串货预警待处理", "diversion alerts open"))
                }
            }
            @if may(Permission::ReadDevices) {
                a href="/warehouse" id="todo-shipments" {
                    b { (t.orders_to_ship) } (tr(lang, "个订单待发货", "orders to ship"))
                }
            }
        }
    }
}
