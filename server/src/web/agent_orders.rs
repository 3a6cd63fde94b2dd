//! The agent's orders on its phone (issue 17): the list in tabs (待付款 / 待发货 / 待收货 /
//! 已完成 / 售后) with search and pagination, the order page with its lines, legs, history,
//! courier and waybill, and each party's action there (accept, forward, reject, confirm payment,
//! ship by scanning, receive with one tap, cancel), and the ship page that takes a PDA scanner's
//! keyboard input: every scan posts the one form (each scan ends with Enter), so it works without
//! JavaScript.
//!
//! Orders render from one view model ([`OrderView`], built by [`view`]) so the lines of a
//! multi-line order can be swapped in without touching the markup.

use std::collections::BTreeMap;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::agent::agent_gate;
use super::agent_i18n::{self as w, tr};
use super::form_key::{self, FormTarget};
use super::i18n::Lang;
use super::staff::{self, with_cookies};
use super::verify::urlencode;
use crate::app::AppState;
use crate::auth::MaybeCaller;
use crate::domain::network::{OrderState, PaidVia, PartyKind};
use crate::error::{Error, Result};
use crate::network::tracking::{self, Track};
use crate::network::views::{self, OrderSummary};
use crate::network::{orders, payment, scan_ship, shipping};
use crate::store::DbConnection;
use crate::store::agent_pages::{self as pages_store, Tab, WaybillRow};
use crate::store::network::agents as agent_store;
use crate::store::network::orders::{self as order_store, EventRow, OrderRow};
use crate::store::users::now;

/// Orders per page of the list.
const PAGE: i64 = 20;

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    lang: Option<String>,
    tab: Option<String>,
    q: Option<String>,
    before: Option<i64>,
}

#[derive(Debug, Deserialize)]
pub struct OrderQuery {
    lang: Option<String>,
    notice: Option<String>,
    bad: Option<String>,
}

/// One line of an order: a product, how many, at what price.
#[derive(Debug, Clone)]
pub struct LineView {
    pub product: String,
    pub sku: String,
    pub quantity: i64,
    pub unit_price_cents: i64,
    pub amount_cents: i64,
    pub shipped: i64,
    pub returned: i64,
}

/// One leg of a forwarded order: who buys from whom, at what price, the margin in between.
#[derive(Debug, Clone)]
pub struct LegView {
    pub buyer: String,
    pub seller: String,
    /// The leg's seller is HQ (HQ finance confirms its payment).
    pub seller_hq: bool,
    /// The leg buyer's price per item when the order has one line (a cart's lines each have
    /// their own, shown on the lines).
    pub unit_price: Option<rust_decimal::Decimal>,
    pub amount_cents: i64,
    pub margin_cents: Option<i64>,
    pub mine: bool,
    pub position: i32,
    /// I am the leg's buyer: I pay its seller.
    pub i_pay: bool,
    /// I am the leg's seller: I confirm its buyer's payment.
    pub i_confirm: bool,
    /// When the seller confirmed the leg's offline payment.
    pub paid_at: Option<chrono::NaiveDateTime>,
}

/// What I am on an order.
#[derive(Debug, Clone, Copy, Default)]
pub struct Roles {
    pub buyer: bool,
    pub seller: bool,
    pub shipper: bool,
    /// A forwarding leg's seller between the seller and the shipper.
    pub forwarder: bool,
}

/// An order as the pages show it.
#[derive(Debug, Clone)]
pub struct OrderView {
    pub row: OrderRow,
    pub lines: Vec<LineView>,
    pub buyer: String,
    pub seller: String,
    pub shipper: Option<String>,
    pub legs: Vec<LegView>,
    pub events: Vec<EventRow>,
    pub waybill: Option<WaybillRow>,
    /// The shipment's track (物流轨迹).
    pub track: Track,
    pub me: Roles,
    /// The order was paid offline to an agent: each leg is paid offline up the chain and
    /// confirmed by its seller ([`payment::confirm_leg`]).
    pub legs_offline: bool,
    /// The legs' payments are due now (the order itself is paid).
    pub legs_due: bool,
}

