//! The agent's retail on its phone (issue 20): `/agent/retail` — a sale by scanning or typing
//! item codes (零售开单出库), with the customer's name and phone or as a walk-in; the O2O orders
//! consumers placed from an item's code, to fulfil by a sale or cancel; the latest sales — the
//! receipt of each (`/agent/retail/sales/{id}`), and the agent's members (终端会员,
//! `/agent/customers`, searched and paged) with their purchases. Rules and writes are
//! `crate::retail`'s; forms go through `agent::act_on`.

use std::collections::{BTreeMap, HashMap};

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

use super::agent::agent_gate;
use super::agent_i18n::{self as w, tr};
use super::form_key::{self, FormTarget};
use super::i18n::Lang;
use super::verify::urlencode;
use crate::app::AppState;
use crate::auth::MaybeCaller;
use crate::domain::retail::{CustomerSource, RetailOrderState};
use crate::error::{Error, Result};
use crate::retail::{self, SaleInput};
use crate::store::DbConnection;
use crate::store::products;
use crate::store::retail::{self as store, CustomerRow, RetailOrderRow, SaleRow};

const HERE: &str = "/agent/retail";
const CUSTOMERS: &str = "/agent/customers";
const PAGE: i64 = 20;

fn param<'a>(q: &'a BTreeMap<String, String>, k: &str) -> Option<&'a str> {
    q.get(k).map(|v| v.trim()).filter(|v| !v.is_empty())
}

fn notice(q: &BTreeMap<String, String>) -> Markup {
    html! {
        @if let Some(n) = param(q, "notice") {
            @if q.contains_key("bad") { div.card.verdict.bad id="notice" data-ok="false" { (n) } }
            @else { div.card.verdict.ok id="notice" data-ok="true" { (n) } }
        }
    }
}

fn source_words(lang: Lang, s: CustomerSource) -> &'static str {
    match s {
        CustomerSource::Sale => tr(lang, "门店购买", "Bought in store"),
        CustomerSource::Verify => tr(lang, "验真后加入", "Joined after verifying"),
        CustomerSource::Reorder => tr(lang, "扫码下单", "Ordered by scanning"),
    }
}

fn who(lang: Lang, c: Option<&CustomerRow>) -> String {
    match c {
        Some(c) => format!("{} {}", c.name, c.phone),
        None => tr(lang, "散客", "Walk-in customer").to_string(),
    }
}

fn product_name(lang: Lang, p: &products::Product) -> String {
    match (lang, &p.name_en) {
        (Lang::En, Some(en)) if !en.is_empty() => en.clone(),
        _ => p.name.clone(),
    }
}

struct RetailPage {
    orders: Vec<RetailOrderRow>,
    sales: Vec<SaleRow>,
    more_sales: bool,
    customers: HashMap<i64, CustomerRow>,
    products: HashMap<i64, products::Product>,
    fulfil: Option<RetailOrderRow>,
}

fn load(
    c: &mut DbConnection,
    agent: i64,
    before: Option<i64>,
    fulfil: Option<i64>,
) -> Result<RetailPage> {
    let orders = store::retail_orders(c, agent, Some(RetailOrderState::Open), None, 50)?;
    let mut sales = store::sales(c, agent, None, before, PAGE + 1)?;
    let more_sales = sales.len() > usize::try_from(PAGE).unwrap_or(20);
    sales.truncate(usize::try_from(PAGE).unwrap_or(20));
    let mut ids: Vec<i64> = orders
        .iter()
        .map(|o| o.customer_id)
        .chain(sales.iter().filter_map(|s| s.customer_id))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let customers: HashMap<i64, _> = store::customers_by_ids(c, &ids)?
        .into_iter()
        .map(|row| (row.id, row))
        .collect();
    let ids: Vec<i64> = orders.iter().map(|o| o.product_id).collect();
    let product_rows = products::by_ids(c, &ids)?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let fulfil = fulfil.and_then(|id| orders.iter().find(|o| o.id == id).cloned());
    Ok(RetailPage {
        orders,
        sales,
        more_sales,
        customers,
        products: product_rows,
        fulfil,
    })
}

