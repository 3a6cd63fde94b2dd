//! The pages through the router: staff sign-in (cookies, CSRF, throttle, first password), the HQ
//! console's access rules, and the verification page's languages; on both backends.

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use chainmark_server::domain::Role;
use chainmark_server::registry::{self, ImportOptions};
use chainmark_test_support::form::{enc, hidden};
use codegen::batch::{BatchSpec, write_batch};

use crate::common::{TestApp, backends};

const PASSWORD: &str = "test-password-123";

fn user(app: &TestApp, name: &str, role: Role) {
    let mut conn = app.conn();
    chainmark_server::accounts::create_user(&mut conn, name, name, role, Some(PASSWORD))
        .expect("create user");
}

/// The value of cookie `name` in the response's `Set-Cookie` headers, with its attributes.
fn set_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
}

fn cookie_value(set_cookie: &str) -> String {
    let pair = set_cookie.split(';').next().unwrap_or("");
    pair.split_once('=')
        .map(|(_, v)| v.to_string())
        .unwrap_or_default()
}

fn get(path: &str, cookie: Option<&str>) -> Request<Body> {
    let mut b = Request::get(path);
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    b.body(Body::empty()).expect("request")
}

fn post_form(path: &str, cookie: Option<&str>, fields: &[(&str, &str)]) -> Request<Body> {
    let body: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect();
    let mut b = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    b.body(Body::from(body.join("&"))).expect("request")
}

fn text(body: &[u8]) -> String {
    String::from_utf8_lossy(body).into_owned()
}

/// Opens the login form and signs in; returns the session cookie (`cm_session=…`) and the
/// whole `Set-Cookie` line.
async fn sign_in(app: &TestApp, name: &str, password: &str) -> (StatusCode, HeaderMap) {
    let (status, headers, body) = app.send(get("/login", None)).await;
    assert_eq!(status, StatusCode::OK);
    let csrf_cookie = set_cookie(&headers, "cm_csrf").expect("login form sets cm_csrf");
    assert!(
        csrf_cookie.contains("SameSite=Strict") && csrf_cookie.contains("HttpOnly"),
        "{csrf_cookie}"
    );
    let csrf = cookie_value(csrf_cookie);
    assert_eq!(
        hidden(&text(&body), "csrf"),
        csrf,
        "double submit: field equals cookie"
    );
    let form = [
        ("username", name),
        ("password", password),
        ("csrf", csrf.as_str()),
        ("next", "/hq"),
    ];
    let (status, headers, _) = app
        .send(post_form("/login", Some(&format!("cm_csrf={csrf}")), &form))
        .await;
    (status, headers)
}

async fn session(app: &TestApp, name: &str) -> String {
    let (status, headers) = sign_in(app, name, PASSWORD).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let line = set_cookie(&headers, "cm_session").expect("session cookie");
    format!("cm_session={}", cookie_value(line))
}

#[tokio::test]
async fn login_sets_a_http_only_same_site_session_cookie() {
    for backend in backends() {
        let app = TestApp::new(backend);
        user(&app, "admin", Role::HqAdmin);
        let (status, headers) = sign_in(&app, "admin", PASSWORD).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{backend:?}");
        assert_eq!(headers[header::LOCATION], "/hq");
        let line = set_cookie(&headers, "cm_session").expect("session cookie");
        for attr in [
            "HttpOnly",
            "SameSite=Lax",
            "Path=/",
            "Max-Age=43200",
            "Secure",
        ] {
            assert!(line.contains(attr), "{attr} missing: {line}");
        }
        let cookie = format!("cm_session={}", cookie_value(line));
        let (status, _, body) = app.send(get("/hq", Some(&cookie))).await;
        assert_eq!(status, StatusCode::OK);
        let page = text(&body);
        assert!(page.contains("id=\"counts\""), "{page}");
        assert!(page.contains("/api/docs"));
        assert!(page.contains("总部控制台"), "zh-CN by default");
    }
}