impl OrderView {
    /// Legs whose payment I still have to confirm, now.
    fn legs_to_confirm(&self) -> impl Iterator<Item = &LegView> {
        self.legs.iter().filter(|l| {
            l.position > 0
                && self.legs_offline
                && self.legs_due
                && l.i_confirm
                && l.paid_at.is_none()
        })
    }

    /// Legs I still have to pay (now or once the order is paid).
    fn legs_to_pay(&self) -> impl Iterator<Item = &LegView> {
        self.legs.iter().filter(|l| {
            l.position > 0
                && l.i_pay
                && l.paid_at.is_none()
                && (self.legs_offline || !self.legs_due)
        })
    }
}

fn party_name(
    c: &mut DbConnection,
    lang: Lang,
    kind: PartyKind,
    id: Option<i64>,
) -> Result<String> {
    Ok(match (kind, id) {
        (PartyKind::Agent, Some(a)) => agent_store::get(c, a)?.name,
        _ => tr(lang, "品牌总部", "Brand HQ").to_string(),
    })
}

/// An order's lines for the page, names in the page's language.
fn lines_of(lang: Lang, o: &OrderSummary) -> Vec<LineView> {
    o.lines
        .iter()
        .map(|l| LineView {
            product: line_name(lang, l),
            sku: l.sku.clone(),
            quantity: l.quantity,
            unit_price_cents: cents(l.unit_price),
            amount_cents: cents(l.goods_amount),
            shipped: l.shipped_quantity,
            returned: l.returned_quantity,
        })
        .collect()
}

fn line_name(lang: Lang, l: &views::LineView) -> String {
    match (lang, &l.product_name_en) {
        (Lang::En, Some(en)) if !en.is_empty() => en.clone(),
        _ => l.product_name.clone(),
    }
}

/// Two-decimal money as cents (the view model holds `Decimal`s of two places).
fn cents(d: rust_decimal::Decimal) -> i64 {
    use rust_decimal::prelude::ToPrimitive;
    (d * rust_decimal::Decimal::ONE_HUNDRED)
        .round()
        .to_i64()
        .unwrap_or(0)
}

/// The view of order `id` for agent `me`; refused when `me` is no party of it.
pub fn view(c: &mut DbConnection, lang: Lang, id: i64, me: i64) -> Result<OrderView> {
    let v = view_of(c, lang, id, Some(me))?;
    if !(v.me.buyer || v.me.seller || v.me.shipper || v.me.forwarder) {
        return Err(Error::not_found("order"));
    }
    Ok(v)
}

/// The view of order `id` as agent `me` is party to it, or as HQ sees it (`None`: no roles,
/// every order; HQ's pages ask HQ's own questions of it).
pub fn view_of(c: &mut DbConnection, lang: Lang, id: i64, me: Option<i64>) -> Result<OrderView> {
    let row = order_store::get(c, id)?;
    let legs = order_store::legs_of(c, &[id])?;
    let is_me = |kind: Option<PartyKind>, id: Option<i64>| {
        me.is_some() && kind == Some(PartyKind::Agent) && id == me
    };
    let roles = Roles {
        buyer: me == Some(row.buyer_id),
        seller: is_me(Some(row.seller_kind), row.seller_id),
        shipper: is_me(row.shipper_kind, row.shipper_id),
        forwarder: legs.iter().any(|l| is_me(Some(l.seller_kind), l.seller_id)),
    };
    let summary = views::summary_of(c, row.clone())?;
    let mut leg_views = Vec::new();
    for l in &legs {
        let unit_price = match summary.lines.as_slice() {
            [one] => one
                .leg_prices
                .get(usize::try_from(l.position).unwrap_or(usize::MAX))
                .copied(),
            _ => None,
        };
        leg_views.push(LegView {
            buyer: agent_store::get(c, l.buyer_id)?.name,
            seller: party_name(c, lang, l.seller_kind, l.seller_id)?,
            seller_hq: l.seller_kind == PartyKind::Hq,
            unit_price,
            amount_cents: l.goods_amount_cents,
            margin_cents: l.margin_cents,
            mine: me == Some(l.buyer_id) || is_me(Some(l.seller_kind), l.seller_id),
            position: l.position,
            i_pay: me == Some(l.buyer_id),
            i_confirm: is_me(Some(l.seller_kind), l.seller_id),
            // Leg 0 is the order itself, paid with it.
            paid_at: if l.position == 0 {
                row.paid_at
            } else {
                summary.leg_paid_at(l.position)
            },
        });
    }
    let legs_offline =
        row.paid_via == Some(PaidVia::Offline) && row.seller_kind == PartyKind::Agent;
    let legs_due = pages_store::LEGS_DUE_IN.contains(&row.state);
    Ok(OrderView {
        lines: lines_of(lang, &summary),
        buyer: agent_store::get(c, row.buyer_id)?.name,
        seller: party_name(c, lang, row.seller_kind, row.seller_id)?,
        shipper: match row.shipper_kind {
            Some(k) => Some(party_name(c, lang, k, row.shipper_id)?),
            None => None,
        },
        legs: leg_views,
        events: order_store::events(c, id)?,
        waybill: pages_store::waybill(c, id)?,
        track: tracking::load(c, id)?,
        me: roles,
        legs_offline,
        legs_due,
        row,
    })
}

