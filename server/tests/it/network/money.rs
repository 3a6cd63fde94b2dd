//! Issue 15, the money part, through the router on both backends: idempotency keys on requests
//! that move money or stock (a duplicate — sent again, or at the same moment — books once), the
//! upgrade top-up of DOMAIN §5 (quantities, legs, margins and bookings agree; a top-up of 0.00
//! upgrades on confirmation; a top-up of no items upgrades at once), money with two decimals, and
//! statements of other agents refused.

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use chainmark_server::domain::Role;
use chainmark_server::domain::custody::CustodianKind;
use chainmark_server::domain::network::{HqAccount, PaidVia, PostingKind};
use chainmark_server::network::{Actor, agents, orders};
use chainmark_server::store::network::agents as agents_store;
use chainmark_server::store::schema::postings;
use chainmark_server::store::typed::Stored;
use diesel::prelude::*;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::{Net, SKU, dec};
use crate::common::backends;

/// An agent with an account that can sign in: `(agent id, actor, bearer token)`. Active at its
/// tier when `active` (as an imported agent would be), pending otherwise.
async fn agent(
    net: &Net,
    name: &str,
    tier: &str,
    referrer: Option<i64>,
    active: bool,
) -> (i64, Actor, String) {
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
        .expect("create agent")
        .id;
    if active {
        let rank = net.agent(id).tier_rank;
        assert!(agents_store::activate(&mut conn, id, rank, 0).expect("activate"));
        agents::recompute_below(&mut conn, id, true).expect("recompute");
    }
    (id, Actor::Agent { user, agent: id }, token)
}

/// A JSON request with an optional `Idempotency-Key`.
fn request(
    method: Method,
    path: &str,
    body: Option<&Value>,
    token: &str,
    key: Option<&str>,
) -> Request<Body> {
    let mut b = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"));
    if let Some(k) = key {
        b = b.header("Idempotency-Key", k);
    }
    match body {
        Some(v) => b
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(v.to_string())),
        None => b.body(Body::empty()),
    }
    .expect("request")
}

async fn send(net: &Net, req: Request<Body>) -> (StatusCode, HeaderMap, Value) {
    let (status, headers, bytes) = net.app.send(req).await;
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, headers, body)
}

fn replayed(h: &HeaderMap) -> bool {
    h.get("idempotent-replayed").is_some_and(|v| v == "true")
}

fn money(v: &Value) -> Decimal {
    dec(v
        .as_str()
        .unwrap_or_else(|| panic!("money as a string, got {v}")))
}

fn postings_of(net: &Net, order: i64, kind: PostingKind) -> i64 {
    postings::table
        .filter(postings::order_id.eq(order))
        .filter(postings::kind.eq(Stored(kind)))
        .count()
        .get_result(&mut net.conn())
        .expect("count postings")
}

