//! The console's trace page (`/hq/audit/trace?code=…`): a search box for a serial, case code or
//! SSCC, and its whole chain of custody on a timeline with every scan and verification, the
//! items it stands for and their alerts. The data is `crate::diversion::views::trace`.

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use maud::{Markup, html};

use super::audit_i18n::{A, t, word};
use super::hq_audit::{RawQuery, frame, gate, lang_of, switch_href};
use super::i18n::Lang;
use super::staff;
use super::verify::urlencode;
use crate::app::AppState;
use crate::auth::MaybeCaller;
use crate::diversion::views::{self, Trace, region_name};

const PATH: &str = "/hq/audit/trace";

fn search_form(lang: Lang, code: &str) -> Markup {
    html! {
        form.card method="get" action=(PATH) id="trace-search" {
            label for="code" { (t(lang, A::Code)) }
            input type="text" id="code" name="code" value=(code) required maxlength="64"
                autocapitalize="characters" placeholder=(t(lang, A::CodeHint));
            button type="submit" { (t(lang, A::Search)) }
        }
    }
}

/// The colour of a timeline entry's marker by its source.
fn marker(source: &str) -> &'static str {
    match source {
        "custody" => "#1d4ed8",
        "scan" => "#d97706",
        _ => "#15803d",
    }
}

fn timeline(lang: Lang, tr: &Trace) -> Markup {
    html! {
        div.card id="timeline" {
            h2 { (t(lang, A::Timeline)) " · " (tr.events.len()) }
            @if tr.events.is_empty() { p.muted { (t(lang, A::NoEvents)) } }
            ol style="list-style:none;padding:0;margin:0;border-left:2px solid #e7e5e4" {
                @for e in &tr.events {
                    li data-source=(e.source) data-what=(e.what)
                        style=(format!("margin:0 0 .6rem .2rem;padding-left:.8rem;border-left:.3rem solid {}", marker(e.source))) {
                        div.muted { (e.at.format("%Y-%m-%d %H:%M:%S")) " · " (word(lang, e.source)) }
                        div {
                            strong { (e.what) }
                            @if tr.is_case { " · " code { (e.serial) } }
                            @if !e.detail.trim().is_empty() { " · " (e.detail) }
                        }
                        @if let Some(r) = &e.region { div data-region=(r) { (region_name(r)) " (" (r) ")" } }
                    }
                }
            }
            @if tr.events.len() as i64 >= views::TRACE_LIMIT {
                p.muted { "… " (views::TRACE_LIMIT) }
            }
        }
    }
}

fn result(lang: Lang, tr: &Trace) -> Markup {
    html! {
        div.card id="trace" data-code=(tr.code) data-case=(tr.is_case) {
            h2 { code { (tr.code) } @if tr.is_case { " · " (t(lang, A::Case)) } }
            p { a href=(format!("/api/v1/diversion/trace/{}/csv", urlencode(&tr.code))) id="trace-csv" { (t(lang, A::TraceCsv)) } }
            div style="overflow-x:auto" {
                table id="items" {
                    thead { tr {
                        th { (t(lang, A::Serial)) } th { (t(lang, A::Case)) }
                        th { (t(lang, A::Status)) } th { (t(lang, A::Holder)) }
                        th { (t(lang, A::VerifyCount)) }
                    } }
                    tbody {
                        @for i in &tr.items {
                            tr data-serial=(i.serial) {
                                td { code { (i.serial) } }
                                td { (i.case_code.as_deref().unwrap_or("-")) }
                                td { (i.status) }
                                td {
                                    (i.custodian_kind)
                                    @if let Some(id) = i.custodian_id { ":" (id) }
                                }
                                td { (i.verify_count) }
                            }
                        }
                    }
                }
            }
        }
        @if !tr.alerts.is_empty() {
            div.card id="trace-alerts" {
                h2 { (t(lang, A::Alerts)) }
                ul {
                    @for a in &tr.alerts {
                        li data-alert=(a.id) {
                            a href=(format!("/hq/audit/alerts/{}", a.id)) { "#" (a.id) }
                            " · " (word(lang, a.kind.as_str())) " · " (word(lang, a.status.as_str()))
                            " · " (a.observed_region.as_deref().map(region_name).unwrap_or_default())
                        }
                    }
                }
            }
        }
        (timeline(lang, tr))
    }
}

/// `GET /hq/audit/trace`.
pub async fn show(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Query(q): Query<RawQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = lang_of(&q, &headers);
    let caller = match gate(&state, lang, caller, PATH).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let code = q
        .get("code")
        .map(|c| c.trim().to_string())
        .unwrap_or_default();
    let found = if code.is_empty() {
        None
    } else {
        let wanted = code.clone();
        match state.db.run(move |c| views::trace(c, &wanted)).await {
            Ok(tr) => Some(tr),
            Err(e) => return staff::error_page(lang, e),
        }
    };
    let body = html! {
        (search_form(lang, &code))
        @if let Some(tr) = &found { (result(lang, tr)) }
    };
    frame(
        lang,
        &caller,
        t(lang, A::Trace),
        &switch_href(PATH, &q, lang),
        q.contains_key("lang"),
        body,
    )
}
