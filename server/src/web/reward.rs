//! A scan-marketing reward on the consumer's verdict (扫码营销, issue 21): what the first
//! verification won, and the way to claim it with a phone.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

use super::agent_i18n::tr;
use super::i18n::Lang;
use crate::app::AppState;
use crate::domain::marketing::PrizeKind;
use crate::store::marketing::Won;
use crate::verify::Reward;

/// A prize in words: "积分 50", "优惠券 ¥10.00 · 券码 CP…", "红包 ¥1.88".
pub fn prize_words(lang: Lang, won: &Won) -> String {
    let yuan = rust_decimal::Decimal::new(won.amount_cents, 2);
    match (won.kind, lang) {
        (PrizeKind::Points, Lang::Zh) => format!("积分 {}", won.points),
        (PrizeKind::Points, Lang::En) => format!("{} points", won.points),
        (PrizeKind::Coupon, Lang::Zh) => format!("优惠券 ¥{yuan}"),
        (PrizeKind::Coupon, Lang::En) => format!("a ¥{yuan} coupon"),
        (PrizeKind::Cash, Lang::Zh) => format!("红包 ¥{yuan}"),
        (PrizeKind::Cash, Lang::En) => format!("a ¥{yuan} red packet"),
    }
}

/// The card under a genuine first verdict.
pub fn card(lang: Lang, reward: &Reward) -> Markup {
    let d = &reward.drawn;
    html! {
        div.card.verdict.(if d.prize.is_some() { "ok" } else { "warn" }) id="reward" data-won=(d.prize.is_some()) {
            p.muted { (d.campaign) }
            @match &d.prize {
                Some(won) => {
                    h2 { (tr(lang, "恭喜您获得 ", "You won ")) span id="prize" { (prize_words(lang, won)) } }
                    p { (won.name) }
                    @if let Some(code) = &won.coupon_code {
                        p { (tr(lang, "券码：", "Coupon code: ")) code id="coupon-code" { (code) } }
                    }
                    @if d.claimed {
                        p id="claimed" { (tr(lang, "已存入您的账户。", "It is in your account.")) " "
                            a href="/me" { (tr(lang, "查看我的奖励 →", "See my rewards →")) } }
                    } @else {
                        p.muted { (tr(lang, "用手机号登录即可领取，奖励只能领取一次。", "Sign in with your phone to claim it; it can be claimed once.")) }
                        a.button id="claim" href=(format!("/me/claim/{}", reward.claim_token)) {
                            (tr(lang, "用手机号领取", "Claim with my phone"))
                        }
                    }
                }
                None => {
                    h2 { (tr(lang, "谢谢参与", "Thanks for taking part")) }
                    p { (tr(lang, "这次没有中奖，每个防伪码只能参与一次。", "No prize this time; each code takes part once.")) }
                }
            }
        }
    }
}

/// The consumer signed in on this request, whose verification's reward is theirs at once. A
/// failure to read the session only means the reward waits for a claim.
pub async fn consumer_of(state: &AppState, headers: &HeaderMap) -> Option<i64> {
    match crate::consumers::signed_in(state, headers).await {
        Ok(me) => me.map(|m| m.consumer_id),
        Err(e) => {
            tracing::warn!(error = %e, "reading the consumer's session");
            None
        }
    }
}

/// `lang=` of a claim page's query or form.
#[derive(Debug, serde::Deserialize)]
pub struct LangParam {
    lang: Option<String>,
}

/// The claim form's fields.
#[derive(Debug, serde::Deserialize)]
pub struct ClaimForm {
    #[serde(default)]
    csrf: String,
    lang: Option<String>,
}

fn claim_page(lang: Lang, status: StatusCode, body: Markup) -> Response {
    let body = html! {
        (body)
        p.muted { a href=(format!("/me?lang={}", lang.param())) { (tr(lang, "我的奖励", "My rewards")) } }
    };
    (
        status,
        super::layout::page(lang, tr(lang, "领取奖励", "Claim a reward"), None, body),
    )
        .into_response()
}