/// A compact row of a list, linking to the order's page: its products, items and amount.
pub fn order_row(lang: Lang, s: &OrderSummary, who: &str) -> Markup {
    let o = &s.order;
    let products: Vec<String> = s.lines.iter().map(|l| line_name(lang, l)).collect();
    html! {
        a.orow href=(format!("/agent/orders/{}", o.id)) data-order=(o.id) data-state=(o.state)
            style="display:block;border-top:1px solid #e7e5e4;padding:.5rem 0;color:inherit;text-decoration:none" {
            strong { "#" (o.id) } " · " (w::order_kind(lang, o.kind)) " · " (products.join(tr(lang, "、", ", "))) br;
            @match s.lines.as_slice() {
                [one] => { (one.quantity) " " (tr(lang, "盒", "items")) " × ¥" (one.unit_price) " = " }
                _ => { (o.quantity) " " (tr(lang, "盒", "items")) " = " }
            }
            strong { (w::yuan(o.goods_amount_cents)) }
            br;
            span.muted { (who) " · " (w::day(lang, o.created_at)) " · " }
            span.state { (w::order_state(lang, o.state)) }
        }
    }
}

/// `GET /agent/orders`.
pub async fn list(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Query(q): Query<ListQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(q.lang.as_deref(), &headers);
    let (caller, _, agent) = match agent_gate(&state, lang, caller).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let tab = Tab::parse(q.tab.as_deref());
    let search = q.q.clone().unwrap_or_default();
    let before = q.before.unwrap_or(0).max(0);
    let s2 = search.clone();
    let loaded = state
        .db
        .run(move |c| {
            let mut rows = pages_store::orders_of(c, agent, tab, &s2, before, PAGE + 1)?;
            let more = rows.len() > usize::try_from(PAGE).unwrap_or(20);
            rows.truncate(usize::try_from(PAGE).unwrap_or(20));
            let mut who = BTreeMap::new();
            for o in &rows {
                let label = if o.buyer_id == agent {
                    format!(
                        "{} {}",
                        tr(lang, "向", "from"),
                        party_name(c, lang, o.seller_kind, o.seller_id)?
                    )
                } else {
                    format!(
                        "{} {}",
                        tr(lang, "买家", "buyer"),
                        agent_store::get(c, o.buyer_id)?.name
                    )
                };
                who.insert(o.id, label);
            }
            let rows = views::summaries(c, rows)?;
            Ok((rows, more, who))
        })
        .await;
    let (rows, more, who) = match loaded {
        Ok(v) => v,
        Err(e) => return w::error_page(lang, e, "/agent"),
    };
    let tab_label = |t: Tab| match t {
        Tab::All => tr(lang, "全部", "All"),
        Tab::ToPay => tr(lang, "待付款", "To pay"),
        Tab::ToShip => tr(lang, "待发货", "To ship"),
        Tab::ToReceive => tr(lang, "待收货", "To receive"),
        Tab::Done => tr(lang, "已完成", "Done"),
        Tab::AfterSale => tr(lang, "售后", "After-sale"),
    };
    let qs = |t: Tab, before: Option<i64>| {
        let mut s = format!("/agent/orders?tab={}", t.param());
        if !search.is_empty() {
            s.push_str(&format!("&q={}", urlencode(&search)));
        }
        if let Some(b) = before {
            s.push_str(&format!("&before={b}"));
        }
        s
    };
    let body = html! {
        nav.tabs id="tabs" style="display:flex;flex-wrap:wrap;gap:.3rem .8rem;margin:.5rem 0" {
            @for t in Tab::ALL {
                @if t == tab { a href=(qs(t, None)) aria-current="page" style="font-weight:700" { (tab_label(t)) } }
                @else { a href=(qs(t, None)) { (tab_label(t)) } }
            }
        }
        form.card method="get" action="/agent/orders" id="search" {
            input type="hidden" name="tab" value=(tab.param());
            label for="q" { (tr(lang, "搜索订单号、买家或产品", "Search by order number, buyer or product")) }
            input type="text" id="q" name="q" value=(search);
            button type="submit" { (tr(lang, "搜索", "Search")) }
        }
        div.card id="orders" {
            @if rows.is_empty() { p.muted { (tr(lang, "没有订单", "No orders")) } }
            @for o in &rows { (order_row(lang, o, who.get(&o.order.id).map_or("", String::as_str))) }
            @if more {
                @if let Some(last) = rows.last() {
                    p { a id="next-page" href=(qs(tab, Some(last.order.id))) { (tr(lang, "下一页 →", "Next page →")) } }
                }
            }
            @if before > 0 { p { a href=(qs(tab, None)) { (tr(lang, "← 回到第一页", "← First page")) } } }
        }
    };
    let here = format!("/agent/orders?tab={}", tab.param());
    let switch = format!("{here}&lang={}", lang.other().param());
    let response = super::shell::page(
        lang,
        &caller,
        &here,
        tr(lang, "我的订单", "My orders"),
        Some(&switch),
        body,
    )
    .into_response();
    with_cookies(response, [staff::lang_cookie(lang, q.lang.is_some())])
}

