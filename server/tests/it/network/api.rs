//! The network API: role and ownership on every kind of route, specific errors for bad input
//! with nothing changed, and the routes in the OpenAPI document. Both backends.

use axum::http::{Method, StatusCode};
use chainmark_server::domain::Role;
use chainmark_server::domain::custody::CustodianKind;
use serde_json::{Value, json};

use super::{Net, SKU};
use crate::common::backends;

fn message(v: &Value) -> String {
    v["error"]["message"].as_str().unwrap_or("").to_string()
}

/// An agent account linked to a new agent, and its token.
async fn agent_token(
    net: &Net,
    admin: &str,
    name: &str,
    tier: &str,
    referrer: Option<i64>,
) -> (i64, String) {
    let token = net.app.token_for(name, Role::Agent).await;
    let user: i64 = {
        let mut conn = net.conn();
        chainmark_server::store::users::find_by_username(&mut conn, name)
            .expect("lookup")
            .expect("user")
            .id
    };
    let (status, body) = net
        .app
        .json(
            Method::POST,
            "/api/v1/agents",
            Some(json!({"name": name, "tier": tier, "referrer_id": referrer,
                "region": "330100", "user_id": user})),
            Some(admin),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    (body["id"].as_i64().expect("id"), token)
}

#[tokio::test]
async fn an_order_through_the_api_with_roles_and_ownership() {
    for backend in backends() {
        let net = Net::new(backend);
        net.items((CustodianKind::Hq, None), 100);
        let admin = net.app.token_for("admin", Role::HqAdmin).await;
        let finance = net.app.token_for("finance", Role::HqFinance).await;
        let auditor = net.app.token_for("auditor", Role::HqAuditor).await;
        let (_, a_token) = agent_token(&net, &admin, "agent-a", "district", None).await;
        let (_, b_token) = agent_token(&net, &admin, "agent-b", "district", None).await;

        // Agents cannot create agents; bad tiers and unknown referrers are named.
        let (status, _) = net
            .app
            .json(
                Method::POST,
                "/api/v1/agents",
                Some(json!({"name": "x", "tier": "district", "region": "r"})),
                Some(&a_token),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{backend:?}");
        let (status, body) = net
            .app
            .json(
                Method::POST,
                "/api/v1/agents",
                Some(json!({"name": "x", "tier": "emperor", "region": "r"})),
                Some(&admin),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(message(&body).contains("emperor"), "{body}");
        let (status, body) = net
            .app
            .json(
                Method::POST,
                "/api/v1/agents",
                Some(json!({"name": "x", "tier": "city", "referrer_id": 999, "region": "r"})),
                Some(&admin),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(message(&body).contains("999"), "{body}");

        // Bad orders are refused with their reason and leave nothing behind.
        for (bad, says) in [
            (json!({"sku": SKU, "quantity": 5}), "at least 20"),
            (json!({"sku": "NOPE", "quantity": 20}), "NOPE"),
            (json!({"sku": SKU, "quantity": -1}), "quantity"),
        ] {
            let (status, body) = net
                .app
                .json(Method::POST, "/api/v1/orders", Some(bad), Some(&a_token))
                .await;
            assert_eq!(status.as_u16() / 100, 4, "{body}");
            assert!(message(&body).contains(says), "{body}");
        }
        let (_, mine) = net
            .app
            .json(Method::GET, "/api/v1/orders", None, Some(&a_token))
            .await;
        assert_eq!(mine.as_array().map(Vec::len), Some(0), "nothing was placed");

        // A's entry order: HQ accepts, finance confirms the transfer.
        let (status, order) = net
            .app
            .json(
                Method::POST,
                "/api/v1/orders",
                Some(json!({"sku": SKU, "quantity": 20})),
                Some(&a_token),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{order}");
        assert_eq!(
            (order["kind"].as_str(), order["goods_amount"].as_str()),
            (Some("entry"), Some("760.00"))
        );
        let id = order["id"].as_i64().expect("id");
        let path = |step: &str| format!("/api/v1/orders/{id}/{step}");
        let (status, _) = net
            .app
            .json(
                Method::GET,
                &format!("/api/v1/orders/{id}"),
                None,
                Some(&b_token),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "B does not see A's order");
        let (status, _) = net
            .app
            .json(Method::POST, &path("accept"), None, Some(&a_token))
            .await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "the buyer does not accept its own order"
        );
        let (status, _) = net
            .app
            .json(Method::POST, &path("accept"), None, Some(&auditor))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, body) = net
            .app
            .json(
                Method::POST,
                &path("pay"),
                Some(json!({"via": "offline"})),
                Some(&finance),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "not accepted yet: {body}");
        let (status, _) = net
            .app
            .json(Method::POST, &path("accept"), None, Some(&admin))
            .await;
        assert_eq!(status, StatusCode::OK);
        let (status, body) = net
            .app
            .json(
                Method::POST,
                &path("pay"),
                Some(json!({"via": "cash"})),
                Some(&finance),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let (status, body) = net
            .app
            .json(
                Method::POST,
                &path("pay"),
                Some(json!({"via": "wallet"})),
                Some(&a_token),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::CONFLICT,
            "an empty wallet does not cover it: {body}"
        );
        let (status, body) = net
            .app
            .json(
                Method::POST,
                &path("pay"),
                Some(json!({"via": "offline"})),
                Some(&finance),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["state"], "paid");
        let (status, _) = net
            .app
            .json(
                Method::POST,
                &path("pay"),
                Some(json!({"via": "offline"})),
                Some(&finance),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "paid once");

        // Shipping by codes: per-item reasons; then the buyer receives.
        let mut serials = net.held((CustodianKind::Hq, None), 21);
        let extra = serials.pop().expect("21st");
        let mut asked: Vec<Value> = serials.iter().map(|s| json!(s)).collect();
        asked.push(json!("NOSUCHCODE"));
        asked.push(json!(serials[0]));
        let (status, body) = net
            .app
            .json(
                Method::POST,
                &path("ship"),
                Some(json!({"serials": asked})),
                Some(&a_token),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "the buyer does not ship: {body}"
        );
        let (status, out) = net
            .app
            .json(
                Method::POST,
                &path("ship"),
                Some(json!({"serials": asked})),
                Some(&admin),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{out}");
        assert_eq!(out["accepted"].as_array().map(Vec::len), Some(20));
        let reasons: Vec<&str> = out["rejected"]
            .as_array()
            .expect("rejected")
            .iter()
            .filter_map(|r| r["reason"].as_str())
            .collect();
        assert_eq!(reasons, ["unknown_code", "already_shipped"]);
        assert_eq!(out["state"], "shipped");
        let (_, more) = net
            .app
            .json(
                Method::POST,
                &path("ship"),
                Some(json!({"serials": [extra]})),
                Some(&admin),
            )
            .await;
        assert_eq!(more["rejected"][0]["reason"], "quantity_exceeded", "{more}");
        let (status, body) = net
            .app
            .json(Method::POST, &path("receive"), None, Some(&a_token))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (_, me) = net
            .app
            .json(Method::GET, "/api/v1/agents/me", None, Some(&a_token))
            .await;
        assert_eq!(me["status"], "active");
        assert_eq!(me["stock"][0]["items"], 20, "{me}");

        // Ledgers: own only; HQ's for HQ money roles.
        let (status, _) = net
            .app
            .json(Method::GET, "/api/v1/ledger/hq", None, Some(&a_token))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, hq) = net
            .app
            .json(Method::GET, "/api/v1/ledger/hq", None, Some(&finance))
            .await;
        assert_eq!(status, StatusCode::OK);
        let sales = hq["accounts"]
            .as_array()
            .expect("accounts")
            .iter()
            .find(|a| a["code"] == "hq:sales")
            .expect("sales")["balance"]
            .clone();
        assert_eq!(sales, "760.00");

        // Withdrawals: bad amounts named; agents cannot decide.
        for bad in ["abc", "1.001", "-5"] {
            let (status, body) = net
                .app
                .json(
                    Method::POST,
                    "/api/v1/withdrawals",
                    Some(json!({"amount": bad})),
                    Some(&a_token),
                )
                .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        }
        let (status, _) = net
            .app
            .json(
                Method::POST,
                "/api/v1/withdrawals",
                Some(json!({"amount": "1.00"})),
                Some(&a_token),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "nothing available");
        let (status, _) = net
            .app
            .json(Method::POST, "/api/v1/settlement/run", None, Some(&a_token))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = net
            .app
            .json(Method::POST, "/api/v1/settlement/run", None, Some(&finance))
            .await;
        assert_eq!(status, StatusCode::OK);

        // Statements: own, as data and CSV; a bad month is named.
        let month = chrono::Utc::now().format("%Y-%m").to_string();
        let (status, st) = net
            .app
            .json(
                Method::GET,
                &format!("/api/v1/statements/{month}"),
                None,
                Some(&a_token),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{st}");
        let (status, body) = net
            .app
            .json(
                Method::GET,
                "/api/v1/statements/2026-13",
                None,
                Some(&a_token),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let (status, body) = net
            .app
            .json(
                Method::GET,
                &format!("/api/v1/statements/{month}"),
                None,
                Some(&finance),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "HQ must say whose: {body}");
    }
}

#[tokio::test]
async fn policy_validate_and_activate() {
    for backend in backends() {
        let net = Net::new(backend);
        let admin = net.app.token_for("admin", Role::HqAdmin).await;
        let auditor = net.app.token_for("auditor", Role::HqAuditor).await;
        let (status, active) = net
            .app
            .json(Method::GET, "/api/v1/policy", None, Some(&auditor))
            .await;
        assert_eq!(status, StatusCode::OK, "{backend:?}");
        assert_eq!(active["tiers"][1]["unit_price"], "25.00");
        let bad = chainmark_server::domain::network::policy::SEED_004
            .replace("unit_price = \"25.00\"", "unit_price = \"-1\"");
        let (status, v) = net
            .app
            .json(
                Method::POST,
                "/api/v1/policy/validate",
                Some(json!({"document": bad})),
                Some(&admin),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(v["valid"], false);
        assert!(
            v["problems"]
                .as_array()
                .expect("problems")
                .iter()
                .any(|p| p["field"] == "tiers[1].unit_price"),
            "{v}"
        );
        let (status, body) = net
            .app
            .json(
                Method::POST,
                "/api/v1/policy/versions",
                Some(json!({"document": bad})),
                Some(&admin),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(message(&body).contains("tiers[1].unit_price"), "{body}");
        let (status, _) = net
            .app
            .json(
                Method::POST,
                "/api/v1/policy/versions/9/activate",
                None,
                Some(&admin),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let v2 = chainmark_server::domain::network::policy::SEED_004
            .replace("version = 1", "version = 2");
        let (status, _) = net
            .app
            .json(
                Method::POST,
                "/api/v1/policy/versions",
                Some(json!({"document": v2})),
                Some(&auditor),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = net
            .app
            .json(
                Method::POST,
                "/api/v1/policy/versions",
                Some(json!({"document": v2})),
                Some(&admin),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        let (status, body) = net
            .app
            .json(
                Method::POST,
                "/api/v1/policy/versions/2/activate",
                None,
                Some(&admin),
            )
            .await;
        assert_eq!(
            (status, body["status"].as_str()),
            (StatusCode::OK, Some("active"))
        );
        let (_, active) = net
            .app
            .json(Method::GET, "/api/v1/policy", None, Some(&auditor))
            .await;
        assert_eq!(active["version"], 2);
    }
}

#[test]
fn the_network_routes_are_in_the_openapi_document() {
    let doc = chainmark_server::api::openapi_document();
    for path in [
        "/api/v1/policy",
        "/api/v1/agents",
        "/api/v1/orders/{id}/forward",
        "/api/v1/orders/{id}/ship",
        "/api/v1/ledger/me",
        "/api/v1/withdrawals/{id}/approve",
        "/api/v1/statements/{month}/csv",
        "/api/v1/settlement/run",
    ] {
        assert!(doc.paths.paths.contains_key(path), "{path} missing");
    }
}

/// A refusal of the order rules reaches the client with the rule's own code, not a flattened
/// `conflict`: paying an order the supplier has not accepted is `order_not_answered`, paying it
/// twice `order_already_paid`.
#[tokio::test]
async fn order_rule_refusals_carry_their_own_code() {
    for backend in backends() {
        let net = Net::new(backend);
        net.items((CustodianKind::Hq, None), 100);
        let admin = net.app.token_for("admin", Role::HqAdmin).await;
        let finance = net.app.token_for("finance", Role::HqFinance).await;
        let (_, a_token) = agent_token(&net, &admin, "agent-a", "district", None).await;
        let (status, order) = net
            .app
            .json(
                Method::POST,
                "/api/v1/orders",
                Some(json!({"sku": SKU, "quantity": 20})),
                Some(&a_token),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{order}");
        let id = order["id"].as_i64().expect("id");
        let path = |step: &str| format!("/api/v1/orders/{id}/{step}");
        let pay = || json!({"via": "offline"});

        let (status, body) = net
            .app
            .json(Method::POST, &path("pay"), Some(pay()), Some(&finance))
            .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::CONFLICT, Some("order_not_answered")),
            "{backend:?}: {body}"
        );
        let (status, _) = net
            .app
            .json(Method::POST, &path("accept"), None, Some(&admin))
            .await;
        assert_eq!(status, StatusCode::OK);
        let (status, body) = net
            .app
            .json(Method::POST, &path("pay"), Some(pay()), Some(&finance))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = net
            .app
            .json(Method::POST, &path("pay"), Some(pay()), Some(&finance))
            .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::CONFLICT, Some("order_already_paid")),
            "{backend:?}: {body}"
        );
    }
}
