//! The warehouse page (`GET /warehouse`, 仓库): live shipments with their scanned progress, the
//! handhelds with their online state and today's scans, and the newest scans with their result.
//! Refreshes itself every 10 seconds (a meta refresh: no JavaScript needed).

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;

use super::i18n::Lang;
use super::staff::{self, with_cookies};
use crate::app::AppState;
use crate::auth::MaybeCaller;
use crate::domain::Permission;
use crate::domain::network::PartyKind;
use crate::store::devices::{self, DeviceRow, ScanRow};
use crate::store::warehouse::{self, Shipment};

const HERE: &str = "/warehouse";
const RECENT: i64 = 30;

#[derive(Debug, Deserialize)]
pub struct WarehouseQuery {
    lang: Option<String>,
}

/// This page's words in both languages.
fn tr(lang: Lang, zh: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
    }
}

/// `GET /warehouse`.
pub async fn show(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Query(query): Query<WarehouseQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(query.lang.as_deref(), &headers);
    let caller = match staff::gate_for(&state, lang, caller, HERE, Permission::ReadDevices).await {
        Ok(c) => c,
        Err(redirect) => return redirect,
    };
    let since = crate::store::users::now() - chrono::Duration::hours(24);
    let loaded = state
        .db
        .run(move |c| {
            Ok((
                warehouse::open_shipments(c, 50)?,
                devices::list(c)?,
                devices::scan_counts_since(c, since)?,
                devices::recent_scans(c, RECENT)?,
            ))
        })
        .await;
    let (shipments, device_rows, counts, recent) = match loaded {
        Ok(v) => v,
        Err(e) => return staff::error_page(lang, e),
    };
    let switch = format!("{HERE}?lang={}", lang.other().param());
    let body = html! {
        meta http-equiv="refresh" content="10";
        @if caller.role.allows(Permission::Print) {
            p id="to-printers" { a href=(super::warehouse_printers::HERE) { (tr(lang, "标签打印机与打印队列 →", "Label printers and the print queue →")) } }
        }
        (shipments_card(lang, &shipments))
        (devices_card(lang, &device_rows, &counts))
        (scans_card(lang, &recent))
    };
    let title = tr(lang, "仓库", "Warehouse");
    let response =
        super::shell::page(lang, &caller, HERE, title, Some(&switch), body).into_response();
    with_cookies(response, [staff::lang_cookie(lang, query.lang.is_some())])
}

fn shipments_card(lang: Lang, rows: &[Shipment]) -> Markup {
    html! {
        div.card id="shipments" {
            h2 { (tr(lang, "待发货与发货中", "To ship and shipping")) }
            @if rows.is_empty() {
                p.muted { (tr(lang, "没有待发货的订单。", "No orders waiting to ship.")) }
            } @else {
                table {
                    thead { tr {
                        th { (tr(lang, "订单", "Order")) } th { (tr(lang, "买方", "Buyer")) }
                        th { "SKU" } th { (tr(lang, "已扫/数量", "Scanned/qty")) }
                        th { (tr(lang, "发货方", "Shipper")) }
                    } }
                    tbody {
                        @for s in rows {
                            tr data-order=(s.order_id) {
                                td { a href=(format!("/warehouse/orders/{}/pick", s.order_id)) data-pick=(s.order_id) {
                                    (tr(lang, "拣货单", "Pick list")) " " (s.order_id) } }
                                td { (s.buyer) }
                                td { (s.sku) }
                                td { (s.shipped_quantity) "/" (s.quantity) }
                                td { (shipper(lang, s)) }
                            }
                        }
                    }
                }
                p.muted { (tr(lang,
                    "在手持终端扫描拣货单上的 CMORDER 码开始发货。",
                    "Scan the pick list's CMORDER code on a handheld to start shipping.")) }
            }
        }
    }
}

fn shipper(lang: Lang, s: &Shipment) -> String {
    match (s.shipper_kind, s.shipper_id) {
        (Some(PartyKind::Agent), Some(id)) => format!("{} {id}", tr(lang, "代理", "agent")),
        _ => tr(lang, "总部", "HQ").to_owned(),
    }
}

