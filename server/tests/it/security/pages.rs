//! Item 7: `/hq/network` shows each part only to the roles its API route answers, through the
//! same permission check.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use chainmark_server::domain::Role;

use crate::common::{TestApp, backends, cookie_of, get_with_cookie};

const PASSWORD: &str = "test-password-123";

/// Signs in on the page; returns the session cookie.
pub async fn session(app: &TestApp, name: &str) -> String {
    let (_, headers, _) = app.send(get_with_cookie("/login", None)).await;
    let csrf_cookie = cookie_of(&headers, "cm_csrf").expect("cm_csrf");
    let csrf = csrf_cookie.trim_start_matches("cm_csrf=").to_string();
    let body = format!("username={name}&password={PASSWORD}&csrf={csrf}&next=%2Fhq");
    let req = Request::post("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, &csrf_cookie)
        .body(Body::from(body))
        .expect("request");
    let (status, headers, _) = app.send(req).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "sign-in of {name}");
    cookie_of(&headers, "cm_session").expect("session")
}

#[tokio::test]
async fn hq_network_shows_what_the_api_shows_to_each_role() {
    // (page part, the API route answering the same question)
    let parts = [
        ("orders", "/api/v1/orders?view=all"),
        ("policy", "/api/v1/policy/versions"),
        ("ledger", "/api/v1/ledger/hq"),
        ("withdrawals", "/api/v1/withdrawals"),
    ];
    for backend in backends() {
        let app = TestApp::new(backend);
        for role in [
            Role::HqAdmin,
            Role::HqFinance,
            Role::HqAuditor,
            Role::Warehouse,
        ] {
            let name = role.as_str().replace('_', "-");
            let token = app.token_for(&name, role).await;
            let cookie = session(&app, &name).await;
            let (status, _, page) = app
                .send(get_with_cookie("/hq/network?lang=en", Some(&cookie)))
                .await;
            assert_eq!(status, StatusCode::OK, "{backend:?} {role:?}");
            let page = String::from_utf8_lossy(&page);
            for (part, route) in parts {
                let (api, body) = app.json(Method::GET, route, None, Some(&token)).await;
                assert!(
                    api == StatusCode::OK || api == StatusCode::FORBIDDEN,
                    "{role:?} {route}: {api} {body}"
                );
                let shown = page.contains(&format!("id=\"{part}\""));
                assert_eq!(
                    shown,
                    api == StatusCode::OK,
                    "{backend:?}: {role:?} sees {part} on the page: {shown}, API {route} answers {api}"
                );
            }
        }
        // The roles of the finding, in so many words.
        let cookie = session(&app, "warehouse").await;
        let page = app
            .send(get_with_cookie("/hq/network", Some(&cookie)))
            .await
            .2;
        let page = String::from_utf8_lossy(&page);
        assert!(!page.contains("id=\"ledger\"") && !page.contains("id=\"withdrawals\""));
        let cookie = session(&app, "hq-auditor").await;
        let page = app
            .send(get_with_cookie("/hq/network", Some(&cookie)))
            .await
            .2;
        assert!(!String::from_utf8_lossy(&page).contains("id=\"withdrawals\""));
    }
}