#[tokio::test]
async fn wrong_credentials_get_one_message_and_no_session() {
    for backend in backends() {
        let app = TestApp::new(backend);
        user(&app, "admin", Role::HqAdmin);
        for (name, password) in [("admin", "wrong-password-1"), ("nobody", PASSWORD)] {
            let (status, headers) = sign_in(&app, name, password).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{backend:?} {name}");
            assert!(set_cookie(&headers, "cm_session").is_none());
        }
        // The message itself, once, from the page.
        let (_, headers, body) = app.send(get("/login", None)).await;
        let csrf = cookie_value(set_cookie(&headers, "cm_csrf").expect("csrf"));
        assert_eq!(hidden(&text(&body), "csrf"), csrf);
        for name in ["admin", "nobody"] {
            let form = [
                ("username", name),
                ("password", "wrong-password-1"),
                ("csrf", csrf.as_str()),
            ];
            let (_, _, body) = app
                .send(post_form("/login", Some(&format!("cm_csrf={csrf}")), &form))
                .await;
            assert!(text(&body).contains("用户名或密码错误"), "{name}");
        }
    }
}

#[tokio::test]
async fn forms_without_the_right_csrf_are_refused_and_change_nothing() {
    for backend in backends() {
        let app = TestApp::new(backend);
        user(&app, "admin", Role::HqAdmin);
        let good = [
            ("username", "admin"),
            ("password", PASSWORD),
            ("csrf", "abc"),
        ];
        // Login: no cookie at all, then a cookie that differs from the field.
        for cookie in [None, Some("cm_csrf=xyz")] {
            let (status, headers, _) = app.send(post_form("/login", cookie, &good)).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{backend:?} {cookie:?}");
            assert!(set_cookie(&headers, "cm_session").is_none());
        }

        let cookie = session(&app, "admin").await;
        // Logout with a wrong token: the session survives.
        let (status, _, _) = app
            .send(post_form("/logout", Some(&cookie), &[("csrf", "forged")]))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _, _) = app.send(get("/hq", Some(&cookie))).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "session must survive a forged logout"
        );

        // Password change with a wrong token: the password stays.
        let change = [
            ("current", PASSWORD),
            ("new", "another-password-456"),
            ("repeat", "another-password-456"),
            ("csrf", "forged"),
        ];
        let (status, _, _) = app
            .send(post_form("/account/password", Some(&cookie), &change))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = sign_in(&app, "admin", PASSWORD).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "old password still works");

        // With the session's token, logout deletes the session.
        let (_, _, body) = app.send(get("/hq", Some(&cookie))).await;
        let csrf = hidden(&text(&body), "csrf");
        let (status, headers, _) = app
            .send(post_form("/logout", Some(&cookie), &[("csrf", &csrf)]))
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let cleared = set_cookie(&headers, "cm_session").expect("cleared cookie");
        assert!(cleared.contains("Max-Age=0"), "{cleared}");
        let (status, headers, _) = app.send(get("/hq", Some(&cookie))).await;
        assert_eq!(
            status,
            StatusCode::SEE_OTHER,
            "the session row is gone, not only the cookie"
        );
        assert_eq!(headers[header::LOCATION], "/login?next=%2Fhq");
    }
}

#[tokio::test]
async fn hq_is_for_hq_staff_only() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let (status, headers, _) = app.send(get("/hq", None)).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(headers[header::LOCATION], "/login?next=%2Fhq");

        user(&app, "agent1", Role::Agent);
        let cookie = session(&app, "agent1").await;
        let (status, _, body) = app.send(get("/hq", Some(&cookie))).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{backend:?}");
        assert!(text(&body).contains("无权访问"));
        assert!(!text(&body).contains("id=\"counts\""));

        user(&app, "auditor", Role::HqAuditor);
        let cookie = session(&app, "auditor").await;
        let (status, _, body) = app.send(get("/hq?lang=en", Some(&cookie))).await;
        assert_eq!(status, StatusCode::OK);
        assert!(text(&body).contains("HQ console"));
        assert!(
            text(&body).contains("id=\"sightings\""),
            "auditors see sightings"
        );
    }
}