/// A district agent A (referred by district agent R: 7% rebate) with a received entry order of
/// 20 items from HQ, and a finance token to refund it with.
async fn received_order(net: &Net) -> (i64, i64, i64, String) {
    let (r, _, _) = agent(net, "referrer", "district", None, true).await;
    let (a, a_actor, _) = agent(net, "buyer", "district", Some(r), false).await;
    net.items((CustodianKind::Hq, None), 20);
    let order = net.submit(a_actor, 20);
    orders::accept(&mut net.conn(), order, net.admin).expect("accept");
    net.pay(order, PaidVia::Offline, net.finance);
    net.ship_and_receive(order, a_actor);
    assert_eq!(net.frozen(r), dec("53.20"), "7% × 760.00");
    let finance = net.app.token_for("finance-api", Role::HqFinance).await;
    (order, a, r, finance)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_refund_sent_twice_at_once_books_once() {
    for backend in backends() {
        let net = Net::new(backend);
        let (order, a, r, finance) = received_order(&net).await;
        let path = format!("/api/v1/orders/{order}/refund");
        let body = json!({"quantity": 1, "reason": "damaged in transit"});
        let key = "5b0f7d5e-refund-1";
        let first = request(Method::POST, &path, Some(&body), &finance, Some(key));
        let second = request(Method::POST, &path, Some(&body), &finance, Some(key));
        let ((s1, h1, b1), (s2, h2, b2)) = tokio::join!(send(&net, first), send(&net, second));
        assert_eq!(
            (s1, s2),
            (StatusCode::OK, StatusCode::OK),
            "{backend:?}: {b1} / {b2}"
        );
        assert_eq!(b1, b2, "{backend:?}: both get the one answer");
        assert_eq!(b1["returned_quantity"], 1, "{backend:?}: {b1}");
        assert_eq!(
            [replayed(&h1), replayed(&h2)]
                .iter()
                .filter(|r| **r)
                .count(),
            1,
            "{backend:?}: one ran, one was answered from the stored answer"
        );
        assert_eq!(net.order(order).returned_quantity, 1, "{backend:?}");
        assert_eq!(
            postings_of(&net, order, PostingKind::Refund),
            1,
            "{backend:?}: one refund posting"
        );
        assert_eq!(
            net.frozen(r),
            dec("50.54"),
            "{backend:?}: one clawback of 2.66"
        );
        assert_eq!(
            net.available(a),
            dec("38.00"),
            "{backend:?}: one item refunded to the wallet"
        );
        net.assert_books_balance();
    }
}

#[tokio::test]
async fn a_retry_with_the_same_key_gets_the_first_answer_and_books_nothing() {
    for backend in backends() {
        let net = Net::new(backend);
        let (order, a, r, finance) = received_order(&net).await;
        let path = format!("/api/v1/orders/{order}/refund");
        let body = json!({"quantity": 1, "reason": "damaged in transit"});
        let (status, h, first) = send(
            &net,
            request(Method::POST, &path, Some(&body), &finance, Some("k-1")),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{backend:?}: {first}");
        assert!(!replayed(&h));
        // The client timed out and retries: the same answer, nothing booked again.
        let (status, h, again) = send(
            &net,
            request(Method::POST, &path, Some(&body), &finance, Some("k-1")),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{backend:?}: {again}");
        assert!(replayed(&h), "{backend:?}: marked as a replay");
        assert_eq!(again, first);
        assert_eq!(net.order(order).returned_quantity, 1);
        assert_eq!(postings_of(&net, order, PostingKind::Refund), 1);

        // The same key with another request is refused, and changes nothing.
        let other = json!({"quantity": 2, "reason": "damaged in transit"});
        let (status, _, refused) = send(
            &net,
            request(Method::POST, &path, Some(&other), &finance, Some("k-1")),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend:?}: {refused}"
        );
        assert_eq!(
            refused["error"]["code"], "idempotency_key_reused",
            "{refused}"
        );
        assert_eq!(net.order(order).returned_quantity, 1);
        assert_eq!(postings_of(&net, order, PostingKind::Refund), 1);

        // A key that is not one is named.
        let (status, _, bad) = send(
            &net,
            request(
                Method::POST,
                &path,
                Some(&body),
                &finance,
                Some("has space"),
            ),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(
            bad["error"]["message"]
                .as_str()
                .unwrap_or("")
                .contains("Idempotency-Key")
        );

        // Without a key, as before: each request is a refund of its own.
        for _ in 0..2 {
            let (status, _, b) = send(
                &net,
                request(Method::POST, &path, Some(&body), &finance, None),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{b}");
        }
        assert_eq!(net.order(order).returned_quantity, 3, "{backend:?}");
        assert_eq!(postings_of(&net, order, PostingKind::Refund), 3);
        assert_eq!(net.frozen(r), dec("53.20") - dec("2.66") * Decimal::from(3));
        assert_eq!(net.available(a), dec("114.00"), "three items refunded");
        net.assert_books_balance();
    }
}

/// The other routes that move money take the key too: a withdrawal requested twice is one
/// withdrawal, a payment confirmed twice is one payment (the second answer is the first's, not
/// a 409 the client would have to interpret).
#[tokio::test]
async fn withdrawals_and_payments_take_the_key_too() {
    for backend in backends() {
        let net = Net::new(backend);
        let (a, a_actor, a_token) = agent(&net, "wallet-agent", "district", None, true).await;
        net.deposit(a, "1000.00");
        let body = json!({"amount": "150.00"});
        let mut answers = Vec::new();
        for _ in 0..2 {
            let (status, _, b) = send(
                &net,
                request(
                    Method::POST,
                    "/api/v1/withdrawals",
                    Some(&body),
                    &a_token,
                    Some("w-1"),
                ),
            )
            .await;
            assert_eq!(status, StatusCode::CREATED, "{backend:?}: {b}");
            answers.push(b);
        }
        assert_eq!(answers[0], answers[1]);
        assert_eq!(
            net.available(a),
            dec("850.00"),
            "{backend:?}: withdrawn once"
        );

        net.items((CustodianKind::Hq, None), 20);
        let order = net.submit(a_actor, 20);
        orders::accept(&mut net.conn(), order, net.admin).expect("accept");
        let pay = json!({"via": "wallet"});
        let path = format!("/api/v1/orders/{order}/pay");
        for _ in 0..2 {
            let (status, _, b) = send(
                &net,
                request(Method::POST, &path, Some(&pay), &a_token, Some("pay-1")),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{backend:?}: {b}");
            assert_eq!(b["state"], "paid");
        }
        assert_eq!(
            net.available(a),
            dec("90.00"),
            "{backend:?}: 760.00 paid once"
        );
        assert_eq!(postings_of(&net, order, PostingKind::Paid), 1);
        net.assert_books_balance();
    }
}

/// 总代 N (holds stock) ← 省代 P ← 区代 X. X's entry order was 24 items at 38.00 (912.00); with three
/// referred 市代 it upgrades to 市代 (72 at 31.00). DOMAIN §5: 48 items, goods 48 × 31.00 =
/// 1,488.00, credit 24 × (38.00 − 31.00) = 168.00 borne by HQ, X pays 1,320.00. The order goes to
/// P (X's supplier as a 市代), who forwards it to N: legs 1,488.00 (X→P) and 48 × 25.00 = 1,200.00
/// (P→N), P's margin 48 × 6.00 = 288.00, N is booked its leg, 1,200.00.
#[tokio::test]
async fn a_forwarded_top_up_agrees_with_its_legs_and_bookings() {
    for backend in backends() {
        let net = Net::new(backend);
        let (n, _, _) = agent(&net, "national", "national", None, true).await;
        net.items((CustodianKind::Agent, Some(n)), 100);
        let (p, p_actor, p_token) = agent(&net, "provincial", "provincial", Some(n), true).await;
        let (x, x_actor, x_token) = agent(&net, "district-x", "district", Some(p), false).await;
        net.items((CustodianKind::Agent, Some(p)), 24);
        let entry = net.submit(x_actor, 24);
        orders::accept(&mut net.conn(), entry, p_actor).expect("accept");
        net.pay(entry, PaidVia::Offline, p_actor);
        net.ship_and_receive(entry, x_actor);
        for i in 0..3 {
            let (c, _, _) = agent(&net, &format!("city-{i}"), "city", Some(x), false).await;
            assert!(agents_store::activate(&mut net.conn(), c, 3, 223_200).expect("activate"));
        }

        let (status, progress) = net
            .app
            .json(
                Method::GET,
                "/api/v1/agents/me/upgrade",
                None,
                Some(&x_token),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{progress}");
        assert_eq!(progress["top_up_quantity"], 48, "{backend:?}: {progress}");
        assert_eq!(progress["top_up_amount"], "1320.00", "{progress}");

        let (status, order) = net
            .app
            .json(
                Method::POST,
                "/api/v1/agents/me/upgrade",
                Some(json!({"sku": SKU})),
                Some(&x_token),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{backend:?}: {order}");
        let id = order["id"].as_i64().expect("id");
        assert_eq!(order["quantity"], 48, "{order}");
        assert_eq!(order["unit_price"], "31.00");
        assert_eq!(order["goods_amount"], "1488.00");
        assert_eq!(
            money(&order["unit_price"]) * Decimal::from(48),
            money(&order["goods_amount"]),
            "quantity × unit price is the goods amount"
        );
        assert_eq!(order["upgrade_allowance"], "168.00", "{order}");
        assert_eq!(order["amount_due"], "1320.00", "{order}");
        assert_eq!(order["seller_id"], p);

        let (status, fwd) = net
            .app
            .json(
                Method::POST,
                &format!("/api/v1/orders/{id}/forward"),
                None,
                Some(&p_token),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{backend:?}: {fwd}");
        let legs = fwd["legs"].as_array().expect("legs");
        assert_eq!(legs.len(), 2, "{fwd}");
        assert_eq!(
            (
                &legs[0]["buyer_id"],
                &legs[0]["unit_price"],
                &legs[0]["goods_amount"]
            ),
            (&json!(x), &json!("31.00"), &fwd["goods_amount"]),
            "the first leg is the order itself"
        );
        assert_eq!(
            (
                &legs[1]["buyer_id"],
                &legs[1]["seller_id"],
                &legs[1]["goods_amount"]
            ),
            (&json!(p), &json!(n), &json!("1200.00"))
        );
        assert_eq!(legs[1]["margin"], "288.00", "48 × (31.00 − 25.00)");
        assert_eq!(fwd["shipper_id"], n);

        net.deposit(x, "1320.00");
        let (status, paid) = net
            .app
            .json(
                Method::POST,
                &format!("/api/v1/orders/{id}/pay"),
                Some(json!({"via": "wallet"})),
                Some(&x_token),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{backend:?}: {paid}");
        assert_eq!(
            paid["shipper_amount"], legs[1]["goods_amount"],
            "the shipper gets its leg"
        );
        assert_eq!(
            money(&paid["shipper_amount"]) + money(&legs[1]["margin"]),
            money(&paid["goods_amount"])
        );
        assert_eq!(
            net.agent(x).tier_rank,
            3,
            "{backend:?}: upgraded on payment"
        );
        assert_eq!(net.available(x), Decimal::ZERO, "X paid 1,320.00, no more");
        assert_eq!(net.frozen(p), dec("288.00"));
        assert_eq!(net.hq(HqAccount::Payables), dec("1200.00"));
        assert_eq!(
            net.hq(HqAccount::RebateExpense),
            dec("-168.00"),
            "HQ bears the credit"
        );
        net.assert_books_balance();

        net.ship_and_receive(id, x_actor);
        net.settle_after(30);
        assert_eq!(
            net.available(n),
            dec("1200.00"),
            "{backend:?}: N is paid its leg"
        );
        assert_eq!(net.available(p), dec("288.00"));
        assert_eq!(net.hq(HqAccount::Payables), Decimal::ZERO);
        net.assert_books_balance();
    }
}

/// 区代 X with an entry of 60 items at 38.00 (2,280.00 ≥ 72 × 31.00): its top-up to 市代 is 12
/// items (372.00), fully covered by its 420.00 credit, so it pays 0.00. Forwarded by P to N, P
/// confirms the (nil) payment and X is upgraded; HQ's allowance of 372.00 reaches P, who owes N
/// 300.00 for its leg and keeps its 72.00 margin.
#[tokio::test]
async fn a_forwarded_zero_top_up_upgrades_on_confirmation() {
    for backend in backends() {
        let net = Net::new(backend);
        let (n, _, _) = agent(&net, "national", "national", None, true).await;
        net.items((CustodianKind::Agent, Some(n)), 100);
        let (p, p_actor, p_token) = agent(&net, "provincial", "provincial", Some(n), true).await;
        let (x, x_actor, x_token) = agent(&net, "district-x", "district", Some(p), false).await;
        net.items((CustodianKind::Agent, Some(p)), 60);
        let entry = net.submit(x_actor, 60);
        orders::accept(&mut net.conn(), entry, p_actor).expect("accept");
        net.pay(entry, PaidVia::Offline, p_actor);
        net.ship_and_receive(entry, x_actor);
        for i in 0..3 {
            let (c, _, _) = agent(&net, &format!("city-{i}"), "city", Some(x), false).await;
            assert!(agents_store::activate(&mut net.conn(), c, 3, 223_200).expect("activate"));
        }

        let (_, progress) = net
            .app
            .json(
                Method::GET,
                "/api/v1/agents/me/upgrade",
                None,
                Some(&x_token),
            )
            .await;
        assert_eq!(progress["top_up_quantity"], 12, "{backend:?}: {progress}");
        assert_eq!(
            progress["top_up_amount"], "0.00",
            "two decimals: {progress}"
        );

        let (status, order) = net
            .app
            .json(
                Method::POST,
                "/api/v1/agents/me/upgrade",
                Some(json!({"sku": SKU})),
                Some(&x_token),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{order}");
        let id = order["id"].as_i64().expect("id");
        assert_eq!(
            (
                &order["quantity"],
                &order["goods_amount"],
                &order["amount_due"]
            ),
            (&json!(12), &json!("372.00"), &json!("0.00")),
            "{order}"
        );
        let (status, fwd) = net
            .app
            .json(
                Method::POST,
                &format!("/api/v1/orders/{id}/forward"),
                None,
                Some(&p_token),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{fwd}");
        assert_eq!(fwd["legs"][1]["margin"], "72.00", "{fwd}");

        let (status, paid) = net
            .app
            .json(
                Method::POST,
                &format!("/api/v1/orders/{id}/pay"),
                Some(json!({"via": "offline"})),
                Some(&p_token),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{backend:?}: {paid}");
        assert_eq!(paid["state"], "paid");
        assert_eq!(paid["shipper_amount"], "300.00", "N's leg, 12 × 25.00");
        assert_eq!(net.agent(x).tier_rank, 3, "{backend:?}: upgraded");
        assert_eq!(net.frozen(p), dec("372.00"), "HQ's allowance to the payee");
        assert_eq!(net.hq(HqAccount::RebateExpense), dec("-372.00"));
        net.assert_books_balance();

        net.ship_and_receive(id, x_actor);
        net.settle_after(30);
        assert_eq!(net.available(p), dec("372.00"), "{backend:?}");
        net.assert_books_balance();
    }
}

/// 省代 P ← 区代 X ← 区代 Y. X's entry order was 80 items at 38.00: more than a 市代's entry
/// quantity of 72, so its top-up to 市代 is q = max(0, 72 − 80) = 0 items. Nothing to ship or pay:
/// asking to upgrade moves X up at once, without an order (200, the agent), with an audit entry;
/// Y (same tier as X until now) gets X as its supplier; no money moves. The same request again
/// with the same key is answered alike and changes nothing.
#[tokio::test]
async fn a_top_up_of_zero_items_upgrades_at_once_without_an_order() {
    use chainmark_server::store::schema::{audit_log, restock_orders};
    for backend in backends() {
        let net = Net::new(backend);
        let (p, p_actor, _) = agent(&net, "provincial", "provincial", None, true).await;
        let (x, x_actor, x_token) = agent(&net, "district-x", "district", Some(p), false).await;
        net.items((CustodianKind::Agent, Some(p)), 80);
        let entry = net.submit(x_actor, 80);
        orders::accept(&mut net.conn(), entry, p_actor).expect("accept");
        net.pay(entry, PaidVia::Offline, p_actor);
        net.ship_and_receive(entry, x_actor);
        let (y, _, _) = agent(&net, "district-y", "district", Some(x), true).await;
        assert_eq!(net.agent(y).supplier_id, Some(p), "X is not above Y yet");
        for i in 0..3 {
            let (c, _, _) = agent(&net, &format!("city-{i}"), "city", Some(x), false).await;
            assert!(agents_store::activate(&mut net.conn(), c, 3, 223_200).expect("activate"));
        }
        let (_, progress) = net
            .app
            .json(
                Method::GET,
                "/api/v1/agents/me/upgrade",
                None,
                Some(&x_token),
            )
            .await;
        assert_eq!(
            (
                &progress["eligible"],
                &progress["top_up_quantity"],
                &progress["top_up_amount"]
            ),
            (&json!(true), &json!(0), &json!("0.00")),
            "{backend:?}: {progress}"
        );
        let postings_before: i64 = postings::table
            .count()
            .get_result(&mut net.conn())
            .expect("count");
        let orders_of_x = || -> i64 {
            restock_orders::table
                .filter(restock_orders::buyer_id.eq(x))
                .count()
                .get_result(&mut net.conn())
                .expect("count")
        };
        let upgrades = || -> i64 {
            audit_log::table
                .filter(audit_log::action.eq("agent.upgrade"))
                .filter(audit_log::subject.eq(format!("agent:{x}")))
                .count()
                .get_result(&mut net.conn())
                .expect("count")
        };

        let body = json!({"sku": SKU});
        let up = || {
            request(
                Method::POST,
                "/api/v1/agents/me/upgrade",
                Some(&body),
                &x_token,
                Some("up-1"),
            )
        };
        let (status, h, upgraded) = send(&net, up()).await;
        assert_eq!(status, StatusCode::OK, "{backend:?}: {upgraded}");
        assert!(!replayed(&h));
        assert_eq!(upgraded["id"], x, "the agent, not an order: {upgraded}");
        assert_eq!(upgraded["tier_rank"], 3, "{backend:?}: now a 市代");
        assert_eq!(
            upgraded["supplier_id"], p,
            "a 市代 still buys from its 省代"
        );
        assert_eq!(
            upgraded["entry_paid"], "3040.00",
            "it paid nothing more: 80 × 38.00"
        );
        assert_eq!(net.agent(x).tier_rank, 3, "{backend:?}");
        assert_eq!(net.agent(x).entry_items, Some(80));
        assert_eq!(
            net.agent(y).supplier_id,
            Some(x),
            "{backend:?}: Y's supplier is recomputed: X is above it now"
        );
        assert_eq!(orders_of_x(), 1, "{backend:?}: no zero-item order");
        assert_eq!(
            upgrades(),
            1,
            "{backend:?}: the upgrade is in the audit log"
        );
        let moved: i64 = postings::table
            .count()
            .get_result(&mut net.conn())
            .expect("count");
        assert_eq!(moved, postings_before, "{backend:?}: no money moves");
        net.assert_books_balance();

        // A retry with the same key: the same answer, nothing changes.
        let (status, h, again) = send(&net, up()).await;
        assert_eq!(status, StatusCode::OK, "{backend:?}: {again}");
        assert!(replayed(&h), "{backend:?}");
        assert_eq!(again, upgraded);
        assert_eq!(net.agent(x).tier_rank, 3);
        assert_eq!((orders_of_x(), upgrades()), (1, 1), "{backend:?}");
        net.assert_books_balance();

        // Without a key it is a new request: a 市代 with no referred 省代 cannot move up.
        let (status, _, refused) = send(
            &net,
            request(
                Method::POST,
                "/api/v1/agents/me/upgrade",
                Some(&body),
                &x_token,
                None,
            ),
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{backend:?}: {refused}");
        assert_eq!(net.agent(x).tier_rank, 3);
    }
}

#[tokio::test]
async fn an_agent_asking_for_another_agents_statement_is_refused() {
    for backend in backends() {
        let net = Net::new(backend);
        let (a, _, a_token) = agent(&net, "agent-a", "district", None, true).await;
        let (b, _, _) = agent(&net, "agent-b", "district", None, true).await;
        let month = chrono::Utc::now().format("%Y-%m").to_string();
        for path in [
            format!("/api/v1/statements/{month}?agent_id={b}"),
            format!("/api/v1/statements/{month}/csv?agent_id={b}"),
        ] {
            let (status, body) = net.app.json(Method::GET, &path, None, Some(&a_token)).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{backend:?} {path}: {body}");
            assert_eq!(body["error"]["code"], "forbidden");
        }
        for path in [
            format!("/api/v1/statements/{month}"),
            format!("/api/v1/statements/{month}?agent_id={a}"),
        ] {
            let (status, body) = net.app.json(Method::GET, &path, None, Some(&a_token)).await;
            assert_eq!(status, StatusCode::OK, "{backend:?} {path}: {body}");
            assert_eq!(body["agent_id"], a);
        }
    }
}

/// A computed zero has no decimals of its own (`Decimal::ZERO` prints "0"): money in JSON must
/// still read "0.00". A 区代 whose entry cost 3,000.00 owes nothing to become a 市代.
#[tokio::test]
async fn a_top_up_amount_of_zero_has_two_decimals() {
    for backend in backends() {
        let net = Net::new(backend);
        let (x, _, x_token) = agent(&net, "district-x", "district", None, false).await;
        assert!(agents_store::activate(&mut net.conn(), x, 4, 300_000).expect("activate"));
        for i in 0..3 {
            let (c, _, _) = agent(&net, &format!("city-{i}"), "city", Some(x), false).await;
            assert!(agents_store::activate(&mut net.conn(), c, 3, 223_200).expect("activate"));
        }
        let (status, progress) = net
            .app
            .json(
                Method::GET,
                "/api/v1/agents/me/upgrade",
                None,
                Some(&x_token),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{progress}");
        assert_eq!(progress["eligible"], true, "{backend:?}: {progress}");
        assert_eq!(progress["top_up_amount"], "0.00", "{backend:?}: {progress}");
    }
}

/// The OpenAPI document tells clients which routes take the header.
#[test]
fn the_openapi_document_names_the_idempotency_key_header() {
    let doc = serde_json::to_value(chainmark_server::api::openapi_document()).expect("json");
    for (path, method) in [
        ("/api/v1/orders", "post"),
        ("/api/v1/orders/{id}/pay", "post"),
        ("/api/v1/orders/{id}/refund", "post"),
        ("/api/v1/orders/{id}/ship", "post"),
        ("/api/v1/withdrawals", "post"),
        ("/api/v1/withdrawals/{id}/approve", "post"),
        ("/api/v1/agents/me/upgrade", "post"),
    ] {
        let params = doc["paths"][path][method]["parameters"]
            .as_array()
            .unwrap_or_else(|| panic!("{method} {path} has parameters"));
        assert!(
            params
                .iter()
                .any(|p| p["name"] == "Idempotency-Key" && p["in"] == "header"),
            "{method} {path}: {params:?}"
        );
    }
}

/// PostgreSQL, step by step: while the first request's transaction holds its key (uncommitted),
/// a duplicate in another transaction waits on the key's unique index; once the first commits,
/// the duplicate returns the stored answer and never runs its own write.
#[test]
fn on_postgres_a_concurrent_duplicate_waits_for_the_first_and_gets_its_answer() {
    use chainmark_server::idempotency::{self, Request as IdemRequest};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, mpsc};

    #[derive(QueryableByName)]
    struct Waiting {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }

    if !backends().contains(&crate::common::Backend::Postgres) {
        return;
    }
    let db = crate::common::TestDb::new(crate::common::Backend::Postgres);
    let user = chainmark_server::accounts::create_user(
        &mut db.conn(),
        "finance-pg",
        "finance-pg",
        Role::HqFinance,
        Some("test-password-123"),
    )
    .expect("user")
    .0
    .id;
    let req = IdemRequest::new("dup-1", "POST", "/r/{id}", "/r/1", "{}").expect("key");
    let second_ran = Arc::new(AtomicBool::new(false));
    let (started, second_started) = mpsc::channel();
    let mut first = db.conn();
    chainmark_server::store::in_transaction::<_, chainmark_server::Error>(&mut first, |c| {
        let a = idempotency::once(c, user, &req, 200, |_| Ok(json!({"n": 1})))?;
        assert!(!a.replayed);
        // The duplicate, on a connection of its own.
        let (pool_db, req2, ran) = (db.db.clone(), req.clone(), second_ran.clone());
        let handle = std::thread::spawn(move || {
            let mut conn = pool_db.get().expect("connection");
            started.send(()).expect("signal");
            chainmark_server::store::in_transaction::<_, chainmark_server::Error>(&mut conn, |c| {
                idempotency::once(c, user, &req2, 200, |_| {
                    ran.store(true, Ordering::SeqCst);
                    Ok(json!({"n": 2}))
                })
            })
        });
        second_started.recv().expect("second started");
        // Wait (bounded) until PostgreSQL shows the duplicate blocked on a lock in this
        // test's database.
        let mut watcher = db.conn();
        let blocked = (0..3000).any(|_| {
            let n = diesel::sql_query(
                "SELECT count(*) AS n FROM pg_stat_activity \
                     WHERE datname = current_database() AND wait_event_type = 'Lock'",
            )
            .get_result::<Waiting>(&mut *watcher)
            .expect("pg_locks")
            .n;
            if n == 0 {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            n > 0
        });
        assert!(blocked, "the duplicate waits for the first transaction");
        // Commit the first (by returning), then collect the duplicate's answer afterwards.
        Ok(handle)
    })
    .map(|handle| {
        let answer = handle.join().expect("thread").expect("duplicate answered");
        assert!(answer.replayed, "{answer:?}");
        assert_eq!(answer.body, r#"{"n":1}"#, "the first answer");
    })
    .expect("first commits");
    assert!(
        !second_ran.load(Ordering::SeqCst),
        "the duplicate's write never ran"
    );
}

/// Keys are kept 7 days (longer than any client's retry) and then pruned by the housekeeping's
/// pass, a bounded batch at a time; recent ones stay and still answer a retry.
#[test]
fn idempotency_keys_older_than_seven_days_are_pruned_and_recent_ones_kept() {
    use chainmark_server::idempotency::{self, KEEP_DAYS, Request as IdemRequest};
    use chainmark_server::store::idempotency as key_store;
    use chainmark_server::store::schema::idempotency_keys as k;
    use chainmark_server::store::users::now;

    assert_eq!(KEEP_DAYS, 7, "docs/api.md says a week");
    for backend in backends() {
        let db = crate::common::TestDb::new(backend);
        let mut conn = db.conn();
        let user = chainmark_server::accounts::create_user(
            &mut conn,
            "keys",
            "keys",
            Role::HqFinance,
            Some("test-password-123"),
        )
        .expect("user")
        .0
        .id;
        let at = now();
        let ages = [
            ("old-1", chrono::Duration::days(30)),
            ("old-2", chrono::Duration::days(8)),
            (
                "old-3",
                chrono::Duration::days(7) + chrono::Duration::minutes(1),
            ),
            (
                "recent-1",
                chrono::Duration::days(7) - chrono::Duration::minutes(1),
            ),
            ("recent-2", chrono::Duration::hours(1)),
        ];
        for (key, age) in ages {
            let req = IdemRequest::new(key, "POST", "/r/{id}", "/r/1", "{}").expect("key");
            let a = idempotency::once(&mut conn, user, &req, 200, |_| Ok(json!({"key": key})))
                .expect("first");
            assert!(!a.replayed);
            diesel::update(k::table.filter(k::idem_key.eq(key)))
                .set(k::created_at.eq(at - age))
                .execute(&mut conn)
                .expect("age the key");
        }
        let left = |conn: &mut chainmark_server::store::DbConnection| -> Vec<String> {
            k::table
                .select(k::idem_key)
                .order(k::idem_key)
                .load(conn)
                .expect("keys")
        };

        // A bounded pass deletes the oldest first and leaves the rest for the next one.
        let n =
            key_store::prune(&mut conn, at - chrono::Duration::days(KEEP_DAYS), 2).expect("prune");
        assert_eq!(n, 2, "{backend:?}");
        assert_eq!(left(&mut conn).len(), 3, "{backend:?}");

        let n = idempotency::prune(&mut conn, at).expect("prune");
        assert_eq!(n, 1, "{backend:?}: the last expired key");
        assert_eq!(
            left(&mut conn),
            ["recent-1", "recent-2"],
            "{backend:?}: younger than 7 days, kept"
        );
        assert_eq!(idempotency::prune(&mut conn, at).expect("prune"), 0);

        // A kept key still answers its retry; a pruned one is forgotten.
        let retry = IdemRequest::new("recent-1", "POST", "/r/{id}", "/r/1", "{}").expect("key");
        let a = idempotency::once(&mut conn, user, &retry, 200, |_| {
            Ok(json!({"key": "again"}))
        })
        .expect("retry");
        assert!(a.replayed, "{backend:?}");
        assert_eq!(a.body, r#"{"key":"recent-1"}"#);
    }
}
