//! Consumer verification (DOMAIN §7) through the JSON API and the page, on both backends.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use chainmark_server::config::RateLimitSettings;
use serde_json::{Value, json};

use crate::common::{Backend, TestApp, backends, make_batch, release};

async fn verify(app: &TestApp, serial: &str, tag: &str, code: &str) -> (StatusCode, Value) {
    app.json(
        Method::POST,
        "/api/v1/verify",
        Some(json!({"serial": serial, "tag": tag, "security_code": code})),
        None,
    )
    .await
}

fn sightings(app: &TestApp, result: &str) -> i64 {
    use chainmark_server::store::schema::sightings::dsl;
    use diesel::prelude::*;
    let mut conn = app.conn();
    dsl::sightings
        .filter(dsl::result.eq(result))
        .count()
        .get_result(&mut *conn)
        .expect("count sightings")
}

#[tokio::test]
async fn first_verification_then_repeat_warning() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let batch = make_batch(&app, "SKU-1", 10, 5);
        release(&app, &batch.rows[0].serial, &batch.rows[9].serial);
        let row = &batch.rows[3];

        let (status, first) = verify(&app, &row.serial, &row.tag, &row.security_code).await;
        assert_eq!(status, StatusCode::OK, "{backend:?}: {first}");
        assert_eq!(first["result"], "genuine_first");
        assert_eq!(first["verify_count"], 1);
        assert_eq!(first["product"]["sku"], "SKU-1");
        assert_eq!(first["product"]["batch"], batch.batch_id.as_str());
        assert!(first["first_verified_at"].is_string());

        // Typed by hand: lower case, spaces and dashes are fine.
        let typed = row.security_code.replace(' ', "-");
        let (_, again) = verify(&app, &row.serial.to_lowercase(), &row.tag, &typed).await;
        assert_eq!(again["result"], "genuine_repeat", "{backend:?}: {again}");
        assert_eq!(again["verify_count"], 2);
        assert_eq!(again["first_verified_at"], first["first_verified_at"]);
        assert_eq!(sightings(&app, "genuine_first"), 1);
        assert_eq!(sightings(&app, "genuine_repeat"), 1);
    }
}

#[tokio::test]
async fn wrong_code_is_a_mismatch_and_does_not_count() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let batch = make_batch(&app, "SKU-1", 4, 4);
        release(&app, &batch.rows[0].serial, &batch.rows[3].serial);
        let row = &batch.rows[1];
        let other = &batch.rows[2];
        // Another item's genuine code is still the wrong code for this one.
        let (status, body) = verify(&app, &row.serial, &row.tag, &other.security_code).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["result"], "mismatch", "{backend:?}: {body}");
        let (_, body) = verify(&app, &row.serial, &row.tag, &row.security_code).await;
        assert_eq!(
            body["result"], "genuine_first",
            "a mismatch must not count as a verification"
        );
        assert_eq!(sightings(&app, "mismatch"), 1);

        let (status, body) = verify(&app, &row.serial, &row.tag, "12345").await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "a short code is malformed input: {body}"
        );
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap_or("")
                .contains("20 digits")
        );
    }
}

#[tokio::test]
async fn forged_and_unknown_codes_are_not_genuine_and_recorded() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let batch = make_batch(&app, "SKU-1", 3, 3);
        release(&app, &batch.rows[0].serial, &batch.rows[2].serial);
        let row = &batch.rows[0];
        let mut forged_tag = row.tag.clone().into_bytes();
        forged_tag[0] = if forged_tag[0] == b'A' { b'B' } else { b'A' };
        let forged_tag = String::from_utf8(forged_tag).expect("ascii");
        // A serial with a valid check character that was never issued: another batch id.
        let unknown = codegen::serial::Serial::new(&codegen::serial::BatchId::random(), 0)
            .expect("serial")
            .to_string();
        let cases: [(&str, &str); 5] = [
            (&row.serial, &forged_tag),
            (&row.serial, ""),
            (&unknown, &row.tag),
            ("' OR 1=1 --", &row.tag),
            ("NOT-A-SERIAL", "x'; DROP TABLE items; --"),
        ];
        for (serial, tag) in cases {
            let (status, body) = verify(&app, serial, tag, &row.security_code).await;
            assert_eq!(status, StatusCode::OK, "{serial:?}");
            assert_eq!(
                body["result"], "not_genuine",
                "{backend:?} {serial:?}/{tag:?}: {body}"
            );
            assert!(
                body["product"].is_null(),
                "nothing about a product for a forged code"
            );
        }
        assert_eq!(sightings(&app, "not_genuine"), 5);
        // The registry is intact and the genuine code still verifies first time.
        let (_, body) = verify(&app, &row.serial, &row.tag, &row.security_code).await;
        assert_eq!(body["result"], "genuine_first");
    }
}

