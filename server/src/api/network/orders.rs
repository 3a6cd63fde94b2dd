//! Restock orders: an agent's own and those it handles, one order with its history, and each
//! step of the life cycle. Who may take each step is checked by the use case.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{CallerId, actor_of, yuan};
use crate::api::error::ErrorBody;
use crate::api::idempotency::{IdempotencyHeader, IdempotencyKey, write_once};
use crate::api::json::Json;
use crate::app::AppState;
use crate::auth::Caller;
use crate::domain::network::PaidVia;
use crate::domain::network::{OrderState, PartyKind};
use crate::error::{Error, Result};
use crate::network::views as order_views;
use crate::network::{Actor, orders as cases, payment, refunds, shipping};
use crate::store::DbConnection;
use crate::store::network::orders::{self as store, Listing, OrderRow};

#[derive(Debug, Serialize, ToSchema)]
pub struct LegView {
    /// 0 is the original order; each further leg is the linked order a forwarding agent placed.
    pub position: i32,
    pub buyer_id: i64,
    /// `null`: HQ.
    pub seller_id: Option<i64>,
    /// The leg's buyer's price when the order has one line; `null` for a cart (each line's is
    /// in `lines[].leg_prices`).
    pub unit_price: Option<String>,
    /// The leg's goods over all lines (each line at the leg's buyer's price for its product).
    pub goods_amount: String,
    /// 差价 the leg's buyer earns by forwarding, over all lines.
    pub margin: Option<String>,
    /// When the leg was paid: for leg 0 (the order itself) the order's payment; for a further
    /// leg, when its seller confirmed its buyer's offline payment
    /// (`POST /api/v1/orders/{id}/legs/{position}/paid`). A further leg of an order paid through
    /// the platform (from a wallet, or to HQ) stays `null`: it settles in the ledger.
    pub paid_at: Option<NaiveDateTime>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MarginView {
    pub agent_id: i64,
    pub amount: String,
}

/// One line of the order (a product of the cart), priced as placed.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderLineView {
    /// 0 for the first line.
    pub position: i32,
    pub product_id: i64,
    pub sku: String,
    pub product_name: String,
    pub quantity: i64,
    /// The buyer's price for this product at the order's tier (授权价格).
    pub unit_price: String,
    /// quantity × unit price.
    pub goods_amount: String,
    /// An upgrade's price-difference credit on the line; `null` otherwise.
    pub upgrade_allowance: Option<String>,
    pub shipped_quantity: i64,
    pub returned_quantity: i64,
    /// From payment: the shipper's part of the line, and the line's rebate and award (each
    /// rounded once, on the line).
    pub shipper_amount: Option<String>,
    pub rebate: Option<String>,
    pub award: Option<String>,
    /// 差价 earned on this line by each forwarding agent.
    pub margins: Vec<MarginView>,
    /// Each forwarding leg's price for this line's product, by leg position.
    pub leg_prices: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    pub from_state: Option<String>,
    pub to_state: String,
    pub actor_user_id: Option<i64>,
    pub note: Option<String>,
    pub at: NaiveDateTime,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderView {
    pub id: i64,
    /// `entry` (首批), `restock` or `upgrade` (补齐差额).
    pub kind: String,
    pub buyer_id: i64,
    /// The product when the order has one line; `null` for a cart (see `lines`).
    pub product_id: Option<i64>,
    pub tier_rank: i32,
    /// The payee; `null` is HQ.
    pub seller_id: Option<i64>,
    /// Who ships (fixed when accepted or forwarded); `null` with `shipper_is_hq` false: not yet.
    pub shipper_id: Option<i64>,
    pub shipper_is_hq: bool,
    /// Items of all lines.
    pub quantity: i64,
    /// The price when the order has one line; `null` for a cart (see `lines`).
    pub unit_price: Option<String>,
    /// The goods of all lines.
    pub goods_amount: String,
    /// An upgrade's price-difference credit (差价) that HQ bears (DOMAIN §5); `null` otherwise.
    pub upgrade_allowance: Option<String>,
    /// What the buyer pays: goods amount − upgrade allowance.
    pub amount_due: String,
    pub policy_version: i64,
    pub state: String,
    pub paid_via: Option<String>,
    /// The shipper's part of the goods amount (after margins).
    pub shipper_amount: Option<String>,
    pub rebate_agent_id: Option<i64>,
    pub rebate: Option<String>,
    pub award_agent_id: Option<i64>,
    pub award: Option<String>,
    pub shipped_quantity: i64,
    pub returned_quantity: i64,
    pub open_case: bool,
    pub created_at: NaiveDateTime,
    pub paid_at: Option<NaiveDateTime>,
    pub shipped_at: Option<NaiveDateTime>,
    pub received_at: Option<NaiveDateTime>,
    /// When the next automatic step (auto-receive, completion) is due.
    pub due_at: Option<NaiveDateTime>,
    /// The cart, one line per product.
    pub lines: Vec<OrderLineView>,
    pub legs: Vec<LegView>,
    pub history: Vec<EventView>,
}

/// The order with its lines, legs and history.
pub fn view(c: &mut DbConnection, o: OrderRow) -> Result<OrderView> {
    views(c, vec![o])?
        .pop()
        .ok_or_else(|| Error::not_found("order"))
}

/// The orders with their lines, legs and history, in a fixed number of queries for the page.
pub fn views(c: &mut DbConnection, rows: Vec<OrderRow>) -> Result<Vec<OrderView>> {
    let ids: Vec<i64> = rows.iter().map(|o| o.id).collect();
    let mut history: std::collections::HashMap<i64, Vec<EventView>> = Default::default();
    for e in store::events_of(c, &ids)? {
        history.entry(e.order_id).or_default().push(EventView {
            from_state: e.from_state.map(|s| s.as_str().to_string()),
            to_state: e.to_state.as_str().to_string(),
            actor_user_id: e.actor_user_id,
            note: e.note,
            at: e.at,
        });
    }
    Ok(order_views::summaries(c, rows)?
        .into_iter()
        .map(|s| {
            let history = history.remove(&s.order.id).unwrap_or_default();
            order_view(s, history)
        })
        .collect())
}

fn order_view(s: order_views::OrderSummary, history: Vec<EventView>) -> OrderView {
    let o = s.order;
    let single = (s.lines.len() == 1).then(|| &s.lines[0]);
    let leg_paid = s.leg_paid;
    let legs = s
        .legs
        .into_iter()
        .map(|l| LegView {
            paid_at: if l.position == 0 {
                o.paid_at
            } else {
                leg_paid
                    .iter()
                    .find(|(p, _)| *p == l.position)
                    .map(|(_, at)| *at)
            },
            position: l.position,
            buyer_id: l.buyer_id,
            seller_id: l.seller_id,
            unit_price: single
                .and_then(|line| line.leg_prices.get(usize::try_from(l.position).ok()?))
                .map(|p| super::yuan_of(*p)),
            goods_amount: yuan(l.goods_amount_cents),
            margin: l.margin_cents.map(yuan),
        })
        .collect();
    OrderView {
        id: o.id,
        kind: o.kind.as_str().to_string(),
        buyer_id: o.buyer_id,
        product_id: single.map(|l| l.product_id),
        tier_rank: o.tier_rank,
        seller_id: o.seller_id,
        shipper_id: o.shipper_id,
        shipper_is_hq: o.shipper_kind == Some(PartyKind::Hq),
        quantity: o.quantity,
        unit_price: single.map(|l| super::yuan_of(l.unit_price)),
        goods_amount: yuan(o.goods_amount_cents),
        upgrade_allowance: o.upgrade_allowance_cents.map(yuan),
        amount_due: yuan(o.goods_amount_cents - o.upgrade_allowance_cents.unwrap_or(0)),
        policy_version: o.policy_version,
        state: o.state.as_str().to_string(),
        paid_via: o.paid_via.map(|v| v.as_str().to_string()),
        shipper_amount: o.shipper_amount_cents.map(yuan),
        rebate_agent_id: o.rebate_agent_id,
        rebate: o.rebate_cents.map(yuan),
        award_agent_id: o.award_agent_id,
        award: o.award_cents.map(yuan),
        shipped_quantity: o.shipped_quantity,
        returned_quantity: o.returned_quantity,
        open_case: o.open_case,
        created_at: o.created_at,
        paid_at: o.paid_at,
        shipped_at: o.shipped_at,
        received_at: o.received_at,
        due_at: o.due_at,
        lines: s
            .lines
            .into_iter()
            .map(|l| OrderLineView {
                position: l.position,
                product_id: l.product_id,
                sku: l.sku,
                product_name: l.product_name,
                quantity: l.quantity,
                unit_price: super::yuan_of(l.unit_price),
                goods_amount: super::yuan_of(l.goods_amount),
                upgrade_allowance: l.upgrade_allowance.map(super::yuan_of),
                shipped_quantity: l.shipped_quantity,
                returned_quantity: l.returned_quantity,
                shipper_amount: l.shipper_amount.map(super::yuan_of),
                rebate: l.rebate.map(super::yuan_of),
                award: l.award.map(super::yuan_of),
                margins: l
                    .margins
                    .into_iter()
                    .map(|(agent_id, amount)| MarginView {
                        agent_id,
                        amount: super::yuan_of(amount),
                    })
                    .collect(),
                leg_prices: l.leg_prices.into_iter().map(super::yuan_of).collect(),
            })
            .collect(),
        legs,
        history,
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListQuery {
    /// `placed` (mine, the default for agents), `to_handle` (orders I answer or ship; HQ's for
    /// staff) or `all` (HQ only).
    pub view: Option<String>,
    /// Only this state.
    pub state: Option<String>,
    /// Orders with an id below this (paging, newest first).
    pub before: Option<i64>,
}

/// One line of a new order.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLineBody {
    pub sku: String,
    /// Items (盒).
    pub quantity: i64,
}

/// A new order: `lines` (a cart, one line per product), or — the shape before carts, still
/// accepted as a cart of one line — `sku` and `quantity`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrderBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lines: Option<Vec<NewLineBody>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// Items (盒), with `sku`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<i64>,
}

impl NewOrderBody {
    fn input(&self) -> Result<cases::OrderInput> {
        match (&self.lines, &self.sku, self.quantity) {
            (Some(lines), None, None) => Ok(cases::OrderInput {
                lines: lines
                    .iter()
                    .map(|l| cases::LineInput {
                        sku: l.sku.clone(),
                        quantity: l.quantity,
                    })
                    .collect(),
            }),
            (None, Some(sku), Some(quantity)) => Ok(cases::OrderInput::single(sku, quantity)),
            (Some(_), _, _) => Err(Error::BadRequest(
                "lines: give lines, or sku and quantity, not both".into(),
            )),
            _ => Err(Error::BadRequest(
                "lines: give lines [{sku, quantity}, …], or sku and quantity".into(),
            )),
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    pub reason: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayBody {
    /// `offline`: the payee confirms a transfer arrived; `wallet`: the buyer pays from its
    /// available balance.
    pub via: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipBody {
    /// Item serials (明码) to ship against the order.
    pub serials: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShipRejected {
    pub serial: String,
    /// `unknown_code`, `not_in_custody`, `not_on_order`, `quantity_exceeded`, `already_shipped`.
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShipOutcome {
    pub accepted: Vec<String>,
    pub rejected: Vec<ShipRejected>,
    pub state: String,
    pub shipped_quantity: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundBody {
    /// The product whose items come back; may be left out when the order has one line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// Items of that line returned now.
    pub quantity: i64,
    /// Their serials, when they are back in hand (moved back to the shipper); optional.
    #[serde(default)]
    pub serials: Vec<String>,
    pub reason: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseBody {
    /// Open (true) or close (false) an after-sale case (维权); completion waits while open.
    pub open: bool,
}

/// Orders, newest first, 200 a page.
#[utoipa::path(get, path = "/api/v1/orders", tag = "network", security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, body = Vec<OrderView>), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ListQuery>,
) -> Result<axum::Json<Vec<OrderView>>> {
    let who = CallerId::from(&caller);
    let out = state
        .db
        .run(move |c| {
            let actor = actor_of(c, &who)?;
            let listing = match (actor, q.view.as_deref().unwrap_or("placed")) {
                (Actor::Agent { agent, .. }, "placed") => Listing::PlacedBy(agent),
                (Actor::Agent { agent, .. }, "to_handle") => Listing::HandledBy(agent),
                (Actor::Agent { .. }, "all") => {
                    return Err(Error::Forbidden("an agent sees its own orders only".into()));
                }
                (_, "to_handle") => {
                    actor.require(crate::domain::Permission::ReadOrders, "see HQ's orders")?;
                    Listing::HandledByHq
                }
                (_, "all" | "placed") => {
                    actor.require(crate::domain::Permission::ReadOrders, "see orders")?;
                    Listing::All
                }
                (_, other) => {
                    return Err(Error::BadRequest(format!(
                        "view {other:?}: use placed, to_handle or all"
                    )));
                }
            };
            let state = q
                .state
                .as_deref()
                .map(|s| {
                    OrderState::parse(s).ok_or_else(|| {
                        Error::BadRequest(format!("state {s:?} is not an order state"))
                    })
                })
                .transpose()?;
            let rows = store::list(c, listing, state, q.before.unwrap_or(0), 200)?;
            views(c, rows)
        })
        .await?;
    Ok(axum::Json(out))
}

/// Places an order with the signed-in agent's supplier: its entry order while pending.
#[utoipa::path(post, path = "/api/v1/orders", tag = "network", security(("bearer" = [])),
    params(IdempotencyHeader),
    request_body = NewOrderBody,
    responses((status = 201, body = OrderView), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn submit(
    State(state): State<AppState>,
    caller: Caller,
    idem: IdempotencyKey,
    Json(body): Json<NewOrderBody>,
) -> Result<Response> {
    let who = CallerId::from(&caller);
    let input = body.input()?;
    write_once(
        &state.db,
        who.user,
        idem,
        &body,
        StatusCode::CREATED,
        move |c| {
            let actor = actor_of(c, &who)?;
            let row = cases::submit(c, actor, &input)?;
            view(c, row)
        },
    )
    .await
}

/// One order, with its forwarding legs and history.
#[utoipa::path(get, path = "/api/v1/orders/{id}", tag = "network", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Order id")),
    responses((status = 200, body = OrderView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<axum::Json<OrderView>> {
    let who = CallerId::from(&caller);
    let out = state
        .db
        .run(move |c| {
            let actor = actor_of(c, &who)?;
            let row = store::get(c, id)?;
            crate::network::tracking::may_see(c, actor, &row)?;
            view(c, row)
        })
        .await?;
    Ok(axum::Json(out))
}

/// Runs one step as the caller and answers with the order afterwards; once per
/// `Idempotency-Key` (bound to `body`).
async fn step<F>(
    state: AppState,
    caller: Caller,
    idem: IdempotencyKey,
    body: &impl Serialize,
    f: F,
) -> Result<Response>
where
    F: FnOnce(&mut DbConnection, Actor) -> Result<OrderRow> + Send + 'static,
{
    let who = CallerId::from(&caller);
    write_once(&state.db, who.user, idem, body, StatusCode::OK, move |c| {
        let actor = actor_of(c, &who)?;
        let row = f(c, actor)?;
        view(c, row)
    })
    .await
}

/// The seller accepts (it holds the stock and will ship).
#[utoipa::path(post, path = "/api/v1/orders/{id}/accept", tag = "network",
    security(("bearer" = [])), params(("id" = i64, Path, description = "Order id"),
        IdempotencyHeader),
    responses((status = 200, body = OrderView), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn accept(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    idem: IdempotencyKey,
) -> Result<Response> {
    step(state, caller, idem, &(), move |c, a| {
        cases::accept(c, id, a)
    })
    .await
}

/// The seller rejects the order.
#[utoipa::path(post, path = "/api/v1/orders/{id}/reject", tag = "network",
    security(("bearer" = [])), params(("id" = i64, Path, description = "Order id"),
        IdempotencyHeader),
    request_body = ReasonBody,
    responses((status = 200, body = OrderView), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn reject(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    idem: IdempotencyKey,
    Json(body): Json<ReasonBody>,
) -> Result<Response> {
    let reason = body.reason.clone();
    step(state, caller, idem, &body, move |c, a| {
        cases::reject(c, id, a, &reason)
    })
    .await
}

/// The seller, out of stock, forwards the order up its chain (一键提交上级代发).
#[utoipa::path(post, path = "/api/v1/orders/{id}/forward", tag = "network",
    security(("bearer" = [])), params(("id" = i64, Path, description = "Order id"),
        IdempotencyHeader),
    responses((status = 200, body = OrderView), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn forward(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    idem: IdempotencyKey,
) -> Result<Response> {
    step(state, caller, idem, &(), move |c, a| {
        cases::forward(c, id, a)
    })
    .await
}

/// Pays: the payee confirms an offline transfer, or the buyer pays from its wallet.
#[utoipa::path(post, path = "/api/v1/orders/{id}/pay", tag = "network",
    security(("bearer" = [])), params(("id" = i64, Path, description = "Order id"),
        IdempotencyHeader),
    request_body = PayBody,
    responses((status = 200, body = OrderView), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn pay(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    idem: IdempotencyKey,
    Json(body): Json<PayBody>,
) -> Result<Response> {
    let Some(via) = PaidVia::parse(&body.via) else {
        return Err(Error::BadRequest(format!(
            "via {:?}: use offline or wallet",
            body.via
        )));
    };
    step(state, caller, idem, &body, move |c, a| {
        payment::pay(c, id, via, a)
    })
    .await
}

/// Ships named item codes against the order (until handhelds scan them).
#[utoipa::path(post, path = "/api/v1/orders/{id}/ship", tag = "network",
    security(("bearer" = [])), params(("id" = i64, Path, description = "Order id"),
        IdempotencyHeader),
    request_body = ShipBody,
    responses((status = 200, body = ShipOutcome), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn ship(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    idem: IdempotencyKey,
    Json(body): Json<ShipBody>,
) -> Result<Response> {
    if body.serials.is_empty() || body.serials.len() > 10_000 {
        return Err(Error::BadRequest(
            "serials: give 1 to 10000 item serials".into(),
        ));
    }
    let who = CallerId::from(&caller);
    let serials = body.serials.clone();
    write_once(&state.db, who.user, idem, &body, StatusCode::OK, move |c| {
        let actor = actor_of(c, &who)?;
        shipping::may_ship(c, id, actor)?;
        let out = shipping::ship_items(c, id, actor.user(), &serials)?;
        Ok(ShipOutcome {
            accepted: out.accepted,
            rejected: out
                .rejected
                .into_iter()
                .map(|(serial, r)| ShipRejected {
                    serial,
                    reason: r.as_str().into(),
                })
                .collect(),
            state: out.state.as_str().to_string(),
            shipped_quantity: out.shipped_quantity,
        })
    })
    .await
}

/// The seller of a forwarding leg (代发) confirms that the leg's buyer paid it offline. An order
/// paid offline to an agent settles its margins outside the books: each agent of the chain pays
/// the one above it its own price, and each payee confirms here (HQ finance for a leg that ends
/// at HQ). Only after the order itself is paid; once per leg.
#[utoipa::path(post, path = "/api/v1/orders/{id}/legs/{position}/paid", tag = "network",
    security(("bearer" = [])), params(("id" = i64, Path, description = "Order id"),
        ("position" = i32, Path, description = "The leg's position (`legs[].position`)"),
        IdempotencyHeader),
    responses((status = 200, body = OrderView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 409, description = "`leg_not_due`, `leg_settled_in_books`, `leg_already_paid`", body = ErrorBody)))]
pub async fn leg_paid(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, position)): Path<(i64, i32)>,
    idem: IdempotencyKey,
) -> Result<Response> {
    step(state, caller, idem, &(), move |c, a| {
        payment::confirm_leg(c, id, position, a)
    })
    .await
}

/// The buyer confirms receipt: the items enter its custody.
#[utoipa::path(post, path = "/api/v1/orders/{id}/receive", tag = "network",
    security(("bearer" = [])), params(("id" = i64, Path, description = "Order id"),
        IdempotencyHeader),
    responses((status = 200, body = OrderView), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn receive(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    idem: IdempotencyKey,
) -> Result<Response> {
    step(state, caller, idem, &(), move |c, a| {
        shipping::receive(c, id, a, false)
    })
    .await
}

/// The buyer (or HQ finance) cancels before shipping starts; a paid restock is refunded.
#[utoipa::path(post, path = "/api/v1/orders/{id}/cancel", tag = "network",
    security(("bearer" = [])), params(("id" = i64, Path, description = "Order id"),
        IdempotencyHeader),
    request_body = ReasonBody,
    responses((status = 200, body = OrderView), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    idem: IdempotencyKey,
    Json(body): Json<ReasonBody>,
) -> Result<Response> {
    let reason = body.reason.clone();
    step(state, caller, idem, &body, move |c, a| {
        cases::cancel(c, id, a, &reason)
    })
    .await
}

/// HQ refunds returned items (by quantity): stored shares reversed, earnings clawed back.
#[utoipa::path(post, path = "/api/v1/orders/{id}/refund", tag = "network",
    security(("bearer" = [])), params(("id" = i64, Path, description = "Order id"),
        IdempotencyHeader),
    request_body = RefundBody,
    responses((status = 200, body = OrderView), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn refund(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    idem: IdempotencyKey,
    Json(body): Json<RefundBody>,
) -> Result<Response> {
    let input = refunds::RefundInput {
        sku: body.sku.clone(),
        quantity: body.quantity,
        serials: body.serials.clone(),
        reason: body.reason.clone(),
    };
    step(state, caller, idem, &body, move |c, a| {
        refunds::refund(c, id, &input, a)
    })
    .await
}

/// HQ opens or closes an after-sale case on the order.
#[utoipa::path(post, path = "/api/v1/orders/{id}/case", tag = "network",
    security(("bearer" = [])), params(("id" = i64, Path, description = "Order id"),
        IdempotencyHeader),
    request_body = CaseBody,
    responses((status = 200, body = OrderView), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn case(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    idem: IdempotencyKey,
    Json(body): Json<CaseBody>,
) -> Result<Response> {
    let open = body.open;
    step(state, caller, idem, &body, move |c, a| {
        cases::set_case(c, id, open, a)
    })
    .await
}
