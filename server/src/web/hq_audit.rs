//! The diversion audit console (防串货审计, issue 7) for HQ auditors and admins: the dashboard
//! (`/hq/audit`, headline counts and daily charts drawn as SVG on the server) and the region flows
//! (`/hq/audit/flows`, the expected → observed matrix and each agent's diversion count by week).
//! The alert pages are in `hq_audit_alerts`, the trace page in `hq_audit_trace`. Other staff get a
//! 403 page; visitors who are not signed in are sent to sign in first. All data comes from the use
//! cases in `crate::diversion::views`.

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use maud::{Markup, PreEscaped, html};

use super::audit_i18n::{A, t};
use super::i18n::Lang;
use super::staff::{self, with_cookies};
use super::svg_chart::{self, Kind, Series};
use super::verify::urlencode;
use crate::app::AppState;
use crate::auth::Caller;
use crate::diversion::views::{self, region_name};
use crate::domain::Permission;
use crate::error::Error;

pub const HERE: &str = "/hq/audit";
/// The window shown when none is asked for.
const DEFAULT_DAYS: u32 = 30;

/// The query of a console page: raw strings, checked by the page so that a bad value gets a
/// page naming it rather than the framework's plain-text refusal.
pub type RawQuery = BTreeMap<String, String>;

/// The signed-in HQ auditor or admin, or the response sending anyone else away.
pub async fn gate(
    state: &AppState,
    lang: Lang,
    caller: Option<Caller>,
    here: &str,
) -> Result<Caller, Response> {
    let caller = staff::gate_for(state, lang, caller, here, Permission::ReadSightings).await?;
    Ok(caller)
}

/// `lang` from the query, the cookie or the browser.
pub fn lang_of(q: &RawQuery, headers: &HeaderMap) -> Lang {
    Lang::negotiate(q.get("lang").map(String::as_str), headers)
}

/// `path` with the query's non-empty fields and the other language: the switch's target.
pub fn switch_href(path: &str, q: &RawQuery, lang: Lang) -> String {
    let mut href = format!("{path}?lang={}", lang.other().param());
    for (k, v) in q {
        if k != "lang" && k != "notice" && !v.trim().is_empty() {
            href.push_str(&format!("&{}={}", urlencode(k), urlencode(v)));
        }
    }
    href
}

/// The window in days from `?days=`, default 30; a bad value is a 400 naming it.
pub fn days_of(q: &RawQuery) -> Result<u32, Error> {
    match q.get("days").map(|d| d.trim()).filter(|d| !d.is_empty()) {
        None => Ok(DEFAULT_DAYS),
        Some(d) => d.parse::<u32>().map_err(|_| {
            Error::BadRequest(format!(
                "days {d:?} is not a number of days (1 to {})",
                views::MAX_DAYS
            ))
        }),
    }
}

/// The console's own navigation, on every page of it.
pub fn nav(lang: Lang) -> Markup {
    html! {
        nav.card id="audit-nav" {
            a href=(HERE) { (t(lang, A::Dashboard)) } " · "
            a href="/hq/audit/alerts" { (t(lang, A::Alerts)) } " · "
            a href="/hq/audit/trace" { (t(lang, A::Trace)) } " · "
            a href="/hq/audit/flows" { (t(lang, A::Flows)) }
        }
    }
}

/// The console's frame: the page with the navigation above `body`, no-store, and the language
/// cookie when one was picked.
pub fn frame(
    lang: Lang,
    caller: &Caller,
    title: &str,
    switch: &str,
    picked: bool,
    body: Markup,
) -> Response {
    let body = html! { (nav(lang)) (body) };
    with_cookies(
        super::shell::page(lang, caller, HERE, title, Some(switch), body).into_response(),
        [staff::lang_cookie(lang, picked)],
    )
}

