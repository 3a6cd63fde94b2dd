//! HQ's orders desk (issue 18): `/hq/orders` lists every restock order of the network in tabs by
//! state, with search (order number, buyer, product), a range of placing dates and pages;
//! `/hq/orders.csv` exports the same filters; `/hq/orders/{id}` shows one order — parties, lines,
//! forwarding legs with their payments, waybill, money as stored, history — with the actions HQ
//! may take on it now. Every action runs the network's use case, which checks the role itself;
//! the page only offers what the same question would let through ([`Offer`]).

use std::collections::{BTreeMap, HashMap};

use axum::Form;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, NaiveDateTime};
use maud::{Markup, html};

use super::agent_i18n as w;
use super::agent_orders::{self, OrderView};
use super::form_key::{self, FormTarget};
use super::hq_desk::{self, PER_PAGE, param};
use super::hq_i18n::{self as words, tr, yuan};
use super::i18n::Lang;
use super::staff;
use crate::app::AppState;
use crate::auth::MaybeCaller;
use crate::domain::network::{OrderKind, OrderState, PaidVia, Party, PartyKind};
use crate::domain::{Permission, Role};
use crate::error::{Error, Result};
use crate::network::orders::HQ_ANSWER;
use crate::network::refunds::{self, RefundInput};
use crate::network::shipping::HQ_SHIPPERS;
use crate::network::views::{self, OrderSummary};
use crate::network::{Actor, HQ_MONEY, orders, payment, scan_ship, tracking};
use crate::store::DbConnection;
use crate::store::desk;
use crate::store::desk_orders::{self, OrderFilter, OrderTab};
use crate::store::network::agents as agent_store;
use crate::store::network::money;
use crate::store::network::orders::EventRow;
use crate::store::users::now;

pub const HERE: &str = "/hq/orders";
/// Every HQ role that may see the network's orders (the API's `GET /api/v1/orders?view=all`).
const NEEDS: Permission = Permission::ReadOrders;
/// Orders per query of the CSV export.
const CSV_CHUNK: i64 = 1_000;

/// The tab's words.
fn tab_words(lang: Lang, t: OrderTab) -> &'static str {
    match t {
        OrderTab::All => tr(lang, "全部", "All"),
        OrderTab::ToAnswer => tr(lang, "待接单", "To answer"),
        OrderTab::ToPay => tr(lang, "待付款", "Awaiting payment"),
        OrderTab::ToShip => tr(lang, "待发货", "To ship"),
        OrderTab::Shipped => tr(lang, "已发货", "Shipped"),
        OrderTab::Done => tr(lang, "已收货/完成", "Received / done"),
        OrderTab::AfterSale => tr(lang, "售后/退款", "After-sale / refunds"),
        OrderTab::Closed => tr(lang, "已拒绝/取消", "Rejected / cancelled"),
    }
}

/// The UTC instant a calendar day starts, in the calendar the page shows times in (China's on
/// Chinese pages, UTC on English ones, as [`w::when`]), so a filtered day is the day one reads.
fn day_start(lang: Lang, day: NaiveDate) -> NaiveDateTime {
    let start = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    match lang {
        Lang::Zh => start - chrono::Duration::hours(8),
        Lang::En => start,
    }
}

fn date_param(q: &BTreeMap<String, String>, name: &str) -> Option<NaiveDate> {
    param(q, name).and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
}

fn filter_of(lang: Lang, q: &BTreeMap<String, String>) -> OrderFilter {
    OrderFilter {
        tab: OrderTab::parse(param(q, "tab")),
        text: param(q, "q").map(str::to_string),
        from: date_param(q, "from").map(|d| day_start(lang, d)),
        // "To" names the last day shown: up to the start of the day after.
        until: date_param(q, "to")
            .and_then(|d| d.succ_opt())
            .map(|d| day_start(lang, d)),
    }
}

/// An order of a list with its lines and its parties' names.
struct Listed {
    summary: OrderSummary,
    buyer: String,
    seller: String,
}

fn seller_name(
    lang: Lang,
    names: &HashMap<i64, String>,
    kind: PartyKind,
    id: Option<i64>,
) -> String {
    match (kind, id) {
        (PartyKind::Agent, Some(a)) => names.get(&a).cloned().unwrap_or_default(),
        _ => tr(lang, "总部", "HQ").to_string(),
    }
}

