//! The level engine's pages: HQ's `/hq/levels` (the active level policy, a what-if of a new
//! document before activating it, activation, an assessment run now, the latest changes) and the
//! agent's `/agent/levels` (its level changes, with the reasons in its language). Applications
//! for a level show on both (`super::level_applications`). Forms post with the session's CSRF
//! token.

use std::collections::BTreeMap;

use axum::Form;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::i18n::Lang;
use super::level_applications as applications;
use super::level_form;
use super::staff::{self, see_other, with_cookies};
use super::verify::urlencode;
use crate::app::AppState;
use crate::auth::{Caller, MaybeCaller};
use crate::domain::Permission;
use crate::domain::levels::{form, presets};
use crate::error::Result;
use crate::levels::whatif::WhatIf;
use crate::levels::{assess, policy, review};
use crate::network::{Actor, agents as agent_cases};
use crate::store::DbConnection;
use crate::store::levels::changes::{self, LevelChangeRow, LevelRunRow};
use crate::store::users::now;

const HERE: &str = "/hq/levels";

fn tr(lang: Lang, zh: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
    }
}

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    lang: Option<String>,
    notice: Option<String>,
    /// A shipped preset to start the form from (`seed-001`).
    preset: Option<String>,
}

struct Loaded {
    runs: Vec<LevelRunRow>,
    changes: Vec<LevelChangeRow>,
}

fn load(c: &mut DbConnection) -> Result<Loaded> {
    Ok(Loaded {
        runs: changes::runs(c, 10)?,
        changes: changes::list(c, None, None, 50)?,
    })
}

async fn hq_gate(
    state: &AppState,
    lang: Lang,
    caller: Option<Caller>,
) -> std::result::Result<(Caller, Actor), Response> {
    let caller = staff::gate_for(state, lang, caller, HERE, Permission::ReadPolicy).await?;
    let actor = Actor::Hq {
        user: caller.user_id,
        role: caller.role,
    };
    Ok((caller, actor))
}

fn change_line(lang: Lang, c: &LevelChangeRow) -> Markup {
    html! {
        li data-change=(c.id) data-kind=(c.kind.as_str()) {
            (c.assessed_on) " · #" (c.agent_id) " · "
            (match lang { Lang::Zh => &c.summary_zh, Lang::En => &c.summary_en })
        }
    }
}

/// What activation does to agents already placed, in words.
fn on_change_words(lang: Lang, on_change: &str) -> &'static str {
    form::on_change_words(on_change, super::level_applications::rl(lang))
}

fn what_if_card(lang: Lang, w: &WhatIf) -> Markup {
    html! {
        div.card id="what-if" data-up=(w.up) data-down=(w.down) {
            h2 { (tr(lang, "预览", "What-if")) " v" (w.level_policy_version) " · " (on_change_words(lang, &w.on_change)) " · " (w.day) }
            p {
                (w.agents) (tr(lang, " 名代理:升级 ", " agents: up ")) (w.up)
                (tr(lang, ",降级 ", ", down ")) (w.down)
                (tr(lang, ",保级 ", ", protected ")) (w.protected)
                (tr(lang, ",配额调整 ", ", quotas ")) (w.quotas)
            }
            ul { @for m in &w.moves {
                li data-agent=(m.agent_id) { "#" (m.agent_id) " " (m.name) ": "
                    (match lang { Lang::Zh => &m.summary_zh, Lang::En => &m.summary_en }) }
            } }
        }
    }
}

/// The page: `main` (the form, or a review) above the runs and the latest changes.
fn render(lang: Lang, csrf: &str, l: &Loaded, main: Markup, notice: Option<&str>) -> Markup {
    html! {
        @if let Some(n) = notice { div.card.verdict.ok id="notice" { (n) } }
        (main)
        div.card id="assess" {
            form method="post" action=(HERE) {
                input type="hidden" name="csrf" value=(csrf);
                button type="submit" name="action" value="assess" { (tr(lang, "立即考核", "Assess now")) }
            }
        }
        div.card id="runs" {
            h2 { (tr(lang, "考核记录", "Runs")) }
            @for r in &l.runs {
                div { (r.assessed_on) " · v" (r.level_policy_version) " · " (r.agents)
                    " · ↑" (r.upgrades) " ↓" (r.downgrades) " ⛨" (r.protected) }
            }
        }
        div.card id="changes" {
            h2 { (tr(lang, "等级变动", "Level changes")) }
            ul { @for c in &l.changes { (change_line(lang, c)) } }
        }
    }
}

