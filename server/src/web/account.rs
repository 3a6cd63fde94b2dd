//! `GET/POST /account/password`: change one's own password. Users created with a generated
//! password are sent here by `staff::gate` before any other staff page.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Deserialize;

use super::i18n::{Lang, Text};
use super::layout::page;
use super::staff::{self, safe_next, see_other, with_cookies};
use super::verify::urlencode;
use crate::accounts;
use crate::api::client::Client;
use crate::app::AppState;
use crate::auth::password::PasswordProblem;
use crate::auth::{Caller, MaybeCaller};
use crate::error::Error;

const HERE: &str = "/account/password";

#[derive(Debug, Deserialize)]
pub struct PasswordQuery {
    next: Option<String>,
    lang: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    repeat: String,
    #[serde(default)]
    csrf: String,
    next: Option<String>,
    lang: Option<String>,
}

async fn must_change(_state: &AppState, caller: &Caller) -> bool {
    caller.must_change_password
}

fn form_page(
    lang: Lang,
    status: StatusCode,
    caller: &Caller,
    next: &str,
    must: bool,
    error: Option<Text>,
) -> Response {
    let switch = format!(
        "{HERE}?next={}&lang={}",
        urlencode(next),
        lang.other().param()
    );
    let body = html! {
        @if must { div.card.verdict.warn { p { (lang.t(Text::MustChangePassword)) } } }
        @if let Some(e) = error { div.card.verdict.bad id="password-error" { p { (lang.t(e)) } } }
        form.card method="post" action=(HERE) {
            input type="hidden" name="csrf" value=(caller.csrf());
            input type="hidden" name="next" value=(next);
            input type="hidden" name="lang" value=(lang.param());
            p.muted { (lang.t(Text::SignedInAs)) ": " strong { (caller.username) } }
            label for="current" { (lang.t(Text::CurrentPassword)) }
            input type="password" id="current" name="current" required autocomplete="current-password";
            label for="new" { (lang.t(Text::NewPassword)) }
            input type="password" id="new" name="new" required minlength="10" autocomplete="new-password";
            label for="repeat" { (lang.t(Text::RepeatPassword)) }
            input type="password" id="repeat" name="repeat" required minlength="10" autocomplete="new-password";
            p.muted { (lang.t(Text::PasswordRule)) }
            button type="submit" { (lang.t(Text::ChangePassword)) }
        }
    };
    let title = lang.t(Text::ChangePassword);
    with_cookies(
        (status, page(lang, title, Some(&switch), body)).into_response(),
        [],
    )
}

/// Why a new password was refused, in the page's language.
fn weak_password_text(problem: PasswordProblem) -> Text {
    match problem {
        PasswordProblem::TooShort => Text::PasswordTooShort,
        PasswordProblem::ContainsUsername => Text::PasswordContainsUsername,
        PasswordProblem::TooCommon => Text::PasswordTooCommon,
        PasswordProblem::TooPredictable => Text::PasswordTooPredictable,
    }
}

/// `GET /account/password`.
pub async fn show(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Query(query): Query<PasswordQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(query.lang.as_deref(), &headers);
    let next = safe_next(query.next.as_deref());
    let Some(caller) = caller else {
        return staff::to_login(HERE);
    };
    let must = must_change(&state, &caller).await;
    let mut response = form_page(lang, StatusCode::OK, &caller, &next, must, None);
    if let Some(c) = staff::lang_cookie(lang, query.lang.is_some()) {
        response
            .headers_mut()
            .append(axum::http::header::SET_COOKIE, c);
    }
    response
}

/// `POST /account/password`.
pub async fn submit(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    client: Client,
    headers: HeaderMap,
    Form(form): Form<PasswordForm>,
) -> Response {
    let lang = Lang::negotiate(form.lang.as_deref(), &headers);
    let next = safe_next(form.next.as_deref());
    let Some(caller) = caller else {
        return staff::to_login(HERE);
    };
    if caller.check_csrf(&form.csrf).is_err() {
        return staff::form_expired(lang);
    }
    // A stolen session must not be able to guess the current password at speed either.
    if let Err(e) = state.limits.check_login(client.addr) {
        return staff::error_page(lang, e);
    }
    let refuse = |text: Text, status: StatusCode, must: bool| {
        form_page(lang, status, &caller, &next, must, Some(text))
    };
    if form.new != form.repeat {
        let must = must_change(&state, &caller).await;
        return refuse(Text::PasswordsDiffer, StatusCode::BAD_REQUEST, must);
    }
    let changed = accounts::change_password(
        &state,
        caller.user_id,
        caller.token_id,
        &form.current,
        &form.new,
    )
    .await;
    match changed {
        Ok(()) => see_other(&next),
        Err(Error::Unauthorized(_)) => {
            let must = must_change(&state, &caller).await;
            refuse(Text::WrongCurrentPassword, StatusCode::BAD_REQUEST, must)
        }
        Err(Error::WeakPassword(problem)) => {
            let must = must_change(&state, &caller).await;
            refuse(weak_password_text(problem), StatusCode::BAD_REQUEST, must)
        }
        Err(Error::BadRequest(_)) => {
            let must = must_change(&state, &caller).await;
            refuse(Text::PasswordRule, StatusCode::BAD_REQUEST, must)
        }
        Err(e) => staff::error_page(lang, e),
    }
}
