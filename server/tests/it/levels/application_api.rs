//! Level applications through the API, both backends: each route's role and ownership checks,
//! the specific error codes (422 not eligible, 409 wrong state or a second open application,
//! 403 wrong caller), two-stage approval end to end, and the routes in the OpenAPI document.

use axum::http::{Method, StatusCode};
use chainmark_server::domain::Role;
use serde_json::{Value, json};

use super::{install, paid_order};
use crate::common::backends;
use crate::network::Net;

const DOC: &str = r#"version = 1
name = "api applications"
on_change = "keep"
[[levels]]
tier = "city"
[[levels.paths]]
window_days = 30
approval = "hq"
thresholds = { team_sales = "5000.00" }
[[levels]]
tier = "district"
[[levels.paths]]
window_days = 30
approval = "supplier_then_hq"
thresholds = { personal_sales = "100.00" }
"#;

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

/// An active agent with an account and its token.
async fn agent(net: &Net, name: &str, tier: &str, referrer: Option<i64>) -> (i64, String) {
    let token = net.app.token_for(name, Role::Agent).await;
    let mut conn = net.conn();
    let user = chainmark_server::store::users::find_by_username(&mut conn, name)
        .expect("lookup")
        .expect("user")
        .id;
    let input = chainmark_server::network::agents::NewAgentInput {
        name: name.into(),
        tier: tier.into(),
        referrer_id: referrer,
        region: "330100".into(),
        user_id: Some(user),
    };
    let row = chainmark_server::network::agents::create(&mut conn, input, None).expect("agent");
    let store = chainmark_server::store::network::agents::activate;
    assert!(store(&mut conn, row.id, row.tier_rank, 0).expect("activate"));
    chainmark_server::network::agents::recompute_below(&mut conn, row.id, true).expect("suppliers");
    (row.id, token)
}

