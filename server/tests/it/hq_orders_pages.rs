//! HQ's orders desk through the router, both backends: the list in tabs with search, a date
//! range and pages; the CSV export of the same filters; an order placed with HQ accepted by the
//! admin and its payment confirmed by finance from the order page (the entry order activates its
//! buyer); a refused action answered in words with nothing changed; the auditor reading without
//! buttons and refused on a POST; a form posted twice booking once.

use axum::http::{HeaderMap, StatusCode, header};
use chainmark_server::domain::Role;
use chainmark_server::domain::custody::CustodianKind;
use chainmark_server::domain::network::{AgentStatus, OrderState};
use chainmark_server::network::orders;
use chainmark_server::store::schema::{order_events, restock_orders};
use chainmark_server::store::typed::Stored;
use chainmark_test_support::form::post;
use chrono::NaiveDate;
use diesel::prelude::*;

use crate::common::backends;
use crate::joining::pages::{account, hidden_csrf, page, session};
use crate::network::Net;

/// The hidden key of the form posting to `action` on `page`.
fn key_of(page: &str, action: &str) -> String {
    let form = page
        .split("<form")
        .find(|f| f.contains(&format!("action=\"{action}\"")))
        .unwrap_or_else(|| panic!("no form posting to {action}"));
    let marker = "name=\"idempotency_key\" value=\"";
    let at = form.find(marker).expect("a form key") + marker.len();
    form[at..].split('"').next().expect("value").to_string()
}

fn location(h: &HeaderMap) -> String {
    h.get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .expect("a redirect")
        .to_string()
}

fn events_to(net: &Net, order: i64, to: OrderState) -> i64 {
    order_events::table
        .filter(order_events::order_id.eq(order))
        .filter(order_events::to_state.eq(Stored(to)))
        .count()
        .get_result(&mut net.conn())
        .expect("count")
}

