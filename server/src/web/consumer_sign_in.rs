//! A consumer signs in by phone with a one-time code (issue 21): `GET/POST /me/sign-in` (the
//! phone, then the code form), `POST /me/sign-in/code` (the code; back to `next`), `POST
//! /me/sign-out`. Phone first, no JavaScript. The use case is `crate::consumers`.
//!
//! There is no session before the code is right, so the forms carry a double-submit CSRF cookie
//! (`cm_me_csrf`, SameSite=Strict, on `/me` only) as the staff login form does: a page on another
//! site cannot sign a browser in to someone else's account.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use maud::{Markup, html};
use serde::Deserialize;

use super::agent_i18n::tr;
use super::i18n::Lang;
use super::layout::page;
use super::login::{csrf_matches, double_submit_csrf};
use super::staff::{self, cookie, safe_next_or, see_other, with_cookies};
use super::verify::urlencode;
use crate::api::client::Client;
use crate::app::AppState;
use crate::consumers::{self, CONSUMER_COOKIE, SESSION_DAYS, SignInRefusal};
use crate::domain::marketing::MarketingError;
use crate::domain::marketing::sign_in::{DIGITS, RESEND_AFTER, VALID_FOR};
use crate::error::Error;

/// The consumer's forms' CSRF cookie.
pub const CSRF_COOKIE: &str = "cm_me_csrf";
/// Where a signed-in consumer lands without a (safe) `next`.
pub const ME: &str = "/me";
/// How long a sign-in form stays usable.
const FORM_SECS: u64 = 3600;

#[derive(Debug, Deserialize)]
pub struct SignInQuery {
    next: Option<String>,
    lang: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    phone: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    csrf: String,
    next: Option<String>,
    lang: Option<String>,
}

/// `next` when it is a path on this site (`/…`, not `//…`), else `/me`: no open redirects.
pub fn safe_next(next: Option<&str>) -> String {
    safe_next_or(next, ME)
}

/// The page to sign in on, coming back to `here` afterwards.
pub fn to_sign_in(here: &str, lang: Lang) -> Response {
    see_other(&format!(
        "/me/sign-in?next={}&lang={}",
        urlencode(here),
        lang.param()
    ))
}

/// The CSRF cookie of the consumer's forms (set on every page that shows one).
pub fn csrf_cookie(state: &AppState, csrf: &str) -> Option<HeaderValue> {
    cookie(
        CSRF_COOKIE,
        csrf,
        FORM_SECS,
        "Strict",
        ME,
        state.settings.secure_cookies(),
    )
}

/// The CSRF value for a consumer's form on this request.
pub fn csrf_of(headers: &HeaderMap) -> String {
    double_submit_csrf(headers, CSRF_COOKIE)
}

/// Whether a posted form carries the browser's own CSRF value.
pub fn csrf_ok(headers: &HeaderMap, presented: &str) -> bool {
    let expected = CookieJar::from_headers(headers)
        .get(CSRF_COOKIE)
        .map(|c| c.value().to_string())
        .unwrap_or_default();
    csrf_matches(&expected, presented)
}

/// What a step was refused for, in words.
fn refusal_words(lang: Lang, refused: &SignInRefusal) -> String {
    match (refused, lang) {
        (SignInRefusal::Phone, _) => tr(
            lang,
            "请输入中国大陆手机号：以 1 开头的 11 位数字。",
            "Enter a mainland China mobile number: 11 digits starting with 1.",
        )
        .into(),
        (SignInRefusal::CodeShape, Lang::Zh) => format!("验证码是 {DIGITS} 位数字，请重新输入。"),
        (SignInRefusal::CodeShape, Lang::En) => {
            format!("The code is {DIGITS} digits: type it again.")
        }
        (SignInRefusal::Rule(MarketingError::CodeWait(secs)), Lang::Zh) => {
            format!("验证码刚刚已发送，请 {secs} 秒后再获取新的验证码。")
        }
        (SignInRefusal::Rule(MarketingError::CodeWait(secs)), Lang::En) => {
            format!("A code was sent a moment ago: you can ask for another in {secs} seconds.")
        }
        (SignInRefusal::Rule(_), _) => tr(
            lang,
            "验证码不正确或已失效。请核对短信，或重新获取验证码。",
            "That code is wrong or no longer valid. Check the message, or ask for a new code.",
        )
        .into(),
    }
}

