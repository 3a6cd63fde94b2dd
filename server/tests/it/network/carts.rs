//! Issue 19 on both backends: prices per product and tier (授权价格), and orders of several lines.
//! A 区代's cart of three products is forwarded twice (its 市代 and 省代 hold none of it whole),
//! paid from its wallet, shipped line by line by the 总代, received and completed; its referrer
//! withdraws the rebate; then part of one line comes back. Every amount below is worked out by
//! hand from the prices in `DOCUMENT`, per line, each rounded once.

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use chainmark_server::domain::Role;
use chainmark_server::domain::custody::{CustodianKind, ItemStatus};
use chainmark_server::domain::network::{HqAccount, PaidVia};
use chainmark_server::domain::network::{OrderState, PartyKind};
use chainmark_server::network::{Actor, agents, orders, policy, shipping, withdrawals};
use chainmark_server::store::network::{agents as agents_store, orders as orders_store};
use chainmark_server::store::schema::{batches, items, postings};
use chainmark_server::store::typed::Stored;
use chainmark_server::store::users::now;
use diesel::prelude::*;
use serde_json::{Value, json};

use super::{Net, SKU, dec};
use crate::common::backends;

const OIL: &str = "OIL-1L";
const HONEY: &str = "HONEY-500";
/// Sold to the two top tiers only.
const JELLY: &str = "JELLY-100";

/// The seed-004 tiers (tea keeps their prices) with a price list for the other products.
fn document() -> String {
    chainmark_server::domain::network::policy::SEED_004.replacen("version = 1", "version = 2", 1)
        + r#"
[prices.OIL-1L]
national = "40.00"
provincial = "46.50"
city = "52.00"
district = "59.90"
special = "88.00"

[prices.HONEY-500]
national = "24.00"
provincial = "30.00"
city = "36.50"
district = "45.00"
special = "70.00"

[prices.JELLY-100]
national = "120.00"
provincial = "150.00"
"#
}

/// A product with a batch of its own; `n` of its items held by each of `holders`.
fn product(
    net: &Net,
    sku: &str,
    holders: &[((CustodianKind, Option<i64>), i64)],
) -> Vec<Vec<String>> {
    let mut conn = net.conn();
    let id = chainmark_server::store::products::create(
        &mut conn,
        &chainmark_server::store::products::NewProduct::named(sku, sku, 72),
    )
    .expect("product")
    .id;
    let batch = format!("B{}", sku.replace('-', ""));
    diesel::insert_into(batches::table)
        .values((
            batches::id.eq(&batch),
            batches::key_id.eq("k"),
            batches::product_id.eq(id),
            batches::item_count.eq(0i64),
            batches::case_count.eq(0i64),
            batches::case_size.eq(72),
            batches::production_date.eq(""),
            batches::created_at.eq(now()),
            batches::imported_at.eq(now()),
            batches::import_sha256.eq(format!("fixture-{sku}")),
            batches::status.eq(Stored(ItemStatus::Active)),
        ))
        .execute(&mut conn)
        .expect("batch");
    let mut next = 0i64;
    let mut out = Vec::new();
    for (holder, n) in holders {
        let serials: Vec<String> = (next..next + n).map(|i| format!("{batch}{i:06}")).collect();
        for (k, s) in serials.iter().enumerate() {
            diesel::insert_into(items::table)
                .values((
                    items::serial.eq(s),
                    items::batch_id.eq(&batch),
                    items::item_index.eq(next + k as i64),
                    items::code_hash.eq("h"),
                    items::status.eq(Stored(ItemStatus::Active)),
                    items::custodian_kind.eq(Stored(holder.0)),
                    items::custodian_id.eq(holder.1),
                ))
                .execute(&mut conn)
                .expect("item");
        }
        next += n;
        out.push(serials);
    }
    out
}

