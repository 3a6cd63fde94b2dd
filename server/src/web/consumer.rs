//! The consumer's other ways in (issue 17): the logistics URLs printed on labels
//! (`/s/{serial}`, `/01/{gtin}/21/{serial}`, `/c/{code}`, `/00/{sscc}`) answer a product page,
//! and 官网查询 (`/q`, seed 004: 暗码 "用于防伪验证、官网查询"): a person types the serial and the
//! scratch-off security code when the QR is damaged or only the box is at hand.
//!
//! 官网查询 runs the very verification of the QR path — same verdicts, sightings, throttles — with
//! the tag the server itself derives for the serial: there the security code is the proof. The
//! tag never reaches the page (a tag-free retry link), so typing serials cannot mint QR links.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use codegen::serial::Serial;
use maud::{Markup, html};
use serde::Deserialize;

use super::agent_i18n::{self as w, tr};
use super::i18n::Lang;
use super::layout::page;
use super::verify::urlencode;
use crate::api::client::Client;
use crate::app::AppState;
use crate::error::Result;
use crate::store::custody::{CaseKey, load_case};
use crate::store::verify::{self as verify_store, VerifyView};
use crate::verify::{self, Request};

#[derive(Debug, Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
    serial: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct QueryForm {
    serial: Option<String>,
    code: Option<String>,
    region: Option<String>,
    lang: Option<String>,
}

/// What a printed code opens: an item, or a sealed case of items.
enum Found {
    Item(Box<VerifyView>),
    Case {
        code: String,
        items: usize,
        first: Option<Box<VerifyView>>,
    },
    Nothing,
}

fn find(c: &mut crate::store::DbConnection, code: &str, sscc: bool) -> Result<Found> {
    let key = code.trim().to_ascii_uppercase();
    if !sscc {
        if let Some(v) = verify_store::load(c, &key)? {
            return Ok(Found::Item(Box::new(v)));
        }
    }
    let case = if sscc {
        load_case(c, CaseKey::Sscc(code.trim()))?
    } else {
        load_case(c, CaseKey::Code(code.trim()))?
    };
    Ok(match case {
        Some(crate::domain::custody::Scanned::Case { code, items, .. }) => {
            let first = match items.first() {
                Some(i) => verify_store::load(c, &i.serial)?.map(Box::new),
                None => None,
            };
            Found::Case {
                code,
                items: items.len(),
                first,
            }
        }
        _ => Found::Nothing,
    })
}

fn product(lang: Lang, v: &VerifyView) -> Markup {
    html! {
        @if let Some(url) = &v.image_url {
            img id="product-picture" src=(url) alt=(v.product_name) loading="lazy"
                style="display:block;max-width:100%;max-height:200px;margin:0 auto .6rem;object-fit:contain";
        }
        dl {
            dt { (tr(lang, "产品", "Product")) }
            dd id="product" { @if lang == Lang::En { (v.product_name_en.as_deref().unwrap_or(&v.product_name)) } @else { (v.product_name) } }
            dt { (tr(lang, "批次", "Batch")) } dd { (v.batch_id) }
            @if !v.production_date.trim().is_empty() {
                dt { (tr(lang, "生产日期", "Production date")) } dd { (v.production_date) }
            }
        }
    }
}

async fn product_page(
    state: AppState,
    lang: Lang,
    code: String,
    sscc: bool,
    here: String,
) -> Response {
    let looked = code.clone();
    let found = state
        .db
        .run(move |c| {
            let found = find(c, &looked, sscc)?;
            // Who sold the item: the reorder and the membership go to that agent.
            let seller = match &found {
                Found::Item(v) => crate::retail::seller_name(c, &v.serial)?.map(|(_, name)| name),
                _ => None,
            };
            Ok((found, seller))
        })
        .await;
    let switch = format!("{here}?lang={}", lang.other().param());
    let title = tr(lang, "产品信息", "Product");
    let (status, body) = match found {
        Ok((Found::Item(v), seller)) => (
            StatusCode::OK,
            html! {
                div.card id="item" { (product(lang, &v)) dl { dt { (tr(lang, "序列号", "Serial")) } dd { code { (v.serial) } } } }
                div.card {
                    p { (tr(lang, "刮开标签上的涂层，输入防伪码验证真伪：", "Scratch the label and enter the security code to check it is genuine:")) }
                    p { a id="check" href=(format!("/q?serial={}&lang={}", urlencode(&v.serial), lang.param())) { (tr(lang, "防伪查询 →", "Verify →")) } }
                }
                (super::consumer_retail::card(lang, &v.serial, seller.as_deref()))
            },
        ),
        Ok((Found::Case { code, items, first }, _)) => (
            StatusCode::OK,
            html! {
                div.card id="case" {
                    @if let Some(v) = &first { (product(lang, v)) }
                    dl {
                        dt { (tr(lang, "箱码", "Case")) } dd { code { (code) } }
                        dt { (tr(lang, "箱内", "Inside")) } dd { (items) " " (tr(lang, "盒", "items")) }
                    }
                }
                div.card { p { (tr(lang, "每盒上有单独的防伪码，请在盒上查询。", "Every item carries its own security code: check it on the item.")) } }
            },
        ),
        Ok((Found::Nothing, _)) => (
            StatusCode::NOT_FOUND,
            html! {
                div.card.verdict.bad id="verdict" data-result="unknown" {
                    h2 { (tr(lang, "未找到此码", "Code not found")) }
                    p { (tr(lang, "请核对标签上的号码；如有疑问请联系品牌客服。", "Check the number on the label; ask the brand if in doubt.")) }
                    (hotline(&state, lang))
                    p { a href=(format!("/q?lang={}", lang.param())) { "↺ " (tr(lang, "手动输入查询", "Type the code instead")) } }
                }
            },
        ),
        Err(e) => (
            e.status(),
            html! {
                div.card.verdict.bad { p { (w::error_words(lang, &e)) } p { a href=(here.clone()) { "↺ " (tr(lang, "重试", "Try again")) } } }
            },
        ),
    };
    (
        status,
        page(lang, title, Some(&switch), html! { (brand(&state)) (body) }),
    )
        .into_response()
}