/// What the sign-in page shows: the phone form, or the code form for `phone`.
struct View<'a> {
    lang: Lang,
    next: &'a str,
    csrf: &'a str,
    /// `Some`: the code form for this phone.
    phone_sent: Option<&'a str>,
    /// What the phone field holds (the phone form).
    phone_typed: &'a str,
    /// A problem, in words; `good` notices (a code sent) are shown green.
    notice: Option<(String, bool)>,
    status: StatusCode,
    picked_lang: bool,
}

fn hidden(lang: Lang, csrf: &str, next: &str) -> Markup {
    html! {
        input type="hidden" name="csrf" value=(csrf);
        input type="hidden" name="next" value=(next);
        input type="hidden" name="lang" value=(lang.param());
    }
}

fn render(state: &AppState, view: View<'_>) -> Response {
    let View {
        lang,
        next,
        csrf,
        phone_sent,
        phone_typed,
        notice,
        status,
        picked_lang,
    } = view;
    let title = tr(lang, "手机号登录", "Sign in with your phone");
    let switch = format!(
        "/me/sign-in?next={}&lang={}",
        urlencode(next),
        lang.other().param()
    );
    let resend_secs = RESEND_AFTER.num_seconds();
    let valid_minutes = VALID_FOR.num_minutes();
    let body = html! {
        (super::verify::brand_line(&state.settings))
        @if let Some((words, good)) = &notice {
            div.card.verdict.(if *good { "ok" } else { "bad" }) id="notice" data-good=(good) { p { (words) } }
        }
        @match phone_sent {
            None => {
                form.card method="post" action="/me/sign-in" id="phone-form" {
                    (hidden(lang, csrf, next))
                    p.muted { (tr(lang, "登录后可领取扫码奖励、查看我的奖励和积分。", "Sign in to claim scan rewards and see your rewards and points.")) }
                    label for="phone" { (tr(lang, "手机号", "Mobile number")) }
                    input type="tel" id="phone" name="phone" value=(phone_typed) required maxlength="20"
                        inputmode="tel" autocomplete="tel" placeholder="138 0013 8000";
                    button type="submit" id="send-code" { (tr(lang, "获取验证码", "Text me a code")) }
                }
            }
            Some(phone) => {
                form.card method="post" action="/me/sign-in/code" id="code-form" {
                    (hidden(lang, csrf, next))
                    input type="hidden" name="phone" value=(phone);
                    p {
                        (tr(lang, "验证码已发送至 ", "We texted a code to "))
                        strong id="phone-shown" { (crate::domain::joining::mask_id(phone)) }
                        @match lang {
                            Lang::Zh => { "，" (valid_minutes) " 分钟内有效。" }
                            Lang::En => { "; it is valid for " (valid_minutes) " minutes." }
                        }
                    }
                    label for="code" { (tr(lang, "验证码（6 位数字）", "Code (6 digits)")) }
                    input type="text" id="code" name="code" required maxlength="8" inputmode="numeric"
                        autocomplete="one-time-code" pattern="[0-9 ]*";
                    button type="submit" id="check-code" { (tr(lang, "登录", "Sign in")) }
                }
                form.card method="post" action="/me/sign-in" id="resend-form" {
                    (hidden(lang, csrf, next))
                    input type="hidden" name="phone" value=(phone);
                    p.muted {
                        @match lang {
                            Lang::Zh => { "没收到短信？发送后 " (resend_secs) " 秒可重新获取。" }
                            Lang::En => { "No message? You can ask again " (resend_secs) " seconds after a code was sent." }
                        }
                    }
                    button type="submit" id="resend" style="background:#57534e" { (tr(lang, "重新获取验证码", "Send a new code")) }
                    p { a href=(format!("/me/sign-in?next={}&lang={}", urlencode(next), lang.param())) { (tr(lang, "换一个手机号", "Use another number")) } }
                }
            }
        }
        p.muted { a href=(format!("/q?lang={}", lang.param())) { (tr(lang, "防伪查询", "Verify a product")) } }
    };
    let response = (status, page(lang, title, Some(&switch), body)).into_response();
    with_cookies(
        response,
        [
            csrf_cookie(state, csrf),
            staff::lang_cookie(lang, picked_lang),
        ],
    )
}