/// `GET /agent/orders/{id}`.
pub async fn show(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(id): Path<i64>,
    Query(q): Query<OrderQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(q.lang.as_deref(), &headers);
    let (caller, _, agent) = match agent_gate(&state, lang, caller).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let v = match state.db.run(move |c| view(c, lang, id, agent)).await {
        Ok(v) => v,
        Err(e) => return w::error_page(lang, e, "/agent/orders"),
    };
    let csrf = caller.csrf().to_string();
    let o = &v.row;
    let body = html! {
        (notice(&q.notice, q.bad.is_some()))
        div.card id="order" data-order=(o.id) data-state=(o.state) {
            p { strong { "#" (o.id) " · " (w::order_kind(lang, o.kind)) } }
            p.state id="order-state" { strong { (w::order_state(lang, o.state)) } }
            dl {
                dt { (tr(lang, "买家", "Buyer")) } dd { (v.buyer) }
                dt { (tr(lang, "卖家", "Seller")) } dd { (v.seller) }
                @if let Some(s) = &v.shipper { dt { (tr(lang, "发货方", "Ships")) } dd id="shipper" { (s) } }
                dt { (tr(lang, "下单时间", "Placed")) } dd { (w::when(lang, o.created_at)) }
                @if let Some(t) = o.paid_at { dt { (tr(lang, "付款时间", "Paid")) } dd { (w::when(lang, t)) } }
                @if let Some(t) = o.shipped_at { dt { (tr(lang, "发货时间", "Shipped")) } dd { (w::when(lang, t)) } }
                @if let Some(t) = o.received_at { dt { (tr(lang, "收货时间", "Received")) } dd { (w::when(lang, t)) } }
                @if let Some(wb) = &v.waybill {
                    dt { (tr(lang, "快递", "Courier")) } dd id="waybill" { (wb.carrier) " " (wb.waybill) }
                }
            }
        }
        div.card id="lines" {
            h2 { (tr(lang, "商品", "Goods")) }
            @for l in &v.lines {
                p data-sku=(l.sku) {
                    (l.product) br;
                    (l.quantity) " " (tr(lang, "盒", "items")) " × " (w::yuan(l.unit_price_cents)) " = " strong { (w::yuan(l.amount_cents)) }
                    br; span.muted { (tr(lang, "已发", "Shipped")) " " (l.shipped) " / " (l.quantity) }
                }
            }
        }
        (actions(lang, &csrf, &v))
        (super::tracking::timeline(lang, &v.track))
        @if v.me.shipper && tracking::ON_ITS_WAY.contains(&o.state) {
            (super::tracking::event_form(lang, &csrf, &format!("/agent/orders/{}/track", o.id), now()))
        }
        @if !v.legs.is_empty() {
            div.card id="legs" {
                h2 { (tr(lang, "代发链路", "Forwarding chain")) }
                p.muted { (tr(lang, "由发货方直接发给买家，中间每一级赚取差价。", "The shipper sends straight to the buyer; each agent in between earns its margin.")) }
                @for l in &v.legs {
                    p style=(if l.mine { "font-weight:600" } else { "" }) {
                        (l.buyer) " ← " (l.seller) " · "
                        @if let Some(price) = l.unit_price { "¥" (price) " / " (tr(lang, "盒", "item")) " = " }
                        (w::yuan(l.amount_cents))
                        @if let Some(m) = l.margin_cents { " · " (tr(lang, "差价", "margin")) " " (w::yuan(m)) }
                        br;
                        span.muted data-leg-paid=(l.position) {
                            @if let Some(at) = l.paid_at { (tr(lang, "货款已确认", "Payment confirmed")) " " (w::when(lang, at)) }
                            @else if v.legs_due && !v.legs_offline { (tr(lang, "货款由平台结算", "Settled by the platform")) }
                            @else if v.legs_due { (tr(lang, "待付款", "Payment due")) }
                            @else { (tr(lang, "买家付款后逐级付款", "Paid up the chain after the buyer pays")) }
                        }
                    }
                }
            }
        }
        div.card id="history" {
            h2 { (tr(lang, "订单记录", "History")) }
            ol {
                @for e in &v.events {
                    li { (w::when(lang, e.at)) " · " (w::order_state(lang, e.to_state)) }
                }
            }
        }
        p { a href="/agent/orders" { "← " (tr(lang, "全部订单", "All orders")) } }
    };
    let here = format!("/agent/orders/{id}");
    let switch = format!("{here}?lang={}", lang.other().param());
    let title = format!("{} #{id}", tr(lang, "订单", "Order"));
    let response =
        super::shell::page(lang, &caller, &here, &title, Some(&switch), body).into_response();
    with_cookies(response, [staff::lang_cookie(lang, q.lang.is_some())])
}

