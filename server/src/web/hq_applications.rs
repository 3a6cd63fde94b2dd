//! Applications to join (`/hq/applications`): the queue waiting for HQ with each applicant's
//! profile and the brand's custom fields, approve or reject with a reason; the decided ones by
//! tab; search by name, phone or region; paged. Decisions run `joining::decide`, as the API's.

use std::collections::BTreeMap;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

use super::hq_desk::{self, PER_PAGE, param};
use super::hq_i18n::{self as words, tr};
use super::i18n::Lang;
use super::staff::{self, see_other};
use crate::app::AppState;
use crate::auth::MaybeCaller;
use crate::diversion::views::region_name;
use crate::domain::Permission;
use crate::domain::joining::Status as ApplicationStatus;
use crate::domain::joining::mask_id;
use crate::joining as joining_cases;
use crate::network::policy;
use crate::store::desk;
use crate::store::joining::{self as join_store, ApplicationRow, FieldRow};

pub const HERE: &str = "/hq/applications";
const NEEDS: Permission = Permission::ReadApplications;
const TABS: [ApplicationStatus; 3] = [
    ApplicationStatus::AwaitingHq,
    ApplicationStatus::Approved,
    ApplicationStatus::Rejected,
];

/// `GET /hq/applications`.
pub async fn list(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Query(q): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(q.get("lang").map(String::as_str), &headers);
    let (caller, _) = match hq_desk::gate(&state, lang, caller, HERE, NEEDS).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let tab = param(&q, "status")
        .and_then(ApplicationStatus::parse)
        .filter(|s| TABS.contains(s))
        .unwrap_or(ApplicationStatus::AwaitingHq);
    let search = param(&q, "q").map(str::to_string);
    let page = hq_desk::page_number(&q);
    let search2 = search.clone();
    let loaded = state
        .db
        .run(move |c| {
            let list =
                desk::applications(c, tab, search2.as_deref(), hq_desk::offset(page), PER_PAGE)?;
            let fields = join_store::fields(c)?;
            let ids: Vec<i64> = list.rows.iter().map(|a| a.referrer_id).collect();
            let names = desk::agent_names(c, &ids)?;
            let (_, policy) = policy::active(c)?;
            Ok((list, fields, names, policy))
        })
        .await;
    let (list, fields, names, policy) = match loaded {
        Ok(v) => v,
        Err(e) => return staff::error_page(lang, e),
    };
    let decides = caller.role.allows(Permission::DecideApplications);
    let csrf = caller.csrf().to_string();
    let options: Vec<(&str, &str)> = TABS
        .iter()
        .map(|s| (s.as_str(), words::application_status(lang, *s)))
        .collect();
    let search_text = search.clone().unwrap_or_default();
    let body = html! {
        @if let Some(n) = param(&q, "notice") { div.card.verdict.ok id="notice" { (n) } }
        div.card id="applications" {
            form.inline method="get" action=(HERE) id="search" {
                input type="hidden" name="status" value=(tab.as_str());
                input type="text" name="q" value=(search_text)
                    placeholder=(tr(lang, "姓名、手机号或地区代码", "Name, phone or region code"));
                button type="submit" { (tr(lang, "搜索", "Search")) }
            }
            (hq_desk::tabs(HERE, "status", tab.as_str(), &options, &[("q", &search_text)]))
            @if list.rows.is_empty() {
                p.muted { (tr(lang, "没有申请。", "No applications.")) }
            }
            @for a in &list.rows {
                @let tier = words::tier_by_key(lang, &policy, &a.tier_key);
                @let referrer = names.get(&a.referrer_id).cloned().unwrap_or_default();
                (application(lang, &csrf, decides && tab == ApplicationStatus::AwaitingHq, a, &tier, &referrer, &fields))
            }
            (hq_desk::pager(lang, HERE, &[("status", tab.as_str()), ("q", &search_text)], page, list.more))
        }
    };
    let switch = hq_desk::href(
        HERE,
        &[
            ("status", tab.as_str()),
            ("q", &search_text),
            ("lang", lang.other().param()),
        ],
    );
    hq_desk::respond(
        lang,
        &caller,
        HERE,
        tr(lang, "入驻申请", "Applications"),
        &switch,
        q.contains_key("lang"),
        body,
    )
}