#[tokio::test]
async fn a_first_password_must_be_changed_before_anything_else() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let generated = {
            let mut conn = app.conn();
            let (_, generated) = chainmark_server::accounts::create_user(
                &mut conn,
                "fin",
                "Fin",
                Role::HqFinance,
                None,
            )
            .expect("create user");
            generated.expect("generated password")
        };
        let (status, headers) = sign_in(&app, "fin", &generated).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(headers[header::LOCATION], "/account/password?next=%2Fhq");
        let cookie = format!(
            "cm_session={}",
            cookie_value(set_cookie(&headers, "cm_session").expect("session"))
        );
        let (status, headers, _) = app.send(get("/hq", Some(&cookie))).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{backend:?}");
        assert_eq!(headers[header::LOCATION], "/account/password?next=%2Fhq");

        let (status, _, body) = app
            .send(get("/account/password?next=/hq", Some(&cookie)))
            .await;
        assert_eq!(status, StatusCode::OK);
        let csrf = hidden(&text(&body), "csrf");
        let mismatch = [
            ("current", generated.as_str()),
            ("new", "new-password-789"),
            ("repeat", "new-password-780"),
            ("csrf", &csrf),
        ];
        let (status, _, _) = app
            .send(post_form("/account/password", Some(&cookie), &mismatch))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let change = [
            ("current", generated.as_str()),
            ("new", "new-password-789"),
            ("repeat", "new-password-789"),
            ("csrf", &csrf),
            ("next", "/hq"),
        ];
        let (status, headers, _) = app
            .send(post_form("/account/password", Some(&cookie), &change))
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(headers[header::LOCATION], "/hq");
        let (status, _, _) = app.send(get("/hq", Some(&cookie))).await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = sign_in(&app, "fin", "new-password-789").await;
        assert_eq!(status, StatusCode::SEE_OTHER);
    }
}

#[tokio::test]
async fn next_only_leads_to_this_site() {
    let app = TestApp::new(crate::common::Backend::Sqlite);
    user(&app, "admin", Role::HqAdmin);
    for next in [
        "https://evil.example/x",
        "//evil.example",
        "/\\evil.example",
        "/account/password",
    ] {
        let (_, headers, body) = app
            .send(get(&format!("/login?next={}", enc(next)), None))
            .await;
        let csrf = cookie_value(set_cookie(&headers, "cm_csrf").expect("csrf"));
        assert_eq!(hidden(&text(&body), "csrf"), csrf);
        let form = [
            ("username", "admin"),
            ("password", PASSWORD),
            ("csrf", csrf.as_str()),
            ("next", next),
        ];
        let (status, headers, _) = app
            .send(post_form("/login", Some(&format!("cm_csrf={csrf}")), &form))
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let expected = if next == "/account/password" {
            next
        } else {
            "/home"
        };
        assert_eq!(headers[header::LOCATION], expected, "{next}");
    }
}

#[tokio::test]
async fn sign_in_attempts_are_throttled_per_client() {
    let app = TestApp::new(crate::common::Backend::Sqlite);
    let form = [("username", "admin"), ("password", "x"), ("csrf", "x")];
    let limit = chainmark_server::ratelimit::LOGIN_ATTEMPTS_PER_MINUTE;
    for _ in 0..limit {
        let (status, _, _) = app.send(post_form("/login", None, &form)).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    let (status, headers, _) = app.send(post_form("/login", None, &form)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let retry = crate::common::retry_after(&headers);
    assert!((1..=60).contains(&retry), "{retry}");
}

/// Issues a small batch under the app's key, imports it and releases its first item; returns
/// that item's path (`/v/{serial}?t={tag}`) and security code.
fn released_item(app: &TestApp) -> (String, String) {
    let out = app.tmp.path().join("batch");
    let spec = BatchSpec::new("TEA-1", 3, crate::common::BASE_URL, &out);
    write_batch(&spec, &app.key, &mut |_| {}).expect("batch written");
    let mut conn = app.conn();
    let options = ImportOptions {
        create_product: true,
        actor: None,
    };
    let imported = registry::import_batch(
        &mut conn,
        &app.state.keys,
        &[],
        &out,
        options,
        &mut |_, _| {},
    )
    .expect("import");
    let csv = std::fs::read_to_string(out.join("print.csv")).expect("print.csv");
    let row: Vec<&str> = csv.lines().nth(1).expect("a row").split(',').collect();
    let (serial, code, url) = (row[0], row[1], row[2]);
    registry::release(&mut conn, &imported.batch_id, serial, serial, None).expect("release");
    let path = url
        .strip_prefix(crate::common::BASE_URL)
        .expect("url on the base")
        .to_string();
    (path, code.to_string())
}

#[tokio::test]
async fn the_verification_page_speaks_chinese_by_default_and_english_on_request() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let (path, _) = released_item(&app);
        let english_header = Request::get(&path)
            .header(header::ACCEPT_LANGUAGE, "en-US,en;q=0.9")
            .body(Body::empty())
            .expect("request");
        let cases = [
            (get(&path, None), "zh-CN", "请刮开涂层"),
            (english_header, "en", "Scratch the label"),
            (
                get(&format!("{path}&lang=en"), None),
                "en",
                "Scratch the label",
            ),
            (get("/v/NOTACODE?t=X", None), "zh-CN", "非正品防伪码"),
        ];
        for (req, lang, phrase) in cases {
            let uri = req.uri().to_string();
            let (status, _, body) = app.send(req).await;
            assert_eq!(status, StatusCode::OK, "{backend:?} {uri}");
            let page = text(&body);
            assert!(
                page.contains(&format!("<html lang=\"{lang}\"")),
                "{uri}: {page}"
            );
            assert!(page.contains(phrase), "{uri}: {page}");
            assert!(!page.contains("<script src="), "no external scripts: {uri}");
            assert!(
                !page.contains("<link rel=\"stylesheet\""),
                "no external styles: {uri}"
            );
        }
    }
}

