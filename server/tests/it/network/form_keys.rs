//! Page forms that move money or stock run once per rendered form, through the router on both
//! backends: each carries a hidden `idempotency_key` made when the page was rendered; the same
//! form posted twice (a double click, a browser resubmit) or twice at once books once and both
//! get the same redirect; a form rendered before the field existed still works.

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use chainmark_server::domain::Role;
use chainmark_server::domain::custody::CustodianKind;
use chainmark_server::domain::network::OrderState;
use chainmark_server::domain::network::{HqAccount, PaidVia, PostingKind};
use chainmark_server::network::{Actor, agents, orders, withdrawals};
use chainmark_server::store::network::agents as agents_store;
use chainmark_server::store::schema::{order_events, postings, restock_orders};
use chainmark_server::store::typed::Stored;
use chainmark_test_support::form::enc;
use diesel::prelude::*;

use super::{Net, dec};
use crate::common::{backends, cookie_of, get_with_cookie as get};

const PASSWORD: &str = "form-key-password-1";

/// A user that can sign in with [`PASSWORD`].
fn account(net: &Net, name: &str, role: Role) -> i64 {
    chainmark_server::accounts::create_user(&mut net.conn(), name, name, role, Some(PASSWORD))
        .expect("user")
        .0
        .id
}

/// An active agent with an account.
fn agent(net: &Net, name: &str, tier: &str, referrer: Option<i64>) -> (i64, Actor) {
    let user = account(net, name, Role::Agent);
    let input = agents::NewAgentInput {
        name: name.into(),
        tier: tier.into(),
        referrer_id: referrer,
        region: "330100".into(),
        user_id: Some(user),
    };
    let row = agents::create(&mut net.conn(), input, None).expect("agent");
    assert!(agents_store::activate(&mut net.conn(), row.id, row.tier_rank, 0).expect("activate"));
    agents::recompute_below(&mut net.conn(), row.id, true).expect("recompute");
    (
        row.id,
        Actor::Agent {
            user,
            agent: row.id,
        },
    )
}

fn post(path: &str, cookie: &str, fields: &[(&str, &str)]) -> Request<Body> {
    let body: String = fields
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect::<Vec<_>>()
        .join("&");
    Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, cookie)
        .body(Body::from(body))
        .expect("request")
}

/// Signs in through the login form: the session cookie.
async fn session(net: &Net, name: &str) -> String {
    let (_, headers, _) = net.app.send(get("/login", None)).await;
    let csrf_cookie = cookie_of(&headers, "cm_csrf").expect("cm_csrf");
    let csrf = csrf_cookie.trim_start_matches("cm_csrf=").to_string();
    let form = [
        ("username", name),
        ("password", PASSWORD),
        ("csrf", csrf.as_str()),
        ("next", "/hq"),
    ];
    let (status, headers, _) = net.app.send(post("/login", &csrf_cookie, &form)).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{name} signs in");
    cookie_of(&headers, "cm_session").expect("session")
}

/// The session's CSRF token, as the page's forms carry it.
fn csrf_of(page: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let at = page.find(marker).expect("csrf field") + marker.len();
    page[at..].split('"').next().expect("value").to_string()
}

async fn page(net: &Net, path: &str, cookie: &str) -> String {
    let (status, _, body) = net.app.send(get(path, Some(cookie))).await;
    assert_eq!(status, StatusCode::OK, "{path}");
    String::from_utf8_lossy(&body).into_owned()
}

/// The hidden key of the form posting to `action` on `page`.
fn key_of(page: &str, action: &str) -> String {
    let form = page
        .split("<form")
        .find(|f| f.contains(&format!("action=\"{action}\"")))
        .unwrap_or_else(|| panic!("no form posting to {action}"));
    let marker = "name=\"idempotency_key\" value=\"";
    let at = form
        .find(marker)
        .unwrap_or_else(|| panic!("the form posting to {action} has no key"))
        + marker.len();
    form[at..].split('"').next().expect("value").to_string()
}

fn location(h: &HeaderMap) -> String {
    h.get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .expect("a redirect")
        .to_string()
}

fn replayed(h: &HeaderMap) -> bool {
    h.get("idempotent-replayed").is_some_and(|v| v == "true")
}

