//! The levels API: roles and ownership on each kind of route, specific errors for bad input with
//! nothing changed, an agent reading its own level change in plain words, and the routes in the
//! OpenAPI document. Both backends.

use axum::http::{Method, StatusCode};
use chainmark_server::domain::Role;
use serde_json::{Value, json};

use super::paid_order;
use crate::common::backends;
use crate::network::Net;

fn message(v: &Value) -> String {
    v["error"]["message"].as_str().unwrap_or("").to_string()
}

const DOC: &str = r#"version = 1
name = "api"
on_change = "relevel"
[[levels]]
tier = "city"
[[levels.paths]]
window_days = 30
thresholds = { personal_sales = "500.00" }
"#;

#[tokio::test]
async fn levels_through_the_api_with_roles_and_ownership() {
    for backend in backends() {
        let net = Net::new(backend);
        let admin = net.app.token_for("admin", Role::HqAdmin).await;
        let finance = net.app.token_for("finance", Role::HqFinance).await;
        let agent_token = net.app.token_for("agent-a", Role::Agent).await;
        let user = {
            let mut conn = net.conn();
            chainmark_server::store::users::find_by_username(&mut conn, "agent-a")
                .expect("lookup")
                .expect("user")
                .id
        };
        let (status, body) = net
            .app
            .json(
                Method::POST,
                "/api/v1/agents",
                Some(json!({"name": "a", "tier": "special", "region": "330100", "user_id": user})),
                Some(&admin),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let agent = body["id"].as_i64().expect("id");
        {
            let mut conn = net.conn();
            chainmark_server::store::network::agents::activate(&mut conn, agent, 5, 0)
                .expect("activate");
        }
        paid_order(&net, agent, 1, 60_000, "completed");

        // No active policy yet: 404; an agent cannot write or validate policies.
        let (status, _) = net
            .app
            .json(Method::GET, "/api/v1/levels/policy", None, Some(&admin))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{backend:?}");
        for (path, body) in [
            ("/api/v1/levels/policy/versions", json!({"document": DOC})),
            ("/api/v1/levels/policy/validate", json!({"document": DOC})),
            ("/api/v1/levels/what-if", json!({"document": DOC})),
            ("/api/v1/levels/assessments", json!({})),
            (
                "/api/v1/levels/activity",
                json!({"agent_id": agent, "kind": "customer_bound"}),
            ),
        ] {
            let (status, _) = net
                .app
                .json(Method::POST, path, Some(body), Some(&agent_token))
                .await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        }
        let (status, _) = net
            .app
            .json(
                Method::GET,
                "/api/v1/levels/changes",
                None,
                Some(&agent_token),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = net
            .app
            .json(Method::GET, "/api/v1/levels/me", None, Some(&admin))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "HQ has no level of its own");

        // Validation names the field; a bad draft is refused and nothing is stored.
        let bad = DOC.replace("window_days = 30", "window_days = 0");
        let (status, body) = net
            .app
            .json(
                Method::POST,
                "/api/v1/levels/policy/validate",
                Some(json!({"document": bad})),
                Some(&admin),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["valid"], false);
        assert_eq!(
            body["problems"][0]["field"],
            "levels[0].paths[0].window_days"
        );
        let (status, body) = net
            .app
            .json(
                Method::POST,
                "/api/v1/levels/policy/versions",
                Some(json!({"document": bad})),
                Some(&admin),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            message(&body).contains("levels[0].paths[0].window_days"),
            "{body}"
        );
        let (_, body) = net
            .app
            .json(
                Method::GET,
                "/api/v1/levels/policy/versions",
                None,
                Some(&finance),
            )
            .await;
        assert_eq!(body.as_array().map(Vec::len), Some(0));

        // What-if, then save and activate (re-levels), then assess (nothing left to do).
        let (status, body) = net
            .app
            .json(
                Method::POST,
                "/api/v1/levels/what-if",
                Some(json!({"document": DOC})),
                Some(&admin),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            (body["agents"].as_i64(), body["up"].as_i64()),
            (Some(1), Some(1)),
            "{body}"
        );
        assert_eq!(body["moves"][0]["agent_id"].as_i64(), Some(agent));
        let (status, _) = net
            .app
            .json(
                Method::POST,
                "/api/v1/levels/policy/versions",
                Some(json!({"document": DOC})),
                Some(&admin),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        let (status, body) = net
            .app
            .json(
                Method::POST,
                "/api/v1/levels/policy/versions/1/activate",
                None,
                Some(&finance),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        let (status, body) = net
            .app
            .json(
                Method::POST,
                "/api/v1/levels/policy/versions/1/activate",
                None,
                Some(&admin),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["upgrades"].as_i64(), Some(1), "{body}");
        let (status, body) = net
            .app
            .json(
                Method::POST,
                "/api/v1/levels/assessments",
                Some(json!({"date": "2999-01-01"})),
                Some(&admin),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let (status, body) = net
            .app
            .json(
                Method::POST,
                "/api/v1/levels/assessments",
                Some(json!({})),
                Some(&admin),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            (body["agents"].as_i64(), body["upgrades"].as_i64()),
            (Some(1), Some(0)),
            "{body}"
        );

        // The agent reads why, in both languages.
        let (status, body) = net
            .app
            .json(Method::GET, "/api/v1/levels/me", None, Some(&agent_token))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["tier_rank"].as_i64(), Some(3));
        assert_eq!(
            body["changes"][0]["summary_en"],
            "upgraded to city: level policy version 1 re-levelled existing agents; personal sales \
             600.00 ≥ 500.00 in the last 30 days"
        );
        assert_eq!(
            body["changes"][0]["summary_zh"],
            "升级为市代:等级规则第1版按新规则重新定级;近30天个人业绩 600.00 ≥ 500.00"
        );

        // Activity: specific errors; finance may record.
        for (body, field) in [
            (
                json!({"agent_id": 999_999, "kind": "customer_bound"}),
                "agent_id",
            ),
            (json!({"agent_id": agent, "kind": "gift"}), "kind"),
            (json!({"agent_id": agent, "kind": "recharge"}), "amount"),
            (
                json!({"agent_id": agent, "kind": "level_payment", "amount": "10", "level_key": "mayor"}),
                "level_key",
            ),
        ] {
            let (status, out) = net
                .app
                .json(
                    Method::POST,
                    "/api/v1/levels/activity",
                    Some(body),
                    Some(&finance),
                )
                .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{out}");
            assert!(message(&out).starts_with(field), "{out}");
        }
        let (status, out) = net
            .app
            .json(
                Method::POST,
                "/api/v1/levels/activity",
                Some(json!({"agent_id": agent, "kind": "recharge", "amount": "88.80"})),
                Some(&finance),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{out}");
        assert_eq!(out["amount"], "88.80");
    }
}

#[test]
fn the_levels_routes_are_in_the_openapi_document() {
    let doc = chainmark_server::api::openapi_document();
    for path in [
        "/api/v1/levels/policy",
        "/api/v1/levels/policy/versions",
        "/api/v1/levels/policy/validate",
        "/api/v1/levels/policy/versions/{version}/activate",
        "/api/v1/levels/what-if",
        "/api/v1/levels/assessments",
        "/api/v1/levels/changes",
        "/api/v1/levels/me",
        "/api/v1/levels/activity",
    ] {
        assert!(doc.paths.paths.contains_key(path), "{path} missing");
    }
}
