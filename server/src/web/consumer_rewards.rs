//! "我的奖励" (`GET /me`, issue 21): a signed-in consumer's phone, points and the rewards they
//! claimed, newest first, 20 a page, by kind. The points are the ledger's balance of the
//! consumer's points account (the truth), not a sum of the rewards.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::agent_i18n::{tr, yuan};
use super::consumer_sign_in::{ME, csrf_cookie, csrf_of, to_sign_in};
use super::i18n::Lang;
use super::layout::page;
use super::staff::{self, with_cookies};
use crate::app::AppState;
use crate::domain::marketing::{PrizeKind, china_day};
use crate::store::consumers::{self as store, MyReward};

/// Rewards on a page.
const PER_PAGE: i64 = 20;

#[derive(Debug, Deserialize)]
pub struct MeQuery {
    kind: Option<String>,
    page: Option<i64>,
    lang: Option<String>,
}

/// What one reward is, in words: "积分 50", "优惠券 ¥10.00 · 券码 X", "红包 ¥1.88 · 待发放".
fn reward_words(lang: Lang, r: &MyReward) -> String {
    match r.kind {
        Some(PrizeKind::Points) => format!("{} {}", tr(lang, "积分", "Points"), r.points),
        Some(PrizeKind::Coupon) => {
            let code = r
                .coupon_code
                .as_deref()
                .map(|c| format!(" · {} {c}", tr(lang, "券码", "code")))
                .unwrap_or_default();
            format!(
                "{} {}{code}",
                tr(lang, "优惠券", "Coupon"),
                yuan(r.amount_cents)
            )
        }
        Some(PrizeKind::Cash) => format!(
            "{} {} · {}",
            tr(lang, "红包", "Red packet"),
            yuan(r.amount_cents),
            if r.paid {
                tr(lang, "已发放", "paid")
            } else {
                tr(lang, "待发放", "to be paid")
            }
        ),
        None => tr(lang, "未中奖", "No prize").into(),
    }
}

/// The kinds the filter offers: the query's name, and the label.
fn kinds(lang: Lang) -> [(Option<PrizeKind>, &'static str, &'static str); 4] {
    [
        (None, "", tr(lang, "全部", "All")),
        (
            Some(PrizeKind::Points),
            "points",
            tr(lang, "积分", "Points"),
        ),
        (
            Some(PrizeKind::Coupon),
            "coupon",
            tr(lang, "优惠券", "Coupons"),
        ),
        (
            Some(PrizeKind::Cash),
            "cash",
            tr(lang, "红包", "Red packets"),
        ),
    ]
}

fn link(kind: &str, page: i64, lang: Lang) -> String {
    let mut href = format!("{ME}?lang={}", lang.param());
    if !kind.is_empty() {
        href.push_str(&format!("&kind={kind}"));
    }
    if page > 1 {
        href.push_str(&format!("&page={page}"));
    }
    href
}

/// The list of rewards with its filter and pager.
fn rewards(
    lang: Lang,
    kind: &str,
    page_no: i64,
    pages: i64,
    total: i64,
    list: &[MyReward],
) -> Markup {
    html! {
        div.card id="rewards" {
            h2 { (tr(lang, "奖励记录", "Rewards")) }
            nav.tabs id="kinds" {
                @for (_, name, label) in kinds(lang) {
                    a href=(link(name, 1, lang)) aria-current=[(name == kind).then_some("page")] { (label) }
                }
            }
            @if list.is_empty() {
                p.muted id="no-rewards" {
                    @if total == 0 && kind.is_empty() {
                        (tr(lang, "还没有奖励。购买参与活动的正品，扫码验证即可抽奖。", "No rewards yet. Scan the code on a genuine product in a campaign to win one."))
                    } @else {
                        (tr(lang, "没有这类奖励。", "No rewards of this kind."))
                    }
                }
            } @else {
                table {
                    tbody {
                        @for r in list {
                            tr.reward data-id=(r.id) {
                                td.wrap {
                                    strong { (reward_words(lang, r)) }
                                    br;
                                    span.muted { (r.campaign) }
                                }
                                td.num.muted style="white-space:nowrap" { (china_day(r.claimed_at).format("%Y-%m-%d").to_string()) }
                            }
                        }
                    }
                }
                @if pages > 1 {
                    div.pager id="pager" {
                        @if page_no > 1 { a href=(link(kind, page_no - 1, lang)) rel="prev" { "← " (tr(lang, "上一页", "Previous")) } }
                        span.muted {
                            @match lang {
                                Lang::Zh => { "第 " (page_no) " / " (pages) " 页" }
                                Lang::En => { "Page " (page_no) " of " (pages) }
                            }
                        }
                        @if page_no < pages { a href=(link(kind, page_no + 1, lang)) rel="next" { (tr(lang, "下一页", "Next")) " →" } }
                    }
                }
            }
            p.muted { (tr(lang, "日期为北京时间。", "Dates are in China time.")) }
        }
    }
}