fn orders_of(net: &Net, buyer: i64) -> i64 {
    restock_orders::table
        .filter(restock_orders::buyer_id.eq(buyer))
        .count()
        .get_result(&mut net.conn())
        .expect("count")
}

fn events_of(net: &Net, order: i64, to: OrderState) -> i64 {
    order_events::table
        .filter(order_events::order_id.eq(order))
        .filter(order_events::to_state.eq(Stored(to)))
        .count()
        .get_result(&mut net.conn())
        .expect("count")
}

fn postings_of(net: &Net, kind: PostingKind) -> i64 {
    postings::table
        .filter(postings::kind.eq(Stored(kind)))
        .count()
        .get_result(&mut net.conn())
        .expect("count")
}

/// 市代 A places an order from the portal and its 省代 P confirms the payment there; each form
/// posted twice with its key: one order, one payment, and the second submission is redirected
/// to the first one's result page. The place form's key sent with another quantity is refused.
#[tokio::test]
async fn the_same_form_posted_twice_books_once() {
    for backend in backends() {
        let net = Net::new(backend);
        let (p, _) = agent(&net, "prov", "provincial", None);
        let (a, _) = agent(&net, "city-a", "city", Some(p));
        net.items((CustodianKind::Agent, Some(p)), 100);
        let a_cookie = session(&net, "city-a").await;
        let portal = page(&net, "/agent", &a_cookie).await;
        let a_csrf = csrf_of(&portal);
        let key = key_of(&portal, "/agent/orders");
        let place = [
            ("csrf", a_csrf.as_str()),
            ("idempotency_key", key.as_str()),
            ("sku", super::SKU),
            ("quantity", "72"),
        ];
        let (s1, h1, _) = net.app.send(post("/agent/orders", &a_cookie, &place)).await;
        let (s2, h2, _) = net.app.send(post("/agent/orders", &a_cookie, &place)).await;
        assert_eq!(
            (s1, s2),
            (StatusCode::SEE_OTHER, StatusCode::SEE_OTHER),
            "{backend:?}"
        );
        assert_eq!(location(&h1), location(&h2), "{backend:?}: the same result");
        assert!(!replayed(&h1) && replayed(&h2), "{backend:?}");
        assert_eq!(orders_of(&net, a), 1, "{backend:?}: one order placed");

        let mut other = place;
        other[3] = ("quantity", "80");
        let (status, _, body) = net.app.send(post("/agent/orders", &a_cookie, &other)).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{backend:?}: {}",
            String::from_utf8_lossy(&body)
        );
        assert_eq!(orders_of(&net, a), 1, "{backend:?}: nothing placed");

        let order = restock_orders::table
            .filter(restock_orders::buyer_id.eq(a))
            .select(restock_orders::id)
            .first::<i64>(&mut net.conn())
            .expect("order");
        let p_cookie = session(&net, "prov").await;
        // The order's actions are on the order's own page.
        let order_page = format!("/agent/orders/{order}");
        let p_csrf = csrf_of(&page(&net, &order_page, &p_cookie).await);
        let accept = format!("/agent/orders/{order}/accept");
        let k = key_of(&page(&net, &order_page, &p_cookie).await, &accept);
        let form = [("csrf", p_csrf.as_str()), ("idempotency_key", k.as_str())];
        for _ in 0..2 {
            let (status, _, _) = net.app.send(post(&accept, &p_cookie, &form)).await;
            assert_eq!(status, StatusCode::SEE_OTHER, "{backend:?}");
        }
        assert_eq!(net.order(order).state, OrderState::Accepted);

        let pay = format!("/agent/orders/{order}/pay");
        let k = key_of(&page(&net, &order_page, &p_cookie).await, &pay);
        let form = [("csrf", p_csrf.as_str()), ("idempotency_key", k.as_str())];
        let (s1, h1, _) = net.app.send(post(&pay, &p_cookie, &form)).await;
        let (s2, h2, b2) = net.app.send(post(&pay, &p_cookie, &form)).await;
        assert_eq!(
            (s1, s2),
            (StatusCode::SEE_OTHER, StatusCode::SEE_OTHER),
            "{backend:?}: a resubmitted confirmation is not an error: {}",
            String::from_utf8_lossy(&b2)
        );
        assert_eq!(location(&h1), location(&h2));
        assert!(replayed(&h2));
        assert_eq!(net.order(order).state, OrderState::Paid, "{backend:?}");
        assert_eq!(
            events_of(&net, order, OrderState::Paid),
            1,
            "{backend:?}: paid once (offline to an agent: no posting, one event)"
        );
        net.assert_books_balance();
    }
}

