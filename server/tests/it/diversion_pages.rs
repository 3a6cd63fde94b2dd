//! The diversion audit console (`/hq/audit…`) through the router, both backends: an auditor sees
//! the dashboard with its charts, the alert list and its filters, an alert with its evidence, the
//! trace and the flows; other staff are refused; a decision without the CSRF token changes
//! nothing, one with it confirms, suspends and books the penalty.

use axum::http::{StatusCode, header};
use chainmark_server::domain::Role;
use chainmark_server::domain::diversion::alert::AlertStatus;
use chainmark_server::store::diversion_alerts::{self as alerts, AlertFilter, AlertRow};
use chainmark_test_support::form::{hidden, post};

use crate::common::{backends, cookie_of, get_with_cookie as get};
use crate::diversion::{PHONE, TIANHE, verify, zone_agent};
use crate::network::{Net, dec};

const PASSWORD: &str = "audit-password-123";

fn account(net: &Net, name: &str, role: Role) {
    chainmark_server::accounts::create_user(&mut net.conn(), name, name, role, Some(PASSWORD))
        .expect("user");
}

/// Signs in through the login form; the session cookie.
async fn session(net: &Net, name: &str) -> String {
    let (_, headers, body) = net.app.send(get("/login", None)).await;
    let csrf_cookie = cookie_of(&headers, "cm_csrf").expect("csrf cookie");
    let csrf = hidden(&String::from_utf8_lossy(&body), "csrf");
    let form = [
        ("username", name),
        ("password", PASSWORD),
        ("csrf", csrf.as_str()),
        ("next", "/hq"),
    ];
    let (status, headers, _) = net
        .app
        .send(post("/login", Some(&csrf_cookie), &form))
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{name} signs in");
    cookie_of(&headers, "cm_session").expect("session cookie")
}