/// `GET /me`: 我的奖励.
pub async fn show(
    State(state): State<AppState>,
    Query(q): Query<MeQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(q.lang.as_deref(), &headers);
    let me = match crate::consumers::signed_in(&state, &headers).await {
        Ok(Some(me)) => me,
        Ok(None) => return to_sign_in(ME, lang),
        Err(e) => return staff::error_page(lang, e),
    };
    // An unknown kind is "all": the filter's links are the only ones that set it.
    let (kind, kind_name) = kinds(lang)
        .into_iter()
        .find(|(_, name, _)| Some(*name) == q.kind.as_deref())
        .map_or((None, ""), |(k, name, _)| (k, name));
    let page_no = q.page.unwrap_or(1).clamp(1, 100_000);
    let id = me.consumer_id;
    let read = state
        .db
        .run(move |c| {
            let points = store::points(c, id)?;
            let (list, total) = store::my_rewards(c, id, kind, (page_no - 1) * PER_PAGE, PER_PAGE)?;
            Ok((points, list, total))
        })
        .await;
    let (points, list, total) = match read {
        Ok(r) => r,
        Err(e) => return staff::error_page(lang, e),
    };
    let pages = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
    let csrf = csrf_of(&headers);
    let title = tr(lang, "我的奖励", "My rewards");
    let switch = link(kind_name, page_no, lang.other());
    let body = html! {
        (super::verify::brand_line(&state.settings))
        div.card id="me" {
            dl {
                dt { (tr(lang, "手机号", "Mobile")) }
                dd id="phone" { (crate::domain::joining::mask_id(&me.phone)) }
                dt { (tr(lang, "我的积分", "My points")) }
                dd id="points" style="font-size:1.6rem" { (points) }
            }
        }
        (rewards(lang, kind_name, page_no, pages, total, &list))
        form.card method="post" action="/me/sign-out" id="sign-out" {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="lang" value=(lang.param());
            button type="submit" style="background:#57534e" { (tr(lang, "退出登录", "Sign out")) }
        }
        p.muted { a href=(format!("/q?lang={}", lang.param())) { (tr(lang, "防伪查询", "Verify a product")) } }
    };
    let response = (StatusCode::OK, page(lang, title, Some(&switch), body)).into_response();
    with_cookies(
        response,
        [
            csrf_cookie(&state, &csrf),
            staff::lang_cookie(lang, q.lang.is_some()),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reward(kind: Option<PrizeKind>, paid: bool) -> MyReward {
        MyReward {
            id: 1,
            campaign: "双十二".into(),
            kind,
            points: 50,
            amount_cents: 188,
            coupon_code: Some("CP-7Q2X".into()),
            claimed_at: chrono::NaiveDateTime::default(),
            paid,
        }
    }

    #[test]
    fn rewards_are_said_in_words() {
        let zh = |k, p| reward_words(Lang::Zh, &reward(k, p));
        assert_eq!(zh(Some(PrizeKind::Points), false), "积分 50");
        assert_eq!(
            zh(Some(PrizeKind::Coupon), false),
            "优惠券 ¥1.88 · 券码 CP-7Q2X"
        );
        assert_eq!(zh(Some(PrizeKind::Cash), false), "红包 ¥1.88 · 待发放");
        assert_eq!(zh(Some(PrizeKind::Cash), true), "红包 ¥1.88 · 已发放");
        assert_eq!(
            reward_words(Lang::En, &reward(Some(PrizeKind::Cash), true)),
            "Red packet ¥1.88 · paid"
        );
    }
}