/// `GET /agent/retail`.
pub async fn show(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Query(q): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(q.get("lang").map(String::as_str), &headers);
    let (caller, _, agent) = match agent_gate(&state, lang, caller).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let before = param(&q, "before").and_then(|b| b.parse().ok());
    let fulfil = param(&q, "order").and_then(|b| b.parse().ok());
    let page = match state.db.run(move |c| load(c, agent, before, fulfil)).await {
        Ok(p) => p,
        Err(e) => return w::error_page(lang, e, "/agent"),
    };
    let csrf = caller.csrf().to_string();
    let body = html! {
        (notice(&q))
        form.card method="post" action=(format!("{HERE}/sell")) id="sale" {
            h2 { (tr(lang, "零售开单", "New retail sale")) }
            input type="hidden" name="csrf" value=(csrf);
            (form_key::field())
            @if let Some(o) = &page.fulfil {
                input type="hidden" name="order" value=(o.id);
                p id="fulfilling" {
                    (tr(lang, "扫码订单", "Scan order")) " #" (o.id) ": "
                    @if let Some(p) = page.products.get(&o.product_id) { (product_name(lang, p)) }
                    " × " (o.quantity) br;
                    span.muted { (who(lang, page.customers.get(&o.customer_id))) }
                }
            }
            label for="codes" { (tr(lang, "扫描或输入商品码（每行一个）", "Scan or type the items' codes (one per line)")) }
            textarea id="codes" name="codes" rows="4" required autofocus autocapitalize="characters" autocomplete="off"
                placeholder=(tr(lang, "扫码枪扫一次即换一行", "A scanner types one line per scan")) {}
            @if page.fulfil.is_none() {
                label for="customer-name" { (tr(lang, "顾客姓名（选填）", "Customer's name (optional)")) }
                input type="text" id="customer-name" name="name" maxlength="40" autocomplete="off";
                label for="customer-phone" { (tr(lang, "顾客手机（选填，记为会员）", "Customer's phone (optional: kept as a member)")) }
                input type="tel" id="customer-phone" name="phone" maxlength="20" inputmode="tel" autocomplete="off";
                p.muted { (tr(lang, "姓名和手机都不填即为散客。", "Leave both empty for a walk-in customer.")) }
            }
            button type="submit" id="sell" { (tr(lang, "开单出库", "Sell these items")) }
        }
        div.card id="o2o" {
            h2 { (tr(lang, "扫码订单（待处理）", "Scan orders to fulfil")) }
            @if page.orders.is_empty() {
                p.muted { (tr(lang, "没有待处理的扫码订单。顾客扫描您售出商品上的二维码即可向您再次下单。",
                    "No scan orders waiting. Consumers order again from you by scanning the QR on an item you sold.")) }
            }
            @for o in &page.orders {
                div.orow data-retail-order=(o.id) style="border-top:1px solid #e7e5e4;padding:.5rem 0" {
                    strong { "#" (o.id) } " · "
                    @if let Some(p) = page.products.get(&o.product_id) { (product_name(lang, p)) }
                    " × " (o.quantity) br;
                    (who(lang, page.customers.get(&o.customer_id))) " · " span.muted { (w::when(lang, o.created_at)) }
                    @if let Some(n) = &o.note { br; span.muted { (tr(lang, "备注：", "Note: ")) (n) } }
                    br;
                    a href=(format!("{HERE}?order={}#sale", o.id)) data-fulfil=(o.id) { (tr(lang, "开单发货", "Fulfil")) }
                    " "
                    form.inline method="post" action=(format!("{HERE}/orders/{}/cancel", o.id)) style="display:inline" {
                        input type="hidden" name="csrf" value=(csrf);
                        (form_key::field())
                        button type="submit" data-cancel=(o.id) { (tr(lang, "取消订单", "Cancel")) }
                    }
                }
            }
        }
        div.card id="sales" {
            h2 { (tr(lang, "最近零售", "Latest sales")) }
            p { a href=(CUSTOMERS) id="to-customers" { (tr(lang, "我的会员 →", "My members →")) } }
            @if page.sales.is_empty() {
                p.muted { (tr(lang, "还没有零售记录。", "No retail sales yet.")) }
            }
            @for s in &page.sales {
                a.orow href=(format!("{HERE}/sales/{}", s.id)) data-sale=(s.id)
                    style="display:block;border-top:1px solid #e7e5e4;padding:.5rem 0;color:inherit;text-decoration:none" {
                    strong { (crate::domain::retail::receipt_number(s.id, (s.sold_at + chrono::Duration::hours(8)).date())) }
                    " · " (s.item_count) " " (tr(lang, "件", "items")) br;
                    span.muted { (who(lang, s.customer_id.and_then(|c| page.customers.get(&c)))) " · " (w::when(lang, s.sold_at)) }
                }
            }
            @if page.more_sales {
                @if let Some(last) = page.sales.last() {
                    p { a id="older-sales" href=(format!("{HERE}?before={}", last.id)) { (tr(lang, "更早 →", "Older →")) } }
                }
            }
        }
    };
    let switch = format!("{HERE}?lang={}", lang.other().param());
    super::shell::page(
        lang,
        &caller,
        HERE,
        tr(lang, "零售", "Retail"),
        Some(&switch),
        body,
    )
    .into_response()
}