/// A page of orders: the list's one query, then lines and names for all of them at once.
fn load(
    c: &mut DbConnection,
    lang: Lang,
    f: &OrderFilter,
    before: i64,
    offset: i64,
    limit: i64,
) -> Result<(Vec<Listed>, bool)> {
    let page = desk_orders::orders(c, f, before, offset, limit)?;
    let mut ids: Vec<i64> = page
        .rows
        .iter()
        .flat_map(|o| [Some(o.buyer_id), o.seller_id])
        .flatten()
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let names = desk::agent_names(c, &ids)?;
    let rows = views::summaries(c, page.rows)?
        .into_iter()
        .map(|s| Listed {
            buyer: names.get(&s.order.buyer_id).cloned().unwrap_or_default(),
            seller: seller_name(lang, &names, s.order.seller_kind, s.order.seller_id),
            summary: s,
        })
        .collect();
    Ok((rows, page.more))
}

fn product_words(lang: Lang, l: &views::LineView) -> String {
    match (lang, &l.product_name_en) {
        (Lang::En, Some(en)) if !en.is_empty() => en.clone(),
        _ => l.product_name.clone(),
    }
}

/// The query pairs a list keeps across tabs, pages and the export.
fn kept(q: &BTreeMap<String, String>) -> Vec<(&'static str, &str)> {
    ["tab", "q", "from", "to"]
        .into_iter()
        .filter_map(|k| param(q, k).map(|v| (k, v)))
        .collect()
}

/// `GET /hq/orders`.
pub async fn list(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Query(q): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(q.get("lang").map(String::as_str), &headers);
    let (caller, _) = match hq_desk::gate(&state, lang, caller, HERE, NEEDS).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let filter = filter_of(lang, &q);
    let page = hq_desk::page_number(&q);
    let f2 = filter.clone();
    let loaded = state
        .db
        .run(move |c| load(c, lang, &f2, 0, hq_desk::offset(page), PER_PAGE))
        .await;
    let (rows, more) = match loaded {
        Ok(v) => v,
        Err(e) => return staff::error_page(lang, e),
    };
    let keep = kept(&q);
    let others: Vec<(&str, &str)> = keep.iter().filter(|(k, _)| *k != "tab").copied().collect();
    let tabs: Vec<(&str, &str)> = OrderTab::ALL
        .iter()
        .map(|t| (t.param(), tab_words(lang, *t)))
        .collect();
    let v = |k: &str| param(&q, k).unwrap_or("").to_string();
    let mut csv_pairs = keep.clone();
    csv_pairs.push(("lang", lang.param()));
    let body = html! {
        div.card id="orders" {
            (hq_desk::tabs(HERE, "tab", filter.tab.param(), &tabs, &others))
            form method="get" action=(HERE) id="order-filters" {
                input type="hidden" name="tab" value=(filter.tab.param());
                input type="search" name="q" id="q" value=(v("q"))
                    placeholder=(tr(lang, "订单号、代理姓名、产品名称或 SKU", "Order number, agent name, product or SKU"))
                    aria-label=(tr(lang, "搜索", "Search")) style="width:22rem";
                " "
                label { (tr(lang, "下单日期从", "Placed from")) " " input type="date" name="from" id="from" value=(v("from")); }
                " "
                label { (tr(lang, "到", "to")) " " input type="date" name="to" id="to" value=(v("to")); }
                " "
                button type="submit" id="search" { (tr(lang, "搜索", "Search")) }
            }
            @if rows.is_empty() {
                p.muted id="no-orders" { (tr(lang, "没有符合条件的订单。", "No orders match.")) }
            } @else {
                table {
                    thead { tr {
                        th { (tr(lang, "订单号", "No.")) } th { (tr(lang, "类型", "Kind")) }
                        th { (tr(lang, "买家", "Buyer")) } th { (tr(lang, "卖家", "Seller")) }
                        th { (tr(lang, "商品 × 数量", "Products × qty")) } th.num { (tr(lang, "金额", "Amount")) }
                        th { (tr(lang, "状态", "State")) } th { (tr(lang, "下单时间", "Placed")) }
                    } }
                    tbody {
                        @for r in &rows {
                            @let o = &r.summary.order;
                            tr data-order=(o.id) {
                                td { a href=(format!("{HERE}/{}", o.id)) { "#" (o.id) } }
                                td { (w::order_kind(lang, o.kind)) }
                                td { (r.buyer) }
                                td { (r.seller) }
                                td.wrap {
                                    @for (i, l) in r.summary.lines.iter().enumerate() {
                                        @if i > 0 { br; }
                                        (product_words(lang, l)) " × " (l.quantity)
                                    }
                                }
                                td.num { (yuan(o.goods_amount_cents)) }
                                td {
                                    (words::order_state(lang, o.state))
                                    @if o.open_case { " · " (tr(lang, "售后处理中", "after-sale case open")) }
                                }
                                td { (w::when(lang, o.created_at)) }
                            }
                        }
                    }
                }
            }
            (hq_desk::pager(lang, HERE, &keep, page, more))
            p { a href=(hq_desk::href(&format!("{HERE}.csv"), &csv_pairs)) id="orders-csv" download {
                (tr(lang, "导出 CSV（当前筛选）", "Export CSV (these filters)")) } }
        }
    };
    let mut switch_pairs = keep.clone();
    switch_pairs.push(("lang", lang.other().param()));
    hq_desk::respond(
        lang,
        &caller,
        HERE,
        tr(lang, "订单", "Orders"),
        &hq_desk::href(HERE, &switch_pairs),
        q.contains_key("lang"),
        body,
    )
}

