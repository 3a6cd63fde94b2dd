//! Staff accounts (`/hq/staff`, HQ admin): the users with their roles, search by name, paged;
//! create a user with a role (a one-time password is generated and shown once), reset a password
//! (the user must change it at the next sign-in), disable or enable an account. The same use
//! cases (`accounts`) and permission (`ManageUsers`) as `/api/v1/users`.

use std::collections::BTreeMap;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

use super::hq_desk::{self, PER_PAGE, param};
use super::hq_i18n::tr;
use super::i18n::Lang;
use super::shell::role_name;
use super::staff::{self, see_other};
use crate::accounts;
use crate::app::AppState;
use crate::auth::{Caller, MaybeCaller};
use crate::domain::{Permission, Role};
use crate::store::desk;

pub const HERE: &str = "/hq/staff";
const NEEDS: Permission = Permission::ManageUsers;
/// The roles HQ creates here; agents' accounts come from approved applications.
const STAFF_ROLES: [Role; 4] = [
    Role::HqAdmin,
    Role::HqFinance,
    Role::HqAuditor,
    Role::Warehouse,
];

/// `GET /hq/staff`.
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
    let search = param(&q, "q").map(str::to_string);
    let page = hq_desk::page_number(&q);
    let s2 = search.clone();
    let list = match state
        .db
        .run(move |c| {
            Ok(desk::users(
                c,
                s2.as_deref(),
                hq_desk::offset(page),
                PER_PAGE,
            )?)
        })
        .await
    {
        Ok(v) => v,
        Err(e) => return staff::error_page(lang, e),
    };
    let csrf = caller.csrf().to_string();
    let search_text = search.unwrap_or_default();
    let body = html! {
        @if let Some(n) = param(&q, "notice") { div.card.verdict.ok id="notice" { (n) } }
        div.card id="new-user" {
            h2 { (tr(lang, "新建账号", "New account")) }
            form method="post" action=(format!("{HERE}/new")) {
                input type="hidden" name="csrf" value=(csrf);
                label { (tr(lang, "登录名", "User name")) " "
                    input type="text" name="username" id="new-username" required maxlength="64"; } " "
                label { (tr(lang, "姓名", "Name")) " "
                    input type="text" name="display_name" id="new-name" maxlength="100"; } " "
                label { (tr(lang, "角色", "Role")) " "
                    select name="role" id="new-role" {
                        @for r in STAFF_ROLES { option value=(r.as_str()) { (role_name(lang, r)) } }
                    }
                } " "
                button type="submit" id="create-user" { (tr(lang, "创建", "Create")) }
            }
            p.muted { (tr(lang, "系统生成一次性密码，只显示一次；新用户首次登录须修改。",
                "A one-time password is generated and shown once; the new user must change it at first sign-in.")) }
        }
        div.card id="users" {
            form.inline method="get" action=(HERE) {
                input type="text" name="q" value=(search_text) placeholder=(tr(lang, "登录名或姓名", "User name or name"));
                button type="submit" { (tr(lang, "搜索", "Search")) }
            }
            table {
                thead { tr {
                    th { (tr(lang, "登录名", "User name")) } th { (tr(lang, "姓名", "Name")) }
                    th { (tr(lang, "角色", "Role")) } th { (tr(lang, "状态", "Status")) }
                    th { (tr(lang, "创建时间", "Created")) } th { (tr(lang, "操作", "Actions")) }
                } }
                tbody {
                    @for u in &list.rows {
                        tr data-user=(u.username) {
                            td { (u.username) } td { (u.display_name) }
                            td { (role_name(lang, u.role)) }
                            td { (status(lang, u.disabled, u.must_change_password)) }
                            td { (u.created_at.format("%Y-%m-%d")) }
                            td { (actions(lang, &caller, &csrf, u.id, u.disabled)) }
                        }
                    }
                }
            }
            (hq_desk::pager(lang, HERE, &[("q", &search_text)], page, list.more))
        }
    };
    let switch = hq_desk::href(HERE, &[("q", &search_text), ("lang", lang.other().param())]);
    hq_desk::respond(
        lang,
        &caller,
        HERE,
        tr(lang, "员工账号", "Staff accounts"),
        &switch,
        q.contains_key("lang"),
        body,
    )
}

fn status(lang: Lang, disabled: bool, must_change: bool) -> &'static str {
    match (disabled, must_change) {
        (true, _) => tr(lang, "已停用", "disabled"),
        (false, true) => tr(lang, "待修改初始密码", "must change password"),
        (false, false) => tr(lang, "正常", "active"),
    }
}