/// A refusal or a failure, in words on the claim page.
fn failed(lang: Lang, e: &crate::error::Error) -> Response {
    if e.status().is_server_error() {
        tracing::error!(error = %e, "claim page failed");
    }
    let words = super::agent_i18n::error_words(lang, e);
    claim_page(lang, e.status(), said("bad", &words))
}

fn said(class: &str, words: &str) -> Markup {
    html! { div.card.verdict.(class) id="claim-answer" { p { (words) } } }
}

/// `GET /me/claim/{token}`: the reward a verification drew, and the button that makes it the
/// signed-in consumer's. A stranger signs in first and comes back here.
pub async fn show(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Query(q): Query<LangParam>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(q.lang.as_deref(), &headers);
    let here = format!("/me/claim/{}", super::verify::urlencode(&token));
    let reward = match crate::marketing::claimable(&state, &token).await {
        Ok(Some(r)) => r,
        Ok(None) => {
            let words = tr(
                lang,
                "此领取链接无效：请核对链接，或重新扫码查询。",
                "This claim link is not valid: check it, or scan the code again.",
            );
            return claim_page(lang, StatusCode::NOT_FOUND, said("bad", words));
        }
        Err(e) => return failed(lang, &e),
    };
    let me = match crate::consumers::signed_in(&state, &headers).await {
        Ok(Some(me)) => me,
        Ok(None) => return super::consumer_sign_in::to_sign_in(&here, lang),
        Err(e) => return failed(lang, &e),
    };
    let Some(won) = &reward.prize else {
        let words = tr(
            lang,
            "这次没有中奖，没有可领取的奖励。",
            "This draw won nothing, so there is nothing to claim.",
        );
        return claim_page(lang, StatusCode::OK, said("warn", words));
    };
    let body = match reward.consumer {
        Some(owner) if owner == me.consumer_id => said(
            "ok",
            tr(
                lang,
                "此奖励已在您的账户中。",
                "This reward is already in your account.",
            ),
        ),
        Some(_) => said(
            "bad",
            tr(lang, "此奖励已被领取。", "This reward was claimed already."),
        ),
        None => {
            let csrf = super::consumer_sign_in::csrf_of(&headers);
            let body = html! {
                div.card.verdict.ok id="reward" {
                    p.muted { (reward.campaign) }
                    h2 { span id="prize" { (prize_words(lang, won)) } }
                    p { (won.name) }
                    form method="post" action=(here) {
                        input type="hidden" name="csrf" value=(csrf);
                        input type="hidden" name="lang" value=(lang.param());
                        button type="submit" id="claim-submit" { (tr(lang, "领取到我的账户", "Put it in my account")) }
                    }
                }
            };
            let mut response = claim_page(lang, StatusCode::OK, body);
            if let Some(cookie) = super::consumer_sign_in::csrf_cookie(&state, &csrf) {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            return response;
        }
    };
    claim_page(lang, StatusCode::OK, body)
}

/// `POST /me/claim/{token}`: claims it, once, then shows the consumer's rewards.
pub async fn claim(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    Form(form): Form<ClaimForm>,
) -> Response {
    let lang = Lang::negotiate(form.lang.as_deref(), &headers);
    let here = format!("/me/claim/{}", super::verify::urlencode(&token));
    if !super::consumer_sign_in::csrf_ok(&headers, &form.csrf) {
        let words = tr(
            lang,
            "页面已过期，请返回重新领取。",
            "The page expired: go back and claim again.",
        );
        return claim_page(
            lang,
            StatusCode::FORBIDDEN,
            html! { (said("bad", words)) p { a href=(here) { "↺" } } },
        );
    }
    let me = match crate::consumers::signed_in(&state, &headers).await {
        Ok(Some(me)) => me,
        Ok(None) => return super::consumer_sign_in::to_sign_in(&here, lang),
        Err(e) => return failed(lang, &e),
    };
    match crate::marketing::claim(&state, &token, me.consumer_id).await {
        Ok(_) => super::staff::see_other(&format!("/me?lang={}", lang.param())),
        Err(e) => failed(lang, &e),
    }
}