/// The form filled from `document` (the active one, a preset, or a reviewed one), numbered as
/// the next version.
fn form_from(
    lang: Lang,
    csrf: &str,
    start: &review::Start,
    document: &str,
    preset: Option<&str>,
) -> Markup {
    let fields = level_form_fields(document, start);
    let from = match preset.and_then(presets::preset) {
        Some(p) => format!(
            "{}{}.",
            tr(lang, "已从预设开始:", "Started from preset "),
            match lang {
                Lang::Zh => p.name_zh,
                Lang::En => p.name_en,
            }
        ),
        None => String::new(),
    };
    html! {
        (level_form::presets_card(lang, preset))
        (level_form::form_card(lang, csrf, start, &fields, &[], &form::renumbered(document, start.next_version), &from))
    }
}

fn level_form_fields(document: &str, start: &review::Start) -> form::Fields {
    form::fields(document, &start.tiers)
}

/// `GET /hq/levels`.
pub async fn show(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(q.lang.as_deref(), &headers);
    let (caller, actor) = match hq_gate(&state, lang, caller).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let loaded = state
        .db
        .run(move |c| {
            Ok((
                load(c)?,
                applications::load_hq(c, actor)?,
                review::start(c)?,
            ))
        })
        .await;
    let (l, waiting, start) = match loaded {
        Ok(v) => v,
        Err(e) => return staff::error_page(lang, e),
    };
    let preset = q.preset.as_deref().and_then(presets::preset);
    let document = preset.map_or_else(
        || start.active_document().to_string(),
        |p| p.document.to_string(),
    );
    let main = form_from(
        lang,
        caller.csrf(),
        &start,
        &document,
        preset.map(|p| p.key),
    );
    let body = html! {
        (render(lang, caller.csrf(), &l, main, q.notice.as_deref()))
        (applications::hq_card(lang, caller.csrf(), caller.role, &waiting))
    };
    let switch = format!("{HERE}?lang={}", lang.other().param());
    let response = super::shell::page(
        lang,
        &caller,
        HERE,
        tr(lang, "等级考核", "Levels"),
        Some(&switch),
        body,
    )
    .into_response();
    with_cookies(response, [staff::lang_cookie(lang, q.lang.is_some())])
}