fn notice(n: &Option<String>, bad: bool) -> Markup {
    html! {
        @if let Some(n) = n {
            @if bad { div.card.verdict.bad id="notice" data-ok="false" { (n) } }
            @else { div.card.verdict.ok id="notice" data-ok="true" { (n) } }
        }
    }
}

fn button_form(csrf: &str, id: i64, action: &str, label: &str, extra: Markup) -> Markup {
    html! {
        form method="post" action=(format!("/agent/orders/{id}/{action}")) id=(format!("do-{action}")) {
            input type="hidden" name="csrf" value=(csrf);
            (form_key::field())
            (extra)
            button type="submit" { (label) }
        }
    }
}

/// The form that confirms a forwarding leg's payment (`leg` names its position).
fn leg_form(csrf: &str, id: i64, position: i32, label: &str) -> Markup {
    html! {
        form method="post" action=(format!("/agent/orders/{id}/leg-paid")) id=(format!("do-leg-paid-{position}")) {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="leg" value=(position);
            (form_key::field())
            button type="submit" { (label) }
        }
    }
}

/// What I can do on this order now, as the party I am.
fn actions(lang: Lang, csrf: &str, v: &OrderView) -> Markup {
    let o = &v.row;
    let id = o.id;
    let s = o.state.as_str();
    let open = matches!(s, "submitted" | "accepted" | "forwarded");
    let nothing = !((v.me.seller && open)
        || (v.me.buyer && (open || s == "shipped"))
        || (v.me.shipper && matches!(s, "paid" | "shipping"))
        || (v.me.forwarder && !v.me.seller && !v.me.shipper)
        || v.legs_to_confirm().next().is_some()
        || v.legs_to_pay().next().is_some());
    html! {
        div.card id="actions" {
            h2 { (tr(lang, "我要做的", "What I do")) }
            @if v.me.seller && s == "submitted" {
                p { (tr(lang, "有库存就接单并亲自发货；没有库存就一键提交上级代发，由有货的上级直接发给买家，您赚差价。",
                        "With the stock, accept and ship it yourself; without, forward it up the chain: whoever holds the stock ships straight to the buyer and you earn the margin.")) }
                (button_form(csrf, id, "accept", tr(lang, "接单（我来发货）", "Accept (I ship)"), html! {}))
                (button_form(csrf, id, "forward", tr(lang, "提交上级代发", "Forward up the chain"), html! {}))
                details { summary { (tr(lang, "拒绝此单", "Reject this order")) }
                    (button_form(csrf, id, "reject", tr(lang, "拒绝", "Reject"), html! {
                        label { (tr(lang, "原因", "Reason")) input type="text" name="reason" required maxlength="500"; }
                    }))
                }
            }
            @if v.me.seller && matches!(s, "accepted" | "forwarded") {
                p { (tr(lang, "买家向您转账后，确认收款：", "When the buyer's transfer arrives, confirm it:")) " " strong { (w::yuan(o.goods_amount_cents)) } }
                (button_form(csrf, id, "pay", tr(lang, "确认已收款", "Confirm payment received"), html! {}))
            }
            @if v.me.buyer && matches!(s, "submitted" | "accepted" | "forwarded") {
                p id="to-pay" { (tr(lang, "请向", "Pay")) " " strong { (v.seller) } " " (tr(lang, "转账", "by transfer:")) " " strong { (w::yuan(o.goods_amount_cents)) }
                    (tr(lang, "，对方确认收款后发货。", "; it ships once the payment is confirmed.")) }
                details { summary { (tr(lang, "取消此单", "Cancel this order")) }
                    (button_form(csrf, id, "cancel", tr(lang, "取消订单", "Cancel the order"), html! {
                        label { (tr(lang, "原因", "Reason")) input type="text" name="reason" required maxlength="500"; }
                    }))
                }
            }
            @if v.me.forwarder && !v.me.seller && !v.me.shipper {
                @if v.legs_offline || !v.legs_due {
                    p id="my-leg" { (tr(lang, "此单经您转给上级代发：发货方直接发给买家。收到下级的货款后，按您的进货价付给上级，差价归您。",
                        "This order passed through you: the shipper sends straight to the buyer. Once the agent below pays you, pay the one above at your own price; the margin is yours.")) }
                } @else {
                    p id="my-leg" { (tr(lang, "此单经您转给上级代发：发货方直接发给买家，您的差价在买家付款后记入冻结收益，订单完成后可提现。",
                        "This order passed through you: the shipper sends straight to the buyer; your margin is booked as frozen earnings when the buyer pays, withdrawable once the order completes.")) }
                }
            }
            @for l in v.legs_to_confirm() {
                p { (tr(lang, "代发货款：", "Forwarding payment: ")) strong { (l.buyer) } " " (tr(lang, "应付您", "owes you")) " " strong { (w::yuan(l.amount_cents)) } }
                (leg_form(csrf, id, l.position, &format!("{}{}{}", tr(lang, "确认收到", "Confirm payment from "), l.buyer, tr(lang, "的货款", ""))))
            }
            @for l in v.legs_to_pay() {
                p id=(format!("to-pay-up-{}", l.position)) {
                    @if v.legs_due { (tr(lang, "请向", "Pay")) } @else { (tr(lang, "买家付款后，请向", "Once the buyer pays you, pay")) }
                    " " strong { (l.seller) } " " (tr(lang, "转账代发货款", "the forwarding payment by transfer:")) " " strong { (w::yuan(l.amount_cents)) }
                    (tr(lang, "，对方确认收款。", "; it confirms receipt.")) }
            }
            @if v.me.shipper && matches!(s, "paid" | "shipping") {
                p { a href=(format!("/agent/orders/{id}/ship")) id="go-ship" style="font-size:1.1rem;font-weight:700" { (tr(lang, "扫码发货 →", "Ship by scanning →")) } }
            }
            @if v.me.buyer && s == "shipped" {
                (button_form(csrf, id, "receive", tr(lang, "确认收货", "Confirm receipt"), html! {}))
            }
            @if nothing {
                p.muted { (tr(lang, "现在没有需要您处理的。", "Nothing for you to do now.")) }
            }
        }
    }
}