fn devices_card(lang: Lang, rows: &[DeviceRow], counts: &[(String, String, i64)]) -> Markup {
    let mut per_device: HashMap<&str, (i64, i64)> = HashMap::new();
    for (device, result, n) in counts {
        let entry = per_device.entry(device.as_str()).or_default();
        if result == "accepted" {
            entry.0 += n;
        } else {
            entry.1 += n;
        }
    }
    html! {
        div.card id="devices" {
            h2 { (tr(lang, "手持终端", "Handhelds")) }
            @if rows.is_empty() {
                p.muted { (tr(lang,
                    "还没有登记的终端：chainmark device add <编号> --warehouse <仓库>",
                    "No handhelds yet: chainmark device add <id> --warehouse <name>")) }
            } @else {
                table {
                    thead { tr {
                        th { (tr(lang, "编号", "Id")) } th { (tr(lang, "仓库", "Warehouse")) }
                        th { (tr(lang, "状态", "Status")) }
                        th { (tr(lang, "24小时 接受/拒绝", "24 h accepted/rejected")) }
                    } }
                    tbody {
                        @for d in rows {
                            @let (ok, bad) = per_device.get(d.id.as_str()).copied().unwrap_or_default();
                            tr data-device=(d.id) {
                                td { (d.id) } td { (d.warehouse) }
                                td { (status(lang, d)) }
                                td { (ok) " / " (bad) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn status(lang: Lang, d: &DeviceRow) -> Markup {
    let (text, color) = match (d.revoked, d.online) {
        (true, _) => (tr(lang, "已停用", "revoked"), "#57534e"),
        (false, true) => (tr(lang, "在线", "online"), "#15803d"),
        (false, false) => (tr(lang, "离线", "offline"), "#b91c1c"),
    };
    html! { span style=(format!("color:{color}")) { (PreEscaped("&#9679; ")) (text) } }
}

fn scans_card(lang: Lang, rows: &[ScanRow]) -> Markup {
    html! {
        div.card id="scans" {
            h2 { (tr(lang, "最新扫描", "Newest scans")) }
            @if rows.is_empty() {
                p.muted { (tr(lang, "还没有扫描。", "No scans yet.")) }
            } @else {
                div style="overflow-x:auto" {
                    table {
                        thead { tr {
                            th { (tr(lang, "时间", "Time")) } th { (tr(lang, "终端", "Device")) }
                            th { (tr(lang, "操作", "Kind")) } th { (tr(lang, "码", "Code")) }
                            th { (tr(lang, "结果", "Result")) }
                        } }
                        tbody {
                            @for s in rows {
                                tr {
                                    td { (s.received_at.format("%m-%d %H:%M:%S")) }
                                    td { (s.device_id) " #" (s.seq) }
                                    td { (s.kind.as_str()) @if let Some(c) = &s.context { " " (c) } }
                                    td { code { (s.code) } }
                                    td { (s.result) @if s.items_moved > 1 { " ×" (s.items_moved) } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /warehouse/orders/{id}/pick`: the printable pick list of an order, with the
/// `CMORDER:{id}` QR a handheld scans to start shipping it (`ingest::ship`).
pub async fn pick_list(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    axum::extract::Path(id): axum::extract::Path<i64>,
    Query(query): Query<WarehouseQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::negotiate(query.lang.as_deref(), &headers);
    let here = format!("/warehouse/orders/{id}/pick");
    let caller = match staff::gate_for(&state, lang, caller, &here, Permission::ReadOrders).await {
        Ok(c) => c,
        Err(refused) => return refused,
    };
    let found = state
        .db
        .run(move |c| Ok(crate::store::desk::shipment(c, id)?))
        .await;
    let lines = match found {
        Ok(lines) => lines,
        Err(e) => return staff::error_page(lang, e),
    };
    let Some(s) = lines.first() else {
        return staff::error_page(lang, crate::error::Error::not_found("order"));
    };
    let code = super::packing_slip::order_code(s.order_id);
    let qr = match qrcode::QrCode::new(code.as_bytes()) {
        Ok(q) => q
            .render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(220, 220)
            .build(),
        Err(e) => {
            return staff::error_page(
                lang,
                crate::error::Error::Internal(format!("pick list QR: {e}")),
            );
        }
    };
    let body = html! {
        div.card id="pick-list" data-order=(s.order_id) {
            div style="display:flex;gap:2rem;align-items:flex-start" {
                div id="pick-qr" data-code=(code) { (PreEscaped(qr)) }
                dl {
                    dt { (tr(lang, "订单", "Order")) } dd { (s.order_id) }
                    dt { (tr(lang, "收货代理", "Ship to")) } dd { (s.buyer) }
                    dt { (tr(lang, "状态", "State")) } dd { (super::hq_i18n::order_state(lang, s.state)) }
                    dt { (tr(lang, "发货方", "Shipper")) } dd { (shipper(lang, s)) }
                }
            }
            table id="pick-lines" {
                thead { tr {
                    th { (tr(lang, "商品", "Product")) }
                    th.num { (tr(lang, "数量（盒）", "Quantity (items)")) }
                    th.num { (tr(lang, "已扫", "Scanned")) }
                } }
                tbody { @for l in &lines { tr data-sku=(l.sku) {
                    td { (l.sku) }
                    td.num { (l.quantity) }
                    td.num { (l.shipped_quantity) }
                } } }
            }
            p { (tr(lang,
                "在手持终端上扫描此二维码打开订单，再逐箱（或逐盒）扫码出库。",
                "Scan this QR on a handheld to open the order, then scan each case (or item) out.")) }
            p.noprint.muted { (tr(lang, "用浏览器的打印（Ctrl+P）打印本页；导航不会被打印。",
                "Print this page with the browser (Ctrl+P); the navigation is not printed.")) }
            p.noprint { a href=(format!("/warehouse/orders/{}/packing-slip.pdf", s.order_id)) id="packing-slip" download {
                (tr(lang, "下载装箱单（PDF）", "Download the packing slip (PDF)")) } }
            p.noprint { a href=(HERE) { "← " (tr(lang, "仓库", "Warehouse")) } }
        }
    };
    let title = tr(lang, "拣货单", "Pick list");
    let switch = format!("{here}?lang={}", lang.other().param());
    let response =
        super::shell::page(lang, &caller, &here, title, Some(&switch), body).into_response();
    with_cookies(response, [staff::lang_cookie(lang, query.lang.is_some())])
}
