//! What the staff pages share: the sign-in gate (with the first-password detour), cookies,
//! redirects that cannot leave the site, and error pages.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;

use super::i18n::{LANG_COOKIE, Lang, Text};
use super::layout::page;
use super::verify::urlencode;
use crate::app::AppState;
use crate::auth::Caller;
use crate::domain::Permission;
use crate::error::Error;

/// Where a signed-in person lands when no (safe) `next` is given: `/home` sends each role to its
/// own home (`shell::home`).
pub const HOME: &str = "/home";

/// `next` when it is a path on this site, else `HOME`. Only visible ASCII, one leading `/`, no
/// `//` or `\` (browsers read `//host` and `/\host` as another site): no open redirects.
pub fn safe_next(next: Option<&str>) -> String {
    safe_next_or(next, HOME)
}

/// [`safe_next`] with another place to land when `next` is not safe.
pub fn safe_next_or(next: Option<&str>, fallback: &str) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && n.len() <= 512
                && n.bytes().all(|b| (0x21..=0x7e).contains(&b)) =>
        {
            n.to_string()
        }
        _ => fallback.to_string(),
    }
}

/// A 303 to a path on this site (made safe first, so it is always a valid header).
pub fn see_other(path: &str) -> Response {
    Redirect::to(&safe_next(Some(path))).into_response()
}

/// The sign-in page, coming back to `here` afterwards.
pub fn to_login(here: &str) -> Response {
    see_other(&format!("/login?next={}", urlencode(here)))
}

/// The signed-in caller of a staff page at `here`, or the response that sends them elsewhere:
/// to sign in, or to choose a new password first (a user created with a generated password must
/// replace it before doing anything else).
pub async fn gate(
    _state: &AppState,
    _lang: Lang,
    caller: Option<Caller>,
    here: &str,
) -> Result<Caller, Response> {
    let Some(caller) = caller else {
        return Err(to_login(here));
    };
    // The flag comes with the session (one read per request, in `Caller::resolve`).
    if caller.must_change_password {
        return Err(see_other(&format!(
            "/account/password?next={}",
            urlencode(here)
        )));
    }
    Ok(caller)
}

/// [`gate`], then the one permission question the page asks (the navigation in `shell` asks the
/// same): the caller, or the response that sends them to sign in or refuses them (403).
pub async fn gate_for(
    state: &AppState,
    lang: Lang,
    caller: Option<Caller>,
    here: &str,
    needs: Permission,
) -> Result<Caller, Response> {
    let caller = gate(state, lang, caller, here).await?;
    caller.require(needs).map_err(|e| error_page(lang, e))?;
    Ok(caller)
}

/// A `Set-Cookie` value. `max_age` 0 deletes the cookie.
pub fn cookie(
    name: &str,
    value: &str,
    max_age_secs: u64,
    same_site: &str,
    path: &str,
    secure: bool,
) -> Option<HeaderValue> {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path={path}; Max-Age={max_age_secs}; HttpOnly; SameSite={same_site}{secure}"
    ))
    .ok()
}

/// Adds `Set-Cookie` and `Cache-Control: no-store` (staff pages hold private data and tokens).
pub fn with_cookies(
    mut response: Response,
    cookies: impl IntoIterator<Item = Option<HeaderValue>>,
) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    for c in cookies.into_iter().flatten() {
        headers.append(header::SET_COOKIE, c);
    }
    response
}

/// Remembers a language picked with `?lang=`, as the verification page does.
pub fn lang_cookie(lang: Lang, picked: bool) -> Option<HeaderValue> {
    picked
        .then(|| {
            HeaderValue::from_str(&format!(
                "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
                lang.param()
            ))
            .ok()
        })
        .flatten()
}

/// A page with only a notice on it.
pub fn notice_page(lang: Lang, status: StatusCode, heading: Text, detail: &str) -> Response {
    let body = html! {
        div.card.verdict.bad id="notice" data-status=(status.as_u16()) {
            h2 { (lang.t(heading)) }
            @if !detail.is_empty() { p { (detail) } }
            p { a href=(HOME) { "chainmark" } " · " a href="/login" { (lang.t(Text::SignIn)) } }
        }
    };
    with_cookies(
        (status, page(lang, lang.t(heading), None, body)).into_response(),
        [],
    )
}

/// An `Error` as a page: the same statuses as the API, in words for people.
pub fn error_page(lang: Lang, error: Error) -> Response {
    match error {
        Error::Forbidden(_) => notice_page(
            lang,
            StatusCode::FORBIDDEN,
            Text::NoAccess,
            lang.t(Text::NoAccessDetail),
        ),
        Error::RateLimited { retry_after_secs } => {
            let secs = retry_after_secs.max(1);
            let detail = format!(
                "{} {secs} {}",
                lang.t(Text::TryAgainIn),
                lang.t(Text::Seconds)
            );
            let mut r = notice_page(lang, StatusCode::TOO_MANY_REQUESTS, Text::TooMany, &detail);
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            r
        }
        Error::Unauthorized(_) => to_login(HOME),
        Error::NotPriced {
            sku,
            tier_zh,
            tier_en,
        } => {
            let detail = match lang {
                Lang::Zh => format!("产品 {sku} 没有{tier_zh}的授权价格，不能按此级别订购。"),
                Lang::En => format!(
                    "Product {sku} has no price for the {tier_en} tier: it cannot be ordered at \
                     that tier."
                ),
            };
            notice_page(
                lang,
                StatusCode::UNPROCESSABLE_ENTITY,
                Text::BadInput,
                &detail,
            )
        }
        // A domain rule's refusal has words by its code; bad input names its field.
        e @ Error::Refused { .. } => notice_page(
            lang,
            e.status(),
            Text::BadInput,
            &super::agent_i18n::error_words(lang, &e),
        ),
        e @ (Error::BadRequest(_)
        | Error::NotFound { .. }
        | Error::IdempotencyKeyReused(_)
        | Error::NotEligible(_)) => notice_page(lang, e.status(), Text::BadInput, &e.to_string()),
        e => {
            tracing::error!(error = %e, "page failed");
            notice_page(lang, e.status(), Text::ServerError, "")
        }
    }
}

/// The page refusing a form whose CSRF token is missing or wrong.
pub fn form_expired(lang: Lang) -> Response {
    notice_page(lang, StatusCode::FORBIDDEN, Text::FormExpired, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/hq?x=1")), "/hq?x=1");
        assert_eq!(safe_next(Some("/account/password")), "/account/password");
        for bad in [
            "https://evil.example/",
            "//evil.example",
            "/\\evil.example",
            "hq",
            "/hq\r\nSet-Cookie: x",
            "/ hq",
            "/产品",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), HOME, "{bad:?}");
        }
        assert_eq!(safe_next(None), HOME);
    }
}