#[tokio::test]
async fn unreleased_voided_and_recalled_codes_are_not_for_sale() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let admin = app
            .token_for("admin", chainmark_server::domain::Role::HqAdmin)
            .await;
        let batch = make_batch(&app, "SKU-1", 6, 6);
        release(&app, &batch.rows[2].serial, &batch.rows[5].serial);
        let check = |i: usize| {
            let row = batch.rows[i].clone();
            let app = &app;
            async move {
                verify(app, &row.serial, &row.tag, &row.security_code)
                    .await
                    .1
            }
        };
        let at_hq = check(0).await;
        assert_eq!(at_hq["result"], "not_released", "{backend:?}: {at_hq}");
        assert_eq!(at_hq["reason"], "at_hq");
        assert_eq!(
            sightings(&app, "not_released:at_hq"),
            1,
            "HQ sees a leaked label"
        );

        let path = format!("/api/v1/batches/{}/void", batch.batch_id);
        let body = json!({"reason": "misprint", "from_serial": batch.rows[2].serial, "to_serial": batch.rows[3].serial});
        let (status, resp) = app
            .json(Method::POST, &path, Some(body), Some(&admin))
            .await;
        assert_eq!(status, StatusCode::OK, "{resp}");
        let path = format!("/api/v1/batches/{}/recall", batch.batch_id);
        let body = json!({"reason": "contamination", "from_serial": batch.rows[4].serial, "to_serial": batch.rows[4].serial});
        let (status, resp) = app
            .json(Method::POST, &path, Some(body), Some(&admin))
            .await;
        assert_eq!(status, StatusCode::OK, "{resp}");

        assert_eq!(check(2).await["reason"], "voided");
        assert_eq!(check(4).await["reason"], "recalled");
        assert_eq!(check(5).await["result"], "genuine_first");
    }
}

#[tokio::test]
async fn hq_selling_direct_verifies_items_still_at_hq() {
    let app = TestApp::with_settings(Backend::Sqlite, |s| s.hq_sells_direct = true);
    let batch = make_batch(&app, "SKU-1", 2, 2);
    let row = &batch.rows[0];
    let (_, body) = verify(&app, &row.serial, &row.tag, &row.security_code).await;
    assert_eq!(body["result"], "genuine_first", "{body}");
}

#[tokio::test]
async fn simultaneous_first_verifications_yield_one_first() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let batch = make_batch(&app, "SKU-1", 1, 1);
        release(&app, &batch.rows[0].serial, &batch.rows[0].serial);
        let row = batch.rows[0].clone();
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let router = app.router.clone();
            let body =
                json!({"serial": row.serial, "tag": row.tag, "security_code": row.security_code})
                    .to_string();
            tasks.push(tokio::spawn(async move {
                use http_body_util::BodyExt;
                use tower::ServiceExt;
                let req = Request::post("/api/v1/verify")
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(body))
                    .expect("req");
                let resp = router.oneshot(req).await.expect("infallible");
                let bytes = resp.into_body().collect().await.expect("body").to_bytes();
                serde_json::from_slice::<Value>(&bytes).expect("json")["result"]
                    .as_str()
                    .unwrap_or("")
                    .to_string()
            }));
        }
        let mut results = Vec::new();
        for t in tasks {
            results.push(t.await.expect("task"));
        }
        let firsts = results.iter().filter(|r| *r == "genuine_first").count();
        let repeats = results.iter().filter(|r| *r == "genuine_repeat").count();
        assert_eq!((firsts, repeats), (1, 7), "{backend:?}: {results:?}");
    }
}

#[tokio::test]
async fn rate_limits_answer_429_with_retry_after() {
    let app = TestApp::with_settings(Backend::Sqlite, |s| {
        s.rate_limit = RateLimitSettings {
            enabled: true,
            per_client_per_minute: 3,
            per_client_serial_per_minute: 100,
            wrong_codes_per_client_serial_per_hour: 100,
        }
    });
    let batch = make_batch(&app, "SKU-1", 4, 4);
    let row = &batch.rows[0];
    for _ in 0..3 {
        let (status, _) = verify(&app, &row.serial, &row.tag, &row.security_code).await;
        assert_eq!(status, StatusCode::OK);
    }
    let req = Request::post("/api/v1/verify")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({"serial": row.serial, "tag": row.tag, "security_code": row.security_code})
                .to_string(),
        ))
        .expect("req");
    let (status, headers, body) = app.send(req).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let retry = crate::common::retry_after(&headers);
    assert!((1..=60).contains(&retry));
    let body: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(body["error"]["code"], "rate_limited");
}