/// The CSV's header, in the page's language.
fn csv_header(lang: Lang) -> [&'static str; 10] {
    [
        tr(lang, "订单号", "Order"),
        tr(lang, "类型", "Kind"),
        tr(lang, "买家", "Buyer"),
        tr(lang, "卖家", "Seller"),
        tr(lang, "商品", "Products"),
        tr(lang, "数量", "Items"),
        tr(lang, "金额（元）", "Amount (CNY)"),
        tr(lang, "状态", "State"),
        tr(lang, "售后", "After-sale case"),
        tr(lang, "下单时间", "Placed"),
    ]
}

/// CSV rows of `rows` (the header too when `header`).
fn csv_chunk(lang: Lang, rows: &[Listed], header: bool) -> Result<Vec<u8>> {
    let mut out = csv::Writer::from_writer(Vec::new());
    let bad = |e: csv::Error| Error::Internal(format!("cannot write the orders CSV: {e}"));
    if header {
        out.write_record(csv_header(lang)).map_err(bad)?;
    }
    for r in rows {
        let o = &r.summary.order;
        let goods: Vec<String> = r
            .summary
            .lines
            .iter()
            .map(|l| format!("{} ({}) × {}", product_words(lang, l), l.sku, l.quantity))
            .collect();
        out.write_record([
            o.id.to_string(),
            w::order_kind(lang, o.kind).to_string(),
            r.buyer.clone(),
            r.seller.clone(),
            goods.join("; "),
            o.quantity.to_string(),
            money(o.goods_amount_cents).to_string(),
            words::order_state(lang, o.state).to_string(),
            if o.open_case {
                tr(lang, "处理中", "open")
            } else {
                ""
            }
            .to_string(),
            w::when(lang, o.created_at),
        ])
        .map_err(bad)?;
    }
    out.into_inner()
        .map_err(|e| Error::Internal(format!("cannot write the orders CSV: {e}")))
}

/// `GET /hq/orders.csv`: every order the filters match, streamed in chunks of [`CSV_CHUNK`]
/// (one list query each, walking down the ids), UTF-8 with a BOM so spreadsheet programs read
/// the Chinese right; money as yuan with two decimals.
pub async fn csv(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Query(q): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(q.get("lang").map(String::as_str), &headers);
    if let Err(r) = hq_desk::gate(&state, lang, caller, HERE, NEEDS).await {
        return r;
    }
    let filter = filter_of(lang, &q);
    // The first chunk is loaded before answering, so a failing query is an error page rather
    // than a cut-off download.
    let f2 = filter.clone();
    let first = state
        .db
        .run(move |c| load(c, lang, &f2, 0, 0, CSV_CHUNK))
        .await
        .and_then(|(rows, more)| {
            let mut bytes = "\u{feff}".as_bytes().to_vec();
            bytes.extend(csv_chunk(lang, &rows, true)?);
            Ok((bytes, rows.last().map(|r| r.summary.order.id), more))
        });
    let (bytes, last, more) = match first {
        Ok(v) => v,
        Err(e) => return staff::error_page(lang, e),
    };
    let next = if more { last } else { None };
    let head =
        futures_util::stream::once(async move { Ok::<_, std::io::Error>(Bytes::from(bytes)) });
    let rest = futures_util::stream::unfold(next, move |before| {
        let (state, filter) = (state.clone(), filter.clone());
        async move {
            let before = before?;
            let loaded = state
                .db
                .run(move |c| load(c, lang, &filter, before, 0, CSV_CHUNK))
                .await
                .and_then(|(rows, more)| {
                    let bytes = csv_chunk(lang, &rows, false)?;
                    Ok((
                        bytes,
                        rows.last().map(|r| r.summary.order.id).filter(|_| more),
                    ))
                });
            Some(match loaded {
                Ok((bytes, next)) => (Ok(Bytes::from(bytes)), next),
                Err(e) => {
                    tracing::error!(error = %e, "orders CSV failed midway");
                    (Err(std::io::Error::other("the orders CSV failed")), None)
                }
            })
        }
    });
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"orders.csv\"",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        Body::from_stream(futures_util::StreamExt::chain(head, rest)),
    )
        .into_response()
}