/// A window picker (`?days=`) posting back to `path`.
fn window_form(lang: Lang, path: &str, days: u32) -> Markup {
    html! {
        form method="get" action=(path) style="display:flex;gap:.5rem;align-items:end" {
            label { (t(lang, A::LastDays)) " "
                input type="number" name="days" min="1" max=(views::MAX_DAYS) value=(days) style="width:6rem";
            }
            button type="submit" style="width:auto;margin:0;padding:.4rem 1rem" { (t(lang, A::Filter)) }
        }
    }
}

/// `GET /hq/audit`: the dashboard.
pub async fn dashboard(
    State(state): State<AppState>,
    crate::auth::MaybeCaller(caller): crate::auth::MaybeCaller,
    Query(q): Query<RawQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = lang_of(&q, &headers);
    let caller = match gate(&state, lang, caller, HERE).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let days = match days_of(&q) {
        Ok(d) => d,
        Err(e) => return staff::error_page(lang, e),
    };
    let d = match state.db.run(move |c| views::dashboard(c, days)).await {
        Ok(d) => d,
        Err(e) => return staff::error_page(lang, e),
    };
    let fill = |s| views::fill(&d.days, s);
    let (issued, shipped, verified) = (
        fill(&d.series.issued),
        fill(&d.series.shipped),
        fill(&d.series.verified),
    );
    let (counterfeit, alerts) = (fill(&d.series.counterfeit), fill(&d.series.alerts));
    let codes_chart = svg_chart::chart(
        Kind::Line,
        t(lang, A::CodesOverTime),
        &d.days,
        &[
            Series {
                name: t(lang, A::CodesIssued),
                values: &issued,
                color: "#1d4ed8",
            },
            Series {
                name: t(lang, A::Shipped),
                values: &shipped,
                color: "#d97706",
            },
            Series {
                name: t(lang, A::Verified),
                values: &verified,
                color: "#15803d",
            },
        ],
    );
    let alerts_chart = svg_chart::chart(
        Kind::Bar,
        t(lang, A::AlertsOverTime),
        &d.days,
        &[
            Series {
                name: t(lang, A::Alerts),
                values: &alerts,
                color: "#b91c1c",
            },
            Series {
                name: t(lang, A::Counterfeit),
                values: &counterfeit,
                color: "#57534e",
            },
        ],
    );
    let totals = [
        (A::CodesIssued, d.totals.issued, "issued"),
        (A::Shipped, d.totals.shipped, "shipped"),
        (A::Verified, d.totals.verified, "verified"),
        (A::Counterfeit, d.totals.counterfeit, "counterfeit"),
        (A::OpenAlerts, d.totals.open_alerts, "open_alerts"),
    ];
    let body = html! {
        div.card id="totals" {
            h2 { (t(lang, A::Dashboard)) }
            dl {
                @for (label, n, key) in totals {
                    dt { (t(lang, label)) }
                    dd data-count=(key) {
                        @if key == "open_alerts" {
                            a href="/hq/audit/alerts?status=open" { (n) }
                        } @else { (n) }
                    }
                }
            }
        }
        div.card id="charts" {
            (window_form(lang, HERE, days))
            figure id="chart-codes" style="margin:.75rem 0" { (PreEscaped(codes_chart)) }
            figure id="chart-alerts" style="margin:.75rem 0" { (PreEscaped(alerts_chart)) }
        }
        div.card id="exports" {
            h2 { (t(lang, A::Exports)) }
            p {
                a href="/api/v1/diversion/alerts.csv?limit=1000" { (t(lang, A::AlertsCsv)) } " · "
                a href="/api/v1/diversion/alerts.csv?status=open&limit=1000" { (t(lang, A::AlertsCsv)) " (" (t(lang, A::Open)) ")" }
            }
            p.muted { (t(lang, A::TraceCsv)) ": " a href="/hq/audit/trace" { (t(lang, A::Trace)) } }
        }
    };
    frame(
        lang,
        &caller,
        t(lang, A::Console),
        &switch_href(HERE, &q, lang),
        q.contains_key("lang"),
        body,
    )
}