#[tokio::test]
async fn repeated_wrong_codes_lock_the_serial_for_that_client_even_for_the_right_code() {
    let app = TestApp::with_settings(Backend::Sqlite, |s| {
        s.rate_limit = RateLimitSettings {
            enabled: true,
            per_client_per_minute: 100,
            per_client_serial_per_minute: 100,
            wrong_codes_per_client_serial_per_hour: 3,
        }
    });
    let batch = make_batch(&app, "SKU-1", 2, 2);
    release(&app, &batch.rows[0].serial, &batch.rows[1].serial);
    let (row, other) = (&batch.rows[0], &batch.rows[1]);
    for _ in 0..4 {
        let (status, body) = verify(&app, &row.serial, &row.tag, &other.security_code).await;
        assert_eq!(
            (status, body["result"].as_str()),
            (StatusCode::OK, Some("mismatch"))
        );
    }
    // Budget spent: a guesser cannot go on, and the right code waits too.
    let (status, body) = verify(&app, &row.serial, &row.tag, &row.security_code).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    // Other serials are unaffected.
    let (_, body) = verify(&app, &other.serial, &other.tag, &other.security_code).await;
    assert_eq!(body["result"], "genuine_first");
}

#[tokio::test]
async fn security_codes_are_never_stored_in_clear() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let batch = make_batch(&app, "SKU-1", 20, 10);
        release(&app, &batch.rows[0].serial, &batch.rows[19].serial);
        for row in &batch.rows {
            verify(&app, &row.serial, &row.tag, &row.security_code).await;
        }
        use chainmark_server::store::schema::{items, sightings};
        use diesel::prelude::*;
        let mut conn = app.conn();
        let hashes: Vec<String> = items::table
            .select(items::code_hash)
            .load(&mut *conn)
            .expect("hashes");
        let evidence: Vec<(String, Option<String>, Option<String>)> = sightings::table
            .select((sightings::serial, sightings::user_agent, sightings::place))
            .load(&mut *conn)
            .expect("sightings");
        let stored = format!("{hashes:?}{evidence:?}");
        for row in &batch.rows {
            let digits = row.security_code.replace(' ', "");
            assert!(
                !stored.contains(&digits),
                "{backend:?}: a security code is stored in clear"
            );
        }
    }
}

#[tokio::test]
async fn the_page_asks_for_the_code_then_shows_the_verdict() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let batch = make_batch(&app, "SKU-1", 2, 2);
        release(&app, &batch.rows[0].serial, &batch.rows[1].serial);
        let row = &batch.rows[0];
        let get = Request::get(format!("/v/{}?t={}&lang=en", row.serial, row.tag))
            .body(Body::empty())
            .expect("req");
        let (status, _, page) = app.send(get).await;
        let page = String::from_utf8_lossy(&page);
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("<form"), "{page}");
        assert!(page.contains(&batch.batch_id), "batch shown");
        // The batch has no production date: no empty row for one.
        assert!(!page.contains("Production date"), "{page}");

        let form = format!(
            "t={}&code={}&lang=en",
            row.tag,
            row.security_code.replace(' ', "+")
        );
        let post = |form: String| {
            Request::post(format!("/v/{}", row.serial))
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(form))
                .expect("req")
        };
        let (status, _, page) = app.send(post(form.clone())).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            String::from_utf8_lossy(&page).contains("data-result=\"genuine_first\""),
            "{backend:?}"
        );
        let (_, _, page) = app.send(post(form)).await;
        let page = String::from_utf8_lossy(&page);
        assert!(page.contains("data-result=\"genuine_repeat\""), "{page}");
        assert!(page.contains("First verified on"));

        // A forged link: the page says so, in Chinese by default.
        let get = Request::get(format!("/v/{}?t=AAAAAAAAAAAAAAAA", row.serial))
            .body(Body::empty())
            .expect("req");
        let (_, _, page) = app.send(get).await;
        let page = String::from_utf8_lossy(&page);
        assert!(page.contains("data-result=\"not_genuine\""));
        assert!(page.contains("非正品防伪码"));
    }
}