/// The custom answers with their labels, in the fields' order; answers to fields since removed
/// under their key's label-less name are left out (no internal key is shown).
fn answers(lang: Lang, a: &ApplicationRow, fields: &[FieldRow]) -> Vec<(String, String)> {
    let given: BTreeMap<String, serde_json::Value> =
        serde_json::from_str(&a.fields).unwrap_or_default();
    fields
        .iter()
        .filter_map(|f| {
            let v = given.get(&f.field_key)?;
            let text = match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Array(items) => items
                    .iter()
                    .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
                    .collect::<Vec<_>>()
                    .join("、"),
                other => other.to_string(),
            };
            let label = match lang {
                Lang::Zh => f.label_zh.clone(),
                Lang::En => f.label_en.clone(),
            };
            Some((label, text))
        })
        .collect()
}

fn application(
    lang: Lang,
    csrf: &str,
    decides: bool,
    a: &ApplicationRow,
    tier: &str,
    referrer: &str,
    fields: &[FieldRow],
) -> Markup {
    let base = format!("{HERE}/{}", a.id);
    html! {
        div.card data-application=(a.id) {
            h2 { (a.name) " · " (tier) }
            dl {
                dt { (tr(lang, "手机号", "Phone")) } dd { (a.phone) }
                dt { (tr(lang, "地区", "Region")) } dd { (region_name(&a.region)) }
                dt { (tr(lang, "身份证号", "ID number")) } dd { (mask_id(&a.id_number)) }
                dt { (tr(lang, "推荐人", "Referrer")) } dd { a href=(format!("/hq/agents/{}", a.referrer_id)) { (referrer) } }
                dt { (tr(lang, "申请时间", "Applied")) } dd { (a.created_at.format("%Y-%m-%d %H:%M")) }
                @for (label, value) in answers(lang, a, fields) {
                    dt { (label) } dd.custom { (value) }
                }
                @if let Some(r) = &a.reason { dt { (tr(lang, "原因", "Reason")) } dd { (r) } }
            }
            @if decides {
                form.inline method="post" action=(format!("{base}/approve")) {
                    input type="hidden" name="csrf" value=(csrf);
                    button type="submit" data-action="approve" { (tr(lang, "批准", "Approve")) }
                }
                form.inline method="post" action=(format!("{base}/reject")) {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="text" name="reason" required maxlength="500"
                        placeholder=(tr(lang, "拒绝原因（申请人可见）", "Reason (the applicant sees it)"));
                    button type="submit" data-action="reject" { (tr(lang, "拒绝", "Reject")) }
                }
            }
        }
    }
}

/// `POST /hq/applications/{id}/{approve|reject}`. Approving shows the new account's one-time
/// password once.
pub async fn decide(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path((id, action)): Path<(i64, String)>,
    headers: HeaderMap,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let lang = Lang::negotiate(None, &headers);
    let (caller, actor) = match hq_desk::form_gate(&state, lang, caller, HERE, NEEDS, &form).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let approve = match action.as_str() {
        "approve" => true,
        "reject" => false,
        _ => return staff::error_page(lang, crate::error::Error::not_found("action")),
    };
    let reason = form.get("reason").cloned().unwrap_or_default();
    let out = state
        .db
        .write(move |c| joining_cases::decide(c, actor, id, approve, &reason))
        .await;
    match out {
        Ok(o) => match o.approved {
            Some(a) => {
                let body = html! {
                    div.card.verdict.ok id="approved" data-agent=(a.agent.id) {
                        h2 { (tr(lang, "已批准", "Approved")) ": " (a.agent.name) }
                        dl {
                            dt { (tr(lang, "登录名", "User name")) } dd { code { (a.username) } }
                            dt { (tr(lang, "一次性密码", "One-time password")) } dd { code.secret id="password" { (a.password) } }
                        }
                        p.muted { (tr(lang, "密码只显示这一次，请转交申请人；首次登录须修改。",
                            "The password is shown this once: pass it to the applicant, who must change it at first sign-in.")) }
                        p { a href=(HERE) { "← " (tr(lang, "入驻申请", "Applications")) } " · "
                            a href=(format!("/hq/agents/{}", a.agent.id)) { (tr(lang, "查看代理", "Open the agent")) } }
                    }
                };
                staff::with_cookies(
                    super::shell::page(
                        lang,
                        &caller,
                        HERE,
                        tr(lang, "已批准", "Approved"),
                        None,
                        body,
                    )
                    .into_response(),
                    [],
                )
            }
            None => {
                let notice = format!(
                    "{} · {}",
                    o.application.name,
                    words::application_status(lang, o.application.status)
                );
                see_other(&hq_desk::href(HERE, &[("notice", &notice)]))
            }
        },
        Err(e) => staff::error_page(lang, e),
    }
}
