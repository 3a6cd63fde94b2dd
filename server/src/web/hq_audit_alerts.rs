//! The console's alerts: the list with filters (`/hq/audit/alerts`, newest first), one alert with
//! its evidence (`/hq/audit/alerts/{id}`) and the auditor's decision form posting to
//! `/hq/audit/alerts/{id}/decision` with the session's CSRF token. Filters are checked by
//! `crate::diversion::filter`, decisions made by `crate::diversion::decide`.

use std::collections::BTreeMap;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use maud::{Markup, html};
use serde_json::Value;

use super::audit_i18n::{A, action_words, t, word};
use super::hq_audit::{RawQuery, frame, gate, lang_of, switch_href};
use super::i18n::Lang;
use super::staff::{self, see_other};
use super::verify::urlencode;
use crate::app::AppState;
use crate::auth::MaybeCaller;
use crate::diversion::decide::{self, DecisionInput};
use crate::diversion::filter::{self, FilterInput};
use crate::diversion::views::region_name;
use crate::domain::diversion::alert::AlertStatus;
use crate::error::{Error, Result};
use crate::store::diversion_alerts::{self as alerts, AlertRow};
use crate::store::network::{agents, money};

const LIST: &str = "/hq/audit/alerts";
/// Rows the list shows.
const LISTED: i64 = 200;

fn alert_path(id: i64) -> String {
    format!("{LIST}/{id}")
}

/// The agent a filter names: its id, or its name when exactly one agent has it.
fn agent_named(c: &mut crate::store::DbConnection, given: &str) -> Result<i64> {
    if let Ok(id) = given.parse::<i64>() {
        return Ok(id);
    }
    match agents::ids_named(c, given, 2)?.as_slice() {
        [one] => Ok(*one),
        [] => Err(Error::BadRequest(format!(
            "agent: no agent is named {given:?}"
        ))),
        _ => Err(Error::BadRequest(format!(
            "agent: several agents are named {given:?}: give the agent's number"
        ))),
    }
}

/// The list's filters from the page's query (the agent already resolved to its id); a bad value
/// is a 400 naming it.
fn filters(q: &RawQuery, agent_id: Option<i64>) -> Result<FilterInput> {
    let get = |k: &str| q.get(k).cloned();
    Ok(FilterInput {
        status: get("status"),
        kind: get("kind"),
        agent_id,
        serial: get("serial"),
        region: get("region"),
        days: None,
        from: get("from"),
        limit: Some(LISTED),
    })
}

fn select(name: &str, label: &str, current: &str, options: &[(&str, String)]) -> Markup {
    html! {
        label { (label) " "
            select name=(name) {
                @for (value, text) in options {
                    option value=(value) selected[*value == current] { (text) }
                }
            }
        }
    }
}

fn filter_form(lang: Lang, q: &RawQuery) -> Markup {
    let v = |k: &str| q.get(k).map(String::as_str).unwrap_or("");
    let book = crate::diversion::regions();
    let regions: Vec<(String, String)> = book
        .provinces_and_cities()
        .into_iter()
        .map(|r| (r.code.to_string(), book.full_name(r.code)))
        .collect();
    let current_region = v("region").trim();
    let any = || ("", t(lang, A::Any).to_string());
    let status: Vec<(&str, String)> = std::iter::once(any())
        .chain(["open", "confirmed", "dismissed"].map(|s| (s, word(lang, s))))
        .collect();
    let kinds: Vec<(&str, String)> = std::iter::once(any())
        .chain(["diversion", "cloning", "overuse"].map(|s| (s, word(lang, s))))
        .collect();
    html! {
        form.card method="get" action=(LIST) id="filters" style="display:grid;gap:.4rem" {
            (select("status", t(lang, A::Status), v("status"), &status))
            (select("kind", t(lang, A::Kind), v("kind"), &kinds))
            // Regions by name (provinces and cities, GB/T 2260); a code typed into the URL still
            // works, and a district code kept in the URL shows as its own option.
            label { (t(lang, A::Region)) " "
                select name="region" {
                    option value="" { (t(lang, A::Any)) }
                    @if !current_region.is_empty() && !regions.iter().any(|(code, _)| *code == current_region) {
                        option value=(current_region) selected { (region_name(current_region)) }
                    }
                    @for (code, name) in &regions {
                        option value=(code) selected[*code == current_region] { (name) }
                    }
                }
            }
            label { (t(lang, A::Agent)) " "
                input type="text" name="agent" value=(v("agent")) placeholder=(t(lang, A::AgentHint)) style="width:10rem";
            }
            label { (t(lang, A::Since)) " "
                input type="date" name="from" value=(v("from"));
            }
            button type="submit" { (t(lang, A::Filter)) }
        }
    }
}