/// Many verifications at once, as a busy server gets them: on PostgreSQL they are decided and
/// written in batches (`verify::batch`), with repeats of a code, wrong codes, unknown serials and
/// codes past the ceiling mixed in. Every answer must be what one verification at a time would
/// have given, and every count and sighting stored exactly once.
#[tokio::test]
async fn a_crowd_of_verifications_at_once_is_counted_exactly() {
    for backend in backends() {
        let app = TestApp::with_settings(backend, |s| {
            s.diversion.max_verifications = 5;
            s.rate_limit.enabled = false;
        });
        let batch = make_batch(&app, "SKU-CROWD", 40, 10);
        release(&app, &batch.rows[0].serial, &batch.rows[39].serial);
        // Code i is verified (i % 8) + 1 times: 1 to 8, so some pass the ceiling of 5.
        let mut bodies = Vec::new();
        for (i, row) in batch.rows.iter().enumerate() {
            for _ in 0..=(i % 8) {
                bodies.push((
                    row.serial.clone(),
                    json!({"serial": row.serial, "tag": row.tag, "security_code": row.security_code}),
                ));
            }
        }
        let right = bodies.len();
        // Wrong codes for three items, and two serials that do not exist.
        for row in &batch.rows[..3] {
            let wrong = if row.security_code.starts_with('1') {
                "2"
            } else {
                "1"
            };
            let code = format!("{wrong}{}", &row.security_code[1..]);
            bodies.push((
                row.serial.clone(),
                json!({"serial": row.serial, "tag": row.tag, "security_code": code}),
            ));
        }
        for fake in ["ZZZZZZZZ00000001", "ZZZZZZZZ00000002"] {
            bodies.push((
                fake.to_string(),
                json!({"serial": fake, "tag": "AAAAAAAA", "security_code": "12345678901234567890"}),
            ));
        }
        let mut tasks = Vec::new();
        for (serial, body) in bodies {
            let router = app.router.clone();
            tasks.push(tokio::spawn(async move {
                let (status, value) = post_verify(router, body).await;
                (serial, status, value.expect("json"))
            }));
        }
        let mut counts: std::collections::HashMap<String, Vec<i64>> = Default::default();
        let (mut mismatches, mut not_genuine) = (0, 0);
        for task in tasks {
            let (serial, status, v) = task.await.expect("task");
            assert_eq!(status, StatusCode::OK, "{backend:?}: {v}");
            match v["result"].as_str() {
                Some("genuine_first" | "genuine_repeat") => {
                    let n = v["verify_count"].as_i64().expect("count");
                    assert_eq!(v["result"] == "genuine_first", n == 1, "{backend:?}: {v}");
                    assert_eq!(v["frozen"], json!(n > 5), "{backend:?}: {v}");
                    counts.entry(serial).or_default().push(n);
                }
                Some("mismatch") => mismatches += 1,
                Some("not_genuine") => not_genuine += 1,
                other => panic!("{backend:?}: unexpected {other:?} in {v}"),
            }
        }
        assert_eq!((mismatches, not_genuine), (3, 2), "{backend:?}");
        // Each code's answers counted 1, 2, … n, once each: no count given twice or skipped.
        for (i, row) in batch.rows.iter().enumerate() {
            let mut got = counts.remove(&row.serial).unwrap_or_default();
            got.sort_unstable();
            let expected: Vec<i64> = (1..=(i as i64 % 8) + 1).collect();
            assert_eq!(got, expected, "{backend:?}: {}", row.serial);
        }
        assert_eq!(
            sightings(&app, "genuine_first") + sightings(&app, "genuine_repeat"),
            right as i64,
            "{backend:?}"
        );
        assert_eq!(sightings(&app, "genuine_first"), 40, "{backend:?}");
        assert_eq!(sightings(&app, "mismatch"), 3, "{backend:?}");
        assert_eq!(sightings(&app, "not_genuine"), 2, "{backend:?}");
        // The stored counts agree with the answers; one overuse alert per code past the ceiling
        // (codes verified 6, 7 or 8 times: i % 8 in 5..=7, 15 of the 40).
        {
            use chainmark_server::store::schema::{diversion_alerts, items};
            use diesel::prelude::*;
            let mut conn = app.conn();
            let total: Option<i64> = items::table
                .select(diesel::dsl::sum(items::verify_count))
                .get_result(&mut *conn)
                .expect("sum");
            assert_eq!(total, Some(right as i64), "{backend:?}");
            let alerts: i64 = diversion_alerts::table
                .count()
                .get_result(&mut *conn)
                .expect("alerts");
            assert_eq!(alerts, 15, "{backend:?}");
        }
        if backend == Backend::Postgres {
            // The crowd was in fact batched: some batch held more than one verification.
            let largest = app.state.verify_batches.stats().largest_batch();
            assert!(largest > 1, "the largest batch held {largest}");
            let metrics = app.state.metrics.render();
            assert!(
                metrics.contains("chainmark_verify_batch_size_count"),
                "{metrics}"
            );
        }
    }
}