/// The language switch of a verdict shows the same verdict in the other language and counts no
/// verification: "first" stays first. A link altered to say something else leads to the query
/// page instead.
#[tokio::test]
async fn the_language_switch_keeps_the_verdict_and_counts_nothing() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let (path, code) = released_item(&app);
        let serial_path = path.split('?').next().expect("path").to_string();
        let tag = path.split("t=").nth(1).expect("tag").to_string();
        let (status, _, body) = app
            .send(post_form(
                &serial_path,
                None,
                &[("t", &tag), ("code", &code)],
            ))
            .await;
        assert_eq!(status, StatusCode::OK);
        let verdict = text(&body);
        assert!(
            verdict.contains("data-result=\"genuine_first\""),
            "{verdict}"
        );
        let switch = verdict
            .split("hreflang=\"en\"")
            .next()
            .and_then(|before| before.rsplit("href=\"").next())
            .and_then(|s| s.split('"').next())
            .expect("the switch")
            .replace("&amp;", "&");
        assert!(switch.contains("/shown?"), "{backend:?}: {switch}");
        let sightings = || -> i64 {
            use chainmark_server::store::schema::sightings;
            use diesel::prelude::*;
            sightings::table
                .count()
                .get_result(&mut app.conn())
                .expect("count")
        };
        let before = sightings();
        for _ in 0..2 {
            let (status, _, body) = app.send(get(&switch, None)).await;
            assert_eq!(status, StatusCode::OK, "{backend:?}");
            let english = text(&body);
            assert!(english.contains("<html lang=\"en\""), "{english}");
            assert!(
                english.contains("data-result=\"genuine_first\""),
                "still the first verification: {english}"
            );
            // And back again, to Chinese.
            assert!(english.contains("/shown?"), "{english}");
        }
        assert_eq!(sightings(), before, "{backend:?}: nothing counted");

        // Altered: the query page for this serial, no verdict.
        let forged = switch.replace("&m=", "&m=x");
        let (status, headers, _) = app.send(get(&forged, None)).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{backend:?}");
        let to = headers[header::LOCATION].to_str().expect("location");
        assert!(to.starts_with("/q?serial="), "{to}");
    }
}

#[tokio::test]
async fn the_console_counts_what_happened() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let (path, code) = released_item(&app);
        let serial_path = path.split('?').next().expect("path").to_string();
        let tag = path.split("t=").nth(1).expect("tag").to_string();
        for c in [code.as_str(), code.as_str(), "1111 1111 1111 1111 1111"] {
            let (status, _, _) = app
                .send(post_form(&serial_path, None, &[("t", &tag), ("code", c)]))
                .await;
            assert_eq!(status, StatusCode::OK);
        }
        app.send(get("/v/NOTACODE?t=X", None)).await;
        user(&app, "admin", Role::HqAdmin);
        let cookie = session(&app, "admin").await;
        let (_, _, body) = app.send(get("/hq", Some(&cookie))).await;
        let page = text(&body);
        for (key, n) in [
            ("products", 1),
            ("batches", 1),
            ("items", 3),
            ("items_released", 1),
            ("verifications", 2),
            ("counterfeit", 1),
            ("mismatches", 1),
        ] {
            assert!(
                page.contains(&format!("data-count=\"{key}\">{n}<")),
                "{backend:?} {key}={n}: {page}"
            );
        }
        assert_eq!(page.matches("<tr data-result=").count(), 4, "{page}");
    }
}

