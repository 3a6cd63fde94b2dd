//! A shipment's track (物流轨迹, issue 20) on both backends: the demo courier's events fetched
//! once however often the job asks, shipments asked again only after a while and never once
//! delivered, a courier that knows no waybill; events the shipper types, checked and refused in
//! words with nothing written; who may read and who may add; the API (an event posted twice with
//! one key adds one); the buyer's phone page and HQ's order page in words, HQ's form.

use chainmark_server::domain::custody::CustodianKind;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use chainmark_server::domain::Role;
use chainmark_server::domain::network::PaidVia;
use chainmark_server::domain::network::tracking::{TrackingEvent, TrackingStatus};
use chainmark_server::error::Error;
use chainmark_server::network::tracking::{self, DemoCourier, Fetch, Track};
use chainmark_server::network::{Actor, orders, scan_ship, shipping};
use chainmark_server::store::agent_pages;
use chainmark_server::store::users::now;
use chainmark_test_support::form::post;
use chrono::Duration;
use serde_json::json;

use super::Net;
use crate::common::backends;
use crate::joining::pages::{agent, hidden_csrf, page, session};

fn code<T>(r: Result<T, Error>) -> String {
    match r {
        Err(Error::Refused { code, .. }) => code.to_string(),
        Err(e) => format!("{e:?}"),
        Ok(_) => "ok".into(),
    }
}

fn typed(at: chrono::NaiveDateTime, detail: &str) -> TrackingEvent {
    TrackingEvent {
        at,
        status: TrackingStatus::InTransit,
        place: Some("杭州".into()),
        detail: detail.into(),
    }
}

/// A 市代's restock order from HQ, paid; shipped when `ship` is true.
fn order_from_hq(net: &Net, buyer: Actor, ship: bool) -> i64 {
    let order = net.submit(buyer, 72);
    orders::accept(&mut net.conn(), order, net.admin).expect("accept");
    net.pay(order, PaidVia::Offline, net.finance);
    if ship {
        let serials = net.held((CustodianKind::Hq, None), 72);
        let out = shipping::ship_items(&mut net.conn(), order, None, &serials).expect("ship");
        assert!(out.rejected.is_empty());
    }
    order
}

fn track(net: &Net, order: i64) -> Track {
    tracking::load(&mut net.conn(), order).expect("track")
}