/// One alert's line in the list.
fn row(lang: Lang, a: &AlertRow) -> Markup {
    let name = |c: &Option<String>| c.as_deref().map(region_name).unwrap_or_default();
    html! {
        tr data-alert=(a.id) data-status=(a.status.as_str()) data-kind=(a.kind.as_str()) {
            td { a href=(alert_path(a.id)) { "#" (a.id) } }
            td { (a.created_at.format("%Y-%m-%d %H:%M")) }
            td { (word(lang, a.kind.as_str())) }
            td { code { (a.serial) } }
            td { (name(&a.expected_region)) }
            td { (name(&a.observed_region)) }
            td { (a.risk) }
            td { (word(lang, a.status.as_str())) }
        }
    }
}

/// `GET /hq/audit/alerts`.
pub async fn list(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Query(q): Query<RawQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = lang_of(&q, &headers);
    let caller = match gate(&state, lang, caller, LIST).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let given = q
        .get("agent")
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty());
    let agent_id = match given {
        None => None,
        Some(a) => match state.db.run(move |c| agent_named(c, &a)).await {
            Ok(id) => Some(id),
            Err(e) => return staff::error_page(lang, e),
        },
    };
    let filter = match filters(&q, agent_id).and_then(|f| filter::alert_filter(&f)) {
        Ok(f) => f,
        Err(e) => return staff::error_page(lang, e),
    };
    let rows = match state.db.run(move |c| Ok(alerts::list(c, &filter)?)).await {
        Ok(r) => r,
        Err(e) => return staff::error_page(lang, e),
    };
    // The same filters for the CSV export (the API's names).
    let mut csv = String::from("/api/v1/diversion/alerts.csv?limit=1000");
    for (page_key, api_key) in [
        ("status", "status"),
        ("kind", "kind"),
        ("region", "region"),
        ("serial", "serial"),
    ] {
        if let Some(v) = q.get(page_key).filter(|v| !v.trim().is_empty()) {
            csv.push_str(&format!("&{api_key}={}", urlencode(v.trim())));
        }
    }
    if let Some(id) = agent_id {
        csv.push_str(&format!("&agent_id={id}"));
    }
    let body = html! {
        (filter_form(lang, &q))
        div.card id="alerts" {
            h2 { (t(lang, A::Alerts)) " · " (rows.len()) }
            p.muted { (t(lang, A::Newest)) " · " a href=(csv) id="alerts-csv" { (t(lang, A::AlertsCsv)) } }
            @if rows.is_empty() {
                p.muted id="no-alerts" { (t(lang, A::NoAlerts)) }
            } @else {
                div style="overflow-x:auto" {
                    table {
                        thead { tr {
                            th { "#" } th { (t(lang, A::Raised)) } th { (t(lang, A::Kind)) }
                            th { (t(lang, A::Serial)) } th { (t(lang, A::Expected)) }
                            th { (t(lang, A::Observed)) } th { (t(lang, A::Risk)) }
                            th { (t(lang, A::Status)) }
                        } }
                        tbody { @for a in &rows { (row(lang, a)) } }
                    }
                }
            }
        }
    };
    frame(
        lang,
        &caller,
        t(lang, A::Alerts),
        &switch_href(LIST, &q, lang),
        q.contains_key("lang"),
        body,
    )
}

fn parse_id(raw: &str) -> Result<i64> {
    raw.trim()
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| Error::BadRequest(format!("{raw:?} is not an alert id")))
}

/// The agent's name, for the evidence.
fn agent_label(id: i64, name: Option<&str>) -> String {
    match name {
        Some(n) => format!("{n} #{id}"),
        None => format!("#{id}"),
    }
}