async fn page(net: &Net, path: &str, cookie: &str) -> (StatusCode, String) {
    let (status, _, body) = net.app.send(get(path, Some(cookie))).await;
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn alert(net: &Net, id: i64) -> AlertRow {
    alerts::get(&mut net.conn(), id)
        .expect("get")
        .expect("alert")
}

/// One diversion alert: agent `zone-a` (西湖区) let an item out that was verified in 天河区.
async fn diverted(net: &Net) -> (i64, i64, String) {
    let (agent, _, batch) = zone_agent(net);
    let serial = batch.rows[1].serial.clone();
    verify(&net.app, &batch.rows[1], Some(TIANHE), Some(PHONE)).await;
    let found = alerts::list(
        &mut net.conn(),
        &AlertFilter {
            limit: 10,
            ..AlertFilter::default()
        },
    )
    .expect("alerts");
    assert_eq!(found.len(), 1);
    (found[0].id, agent, serial)
}

#[tokio::test]
async fn an_auditor_sees_the_dashboard_alerts_evidence_trace_and_flows() {
    for backend in backends() {
        let net = Net::new(backend);
        let (id, agent, serial) = diverted(&net).await;
        account(&net, "auditor", Role::HqAuditor);
        let cookie = session(&net, "auditor").await;

        let (status, home) = page(&net, "/hq", &cookie).await;
        assert_eq!(status, StatusCode::OK, "{backend:?}");
        assert!(home.contains("href=\"/hq/audit\""), "the console is linked");

        let (status, dash) = page(&net, "/hq/audit", &cookie).await;
        assert_eq!(status, StatusCode::OK, "{dash}");
        assert!(dash.contains("防串货审计"), "zh-CN by default");
        assert!(dash.contains("data-count=\"open_alerts\""));
        assert!(
            dash.contains("<a href=\"/hq/audit/alerts?status=open\">1</a>"),
            "one open alert: {dash}"
        );
        assert!(dash.contains("data-count=\"verified\">1<"), "{dash}");
        assert_eq!(dash.matches("<svg ").count(), 2, "two charts");
        assert!(dash.contains("/api/v1/diversion/alerts.csv"));
        let (status, en) = page(&net, "/hq/audit?lang=en&days=7", &cookie).await;
        assert_eq!(status, StatusCode::OK);
        assert!(en.contains("Diversion audit") && en.contains("Open alerts"));
        let (status, bad) = page(&net, "/hq/audit?days=lots", &cookie).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(bad.contains("days"), "{bad}");

        // The list and its filters.
        let row = format!("data-alert=\"{id}\"");
        let (status, list) = page(&net, "/hq/audit/alerts", &cookie).await;
        assert_eq!(status, StatusCode::OK);
        assert!(list.contains(&row), "{list}");
        assert!(list.contains(&format!("href=\"/hq/audit/alerts/{id}\"")));
        assert!(list.contains("广东省 广州市 天河区"));
        let q = format!(
            "/hq/audit/alerts?status=open&kind=diversion&region=440000&agent={agent}&from=2020-01-01"
        );
        let (status, list) = page(&net, &q, &cookie).await;
        assert_eq!(status, StatusCode::OK);
        assert!(list.contains(&row), "every filter matches: {list}");
        // The form asks in words: the region by name (the chosen one selected), the agent by its
        // name or number; the name finds the same alert.
        assert!(
            list.contains("<option value=\"440000\" selected>广东省</option>"),
            "{list}"
        );
        let (status, by_name) = page(
            &net,
            "/hq/audit/alerts?status=open&agent=zone-a&region=440100",
            &cookie,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert!(by_name.contains(&row), "the agent by its name: {by_name}");
        assert!(
            by_name.contains(&format!("agent_id={agent}")),
            "the CSV asks the API by the agent's id: {by_name}"
        );
        for other in [
            "/hq/audit/alerts?status=dismissed",
            "/hq/audit/alerts?region=330000",
            "/hq/audit/alerts?from=2999-01-01",
        ] {
            let (status, list) = page(&net, other, &cookie).await;
            assert_eq!(status, StatusCode::OK);
            assert!(
                !list.contains(&row) && list.contains("id=\"no-alerts\""),
                "{other}"
            );
        }
        for (bad, named) in [
            ("kind=smuggled", "kind"),
            ("status=closed", "status"),
            ("region=999999", "region"),
            ("agent=abc", "agent"),
            ("from=yesterday", "date"),
        ] {
            let (status, body) = page(&net, &format!("/hq/audit/alerts?{bad}"), &cookie).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
            assert!(body.contains(named), "{bad}: {body}");
        }

        // The alert with its evidence.
        let (status, one) = page(&net, &format!("/hq/audit/alerts/{id}"), &cookie).await;
        assert_eq!(status, StatusCode::OK);
        for want in [
            "浙江省 杭州市 西湖区 (330106)",
            "广东省 广州市 天河区 (440106)",
            "浏览器定位",
            "90 / 100",
            &format!("zone-a #{agent}"),
            &format!("/hq/audit/trace?code={serial}"),
            "data-move=\"receive\"",
            "id=\"confirm-form\"",
            "id=\"dismiss-form\"",
        ] {
            assert!(one.contains(want), "{want} in {one}");
        }
        for (missing, status) in [
            ("999999", StatusCode::NOT_FOUND),
            ("abc", StatusCode::BAD_REQUEST),
        ] {
            let (got, _) = page(&net, &format!("/hq/audit/alerts/{missing}"), &cookie).await;
            assert_eq!(got, status, "{missing}");
        }

        // The trace: the chain of custody and the verification, with the alert.
        let (status, trace) = page(&net, &format!("/hq/audit/trace?code={serial}"), &cookie).await;
        assert_eq!(status, StatusCode::OK);
        for want in [
            "data-what=\"ship\"",
            "data-what=\"receive\"",
            "data-source=\"verification\"",
            "data-region=\"440106\"",
            &row,
            &format!("/api/v1/diversion/trace/{serial}/csv"),
        ] {
            assert!(trace.contains(want), "{want} in {trace}");
        }
        // In words: the steps, the parties by name, the item's state; no stored value shown.
        let (_, zh) = page(
            &net,
            &format!("/hq/audit/trace?code={serial}&lang=zh"),
            &cookie,
        )
        .await;
        for want in ["发货", "收货", "总部 → 运输中", "有效"] {
            assert!(zh.contains(want), "{want} in {zh}");
        }
        for raw in [
            "agent:",
            "hq:",
            ">ship<",
            ">genuine_first",
            ">active<",
            "(440106)",
            "其他变动",
        ] {
            assert!(!zh.contains(raw), "{raw} shown in {zh}");
        }
        let (status, search) = page(&net, "/hq/audit/trace", &cookie).await;
        assert_eq!(status, StatusCode::OK);
        assert!(search.contains("id=\"trace-search\"") && !search.contains("id=\"timeline\""));
        let (status, _) = page(&net, "/hq/audit/trace?code=NOSUCHCODE1", &cookie).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = page(&net, "/hq/audit/trace?code=%3Cscript%3E", &cookie).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);

        // Flows: Zhejiang → Guangdong, and the agent's count.
        let (status, flows) = page(&net, "/hq/audit/flows?days=7", &cookie).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            flows
                .contains("data-cell=\"330000-440000\" style=\"font-weight:700;color:#b91c1c\">1<"),
            "{flows}"
        );
        assert!(flows.contains(&format!("data-agent=\"{agent}\"")));
        assert!(flows.contains("data-total=\"1\""));
        assert!(flows.contains("<svg "));

        // The CSV export linked from the pages answers to the same session.
        let (status, csv) = page(&net, "/api/v1/diversion/alerts.csv?limit=1000", &cookie).await;
        assert_eq!(status, StatusCode::OK);
        assert!(csv.contains(&serial), "{csv}");
    }
}