/// The same form posted twice at the same moment (a double click that the browser sends as two
/// requests): one runs, the other gets its answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_form_posted_twice_at_once_books_once() {
    for backend in backends() {
        let net = Net::new(backend);
        let (p, p_actor) = agent(&net, "prov", "provincial", None);
        let (a, a_actor) = agent(&net, "city-a", "city", Some(p));
        net.items((CustodianKind::Agent, Some(p)), 100);
        let a_cookie = session(&net, "city-a").await;
        let portal = page(&net, "/agent", &a_cookie).await;
        let a_csrf = csrf_of(&portal);
        let key = key_of(&portal, "/agent/orders");
        let place = [
            ("csrf", a_csrf.as_str()),
            ("idempotency_key", key.as_str()),
            ("sku", super::SKU),
            ("quantity", "72"),
        ];
        let ((s1, h1, _), (s2, h2, _)) = tokio::join!(
            net.app.send(post("/agent/orders", &a_cookie, &place)),
            net.app.send(post("/agent/orders", &a_cookie, &place))
        );
        assert_eq!(
            (s1, s2),
            (StatusCode::SEE_OTHER, StatusCode::SEE_OTHER),
            "{backend:?}"
        );
        assert_eq!(location(&h1), location(&h2), "{backend:?}");
        assert_eq!(
            [replayed(&h1), replayed(&h2)]
                .iter()
                .filter(|r| **r)
                .count(),
            1,
            "{backend:?}: one ran, one got its answer"
        );
        assert_eq!(orders_of(&net, a), 1, "{backend:?}: one order");

        // Shipping, one scan per form on the scanning page: the same scan posted twice at once
        // moves its item once.
        let order = net.submit(a_actor, 72);
        orders::accept(&mut net.conn(), order, p_actor).expect("accept");
        net.pay(order, PaidVia::Offline, p_actor);
        let serial = net.held((CustodianKind::Agent, Some(p)), 1).remove(0);
        let p_cookie = session(&net, "prov").await;
        let ship = format!("/agent/orders/{order}/ship");
        let scanning = page(&net, &ship, &p_cookie).await;
        let p_csrf = csrf_of(&scanning);
        let k = key_of(&scanning, &ship);
        let form = [
            ("csrf", p_csrf.as_str()),
            ("idempotency_key", k.as_str()),
            ("code", serial.as_str()),
        ];
        let ((s1, h1, _), (s2, h2, _)) = tokio::join!(
            net.app.send(post(&ship, &p_cookie, &form)),
            net.app.send(post(&ship, &p_cookie, &form))
        );
        assert_eq!(
            (s1, s2),
            (StatusCode::SEE_OTHER, StatusCode::SEE_OTHER),
            "{backend:?}"
        );
        assert_eq!(location(&h1), location(&h2), "{backend:?}");
        assert!(
            !location(&h1).contains("bad=1"),
            "{backend:?}: the scan was refused: {}",
            location(&h1)
        );
        let o = net.order(order);
        assert_eq!(
            (o.state.as_str(), o.shipped_quantity),
            ("shipping", 1),
            "{backend:?}: one item shipped, once"
        );
        assert_eq!(
            net.held((CustodianKind::Agent, Some(p)), 100).len(),
            99,
            "{backend:?}: the item left P once"
        );
    }
}