/// The order ids a list page shows, in its order.
fn listed(body: &str) -> Vec<i64> {
    body.split("<tr data-order=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next()?.parse().ok())
        .collect()
}

#[tokio::test]
async fn the_list_filters_by_tab_search_and_date_pages_and_exports_csv() {
    for backend in backends() {
        let net = Net::new(backend);
        net.items((CustodianKind::Hq, None), 200);
        account(&net, "admin", Role::HqAdmin);
        account(&net, "agent-login", Role::Agent);
        let (d, _) = net.active("district-1", "district", None);
        let (_, alpha) = net.pending("city-alpha", "city", Some(d));
        let (_, beta) = net.pending("city-beta", "city", Some(d));
        let a = net.submit(alpha, 72);
        let b = net.submit(beta, 72);
        orders::accept(&mut net.conn(), b, net.admin).expect("accept");
        // Order a was placed long ago.
        let old = NaiveDate::from_ymd_opt(2025, 1, 15)
            .and_then(|d| d.and_hms_opt(10, 0, 0))
            .expect("date");
        diesel::update(restock_orders::table.find(a))
            .set(restock_orders::created_at.eq(old))
            .execute(&mut net.conn())
            .expect("backdate");

        let admin = session(&net, "admin").await;
        let (status, body, _) = page(&net, "/hq/orders?lang=en", Some(&admin)).await;
        assert_eq!(status, StatusCode::OK, "{backend:?}");
        assert!(body.contains("href=\"/hq/orders\""), "in the navigation");
        assert_eq!(listed(&body), vec![b, a], "newest first");
        assert!(body.contains("Entry order") && body.contains("city-alpha"));
        assert!(body.contains("¥2232.00"), "the amount in yuan");
        assert!(
            !body.contains(">submitted<") && !body.contains(">entry<"),
            "no keys"
        );

        let tab = |t: &str| format!("/hq/orders?lang=en&tab={t}");
        assert_eq!(
            listed(&page(&net, &tab("answer"), Some(&admin)).await.1),
            [a]
        );
        assert_eq!(listed(&page(&net, &tab("pay"), Some(&admin)).await.1), [b]);
        assert!(listed(&page(&net, &tab("ship"), Some(&admin)).await.1).is_empty());

        let search = |q: &str| format!("/hq/orders?lang=en&q={q}");
        assert_eq!(
            listed(&page(&net, &search("alpha"), Some(&admin)).await.1),
            [a]
        );
        assert_eq!(
            listed(
                &page(&net, &search(&format!("%23{b}")), Some(&admin))
                    .await
                    .1
            ),
            [b]
        );
        assert_eq!(
            listed(
                &page(&net, &search(crate::network::SKU), Some(&admin))
                    .await
                    .1
            ),
            [b, a],
            "by SKU"
        );
        assert_eq!(
            listed(
                &page(&net, &search("%E9%BE%99%E4%BA%95"), Some(&admin))
                    .await
                    .1
            ),
            [b, a],
            "by the product's name (龙井)"
        );
        assert!(listed(&page(&net, &search("nobody"), Some(&admin)).await.1).is_empty());

        let range = "/hq/orders?lang=en&from=2025-01-15&to=2025-01-15";
        assert_eq!(listed(&page(&net, range, Some(&admin)).await.1), [a]);
        let later = "/hq/orders?lang=en&from=2025-01-16";
        assert_eq!(listed(&page(&net, later, Some(&admin)).await.1), [b]);

        // Pages of 25: 26 more orders make two pages for the tab "to answer".
        let (_, many) = net.active("city-many", "city", Some(d));
        for _ in 0..26 {
            net.submit(many, 72);
        }
        let (_, first, _) = page(&net, &tab("answer"), Some(&admin)).await;
        assert_eq!(listed(&first).len(), 25);
        assert!(first.contains("rel=\"next\""), "a next page link");
        let (_, second, _) = page(&net, &format!("{}&page=2", tab("answer")), Some(&admin)).await;
        assert_eq!(listed(&second).len(), 2, "26 + order a");
        assert!(!second.contains("rel=\"next\""));

        // The CSV: a header in the page's language and the filtered rows, money in yuan.
        let (status, headers, csv) = net
            .app
            .send(crate::common::get_with_cookie(
                "/hq/orders.csv?lang=en&q=city-alpha",
                Some(&admin),
            ))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            headers[header::CONTENT_TYPE]
                .to_str()
                .expect("type")
                .starts_with("text/csv")
        );
        let csv = String::from_utf8(csv.to_vec()).expect("utf-8");
        let mut lines = csv.trim_start_matches('\u{feff}').lines();
        assert_eq!(
            lines.next(),
            Some(
                "Order,Kind,Buyer,Seller,Products,Items,Amount (CNY),State,After-sale case,Placed"
            )
        );
        let row = lines.next().expect("a row");
        assert!(
            row.starts_with(&format!("{a},Entry order,city-alpha,HQ,")),
            "{row}"
        );
        assert!(row.contains(",72,2232.00,Submitted,"), "{row}");
        assert_eq!(lines.next(), None);
        let (_, _, all) = net
            .app
            .send(crate::common::get_with_cookie(
                "/hq/orders.csv",
                Some(&admin),
            ))
            .await;
        let all = String::from_utf8(all.to_vec()).expect("utf-8");
        assert!(
            all.contains("订单号,类型,买家"),
            "Chinese header by default"
        );
        assert_eq!(all.lines().count(), 1 + 28, "every order");

        // An agent may not open the desk.
        let agent = session(&net, "agent-login").await;
        assert_eq!(
            page(&net, "/hq/orders", Some(&agent)).await.0,
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            page(&net, "/hq/orders.csv", Some(&agent)).await.0,
            StatusCode::FORBIDDEN
        );
    }
}

