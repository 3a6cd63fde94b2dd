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
use super::staff::{self, see_other, with_cookies};
use super::verify::urlencode;
use crate::app::AppState;
use crate::auth::{Caller, MaybeCaller};
use crate::domain::Permission;
use crate::error::Result;
use crate::levels::whatif::{self, WhatIf};
use crate::levels::{assess, policy};
use crate::network::{Actor, agents as agent_cases};
use crate::store::DbConnection;
use crate::store::levels::changes::{self, LevelChangeRow, LevelRunRow};
use crate::store::levels::policies::{self, LevelPolicyRow};
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
}

struct Loaded {
    active: Option<LevelPolicyRow>,
    runs: Vec<LevelRunRow>,
    changes: Vec<LevelChangeRow>,
}

fn load(c: &mut DbConnection) -> Result<Loaded> {
    Ok(Loaded {
        active: policies::active(c)?,
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
        li data-change=(c.id) data-kind=(c.kind) {
            (c.assessed_on) " · #" (c.agent_id) " · "
            (match lang { Lang::Zh => &c.summary_zh, Lang::En => &c.summary_en })
        }
    }
}

fn what_if_card(lang: Lang, w: &WhatIf) -> Markup {
    html! {
        div.card id="what-if" data-up=(w.up) data-down=(w.down) {
            h2 { (tr(lang, "预览", "What-if")) " v" (w.level_policy_version) " · " (w.on_change) " · " (w.day) }
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

fn render(
    lang: Lang,
    csrf: &str,
    l: &Loaded,
    document: &str,
    extra: Option<Markup>,
    notice: Option<&str>,
) -> Markup {
    html! {
        @if let Some(n) = notice { div.card.verdict.ok id="notice" { (n) } }
        @if let Some(x) = extra { (x) }
        div.card id="level-policy" {
            h2 { (tr(lang, "等级规则", "Level policy")) @if let Some(a) = &l.active { " v" (a.version) " · " (a.name) } }
            form method="post" action=(HERE) {
                input type="hidden" name="csrf" value=(csrf);
                textarea name="document" rows="16" style="width:100%;font-family:monospace" { (document) }
                button type="submit" name="action" value="what-if" { (tr(lang, "预览影响", "What-if")) }
                button type="submit" name="action" value="activate" { (tr(lang, "保存并启用", "Save and activate")) }
            }
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
        .run(move |c| Ok((load(c)?, applications::load_hq(c, actor)?)))
        .await;
    let (l, waiting) = match loaded {
        Ok(v) => v,
        Err(e) => return staff::error_page(lang, e),
    };
    let document = l
        .active
        .as_ref()
        .map(|a| a.document.clone())
        .unwrap_or_default();
    let body = html! {
        (render(lang, caller.csrf(), &l, &document, None, q.notice.as_deref()))
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
        "what-if" => {
            let doc = document.clone();
            let out = state
                .db
                .write(move |c| Ok((whatif::what_if(c, &doc, today, actor)?, load(c)?)))
                .await;
            match out {
                Ok((w, l)) => {
                    let body = render(
                        lang,
                        caller.csrf(),
                        &l,
                        &document,
                        Some(what_if_card(lang, &w)),
                        None,
                    );
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
                Err(e) => staff::error_page(lang, e),
            }
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
                Ok(a) => see_other(&format!(
                    "{HERE}?notice={}",
                    urlencode(&format!(
                        "v{} {}: ↑{} ↓{} {}{}",
                        a.level_policy_version,
                        a.on_change,
                        a.upgrades,
                        a.downgrades,
                        tr(lang, "配额 ", "quotas "),
                        a.quotas
                    ))
                )),
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
                "action {action:?}: use what-if, activate, assess, approve or reject"
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
