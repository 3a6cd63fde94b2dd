//! Staff sign-in for the pages: `GET/POST /login`, `POST /logout`.
//!
//! The login form has no session yet to hang a CSRF token on, so it uses a double-submit cookie:
//! `cm_csrf` (random, SameSite=Strict, HttpOnly) must equal the form's hidden field. A page on
//! another site can make a browser post the form but can neither read nor set that cookie. Once
//! signed in, forms carry the session's own CSRF token (`Caller::check_csrf`).

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use maud::html;
use serde::Deserialize;

use super::i18n::{Lang, Text};
use super::layout::page;
use super::staff::{self, HOME, cookie, safe_next, see_other, with_cookies};
use super::verify::urlencode;
use crate::accounts;
use crate::api::client::Client;
use crate::app::AppState;
use crate::auth::{MaybeCaller, SESSION_COOKIE, token};
use crate::error::Error;

/// The pre-session CSRF cookie of the login form.
pub const LOGIN_CSRF_COOKIE: &str = "cm_csrf";
/// How long a login form stays usable.
const LOGIN_FORM_SECS: u64 = 3600;

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
    lang: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    next: Option<String>,
    lang: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct LogoutForm {
    #[serde(default)]
    csrf: String,
}

/// The login form's CSRF value: the browser's current one if it has a plausible one, so two open
/// tabs keep working, else a fresh one.
fn login_csrf(headers: &HeaderMap) -> String {
    double_submit_csrf(headers, LOGIN_CSRF_COOKIE)
}

/// The value of a double-submit CSRF cookie `name` (a form without a session to hang its token
/// on): the browser's current one if plausible, else a fresh one.
pub(super) fn double_submit_csrf(headers: &HeaderMap, name: &str) -> String {
    CookieJar::from_headers(headers)
        .get(name)
        .map(|c| c.value().to_string())
        .filter(|v| {
            v.len() == 32
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .unwrap_or_else(token::new_csrf)
}

/// What the login form shows.
struct FormView<'a> {
    next: &'a str,
    username: &'a str,
    error: Option<Text>,
    csrf: &'a str,
    picked_lang: bool,
}

fn form_page(state: &AppState, lang: Lang, status: StatusCode, view: FormView<'_>) -> Response {
    let FormView {
        next,
        username,
        error,
        csrf,
        picked_lang,
    } = view;
    let switch = format!(
        "/login?next={}&lang={}",
        urlencode(next),
        lang.other().param()
    );
    let body = html! {
        @if let Some(e) = error {
            div.card.verdict.bad id="login-error" { p { (lang.t(e)) } }
        }
        form.card method="post" action="/login" {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="next" value=(next);
            input type="hidden" name="lang" value=(lang.param());
            label for="username" { (lang.t(Text::Username)) }
            input type="text" id="username" name="username" value=(username) required
                autocomplete="username" autocapitalize="none" maxlength="64";
            label for="password" { (lang.t(Text::Password)) }
            input type="password" id="password" name="password" required
                autocomplete="current-password" maxlength="256";
            button type="submit" { (lang.t(Text::SignIn)) }
        }
    };
    let secure = state.settings.secure_cookies();
    let response = (
        status,
        page(lang, lang.t(Text::SignIn), Some(&switch), body),
    )
        .into_response();
    with_cookies(
        response,
        [
            cookie(
                LOGIN_CSRF_COOKIE,
                csrf,
                LOGIN_FORM_SECS,
                "Strict",
                "/login",
                secure,
            ),
            staff::lang_cookie(lang, picked_lang),
        ],
    )
}

/// `GET /login`.
pub async fn show(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Query(query): Query<LoginQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(query.lang.as_deref(), &headers);
    let next = safe_next(query.next.as_deref());
    if caller.is_some() {
        return see_other(&next);
    }
    let csrf = login_csrf(&headers);
    let view = FormView {
        next: &next,
        username: "",
        error: None,
        csrf: &csrf,
        picked_lang: query.lang.is_some(),
    };
    form_page(&state, lang, StatusCode::OK, view)
}

/// `POST /login`: throttle, CSRF, password, then the session cookie.
pub async fn submit(
    State(state): State<AppState>,
    client: Client,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let lang = Lang::negotiate(form.lang.as_deref(), &headers);
    let next = safe_next(form.next.as_deref());
    // Throttle first, so refused attempts cost no password hashing.
    if let Err(e) = state.limits.check_login(client.addr) {
        tracing::warn!(user = %form.username.trim(), client = %client.addr, "sign-in refused: too many attempts from this client");
        return staff::error_page(lang, e);
    }
    let expected = CookieJar::from_headers(&headers)
        .get(LOGIN_CSRF_COOKIE)
        .map(|c| c.value().to_string())
        .unwrap_or_default();
    if !csrf_matches(&expected, &form.csrf) {
        return staff::form_expired(lang);
    }
    let login = match accounts::login(
        &state,
        client.addr,
        &form.username,
        &form.password,
        crate::domain::role::TokenKind::Session,
    )
    .await
    {
        Ok(login) => login,
        // One message for an unknown user and a wrong password: names cannot be probed.
        Err(Error::Unauthorized(_)) => {
            let csrf = token::new_csrf();
            let view = FormView {
                next: &next,
                username: form.username.trim(),
                error: Some(Text::WrongCredentials),
                csrf: &csrf,
                picked_lang: false,
            };
            return form_page(&state, lang, StatusCode::UNAUTHORIZED, view);
        }
        Err(e) => return staff::error_page(lang, e),
    };
    let target = if login.user.must_change_password {
        format!("/account/password?next={}", urlencode(&next))
    } else {
        next
    };
    let secure = state.settings.secure_cookies();
    let ttl = u64::from(state.settings.session_ttl_hours) * 3600;
    with_cookies(
        see_other(&target),
        [
            cookie(SESSION_COOKIE, &login.token, ttl, "Lax", "/", secure),
            // The login form's token has done its job; a new form gets a new one.
            cookie(LOGIN_CSRF_COOKIE, "", 0, "Strict", "/login", secure),
        ],
    )
}

/// Compares in constant time; an empty cookie never matches.
pub(super) fn csrf_matches(expected: &str, presented: &str) -> bool {
    use subtle::ConstantTimeEq;
    !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(presented.as_bytes()))
}

/// `POST /logout`: ends the session (the row, not only the cookie) and clears the cookie.
pub async fn logout(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    headers: HeaderMap,
    Form(form): Form<LogoutForm>,
) -> Response {
    let lang = Lang::negotiate(None, &headers);
    let Some(caller) = caller else {
        return see_other("/login");
    };
    if caller.check_csrf(&form.csrf).is_err() {
        return staff::form_expired(lang);
    }
    let id = caller.token_id;
    if let Err(e) = state
        .db
        .write(move |c| Ok(crate::store::users::delete_token(c, id)?))
        .await
    {
        return staff::error_page(lang, e);
    }
    tracing::info!(user = %caller.username, "signed out");
    let secure = state.settings.secure_cookies();
    with_cookies(
        see_other(&format!("/login?next={}", urlencode(HOME))),
        [cookie(SESSION_COOKIE, "", 0, "Lax", "/", secure)],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csrf_needs_a_cookie_and_an_equal_field() {
        assert!(csrf_matches("abc", "abc"));
        assert!(!csrf_matches("abc", "abd"));
        assert!(!csrf_matches("", ""));
        assert!(!csrf_matches("abc", ""));
    }
}
