//! The registry through the API: products, batches, void/recall/release of ranges, item
//! look-up, sightings, role checks and hostile input, on both backends.

use axum::http::{Method, StatusCode};
use chainmark_server::domain::Role;
use chainmark_server::domain::custody::CustodyEventKind;
use chainmark_server::store::schema::{audit_log, custody_events};
use chainmark_server::store::typed::Stored;
use chainmark_server::store::verify::{Sighting, record_sighting};
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::common::{TestApp, backends, make_batch};

#[tokio::test]
async fn products_create_list_get_and_validate() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let admin = app.token_for("admin", Role::HqAdmin).await;
        let body = json!({"sku": "TEA-1", "name": "明前龙井", "name_en": "Longjing tea",
            "gtin": "6901234567892", "case_size": 24});
        let (status, created) = app
            .json(
                Method::POST,
                "/api/v1/products",
                Some(body.clone()),
                Some(&admin),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{backend:?}: {created}");
        assert_eq!(created["gtin"], "06901234567892");
        let (status, again) = app
            .json(Method::POST, "/api/v1/products", Some(body), Some(&admin))
            .await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(
            again["error"]["message"]
                .as_str()
                .unwrap_or("")
                .contains("TEA-1")
        );

        for (bad, says) in [
            (json!({"sku": "", "name": "x"}), "SKU"),
            (json!({"sku": "A", "name": " "}), "name"),
            (json!({"sku": "B", "name": "x", "gtin": "123"}), "GTIN"),
            (
                json!({"sku": "C", "name": "x", "case_size": 0}),
                "case_size",
            ),
            (
                json!({"sku": "D", "name": "x", "image_url": "javascript:alert(1)"}),
                "image_url",
            ),
        ] {
            let (status, err) = app
                .json(Method::POST, "/api/v1/products", Some(bad), Some(&admin))
                .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
            assert!(
                err["error"]["message"]
                    .as_str()
                    .unwrap_or("")
                    .contains(says),
                "{err}"
            );
        }
        let (status, list) = app
            .json(Method::GET, "/api/v1/products", None, Some(&admin))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(list.as_array().map(Vec::len), Some(1));
        let (status, one) = app
            .json(Method::GET, "/api/v1/products/TEA-1", None, Some(&admin))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(one["name_en"], "Longjing tea");
        let (status, _) = app
            .json(Method::GET, "/api/v1/products/NOPE", None, Some(&admin))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
    app.json(Method::POST, path, Some(body), Some(token)).await
}

fn events(app: &TestApp, kind: &str) -> i64 {
    let mut conn = app.conn();
    custody_events::table
        .filter(custody_events::kind.eq(Stored(
            CustodyEventKind::parse(kind).expect("a custody event kind"),
        )))
        .count()
        .get_result(&mut *conn)
        .expect("count")
}