/// What HQ may do on an order now, as the signed-in role: each asks the state the use case's
/// transition needs and the role check the use case makes, so a button is offered exactly when
/// the action would pass those (the use case still decides, e.g. on stock).
#[derive(Debug, Clone, Default)]
struct Offer {
    /// Accept or reject an order placed with HQ (`orders::accept` / `reject`).
    answer: bool,
    /// Confirm the buyer's offline transfer to HQ (`payment::pay`, offline).
    confirm_payment: bool,
    /// Confirm the payments of these forwarding legs ending at HQ (`payment::confirm_leg`).
    legs: Vec<(i32, String, i64)>,
    /// Ship by scanning and record the waybill (`scan_ship`), HQ shipping.
    ship: bool,
    waybill: bool,
    /// Add a tracking event to HQ's shipment (`tracking::add_event`).
    track: bool,
    /// Cancel for the buyer (`orders::cancel`).
    cancel: bool,
    /// Open or close an after-sale case (`orders::set_case`).
    case: bool,
    /// Refund returned items per line (`refunds::refund`).
    refund: bool,
}

fn offer(actor: Actor, v: &OrderView) -> Offer {
    use OrderState as S;
    let o = &v.row;
    let s = o.state;
    let hq_sells = o.seller_kind == PartyKind::Hq;
    let hq_ships = o.shipper_kind == Some(PartyKind::Hq);
    let as_hq = |roles: &[Role]| actor.require_party(Party::Hq, roles, "").is_ok();
    let finance = actor.require_hq(HQ_MONEY, "").is_ok();
    Offer {
        answer: hq_sells && s == S::Submitted && as_hq(HQ_ANSWER),
        confirm_payment: hq_sells && matches!(s, S::Accepted | S::Forwarded) && as_hq(HQ_MONEY),
        legs: if v.legs_offline && v.legs_due && as_hq(HQ_MONEY) {
            v.legs
                .iter()
                .filter(|l| l.position > 0 && l.seller_hq && l.paid_at.is_none())
                .map(|l| (l.position, l.buyer.clone(), l.amount_cents))
                .collect()
        } else {
            Vec::new()
        },
        ship: hq_ships && matches!(s, S::Paid | S::Shipping) && as_hq(HQ_SHIPPERS),
        waybill: hq_ships && matches!(s, S::Paid | S::Shipping | S::Shipped) && as_hq(HQ_SHIPPERS),
        track: hq_ships && tracking::ON_ITS_WAY.contains(&s) && as_hq(HQ_SHIPPERS),
        cancel: finance
            && (matches!(s, S::Submitted | S::Accepted | S::Forwarded)
                || (s == S::Paid && o.kind == OrderKind::Restock)),
        case: finance
            && (o.open_case
                || matches!(
                    s,
                    S::Shipped | S::Received | S::Completed | S::PartiallyRefunded
                )),
        refund: finance && matches!(s, S::Received | S::Completed | S::PartiallyRefunded),
    }
}

impl Offer {
    fn any(&self) -> bool {
        self.answer
            || self.confirm_payment
            || !self.legs.is_empty()
            || self.ship
            || self.waybill
            || self.cancel
            || self.case
            || self.refund
    }
}

/// The order page's extra names: the rebate's and the award's agents.
struct Extra {
    rebate_agent: Option<String>,
    award_agent: Option<String>,
}

fn load_order(c: &mut DbConnection, lang: Lang, id: i64) -> Result<(OrderView, Extra)> {
    let v = agent_orders::view_of(c, lang, id, None)?;
    let mut name = |a: Option<i64>| -> Result<Option<String>> {
        Ok(match a {
            Some(a) => Some(agent_store::get(c, a)?.name),
            None => None,
        })
    };
    let extra = Extra {
        rebate_agent: name(v.row.rebate_agent_id)?,
        award_agent: name(v.row.award_agent_id)?,
    };
    Ok((v, extra))
}

/// The form posting `action` on order `id`, with the session's token and a fresh form key.
fn form(csrf: &str, id: i64, action: &str, label: &str, extra: Markup) -> Markup {
    html! {
        form.inline method="post" action=(format!("{HERE}/{id}/{action}")) id=(format!("do-{action}")) {
            input type="hidden" name="csrf" value=(csrf);
            (form_key::field())
            (extra)
            button type="submit" { (label) }
        }
    }
}