fn brand(state: &AppState) -> Markup {
    super::verify::brand_line(&state.settings)
}

fn hotline(state: &AppState, lang: Lang) -> Markup {
    let line = state.settings.brand_hotline.trim().to_string();
    html! {
        @if !line.is_empty() {
            p id="hotline" { (tr(lang, "品牌客服热线：", "Brand hotline: ")) a href=(format!("tel:{line}")) { (line) } }
        }
    }
}

/// `GET /s/{serial}` (the logistics QR) and `GET /c/{code}` (a case label).
pub async fn serial(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(q.lang.as_deref(), &headers);
    let here = format!("/s/{}", urlencode(&code));
    product_page(state, lang, code, false, here).await
}

pub async fn case(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(q.lang.as_deref(), &headers);
    let here = format!("/c/{}", urlencode(&code));
    product_page(state, lang, code, false, here).await
}

/// `GET /01/{gtin}/21/{serial}` (a GS1 Digital Link).
pub async fn digital_link(
    State(state): State<AppState>,
    Path((gtin, code)): Path<(String, String)>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(q.lang.as_deref(), &headers);
    let here = format!("/01/{}/21/{}", urlencode(&gtin), urlencode(&code));
    product_page(state, lang, code, false, here).await
}

/// `GET /00/{sscc}` (a case's SSCC).
pub async fn sscc(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(q.lang.as_deref(), &headers);
    let here = format!("/00/{}", urlencode(&code));
    product_page(state, lang, code, true, here).await
}

fn query_form(lang: Lang, serial: &str) -> Markup {
    html! {
        form.card method="post" action="/q" id="query" {
            input type="hidden" name="lang" value=(lang.param());
            label for="serial" { (tr(lang, "产品序列号（标签上的明码）", "Serial number (printed on the label)")) }
            input type="text" id="serial" name="serial" value=(serial) required maxlength="64" autocapitalize="characters" autocomplete="off";
            label for="code" { (tr(lang, "防伪码（刮开涂层）", "Security code (under the scratch-off)")) }
            input type="text" id="code" name="code" inputmode="numeric" required maxlength="29" autocomplete="off";
            (super::region_picker::picker(lang))
            button type="submit" { (tr(lang, "查询", "Check")) }
        }
    }
}

/// `GET /q`: 官网查询.
pub async fn query_page(
    State(state): State<AppState>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(q.lang.as_deref(), &headers);
    let serial = q.serial.unwrap_or_default();
    let switch = format!(
        "/q?serial={}&lang={}",
        urlencode(&serial),
        lang.other().param()
    );
    let body = html! { (brand(&state)) (query_form(lang, &serial)) };
    page(
        lang,
        tr(lang, "官网防伪查询", "Verify on the brand's site"),
        Some(&switch),
        body,
    )
    .into_response()
}

/// `POST /q`: the verdict, as on the QR path.
pub async fn query_submit(
    State(state): State<AppState>,
    client: Client,
    headers: HeaderMap,
    Form(form): Form<QueryForm>,
) -> Response {
    let lang = Lang::negotiate(form.lang.as_deref(), &headers);
    let serial = form.serial.unwrap_or_default().trim().to_ascii_uppercase();
    let code = form.code.unwrap_or_default();
    let title = tr(lang, "官网防伪查询", "Verify on the brand's site");
    let retry = format!("/q?serial={}&lang={}", urlencode(&serial), lang.param());
    if code.trim().is_empty() || serial.is_empty() {
        let body = html! { (brand(&state)) div.card.verdict.bad id="notice" { p { (tr(lang, "请输入序列号和防伪码。", "Enter the serial and the security code.")) } } (query_form(lang, &serial)) };
        return (StatusCode::BAD_REQUEST, page(lang, title, None, body)).into_response();
    }
    // The tag the brand printed for this serial, derived here: the security code is the proof.
    let lookup = serial.clone();
    let keys = state.keys.clone();
    let tag = state
        .db
        .run(move |c| {
            let Some(view) = verify_store::load(c, &lookup)? else {
                return Ok(String::new());
            };
            let Ok(s) = Serial::parse(&lookup) else {
                return Ok(String::new());
            };
            Ok(keys
                .batch_key(&view.key_id, &s.batch_id())
                .map(|k| k.tag(&s).as_str().to_string())
                .unwrap_or_default())
        })
        .await
        .unwrap_or_default();
    let request = Request {
        serial: serial.clone(),
        tag,
        security_code: Some(code),
        client: client.addr,
        user_agent: client.user_agent,
        latitude: None,
        longitude: None,
        region: form.region,
        consumer: super::reward::consumer_of(&state, &headers).await,
    };
    let result = verify::verify(&state, request).await;
    let shown = match &result {
        Ok(answer) => super::verdict_link::link(&state, &serial, answer, lang.other()).await,
        Err(_) => None,
    };
    super::verify::respond_with(
        &state,
        lang,
        super::verify::Place {
            serial: &serial,
            tag: None,
            retry: &retry,
        },
        form.lang.is_some(),
        shown,
        result,
    )
}
