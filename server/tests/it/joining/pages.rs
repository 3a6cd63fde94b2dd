//! The joining pages, the agent portal and HQ's network page through the router, both backends:
//! who may see them, CSRF on every form, and an order placed from the portal.

use axum::http::{StatusCode, header};
use chainmark_server::domain::Role;
use chainmark_server::domain::custody::CustodianKind;
use chainmark_server::joining::certificates;
use chainmark_server::network::{Actor, agents};
use chainmark_server::store::network::agents as agent_store;
use chainmark_test_support::form::post;

use crate::common::{backends, cookie_of, get_with_cookie as get};
use crate::network::Net;

const PASSWORD: &str = "portal-password-123";

/// A well-filled join form for a 特约 (special) agent.
const APPLY: [(&str, &str); 6] = [
    ("tier", "special"),
    ("password", "applicant-chose-this-1"),
    ("name", "王五"),
    ("phone", "13700000001"),
    ("region", "330106"),
    ("id_number", "330106199001011234"),
];

pub(crate) fn account(net: &Net, name: &str, role: Role) -> i64 {
    chainmark_server::accounts::create_user(&mut net.conn(), name, name, role, Some(PASSWORD))
        .expect("user")
        .0
        .id
}

/// An active agent with an account that can sign in.
pub(crate) fn agent(net: &Net, name: &str, tier: &str, referrer: Option<i64>) -> (i64, Actor) {
    let user = account(net, name, Role::Agent);
    let input = agents::NewAgentInput {
        name: name.into(),
        tier: tier.into(),
        referrer_id: referrer,
        region: "330100".into(),
        user_id: Some(user),
    };
    let row = agents::create(&mut net.conn(), input, None).expect("agent");
    assert!(agent_store::activate(&mut net.conn(), row.id, row.tier_rank, 0).expect("activate"));
    (
        row.id,
        Actor::Agent {
            user,
            agent: row.id,
        },
    )
}

pub(crate) fn hidden_csrf(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("csrf field") + 19;
    page[at..].split('"').next().expect("value").to_string()
}

pub(crate) async fn session(net: &Net, name: &str) -> String {
    let (_, headers, _) = net.app.send(get("/login", None)).await;
    let csrf_cookie = cookie_of(&headers, "cm_csrf").expect("cm_csrf");
    let csrf = csrf_cookie.trim_start_matches("cm_csrf=").to_string();
    let form = [
        ("username", name),
        ("password", PASSWORD),
        ("csrf", csrf.as_str()),
        ("next", "/agent"),
    ];
    let (status, headers, _) = net
        .app
        .send(post("/login", Some(&csrf_cookie), &form))
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    cookie_of(&headers, "cm_session").expect("session")
}

pub(crate) async fn page(
    net: &Net,
    path: &str,
    cookie: Option<&str>,
) -> (StatusCode, String, Option<String>) {
    let (status, headers, body) = net.app.send(get(path, cookie)).await;
    let location = headers
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    (
        status,
        String::from_utf8_lossy(&body).into_owned(),
        location,
    )
}