fn reason_field(lang: Lang) -> Markup {
    html! {
        input type="text" name="reason" required maxlength="500"
            placeholder=(tr(lang, "原因", "Reason")) aria-label=(tr(lang, "原因", "Reason"));
        " "
    }
}

fn actions(lang: Lang, csrf: &str, v: &OrderView, offer: &Offer) -> Markup {
    let o = &v.row;
    let id = o.id;
    html! {
        div.card id="actions" {
            h2 { (tr(lang, "总部操作", "HQ actions")) }
            @if !offer.any() {
                p.muted id="no-actions" { (tr(lang, "现在没有您可以进行的操作。", "Nothing you may do on this order now.")) }
            }
            @if offer.answer {
                p { (tr(lang, "此单向总部进货：有库存就接单，由总部发货。", "This order is placed with HQ: accept it if HQ holds the stock, and HQ ships it.")) }
                (form(csrf, id, "accept", tr(lang, "接单", "Accept"), html! {}))
                " "
                (form(csrf, id, "reject", tr(lang, "拒绝", "Reject"), reason_field(lang)))
            }
            @if offer.confirm_payment {
                p { (tr(lang, "买家线下转账到总部后，由财务确认收款：", "When the buyer's transfer reaches HQ, finance confirms it:")) " " strong { (yuan(o.goods_amount_cents)) } }
                (form(csrf, id, "pay", tr(lang, "确认已收款", "Confirm payment received"), html! {}))
            }
            @for (position, buyer, amount) in &offer.legs {
                p { (tr(lang, "代发货款：", "Forwarding payment: ")) strong { (buyer) } " " (tr(lang, "应付总部", "owes HQ")) " " strong { (yuan(*amount)) } }
                form.inline method="post" action=(format!("{HERE}/{id}/leg-paid")) id=(format!("do-leg-paid-{position}")) {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="leg" value=(position);
                    (form_key::field())
                    button type="submit" { (tr(lang, "确认收到此笔货款", "Confirm this payment received")) }
                }
            }
            @if offer.ship {
                form method="post" action=(format!("{HERE}/{id}/ship")) id="scan" {
                    input type="hidden" name="csrf" value=(csrf);
                    (form_key::field())
                    label for="code" { (tr(lang, "扫描或输入箱码、产品码（每扫一次自动提交）", "Scan or type a case or item code (each scan submits)")) }
                    " "
                    input type="text" id="code" name="code" autofocus autocomplete="off" required;
                    " "
                    button type="submit" { (tr(lang, "发出此码", "Ship this code")) }
                }
                p.muted { a href=(format!("/warehouse/orders/{id}/pick")) { (tr(lang, "打印拣货单（手持终端扫码发货）", "Print the pick list (ship with a handheld)")) } }
            }
            p.muted { a href=(format!("{HERE}/{id}/packing-slip.pdf")) id="packing-slip" download {
                (tr(lang, "装箱单（PDF，含订单二维码）", "Packing slip (PDF, with the order's QR)")) } }
            @if offer.waybill {
                form method="post" action=(format!("{HERE}/{id}/waybill")) id="waybill-form" {
                    input type="hidden" name="csrf" value=(csrf);
                    (form_key::field())
                    label { (tr(lang, "快递公司", "Courier")) " "
                        input type="text" name="carrier" required maxlength="40"
                            value=(v.waybill.as_ref().map_or("", |w| w.carrier.as_str())); }
                    " "
                    label { (tr(lang, "快递单号", "Waybill number")) " "
                        input type="text" name="waybill" required maxlength="40"
                            value=(v.waybill.as_ref().map_or("", |w| w.waybill.as_str())); }
                    " "
                    button type="submit" { (tr(lang, "保存快递单号", "Save the waybill")) }
                }
            }
            @if offer.refund {
                @for l in v.lines.iter().filter(|l| l.returned < l.quantity) {
                    form method="post" action=(format!("{HERE}/{id}/refund")) data-refund=(l.sku) {
                        input type="hidden" name="csrf" value=(csrf);
                        input type="hidden" name="sku" value=(l.sku);
                        (form_key::field())
                        (tr(lang, "退货退款：", "Refund returned items: ")) (l.product) " "
                        input type="number" name="quantity" min="1" max=(l.quantity - l.returned) required
                            aria-label=(tr(lang, "退回数量", "Items returned")) style="width:6rem";
                        " " (tr(lang, "盒", "items")) " "
                        (reason_field(lang))
                        br;
                        label { (tr(lang, "退回的产品码（已收回时扫描或逐行输入，可不填）：",
                            "Serials of the returned items (scan or type one per line when they are back; optional): "))
                            br;
                            textarea name="serials" rows="3" cols="40" autocomplete="off" {} }
                        br;
                        button type="submit" { (tr(lang, "退款", "Refund")) }
                    }
                }
            }
            @if offer.case {
                @if o.open_case {
                    (form(csrf, id, "close-case", tr(lang, "关闭售后", "Close the after-sale case"), html! {}))
                } @else {
                    (form(csrf, id, "open-case", tr(lang, "开启售后（暂停结算）", "Open an after-sale case (holds settlement)"), html! {}))
                }
            }
            @if offer.cancel {
                details { summary { (tr(lang, "取消此单", "Cancel this order")) }
                    (form(csrf, id, "cancel", tr(lang, "取消订单", "Cancel the order"), reason_field(lang)))
                }
            }
        }
    }
}