/// `GET /agent/orders/{id}/ship`: the scanning page.
pub async fn ship_page(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(id): Path<i64>,
    Query(q): Query<OrderQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(q.lang.as_deref(), &headers);
    let (caller, _, agent) = match agent_gate(&state, lang, caller).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let v = match state.db.run(move |c| view(c, lang, id, agent)).await {
        Ok(v) => v,
        Err(e) => return w::error_page(lang, e, "/agent/orders"),
    };
    let csrf = caller.csrf().to_string();
    let o = &v.row;
    let carriers = [
        "顺丰速运",
        "中通快递",
        "圆通速递",
        "韵达快递",
        "申通快递",
        "京东物流",
        "EMS",
        "极兔速递",
    ];
    let body = html! {
        (notice(&q.notice, q.bad.is_some()))
        div.card id="progress" {
            p { "#" (o.id) " · " (tr(lang, "发给", "to")) " " strong { (v.buyer) } }
            @let shipped: i64 = v.lines.iter().map(|l| l.shipped).sum();
            @let ordered: i64 = v.lines.iter().map(|l| l.quantity).sum();
            p { (tr(lang, "已扫", "Scanned")) ": " strong id="count" data-shipped=(shipped) data-ordered=(ordered) { (shipped) " / " (ordered) } " " (tr(lang, "盒", "items")) }
            @if v.lines.len() > 1 {
                @for l in &v.lines {
                    p data-sku=(l.sku) { (l.product) ": " strong.count data-shipped=(l.shipped) data-ordered=(l.quantity) { (l.shipped) " / " (l.quantity) } " " (tr(lang, "盒", "items")) }
                }
            }
            p.state { (w::order_state(lang, o.state)) }
        }
        @for l in v.legs_to_confirm() {
            div.card.verdict.warn id="leg-unpaid" {
                p { strong { (l.buyer) } " " (tr(lang, "尚未付您代发货款", "has not paid you the forwarding payment yet:")) " " strong { (w::yuan(l.amount_cents)) } }
                (leg_form(&csrf, id, l.position, &format!("{}{}{}", tr(lang, "确认收到", "Confirm payment from "), l.buyer, tr(lang, "的货款", ""))))
            }
        }
        @if v.me.shipper && matches!(o.state, OrderState::Paid | OrderState::Shipping) {
            form.card method="post" action=(format!("/agent/orders/{id}/ship")) id="scan" {
                input type="hidden" name="csrf" value=(csrf);
                (form_key::field())
                label for="code" { (tr(lang, "扫描或输入箱码、产品码（每扫一次自动提交）", "Scan or type a case or item code (each scan submits)")) }
                input type="text" id="code" name="code" autofocus autocomplete="off" autocapitalize="characters" enterkeyhint="send" required;
                button type="submit" { (tr(lang, "发出此码", "Ship this code")) }
            }
        }
        @if v.me.shipper {
            form.card method="post" action=(format!("/agent/orders/{id}/waybill")) id="waybill-form" {
                input type="hidden" name="csrf" value=(csrf);
                (form_key::field())
                label for="carrier" { (tr(lang, "快递公司", "Courier company")) }
                input type="text" id="carrier" name="carrier" list="carriers" required maxlength="40"
                    value=(v.waybill.as_ref().map_or("", |w| w.carrier.as_str()));
                datalist id="carriers" { @for c in carriers { option value=(c) {} } }
                label for="waybill" { (tr(lang, "快递单号", "Waybill number")) }
                input type="text" id="waybill" name="waybill" required maxlength="40" inputmode="latin"
                    value=(v.waybill.as_ref().map_or("", |w| w.waybill.as_str()));
                button type="submit" { (tr(lang, "保存快递单号", "Save the waybill")) }
            }
        }
        p { a href=(format!("/agent/orders/{id}")) { "← " (tr(lang, "订单详情", "Order details")) } }
    };
    let here = format!("/agent/orders/{id}/ship");
    let switch = format!("{here}?lang={}", lang.other().param());
    let title = format!("{} #{id}", tr(lang, "扫码发货", "Ship"));
    super::shell::page(lang, &caller, &here, &title, Some(&switch), body).into_response()
}

