//! Level applications on the pages through the router, both backends: the agent sees what it
//! may apply for with the conditions it meets and applies (CSRF required), its supplier approves
//! on its own page, HQ approves on `/hq/levels`, and the agent reads why its level changed.

use axum::http::StatusCode;
use chainmark_server::domain::Role;
use chainmark_server::network::agents;
use chainmark_server::store::levels::applications as store;
use chainmark_server::store::network::agents as agent_store;

use super::pages::{account, hidden_csrf, request, send, session};
use super::{install, paid_order, today};
use crate::common::backends;
use crate::network::Net;

const DOC: &str = "version = 1\nname = \"pages\"\non_change = \"keep\"\n[[levels]]\n\
    tier = \"district\"\n[[levels.paths]]\nwindow_days = 30\napproval = \"supplier_then_hq\"\n\
    thresholds = { personal_sales = \"100.00\" }\n";

/// An active agent signing in as `name`.
fn agent(net: &Net, name: &str, tier: &str, referrer: Option<i64>) -> i64 {
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
    agents::recompute_below(&mut net.conn(), row.id, true).expect("suppliers");
    row.id
}

#[tokio::test]
async fn apply_on_the_page_then_supplier_and_hq_approve_on_theirs() {
    for backend in backends() {
        let net = Net::new(backend);
        account(&net, "admin", Role::HqAdmin);
        let top = agent(&net, "topagent", "provincial", None);
        let x = agent(&net, "agentx", "special", Some(top));
        paid_order(&net, x, 2, 60_000, "completed");
        install(&net, DOC);
        let x_cookie = session(&net, "agentx").await;
        let top_cookie = session(&net, "topagent").await;
        let admin_cookie = session(&net, "admin").await;

        let (status, page) = send(
            &net,
            request("GET", "/agent/levels?lang=en", Some(&x_cookie), &[]),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{backend:?}");
        assert!(
            page.contains("data-offer=\"district\" data-path=\"0\" data-met=\"true\""),
            "{page}"
        );
        assert!(
            page.contains("personal sales 600.00 ≥ 100.00 in the last 30 days"),
            "{page}"
        );
        let (_, zh) = send(
            &net,
            request("GET", "/agent/levels?lang=zh", Some(&x_cookie), &[]),
        )
        .await;
        assert!(
            zh.contains("近30天个人业绩 600.00 ≥ 100.00") && zh.contains("申请升级"),
            "{zh}"
        );

        let apply = [
            ("action", "apply"),
            ("level", "district"),
            ("path", "0"),
            ("note", "请审核"),
        ];
        let (status, _) = send(
            &net,
            request("POST", "/agent/levels", Some(&x_cookie), &apply),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "no CSRF token, no application"
        );
        assert!(
            store::of_agent(&mut net.conn(), x, 5)
                .expect("rows")
                .is_empty()
        );
        let csrf = hidden_csrf(&page);
        let mut with_csrf = apply.to_vec();
        with_csrf.push(("csrf", csrf.as_str()));
        let (status, _) = send(
            &net,
            request("POST", "/agent/levels", Some(&x_cookie), &with_csrf),
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let id = store::of_agent(&mut net.conn(), x, 5).expect("rows")[0].id;
        let (_, page) = send(
            &net,
            request("GET", "/agent/levels?lang=en", Some(&x_cookie), &[]),
        )
        .await;
        assert!(page.contains("data-status=\"awaiting_supplier\""), "{page}");
        assert!(
            !page.contains("value=\"apply\""),
            "one open application: no second form"
        );

        // The supplier's page lists it with the forms; a reject needs a reason.
        let (_, page) = send(
            &net,
            request("GET", "/agent/levels?lang=en", Some(&top_cookie), &[]),
        )
        .await;
        assert!(
            page.contains("id=\"downline-applications\"") && page.contains("agentx"),
            "{page}"
        );
        let csrf = hidden_csrf(&page);
        let id_text = id.to_string();
        let bare = [
            ("action", "reject"),
            ("id", id_text.as_str()),
            ("csrf", csrf.as_str()),
        ];
        let (status, _) = send(
            &net,
            request("POST", "/agent/levels", Some(&top_cookie), &bare),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let approve = [
            ("action", "approve"),
            ("id", id_text.as_str()),
            ("csrf", csrf.as_str()),
        ];
        let (status, _) = send(
            &net,
            request("POST", "/agent/levels", Some(&top_cookie), &approve),
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(
            store::get(&mut net.conn(), id)
                .expect("row")
                .status
                .as_str(),
            "awaiting_hq"
        );

        // HQ: only staff post to /agent/levels; HQ approves on its own page.
        let (status, _) = send(
            &net,
            request("POST", "/agent/levels", Some(&admin_cookie), &approve),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (_, hq) = send(
            &net,
            request("GET", "/hq/levels?lang=en", Some(&admin_cookie), &[]),
        )
        .await;
        assert!(
            hq.contains("id=\"level-applications\"")
                && hq.contains(&format!("data-application=\"{id}\"")),
            "{hq}"
        );
        let csrf = hidden_csrf(&hq);
        let approve = [
            ("action", "approve"),
            ("id", id_text.as_str()),
            ("csrf", csrf.as_str()),
        ];
        let (status, body) = send(
            &net,
            request("POST", "/hq/levels", Some(&admin_cookie), &approve),
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
        assert_eq!(net.agent(x).tier_rank, 4, "区代");
        assert_eq!(net.agent(x).supplier_id, Some(top));

        let (_, mine) = send(
            &net,
            request("GET", "/agent/levels?lang=zh", Some(&x_cookie), &[]),
        )
        .await;
        assert!(
            mine.contains(&format!("升级为区代:申请于{}经上级和总部审核通过", today())),
            "{mine}"
        );
        assert!(mine.contains("data-status=\"approved\""), "{mine}");
    }
}
