//! Diversion audit (issue 7) on both databases: alerts from verifications and their evidence,
//! the last receiver's region, cloning, the verification ceiling, bots, and auditors' decisions
//! with suspension and a penalty in the ledger.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use chainmark_server::diversion::decide;
use chainmark_server::domain::Role;
use chainmark_server::domain::diversion::PlaceSource;
use chainmark_server::domain::diversion::alert::{AlertKind, AlertStatus};
use chainmark_server::domain::network::{Account, HqAccount, PaidVia};
use chainmark_server::network::{Actor, orders, shipping};
use chainmark_server::store::diversion_alerts::{self as alerts, AlertFilter, AlertRow};
use chainmark_server::store::diversion_places as places;
use chainmark_server::store::network::ledger::Booked;
use chainmark_server::store::schema::sightings;
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::common::{BatchFixture, TestApp, backends, make_batch, release};
use crate::network::{Net, SKU, dec};

pub(crate) const PHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 \
                     (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.40";
/// 杭州 西湖区, 广州 天河区, 北京 东城区.
pub(crate) const XIHU: (f64, f64) = (30.26, 120.13);
pub(crate) const TIANHE: (f64, f64) = (23.12, 113.36);
const DONGCHENG: (f64, f64) = (39.93, 116.42);

pub(crate) async fn verify(
    app: &TestApp,
    row: &crate::common::PrintRow,
    at: Option<(f64, f64)>,
    ua: Option<&str>,
) -> Value {
    let mut body =
        json!({"serial": row.serial, "tag": row.tag, "security_code": row.security_code});
    if let Some((lat, lon)) = at {
        body["latitude"] = json!(lat);
        body["longitude"] = json!(lon);
    }
    let mut req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/verify")
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(ua) = ua {
        req = req.header(header::USER_AGENT, ua);
    }
    let (status, _, bytes) = app
        .send(req.body(Body::from(body.to_string())).expect("request"))
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    serde_json::from_slice(&bytes).expect("json")
}

fn all_alerts(net: &Net) -> Vec<AlertRow> {
    alerts::list(
        &mut net.conn(),
        &AlertFilter {
            limit: 100,
            ..AlertFilter::default()
        },
    )
    .expect("alerts")
}

fn set_regions(net: &Net, agent: i64, codes: &[&str]) {
    let codes: Vec<String> = codes.iter().map(|c| c.to_string()).collect();
    places::set_agent_regions(&mut net.conn(), agent, &codes).expect("regions");
}

/// HQ sells `serials` to `buyer` (an agent HQ supplies), ships them and the buyer receives.
fn hq_sells(net: &Net, buyer: Actor, serials: &[String]) {
    let order = net.submit(buyer, serials.len() as i64);
    orders::accept(&mut net.conn(), order, net.admin).expect("accept");
    net.pay(order, PaidVia::Offline, net.finance);
    let out = shipping::ship_items(&mut net.conn(), order, None, serials).expect("ship");
    assert!(out.rejected.is_empty(), "{:?}", out.rejected);
    shipping::receive(&mut net.conn(), order, buyer, false).expect("receive");
}

/// A 区代-sized setup: agent A authorised for 西湖区 holding the batch's first four items.
pub(crate) fn zone_agent(net: &Net) -> (i64, Actor, BatchFixture) {
    let batch = make_batch(&net.app, SKU, 8, 4);
    let (a, actor) = net.active("zone-a", "national", None);
    set_regions(net, a, &["330106"]);
    let serials: Vec<String> = batch.rows[..4].iter().map(|r| r.serial.clone()).collect();
    hq_sells(net, actor, &serials);
    (a, actor, batch)
}

#[tokio::test]
async fn verified_in_another_province_raises_one_alert_with_its_evidence() {
    for backend in backends() {
        let net = Net::new(backend);
        let (a, _, batch) = zone_agent(&net);
        let rows = &batch.rows;

        // Inside the region: nothing, but the sighting records both regions.
        verify(&net.app, &rows[0], Some(XIHU), Some(PHONE)).await;
        assert!(all_alerts(&net).is_empty(), "{backend:?}");
        let (region, expected, source): (Option<String>, Option<String>, Option<PlaceSource>) =
            sightings::table
                .filter(sightings::serial.eq(&rows[0].serial))
                .select((
                    sightings::region_code,
                    sightings::expected_region,
                    sightings::place_source,
                ))
                .first(&mut net.conn())
                .expect("sighting");
        assert_eq!(
            (region.as_deref(), expected.as_deref(), source),
            (Some("330106"), Some("330106"), Some(PlaceSource::Browser))
        );

        // Another province: one alert, however often it is seen there.
        verify(&net.app, &rows[1], Some(TIANHE), Some(PHONE)).await;
        verify(&net.app, &rows[1], Some(TIANHE), Some(PHONE)).await;
        let found = all_alerts(&net);
        assert_eq!(found.len(), 1, "{backend:?}: {found:?}");
        let alert = &found[0];
        assert_eq!(alert.kind, AlertKind::Diversion);
        assert_eq!(alert.serial, rows[1].serial);
        assert_eq!(alert.expected_region.as_deref(), Some("330106"));
        assert_eq!(alert.observed_region.as_deref(), Some("440106"));
        assert_eq!(alert.place_source, PlaceSource::Browser);
        assert_eq!(alert.agent_id, Some(a));
        assert_eq!(alert.status, AlertStatus::Open);
        assert_eq!(alert.risk, 90, "browser 60 + another province 30");
        let evidence: Value = serde_json::from_str(&alert.evidence).expect("evidence");
        assert_eq!(evidence["code"], json!(rows[1].serial));
        assert_eq!(evidence["let_out_by_agent_id"], json!(a));
        assert_eq!(evidence["observed"]["name"], json!("广东省 广州市 天河区"));
        assert_eq!(evidence["expected"]["regions"][0]["code"], json!("330106"));
        let custody = evidence["custody"].as_array().expect("custody");
        assert!(
            custody
                .iter()
                .any(|e| e["kind"] == json!("receive") && e["to"] == json!(format!("agent:{a}"))),
            "{custody:?}"
        );
        assert_eq!(
            (&custody[0]["kind"], &custody[0]["to"]),
            (&json!("import"), &json!("hq")),
            "the evidence starts from the batch's import: {custody:?}"
        );

        // Bots do not count: no browser, a crawler.
        verify(&net.app, &rows[2], Some(TIANHE), None).await;
        verify(
            &net.app,
            &rows[2],
            Some(TIANHE),
            Some("Mozilla/5.0 (compatible; Baiduspider/2.0)"),
        )
        .await;
        assert_eq!(all_alerts(&net).len(), 1, "{backend:?}");
        let bots: i64 = sightings::table
            .filter(sightings::serial.eq(&rows[2].serial))
            .filter(sightings::bot.eq(true))
            .count()
            .get_result(&mut net.conn())
            .expect("count");
        assert_eq!(bots, 2);

        // The API lists it for auditors, and for nobody else.
        let auditor = net.app.token_for("auditor", Role::HqAuditor).await;
        let agent = net.app.token_for("some-agent", Role::Agent).await;
        let (status, body) = net
            .app
            .json(
                Method::GET,
                "/api/v1/diversion/alerts?status=open&region=440000",
                None,
                Some(&auditor),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body.as_array().map(Vec::len), Some(1));
        assert_eq!(
            body[0]["observed_region_name"],
            json!("广东省 广州市 天河区")
        );
        let (status, _) = net
            .app
            .json(Method::GET, "/api/v1/diversion/alerts", None, Some(&agent))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, body) = net
            .app
            .json(
                Method::GET,
                "/api/v1/diversion/alerts?kind=smuggled",
                None,
                Some(&auditor),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        let path = format!("/api/v1/diversion/trace/{}", rows[1].serial);
        let (status, trace) = net.app.json(Method::GET, &path, None, Some(&auditor)).await;
        assert_eq!(status, StatusCode::OK, "{trace}");
        let whats: Vec<&str> = trace["events"]
            .as_array()
            .expect("events")
            .iter()
            .filter_map(|e| e["what"].as_str())
            .collect();
        assert!(
            whats.contains(&"ship")
                && whats.contains(&"receive")
                && whats.contains(&"genuine_repeat"),
            "{whats:?}"
        );
        // The history starts from the batch's import, which is recorded once on the batch.
        assert_eq!(whats.first(), Some(&"import"), "{whats:?}");
        assert_eq!(
            (&trace["events"][0]["source"], &trace["events"][0]["detail"]),
            (&json!("custody"), &json!("- → hq")),
            "{trace}"
        );
        let (status, flows) = net
            .app
            .json(
                Method::GET,
                "/api/v1/diversion/flows?days=7",
                None,
                Some(&auditor),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{flows}");
        assert!(
            flows["cells"]
                .as_array()
                .expect("cells")
                .iter()
                .any(|c| c["expected"] == json!("330000") && c["observed"] == json!("440000"))
        );
        assert_eq!(flows["agents"][0]["agent_id"], json!(a));
    }
}

#[tokio::test]
async fn an_item_forwarded_through_two_agents_expects_the_last_receivers_region() {
    for backend in backends() {
        let net = Net::new(backend);
        let batch = make_batch(&net.app, SKU, 8, 4);
        let (p, p_actor) = net.active("province-p", "national", None);
        let (d, d_actor) = net.active("district-d", "district", Some(p));
        set_regions(&net, p, &["330000"]);
        set_regions(&net, d, &["440106"]);
        let serials: Vec<String> = batch.rows[..4].iter().map(|r| r.serial.clone()).collect();
        hq_sells(&net, p_actor, &serials);
        // D buys two from its supplier P, who ships from its own stock.
        let order = net.submit(d_actor, 2);
        assert_eq!(net.order(order).seller_id, Some(p));
        orders::accept(&mut net.conn(), order, p_actor).expect("accept");
        net.pay(order, PaidVia::Offline, p_actor);
        let out = shipping::ship_items(&mut net.conn(), order, None, &serials[..2]).expect("ship");
        assert!(out.rejected.is_empty(), "{:?}", out.rejected);
        shipping::receive(&mut net.conn(), order, d_actor, false).expect("receive");

        verify(&net.app, &batch.rows[0], Some(TIANHE), Some(PHONE)).await;
        assert!(all_alerts(&net).is_empty(), "{backend:?}: in D's district");
        // In P's province, which is not D's: diversion by D.
        verify(&net.app, &batch.rows[1], Some(XIHU), Some(PHONE)).await;
        let found = all_alerts(&net);
        assert_eq!(found.len(), 1, "{backend:?}");
        assert_eq!(found[0].agent_id, Some(d));
        assert_eq!(found[0].expected_region.as_deref(), Some("440106"));
        // An item P kept is at home in Zhejiang.
        verify(&net.app, &batch.rows[2], Some(XIHU), Some(PHONE)).await;
        assert_eq!(all_alerts(&net).len(), 1, "{backend:?}");
    }
}

#[tokio::test]
async fn a_code_seen_too_far_apart_too_soon_is_a_clone() {
    for backend in backends() {
        let net = Net::new(backend);
        let (_, _, batch) = zone_agent(&net);
        let row = &batch.rows[0];
        verify(&net.app, row, Some(XIHU), Some(PHONE)).await;
        verify(&net.app, row, Some(DONGCHENG), Some(PHONE)).await;
        let mut kinds: Vec<String> = all_alerts(&net)
            .into_iter()
            .map(|a| a.kind.as_str().to_string())
            .collect();
        kinds.sort();
        assert_eq!(kinds, ["cloning", "diversion"], "{backend:?}");
        let clone = all_alerts(&net)
            .into_iter()
            .find(|a| a.kind == AlertKind::Cloning)
            .expect("clone");
        let evidence: Value = serde_json::from_str(&clone.evidence).expect("evidence");
        assert!(
            evidence["travel"]["distance_km"]
                .as_f64()
                .is_some_and(|d| d > 1000.0),
            "{evidence}"
        );
        assert_eq!(evidence["previous"]["region"], json!("330106"));
    }
}

#[tokio::test]
async fn a_code_verified_past_the_ceiling_is_frozen_and_flagged_once() {
    for backend in backends() {
        let app = TestApp::with_settings(backend, |s| s.diversion.max_verifications = 3);
        let batch = make_batch(&app, "TEA-FROZEN", 4, 4);
        release(&app, &batch.rows[0].serial, &batch.rows[3].serial);
        let row = &batch.rows[0];
        for n in 1..=3 {
            let v = verify(&app, row, None, Some(PHONE)).await;
            assert_eq!(v["frozen"], json!(false), "verification {n}");
        }
        for _ in 0..2 {
            let v = verify(&app, row, None, Some(PHONE)).await;
            assert_eq!(v["frozen"], json!(true), "{backend:?}");
        }
        let found = alerts::list(
            &mut app.conn(),
            &AlertFilter {
                limit: 10,
                ..AlertFilter::default()
            },
        )
        .expect("alerts");
        assert_eq!(found.len(), 1, "{backend:?}");
        assert_eq!(found[0].kind, AlertKind::Overuse);
    }
}

#[tokio::test]
async fn auditors_confirm_with_suspension_and_a_balanced_idempotent_penalty() {
    for backend in backends() {
        let net = Net::new(backend);
        let (a, _, batch) = zone_agent(&net);
        verify(&net.app, &batch.rows[1], Some(TIANHE), Some(PHONE)).await;
        verify(&net.app, &batch.rows[2], Some(DONGCHENG), Some(PHONE)).await;
        let found = all_alerts(&net);
        assert_eq!(found.len(), 2, "{backend:?}");
        let (first, second) = (found[1].id, found[0].id);
        let auditor = net.app.token_for("auditor", Role::HqAuditor).await;
        let decide_path = |id: i64| format!("/api/v1/diversion/alerts/{id}/decision");

        // Bad input changes nothing.
        for bad in [
            json!({"decision": "maybe", "note": "x"}),
            json!({"decision": "confirm", "note": ""}),
            json!({"decision": "dismiss", "note": "x", "suspend_agent": true}),
            json!({"decision": "confirm", "note": "x", "penalty": "1.005"}),
            json!({"decision": "confirm", "note": "x", "penalty": "-5"}),
        ] {
            let (status, body) = net
                .app
                .json(
                    Method::POST,
                    &decide_path(first),
                    Some(bad.clone()),
                    Some(&auditor),
                )
                .await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{bad} → {body}");
        }
        assert_eq!(
            net.agent(a).status,
            chainmark_server::domain::network::AgentStatus::Active
        );
        assert_eq!(
            alerts::get(&mut net.conn(), first)
                .expect("get")
                .expect("alert")
                .status,
            AlertStatus::Open
        );

        let (status, body) = net.app.json(Method::POST, &decide_path(first),
            Some(json!({"decision": "confirm", "note": "sold in Guangzhou", "suspend_agent": true, "penalty": "500.00"})),
            Some(&auditor)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["status"], json!("confirmed"));
        assert_eq!(body["action"], json!("suspend+penalty"));
        assert_eq!(body["penalty_cents"], json!(50000));
        assert_eq!(
            net.agent(a).status,
            chainmark_server::domain::network::AgentStatus::Suspended
        );
        assert_eq!(net.available(a), dec("-500.00"));
        assert_eq!(net.hq(HqAccount::RebateExpense), dec("500.00"));
        net.assert_books_balance();
        // Idempotent: booking the same penalty again books nothing.
        let again = decide::book_penalty(&mut net.conn(), first, a, dec("500.00")).expect("replay");
        assert_eq!(again, Booked::Replayed);
        assert_eq!(
            net.balance(Account::available(
                chainmark_server::store::network::agent_id(a)
            )),
            dec("-500.00")
        );
        // Decided once.
        let (status, _) = net
            .app
            .json(
                Method::POST,
                &decide_path(first),
                Some(json!({"decision": "dismiss", "note": "again"})),
                Some(&auditor),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT);

        let (status, body) = net
            .app
            .json(
                Method::POST,
                &decide_path(second),
                Some(json!({"decision": "dismiss", "note": "a tourist"})),
                Some(&auditor),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["status"], json!("dismissed"));
        assert_eq!(body["action"], Value::Null);
    }
}
