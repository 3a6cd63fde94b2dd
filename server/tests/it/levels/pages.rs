//! The level pages through the router, both backends: who may see them, CSRF on the form, a
//! what-if shown before activating, activation, and the agent reading why its level changed.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chainmark_server::domain::Role;
use chainmark_server::network::agents;
use chainmark_server::store::network::agents as agent_store;

use super::paid_order;
use crate::common::{backends, cookie_of};
use crate::network::Net;

const PASSWORD: &str = "levels-password-123";

const DOC: &str = "version = 1\nname = \"pages\"\non_change = \"relevel\"\n[[levels]]\n\
    tier = \"district\"\n[[levels.paths]]\nwindow_days = 30\nthresholds = { orders = 1 }\n";

pub(crate) fn account(net: &Net, name: &str, role: Role) -> i64 {
    chainmark_server::accounts::create_user(&mut net.conn(), name, name, role, Some(PASSWORD))
        .expect("user")
        .0
        .id
}

pub(crate) fn request(
    method: &str,
    path: &str,
    cookie: Option<&str>,
    fields: &[(&str, &str)],
) -> Request<Body> {
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    let body: String = fields
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect::<Vec<_>>()
        .join("&");
    let mut b = Request::builder()
        .method(method)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    b.body(Body::from(body)).expect("request")
}

pub(crate) async fn send(net: &Net, req: Request<Body>) -> (StatusCode, String) {
    let (status, _, body) = net.app.send(req).await;
    (status, String::from_utf8_lossy(&body).into_owned())
}

pub(crate) async fn session(net: &Net, name: &str) -> String {
    let (_, headers, _) = net.app.send(request("GET", "/login", None, &[])).await;
    let csrf_cookie = cookie_of(&headers, "cm_csrf").expect("cm_csrf");
    let csrf = csrf_cookie.trim_start_matches("cm_csrf=").to_string();
    let form = [
        ("username", name),
        ("password", PASSWORD),
        ("csrf", csrf.as_str()),
        ("next", "/hq"),
    ];
    let (status, headers, _) = net
        .app
        .send(request("POST", "/login", Some(&csrf_cookie), &form))
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    cookie_of(&headers, "cm_session").expect("session")
}

pub(crate) fn hidden_csrf(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("csrf field") + 19;
    page[at..].split('"').next().expect("value").to_string()
}

#[tokio::test]
async fn hq_sees_a_what_if_then_activates_and_the_agent_reads_why() {
    for backend in backends() {
        let net = Net::new(backend);
        account(&net, "admin", Role::HqAdmin);
        let user = account(&net, "agenta", Role::Agent);
        let input = agents::NewAgentInput {
            name: "agenta".into(),
            tier: "special".into(),
            referrer_id: None,
            region: "330100".into(),
            user_id: Some(user),
        };
        let row = agents::create(&mut net.conn(), input, None).expect("agent");
        assert!(
            agent_store::activate(&mut net.conn(), row.id, row.tier_rank, 0).expect("activate")
        );
        paid_order(&net, row.id, 3, 5_000, "paid");

        let (status, _) = send(&net, request("GET", "/hq/levels", None, &[])).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{backend:?}: sign in first");
        let agent_cookie = session(&net, "agenta").await;
        let admin_cookie = session(&net, "admin").await;
        let (status, _) = send(&net, request("GET", "/hq/levels", Some(&agent_cookie), &[])).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, hq) = send(
            &net,
            request("GET", "/hq/levels?lang=en", Some(&admin_cookie), &[]),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert!(hq.contains("id=\"level-policy\"") && hq.contains("id=\"changes\""));

        let csrf = hidden_csrf(&hq);
        let no_csrf = [("action", "what-if"), ("document", DOC)];
        let (status, _) = send(
            &net,
            request("POST", "/hq/levels", Some(&admin_cookie), &no_csrf),
        )
        .await;
        assert_ne!(status, StatusCode::OK, "no CSRF token, no what-if");
        let what_if = [
            ("action", "what-if"),
            ("document", DOC),
            ("csrf", csrf.as_str()),
        ];
        let (status, body) = send(
            &net,
            request("POST", "/hq/levels", Some(&admin_cookie), &what_if),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.contains("data-up=\"1\""), "{body}");
        assert_eq!(net.agent(row.id).tier_rank, 5, "a what-if changes nothing");

        let activate = [
            ("action", "activate"),
            ("document", DOC),
            ("csrf", csrf.as_str()),
        ];
        let (status, _) = send(
            &net,
            request("POST", "/hq/levels", Some(&admin_cookie), &activate),
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(net.agent(row.id).tier_rank, 4, "区代");

        let (status, mine) = send(
            &net,
            request("GET", "/agent/levels?lang=zh", Some(&agent_cookie), &[]),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert!(mine.contains("升级为区代"), "{mine}");
        let (status, _) = send(
            &net,
            request("GET", "/agent/levels", Some(&admin_cookie), &[]),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
}
