//! The consumer verification page (防伪查询): `GET /v/{serial}?t=` shows the product and asks for
//! the security code; `POST` shows the verdict. Works without JavaScript; a few lines of script
//! only add the optional "share my location" button.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;

use super::i18n::{LANG_COOKIE, Lang, Text};
use super::layout::page;
use crate::api::client::Client;
use crate::app::AppState;
use crate::domain::verification::{NotReleasedReason, Outcome};
use crate::error::Error;
use crate::verify::{self, Answer, Request};

#[derive(Debug, Deserialize)]
pub struct VerifyQuery {
    t: Option<String>,
    lang: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct VerifyForm {
    t: Option<String>,
    code: Option<String>,
    lat: Option<String>,
    lon: Option<String>,
    region: Option<String>,
    lang: Option<String>,
}

/// Inline; `headers.rs` allows it by its hash.
pub(crate) const GEO_SCRIPT: &str = r#"(function(){var b=document.getElementById('geo');if(!b||!navigator.geolocation)return;b.hidden=false;b.onclick=function(e){e.preventDefault();navigator.geolocation.getCurrentPosition(function(p){document.getElementById('lat').value=p.coords.latitude.toFixed(5);document.getElementById('lon').value=p.coords.longitude.toFixed(5);b.textContent=b.dataset.done;b.disabled=true;});};})();"#;

pub async fn show(
    State(state): State<AppState>,
    client: Client,
    Path(serial): Path<String>,
    Query(query): Query<VerifyQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(query.lang.as_deref(), &headers);
    let tag = query.t.unwrap_or_default();
    let request = Request {
        serial: serial.clone(),
        tag: tag.clone(),
        security_code: None,
        client: client.addr,
        user_agent: client.user_agent,
        latitude: None,
        longitude: None,
        region: None,
        consumer: None,
    };
    let result = verify::verify(&state, request).await;
    let retry = qr_link(&serial, &tag, lang);
    let shown = match &result {
        Ok(answer) => super::verdict_link::link(&state, &serial, answer, lang.other()).await,
        Err(_) => None,
    };
    respond_with(
        &state,
        lang,
        Place {
            serial: &serial,
            tag: Some(&tag),
            retry: &retry,
        },
        query.lang.is_some(),
        shown,
        result,
    )
}

pub async fn submit(
    State(state): State<AppState>,
    client: Client,
    Path(serial): Path<String>,
    headers: HeaderMap,
    Form(form): Form<VerifyForm>,
) -> Response {
    let lang = Lang::negotiate(form.lang.as_deref(), &headers);
    let tag = form.t.unwrap_or_default();
    let coordinate = |v: Option<String>| v.and_then(|s| s.trim().parse::<f64>().ok());
    let request = Request {
        serial: serial.clone(),
        tag: tag.clone(),
        security_code: Some(form.code.unwrap_or_default()),
        client: client.addr,
        user_agent: client.user_agent,
        latitude: coordinate(form.lat),
        longitude: coordinate(form.lon),
        region: form.region,
        consumer: super::reward::consumer_of(&state, &headers).await,
    };
    let result = verify::verify(&state, request).await;
    let retry = qr_link(&serial, &tag, lang);
    let shown = match &result {
        Ok(answer) => super::verdict_link::link(&state, &serial, answer, lang.other()).await,
        Err(_) => None,
    };
    respond_with(
        &state,
        lang,
        Place {
            serial: &serial,
            tag: Some(&tag),
            retry: &retry,
        },
        form.lang.is_some(),
        shown,
        result,
    )
}

/// The brand as the consumer's pages head it: its logo (when set) and its name.
pub fn brand_line(settings: &crate::config::Settings) -> Markup {
    let name = settings.brand();
    html! {
        p.muted id="brand" style="display:flex;align-items:center;gap:.5rem" {
            @if let Some(logo) = settings.brand_logo() {
                img id="brand-logo" src=(logo) alt=(name) height="32" style="max-height:32px;width:auto";
            }
            span { (name) }
        }
    }
}

fn qr_link(serial: &str, tag: &str, lang: Lang) -> String {
    format!(
        "/v/{}?t={}&lang={}",
        urlencode(serial),
        urlencode(tag),
        lang.param()
    )
}

/// Where a verdict page is: the serial, the QR's tag (`None` on 官网查询, where it is never
/// shown) and where "try again" leads.
pub(crate) struct Place<'a> {
    pub serial: &'a str,
    pub tag: Option<&'a str>,
    pub retry: &'a str,
}