/// `POST /agent/retail/sell`.
pub async fn sell(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    target: FormTarget,
    headers: HeaderMap,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let app = state.clone();
    super::agent::act_on(
        state,
        caller,
        target,
        headers,
        form,
        HERE.to_string(),
        move |c, actor, _, lang, f| {
            let text = |k: &str| f.get(k).cloned().unwrap_or_default();
            let input = SaleInput {
                codes: text("codes"),
                customer_name: text("name"),
                customer_phone: text("phone"),
                retail_order: f.get("order").and_then(|o| o.trim().parse().ok()),
            };
            match retail::sell(c, &app.keys, actor, &input)? {
                Ok(sold) => Ok((
                    format!(
                        "{} {} · {} {}",
                        tr(lang, "已开单", "Sold:"),
                        sold.receipt,
                        sold.sale.item_count,
                        tr(lang, "件", "items")
                    ),
                    true,
                )),
                Err(unsold) => {
                    let each: Vec<String> = unsold
                        .iter()
                        .map(|u| {
                            format!(
                                "{}（{}）",
                                crate::network::scan_ship::code_for_notice(&u.code),
                                w::scan_reason(lang, u.reason)
                            )
                        })
                        .collect();
                    Ok((
                        format!(
                            "{}{}",
                            tr(
                                lang,
                                "未开单，以下商品不能售出：",
                                "Nothing sold; these cannot be sold: "
                            ),
                            each.join(tr(lang, "；", "; "))
                        ),
                        false,
                    ))
                }
            }
        },
    )
    .await
}

/// `POST /agent/retail/orders/{id}/cancel`.
pub async fn cancel(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(id): Path<i64>,
    target: FormTarget,
    headers: HeaderMap,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    super::agent::act_on(
        state,
        caller,
        target,
        headers,
        form,
        HERE.to_string(),
        move |c, actor, _, lang, _| {
            retail::cancel_order(c, actor, id)?;
            Ok((format!("#{id} {}", tr(lang, "已取消", "cancelled")), true))
        },
    )
    .await
}

/// `GET /agent/retail/sales/{id}`: the receipt.
pub async fn receipt(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(id): Path<i64>,
    Query(q): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(q.get("lang").map(String::as_str), &headers);
    let (caller, actor, agent) = match agent_gate(&state, lang, caller).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let loaded = state
        .db
        .run(move |c| {
            let r = retail::receipt(c, actor, id)?;
            let me = crate::store::network::agents::get(c, agent)?;
            Ok((r, me))
        })
        .await;
    let ((sale, number, lines, customer), me) = match loaded {
        Ok(v) => v,
        Err(e) => return w::error_page(lang, e, HERE),
    };
    let body = html! {
        div.card id="receipt" data-sale=(sale.id) {
            h2 { (tr(lang, "零售小票", "Receipt")) " " (number) }
            dl {
                dt { (tr(lang, "售出", "Sold by")) } dd { (me.name) }
                dt { (tr(lang, "时间", "When")) } dd { (w::when(lang, sale.sold_at)) }
                dt { (tr(lang, "顾客", "Customer")) } dd id="receipt-customer" { (who(lang, customer.as_ref())) }
                @if let Some(o) = sale.retail_order_id { dt { (tr(lang, "扫码订单", "Scan order")) } dd { "#" (o) } }
            }
            @for l in &lines {
                p.line {
                    strong { @if lang == Lang::En { (l.product_en.clone().filter(|e| !e.is_empty()).unwrap_or_else(|| l.product.clone())) } @else { (l.product) } }
                    " × " (l.serials.len()) br;
                    span.muted style="word-break:break-all" { @for (i, s) in l.serials.iter().enumerate() { @if i > 0 { " " } code { (s) } } }
                }
            }
            p.muted { (tr(lang, "每件商品可扫码验真；凭此小票享受售后服务。", "Every item can be verified by its QR; keep this receipt for after-sales service.")) }
        }
        p { a href=(HERE) { "← " (tr(lang, "零售", "Retail")) } }
    };
    let here = format!("{HERE}/sales/{id}");
    let switch = format!("{here}?lang={}", lang.other().param());
    super::shell::page(lang, &caller, &here, &number, Some(&switch), body).into_response()
}