/// `GET /me/sign-in`: the phone form (or straight on, when already signed in).
pub async fn show(
    State(state): State<AppState>,
    Query(query): Query<SignInQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(query.lang.as_deref(), &headers);
    let next = safe_next(query.next.as_deref());
    match consumers::signed_in(&state, &headers).await {
        Ok(Some(_)) => return see_other(&next),
        Ok(None) => {}
        Err(e) => return failed(&state, lang, &next, None, e),
    }
    let csrf = csrf_of(&headers);
    render(
        &state,
        View {
            lang,
            next: &next,
            csrf: &csrf,
            phone_sent: None,
            phone_typed: "",
            notice: None,
            status: StatusCode::OK,
            picked_lang: query.lang.is_some(),
        },
    )
}

/// A form whose CSRF value is not the browser's: the phone form again, with a fresh value.
fn expired(state: &AppState, lang: Lang, next: &str) -> Response {
    let csrf = crate::auth::token::new_csrf();
    render(
        state,
        View {
            lang,
            next,
            csrf: &csrf,
            phone_sent: None,
            phone_typed: "",
            notice: Some((
                tr(
                    lang,
                    "页面已过期，请重新输入手机号。",
                    "The page had expired: enter your number again.",
                )
                .into(),
                false,
            )),
            status: StatusCode::FORBIDDEN,
            picked_lang: false,
        },
    )
}

