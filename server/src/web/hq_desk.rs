//! What HQ's desk pages share: the gate asking the page's one `Permission`, the CSRF check of
//! their forms, paging (every list is bounded) and the search box.

use std::collections::BTreeMap;

use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

use super::form_key::{self, FormTarget};
use super::hq_i18n::tr;
use super::i18n::Lang;
use super::staff::{self, with_cookies};
use super::verify::urlencode;
use crate::app::AppState;
use crate::auth::Caller;
use crate::domain::Permission;
use crate::error::Result as AppResult;
use crate::network::Actor;
use crate::store::DbConnection;

/// Rows per page of every desk list.
pub const PER_PAGE: i64 = 25;
/// The furthest page a list goes to (offsets stay cheap).
const LAST_PAGE: i64 = 400;

/// The signed-in caller of the page at `here` if its role has `needs`, else the page that sends
/// them to sign in or refuses them (403). The navigation shows a link only when this would pass
/// (`shell::NAV` names the same permission).
pub async fn gate(
    state: &AppState,
    lang: Lang,
    caller: Option<Caller>,
    here: &str,
    needs: Permission,
) -> Result<(Caller, Actor), Response> {
    let caller = staff::gate_for(state, lang, caller, here, needs).await?;
    let actor = Actor::Hq {
        user: caller.user_id,
        role: caller.role,
    };
    Ok((caller, actor))
}

/// As [`gate`], for a form: also checks the session's CSRF token.
pub async fn form_gate(
    state: &AppState,
    lang: Lang,
    caller: Option<Caller>,
    here: &str,
    needs: Permission,
    form: &BTreeMap<String, String>,
) -> Result<(Caller, Actor), Response> {
    let (caller, actor) = gate(state, lang, caller, here, needs).await?;
    if caller
        .check_csrf(form.get("csrf").map_or("", String::as_str))
        .is_err()
    {
        return Err(staff::form_expired(lang));
    }
    Ok((caller, actor))
}

/// The one path of an HQ form that moves money or stock (the HQ twin of `agent::act_on`): the
/// gate asking `needs`, the CSRF check, then `f` run once per form key ([`form_key`]) in one
/// transaction. `f` answers a notice and whether it is good news; the browser goes back to
/// `back` with it. A refusal (the use case's own check of the role, or a rule of the order)
/// writes nothing and comes back as a page in words with a link to `back`: never a code.
#[allow(clippy::too_many_arguments)]
pub async fn act_on(
    state: AppState,
    caller: Option<Caller>,
    target: FormTarget,
    headers: HeaderMap,
    form: BTreeMap<String, String>,
    needs: Permission,
    back: String,
    f: impl FnOnce(
        &mut DbConnection,
        Actor,
        Lang,
        &BTreeMap<String, String>,
    ) -> AppResult<(String, bool)>
    + Send
    + 'static,
) -> Response {
    let lang = Lang::negotiate(None, &headers);
    let (caller, actor) = match form_gate(&state, lang, caller, &back, needs, &form).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let fields = form.clone();
    form_key::write_then_back(
        &state.db,
        caller.user_id,
        target,
        &form,
        lang,
        &back,
        move |c| f(c, actor, lang, &fields),
    )
    .await
}

/// A desk page in the shell, not cached, remembering a picked language.
pub fn respond(
    lang: Lang,
    caller: &Caller,
    here: &str,
    title: &str,
    switch: &str,
    picked: bool,
    body: Markup,
) -> Response {
    let response =
        super::shell::page(lang, caller, here, title, Some(switch), body).into_response();
    with_cookies(response, [staff::lang_cookie(lang, picked)])
}

/// The 1-based page number asked for, within bounds.
pub fn page_number(query: &BTreeMap<String, String>) -> i64 {
    query
        .get("page")
        .and_then(|p| p.trim().parse::<i64>().ok())
        .unwrap_or(1)
        .clamp(1, LAST_PAGE)
}

/// The offset of `page`.
pub fn offset(page: i64) -> i64 {
    (page - 1) * PER_PAGE
}

/// A query value, trimmed, when not empty.
pub fn param<'a>(query: &'a BTreeMap<String, String>, name: &str) -> Option<&'a str> {
    query.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
}

/// `path?k=v&…` from the given query pairs (empty values left out), in the given order.
pub fn href(path: &str, pairs: &[(&str, &str)]) -> String {
    let q: Vec<String> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect();
    if q.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", q.join("&"))
    }
}

/// Previous / next links of a list; `pairs` is the list's query without `page`.
pub fn pager(lang: Lang, path: &str, pairs: &[(&str, &str)], page: i64, more: bool) -> Markup {
    let link = |p: i64| {
        let n = p.to_string();
        let mut all: Vec<(&str, &str)> = pairs.to_vec();
        all.push(("page", &n));
        href(path, &all)
    };
    html! {
        nav.pager aria-label=(tr(lang, "分页", "Pages")) {
            @if page > 1 {
                a href=(link(page - 1)) rel="prev" { "← " (tr(lang, "上一页", "Previous")) }
            }
            span.muted { (tr(lang, "第", "Page ")) (page) (tr(lang, " 页", "")) }
            @if more && page < LAST_PAGE {
                a href=(link(page + 1)) rel="next" { (tr(lang, "下一页", "Next")) " →" }
            }
        }
    }
}

/// Tabs over one query parameter: `(value, words)`; the current one marked.
pub fn tabs(
    path: &str,
    name: &str,
    current: &str,
    options: &[(&str, &str)],
    keep: &[(&str, &str)],
) -> Markup {
    html! {
        nav.tabs {
            @for (value, words) in options {
                @let link = href(path, &[keep, &[(name, *value)]].concat());
                @if *value == current {
                    a href=(link) aria-current="page" data-tab=(value) { (words) }
                } @else {
                    a href=(link) data-tab=(value) { (words) }
                }
            }
        }
    }
}
