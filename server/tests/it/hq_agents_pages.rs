//! HQ admin's changes to an agent on its desk page, both backends: the region picked province
//! first (an unknown code refused, nothing changed), the referrer found by name and set with one
//! click (a cycle refused), a certificate with its validity; an auditor sees none of the forms
//! and may not post them.

use axum::http::{StatusCode, header};
use chainmark_server::domain::Role;
use chainmark_server::store::network::agents as agent_store;
use chainmark_test_support::form::post;

use crate::common::backends;
use crate::joining::pages::{account, agent, hidden_csrf, page, session};
use crate::network::Net;

#[tokio::test]
async fn hq_sets_an_agents_region_referrer_and_certificate_from_its_page() {
    for backend in backends() {
        let net = Net::new(backend);
        account(&net, "admin", Role::HqAdmin);
        account(&net, "auditor", Role::HqAuditor);
        let (n, _) = agent(&net, "zhao-national", "national", None);
        let (other, _) = agent(&net, "wu-national", "national", None);
        let (c, _) = agent(&net, "sun-city", "city", Some(n));
        let admin = session(&net, "admin").await;
        let here = format!("/hq/agents/{c}");

        // The region: the province first, then a district of it.
        let (status, body, _) = page(&net, &format!("{here}?province=440000"), Some(&admin)).await;
        assert_eq!(status, StatusCode::OK, "{backend:?}");
        assert!(
            body.contains("value=\"440106\""),
            "Guangzhou's 天河区 is offered"
        );
        let csrf = hidden_csrf(&body);
        let path = format!("{here}/region");
        let (status, _, _) = net
            .app
            .send(post(
                &path,
                Some(&admin),
                &[("csrf", &csrf), ("region", "999999")],
            ))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "an unknown code");
        assert_eq!(
            agent_store::get(&mut net.conn(), c).expect("agent").region,
            "330100"
        );
        let (status, headers, _) = net
            .app
            .send(post(
                &path,
                Some(&admin),
                &[("csrf", &csrf), ("region", "440106")],
            ))
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(
            headers[header::LOCATION]
                .to_str()
                .expect("to")
                .contains("notice=")
        );
        assert_eq!(
            agent_store::get(&mut net.conn(), c).expect("agent").region,
            "440106"
        );

        // The referrer: found by name, set with one click.
        let (_, found, _) = page(&net, &format!("{here}?referrer_q=wu-n"), Some(&admin)).await;
        assert!(
            found.contains(&format!("data-candidate=\"{other}\"")),
            "{found}"
        );
        assert!(
            !found.contains(&format!("data-candidate=\"{c}\"")),
            "not itself"
        );
        let path = format!("{here}/referrer");
        let (status, _, _) = net
            .app
            .send(post(
                &path,
                Some(&admin),
                &[("csrf", &csrf), ("referrer", &other.to_string())],
            ))
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{backend:?}");
        assert_eq!(
            agent_store::get(&mut net.conn(), c)
                .expect("agent")
                .referrer_id,
            Some(other)
        );
        // A cycle: 吴总代 cannot be referred by its own referral.
        let cycle = format!("/hq/agents/{other}/referrer");
        let (status, _, _) = net
            .app
            .send(post(
                &cycle,
                Some(&admin),
                &[("csrf", &csrf), ("referrer", &c.to_string())],
            ))
            .await;
        assert!(status.is_client_error(), "{backend:?}: {status}");
        assert_eq!(
            agent_store::get(&mut net.conn(), other)
                .expect("agent")
                .referrer_id,
            None
        );

        // A certificate valid for 30 days; 0 days is refused.
        let path = format!("{here}/certificate");
        let (status, _, _) = net
            .app
            .send(post(&path, Some(&admin), &[("csrf", &csrf), ("days", "0")]))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let (status, _, _) = net
            .app
            .send(post(
                &path,
                Some(&admin),
                &[("csrf", &csrf), ("days", "30")],
            ))
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let cert = chainmark_server::store::joining::latest_certificate(&mut net.conn(), c)
            .expect("read")
            .expect("issued");
        assert_eq!((cert.valid_until - cert.valid_from).num_days(), 30);

        // The auditor reads the page without the forms, and may not post them.
        let auditor = session(&net, "auditor").await;
        let (status, seen, _) = page(&net, &here, Some(&auditor)).await;
        assert_eq!(status, StatusCode::OK);
        assert!(!seen.contains("id=\"manage\""), "no forms for a reader");
        let auditor_csrf = hidden_csrf(&page(&net, "/account/password", Some(&auditor)).await.1);
        let (status, _, _) = net
            .app
            .send(post(
                &format!("{here}/region"),
                Some(&auditor),
                &[("csrf", &auditor_csrf), ("region", "330106")],
            ))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
}