#[tokio::test]
async fn hq_answers_and_confirms_payment_from_the_order_page() {
    for backend in backends() {
        let net = Net::new(backend);
        net.items((CustodianKind::Hq, None), 100);
        account(&net, "admin", Role::HqAdmin);
        account(&net, "finance", Role::HqFinance);
        account(&net, "auditor", Role::HqAuditor);
        let (d, _) = net.active("district-1", "district", None);
        let (c, c_actor) = net.pending("city-1", "city", Some(d));
        let order = net.submit(c_actor, 72);
        let path = format!("/hq/orders/{order}");

        // The auditor reads the order, with no button, and a POST of its own is refused.
        let auditor = session(&net, "auditor").await;
        let (status, seen, _) = page(&net, &path, Some(&auditor)).await;
        assert_eq!(status, StatusCode::OK, "{backend:?}");
        assert!(seen.contains("id=\"no-actions\"") && !seen.contains("id=\"do-accept\""));
        assert!(seen.contains("city-1") && seen.contains("待接单"));
        let csrf = hidden_csrf(&seen);
        let (status, _, _) = net
            .app
            .send(post(
                &format!("{path}/accept"),
                Some(&auditor),
                &[("csrf", &csrf)],
            ))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(net.order(order).state, OrderState::Submitted);

        // Finance may not answer: no button; confirming an unanswered order is refused in words.
        let finance = session(&net, "finance").await;
        let (_, seen, _) = page(&net, &path, Some(&finance)).await;
        assert!(!seen.contains("id=\"do-accept\"") && !seen.contains("id=\"do-pay\""));
        let f_csrf = hidden_csrf(&seen);
        let (status, _, body) = net
            .app
            .send(post(
                &format!("{path}/pay"),
                Some(&finance),
                &[("csrf", &f_csrf)],
            ))
            .await;
        assert_eq!(status, StatusCode::CONFLICT);
        let body = String::from_utf8_lossy(&body);
        assert!(body.contains("尚未接单"), "{body}");
        assert!(
            !body.contains("order_not_answered"),
            "no code reaches a person"
        );
        assert_eq!(net.order(order).state, OrderState::Submitted);
        assert_eq!(net.agent(c).status, AgentStatus::Pending);

        // The admin accepts; the same form posted again books nothing more.
        let admin = session(&net, "admin").await;
        let (_, seen, _) = page(&net, &path, Some(&admin)).await;
        assert!(seen.contains("id=\"do-accept\"") && seen.contains("id=\"do-reject\""));
        let csrf = hidden_csrf(&seen);
        let key = key_of(&seen, &format!("{path}/accept"));
        let form = [("csrf", csrf.as_str()), ("idempotency_key", key.as_str())];
        let (status, headers, _) = net
            .app
            .send(post(&format!("{path}/accept"), Some(&admin), &form))
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(location(&headers).starts_with(&format!("{path}?notice=")));
        assert_eq!(net.order(order).state, OrderState::Accepted);
        let (status, headers, _) = net
            .app
            .send(post(&format!("{path}/accept"), Some(&admin), &form))
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "the first answer again");
        assert_eq!(headers["idempotent-replayed"], "true");
        assert_eq!(events_to(&net, order, OrderState::Accepted), 1);

        // Finance confirms the transfer: the entry order activates its buyer.
        let (_, seen, _) = page(&net, &path, Some(&finance)).await;
        assert!(
            seen.contains("id=\"do-pay\""),
            "finance confirms payments to HQ"
        );
        let key = key_of(&seen, &format!("{path}/pay"));
        let form = [("csrf", f_csrf.as_str()), ("idempotency_key", key.as_str())];
        let (status, headers, _) = net
            .app
            .send(post(&format!("{path}/pay"), Some(&finance), &form))
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (_, after, _) = page(&net, &location(&headers), Some(&finance)).await;
        assert!(
            after.contains("id=\"notice\"") && after.contains("已付款"),
            "{after}"
        );
        assert_eq!(net.order(order).state, OrderState::Paid);
        assert_eq!(net.agent(c).status, AgentStatus::Active);
        assert_eq!(events_to(&net, order, OrderState::Paid), 1);

        // HQ ships it: the admin's page has the scanning form; one scanned item starts the
        // shipment; an unknown code is refused in words.
        let (_, seen, _) = page(&net, &format!("{path}?lang=en"), Some(&admin)).await;
        assert!(seen.contains("id=\"scan\"") && !seen.contains("id=\"do-pay\""));
        assert!(seen.contains("Paid") && seen.contains("Money (as booked)"));
        let serial = net.held((CustodianKind::Hq, None), 1).remove(0);
        let (status, headers, _) = net
            .app
            .send(post(
                &format!("{path}/ship"),
                Some(&admin),
                &[("csrf", &csrf), ("code", &serial)],
            ))
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(
            !location(&headers).contains("bad=1"),
            "{}",
            location(&headers)
        );
        assert_eq!(net.order(order).state, OrderState::Shipping);
        assert_eq!(net.order(order).shipped_quantity, 1);
        let (_, headers, _) = net
            .app
            .send(post(
                &format!("{path}/ship"),
                Some(&admin),
                &[("csrf", &csrf), ("code", "NOSUCHCODE")],
            ))
            .await;
        assert!(location(&headers).contains("bad=1"));
        assert_eq!(net.order(order).shipped_quantity, 1);

        // The network page links its orders here.
        let (_, network, _) = page(&net, "/hq/network", Some(&admin)).await;
        assert!(network.contains(&format!("href=\"{path}\"")));
    }
}