/// The verdict page of the QR path or of 官网查询; every message is in the page's language.
/// `shown`: the link showing this result in the other language (`verdict_link`), if any.
pub(crate) fn respond_with(
    state: &crate::app::AppState,
    lang: Lang,
    at: Place<'_>,
    remember_lang: bool,
    shown: Option<String>,
    result: Result<Answer, Error>,
) -> Response {
    let Place { serial, tag, retry } = at;
    // With a result, the switch shows that same result in the other language
    // (`verdict_link`); before one, it asks again in the other language.
    let switch = match (shown, tag) {
        (Some(link), _) => link,
        (None, Some(tag)) => qr_link(serial, tag, lang.other()),
        (None, None) => format!(
            "/q?serial={}&lang={}",
            urlencode(serial),
            lang.other().param()
        ),
    };
    let title = lang.t(Text::VerifyTitle);
    let hotline = state.settings.brand_hotline.trim().to_string();
    let again = html! {
        p { a href=(retry) id="retry" { "↺ " (super::agent_i18n::tr(lang, "重新查询", "Try again")) } }
    };
    let (status, body, retry_after) = match result {
        Ok(answer) => (
            StatusCode::OK,
            verdict(lang, serial, tag, retry, &answer),
            None,
        ),
        Err(Error::RateLimited { retry_after_secs }) => (
            StatusCode::TOO_MANY_REQUESTS,
            html! {
                (notice(
                    lang,
                    "warn",
                    Text::TooMany,
                    &format!(
                        "{} {retry_after_secs} {}",
                        lang.t(Text::TryAgainIn),
                        lang.t(Text::Seconds)
                    ),
                ))
                (again)
            },
            Some(retry_after_secs),
        ),
        Err(e @ Error::BadRequest(_)) => {
            let words = if e.to_string().contains("security code") {
                super::agent_i18n::tr(
                    lang,
                    "防伪码格式不对：请输入刮开涂层后的 20 位数字。",
                    "The security code is not readable: enter the 20 digits under the scratch-off.",
                )
            } else if e.to_string().contains("region") {
                super::agent_i18n::tr(lang, "所选地区无效，请重新选择。", "Pick the region again.")
            } else {
                super::agent_i18n::tr(
                    lang,
                    "无法识别此码：请核对标签上的号码。",
                    "This is not a code we can read: check the label.",
                )
            };
            (
                StatusCode::BAD_REQUEST,
                html! { (notice(lang, "bad", Text::BadInput, words)) (again) },
                None,
            )
        }
        Err(e) => {
            tracing::error!(error = %e, "verification page failed");
            (
                e.status(),
                html! { (notice(lang, "bad", Text::ServerError, "")) (again) },
                None,
            )
        }
    };
    let body = html! {
        (brand_line(&state.settings))
        (body)
        @if !hotline.is_empty() {
            p id="hotline" { (super::agent_i18n::tr(lang, "品牌客服热线：", "Brand hotline: ")) a href=(format!("tel:{hotline}")) { (hotline) } }
        }
        p.muted {
            a href=(format!("/q?lang={}", lang.param())) { (super::agent_i18n::tr(lang, "手动输入序列号查询", "Type a serial and code instead")) }
            " · "
            a href=(format!("/me?lang={}", lang.param())) id="my-rewards" { (super::agent_i18n::tr(lang, "我的奖励", "My rewards")) }
        }
    };
    let retry = retry_after;
    let mut response = (status, page(lang, title, Some(&switch), body)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    if let Some(secs) =
        retry.and_then(|s| header::HeaderValue::from_str(&s.max(1).to_string()).ok())
    {
        headers.insert(header::RETRY_AFTER, secs);
    }
    if remember_lang {
        let cookie = format!(
            "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
            lang.param()
        );
        if let Ok(v) = header::HeaderValue::from_str(&cookie) {
            headers.insert(header::SET_COOKIE, v);
        }
    }
    response
}

fn notice(lang: Lang, class: &str, heading: Text, detail: &str) -> Markup {
    html! {
        div.card.verdict.(class) {
            h2 { (lang.t(heading)) }
            @if !detail.is_empty() { p { (detail) } }
        }
    }
}

fn product_card(lang: Lang, answer: &Answer) -> Markup {
    html! {
        @if let Some(p) = &answer.product {
            div.card id="product-card" {
                @if let Some(url) = &p.image_url {
                    img id="product-picture" src=(url) alt=(p.name) loading="lazy"
                        style="display:block;max-width:100%;max-height:200px;margin:0 auto .6rem;object-fit:contain";
                }
                dl {
                    dt { (lang.t(Text::Product)) }
                    dd { @if lang == Lang::En { (p.name_en.as_deref().unwrap_or(&p.name)) } @else { (p.name) } }
                    dt { (lang.t(Text::Batch)) } dd { (p.batch_id) }
                    @if !p.production_date.trim().is_empty() {
                        dt { (lang.t(Text::ProductionDate)) } dd { (p.production_date) }
                    }
                    dt { "No." } dd { code { (answer.serial) } }
                }
            }
        }
    }
}

/// Under a genuine verdict: the way to the item's page, where the consumer joins the agent that
/// sold it as a member or orders again (issue 20).
fn after_genuine(lang: Lang, serial: &str) -> Markup {
    let (zh, en) = ("成为会员或再次购买 →", "Become a member or order again →");
    html! {
        p.card id="to-reorder" {
            a href=(format!("/s/{}?lang={}#reorder", urlencode(serial), lang.param())) {
                @match lang { Lang::Zh => (zh), Lang::En => (en) }
            }
        }
    }
}

fn verdict(lang: Lang, serial: &str, tag: Option<&str>, retry: &str, answer: &Answer) -> Markup {
    let first_seen = answer
        .first_verified_at
        .map(|t| local_time(lang, t))
        .unwrap_or_default();
    html! {
        @match answer.outcome {
            None => {
                (product_card(lang, answer))
                form.card method="post" action=(format!("/v/{}", urlencode(serial))) {
                    input type="hidden" name="t" value=(tag.unwrap_or_default());
                    input type="hidden" name="lang" value=(lang.param());
                    input type="hidden" name="lat" id="lat" value="";
                    input type="hidden" name="lon" id="lon" value="";
                    label for="code" { (lang.t(Text::EnterCode)) }
                    input type="text" id="code" name="code" inputmode="numeric" autocomplete="off"
                        required maxlength="29" placeholder=(lang.t(Text::CodeHint));
                    (crate::web::region_picker::picker(lang))
                    button type="button" id="geo" hidden data-done=(lang.t(Text::LocationShared))
                        style="background:#57534e" { (lang.t(Text::ShareLocation)) }
                    button type="submit" { (lang.t(Text::Check)) }
                }
                script { (PreEscaped(GEO_SCRIPT)) }
            }
            Some(Outcome::GenuineFirst) => {
                div.card.verdict.ok id="verdict" data-result="genuine_first" {
                    h2 { "✔ " (lang.t(Text::GenuineFirst)) }
                    p { (lang.t(Text::GenuineFirstDetail)) }
                }
                @if let Some(reward) = &answer.reward { (super::reward::card(lang, reward)) }
                (product_card(lang, answer))
                (after_genuine(lang, serial))
            }
            Some(Outcome::GenuineRepeat) => {
                div.card.verdict.warn id="verdict" data-result="genuine_repeat" {
                    h2 { "⚠ " (lang.t(Text::GenuineRepeat)) }
                    p { (lang.t(Text::RepeatDetail)) " " strong { (answer.verify_count) } }
                    p {
                        (lang.t(Text::FirstVerifiedOn)) (lang.t(Text::Colon)) strong { (first_seen) }
                        @if let Some(place) = &answer.first_verified_place { " · " (lang.t(Text::In)) " " span id="first-place" { (crate::diversion::views::region_name(place)) } }
                    }
                }
                (product_card(lang, answer))
                (after_genuine(lang, serial))
            }
            Some(Outcome::Mismatch) => {
                div.card.verdict.bad id="verdict" data-result="mismatch" {
                    h2 { "✘ " (lang.t(Text::Mismatch)) }
                    p { (lang.t(Text::MismatchDetail)) }
                    p { a href=(retry) id="retry" { "↺ " (lang.t(Text::EnterCode)) } }
                }
            }
            Some(Outcome::NotGenuine) => {
                div.card.verdict.bad id="verdict" data-result="not_genuine" {
                    h2 { "✘ " (lang.t(Text::NotGenuine)) }
                    p { (lang.t(Text::NotGenuineDetail)) }
                }
            }
            Some(Outcome::NotReleased) => {
                div.card.verdict.bad id="verdict" data-result="not_released" {
                    h2 { "✘ " (lang.t(Text::NotReleased)) }
                    p { (lang.t(match answer.not_released {
                        Some(NotReleasedReason::Voided) => Text::Voided,
                        Some(NotReleasedReason::Recalled) => Text::Recalled,
                        _ => Text::AtHq,
                    })) }
                }
                (product_card(lang, answer))
            }
        }
        @if answer.frozen { (crate::web::region_picker::frozen_notice(lang)) }
        p.muted { (lang.t(Text::VerifyAnother)) }
    }
}

/// Percent-encodes a path or query component (serials and tags are plain ASCII, but a forged
/// link may carry anything).
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Consumers read times in China time (UTC+8, no daylight saving); the English page keeps UTC.
fn local_time(lang: Lang, utc: chrono::NaiveDateTime) -> String {
    match lang {
        Lang::Zh => {
            let beijing = utc + chrono::Duration::hours(8);
            format!("{}（北京时间）", beijing.format("%Y-%m-%d %H:%M"))
        }
        Lang::En => format!("{} UTC", utc.format("%Y-%m-%d %H:%M")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_shown_in_china_time_for_chinese_readers() {
        let utc = chrono::NaiveDate::from_ymd_opt(2026, 11, 23)
            .and_then(|d| d.and_hms_opt(20, 30, 0))
            .expect("valid time");
        assert_eq!(local_time(Lang::Zh, utc), "2026-11-24 04:30（北京时间）");
        assert_eq!(local_time(Lang::En, utc), "2026-11-23 20:30 UTC");
    }
}