#[tokio::test]
async fn applications_through_the_api_with_roles_and_ownership() {
    for backend in backends() {
        let net = Net::new(backend);
        let admin = net.app.token_for("admin", Role::HqAdmin).await;
        let auditor = net.app.token_for("auditor", Role::HqAuditor).await;
        let (top, top_token) = agent(&net, "top", "provincial", None).await;
        let (_, stranger) = agent(&net, "stranger", "provincial", None).await;
        let (x, x_token) = agent(&net, "agentx", "special", Some(top)).await;
        paid_order(&net, x, 2, 60_000, "completed");
        install(&net, DOC);
        let call = |method: Method, path: &str, body: Option<Value>, token: &str| {
            let (app, path, token) = (&net.app, path.to_string(), token.to_string());
            async move { app.json(method, &path, body, Some(&token)).await }
        };
        let base = "/api/v1/levels/applications";

        // What x may apply for, in both languages; HQ has no options of its own.
        let (status, body) = call(Method::GET, &format!("{base}/options"), None, &x_token).await;
        assert_eq!(status, StatusCode::OK, "{backend:?}: {body}");
        let district = body
            .as_array()
            .and_then(|a| a.iter().find(|o| o["level_key"] == "district"))
            .expect("district offered");
        assert_eq!(district["met"], true);
        assert_eq!(
            district["conditions_en"],
            "personal sales 600.00 ≥ 100.00 in the last 30 days"
        );
        let city = body
            .as_array()
            .and_then(|a| a.iter().find(|o| o["level_key"] == "city"))
            .expect("city offered");
        assert_eq!(city["met"], false);
        let (status, _) = call(Method::GET, &format!("{base}/options"), None, &admin).await;
        assert_eq!(status, StatusCode::FORBIDDEN);

        // Refusals with their codes; nothing is stored.
        for (token, body, want, want_code) in [
            (
                &admin,
                json!({"level": "district"}),
                StatusCode::FORBIDDEN,
                "forbidden",
            ),
            (
                &x_token,
                json!({"level": "city"}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "not_eligible",
            ),
            (
                &x_token,
                json!({"level": "district", "path": 3}),
                StatusCode::UNPROCESSABLE_ENTITY,
                "not_eligible",
            ),
            (
                &x_token,
                json!({"level": "district", "why": 1}),
                StatusCode::BAD_REQUEST,
                "bad_request",
            ),
        ] {
            let (status, out) = call(Method::POST, base, Some(body), token).await;
            assert_eq!((status, code(&out)), (want, want_code), "{out}");
        }
        let (_, mine) = call(Method::GET, base, None, &x_token).await;
        assert_eq!(mine.as_array().map(Vec::len), Some(0));

        let (status, created) = call(
            Method::POST,
            base,
            Some(json!({"level": "district", "note": "申请区代"})),
            &x_token,
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        assert_eq!(created["status"], "awaiting_supplier");
        assert_eq!(created["evidence_zh"], "近30天个人业绩 600.00 ≥ 100.00");
        let id = created["id"].as_i64().expect("id");
        let (status, out) = call(
            Method::POST,
            base,
            Some(json!({"level": "district"})),
            &x_token,
        )
        .await;
        assert_eq!(
            (status, code(&out)),
            (StatusCode::CONFLICT, "level_application_open"),
            "{out}"
        );

        // Reading: own, all (HQ), queues by stage.
        let (_, mine) = call(Method::GET, base, None, &x_token).await;
        assert_eq!(mine[0]["id"].as_i64(), Some(id));
        let (status, all) = call(Method::GET, base, None, &auditor).await;
        assert_eq!(
            (status, all.as_array().map(Vec::len)),
            (StatusCode::OK, Some(1))
        );
        let (status, _) = call(Method::GET, &format!("{base}?status=pending"), None, &admin).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let queue = format!("{base}/queue");
        let (_, q) = call(Method::GET, &queue, None, &top_token).await;
        assert_eq!(q[0]["id"].as_i64(), Some(id), "{q}");
        for token in [&stranger, &admin] {
            let (_, q) = call(Method::GET, &queue, None, token).await;
            assert_eq!(q.as_array().map(Vec::len), Some(0), "{q}");
        }

        // Decisions: the supplier first, then HQ admin.
        let decision = format!("{base}/{id}/decision");
        for (token, body, want) in [
            (&stranger, json!({"approve": true}), StatusCode::FORBIDDEN),
            (&x_token, json!({"approve": true}), StatusCode::FORBIDDEN),
            (&admin, json!({"approve": true}), StatusCode::CONFLICT),
            (
                &top_token,
                json!({"approve": false}),
                StatusCode::BAD_REQUEST,
            ),
        ] {
            let (status, out) = call(Method::POST, &decision, Some(body), token).await;
            assert_eq!(status, want, "{out}");
        }
        let (status, out) = call(
            Method::POST,
            &decision,
            Some(json!({"approve": true})),
            &top_token,
        )
        .await;
        assert_eq!(
            (status, out["status"].as_str()),
            (StatusCode::OK, Some("awaiting_hq")),
            "{out}"
        );
        let (_, q) = call(Method::GET, &queue, None, &admin).await;
        assert_eq!(q[0]["id"].as_i64(), Some(id), "{q}");
        let (status, _) = call(
            Method::POST,
            &decision,
            Some(json!({"approve": true})),
            &auditor,
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, out) = call(
            Method::POST,
            &decision,
            Some(json!({"approve": true})),
            &admin,
        )
        .await;
        assert_eq!(
            (status, out["status"].as_str()),
            (StatusCode::OK, Some("approved")),
            "{out}"
        );
        assert_eq!(out["approval_evidence"][0]["kind"], "approved", "{out}");

        // The agent reads the change in plain words; a closed application cannot be withdrawn.
        let (_, me) = call(Method::GET, "/api/v1/levels/me", None, &x_token).await;
        assert_eq!(me["tier_rank"].as_i64(), Some(4), "{me}");
        assert_eq!(me["changes"][0]["cause"], "application");
        assert!(
            me["changes"][0]["summary_en"]
                .as_str()
                .is_some_and(|s| s.starts_with(
                    "upgraded to district: application approved by the supplier and HQ on"
                )),
            "{me}"
        );
        let withdraw = format!("{base}/{id}/withdraw");
        let (status, _) = call(Method::POST, &withdraw, None, &top_token).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = call(Method::POST, &withdraw, None, &x_token).await;
        assert_eq!(status, StatusCode::CONFLICT);
        let (status, _) = call(
            Method::POST,
            &format!("{base}/999999/withdraw"),
            None,
            &x_token,
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

#[test]
fn the_application_routes_are_in_the_openapi_document() {
    let doc = chainmark_server::api::openapi_document();
    for path in [
        "/api/v1/levels/applications",
        "/api/v1/levels/applications/options",
        "/api/v1/levels/applications/queue",
        "/api/v1/levels/applications/{id}/withdraw",
        "/api/v1/levels/applications/{id}/decision",
    ] {
        assert!(doc.paths.paths.contains_key(path), "{path} missing");
    }
}