#[tokio::test]
async fn other_roles_and_visitors_are_refused() {
    for backend in backends() {
        let net = Net::new(backend);
        let (id, agent, _) = diverted(&net).await;
        let paths = [
            "/hq/audit".to_string(),
            "/hq/audit/alerts".into(),
            format!("/hq/audit/alerts/{id}"),
            "/hq/audit/trace".into(),
            "/hq/audit/flows".into(),
        ];
        for path in &paths {
            let (status, headers, _) = net.app.send(get(path, None)).await;
            assert_eq!(status, StatusCode::SEE_OTHER, "{path}");
            assert!(
                headers[header::LOCATION]
                    .to_str()
                    .is_ok_and(|l| l.starts_with("/login?next=")),
                "{path}"
            );
        }
        for (name, role) in [
            ("warehouse-1", Role::Warehouse),
            ("finance-1", Role::HqFinance),
            ("some-agent", Role::Agent),
        ] {
            account(&net, name, role);
            let cookie = session(&net, name).await;
            for path in &paths {
                let (status, _) = page(&net, path, &cookie).await;
                assert_eq!(status, StatusCode::FORBIDDEN, "{backend:?} {name} {path}");
            }
            // Even with its own session's token, its decision is refused.
            let (_, home) = page(&net, "/account/password", &cookie).await;
            let csrf = hidden(&home, "csrf");
            let form = [
                ("csrf", csrf.as_str()),
                ("decision", "dismiss"),
                ("note", "not mine to decide"),
            ];
            let (status, _, _) = net
                .app
                .send(post(
                    &format!("/hq/audit/alerts/{id}/decision"),
                    Some(&cookie),
                    &form,
                ))
                .await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{name}");
            assert_eq!(alert(&net, id).status, AlertStatus::Open);
        }
        assert_eq!(
            net.agent(agent).status,
            chainmark_server::domain::network::AgentStatus::Active
        );
    }
}

#[tokio::test]
async fn a_decision_needs_the_csrf_token_and_then_confirms_suspends_and_penalises() {
    for backend in backends() {
        let net = Net::new(backend);
        let (id, agent, _) = diverted(&net).await;
        account(&net, "auditor", Role::HqAuditor);
        let cookie = session(&net, "auditor").await;
        let path = format!("/hq/audit/alerts/{id}");
        let (_, one) = page(&net, &path, &cookie).await;
        let csrf = hidden(&one, "csrf");
        let action = format!("{path}/decision");
        let confirm = |csrf: &'static str| {
            [
                ("csrf", csrf),
                ("decision", "confirm"),
                ("note", "sold in Guangzhou"),
                ("suspend_agent", "on"),
                ("penalty", "500.00"),
            ]
        };

        // No token, a forged one: 403, nothing changes.
        for form in [&confirm("")[1..], &confirm("forged")[..]] {
            let (status, _, body) = net.app.send(post(&action, Some(&cookie), form)).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{backend:?}");
            assert!(String::from_utf8_lossy(&body).contains("id=\"notice\""));
        }
        // Bad input with the token: 400 naming it, nothing changes.
        for (field, value, named) in [
            ("note", "", "note"),
            ("penalty", "1.005", "penalty"),
            ("decision", "maybe", "decision"),
        ] {
            let mut form: Vec<(&str, &str)> = vec![
                ("csrf", csrf.as_str()),
                ("decision", "confirm"),
                ("note", "x"),
            ];
            form.retain(|(k, _)| *k != field);
            form.push((field, value));
            let (status, _, body) = net.app.send(post(&action, Some(&cookie), &form)).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{field}={value}");
            assert!(String::from_utf8_lossy(&body).contains(named));
        }
        let (status, _, _) = net
            .app
            .send(post(
                "/hq/audit/alerts/999999/decision",
                Some(&cookie),
                &[("csrf", &csrf), ("decision", "dismiss"), ("note", "x")],
            ))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(alert(&net, id).status, AlertStatus::Open);
        assert_eq!(
            net.agent(agent).status,
            chainmark_server::domain::network::AgentStatus::Active
        );
        assert_eq!(net.available(agent), dec("0"));

        // With the token: confirmed, suspended, penalised; back on the alert with a notice.
        let mut form = confirm("").to_vec();
        form[0].1 = csrf.as_str();
        let (status, headers, _) = net.app.send(post(&action, Some(&cookie), &form)).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let back = headers[header::LOCATION].to_str().expect("location");
        assert!(back.starts_with(&format!("{path}?notice=")), "{back}");
        let decided = alert(&net, id);
        assert_eq!(decided.status, AlertStatus::Confirmed);
        assert_eq!(decided.action.map(|a| a.as_str()), Some("suspend+penalty"));
        assert_eq!(decided.penalty_cents, Some(50_000));
        assert_eq!(
            net.agent(agent).status,
            chainmark_server::domain::network::AgentStatus::Suspended
        );
        assert_eq!(net.available(agent), dec("-500.00"));
        net.assert_books_balance();
        let (status, shown) = page(&net, back, &cookie).await;
        assert_eq!(status, StatusCode::OK);
        assert!(shown.contains("id=\"notice\"") && shown.contains("id=\"decision\""));
        assert!(!shown.contains("id=\"confirm-form\""), "decided once");
        // Once only.
        let (status, _, _) = net
            .app
            .send(post(
                &action,
                Some(&cookie),
                &[("csrf", &csrf), ("decision", "dismiss"), ("note", "again")],
            ))
            .await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(alert(&net, id).status, AlertStatus::Confirmed);
    }
}