#[tokio::test]
async fn void_recall_and_release_ranges() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let admin = app.token_for("admin", Role::HqAdmin).await;
        let b = make_batch(&app, "SKU-1", 10, 5);
        let s = |i: usize| b.rows[i].serial.clone();
        let path = |action: &str| format!("/api/v1/batches/{}/{action}", b.batch_id);

        let (status, out) = post(
            &app,
            &admin,
            &path("release"),
            json!({"from_serial": s(0), "to_serial": s(3)}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{backend:?}: {out}");
        assert_eq!(out["changed"], 4);
        assert_eq!(events(&app, "release"), 4);

        let (status, out) = post(
            &app,
            &admin,
            &path("void"),
            json!({"reason": "misprint", "from_serial": s(2), "to_serial": s(4)}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{out}");
        assert_eq!(
            (out["changed"].as_i64(), out["unchanged"].as_i64()),
            (Some(3), Some(0))
        );
        let (status, out) = post(
            &app,
            &admin,
            &path("void"),
            json!({"reason": "again", "from_serial": s(4), "to_serial": s(5)}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{out}");
        assert_eq!(
            (out["changed"].as_i64(), out["unchanged"].as_i64()),
            (Some(1), Some(1))
        );
        assert_eq!(events(&app, "void"), 4);

        // Release is all or nothing: item 2 is voided, item 3 already sold.
        let (status, out) = post(
            &app,
            &admin,
            &path("release"),
            json!({"from_serial": s(2), "to_serial": s(6)}),
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{out}");
        assert!(
            out["error"]["message"]
                .as_str()
                .unwrap_or("")
                .contains(&s(2))
        );
        assert_eq!(events(&app, "release"), 4);

        let (status, item) = app
            .json(
                Method::GET,
                &format!("/api/v1/items/{}", s(2).to_lowercase()),
                None,
                Some(&admin),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{item}");
        assert_eq!(item["status"], "voided");
        assert_eq!(item["custodian_kind"], "sold");
        let kinds: Vec<&str> = item["custody_events"]
            .as_array()
            .expect("events")
            .iter()
            .filter_map(|e| e["kind"].as_str())
            .collect();
        assert_eq!(kinds, ["import", "release", "void"]);
        assert_eq!(item["custody_events"][2]["note"], "misprint");

        // Recall the whole batch: the 4 still active items change, the batch too.
        let (status, out) = post(
            &app,
            &admin,
            &path("recall"),
            json!({"reason": "contamination"}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{out}");
        assert_eq!(
            (
                out["changed"].as_i64(),
                out["unchanged"].as_i64(),
                out["whole_batch"].as_bool()
            ),
            (Some(6), Some(4), Some(true))
        );
        let (status, detail) = app
            .json(
                Method::GET,
                &format!("/api/v1/batches/{}", b.batch_id),
                None,
                Some(&admin),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(detail["status"], "recalled");
        assert_eq!(detail["items"]["voided"], 4);
        assert_eq!(detail["items"]["recalled"], 6);
        let (status, out) = post(&app, &admin, &path("recall"), json!({"reason": "twice"})).await;
        assert_eq!(status, StatusCode::CONFLICT, "{out}");

        let mut conn = app.conn();
        let audits: Vec<String> = audit_log::table
            .order(audit_log::id)
            .select(audit_log::action)
            .load(&mut *conn)
            .expect("audit");
        assert_eq!(
            audits,
            [
                "batch.import",
                "batch.release",
                "batch.void",
                "batch.void",
                "batch.recall"
            ]
        );
    }
}

#[tokio::test]
async fn ranges_are_checked_with_specific_messages() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let admin = app.token_for("admin", Role::HqAdmin).await;
        let b = make_batch(&app, "SKU-1", 5, 5);
        let other = make_batch(&app, "SKU-1", 3, 3);
        let s = |i: usize| b.rows[i].serial.clone();
        let void = format!("/api/v1/batches/{}/void", b.batch_id);
        // A serial of this batch past its last item: right check character, index 7.
        let past = codegen::serial::Serial::new(
            &codegen::serial::BatchId::parse(&b.batch_id).expect("id"),
            7,
        )
        .expect("serial")
        .to_string();
        let mut bad_check = s(1);
        let last = bad_check.pop().expect("char");
        bad_check.push(if last == '0' { '1' } else { '0' });
        for (body, status, says) in [
            (
                json!({"reason": "x", "from_serial": s(3), "to_serial": s(1)}),
                StatusCode::BAD_REQUEST,
                "comes after".to_string(),
            ),
            (
                json!({"reason": "x", "from_serial": s(0), "to_serial": other.rows[0].serial}),
                StatusCode::BAD_REQUEST,
                "one batch".to_string(),
            ),
            (
                json!({"reason": "x", "from_serial": s(0), "to_serial": bad_check}),
                StatusCode::BAD_REQUEST,
                "check character".to_string(),
            ),
            (
                json!({"reason": "x", "from_serial": s(0), "to_serial": past}),
                StatusCode::BAD_REQUEST,
                "has 5 items".to_string(),
            ),
            (
                json!({"reason": "x", "from_serial": s(0)}),
                StatusCode::BAD_REQUEST,
                "both".to_string(),
            ),
            (
                json!({"reason": "  ", "from_serial": s(0), "to_serial": s(1)}),
                StatusCode::BAD_REQUEST,
                "reason".to_string(),
            ),
            (
                json!({"from_serial": s(0), "to_serial": s(1)}),
                StatusCode::BAD_REQUEST,
                "reason".to_string(),
            ),
        ] {
            let (got, err) = post(&app, &admin, &void, body.clone()).await;
            assert_eq!(got, status, "{backend:?} {body}: {err}");
            assert!(
                err["error"]["message"]
                    .as_str()
                    .unwrap_or("")
                    .contains(&says),
                "{body}: {err}"
            );
        }
        let (status, _) = post(
            &app,
            &admin,
            "/api/v1/batches/ZZZZZZZZ/void",
            json!({"reason": "x"}),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(events(&app, "void"), 0, "a refused request changed items");
    }
}

#[tokio::test]
async fn sightings_filter_and_hostile_input_is_harmless() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let auditor = app.token_for("auditor", Role::HqAuditor).await;
        let b = make_batch(&app, "SKU-1", 3, 3);
        {
            let mut conn = app.conn();
            for (serial, result) in [
                (&b.rows[0].serial, "genuine_first"),
                (&b.rows[0].serial, "mismatch"),
                (&b.rows[1].serial, "not_released:at_hq"),
                (&"FAKE".to_string(), "counterfeit"),
            ] {
                record_sighting(
                    &mut conn,
                    &Sighting {
                        serial: serial.clone(),
                        known_item: serial != "FAKE",
                        result: result.into(),
                        ..Sighting::default()
                    },
                )
                .expect("sighting");
            }
        }
        let get = |q: String| {
            let app = &app;
            let auditor = auditor.clone();
            async move {
                app.json(
                    Method::GET,
                    &format!("/api/v1/sightings{q}"),
                    None,
                    Some(&auditor),
                )
                .await
            }
        };
        let (status, all) = get(String::new()).await;
        assert_eq!(status, StatusCode::OK, "{backend:?}: {all}");
        assert_eq!(all.as_array().map(Vec::len), Some(4));
        let (_, by_serial) = get(format!("?serial={}", b.rows[0].serial.to_lowercase())).await;
        assert_eq!(by_serial.as_array().map(Vec::len), Some(2), "{by_serial}");
        let (_, family) = get("?result=not_released:".into()).await;
        assert_eq!(family.as_array().map(Vec::len), Some(1), "{family}");
        let (_, limited) = get("?limit=1&since=2000-01-01".into()).await;
        assert_eq!(limited.as_array().map(Vec::len), Some(1));
        let (status, _) = get("?limit=0".into()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (status, _) = get("?since=yesterday".into()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        // SQL in filters and paths is text: refused as a serial, or matching nothing.
        let (status, none) = get("?result=x%27%20OR%20%271%27%3D%271".into()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(none.as_array().map(Vec::len), Some(0));
        let (status, _) = get("?serial=%27%20OR%201%3D1%20--".into()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (status, err) = app
            .json(
                Method::GET,
                "/api/v1/items/%27%20OR%201%3D1%20--",
                None,
                Some(&auditor),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
        let (status, _) = app
            .json(
                Method::GET,
                "/api/v1/products/%27%20OR%201%3D1%20--",
                None,
                Some(&auditor),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, item) = app
            .json(
                Method::GET,
                &format!("/api/v1/items/{}", b.rows[0].serial),
                None,
                Some(&auditor),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(item["verification"]["sightings"], 2);
    }
}

#[tokio::test]
async fn roles_on_every_registry_endpoint() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let b = make_batch(&app, "SKU-1", 4, 4);
        let mut tokens = Vec::new();
        for (name, role) in [
            ("admin", Role::HqAdmin),
            ("auditor", Role::HqAuditor),
            ("warehouse", Role::Warehouse),
            ("agent", Role::Agent),
        ] {
            tokens.push((role, app.token_for(name, role).await));
        }
        let (s0, s1, s2) = (
            b.rows[0].serial.clone(),
            b.rows[1].serial.clone(),
            b.rows[2].serial.clone(),
        );
        let id = &b.batch_id;
        // (method, path, body, roles allowed). Writes come last and use fresh ranges per role.
        let reads: Vec<(String, Vec<Role>)> = vec![
            (
                "/api/v1/products".into(),
                vec![Role::HqAdmin, Role::HqAuditor, Role::Warehouse],
            ),
            (
                "/api/v1/products/SKU-1".into(),
                vec![Role::HqAdmin, Role::HqAuditor, Role::Warehouse],
            ),
            (
                "/api/v1/batches".into(),
                vec![Role::HqAdmin, Role::HqAuditor, Role::Warehouse],
            ),
            (
                format!("/api/v1/batches/{id}"),
                vec![Role::HqAdmin, Role::HqAuditor, Role::Warehouse],
            ),
            (
                format!("/api/v1/items/{s0}"),
                vec![Role::HqAdmin, Role::HqAuditor, Role::Warehouse],
            ),
            (
                "/api/v1/sightings".into(),
                vec![Role::HqAdmin, Role::HqAuditor],
            ),
        ];
        for (path, allowed) in &reads {
            for (role, token) in &tokens {
                let (status, body) = app.json(Method::GET, path, None, Some(token)).await;
                let want = if allowed.contains(role) {
                    StatusCode::OK
                } else {
                    StatusCode::FORBIDDEN
                };
                assert_eq!(status, want, "{backend:?} {role:?} GET {path}: {body}");
            }
            let (status, _) = app.json(Method::GET, path, None, None).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "anonymous GET {path}");
        }
        // Writes by the roles that must be refused: nothing may change.
        let writes = [
            (
                "/api/v1/products".to_string(),
                json!({"sku": "X", "name": "x"}),
                vec![Role::HqAdmin],
            ),
            (
                format!("/api/v1/batches/{id}/void"),
                json!({"reason": "r", "from_serial": s0, "to_serial": s0}),
                vec![Role::HqAdmin],
            ),
            (
                format!("/api/v1/batches/{id}/recall"),
                json!({"reason": "r", "from_serial": s2, "to_serial": s2}),
                vec![Role::HqAdmin],
            ),
            (
                format!("/api/v1/batches/{id}/release"),
                json!({"from_serial": s1, "to_serial": s1}),
                vec![Role::HqAdmin, Role::Warehouse],
            ),
        ];
        for (path, body, allowed) in &writes {
            for (role, token) in &tokens {
                if allowed.contains(role) {
                    continue;
                }
                let (status, err) = post(&app, token, path, body.clone()).await;
                assert_eq!(
                    status,
                    StatusCode::FORBIDDEN,
                    "{backend:?} {role:?} POST {path}: {err}"
                );
            }
        }
        assert_eq!(
            (
                events(&app, "void"),
                events(&app, "recall"),
                events(&app, "release")
            ),
            (0, 0, 0)
        );
        // The warehouse may release; the admin may do everything.
        let wh = &tokens[2].1;
        let (status, out) = post(&app, wh, &writes[3].0, writes[3].1.clone()).await;
        assert_eq!(status, StatusCode::OK, "{out}");
        let admin = &tokens[0].1;
        for (path, body, _) in &writes[..3] {
            let (status, out) = post(&app, admin, path, body.clone()).await;
            assert!(status.is_success(), "{backend:?} admin POST {path}: {out}");
        }
    }
}