/// A refund from the order page takes the returned items' serials when they are back: they
/// move back to HQ's custody; a count that does not match the quantity is refused, nothing
/// changed; without serials only the money is refunded.
#[tokio::test]
async fn a_refund_from_the_page_brings_scanned_items_back() {
    use chainmark_server::domain::network::PaidVia;
    for backend in backends() {
        let net = Net::new(backend);
        net.items((CustodianKind::Hq, None), 100);
        account(&net, "finance", Role::HqFinance);
        let (agent, buyer) = net.pending("city-refund", "city", None);
        let order = net.submit(buyer, 72);
        orders::accept(&mut net.conn(), order, net.admin).expect("accept");
        net.pay(order, PaidVia::Offline, net.finance);
        net.ship_and_receive(order, buyer);
        let held = net.held((CustodianKind::Agent, Some(agent)), 72);
        let finance = session(&net, "finance").await;
        let here = format!("/hq/orders/{order}");
        let (_, body, _) = page(&net, &here, Some(&finance)).await;
        assert!(
            body.contains("name=\"serials\""),
            "{backend:?}: the refund form"
        );
        let csrf = hidden_csrf(&body);
        let action = format!("{here}/refund");
        let sku = crate::network::SKU;
        // Two items said returned, one serial given: refused, nothing changed.
        let key = key_of(&body, &action);
        let fields = [
            ("csrf", csrf.as_str()),
            ("idempotency_key", key.as_str()),
            ("sku", sku),
            ("quantity", "2"),
            ("reason", "破损"),
            ("serials", held[0].as_str()),
        ];
        let (status, _, _) = net.app.send(post(&action, Some(&finance), &fields)).await;
        assert!(status.is_client_error(), "{backend:?}: {status}");
        assert_eq!(net.held((CustodianKind::Agent, Some(agent)), 100).len(), 72);
        // Two serials, one as its label's URL the way a scanner types it.
        let (_, body, _) = page(&net, &here, Some(&finance)).await;
        let key = key_of(&body, &action);
        let scanned = format!(
            "{}\n{}/s/{}",
            held[0], net.app.state.settings.base_url, held[1]
        );
        let fields = [
            ("csrf", csrf.as_str()),
            ("idempotency_key", key.as_str()),
            ("sku", sku),
            ("quantity", "2"),
            ("reason", "破损"),
            ("serials", scanned.as_str()),
        ];
        let (status, _, _) = net.app.send(post(&action, Some(&finance), &fields)).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{backend:?}");
        assert_eq!(net.held((CustodianKind::Agent, Some(agent)), 100).len(), 70);
        assert!(net.held((CustodianKind::Hq, None), 100).contains(&held[1]));
        assert_eq!(net.order(order).state, OrderState::PartiallyRefunded);
    }
}
