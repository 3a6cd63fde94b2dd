//! Item 4: the API's join applications are throttled like the page's form, and a link that
//! names no tier offers only tiers below the inviter's.

use axum::http::{Method, StatusCode};
use chainmark_server::store::schema::{agents, applications, users};
use diesel::prelude::*;
use serde_json::json;

use crate::common::backends;
use crate::network::Net;

fn counts(net: &Net) -> (i64, i64, i64) {
    let mut c = net.conn();
    (
        applications::table
            .count()
            .get_result(&mut *c)
            .expect("count"),
        agents::table.count().get_result(&mut *c).expect("count"),
        users::table.count().get_result(&mut *c).expect("count"),
    )
}

fn application(tier: &str, phone: &str) -> serde_json::Value {
    json!({
        "tier": tier,
        "name": "王五",
        "phone": phone,
        "region": "330106",
        "id_number": "330106199001011234",
    })
}

#[tokio::test]
async fn api_join_applications_are_throttled_per_client() {
    for backend in backends() {
        let net = Net::new(backend);
        let (n, _) = net.active("nat", "national", None);
        let (a, a_actor) = net.active("city-a", "city", Some(n));
        let code = crate::joining::invite(&net, a_actor, a, Some("special"));
        let path = format!("/api/v1/invitations/{code}/applications");
        // Refused for its content, it still spends the budget: that is what a script sends.
        let refused =
            json!({"tier": "special", "name": "", "phone": "x", "region": "", "id_number": ""});
        for _ in 0..chainmark_server::ratelimit::JOIN_APPLICATIONS_PER_HOUR {
            let (status, body) = net
                .app
                .json(Method::POST, &path, Some(refused.clone()), None)
                .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{backend:?}: {body}");
        }
        let before = counts(&net);
        let (status, headers, body) = {
            let req = axum::http::Request::post(&path)
                .header(axum::http::header::CONTENT_TYPE, "application/json")
                .body(axum::body::Body::from(
                    application("special", "13700000001").to_string(),
                ))
                .expect("request");
            net.app.send(req).await
        };
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{backend:?}");
        let retry = crate::common::retry_after(&headers);
        assert!((1..=3600).contains(&retry), "{retry}");
        let body: serde_json::Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(body["error"]["code"], "rate_limited");
        assert_eq!(counts(&net), before, "{backend:?}: nothing written");
    }
}

#[tokio::test]
async fn a_link_without_a_tier_offers_only_tiers_below_the_inviters() {
    for backend in backends() {
        let net = Net::new(backend);
        let (n, _) = net.active("nat", "national", None);
        let (d, d_actor) = net.active("district-d", "district", Some(n));
        let (s, s_actor) = net.active("special-s", "special", Some(d));

        // A 区代's open link: 特约 only.
        let code = crate::joining::invite(&net, d_actor, d, None);
        let path = format!("/api/v1/invitations/{code}/applications");
        let before = counts(&net);
        for tier in ["national", "provincial", "city", "district"] {
            let (status, body) = net
                .app
                .json(
                    Method::POST,
                    &path,
                    Some(application(tier, "13700000009")),
                    None,
                )
                .await;
            assert_eq!(
                status,
                StatusCode::BAD_REQUEST,
                "{backend:?} {tier}: {body}"
            );
            assert!(
                body["error"]["message"]
                    .as_str()
                    .unwrap_or("")
                    .contains("below the inviter"),
                "{body}"
            );
        }
        assert_eq!(counts(&net), before, "{backend:?}: nothing written");
        let (status, body) = net
            .app
            .json(
                Method::POST,
                &path,
                Some(application("special", "13700000009")),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{backend:?}: {body}");
        // The page offers the same.
        let (_, _, page) = net
            .app
            .send(crate::common::get_with_cookie(
                &format!("/join/{code}?province=330000"),
                None,
            ))
            .await;
        let page = String::from_utf8_lossy(&page);
        assert!(page.contains("value=\"special\""), "{page}");
        for tier in ["national", "provincial", "city", "district"] {
            assert!(
                !page.contains(&format!("value=\"{tier}\"")),
                "{tier} offered: {page}"
            );
        }

        // A 特约 has no tier below it: an open link would offer nothing, so it must name one…
        let open = chainmark_server::joining::invite(&mut net.conn(), s_actor, s, None);
        assert!(
            matches!(open, Err(chainmark_server::Error::BadRequest(_))),
            "{backend:?}: {open:?}"
        );
        // …and it may name only a tier the policy lets it recruit: none here, since this policy
        // pays 特约 no same-tier referral rebate.
        let own = chainmark_server::joining::invite(&mut net.conn(), s_actor, s, Some("special"));
        assert!(
            matches!(&own, Err(chainmark_server::Error::BadRequest(m)) if m.contains("recruit")),
            "{backend:?}: {own:?}"
        );
        // A link HQ issues in its name offers the named tier and no other.
        let named = crate::joining::invite(&net, net.admin, s, Some("special"));
        let (status, body) = net
            .app
            .json(
                Method::POST,
                &format!("/api/v1/invitations/{named}/applications"),
                Some(application("national", "13700000010")),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    }
}