/// `POST /agent/orders/{id}/{action}`: accept, forward, reject, pay (confirm the transfer),
/// receive, cancel, waybill, track (a tracking event).
pub async fn action(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path((id, action)): Path<(i64, String)>,
    target: FormTarget,
    headers: HeaderMap,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let back = if action == "waybill" {
        format!("/agent/orders/{id}/ship")
    } else {
        format!("/agent/orders/{id}")
    };
    super::agent::act_on(
        state,
        caller,
        target,
        headers,
        form,
        back,
        move |c, actor, _, lang, f| {
            let reason = f.get("reason").map_or("", String::as_str);
            let row = match action.as_str() {
                "accept" => orders::accept(c, id, actor)?,
                "forward" => orders::forward(c, id, actor)?,
                "reject" => orders::reject(c, id, actor, reason)?,
                "pay" => payment::pay(c, id, PaidVia::Offline, actor)?,
                "receive" => shipping::receive(c, id, actor, false)?,
                "cancel" => orders::cancel(c, id, actor, reason)?,
                "leg-paid" => {
                    let leg = f
                        .get("leg")
                        .and_then(|l| l.trim().parse::<i32>().ok())
                        .ok_or_else(|| Error::not_found("forwarding leg"))?;
                    payment::confirm_leg(c, id, leg, actor)?;
                    return Ok((
                        tr(lang, "已确认收到货款", "Payment confirmed").to_string(),
                        true,
                    ));
                }
                "track" => {
                    tracking::add_event(c, id, actor, super::tracking::from_form(lang, f)?)?;
                    return Ok((
                        tr(lang, "物流信息已添加", "Tracking event added").to_string(),
                        true,
                    ));
                }
                "waybill" => {
                    scan_ship::set_waybill(
                        c,
                        id,
                        actor,
                        f.get("carrier").map_or("", String::as_str),
                        f.get("waybill").map_or("", String::as_str),
                    )?;
                    return Ok((
                        tr(lang, "快递单号已保存", "Waybill saved").to_string(),
                        true,
                    ));
                }
                _ => return Err(Error::not_found("action")),
            };
            Ok((
                format!("#{} {}", row.id, w::order_state(lang, row.state)),
                true,
            ))
        },
    )
    .await
}