/// An active agent with an account that signs in.
async fn agent(net: &Net, name: &str, tier: &str, referrer: Option<i64>) -> (i64, Actor, String) {
    let token = net.app.token_for(name, Role::Agent).await;
    let mut conn = net.conn();
    let user = chainmark_server::store::users::find_by_username(&mut conn, name)
        .expect("lookup")
        .expect("user")
        .id;
    let input = agents::NewAgentInput {
        name: name.into(),
        tier: tier.into(),
        referrer_id: referrer,
        region: "330100".into(),
        user_id: Some(user),
    };
    let id = agents::create(&mut conn, input, net.admin.user())
        .expect("agent")
        .id;
    let rank = net.agent(id).tier_rank;
    assert!(agents_store::activate(&mut conn, id, rank, 0).expect("activate"));
    agents::recompute_below(&mut conn, id, true).expect("recompute");
    (id, Actor::Agent { user, agent: id }, token)
}

async fn call(
    net: &Net,
    method: Method,
    path: &str,
    body: Option<Value>,
    token: &str,
    key: Option<&str>,
) -> (StatusCode, HeaderMap, Value) {
    let mut b = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"));
    if let Some(k) = key {
        b = b.header("Idempotency-Key", k);
    }
    let req = match body {
        Some(v) => b
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(v.to_string())),
        None => b.body(Body::empty()),
    }
    .expect("request");
    let (status, headers, bytes) = net.app.send(req).await;
    (
        status,
        headers,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn posting_count(net: &Net) -> i64 {
    postings::table
        .count()
        .get_result(&mut net.conn())
        .expect("count")
}

#[tokio::test]
async fn a_three_product_cart_forwarded_twice_paid_shipped_by_line_and_partly_refunded() {
    for backend in backends() {
        let net = Net::new(backend);
        {
            let mut conn = net.conn();
            let draft = policy::save_draft(&mut conn, &document(), net.admin.user())
                .expect("a valid price list");
            policy::activate(&mut conn, draft.version, net.admin.user()).expect("activate");
        }
        // 总代 N ← 省代 P ← 市代 C ← 区代 R (referrer) ← 区代 D (buyer): D buys from C.
        let (n, _, _) = agent(&net, "national", "national", None).await;
        let (p, _, _) = agent(&net, "provincial", "provincial", Some(n)).await;
        let (c, c_actor, _) = agent(&net, "city", "city", Some(p)).await;
        let (r, r_actor, _) = agent(&net, "referrer", "district", Some(c)).await;
        let (d, d_actor, d_token) = agent(&net, "buyer", "district", Some(r)).await;
        assert_eq!(net.agent(d).supplier_id, Some(c), "{backend:?}");
        let finance = net.app.token_for("finance-api", Role::HqFinance).await;
        let national = (CustodianKind::Agent, Some(n));
        // P holds tea and oil but not honey: not the whole cart, so the order climbs past it.
        let tea = net.items(national, 10);
        net.items((CustodianKind::Agent, Some(p)), 10);
        let oil = product(
            &net,
            OIL,
            &[(national, 7), ((CustodianKind::Agent, Some(p)), 7)],
        )
        .remove(0);
        let honey = product(&net, HONEY, &[(national, 13)]).remove(0);
        let jelly = product(&net, JELLY, &[(national, 2)]).remove(0);

        // An agent sees its own prices, and only its own.
        let (status, _, mine) = call(
            &net,
            Method::GET,
            "/api/v1/agents/me/prices",
            None,
            &d_token,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{backend:?}: {mine}");
        let listed: Vec<(String, String)> = mine["products"]
            .as_array()
            .expect("products")
            .iter()
            .map(|p| {
                (
                    p["sku"].as_str().unwrap_or("").to_string(),
                    p["unit_price"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        assert_eq!(
            listed,
            [
                (HONEY.to_string(), "45.00".to_string()),
                (OIL.into(), "59.90".into()),
                (SKU.into(), "38.00".into())
            ],
            "its tier's prices; no jelly (no price at 区代), no other tier's"
        );
        let (status, _, _) = call(&net, Method::GET, "/api/v1/policy", None, &d_token, None).await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "the whole price list is HQ's"
        );

        // A product without a price at the buyer's tier cannot be ordered at it.
        let (status, _, refused) = call(
            &net,
            Method::POST,
            "/api/v1/orders",
            Some(json!({"lines": [{"sku": SKU, "quantity": 1}, {"sku": JELLY, "quantity": 1}]})),
            &d_token,
            Some("jelly"),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend:?}: {refused}"
        );
        assert_eq!(refused["error"]["code"], "not_priced");
        let message = refused["error"]["message"].as_str().expect("message");
        assert!(
            message.contains("没有区代的授权价格")
                && message.contains("no price for the district tier"),
            "{message}"
        );
        let _ = jelly;

        // The cart, placed twice with one key: one order.
        let cart = json!({"lines": [
            {"sku": SKU, "quantity": 10},
            {"sku": OIL, "quantity": 7},
            {"sku": HONEY, "quantity": 13},
        ]});
        let (status, _, order) = call(
            &net,
            Method::POST,
            "/api/v1/orders",
            Some(cart.clone()),
            &d_token,
            Some("cart-1"),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{backend:?}: {order}");
        let (_, again_headers, again) = call(
            &net,
            Method::POST,
            "/api/v1/orders",
            Some(cart),
            &d_token,
            Some("cart-1"),
        )
        .await;
        assert_eq!(again["id"], order["id"], "a replay places nothing");
        assert!(again_headers.get("idempotent-replayed").is_some());
        let id = order["id"].as_i64().expect("id");
        // 10 × 38.00 + 7 × 59.90 + 13 × 45.00 = 380.00 + 419.30 + 585.00
        assert_eq!(order["goods_amount"], "1384.30", "{order}");
        assert_eq!(order["quantity"], 30);
        assert_eq!(
            order["product_id"],
            Value::Null,
            "a cart has no one product"
        );
        let prices: Vec<&str> = order["lines"]
            .as_array()
            .expect("lines")
            .iter()
            .map(|l| l["unit_price"].as_str().unwrap_or(""))
            .collect();
        assert_eq!(prices, ["38.00", "59.90", "45.00"]);

        // C holds nothing: it forwards; P lacks honey; the 总代 holds all three and ships.
        assert!(
            orders::accept(&mut net.conn(), id, c_actor).is_err(),
            "C cannot accept"
        );
        let row = orders::forward(&mut net.conn(), id, c_actor).expect("forward");
        assert_eq!(
            (row.shipper_kind, row.shipper_id),
            (Some(PartyKind::Agent), Some(n))
        );
        let legs = orders_store::legs_of(&mut net.conn(), &[id]).expect("legs");
        let margins: Vec<_> = legs.iter().map(|l| (l.buyer_id, l.margin_cents)).collect();
        // C: 10 × 7.00 + 7 × 7.90 + 13 × 8.50 = 70.00 + 55.30 + 110.50;
        // P: 10 × 6.00 + 7 × 5.50 + 13 × 6.50 = 60.00 + 38.50 + 84.50.
        assert_eq!(
            margins,
            [(d, None), (c, Some(23_580)), (p, Some(18_300))],
            "{backend:?}"
        );

        // Paid from the wallet, twice with one key: booked once.
        net.deposit(d, "1500.00");
        let (status, _, paid) = call(
            &net,
            Method::POST,
            &format!("/api/v1/orders/{id}/pay"),
            Some(json!({"via": "wallet"})),
            &d_token,
            Some("pay-1"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{backend:?}: {paid}");
        let booked = posting_count(&net);
        let (_, h, _) = call(
            &net,
            Method::POST,
            &format!("/api/v1/orders/{id}/pay"),
            Some(json!({"via": "wallet"})),
            &d_token,
            Some("pay-1"),
        )
        .await;
        assert!(h.get("idempotent-replayed").is_some());
        assert_eq!(
            posting_count(&net),
            booked,
            "a replayed payment books nothing"
        );
        let rebates: Vec<&str> = paid["lines"]
            .as_array()
            .expect("lines")
            .iter()
            .map(|l| l["rebate"].as_str().unwrap_or(""))
            .collect();
        // 7% per line, rounded once: 26.60, 29.351 → 29.35, 40.95.
        assert_eq!(rebates, ["26.60", "29.35", "40.95"], "{paid}");
        assert_eq!(paid["rebate"], "96.90");
        let shipper: Vec<&str> = paid["lines"]
            .as_array()
            .expect("lines")
            .iter()
            .map(|l| l["shipper_amount"].as_str().unwrap_or(""))
            .collect();
        assert_eq!(
            shipper,
            ["250.00", "325.50", "390.00"],
            "the 总代's own prices"
        );
        assert_eq!(net.available(d), dec("115.70"));
        assert_eq!(
            (net.frozen(c), net.frozen(p), net.frozen(r)),
            (dec("235.80"), dec("183.00"), dec("96.90"))
        );

        // Shipped line by line: tea first; a tea item more is beyond its line.
        let out = shipping::ship_items(&mut net.conn(), id, None, &tea).expect("ship tea");
        assert_eq!(
            (out.accepted.len(), out.state.as_str()),
            (10, "shipping"),
            "{:?}",
            out.rejected
        );
        let lines = orders_store::lines_of(&mut net.conn(), &[id]).expect("lines");
        assert_eq!(
            lines.iter().map(|l| l.shipped_quantity).collect::<Vec<_>>(),
            [10, 0, 0]
        );
        let extra = net.items(national, 1);
        let out = shipping::ship_items(&mut net.conn(), id, None, &extra).expect("answered");
        assert_eq!(
            out.rejected[0].1,
            shipping::ShipRejection::QuantityExceeded,
            "the tea line is full"
        );
        let out =
            shipping::ship_items(&mut net.conn(), id, None, &[jelly_item(&net)]).expect("answered");
        assert_eq!(out.rejected[0].1, shipping::ShipRejection::NotOnOrder);
        let rest: Vec<String> = oil.iter().chain(&honey).cloned().collect();
        let out = shipping::ship_items(&mut net.conn(), id, None, &rest).expect("ship the rest");
        assert_eq!(out.state, OrderState::Shipped, "{:?}", out.rejected);
        shipping::receive(&mut net.conn(), id, d_actor, false).expect("receive");

        // Completed; the referrer withdraws its whole rebate.
        assert_eq!(net.settle_after(8).completed, 1, "{backend:?}");
        assert_eq!(net.available(r), dec("96.90"));
        assert_eq!(net.available(n), dec("965.50"), "250.00 + 325.50 + 390.00");
        let w = withdrawals::request(&mut net.conn(), r_actor, dec("96.90")).expect("withdraw");
        withdrawals::decide(&mut net.conn(), w.id, true, None, net.finance).expect("approve");
        assert_eq!(net.available(r), dec("0"));

        // 5 of the 13 honey come back, after completion and the withdrawal: the honey line's
        // stored amounts × 5/13 — shipper 150.00, C 42.50, P 32.50 back to the buyer (225.00 =
        // 5 × 45.00), the rebate's 15.75 clawed back into the negative.
        let refund =
            json!({"sku": HONEY, "quantity": 5, "serials": honey[..5], "reason": "damaged jars"});
        let before = posting_count(&net);
        let (status, _, refunded) = call(
            &net,
            Method::POST,
            &format!("/api/v1/orders/{id}/refund"),
            Some(refund.clone()),
            &finance,
            Some("refund-1"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{backend:?}: {refunded}");
        assert_eq!(posting_count(&net), before + 1);
        let (_, h, _) = call(
            &net,
            Method::POST,
            &format!("/api/v1/orders/{id}/refund"),
            Some(refund),
            &finance,
            Some("refund-1"),
        )
        .await;
        assert!(h.get("idempotent-replayed").is_some());
        assert_eq!(
            posting_count(&net),
            before + 1,
            "a replayed refund books nothing"
        );
        assert_eq!(refunded["state"], "partially_refunded");
        let returned: Vec<i64> = refunded["lines"]
            .as_array()
            .expect("lines")
            .iter()
            .map(|l| l["returned_quantity"].as_i64().unwrap_or(-1))
            .collect();
        assert_eq!(returned, [0, 0, 5]);
        assert_eq!(net.available(d), dec("340.70"), "115.70 + 225.00");
        assert_eq!(
            net.available(r),
            dec("-15.75"),
            "the balance may go negative"
        );
        assert_eq!(net.available(c), dec("193.30"), "235.80 − 42.50");
        assert_eq!(net.available(p), dec("150.50"), "183.00 − 32.50");
        assert_eq!(net.available(n), dec("815.50"), "965.50 − 150.00");
        assert!(
            withdrawals::request(&mut net.conn(), r_actor, dec("0.01")).is_err(),
            "blocked"
        );
        let row = net.order(id);
        assert_eq!(
            (row.returned_quantity, row.returned_amount_cents),
            (5, 22_500)
        );
        assert_eq!(
            net.hq(HqAccount::RebateExpense),
            dec("-81.15"),
            "96.90 − 15.75"
        );
        // A refund without saying which line is refused on a cart.
        let (status, _, _) = call(
            &net,
            Method::POST,
            &format!("/api/v1/orders/{id}/refund"),
            Some(json!({"quantity": 1, "reason": "?"})),
            &finance,
            Some("refund-2"),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        net.assert_books_balance();
        let _ = PaidVia::Wallet;
    }
}

/// A jelly item (not on the cart) held by the 总代.
fn jelly_item(net: &Net) -> String {
    items::table
        .filter(items::batch_id.eq("BJELLY100"))
        .select(items::serial)
        .first(&mut net.conn())
        .expect("a jelly item")
}

/// A pending agent's entry order by amount: 特约 enters with 300.00 of goods, of any products.
#[test]
fn an_entry_threshold_by_amount_counts_the_goods_of_every_line() {
    for backend in backends() {
        let net = Net::new(backend);
        let doc = document().replacen("entry_quantity = 4", "entry_amount = \"300.00\"", 1);
        {
            let mut conn = net.conn();
            let draft = policy::save_draft(&mut conn, &doc, net.admin.user()).expect("valid");
            policy::activate(&mut conn, draft.version, net.admin.user()).expect("activate");
        }
        product(&net, HONEY, &[]);
        let (_, s_actor) = net.pending("special", "special", None);
        // 2 × 60.00 + 2 × 70.00 = 260.00: short of 300.00.
        let short = orders::OrderInput {
            lines: vec![
                orders::LineInput {
                    sku: SKU.into(),
                    quantity: 2,
                },
                orders::LineInput {
                    sku: HONEY.into(),
                    quantity: 2,
                },
            ],
        };
        let e = orders::submit(&mut net.conn(), s_actor, &short).expect_err("short");
        assert!(e.to_string().contains("300.00"), "{backend:?}: {e}");
        // 2 × 60.00 + 3 × 70.00 = 330.00.
        let enough = orders::OrderInput {
            lines: vec![
                orders::LineInput {
                    sku: SKU.into(),
                    quantity: 2,
                },
                orders::LineInput {
                    sku: HONEY.into(),
                    quantity: 3,
                },
            ],
        };
        let row = orders::submit(&mut net.conn(), s_actor, &enough).expect("entry");
        assert_eq!(
            (row.kind.as_str(), row.goods_amount_cents),
            ("entry", 33_000)
        );
    }
}

/// The migration carries an order placed before carts over unchanged: its one line holds its
/// product, quantity, price, chain, shipped and returned counts and its booked money; its legs'
/// prices move to the line's legs; its refund points at the line; and the order's money reads
/// back exactly as it was booked.
#[test]
fn the_migration_carries_single_line_orders_over_unchanged() {
    for backend in backends() {
        let net = Net::new(backend);
        let (buyer, _) = net.active("old-buyer", "district", None);
        let (mid, _) = net.active("old-city", "city", None);
        // Back to just before the carts' migration (later ones first).
        let mut reverted = Vec::new();
        while !reverted
            .last()
            .is_some_and(|v: &String| v.starts_with("20261207000600"))
        {
            let version = net.app.db.db.revert_last_migration().expect("revert");
            assert!(
                version.as_str() > "20261207000500",
                "{backend:?}: reverted past the carts: {reverted:?}"
            );
            reverted.push(version);
        }
        let product: i64 = chainmark_server::store::schema::products::table
            .select(chainmark_server::store::schema::products::id)
            .first(&mut net.conn())
            .expect("product");
        let mut conn = net.conn();
        let sql = [
            format!(
                "INSERT INTO restock_orders (kind, buyer_id, product_id, tier_rank, seller_kind, \
                 seller_id, supplier_chain, quantity, unit_price_cents, goods_amount_cents, \
                 policy_version, receive_days, state, shipper_kind, shipper_id, \
                 shipper_amount_cents, paid_via, rebate_agent_id, rebate_cents, return_days, \
                 shipped_quantity, returned_quantity, open_case, created_at, paid_at) VALUES \
                 ('restock', {buyer}, {product}, 4, 'agent', {mid}, '{mid}@3100', 20, 3800, \
                 76000, 1, 10, 'partially_refunded', 'hq', NULL, 62000, 'wallet', {mid}, 5320, \
                 7, 20, 3, false, '2026-12-01 10:00:00', '2026-12-01 11:00:00')"
            ),
            "INSERT INTO order_legs (order_id, position, buyer_id, seller_kind, seller_id, \
             unit_price_cents, goods_amount_cents, margin_cents) SELECT id, 0, buyer_id, 'agent', \
             seller_id, 3800, 76000, NULL FROM restock_orders"
                .to_string(),
            format!(
                "INSERT INTO order_legs (order_id, position, buyer_id, seller_kind, seller_id, \
                 unit_price_cents, goods_amount_cents, margin_cents) SELECT id, 1, {mid}, 'hq', \
                 NULL, 3100, 62000, 14000 FROM restock_orders"
            ),
            "INSERT INTO order_refunds (order_id, quantity, returned_before, after_completion, \
             reason, at) SELECT id, 3, 0, false, 'old', '2026-12-02 10:00:00' FROM restock_orders"
                .to_string(),
        ];
        for s in &sql {
            diesel::sql_query(s.as_str())
                .execute(&mut *conn)
                .unwrap_or_else(|e| panic!("{backend:?}: {e}: {s}"));
        }
        drop(conn);
        net.app.db.db.migrate().expect("migrate again");

        let row = orders_store::list(&mut net.conn(), orders_store::Listing::All, None, 0, 10)
            .expect("orders")
            .pop()
            .expect("the old order");
        assert_eq!(
            (
                row.quantity,
                row.goods_amount_cents,
                row.returned_quantity,
                row.returned_amount_cents
            ),
            (20, 76_000, 3, 11_400),
            "{backend:?}: 3 × 38.00 returned"
        );
        let full = orders_store::get_full(&mut net.conn(), row.id).expect("full");
        let l = &full.lines[0];
        assert_eq!(full.lines.len(), 1);
        assert_eq!(
            (
                l.product_id,
                l.quantity,
                l.unit_price_cents,
                l.goods_amount_cents
            ),
            (product, 20, 3800, 76_000)
        );
        assert_eq!(l.supplier_chain, format!("{mid}@3100"));
        assert_eq!(
            (
                l.shipped_quantity,
                l.returned_quantity,
                l.shipper_amount_cents,
                l.rebate_cents
            ),
            (20, 3, Some(62_000), Some(5320))
        );
        let prices: Vec<_> = full
            .line_legs
            .iter()
            .map(|g| (g.position, g.unit_price_cents, g.margin_cents))
            .collect();
        assert_eq!(prices, [(0, 3800, None), (1, 3100, Some(14_000))]);
        let refund_line: Option<i64> = chainmark_server::store::schema::order_refunds::table
            .select(chainmark_server::store::schema::order_refunds::line_id)
            .first(&mut net.conn())
            .expect("refund");
        assert_eq!(refund_line, Some(l.id));
        let b = chainmark_server::network::book::booked(&full).expect("booked as before");
        assert_eq!(b.goods_amount(), dec("760.00"));
        assert_eq!(b.shipper_amount(), dec("620.00"));
        assert_eq!(
            b.margins().iter().map(|m| m.amount).collect::<Vec<_>>(),
            [dec("140.00")]
        );
        assert_eq!(b.rebate().map(|r| r.amount), Some(dec("53.20")));
    }
}