/// Posts `body` to `/api/v1/verify` on `router`, as a task of its own (many run at once): the
/// status and the body, if it is JSON.
async fn post_verify(router: axum::Router, body: Value) -> (StatusCode, Option<Value>) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let req = Request::post("/api/v1/verify")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("req");
    let resp = router.oneshot(req).await.expect("infallible");
    let status = resp.status();
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    (status, serde_json::from_slice(&bytes).ok())
}

/// A verification that fails in the database fails alone: on PostgreSQL its batch is rolled back
/// and every verification of it runs again on its own, so the others are answered and counted
/// exactly once, and the failing one is answered with an error and counts nothing.
#[tokio::test]
async fn a_verification_that_fails_in_the_database_fails_alone() {
    for backend in backends() {
        let app = TestApp::with_settings(backend, |s| s.rate_limit.enabled = false);
        let batch = make_batch(&app, "SKU-FAIL", 30, 10);
        release(&app, &batch.rows[0].serial, &batch.rows[29].serial);
        let bad = batch.rows[7].serial.clone();
        // The database refuses to count this one item (as a failing disk or a broken constraint
        // would), whichever statement tries.
        let statements = match backend {
            Backend::Sqlite => vec![format!(
                "CREATE TRIGGER refuse BEFORE UPDATE OF verify_count ON items \
                 WHEN NEW.serial = '{bad}' BEGIN SELECT RAISE(ABORT, 'refused'); END"
            )],
            Backend::Postgres => vec![
                format!(
                    "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN \
                     IF NEW.serial = '{bad}' AND NEW.verify_count <> OLD.verify_count THEN \
                     RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
                ),
                "CREATE TRIGGER refuse BEFORE UPDATE ON items FOR EACH ROW \
                 EXECUTE FUNCTION refuse()"
                    .into(),
            ],
        };
        {
            use diesel::RunQueryDsl;
            let mut conn = app.conn();
            for sql in statements {
                diesel::sql_query(sql).execute(&mut *conn).expect("trigger");
            }
        }
        let mut tasks = Vec::new();
        for _ in 0..3 {
            for row in &batch.rows {
                let router = app.router.clone();
                let body = json!({"serial": row.serial, "tag": row.tag,
                                  "security_code": row.security_code});
                let serial = row.serial.clone();
                tasks.push(tokio::spawn(async move {
                    let (status, value) = post_verify(router, body).await;
                    (serial, status, value.unwrap_or(Value::Null))
                }));
            }
        }
        let mut counts: std::collections::HashMap<String, Vec<i64>> = Default::default();
        let mut refused = 0;
        for task in tasks {
            let (serial, status, v) = task.await.expect("task");
            if serial == bad {
                assert_ne!(status, StatusCode::OK, "{backend:?}: {v}");
                refused += 1;
                continue;
            }
            assert_eq!(status, StatusCode::OK, "{backend:?}: {v}");
            counts
                .entry(serial)
                .or_default()
                .push(v["verify_count"].as_i64().expect("count"));
        }
        assert_eq!(refused, 3, "{backend:?}");
        for (serial, mut got) in counts {
            got.sort_unstable();
            assert_eq!(got, vec![1, 2, 3], "{backend:?}: {serial}");
        }
        use chainmark_server::store::schema::items;
        use diesel::prelude::*;
        let mut conn = app.conn();
        let total: Option<i64> = items::table
            .select(diesel::dsl::sum(items::verify_count))
            .get_result(&mut *conn)
            .expect("sum");
        assert_eq!(total, Some(87), "{backend:?}");
        assert_eq!(
            sightings(&app, "genuine_first") + sightings(&app, "genuine_repeat"),
            87,
            "{backend:?}"
        );
        if backend == Backend::Postgres {
            // The failure did hit batches, which were taken back and run one by one.
            assert!(
                app.state.verify_batches.stats().failed_batches() >= 1,
                "no batch failed: the test did not reach the fallback"
            );
        }
    }
}
