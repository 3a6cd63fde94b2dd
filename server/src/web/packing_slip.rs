//! Packing slips (货单, DOMAIN §10) as PDF, for whoever ships an order: HQ's order page
//! (`/hq/orders/{id}/packing-slip.pdf`) and the warehouse's pick list
//! (`/warehouse/orders/{id}/packing-slip.pdf`). The slip shows the order number, the buyer and
//! where it goes, the lines, the case codes shipped, and the `CMORDER:{id}` QR a handheld scans
//! to open the order (`ingest::ship`). Drawn by `codegen::slip` with the CJK font embedded.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;

use super::hq_i18n::{order_state, tr};
use super::i18n::Lang;
use super::staff;
use crate::app::AppState;
use crate::auth::MaybeCaller;
use crate::domain::Permission;
use crate::error::Error;
use crate::store::packing_slips::{self, SlipData};
use codegen::slip::{Slip, Table};

/// The payload of an order's QR on the pick list and the slip.
pub fn order_code(id: i64) -> String {
    format!("CMORDER:{id}")
}

/// `GET /hq/orders/{id}/packing-slip.pdf`.
pub async fn hq(
    state: State<AppState>,
    caller: MaybeCaller,
    id: Path<i64>,
    q: Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let here = format!("/hq/orders/{}", id.0);
    slip(state, caller, id, q, headers, here).await
}

/// `GET /warehouse/orders/{id}/packing-slip.pdf`.
pub async fn warehouse(
    state: State<AppState>,
    caller: MaybeCaller,
    id: Path<i64>,
    q: Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let here = format!("/warehouse/orders/{}/pick", id.0);
    slip(state, caller, id, q, headers, here).await
}

async fn slip(
    State(state): State<AppState>,
    MaybeCaller(caller): MaybeCaller,
    Path(id): Path<i64>,
    Query(q): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
    here: String,
) -> Response {
    let lang = Lang::negotiate(q.get("lang").map(String::as_str), &headers);
    let caller = match staff::gate_for(&state, lang, caller, &here, Permission::ReadOrders).await {
        Ok(c) => c,
        Err(refused) => return refused,
    };
    let data = match state.db.run(move |c| Ok(packing_slips::slip(c, id)?)).await {
        Ok(Some(d)) => d,
        Ok(None) => return staff::error_page(lang, Error::not_found("order")),
        Err(e) => return staff::error_page(lang, e),
    };
    let slip = words(lang, &data, &caller.display_name);
    let st = state.clone();
    let drawn = tokio::task::spawn_blocking(move || {
        let fonts = st.fonts().ok_or_else(|| {
            Error::Unavailable(
                "no CJK font on the server: install fonts-wqy-microhei or set CHAINMARK_FONT"
                    .into(),
            )
        })?;
        codegen::slip::render_slip(&slip, fonts)
            .map_err(|e| Error::Internal(format!("packing slip: {e}")))
    })
    .await
    .map_err(|e| Error::Internal(format!("packing slip task: {e}")))
    .and_then(|r| r);
    match drawn {
        Ok(pdf) => {
            let mut r = pdf.into_response();
            let h = r.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/pdf"),
            );
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            if let Ok(v) =
                HeaderValue::from_str(&format!("attachment; filename=\"packing-slip-{id}.pdf\""))
            {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            r
        }
        Err(e) => super::agent_i18n::error_page(lang, e, &here),
    }
}

/// The slip in the reader's words.
fn words(lang: Lang, d: &SlipData, printed_by: &str) -> Slip {
    let o = &d.order;
    let mut fields = vec![
        (
            tr(lang, "订单号", "Order").to_string(),
            format!("#{}", o.id),
        ),
        (tr(lang, "收货代理", "Buyer").to_string(), o.buyer.clone()),
        (
            tr(lang, "收货地区", "Ship to").to_string(),
            crate::diversion::views::region_name(&o.buyer_region),
        ),
        (
            tr(lang, "下单时间", "Ordered").to_string(),
            o.created_at.format("%Y-%m-%d %H:%M").to_string(),
        ),
        (
            tr(lang, "状态", "State").to_string(),
            order_state(lang, o.state).to_string(),
        ),
    ];
    if let Some(at) = o.shipped_at {
        fields.push((
            tr(lang, "发货时间", "Shipped").to_string(),
            at.format("%Y-%m-%d %H:%M").to_string(),
        ));
    }
    if let Some((carrier, waybill)) = &d.waybill {
        fields.push((
            tr(lang, "快递", "Courier").to_string(),
            format!("{carrier} {waybill}"),
        ));
    }
    let rows = d
        .lines
        .iter()
        .map(|l| {
            let name = match (lang, &l.name_en) {
                (Lang::En, Some(en)) => en.clone(),
                _ => l.name.clone(),
            };
            vec![
                name,
                l.sku.clone(),
                l.quantity.to_string(),
                l.shipped_quantity.to_string(),
            ]
        })
        .collect();
    let mut list = d.cases.clone();
    if d.loose_items > 0 {
        list.push(match lang {
            Lang::Zh => format!("另有 {} 盒散装", d.loose_items),
            Lang::En => format!("and {} loose items", d.loose_items),
        });
    }
    Slip {
        title: tr(lang, "装箱单", "Packing slip").to_string(),
        fields,
        table: Table {
            head: vec![
                tr(lang, "商品", "Product").to_string(),
                "SKU".to_string(),
                tr(lang, "数量（盒）", "Quantity (items)").to_string(),
                tr(lang, "已发", "Shipped").to_string(),
            ],
            widths: vec![4.0, 2.4, 1.6, 1.2],
            rows,
        },
        list_heading: if list.is_empty() {
            String::new()
        } else {
            tr(lang, "已发箱码", "Case codes shipped").to_string()
        },
        list,
        qr: Some((
            order_code(o.id),
            tr(lang, "手持终端扫码发货", "Scan on a handheld to ship").to_string(),
        )),
        footer: match lang {
            Lang::Zh => format!(
                "{} 由 {} 打印",
                crate::store::users::now().format("%Y-%m-%d %H:%M"),
                printed_by
            ),
            Lang::En => format!(
                "Printed {} by {}",
                crate::store::users::now().format("%Y-%m-%d %H:%M"),
                printed_by
            ),
        },
    }
}