/// A forwarding leg's payment, in words.
fn leg_paid_words(lang: Lang, v: &OrderView, l: &agent_orders::LegView) -> String {
    match (l.paid_at, l.position) {
        (Some(t), _) => format!("{} {}", tr(lang, "已确认", "confirmed"), w::when(lang, t)),
        (None, _) if !v.legs_due => tr(lang, "订单未付款", "order not paid").to_string(),
        (None, 0) => tr(lang, "待确认", "to confirm").to_string(),
        (None, _) if v.legs_offline => tr(lang, "待确认", "to confirm").to_string(),
        (None, _) => tr(lang, "在账上结算", "settled in the ledger").to_string(),
    }
}

/// `GET /hq/orders/{id}`.
pub async fn show(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(id): Path<i64>,
    Query(q): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(q.get("lang").map(String::as_str), &headers);
    let here = format!("{HERE}/{id}");
    let (caller, actor) = match hq_desk::gate(&state, lang, caller, &here, NEEDS).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let loaded = state
        .db
        .run(move |c| {
            let (v, extra) = load_order(c, lang, id)?;
            Ok((v, extra, super::warehouse_printers::printers_for(c, actor)?))
        })
        .await;
    let (v, extra, printers) = match loaded {
        Ok(v) => v,
        Err(e) => return w::error_page(lang, e, HERE),
    };
    let offer = offer(actor, &v);
    // Link the buyer only for roles whose gate `/hq/agents` lets through.
    let reads_agents = caller.role.allows(Permission::ReadAgents);
    let csrf = caller.csrf().to_string();
    let o = &v.row;
    let cents_or_dash = |c: Option<i64>| c.map_or_else(|| "—".to_string(), yuan);
    let body = html! {
        @if let Some(n) = param(&q, "notice") {
            @if q.contains_key("bad") { div.card.verdict.bad id="notice" data-ok="false" { (n) } }
            @else { div.card.verdict.ok id="notice" data-ok="true" { (n) } }
        }
        div.card id="order" data-order=(o.id) data-state=(o.state) {
            h2 { "#" (o.id) " · " (w::order_kind(lang, o.kind)) " · " span id="order-state" { (words::order_state(lang, o.state)) } }
            dl {
                dt { (tr(lang, "买家", "Buyer")) } dd id="buyer" {
                    @if reads_agents { a href=(format!("/hq/agents/{}", o.buyer_id)) { (v.buyer) } } @else { (v.buyer) }
                }
                dt { (tr(lang, "卖家", "Seller")) } dd id="seller" { (v.seller) }
                dt { (tr(lang, "发货方", "Shipper")) } dd id="shipper" { (v.shipper.clone().unwrap_or_else(|| tr(lang, "尚未确定", "not yet decided").to_string())) }
                dt { (tr(lang, "下单时间", "Placed")) } dd { (w::when(lang, o.created_at)) }
                @if let Some(t) = o.paid_at { dt { (tr(lang, "付款时间", "Paid")) } dd { (w::when(lang, t)) } }
                @if let Some(t) = o.shipped_at { dt { (tr(lang, "发货时间", "Shipped")) } dd { (w::when(lang, t)) } }
                @if let Some(t) = o.received_at { dt { (tr(lang, "收货时间", "Received")) } dd { (w::when(lang, t)) } }
                @if let Some(t) = o.due_at { dt { (tr(lang, "自动完成", "Completes")) } dd { (w::when(lang, t)) } }
                dt { (tr(lang, "售后", "After-sale case")) } dd id="case" {
                    @if o.open_case { (tr(lang, "处理中（暂停结算）", "open (settlement held)")) } @else { (tr(lang, "无", "none")) }
                }
                dt { (tr(lang, "快递", "Waybill")) } dd id="waybill" {
                    @if let Some(wb) = &v.waybill { (wb.carrier) " " (wb.waybill) } @else { "—" }
                }
            }
        }
        (actions(lang, &csrf, &v, &offer))
        (super::tracking::timeline(lang, &v.track))
        @if offer.track {
            (super::tracking::event_form(lang, &csrf, &format!("{HERE}/{id}/track"), now()))
        }
        @if let (Some(printers), true) = (&printers, offer.track && v.waybill.is_some()) {
            (super::warehouse_printers::label_card(lang, &csrf, id, printers))
        }
        div.card id="lines" {
            h2 { (tr(lang, "商品", "Goods")) }
            table {
                thead { tr {
                    th { (tr(lang, "产品", "Product")) } th { "SKU" }
                    th.num { (tr(lang, "数量", "Qty")) } th.num { (tr(lang, "单价", "Price")) }
                    th.num { (tr(lang, "金额", "Amount")) } th.num { (tr(lang, "已发", "Shipped")) }
                    th.num { (tr(lang, "已退", "Returned")) }
                } }
                tbody {
                    @for l in &v.lines {
                        tr data-sku=(l.sku) {
                            td { (l.product) } td { (l.sku) } td.num { (l.quantity) }
                            td.num { (yuan(l.unit_price_cents)) } td.num { (yuan(l.amount_cents)) }
                            td.num { (l.shipped) } td.num { (l.returned) }
                        }
                    }
                }
            }
        }
        @if !v.legs.is_empty() {
            div.card id="legs" {
                h2 { (tr(lang, "代发链路", "Forwarding legs")) }
                table {
                    thead { tr {
                        th { (tr(lang, "买方 ← 卖方", "Buyer ← seller")) } th.num { (tr(lang, "单价", "Price")) }
                        th.num { (tr(lang, "金额", "Amount")) } th.num { (tr(lang, "差价", "Margin")) }
                        th { (tr(lang, "货款", "Payment")) }
                    } }
                    tbody {
                        @for l in &v.legs {
                            tr data-leg=(l.position) {
                                td { (l.buyer) " ← " (l.seller) }
                                td.num { @if let Some(p) = l.unit_price { "¥" (p) } @else { "—" } }
                                td.num { (yuan(l.amount_cents)) }
                                td.num { (cents_or_dash(l.margin_cents)) }
                                td { (leg_paid_words(lang, &v, l)) }
                            }
                        }
                    }
                }
            }
        }
        div.card id="money" {
            h2 { (tr(lang, "金额（按记账时保存）", "Money (as booked)")) }
            dl {
                dt { (tr(lang, "货款", "Goods")) } dd { (yuan(o.goods_amount_cents)) }
                dt { (tr(lang, "付款方式", "Paid via")) } dd { (match o.paid_via {
                    Some(PaidVia::Offline) => tr(lang, "线下转账", "offline transfer"),
                    Some(PaidVia::Wallet) => tr(lang, "钱包余额", "wallet"),
                    None => "—",
                }) }
                dt { (tr(lang, "发货方所得", "To the shipper")) } dd { (cents_or_dash(o.shipper_amount_cents)) }
                dt { (tr(lang, "同级推荐奖", "Rebate")) } dd id="rebate" {
                    (cents_or_dash(o.rebate_cents))
                    @if let Some(a) = &extra.rebate_agent { " → " (a) }
                }
                dt { (tr(lang, "跨级推荐奖", "Award")) } dd id="award" {
                    (cents_or_dash(o.award_cents))
                    @if let Some(a) = &extra.award_agent { " → " (a) }
                }
                @if let Some(a) = o.upgrade_allowance_cents { dt { (tr(lang, "升级补贴", "Upgrade allowance")) } dd { (yuan(a)) } }
                dt { (tr(lang, "已退金额", "Refunded goods")) } dd { (yuan(o.returned_amount_cents)) }
            }
        }
        div.card id="history" {
            h2 { (tr(lang, "订单记录", "History")) }
            ol {
                @for e in &v.events {
                    li { (w::when(lang, e.at)) " · "
                        @if let Some(from) = e.from_state { (words::order_state(lang, from)) " → " }
                        (words::order_state(lang, e.to_state))
                        @if let Some(n) = event_note(lang, e) { " · " span.muted { (n) } }
                    }
                }
            }
        }
        p { a href=(HERE) { "← " (tr(lang, "全部订单", "All orders")) } }
    };
    let switch = format!("{here}?lang={}", lang.other().param());
    let title = format!("{} #{id}", tr(lang, "订单", "Order"));
    hq_desk::respond(
        lang,
        &caller,
        &here,
        &title,
        &switch,
        q.contains_key("lang"),
        body,
    )
}

