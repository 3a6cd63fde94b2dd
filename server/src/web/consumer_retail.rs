//! The consumer's side of retail on an item's page (issue 20): join the agent that sold the
//! item as a member (`POST /s/{serial}/member`), and order again from it (O2O 扫码下单,
//! `POST /s/{serial}/reorder`) — from the agent authorised for a region the consumer picks when
//! no agent sold the item. Phone first, no JavaScript; both forms are throttled per client.

use std::collections::BTreeMap;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

use super::agent_i18n::{self as w, tr};
use super::i18n::Lang;
use super::layout::page;
use super::verify::urlencode;
use crate::api::client::Client;
use crate::app::AppState;
use crate::retail::{self, ReorderInput};

/// The card under an item: who sold it, and the two forms.
pub fn card(lang: Lang, serial: &str, seller: Option<&str>) -> Markup {
    let base = format!("/s/{}", urlencode(serial));
    html! {
        div.card id="reorder" {
            h2 { (tr(lang, "再次购买", "Order again")) }
            @match seller {
                Some(name) => p id="seller" { (tr(lang, "此商品由 ", "Sold to you by ")) strong { (name) } (tr(lang, " 售出，下单后由其为您发货。", ": order and it sends you the goods.")) },
                None => p.muted { (tr(lang, "请选择您所在的地区，由当地授权代理为您发货。", "Pick your region: the agent authorised there sends you the goods.")) },
            }
            form method="post" action=(format!("{base}/reorder")) {
                input type="hidden" name="lang" value=(lang.param());
                label for="r-name" { (tr(lang, "您的姓名", "Your name")) }
                input type="text" id="r-name" name="name" required maxlength="40" autocomplete="name";
                label for="r-phone" { (tr(lang, "手机号", "Phone")) }
                input type="tel" id="r-phone" name="phone" required maxlength="20" inputmode="tel" autocomplete="tel";
                label for="r-quantity" { (tr(lang, "数量（盒）", "Quantity (items)")) }
                input type="number" id="r-quantity" name="quantity" required min="1" max="500" value="1" inputmode="numeric";
                label for="r-note" { (tr(lang, "备注（选填）", "Note (optional)")) }
                input type="text" id="r-note" name="note" maxlength="200";
                @if seller.is_none() { (super::region_picker::picker(lang)) }
                button type="submit" id="reorder-submit" { (tr(lang, "提交订单", "Place the order")) }
            }
        }
        @if let Some(name) = seller {
            div.card id="member" {
                h2 { (tr(lang, "成为会员", "Become a member")) }
                p.muted { (name) (tr(lang, " 的会员可获得新品和活动通知。", "'s members hear of new products and offers.")) }
                form method="post" action=(format!("{base}/member")) {
                    input type="hidden" name="lang" value=(lang.param());
                    label for="m-name" { (tr(lang, "您的姓名", "Your name")) }
                    input type="text" id="m-name" name="name" required maxlength="40" autocomplete="name";
                    label for="m-phone" { (tr(lang, "手机号", "Phone")) }
                    input type="tel" id="m-phone" name="phone" required maxlength="20" inputmode="tel" autocomplete="tel";
                    button type="submit" id="member-submit" { (tr(lang, "加入会员", "Join")) }
                }
            }
        }
    }
}

fn lang_of(form: &BTreeMap<String, String>, headers: &HeaderMap) -> Lang {
    Lang::negotiate(form.get("lang").map(String::as_str), headers)
}

fn answer(lang: Lang, serial: &str, status: StatusCode, ok: bool, words: &str) -> Response {
    let back = format!("/s/{}?lang={}", urlencode(serial), lang.param());
    let body = html! {
        div.card.verdict.(if ok { "ok" } else { "bad" }) id="answer" data-ok=(ok) {
            p { (words) }
            p { a href=(back) { "← " (tr(lang, "返回商品", "Back to the product")) } }
        }
    };
    (
        status,
        page(lang, tr(lang, "再次购买", "Order again"), None, body),
    )
        .into_response()
}

/// `POST /s/{serial}/reorder`.
pub async fn reorder(
    State(state): State<AppState>,
    Path(serial): Path<String>,
    client: Client,
    headers: HeaderMap,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let lang = lang_of(&form, &headers);
    let serial = serial.trim().to_ascii_uppercase();
    if let Err(e) = state.limits.check_consumer_form(client.addr) {
        return answer(lang, &serial, e.status(), false, &w::error_words(lang, &e));
    }
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    let input = ReorderInput {
        name: get("name"),
        phone: get("phone"),
        quantity: get("quantity"),
        note: get("note"),
        region: form.get("region").cloned().filter(|r| !r.trim().is_empty()),
    };
    let s2 = serial.clone();
    match state
        .db
        .write(move |c| retail::reorder(c, &s2, &input))
        .await
    {
        Ok((order, agent)) => {
            let words = match lang {
                Lang::Zh => format!(
                    "订单 #{} 已提交给 {agent}，对方会尽快与您联系发货。",
                    order.id
                ),
                Lang::En => format!(
                    "Order #{} sent to {agent}, who will contact you to send it.",
                    order.id
                ),
            };
            answer(lang, &serial, StatusCode::OK, true, &words)
        }
        Err(e) => answer(lang, &serial, e.status(), false, &w::error_words(lang, &e)),
    }
}

/// `POST /s/{serial}/member`.
pub async fn member(
    State(state): State<AppState>,
    Path(serial): Path<String>,
    client: Client,
    headers: HeaderMap,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let lang = lang_of(&form, &headers);
    let serial = serial.trim().to_ascii_uppercase();
    if let Err(e) = state.limits.check_consumer_form(client.addr) {
        return answer(lang, &serial, e.status(), false, &w::error_words(lang, &e));
    }
    let name = form.get("name").cloned().unwrap_or_default();
    let phone = form.get("phone").cloned().unwrap_or_default();
    let s2 = serial.clone();
    match state
        .db
        .write(move |c| retail::join_as_member(c, &s2, &name, &phone))
        .await
    {
        Ok(agent) => {
            let words = match lang {
                Lang::Zh => format!("您已成为 {agent} 的会员。"),
                Lang::En => format!("You are now a member of {agent}."),
            };
            answer(lang, &serial, StatusCode::OK, true, &words)
        }
        Err(e) => answer(lang, &serial, e.status(), false, &w::error_words(lang, &e)),
    }
}