/// A throttled or failed step: the form again (the code form when `phone` is known) with the
/// problem in words (and `Retry-After`).
fn failed(state: &AppState, lang: Lang, next: &str, phone: Option<&str>, e: Error) -> Response {
    let (words, wait) = match &e {
        Error::RateLimited { retry_after_secs } => {
            let secs = (*retry_after_secs).max(1);
            let words = match lang {
                Lang::Zh => format!("操作太频繁，请 {secs} 秒后再试。"),
                Lang::En => format!("Too many tries from here: try again in {secs} seconds."),
            };
            (words, Some(secs))
        }
        Error::Unavailable(_) => (
            tr(
                lang,
                "短信暂时发送不了，请稍后再试。",
                "The text message could not be sent: try again in a while.",
            )
            .into(),
            None,
        ),
        other => {
            tracing::error!(error = %other, "consumer sign-in failed");
            (
                tr(
                    lang,
                    "系统繁忙，请稍后再试。",
                    "Something went wrong on our side: try again later.",
                )
                .into(),
                None,
            )
        }
    };
    let csrf = crate::auth::token::new_csrf();
    let mut r = render(
        state,
        View {
            lang,
            next,
            csrf: &csrf,
            phone_sent: phone,
            phone_typed: "",
            notice: Some((words, false)),
            status: e.status(),
            picked_lang: false,
        },
    );
    if let Some(v) = wait.and_then(|s| HeaderValue::from_str(&s.to_string()).ok()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

/// `POST /me/sign-in`: texts a code, then shows the code form.
pub async fn send(
    State(state): State<AppState>,
    client: Client,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let lang = Lang::negotiate(form.lang.as_deref(), &headers);
    let next = safe_next(form.next.as_deref());
    if !csrf_ok(&headers, &form.csrf) {
        return expired(&state, lang, &next);
    }
    let view = |phone_sent, phone_typed, notice, status| View {
        lang,
        next: &next,
        csrf: &form.csrf,
        phone_sent,
        phone_typed,
        notice,
        status,
        picked_lang: false,
    };
    match consumers::send_code(&state, client.addr, &form.phone).await {
        // The code form says where the code went.
        Ok(Ok(sent)) => render(&state, view(Some(&sent.phone), "", None, StatusCode::OK)),
        // A code went to this phone a moment ago: it is the one to type.
        Ok(Err(refused @ SignInRefusal::Rule(MarketingError::CodeWait(_)))) => {
            let phone = crate::domain::phone::mainland_mobile(&form.phone).unwrap_or_default();
            render(
                &state,
                view(
                    Some(&phone),
                    "",
                    Some((refusal_words(lang, &refused), false)),
                    StatusCode::TOO_MANY_REQUESTS,
                ),
            )
        }
        Ok(Err(refused)) => render(
            &state,
            view(
                None,
                form.phone.trim(),
                Some((refusal_words(lang, &refused), false)),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
        ),
        Err(e) => failed(&state, lang, &next, None, e),
    }
}

/// `POST /me/sign-in/code`: the right code signs in and goes on to `next`; anything else shows
/// the code form again with the problem in words.
pub async fn check(
    State(state): State<AppState>,
    client: Client,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let lang = Lang::negotiate(form.lang.as_deref(), &headers);
    let next = safe_next(form.next.as_deref());
    if !csrf_ok(&headers, &form.csrf) {
        return expired(&state, lang, &next);
    }
    match consumers::check_code(&state, client.addr, &form.phone, &form.code).await {
        Ok(Ok(session)) => {
            let secure = state.settings.secure_cookies();
            let ttl = u64::try_from(SESSION_DAYS * 24 * 3600).unwrap_or(u64::MAX);
            with_cookies(
                see_other(&next),
                [
                    cookie(CONSUMER_COOKIE, &session.token, ttl, "Lax", "/", secure),
                    staff::lang_cookie(lang, form.lang.is_some()),
                ],
            )
        }
        Ok(Err(SignInRefusal::Phone)) => render(
            &state,
            View {
                lang,
                next: &next,
                csrf: &form.csrf,
                phone_sent: None,
                phone_typed: form.phone.trim(),
                notice: Some((refusal_words(lang, &SignInRefusal::Phone), false)),
                status: StatusCode::UNPROCESSABLE_ENTITY,
                picked_lang: false,
            },
        ),
        Ok(Err(refused)) => {
            let phone = crate::domain::phone::mainland_mobile(&form.phone).unwrap_or_default();
            render(
                &state,
                View {
                    lang,
                    next: &next,
                    csrf: &form.csrf,
                    phone_sent: Some(&phone),
                    phone_typed: "",
                    notice: Some((refusal_words(lang, &refused), false)),
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                    picked_lang: false,
                },
            )
        }
        Err(e) => {
            let phone = crate::domain::phone::mainland_mobile(&form.phone);
            failed(&state, lang, &next, phone.as_deref(), e)
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct SignOutForm {
    #[serde(default)]
    csrf: String,
    lang: Option<String>,
}

/// `POST /me/sign-out`: ends the session (the row, not only the cookie).
pub async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<SignOutForm>,
) -> Response {
    let lang = Lang::negotiate(form.lang.as_deref(), &headers);
    if !csrf_ok(&headers, &form.csrf) {
        return expired(&state, lang, ME);
    }
    if let Err(e) = consumers::sign_out(&state, &headers).await {
        return failed(&state, lang, ME, None, e);
    }
    let secure = state.settings.secure_cookies();
    with_cookies(
        to_sign_in(ME, lang),
        [cookie(CONSUMER_COOKIE, "", 0, "Lax", "/", secure)],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/v/ABC?t=1")), "/v/ABC?t=1");
        for bad in [
            None,
            Some(""),
            Some("//evil.example"),
            Some("https://evil.example"),
            Some("/\\evil"),
        ] {
            assert_eq!(safe_next(bad), ME, "{bad:?}");
        }
    }

    #[test]
    fn every_refusal_has_words_in_both_languages() {
        for r in [
            SignInRefusal::Phone,
            SignInRefusal::CodeShape,
            SignInRefusal::Rule(MarketingError::WrongCode),
            SignInRefusal::Rule(MarketingError::CodeWait(42)),
        ] {
            let zh = refusal_words(Lang::Zh, &r);
            let en = refusal_words(Lang::En, &r);
            assert!(!zh.is_ascii() && en.is_ascii() && zh != en, "{r:?}");
        }
        assert!(
            refusal_words(Lang::En, &SignInRefusal::Rule(MarketingError::CodeWait(42)))
                .contains("42 seconds")
        );
    }
}