#[tokio::test]
async fn portal_and_hq_pages_check_role_csrf_and_place_orders() {
    for backend in backends() {
        let net = Net::new(backend);
        let (n, _) = agent(&net, "nat", "national", None);
        let (a, _) = agent(&net, "citya", "city", Some(n));
        account(&net, "admin", Role::HqAdmin);
        net.items((CustodianKind::Agent, Some(n)), 100);

        for path in ["/agent", "/hq/network"] {
            let (status, _, location) = page(&net, path, None).await;
            assert_eq!(status, StatusCode::SEE_OTHER, "{backend:?} {path}");
            assert!(location.expect("redirect").starts_with("/login?next="));
        }
        let agent_cookie = session(&net, "citya").await;
        let admin_cookie = session(&net, "admin").await;
        assert_eq!(
            page(&net, "/hq/network", Some(&agent_cookie)).await.0,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            page(&net, "/agent", Some(&admin_cookie)).await.0,
            StatusCode::FORBIDDEN
        );
        let (status, hq, _) = page(&net, "/hq/network?lang=en", Some(&admin_cookie)).await;
        assert_eq!(status, StatusCode::OK);
        for id in ["applications", "orders", "policy", "ledger", "withdrawals"] {
            assert!(hq.contains(&format!("id=\"{id}\"")), "{id}");
        }

        let (status, portal, _) = page(&net, "/agent", Some(&agent_cookie)).await;
        assert_eq!(status, StatusCode::OK);
        assert!(portal.contains("我的库存") && portal.contains("id=\"team\""));
        let order = [("sku", crate::network::SKU), ("quantity", "72")];
        let (status, _, _) = net
            .app
            .send(post("/agent/orders", Some(&agent_cookie), &order))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "no CSRF token, no order");
        assert!(
            !page(&net, "/agent", Some(&agent_cookie))
                .await
                .1
                .contains("data-order=")
        );
        let csrf = hidden_csrf(&portal);
        let with = [order[0], order[1], ("csrf", csrf.as_str())];
        let (status, headers, _) = net
            .app
            .send(post("/agent/orders", Some(&agent_cookie), &with))
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let back = headers[header::LOCATION]
            .to_str()
            .expect("location")
            .to_string();
        assert!(back.starts_with("/agent?notice="), "{back}");
        let (_, portal, _) = page(&net, &back, Some(&agent_cookie)).await;
        assert!(
            portal.contains("data-state=\"submitted\""),
            "the order is listed"
        );

        // The invitation form and the certificate check, public.
        let (status, _, _) = net
            .app
            .send(post(
                "/agent/invitations",
                Some(&agent_cookie),
                &[("csrf", &csrf), ("tier", "special")],
            ))
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let code = chainmark_server::store::joining::invitations_of(&mut net.conn(), a)
            .expect("list")[0]
            .code
            .clone();
        // The form asks for the province first, then shows the rest with its cities.
        let (status, first, _) = page(&net, &format!("/join/{code}"), None).await;
        assert_eq!(status, StatusCode::OK);
        assert!(first.contains("name=\"province\""), "{first}");
        let (status, form, _) = page(&net, &format!("/join/{code}?province=330000"), None).await;
        assert_eq!(status, StatusCode::OK);
        assert!(form.contains("name=\"id_number\""));
        // The applicant chooses its own password and lands on its application's own page,
        // which (特约 is approved at once) names the user name it signs in with.
        let (status, headers, body) = net
            .app
            .send(post(&format!("/join/{code}"), None, &APPLY))
            .await;
        assert_eq!(
            status,
            StatusCode::SEE_OTHER,
            "{}",
            String::from_utf8_lossy(&body)
        );
        let mine = headers[header::LOCATION]
            .to_str()
            .expect("location")
            .to_string();
        assert!(mine.starts_with("/join/status/"), "{mine}");
        let (status, mine, _) = page(&net, &mine, None).await;
        assert_eq!(status, StatusCode::OK);
        assert!(mine.contains("data-status=\"approved\""), "{mine}");
        assert!(mine.contains("id=\"username\""), "{mine}");
        assert!(
            !mine.contains("applicant-chose-this-1"),
            "the password is never shown back"
        );

        let cert = certificates::issue(&mut net.conn(), net.admin, a, None).expect("issue");
        let (status, check, _) = page(&net, &format!("/a/{}", cert.code), None).await;
        assert_eq!(status, StatusCode::OK);
        assert!(check.contains("data-standing=\"authorised\"") && check.contains("市代"));
        agents::suspend(&mut net.conn(), a, "违规", None).expect("suspend");
        let (_, check, _) = page(&net, &format!("/a/{}?lang=en", cert.code), None).await;
        assert!(check.contains("data-standing=\"suspended\"") && check.contains("suspended"));
        assert_eq!(
            page(&net, "/a/nosuchcertificate", None).await.0,
            StatusCode::NOT_FOUND
        );
    }
}

/// The public join form is throttled per client address: past the hourly budget a submission is
/// answered 429 with a retry time, and nothing is written, even for a well-filled form.
#[tokio::test]
async fn join_submissions_are_throttled_per_client() {
    for backend in backends() {
        let net = Net::new(backend);
        let (n, _) = net.active("nat", "national", None);
        let (a, a_actor) = net.active("city-a", "city", Some(n));
        let code = super::invite(&net, a_actor, a, Some("special"));
        let path = format!("/join/{code}");
        // A form refused for its content still spends the budget: that is what a script sends.
        let refused = [("tier", "special"), ("name", ""), ("phone", "x")];
        for _ in 0..chainmark_server::ratelimit::JOIN_APPLICATIONS_PER_HOUR {
            let (status, _, _) = net.app.send(post(&path, None, &refused)).await;
            assert!(status.is_client_error(), "{backend:?}: {status}");
            assert_ne!(status, StatusCode::TOO_MANY_REQUESTS, "{backend:?}");
        }
        let before = super::counts(&net);
        let (status, headers, _) = net.app.send(post(&path, None, &APPLY)).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{backend:?}");
        let retry = crate::common::retry_after(&headers);
        assert!((1..=3600).contains(&retry), "{retry}");
        assert_eq!(super::counts(&net), before, "{backend:?}: nothing written");
    }
}