/// `GET /hq/audit/flows`: the flow matrix and each agent's diversion alerts by week.
pub async fn flows(
    State(state): State<AppState>,
    crate::auth::MaybeCaller(caller): crate::auth::MaybeCaller,
    Query(q): Query<RawQuery>,
    headers: HeaderMap,
) -> Response {
    const PATH: &str = "/hq/audit/flows";
    let lang = lang_of(&q, &headers);
    let caller = match gate(&state, lang, caller, PATH).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let days = match days_of(&q) {
        Ok(d) => d,
        Err(e) => return staff::error_page(lang, e),
    };
    let loaded = state
        .db
        .run(move |c| Ok((views::flows(c, days)?, views::agent_weeks(c, days)?)))
        .await;
    let (matrix, (weeks, agents)) = match loaded {
        Ok(v) => v,
        Err(e) => return staff::error_page(lang, e),
    };
    const COLORS: [&str; 6] = [
        "#b91c1c", "#1d4ed8", "#15803d", "#d97706", "#7c3aed", "#0f766e",
    ];
    let names: Vec<String> = agents
        .iter()
        .map(|a| format!("{} #{}", a.name, a.agent_id))
        .collect();
    let series: Vec<Series<'_>> = agents
        .iter()
        .zip(&names)
        .take(COLORS.len())
        .enumerate()
        .map(|(i, (a, name))| Series {
            name,
            values: &a.weeks,
            color: COLORS[i],
        })
        .collect();
    let agents_chart = svg_chart::chart(Kind::Bar, t(lang, A::AgentsOverTime), &weeks, &series);
    let body = html! {
        div.card { (window_form(lang, PATH, days)) }
        div.card id="matrix" {
            h2 { (t(lang, A::Matrix)) }
            p.muted { (t(lang, A::MatrixHint)) }
            @if matrix.cells.is_empty() {
                p.muted { (t(lang, A::NothingYet)) }
            } @else {
                div style="overflow-x:auto" {
                    table {
                        thead { tr {
                            th { "↓ " (t(lang, A::Expected)) " \\ " (t(lang, A::Observed)) " →" }
                            @for o in &matrix.observed { th data-observed=(o) { (region_name(o)) } }
                        } }
                        tbody {
                            @for e in &matrix.expected {
                                tr data-expected=(e) {
                                    th { (region_name(e)) }
                                    @for o in &matrix.observed {
                                        @let n = matrix.cells.get(&(e.clone(), o.clone())).copied().unwrap_or(0);
                                        td data-cell=(format!("{e}-{o}"))
                                            style=(if n > 0 && e != o { "font-weight:700;color:#b91c1c" } else { "" }) {
                                            @if n > 0 { (n) } @else { "·" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        div.card id="agents" {
            h2 { (t(lang, A::AgentsOverTime)) }
            @if agents.is_empty() {
                p.muted { (t(lang, A::NothingYet)) }
            } @else {
                figure style="margin:.5rem 0" { (PreEscaped(agents_chart)) }
                div style="overflow-x:auto" {
                    table {
                        thead { tr {
                            th { (t(lang, A::Agent)) }
                            @for w in &weeks { th { (w) } }
                            th { (t(lang, A::Total)) }
                        } }
                        tbody {
                            @for a in &agents {
                                tr data-agent=(a.agent_id) {
                                    td { a href=(format!("/hq/audit/alerts?agent={}&kind=diversion", a.agent_id)) { (a.name) " #" (a.agent_id) } }
                                    @for n in &a.weeks { td { (n) } }
                                    td data-total=(a.total) { strong { (a.total) } }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    frame(
        lang,
        &caller,
        t(lang, A::Flows),
        &switch_href(PATH, &q, lang),
        q.contains_key("lang"),
        body,
    )
}