/// The chain of custody stored with the alert's evidence.
fn custody(lang: Lang, evidence: &Value) -> Markup {
    let moves = evidence["custody"].as_array().cloned().unwrap_or_default();
    let s = |v: &Value| v.as_str().unwrap_or("-").to_string();
    html! {
        div.card id="custody" {
            h2 { (t(lang, A::Custody)) }
            @if moves.is_empty() { p.muted { (t(lang, A::NoEvents)) } }
            ol {
                @for m in &moves {
                    li data-move=(s(&m["kind"])) {
                        (s(&m["at"]).replace('T', " ").chars().take(19).collect::<String>()) " · "
                        strong { (s(&m["kind"])) } " · " (s(&m["from"])) " → " (s(&m["to"]))
                        @if let Some(n) = m["note"].as_str() { " · " (n) }
                    }
                }
            }
        }
    }
}

fn decision_forms(lang: Lang, a: &AlertRow, csrf: &str) -> Markup {
    let action = format!("{}/decision", alert_path(a.id));
    html! {
        div.card id="decide" {
            h2 { (t(lang, A::Decide)) }
            form method="post" action=(action) id="confirm-form" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="decision" value="confirm";
                label { (t(lang, A::Note)) input type="text" name="note" required maxlength="500"; }
                @if a.agent_id.is_some() {
                    label style="display:block;margin:.5rem 0" {
                        input type="checkbox" name="suspend_agent" value="on"; " " (t(lang, A::SuspendAgent))
                    }
                    label { (t(lang, A::Penalty))
                        input type="text" name="penalty" inputmode="decimal" placeholder=(t(lang, A::PenaltyHint));
                    }
                }
                button type="submit" { (t(lang, A::Confirm)) }
            }
            form method="post" action=(action) id="dismiss-form" style="margin-top:1rem" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="decision" value="dismiss";
                label { (t(lang, A::Note)) input type="text" name="note" required maxlength="500"; }
                button type="submit" style="background:#57534e" { (t(lang, A::Dismiss)) }
            }
        }
    }
}