/// Pages that only read never queue behind a write: with the (SQLite) writer held by a long
/// write, the agent portal and HQ's network page are still served. Both used to be loaded as a
/// write, because reading the tier policy could install the seed preset.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_portal_and_the_network_page_do_not_wait_for_the_writer() {
    // A hang guard, not a performance threshold: a page that waits for the held writer waits
    // for ever.
    const PATIENCE: std::time::Duration = std::time::Duration::from_secs(120);
    for backend in backends() {
        let net = Net::new(backend);
        let (n, _) = agent(&net, "nat", "national", None);
        agent(&net, "citya", "city", Some(n));
        account(&net, "admin", Role::HqAdmin);
        let agent_cookie = session(&net, "citya").await;
        let admin_cookie = session(&net, "admin").await;

        let (held_tx, held) = tokio::sync::oneshot::channel::<()>();
        let (release, released) = std::sync::mpsc::channel::<()>();
        let db = net.app.state.db.clone();
        let holder = tokio::spawn(async move {
            db.write(move |_| {
                let _ = held_tx.send(());
                let _ = released.recv();
                Ok(())
            })
            .await
        });
        held.await.expect("the writer is held");
        for (path, cookie) in [("/agent", &agent_cookie), ("/hq/network", &admin_cookie)] {
            let served = tokio::time::timeout(PATIENCE, page(&net, path, Some(cookie))).await;
            let Ok((status, _, _)) = served else {
                panic!("{backend:?}: {path} waited for the held writer");
            };
            assert_eq!(status, StatusCode::OK, "{backend:?} {path}");
        }
        release.send(()).expect("release the writer");
        holder.await.expect("join").expect("the held write commits");
    }
}