/// `POST /agent/orders/{id}/ship`: one scan.
pub async fn scan(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(id): Path<i64>,
    target: FormTarget,
    headers: HeaderMap,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let back = format!("/agent/orders/{id}/ship");
    super::agent::act_on(
        state,
        caller,
        target,
        headers,
        form,
        back,
        move |c, actor, _, lang, f| {
            let code = f.get("code").map_or("", String::as_str).trim().to_string();
            let out = scan_ship::ship_scanned(c, id, actor, &code)?;
            // The code as read (a label URL shortened to its serial), so the notice fits a phone.
            let code = scan_ship::code_for_notice(&code);
            Ok(match out.refused {
                Some(reason) => (format!("{code}: {}", w::scan_reason(lang, reason)), false),
                None => {
                    let what = match &out.case {
                        Some(_) => format!(
                            "{} {} {}",
                            tr(lang, "整箱", "case of"),
                            out.items,
                            tr(lang, "盒", "items")
                        ),
                        None => format!("1 {}", tr(lang, "盒", "item")),
                    };
                    let done = if out.state == OrderState::Shipped {
                        tr(lang, "，已全部发出", "; the order is fully shipped")
                    } else {
                        ""
                    };
                    (
                        format!("{code}: {} {what}{done}", tr(lang, "已发出", "shipped")),
                        true,
                    )
                }
            })
        },
    )
    .await
}