/// An event's note in words: the engine's fixed notes have words; a person's reason (on a
/// rejection, cancellation or refund) is shown as written; any other engine note is left out
/// rather than shown raw.
fn event_note(lang: Lang, e: &EventRow) -> Option<String> {
    use OrderState as S;
    let note = e.note.as_deref()?;
    let fixed = match note {
        "offline" => Some(tr(lang, "线下转账", "offline transfer")),
        "wallet" => Some(tr(lang, "钱包余额", "wallet")),
        "after-sale case opened" => Some(tr(lang, "开启售后", "after-sale case opened")),
        "after-sale case closed" => Some(tr(lang, "关闭售后", "after-sale case closed")),
        "received automatically" => Some(tr(lang, "超时自动收货", "received automatically")),
        n if n.starts_with("ships: ") => Some(tr(lang, "已转上级代发", "forwarded up the chain")),
        _ => None,
    };
    match fixed {
        Some(words) => Some(words.to_string()),
        None if matches!(
            e.to_state,
            S::Rejected | S::Cancelled | S::Refunded | S::PartiallyRefunded
        ) =>
        {
            Some(note.to_string())
        }
        None => None,
    }
}

/// `POST /hq/orders/{id}/{action}`: accept, reject, pay (confirm the transfer), leg-paid,
/// ship (one scan), waybill, track (a tracking event), cancel, open-case, close-case, refund.
pub async fn action(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path((id, action)): Path<(i64, String)>,
    target: FormTarget,
    headers: HeaderMap,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    hq_desk::act_on(
        state,
        caller,
        target,
        headers,
        form,
        NEEDS,
        format!("{HERE}/{id}"),
        move |c, actor, lang, f| {
            let text = |k: &str| f.get(k).map_or("", String::as_str);
            let row = match action.as_str() {
                "accept" => orders::accept(c, id, actor)?,
                "reject" => orders::reject(c, id, actor, text("reason"))?,
                "pay" => payment::pay(c, id, PaidVia::Offline, actor)?,
                "cancel" => orders::cancel(c, id, actor, text("reason"))?,
                "open-case" => orders::set_case(c, id, true, actor)?,
                "close-case" => orders::set_case(c, id, false, actor)?,
                "refund" => {
                    let quantity = text("quantity").trim().parse::<i64>().map_err(|_| {
                        Error::BadRequest("quantity: a whole number of items".into())
                    })?;
                    let input = RefundInput {
                        sku: Some(text("sku").to_string()),
                        quantity,
                        // Items back in hand move to the shipper's custody; none given: money only.
                        serials: text("serials")
                            .split(|c: char| c.is_whitespace() || c == ',' || c == '，')
                            .filter(|s| !s.is_empty())
                            .map(scan_ship::code_text)
                            .collect(),
                        reason: text("reason").to_string(),
                    };
                    refunds::refund(c, id, &input, actor)?
                }
                "leg-paid" => {
                    let leg = text("leg")
                        .trim()
                        .parse::<i32>()
                        .map_err(|_| Error::not_found("forwarding leg"))?;
                    payment::confirm_leg(c, id, leg, actor)?;
                    return Ok((
                        tr(lang, "已确认收到货款", "Payment confirmed").to_string(),
                        true,
                    ));
                }
                "waybill" => {
                    scan_ship::set_waybill(c, id, actor, text("carrier"), text("waybill"))?;
                    return Ok((
                        tr(lang, "快递单号已保存", "Waybill saved").to_string(),
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
                "ship" => return scan(c, id, actor, lang, text("code")),
                _ => return Err(Error::not_found("action")),
            };
            Ok((
                format!("#{} {}", row.id, words::order_state(lang, row.state)),
                true,
            ))
        },
    )
    .await
}

/// One scan of HQ's shipment: the notice says what moved, or why nothing did.
fn scan(
    c: &mut DbConnection,
    id: i64,
    actor: Actor,
    lang: Lang,
    code: &str,
) -> Result<(String, bool)> {
    let code = code.trim();
    let out = scan_ship::ship_scanned(c, id, actor, code)?;
    // The code as read (a label URL shortened to its serial), so the notice stays short.
    let code = scan_ship::code_for_notice(code);
    Ok(match out.refused {
        Some(reason) => (format!("{code}: {}", w::scan_reason(lang, reason)), false),
        None => {
            let done = if out.state == OrderState::Shipped {
                tr(lang, "，已全部发出", "; the order is fully shipped")
            } else {
                ""
            };
            (
                format!(
                    "{code}: {} {} {}{done}",
                    tr(lang, "已发出", "shipped"),
                    out.items,
                    tr(lang, "盒", "items")
                ),
                true,
            )
        }
    })
}