/// `GET /hq/audit/alerts/{id}`.
pub async fn show(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(raw): Path<String>,
    Query(q): Query<RawQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = lang_of(&q, &headers);
    let here = format!("{LIST}/{}", urlencode(&raw));
    let caller = match gate(&state, lang, caller, &here).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let id = match parse_id(&raw) {
        Ok(id) => id,
        Err(e) => return staff::error_page(lang, e),
    };
    let loaded = state
        .db
        .run(move |c| {
            let a = alerts::get(c, id)?.ok_or(Error::not_found("alert"))?;
            let agent = match a.agent_id {
                Some(agent) => agents::find(c, agent)?.map(|r| r.name),
                None => None,
            };
            Ok((a, agent))
        })
        .await;
    let (a, agent_name) = match loaded {
        Ok(v) => v,
        Err(e) => return staff::error_page(lang, e),
    };
    let evidence: Value = serde_json::from_str(&a.evidence).unwrap_or(Value::Null);
    let region = |c: &Option<String>| {
        c.as_deref()
            .map(|c| format!("{} ({c})", region_name(c)))
            .unwrap_or_else(|| "-".into())
    };
    let expected = match evidence["expected"]["regions"].as_array() {
        Some(list) if !list.is_empty() => list
            .iter()
            .map(|r| {
                format!(
                    "{} ({})",
                    r["name"].as_str().unwrap_or(""),
                    r["code"].as_str().unwrap_or("")
                )
            })
            .collect::<Vec<_>>()
            .join("; "),
        _ => region(&a.expected_region),
    };
    let sighting = &evidence["sighting"];
    let csrf = caller.csrf().to_string();
    let body = html! {
        @if let Some(n) = q.get("notice") { div.card.verdict.ok id="notice" { (n) } }
        div.card.verdict.(if a.status == AlertStatus::Open { "bad" } else { "ok" }) id="alert"
            data-alert=(a.id) data-status=(a.status.as_str()) data-kind=(a.kind.as_str()) {
            h2 { (t(lang, A::Alert)) " #" (a.id) " · " (word(lang, a.kind.as_str())) " · " (word(lang, a.status.as_str())) }
            dl id="evidence" {
                dt { (t(lang, A::Serial)) }
                dd { a href=(format!("/hq/audit/trace?code={}", urlencode(&a.serial))) id="trace-link" { code { (a.serial) } } }
                dt { (t(lang, A::Raised)) } dd { (a.created_at.format("%Y-%m-%d %H:%M:%S")) " UTC" }
                dt { (t(lang, A::Expected)) } dd data-field="expected" { (expected) }
                dt { (t(lang, A::Observed)) } dd data-field="observed" { (region(&a.observed_region)) }
                dt { (t(lang, A::Source)) } dd data-field="source" { (word(lang, a.place_source.as_str())) }
                dt { (t(lang, A::Risk)) } dd data-field="risk" { (a.risk) " / 100" }
                dt { (t(lang, A::LetOutBy)) }
                dd data-field="agent" {
                    @match a.agent_id {
                        Some(id) => a href=(format!("{LIST}?agent={id}")) { (agent_label(id, agent_name.as_deref())) },
                        None => "-",
                    }
                }
                @if let Some(ip) = sighting["client_addr"].as_str() { dt { (t(lang, A::Sighting)) } dd { (ip) } }
                @if let Some(ua) = sighting["user_agent"].as_str() { dt { "User-Agent" } dd.muted { (ua) } }
                @if let Some(km) = evidence["travel"]["distance_km"].as_f64() { dt { "km" } dd { (km) } }
            }
        }
        (custody(lang, &evidence))
        @if a.status == AlertStatus::Open {
            (decision_forms(lang, &a, &csrf))
        } @else {
            div.card id="decision" {
                h2 { (t(lang, A::Decision)) }
                dl {
                    dt { (t(lang, A::Status)) } dd { (word(lang, a.status.as_str())) }
                    dt { (t(lang, A::Note)) } dd { (a.note.as_deref().unwrap_or("")) }
                    dt { (t(lang, A::Action)) } dd data-field="action" { (a.action.map_or("-", |x| action_words(lang, x))) }
                    @if let Some(c) = a.penalty_cents { dt { (t(lang, A::Penalty)) } dd { (money(c)) } }
                    @if let Some(at) = a.decided_at { dt { (t(lang, A::DecidedAt)) } dd { (at.format("%Y-%m-%d %H:%M")) } }
                }
            }
        }
        details.card {
            summary { (t(lang, A::Evidence)) " (JSON)" }
            pre style="white-space:pre-wrap;font-size:.8rem" { (serde_json::to_string_pretty(&evidence).unwrap_or_default()) }
        }
    };
    frame(
        lang,
        &caller,
        &format!("{} #{}", t(lang, A::Alert), a.id),
        &switch_href(&alert_path(a.id), &q, lang),
        q.contains_key("lang"),
        body,
    )
}

/// `POST /hq/audit/alerts/{id}/decision`: confirm (optionally suspending the agent and booking a
/// penalty) or dismiss, with a note.
pub async fn decide_form(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(raw): Path<String>,
    headers: HeaderMap,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let lang = Lang::negotiate(None, &headers);
    let caller = match gate(&state, lang, caller, LIST).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    if caller
        .check_csrf(form.get("csrf").map_or("", String::as_str))
        .is_err()
    {
        return staff::form_expired(lang);
    }
    let id = match parse_id(&raw) {
        Ok(id) => id,
        Err(e) => return staff::error_page(lang, e),
    };
    let input = DecisionInput {
        decision: form.get("decision").cloned().unwrap_or_default(),
        note: form.get("note").cloned().unwrap_or_default(),
        suspend_agent: form.get("suspend_agent").is_some_and(|v| v == "on"),
        penalty: form.get("penalty").cloned(),
    };
    let by = caller.user_id;
    match state
        .db
        .write(move |c| decide::decide(c, id, &input, by))
        .await
    {
        Ok(a) => {
            let notice = format!(
                "#{} {}{}",
                a.id,
                word(lang, a.status.as_str()),
                a.action
                    .map(|x| format!(" · {}", action_words(lang, x)))
                    .unwrap_or_default()
            );
            see_other(&format!(
                "{}?notice={}",
                alert_path(a.id),
                urlencode(&notice)
            ))
        }
        Err(e) => staff::error_page(lang, e),
    }
}