/// `/agent/team` pages a large downline: the tree shows 20 direct referrals a page with their
/// branches; a search by name, a tier or a status filter lists the matching members (any depth)
/// with their referrer, 30 a page; the pager keeps the filters; nobody outside the team appears.
#[tokio::test]
async fn the_team_page_searches_filters_and_pages() {
    for backend in backends() {
        let net = Net::new(backend);
        let (n, _) = agent(&net, "team-top", "national", None);
        let (outsider, _) = agent(&net, "outsider", "city", None);
        // 25 direct referrals (城市), each with two 区代 below: 75 members.
        let mut conn = net.conn();
        for i in 0..25 {
            let city = agents::create(
                &mut conn,
                agents::NewAgentInput {
                    name: format!("市代{i:02}"),
                    tier: "city".into(),
                    referrer_id: Some(n),
                    region: "330100".into(),
                    user_id: None,
                },
                None,
            )
            .expect("city");
            agent_store::activate(&mut conn, city.id, city.tier_rank, 0).expect("activate");
            for j in 0..2 {
                agents::create(
                    &mut conn,
                    agents::NewAgentInput {
                        name: format!("区代{i:02}-{j}"),
                        tier: "district".into(),
                        referrer_id: Some(city.id),
                        region: "330106".into(),
                        user_id: None,
                    },
                    None,
                )
                .expect("district");
            }
        }
        drop(conn);
        let cookie = session(&net, "team-top").await;

        let (status, tree, _) = page(&net, "/agent/team", Some(&cookie)).await;
        assert_eq!(status, StatusCode::OK, "{backend:?}");
        assert!(tree.contains("data-total=\"25\""), "{tree}");
        assert!(
            tree.contains("市代00") && tree.contains("区代00-1"),
            "{tree}"
        );
        assert!(!tree.contains("市代20"), "the 21st referral is on page 2");
        assert!(!tree.contains(&format!("data-agent=\"{outsider}\"")));
        assert!(tree.contains("id=\"team-next\""), "{tree}");
        let (_, second, _) = page(&net, "/agent/team?page=2", Some(&cookie)).await;
        assert!(second.contains("市代24") && !second.contains("市代00"));
        assert!(!second.contains("id=\"team-next\""));

        // Pending 区代 (never activated), any depth: 50, in two pages that keep the filter.
        let (_, pending, _) = page(
            &net,
            "/agent/team?tier=district&status=pending",
            Some(&cookie),
        )
        .await;
        assert!(pending.contains("data-total=\"50\""), "{pending}");
        assert!(pending.contains("推荐人：市代00"), "{pending}");
        assert!(!pending.contains(">市代00<"), "no 市代 in the list");
        let next = pending
            .split("id=\"team-next\" href=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("a next page")
            .replace("&amp;", "&");
        assert!(next.contains("tier=district") && next.contains("status=pending"));
        let (_, rest, _) = page(&net, &next, Some(&cookie)).await;
        assert_eq!(rest.matches("<li data-agent=").count(), 20, "{rest}");

        // A search by name, in English too; an outsider's name finds nobody.
        let (_, found, _) = page(
            &net,
            "/agent/team?q=%E5%8C%BA%E4%BB%A307&lang=en",
            Some(&cookie),
        )
        .await;
        assert!(found.contains("data-total=\"2\""), "{found}");
        assert!(found.contains("Referred by"), "{found}");
        let (_, none, _) = page(&net, "/agent/team?q=outsider", Some(&cookie)).await;
        assert!(none.contains("data-total=\"0\"") && none.contains("没有符合条件的成员"));
    }
}

/// The certificate and the invitation poster are pictures in words, in Chinese and English: a
/// PNG WeChat can save (drawn with the server's CJK font, no character missing, its QR reading
/// back the check or join address) and the same picture as SVG. The first certificate image's
/// address sends to the PNG, and so does the API's.
#[tokio::test]
async fn the_certificate_and_the_poster_are_pictures_in_words() {
    use chainmark_server::web::agent_images;
    use chainmark_server::web::i18n::Lang;
    let Some(fonts) = chainmark_test_support::fonts() else {
        return;
    };
    for backend in backends() {
        let net = Net::new(backend);
        let (n, _) = agent(&net, "nat", "national", None);
        let (a, a_actor) = agent(&net, "citya", "city", Some(n));
        let cert = certificates::issue(&mut net.conn(), net.admin, a, None).expect("issue");
        let check =
            certificates::check(&mut net.conn(), &cert.code, chrono::Utc::now().naive_utc())
                .expect("check")
                .expect("found");
        for lang in [Lang::Zh, Lang::En] {
            let card = agent_images::certificate_card(&net.app.state, lang, &check.certificate)
                .expect("card");
            assert_eq!(card.missing_glyphs(&fonts), Vec::<char>::new(), "{lang:?}");
        }
        let path = format!("/a/{}/certificate.png?lang=zh", cert.code);
        let (status, headers, png) = net.app.send(get(&path, None)).await;
        assert_eq!(status, StatusCode::OK, "{backend:?}");
        assert_eq!(headers[header::CONTENT_TYPE], "image/png");
        let img = image::load_from_memory(&png).expect("a PNG");
        assert_eq!((img.width(), img.height()), (750, 1000));
        // For a person to look at: `CHAINMARK_SCREENSHOT_DIR=… cargo test … pictures_in_words`.
        if let Ok(dir) = std::env::var("CHAINMARK_SCREENSHOT_DIR") {
            std::fs::write(std::path::Path::new(&dir).join("certificate.png"), &png)
                .expect("write");
        }
        let read = codegen::decode::decode_bytes(&png).expect("decode");
        let want = format!("{}/a/{}", net.app.state.settings.base_url, cert.code);
        assert_eq!(
            read,
            codegen::decode::Decoded::Payloads(vec![want.clone()]),
            "the QR reads the check page"
        );
        let (_, _, svg) = net
            .app
            .send(get(
                &format!("/a/{}/certificate.svg?lang=en", cert.code),
                None,
            ))
            .await;
        let svg = String::from_utf8_lossy(&svg);
        assert!(
            svg.contains("Certificate of Authorisation") && svg.contains("citya"),
            "{svg}"
        );
        let (_, _, svg) = net
            .app
            .send(get(
                &format!("/a/{}/certificate.svg?lang=zh", cert.code),
                None,
            ))
            .await;
        assert!(String::from_utf8_lossy(&svg).contains("授权证书"));
        let (status, moved, _) = page(&net, &format!("/a/{}/png", cert.code), None).await;
        assert_eq!(
            (status, moved.is_empty()),
            (StatusCode::PERMANENT_REDIRECT, true)
        );
        let (status, _, location) = page(
            &net,
            &format!("/api/v1/certificates/{}/png?lang=en", cert.code),
            None,
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(
            location.as_deref(),
            Some(format!("/a/{}/certificate.png?lang=en", cert.code).as_str())
        );
        assert_eq!(
            page(&net, "/a/nosuch/certificate.png", None).await.0,
            StatusCode::NOT_FOUND
        );

        let code = super::invite(&net, a_actor, a, Some("district"));
        let (status, headers, png) = net
            .app
            .send(get(&format!("/join/{code}/poster.png?lang=zh"), None))
            .await;
        assert_eq!(status, StatusCode::OK, "{backend:?}");
        assert_eq!(headers[header::CONTENT_TYPE], "image/png");
        if let Ok(dir) = std::env::var("CHAINMARK_SCREENSHOT_DIR") {
            std::fs::write(std::path::Path::new(&dir).join("poster.png"), &png).expect("write");
        }
        let read = codegen::decode::decode_bytes(&png).expect("decode");
        let join = format!("{}/join/{code}", net.app.state.settings.base_url);
        assert_eq!(read, codegen::decode::Decoded::Payloads(vec![join]));
        let (_, _, svg) = net
            .app
            .send(get(&format!("/join/{code}/poster.svg?lang=zh"), None))
            .await;
        let svg = String::from_utf8_lossy(&svg);
        assert!(
            svg.contains("citya 邀请您加入") && svg.contains("区代"),
            "{svg}"
        );
    }
}