#[tokio::test]
async fn admins_void_batches_from_the_console() {
    for backend in backends() {
        let app = TestApp::new(backend);
        let (path, _) = released_item(&app);
        let batch = path.trim_start_matches("/v/")[..8].to_string();
        user(&app, "admin", Role::HqAdmin);
        user(&app, "auditor", Role::HqAuditor);

        // An auditor sees the batch but no forms, and a post is refused.
        let auditor = session(&app, "auditor").await;
        let (_, _, body) = app.send(get("/hq", Some(&auditor))).await;
        let page = text(&body);
        assert!(page.contains(&format!("data-batch=\"{batch}\"")), "{page}");
        assert!(!page.contains("/void\""), "no forms for auditors");
        let csrf = hidden(&page, "csrf");
        let form = [("csrf", csrf.as_str()), ("reason", "test")];
        let (status, _, _) = app
            .send(post_form(
                &format!("/hq/batches/{batch}/void"),
                Some(&auditor),
                &form,
            ))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{backend:?}");

        // An admin with a forged token changes nothing; with the session's token, voids.
        let admin = session(&app, "admin").await;
        let forged = [("csrf", "forged"), ("reason", "label leak")];
        let url = format!("/hq/batches/{batch}/void");
        let (status, _, _) = app.send(post_form(&url, Some(&admin), &forged)).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (_, _, body) = app.send(get("/hq", Some(&admin))).await;
        let page = text(&body);
        assert!(
            page.contains(&format!("data-batch=\"{batch}\" data-status=\"active\"")),
            "{page}"
        );
        let csrf = hidden(&page, "csrf");
        let (status, _, _) = app
            .send(post_form(
                &url,
                Some(&admin),
                &[("csrf", &csrf), ("reason", "")],
            ))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "a reason is required");
        // The first post only asks for confirmation: what would change, and nothing yet.
        let (status, _, body) = app
            .send(post_form(
                &url,
                Some(&admin),
                &[("csrf", &csrf), ("reason", "label leak")],
            ))
            .await;
        assert_eq!(status, StatusCode::OK, "{backend:?}");
        let confirm = text(&body);
        assert!(confirm.contains("id=\"confirm-button\""), "{confirm}");
        assert!(confirm.contains("label leak"), "{confirm}");
        let (_, _, body) = app.send(get(&path, None)).await;
        assert!(
            !text(&body).contains("data-result=\"not_released\""),
            "{backend:?}: nothing voided before the confirmation"
        );
        let (status, headers, _) = app
            .send(post_form(
                &url,
                Some(&admin),
                &[
                    ("csrf", &csrf),
                    ("reason", "label leak"),
                    ("confirm", "yes"),
                ],
            ))
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(headers[header::LOCATION], "/hq#batches");
        let (_, _, body) = app.send(get(&format!("{path}&lang=en"), None)).await;
        assert!(
            text(&body).contains("data-result=\"not_released\""),
            "voided codes say so"
        );
        assert!(text(&body).contains("voided"));
    }
}