#[tokio::test]
async fn a_shipment_is_tracked_by_courier_and_by_hand() {
    for backend in backends() {
        let net = Net::new(backend);
        net.items((CustodianKind::Hq, None), 300);
        let (_, buyer) = agent(&net, "city-buyer", "city", None);
        let (_, stranger) = agent(&net, "city-stranger", "city", None);
        let order = order_from_hq(&net, buyer, false);
        // Placed yesterday, so the shipper can date events of the last hours.
        {
            use chainmark_server::store::schema::restock_orders;
            use diesel::prelude::*;
            diesel::update(restock_orders::table.find(order))
                .set(restock_orders::created_at.eq(now() - Duration::days(1)))
                .execute(&mut net.conn())
                .expect("backdate");
        }

        // Paid, not shipped: nothing to track yet, and nothing written.
        assert_eq!(
            code(tracking::add_event(
                &mut net.conn(),
                order,
                net.admin,
                typed(now(), "已揽收")
            )),
            "order_not_shipped",
            "{backend:?}"
        );
        let serials = net.held((CustodianKind::Hq, None), 72);
        shipping::ship_items(&mut net.conn(), order, None, &serials).expect("ship");
        scan_ship::set_waybill(
            &mut net.conn(),
            order,
            net.admin,
            "顺丰速运",
            "SF1234567890",
        )
        .expect("waybill");
        let recorded = agent_pages::waybill(&mut net.conn(), order)
            .expect("read")
            .expect("a waybill")
            .recorded_at;

        // The courier knows three events 21 hours on; asking again at once adds nothing and a
        // shipment asked is not asked again for half an hour.
        let courier: Arc<dyn tracking::Courier> = Arc::new(DemoCourier);
        let db = &net.app.state.db;
        let at = recorded + Duration::hours(21);
        let first = tracking::fetch_now(db, courier.clone(), at)
            .await
            .expect("fetch");
        assert_eq!(
            first,
            Fetch {
                asked: 1,
                added: 3,
                failed: 0
            },
            "{backend:?}"
        );
        let again = tracking::fetch_now(db, courier.clone(), at + Duration::minutes(5))
            .await
            .expect("fetch");
        assert_eq!(again, Fetch::default(), "{backend:?}: asked a moment ago");
        // Replaying the same answer (a crash before the note of asking) adds nothing either.
        let replay = courier
            .track(
                &chainmark_server::store::tracking::OpenShipment {
                    order_id: order,
                    carrier: "顺丰速运".into(),
                    waybill: "SF1234567890".into(),
                    recorded_at: recorded,
                },
                at,
            )
            .expect("track");
        assert_eq!(
            chainmark_server::store::tracking::merge_fetched(&mut net.conn(), order, &replay, at)
                .expect("merge"),
            0
        );
        assert_eq!(track(&net, order).status(), Some(TrackingStatus::InTransit));
        let later = tracking::fetch_now(db, courier.clone(), recorded + Duration::hours(31))
            .await
            .expect("fetch");
        assert_eq!((later.asked, later.added), (1, 2), "{backend:?}");
        assert_eq!(track(&net, order).status(), Some(TrackingStatus::Delivered));
        // Delivered: never asked again.
        let done = tracking::fetch_now(db, courier.clone(), recorded + Duration::hours(60))
            .await
            .expect("fetch");
        assert_eq!(done, Fetch::default(), "{backend:?}");

        // A waybill the courier does not know: counted, logged, asked again only later.
        let other = order_from_hq(&net, buyer, true);
        scan_ship::set_waybill(&mut net.conn(), other, net.admin, "中通快递", "NONE0001")
            .expect("waybill");
        let unknown = tracking::fetch_now(db, courier.clone(), now() + Duration::hours(1))
            .await
            .expect("fetch");
        assert_eq!((unknown.asked, unknown.failed), (1, 1), "{backend:?}");
        assert!(track(&net, other).events.is_empty());

        // One round per slot across instances.
        let slot = || "2026-12-06T10:00".to_string();
        let a = tracking::fetch_round(db, courier.clone(), now(), slot(), "one").await;
        let b = tracking::fetch_round(db, courier.clone(), now(), slot(), "two").await;
        assert!(a.expect("round").is_some() && b.expect("round").is_none());

        // The shipper types what it learnt; bad events are refused and write nothing.
        let before = track(&net, order).events.len();
        let hour_ago = now() - Duration::hours(1);
        tracking::add_event(
            &mut net.conn(),
            order,
            net.admin,
            typed(hour_ago, "客户来电：已收到"),
        )
        .expect("typed event");
        assert_eq!(
            code(tracking::add_event(
                &mut net.conn(),
                order,
                net.admin,
                typed(hour_ago, "  ")
            )),
            "bad_tracking_event"
        );
        assert_eq!(
            code(tracking::add_event(
                &mut net.conn(),
                order,
                net.admin,
                typed(now() + Duration::hours(1), "明天到")
            )),
            "tracking_event_time"
        );
        assert!(matches!(
            tracking::add_event(&mut net.conn(), order, buyer, typed(hour_ago, "我来写")),
            Err(Error::Forbidden(_))
        ));
        assert_eq!(track(&net, order).events.len(), before + 1, "{backend:?}");

        // Who reads: the buyer and HQ; not another agent.
        assert!(tracking::track_of(&mut net.conn(), order, buyer).is_ok());
        assert!(tracking::track_of(&mut net.conn(), order, net.finance).is_ok());
        assert!(matches!(
            tracking::track_of(&mut net.conn(), order, stranger),
            Err(Error::Forbidden(_))
        ));

        // The API: read, and an event posted twice with one key adds one.
        let reader = net.app.token_for("finance-reader", Role::HqFinance).await;
        let (status, body) = net
            .app
            .json(
                Method::GET,
                &format!("/api/v1/orders/{order}/tracking"),
                None,
                Some(&reader),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{backend:?}: {body}");
        assert_eq!(body["status"], "delivered");
        assert_eq!(body["waybill"], "SF1234567890");
        assert_eq!(body["events"].as_array().map(Vec::len), Some(before + 1));
        let shipper = net.app.token_for("warehouse-api", Role::Warehouse).await;
        let event = json!({
            "at": (now() - Duration::minutes(30)).format("%Y-%m-%dT%H:%M:%S").to_string(),
            "status": "out_for_delivery",
            "place": "西湖区",
            "detail": "快递员电话确认今天派送"
        });
        for _ in 0..2 {
            let req = Request::post(format!("/api/v1/orders/{order}/tracking"))
                .header(header::AUTHORIZATION, format!("Bearer {shipper}"))
                .header(header::CONTENT_TYPE, "application/json")
                .header("Idempotency-Key", "track-once-1")
                .body(Body::from(event.to_string()))
                .expect("request");
            let (status, _, _) = net.app.send(req).await;
            assert_eq!(status, StatusCode::CREATED, "{backend:?}");
        }
        assert_eq!(track(&net, order).events.len(), before + 2, "{backend:?}");
        let (status, body) = net
            .app
            .json(
                Method::POST,
                &format!("/api/v1/orders/{order}/tracking"),
                Some(json!({"at": "2026-01-01T00:00:00", "status": "lost", "detail": "?"})),
                Some(&shipper),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let outsider = net.app.token_for("finance-two", Role::HqAuditor).await;
        let (status, _) = net
            .app
            .json(
                Method::POST,
                &format!("/api/v1/orders/{order}/tracking"),
                Some(event.clone()),
                Some(&outsider),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "{backend:?}: the auditor ships nothing"
        );

        // The buyer's phone page: the track in words, no form.
        let cookie = session(&net, "city-buyer").await;
        let (status, body, _) = page(&net, &format!("/agent/orders/{order}"), Some(&cookie)).await;
        assert_eq!(status, StatusCode::OK);
        for words in [
            "物流轨迹",
            "已签收",
            "顺丰速运",
            "SF1234567890",
            "已到达目的地转运中心",
            "发货方录入",
        ] {
            assert!(
                body.contains(words),
                "{backend:?}: the buyer's page lacks {words}"
            );
        }
        assert!(!body.contains(">delivered<") && !body.contains("tracking-form"));
        assert!(!body.contains(">manual<") && !body.contains(">courier<"));

        // HQ's order page in English, and HQ (the shipper) adds an event by the form.
        crate::joining::pages::account(&net, "hq-shipper", Role::HqAdmin);
        let admin = session(&net, "hq-shipper").await;
        let (status, body, _) =
            page(&net, &format!("/hq/orders/{order}?lang=en"), Some(&admin)).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            body.contains("Tracking")
                && body.contains("Delivered")
                && body.contains("tracking-form")
        );
        let (_, zh, _) = page(&net, &format!("/hq/orders/{order}"), Some(&admin)).await;
        let csrf = hidden_csrf(&zh);
        let form = zh
            .split("<form")
            .find(|f| f.contains("id=\"tracking-form\""))
            .expect("the tracking form");
        let marker = "name=\"idempotency_key\" value=\"";
        let at = form.find(marker).expect("key") + marker.len();
        let key = form[at..].split('"').next().expect("value").to_string();
        // Chinese pages take China's time.
        let beijing = (now() + Duration::hours(8) - Duration::minutes(10))
            .format("%Y-%m-%dT%H:%M")
            .to_string();
        let fields = [
            ("csrf", csrf.as_str()),
            ("idempotency_key", key.as_str()),
            ("status", "exception"),
            ("at", beijing.as_str()),
            ("place", "西湖区"),
            ("detail", "收件人电话无人接听"),
        ];
        let path = format!("/hq/orders/{order}/track");
        let (status, _, _) = net.app.send(post(&path, Some(&admin), &fields)).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let (status, _, _) = net.app.send(post(&path, Some(&admin), &fields)).await;
        assert_eq!(
            status,
            StatusCode::SEE_OTHER,
            "the resubmitted form is answered again"
        );
        let events = track(&net, order).events;
        assert_eq!(
            events.len(),
            before + 3,
            "{backend:?}: the form added one event"
        );
        let last = events
            .iter()
            .find(|e| e.detail == "收件人电话无人接听")
            .expect("the typed event");
        assert_eq!(last.status, TrackingStatus::Exception);
        assert!(
            (last.at - (now() - Duration::minutes(10)))
                .num_minutes()
                .abs()
                <= 1
        );
        // A bad time from the form: refused in words, nothing written.
        let (_, zh, _) = page(&net, &format!("/hq/orders/{order}"), Some(&admin)).await;
        let fields = [
            ("csrf", csrf.as_str()),
            ("status", "in_transit"),
            ("at", "2020-01-01T08:00"),
            ("detail", "很久以前"),
        ];
        let (status, _, body) = net.app.send(post(&path, Some(&admin), &fields)).await;
        let body = String::from_utf8_lossy(&body);
        assert!(
            status.is_client_error() && body.contains("不能早于下单时间"),
            "{backend:?}: {status} {body}"
        );
        assert!(zh.contains("tracking-form"));
        assert_eq!(track(&net, order).events.len(), before + 3);
    }
}