/// `POST /hq/levels`: `action` = `what-if` (shows the result), `activate` or `assess`.
pub async fn submit(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    headers: HeaderMap,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let lang = Lang::negotiate(None, &headers);
    let (caller, actor) = match hq_gate(&state, lang, caller).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    if caller
        .check_csrf(form.get("csrf").map_or("", String::as_str))
        .is_err()
    {
        return staff::form_expired(lang);
    }
    let document = form.get("document").cloned().unwrap_or_default();
    let action = form.get("action").cloned().unwrap_or_default();
    let today = now().date();
    match action.as_str() {
        "review" | "what-if" | "edit" => {
            let fields = form.clone();
            let doc = document.clone();
            let out = state
                .db
                .write(move |c| {
                    let start = review::start(c)?;
                    let l = load(c)?;
                    if action == "edit" {
                        return Ok((Err((start, Vec::new())), l));
                    }
                    let proposal = if action == "review" {
                        review::Proposal::Form(&fields)
                    } else {
                        review::Proposal::Document(&doc)
                    };
                    Ok((review::review(c, start, proposal, today, actor)?, l))
                })
                .await;
            let main = match out {
                Err(e) => return staff::error_page(lang, e),
                Ok((Ok(r), l)) => (
                    level_form::review_cards(
                        lang,
                        caller.csrf(),
                        &r,
                        what_if_card(lang, &r.what_if),
                    ),
                    l,
                ),
                Ok((Err((start, errors)), l)) if errors.is_empty() => {
                    (form_from(lang, caller.csrf(), &start, &document, None), l)
                }
                Ok((Err((start, errors)), l)) => {
                    // What was typed stays: the form's values, or the expert's document.
                    let raw = form.get("action").map(String::as_str) == Some("what-if");
                    let active = level_form_fields(start.active_document(), &start);
                    let fields = if raw { &active } else { &form };
                    let shown_doc = if raw {
                        document.clone()
                    } else {
                        form::renumbered(start.active_document(), start.next_version)
                    };
                    let m = html! {
                        (level_form::presets_card(lang, None))
                        (level_form::form_card(lang, caller.csrf(), &start, fields, &errors, &shown_doc, ""))
                    };
                    (m, l)
                }
            };
            let (main, l) = main;
            let body = render(lang, caller.csrf(), &l, main, None);
            super::shell::page(
                lang,
                &caller,
                HERE,
                tr(lang, "等级考核", "Levels"),
                None,
                body,
            )
            .into_response()
        }
        "activate" => {
            let out = state
                .db
                .write(move |c| {
                    let row = policy::save_draft(c, &document, actor)?;
                    policy::activate(c, row.version, actor)
                })
                .await;
            match out {
                Ok(a) => {
                    let how = on_change_words(lang, &a.on_change);
                    let (v, up, down, q) =
                        (a.level_policy_version, a.upgrades, a.downgrades, a.quotas);
                    let notice = match lang {
                        Lang::Zh => {
                            format!("已启用第 {v} 版({how}):升级 {up},降级 {down},配额调整 {q}")
                        }
                        Lang::En => format!(
                            "Activated version {v} ({how}): up {up}, down {down}, quotas {q}"
                        ),
                    };
                    see_other(&format!("{HERE}?notice={}", urlencode(&notice)))
                }
                Err(e) => staff::error_page(lang, e),
            }
        }
        "assess" => {
            let out = state
                .db
                .write(move |c| assess::run(c, today, actor, &mut |_, _| {}))
                .await;
            match out {
                Ok(s) => see_other(&format!(
                    "{HERE}?notice={}",
                    urlencode(&format!(
                        "{}: {} · ↑{} ↓{} ⛨{}",
                        s.day, s.agents, s.upgrades, s.downgrades, s.protected
                    ))
                )),
                Err(e) => staff::error_page(lang, e),
            }
        }
        "approve" | "reject" => applications::hq_decide(&state, lang, actor, form).await,
        _ => staff::error_page(
            lang,
            crate::error::Error::BadRequest(format!(
                "action {action:?}: use review, what-if, edit, activate, assess, approve or reject"
            )),
        ),
    }
}

/// `GET /agent/levels`: the signed-in agent's level changes with their reasons.
pub async fn agent_page(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(q.lang.as_deref(), &headers);
    let caller = match staff::gate_for(
        &state,
        lang,
        caller,
        "/agent/levels",
        Permission::AgentPortal,
    )
    .await
    {
        Ok(c) => c,
        Err(r) => return r,
    };
    let user = caller.user_id;
    let out = state
        .db
        .run(move |c| {
            let agent = agent_cases::for_user(c, user)?;
            let actor = Actor::Agent {
                user,
                agent: agent.id,
            };
            Ok((
                agent.tier_rank,
                changes::list(c, Some(agent.id), None, 100)?,
                applications::load_agent(c, actor)?,
            ))
        })
        .await;
    let (rank, rows, apps) = match out {
        Ok(v) => v,
        Err(e) => return staff::error_page(lang, e),
    };
    let body = html! {
        @if let Some(n) = q.notice.as_deref() { div.card.verdict.ok id="notice" { (n) } }
        div.card id="my-level" data-rank=(rank) {
            h2 { (tr(lang, "我的等级变动", "My level changes")) }
            @if rows.is_empty() { p.muted { (tr(lang, "暂无", "None yet")) } }
            ul { @for c in &rows { (change_line(lang, c)) } }
        }
        (applications::agent_cards(lang, caller.csrf(), &apps))
    };
    let switch = format!("/agent/levels?lang={}", lang.other().param());
    let response = super::shell::page(
        lang,
        &caller,
        "/agent/levels",
        tr(lang, "我的等级", "My level"),
        Some(&switch),
        body,
    )
    .into_response();
    with_cookies(response, [staff::lang_cookie(lang, q.lang.is_some())])
}