#[tokio::test]
async fn the_api_refuses_changes_authenticated_only_by_the_browser_session() {
    for backend in backends() {
        let app = TestApp::new(backend);
        user(&app, "admin", Role::HqAdmin);
        let cookie = session(&app, "admin").await;
        // Reading with the session is fine (the console's own links).
        let (status, _, _) = app.send(get("/api/v1/me", Some(&cookie))).await;
        assert_eq!(status, StatusCode::OK, "{backend:?}");
        // A cross-site form or fetch would carry the cookie: changes need a bearer token.
        let req = Request::builder()
            .method(Method::POST)
            .uri("/api/v1/users")
            .header(header::COOKIE, &cookie)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(r#"{"username":"sneaky","role":"hq_admin"}"#))
            .expect("request");
        let (status, _, body) = app.send(req).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{}", text(&body));
        let mut conn = app.conn();
        let sneaky =
            chainmark_server::store::users::find_by_username(&mut conn, "sneaky").expect("query");
        assert!(sneaky.is_none(), "nothing was created");
    }
}

#[tokio::test]
async fn the_warehouse_page_shows_handhelds_and_their_scans_to_warehouse_staff() {
    use chainmark_server::devices::{self, Registration};
    use chainmark_server::ingest::MqttSettings;
    use chainmark_server::ingest::device_key::DeviceKey;
    use chainmark_server::ingest::directory::DeviceDirectory;
    use chainmark_server::store::devices::{ScanRecord, record_scan};
    for backend in backends() {
        let app = TestApp::new(backend);
        let (status, headers, _) = app.send(get("/warehouse", None)).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(headers[header::LOCATION], "/login?next=%2Fwarehouse");

        let directory = DeviceDirectory::new(DeviceKey::from_bytes([1; 32]));
        {
            let mut conn = app.conn();
            devices::register(
                &mut conn,
                &directory,
                &MqttSettings::default(),
                None,
                &Registration {
                    id: "wh-hh-7".into(),
                    warehouse: "SH-WH01".into(),
                    owner_agent: None,
                },
            )
            .expect("register");
            record_scan(
                &mut conn,
                &ScanRecord {
                    device_id: "wh-hh-7",
                    seq: 1,
                    kind: chainmark_wire::ScanKind::Inspect,
                    code: "<script>alert(1)</script>",
                    context: None,
                    scanned_at: "2026-11-24T09:00:00+08:00",
                    result: "unknown_code",
                    items_moved: 0,
                },
            )
            .expect("scan");
        }
        user(&app, "agent1", Role::Agent);
        let cookie = session(&app, "agent1").await;
        let (status, _, _) = app.send(get("/warehouse", Some(&cookie))).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{backend:?}");

        user(&app, "packer", Role::Warehouse);
        let cookie = session(&app, "packer").await;
        let (status, _, body) = app.send(get("/warehouse", Some(&cookie))).await;
        assert_eq!(status, StatusCode::OK);
        let page = text(&body);
        assert!(page.contains("data-device=\"wh-hh-7\""), "{page}");
        assert!(
            page.contains("离线"),
            "offline until its state topic says online"
        );
        assert!(page.contains("0 / 1"), "one rejected scan in 24 h");
        assert!(page.contains("unknown_code"));
        assert!(
            !page.contains("<script>alert(1)</script>"),
            "scanned text is escaped"
        );
        let (_, _, body) = app.send(get("/warehouse?lang=en", Some(&cookie))).await;
        assert!(text(&body).contains("Handhelds"));
    }
}

/// Signing in without a `next` lands on `/home`, which sends each role to its own home; every
/// signed-in page carries the shell, whose navigation shows exactly the pages the role may open,
/// and each of those answers.
#[tokio::test]
async fn each_role_lands_on_its_home_and_sees_only_the_pages_it_may_open() {
    use chainmark_server::web::shell;
    for backend in backends() {
        let app = TestApp::new(backend);
        for role in Role::ALL {
            let name = format!("u-{}", role.as_str());
            user(&app, &name, role);
            let cookie = session(&app, &name).await;
            let (status, headers, _) = app.send(get("/home", Some(&cookie))).await;
            assert_eq!(status, StatusCode::SEE_OTHER, "{role:?}");
            assert_eq!(headers[header::LOCATION], shell::home(role), "{role:?}");
            // Agents need an agent row for their pages; their navigation is checked in the
            // network's page tests. Here: every HQ role's pages.
            if role == Role::Agent {
                continue;
            }
            let (status, _, body) = app.send(get(shell::home(role), Some(&cookie))).await;
            assert_eq!(status, StatusCode::OK, "{role:?} home");
            let page = text(&body);
            assert!(page.contains("id=\"shell\""), "{role:?}: no shell");
            let lang = chainmark_server::web::i18n::Lang::Zh;
            assert!(
                page.contains(shell::role_name(lang, role)),
                "{role:?}: the role is not named in words"
            );
            for item in shell::NAV {
                let link = format!("href=\"{}\"", item.href);
                assert_eq!(
                    page.contains(&link),
                    role.allows(item.needs),
                    "{role:?} and {}",
                    item.href
                );
            }
            for item in shell::allowed(role) {
                let (status, _, _) = app.send(get(item.href, Some(&cookie))).await;
                assert_eq!(status, StatusCode::OK, "{role:?} opening {}", item.href);
            }
            for item in shell::NAV.iter().filter(|i| !role.allows(i.needs)) {
                let (status, _, _) = app.send(get(item.href, Some(&cookie))).await;
                assert_eq!(
                    status,
                    StatusCode::FORBIDDEN,
                    "{role:?} opening {}",
                    item.href
                );
            }
        }
        let (status, headers, _) = app.send(get("/home", None)).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(
            headers[header::LOCATION]
                .to_str()
                .unwrap_or("")
                .starts_with("/login")
        );
    }
}