fn actions(lang: Lang, caller: &Caller, csrf: &str, id: i64, disabled: bool) -> Markup {
    let base = format!("{HERE}/{id}");
    html! {
        form.inline method="post" action=(format!("{base}/password")) {
            input type="hidden" name="csrf" value=(csrf);
            button type="submit" data-action="reset" { (tr(lang, "重置密码", "Reset password")) }
        }
        @if id != caller.user_id {
            form.inline method="post" action=(format!("{base}/disabled")) {
                input type="hidden" name="csrf" value=(csrf);
                @if disabled {
                    input type="hidden" name="disabled" value="false";
                    button type="submit" data-action="enable" { (tr(lang, "启用", "Enable")) }
                } @else {
                    input type="hidden" name="disabled" value="true";
                    button type="submit" data-action="disable" { (tr(lang, "停用", "Disable")) }
                }
            }
        }
    }
}

/// The page showing a one-time password once.
fn password_page(
    lang: Lang,
    caller: &Caller,
    heading: &str,
    username: &str,
    password: &str,
) -> Response {
    let body = html! {
        div.card.verdict.ok id="one-time" {
            h2 { (heading) }
            dl {
                dt { (tr(lang, "登录名", "User name")) } dd { code id="username" { (username) } }
                dt { (tr(lang, "一次性密码", "One-time password")) } dd { code.secret id="password" { (password) } }
            }
            p.muted { (tr(lang, "密码只显示这一次，请安全地转交；首次登录须修改。",
                "The password is shown this once: pass it on safely; it must be changed at the first sign-in.")) }
            p { a href=(HERE) { "← " (tr(lang, "员工账号", "Staff accounts")) } }
        }
    };
    staff::with_cookies(
        super::shell::page(lang, caller, HERE, heading, None, body).into_response(),
        [],
    )
}

/// `POST /hq/staff/new`.
pub async fn create(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    headers: HeaderMap,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let lang = Lang::negotiate(None, &headers);
    let (caller, _) = match hq_desk::form_gate(&state, lang, caller, HERE, NEEDS, &form).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(role) = form
        .get("role")
        .and_then(|r| Role::parse(r))
        .filter(|r| STAFF_ROLES.contains(r))
    else {
        return staff::error_page(
            lang,
            crate::error::Error::BadRequest(
                tr(lang, "请选择一个员工角色。", "Choose a staff role.").into(),
            ),
        );
    };
    let username = form.get("username").cloned().unwrap_or_default();
    let display = form.get("display_name").cloned().unwrap_or_default();
    let done = state
        .db
        .write(move |c| accounts::create_user(c, username.trim(), display.trim(), role, None))
        .await;
    match done {
        Ok((user, Some(password))) => {
            tracing::info!(by = %caller.username, user = %user.username, role = %user.role, "user created on the staff page");
            let heading = format!(
                "{} · {}",
                tr(lang, "账号已创建", "Account created"),
                role_name(lang, role)
            );
            password_page(lang, &caller, &heading, &user.username, &password)
        }
        Ok((user, None)) => see_other(&hq_desk::href(HERE, &[("notice", &user.username)])),
        Err(e) => staff::error_page(lang, e),
    }
}

/// `POST /hq/staff/{id}/password`: a new one-time password, shown once.
pub async fn reset(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let lang = Lang::negotiate(None, &headers);
    let (caller, _) = match hq_desk::form_gate(&state, lang, caller, HERE, NEEDS, &form).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let done = state
        .db
        .write(move |c| {
            let password = accounts::reset_password(c, id)?;
            let user = crate::store::users::find_by_id(c, id)?
                .ok_or_else(|| crate::error::Error::not_found("user"))?;
            Ok((user, password))
        })
        .await;
    match done {
        Ok((user, password)) => {
            tracing::info!(by = %caller.username, user = %user.username, "password reset on the staff page");
            let heading = tr(lang, "密码已重置", "Password reset");
            password_page(lang, &caller, heading, &user.username, &password)
        }
        Err(e) => staff::error_page(lang, e),
    }
}

/// `POST /hq/staff/{id}/disabled`.
pub async fn disable(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let lang = Lang::negotiate(None, &headers);
    let (caller, _) = match hq_desk::form_gate(&state, lang, caller, HERE, NEEDS, &form).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let disabled = form.get("disabled").map(String::as_str) == Some("true");
    let by = caller.user_id;
    match state
        .db
        .write(move |c| accounts::set_disabled(c, by, id, disabled))
        .await
    {
        Ok(user) => {
            let words = if user.disabled {
                tr(lang, "已停用", "disabled")
            } else {
                tr(lang, "已启用", "enabled")
            };
            see_other(&hq_desk::href(
                HERE,
                &[("notice", &format!("{} · {words}", user.username))],
            ))
        }
        Err(e) => staff::error_page(lang, e),
    }
}