/// HQ finance approves a withdrawal from `/hq/network` with a double click: one approval, one
/// payout posting. A form without the key (a page rendered before keys, still open in a tab)
/// still works, once.
#[tokio::test]
async fn withdrawal_decisions_run_once_and_old_forms_still_work() {
    for backend in backends() {
        let net = Net::new(backend);
        let (a, a_actor) = agent(&net, "city-a", "city", None);
        account(&net, "finance-web", Role::HqFinance);
        net.deposit(a, "500.00");
        let w1 = withdrawals::request(&mut net.conn(), a_actor, dec("100.00"))
            .expect("w1")
            .id;
        let w2 = withdrawals::request(&mut net.conn(), a_actor, dec("50.00"))
            .expect("w2")
            .id;
        let cookie = session(&net, "finance-web").await;
        let hq = page(&net, "/hq/network", &cookie).await;
        let csrf = csrf_of(&hq);
        let approve = format!("/hq/network/withdrawals/{w1}/approve");
        let k = key_of(&hq, &approve);
        assert_ne!(
            k,
            key_of(&hq, &format!("/hq/network/withdrawals/{w1}/reject")),
            "each form its own key"
        );
        let form = [("csrf", csrf.as_str()), ("idempotency_key", k.as_str())];
        let (s1, h1, _) = net.app.send(post(&approve, &cookie, &form)).await;
        let (s2, h2, _) = net.app.send(post(&approve, &cookie, &form)).await;
        assert_eq!(
            (s1, s2),
            (StatusCode::SEE_OTHER, StatusCode::SEE_OTHER),
            "{backend:?}"
        );
        assert_eq!(location(&h1), location(&h2));
        assert_eq!(
            postings_of(&net, PostingKind::WithdrawalApproved),
            1,
            "{backend:?}"
        );
        assert_eq!(net.hq(HqAccount::Cash), dec("-400.00"), "{backend:?}");

        // An old page's form: no key field. It runs, once; sent again it is refused as before.
        let old = [("csrf", csrf.as_str())];
        let reject = format!("/hq/network/withdrawals/{w2}/reject");
        let (status, _, _) = net.app.send(post(&reject, &cookie, &old)).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{backend:?}");
        assert_eq!(
            net.available(a),
            dec("400.00"),
            "{backend:?}: 500.00 − 100.00 approved; the 50.00 back"
        );
        let (status, _, _) = net.app.send(post(&reject, &cookie, &old)).await;
        assert_eq!(status, StatusCode::CONFLICT, "{backend:?}: decided already");
        assert_eq!(net.available(a), dec("400.00"), "{backend:?}");
        net.assert_books_balance();
    }
}

/// The portal's upgrade form (DOMAIN §5) carries a key too: a 区代 whose entry bought 80 items
/// (more than a 市代's 72) and who referred three 市代 is upgraded at once by it; the form sent
/// again is answered with the same page and upgrades nothing more.
#[tokio::test]
async fn the_upgrade_form_upgrades_once() {
    use chainmark_server::store::schema::audit_log;
    for backend in backends() {
        let net = Net::new(backend);
        let (p, _) = agent(&net, "prov", "provincial", None);
        let (x, _) = agent(&net, "district-x", "district", Some(p));
        agents_store::set_entry_items(&mut net.conn(), x, 80).expect("items");
        for i in 0..3 {
            agent(&net, &format!("city-{i}"), "city", Some(x));
        }
        let cookie = session(&net, "district-x").await;
        let portal = page(&net, "/agent", &cookie).await;
        let key = key_of(&portal, "/agent/upgrade");
        let form = [
            ("csrf", csrf_of(&portal)),
            ("idempotency_key", key),
            ("sku", super::SKU.to_string()),
        ];
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (s1, h1, _) = net.app.send(post("/agent/upgrade", &cookie, &form)).await;
        let (s2, h2, _) = net.app.send(post("/agent/upgrade", &cookie, &form)).await;
        assert_eq!(
            (s1, s2),
            (StatusCode::SEE_OTHER, StatusCode::SEE_OTHER),
            "{backend:?}"
        );
        assert_eq!(location(&h1), location(&h2), "{backend:?}");
        assert!(replayed(&h2));
        assert_eq!(net.agent(x).tier_rank, 3, "{backend:?}: a 市代 now");
        let upgrades: i64 = audit_log::table
            .filter(audit_log::action.eq("agent.upgrade"))
            .count()
            .get_result(&mut net.conn())
            .expect("count");
        assert_eq!(upgrades, 1, "{backend:?}");
        assert_eq!(orders_of(&net, x), 0, "{backend:?}: no order");
        let after = page(&net, "/agent", &cookie).await;
        assert!(
            !after.contains("action=\"/agent/upgrade\""),
            "{backend:?}: no referred 省代 yet, no upgrade form"
        );
    }
}