/// `GET /agent/customers`: the members, searched by name or phone, paged.
pub async fn customers(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Query(q): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(q.get("lang").map(String::as_str), &headers);
    let (caller, _, agent) = match agent_gate(&state, lang, caller).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let search = param(&q, "q").map(str::to_string);
    let before = param(&q, "before").and_then(|b| b.parse().ok());
    let s2 = search.clone();
    let loaded = state
        .db
        .run(move |c| Ok(store::customers(c, agent, s2.as_deref(), before, PAGE + 1)?))
        .await;
    let mut rows = match loaded {
        Ok(v) => v,
        Err(e) => return w::error_page(lang, e, HERE),
    };
    let more = rows.len() > usize::try_from(PAGE).unwrap_or(20);
    rows.truncate(usize::try_from(PAGE).unwrap_or(20));
    let search = search.unwrap_or_default();
    let body = html! {
        div.card id="members" {
            form method="get" action=(CUSTOMERS) {
                input type="search" name="q" value=(search) placeholder=(tr(lang, "姓名或手机号", "Name or phone")) aria-label=(tr(lang, "搜索", "Search"));
                button type="submit" { (tr(lang, "搜索", "Search")) }
            }
            @if rows.is_empty() {
                p.muted { (tr(lang, "还没有会员：零售开单时填写顾客手机，或顾客验真后加入，即成为您的会员。",
                    "No members yet: a customer's phone at a sale, or a consumer joining after verifying, makes a member.")) }
            }
            @for (m, bought) in &rows {
                a.orow href=(format!("{CUSTOMERS}/{}", m.id)) data-member=(m.id)
                    style="display:block;border-top:1px solid #e7e5e4;padding:.5rem 0;color:inherit;text-decoration:none" {
                    strong { (m.name) } " " (m.phone) br;
                    span.muted { (source_words(lang, m.source)) " · " (w::day(lang, m.created_at)) " · "
                        (tr(lang, "购买", "purchases")) " " (bought) }
                }
            }
            @if more {
                @if let Some((last, _)) = rows.last() {
                    p { a id="older-members" href=(format!("{CUSTOMERS}?q={}&before={}", urlencode(&search), last.id)) { (tr(lang, "更多 →", "More →")) } }
                }
            }
        }
        p { a href=(HERE) { "← " (tr(lang, "零售", "Retail")) } }
    };
    let switch = format!("{CUSTOMERS}?lang={}", lang.other().param());
    super::shell::page(
        lang,
        &caller,
        CUSTOMERS,
        tr(lang, "我的会员", "My members"),
        Some(&switch),
        body,
    )
    .into_response()
}

/// `GET /agent/customers/{id}`: a member and its purchases.
pub async fn customer(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(id): Path<i64>,
    Query(q): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(q.get("lang").map(String::as_str), &headers);
    let (caller, actor, agent) = match agent_gate(&state, lang, caller).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let loaded = state
        .db
        .run(move |c| {
            let m = retail::member(c, actor, id)?;
            let sales = store::sales(c, agent, Some(id), None, 100)?;
            Ok((m, sales))
        })
        .await;
    let (m, sales) = match loaded {
        Ok(v) => v,
        Err(Error::NotFound { .. }) => {
            return w::error_page(lang, Error::not_found("customer"), CUSTOMERS);
        }
        Err(e) => return w::error_page(lang, e, CUSTOMERS),
    };
    let body = html! {
        div.card id="member" data-member=(m.id) {
            h2 { (m.name) }
            dl {
                dt { (tr(lang, "手机", "Phone")) } dd { a href=(format!("tel:{}", m.phone)) { (m.phone) } }
                dt { (tr(lang, "来源", "Came by")) } dd { (source_words(lang, m.source)) }
                dt { (tr(lang, "加入时间", "Member since")) } dd { (w::day(lang, m.created_at)) }
            }
        }
        div.card id="purchases" {
            h2 { (tr(lang, "购买记录", "Purchases")) }
            @if sales.is_empty() { p.muted { (tr(lang, "还没有购买记录。", "No purchases yet.")) } }
            @for s in &sales {
                a.orow href=(format!("{HERE}/sales/{}", s.id)) data-sale=(s.id)
                    style="display:block;border-top:1px solid #e7e5e4;padding:.5rem 0;color:inherit;text-decoration:none" {
                    strong { (crate::domain::retail::receipt_number(s.id, (s.sold_at + chrono::Duration::hours(8)).date())) }
                    " · " (s.item_count) " " (tr(lang, "件", "items")) " · " span.muted { (w::when(lang, s.sold_at)) }
                }
            }
        }
        p { a href=(CUSTOMERS) { "← " (tr(lang, "我的会员", "My members")) } }
    };
    let here = format!("{CUSTOMERS}/{id}");
    let switch = format!("{here}?lang={}", lang.other().param());
    super::shell::page(lang, &caller, &here, &m.name, Some(&switch), body).into_response()
}
