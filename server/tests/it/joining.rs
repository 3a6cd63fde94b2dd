//! Joining the network on the real store, SQLite and PostgreSQL: invitation → application →
//! approval in each mode, refusals that write nothing, certificates and their check page, and the
//! agent and HQ pages.

pub(crate) mod pages;

use std::collections::BTreeMap;

use chainmark_server::domain::joining::Standing;
use chainmark_server::joining::{self, ApplicationInput, Outcome, certificates};
use chainmark_server::network::{Actor, agents};
use chainmark_server::store::schema::{agents as agents_t, applications, users};
use chainmark_server::store::users::now;
use chrono::Duration;
use diesel::prelude::*;

use crate::common::backends;
use crate::network::Net;

pub fn input(phone: &str, tier: Option<&str>) -> ApplicationInput {
    ApplicationInput {
        tier: tier.map(String::from),
        name: format!("申请人 {phone}"),
        phone: phone.into(),
        region: "330106".into(),
        id_number: "33010619900101123X".into(),
        fields: BTreeMap::new(),
    }
}

pub fn invite(net: &Net, actor: Actor, agent: i64, tier: Option<&str>) -> String {
    joining::invite(&mut net.conn(), actor, agent, tier)
        .expect("invite")
        .code
}

fn apply(net: &Net, code: &str, input: ApplicationInput) -> Outcome {
    joining::apply(&mut net.conn(), code, input).expect("apply")
}

fn decide(net: &Net, actor: Actor, id: i64, approve: bool) -> chainmark_server::Result<Outcome> {
    joining::decide(&mut net.conn(), actor, id, approve, "")
}

/// (applications, agents, users): what a refused step must leave unchanged.
fn counts(net: &Net) -> (i64, i64, i64) {
    let mut c = net.conn();
    (
        applications::table
            .count()
            .get_result(&mut *c)
            .expect("count"),
        agents_t::table.count().get_result(&mut *c).expect("count"),
        users::table.count().get_result(&mut *c).expect("count"),
    )
}

/// Makes an approved (pending) agent active, as paying its entry order would.
fn activate(net: &Net, agent: i64) {
    let mut c = net.conn();
    let row = chainmark_server::store::network::agents::get(&mut c, agent).expect("agent");
    chainmark_server::store::network::agents::activate(&mut c, agent, row.tier_rank, 0)
        .expect("activate");
    agents::recompute_below(&mut c, agent, true).expect("recompute");
}

#[test]
fn an_invitation_leads_to_an_agent_in_each_approval_mode() {
    for backend in backends() {
        let net = Net::new(backend);
        let (n, _) = net.active("nat", "national", None);
        let (a, a_actor) = net.active("city-a", "city", Some(n));
        let (other, other_actor) = net.active("city-b", "city", Some(n));

        // Automatic (特约): approved on submission, agent pending, referrer and supplier A.
        let code = invite(&net, a_actor, a, Some("special"));
        let out = apply(&net, &code, input("13800000001", None));
        assert_eq!(
            out.application.status,
            chainmark_server::domain::joining::Status::Approved,
            "{backend:?}"
        );
        let ok = out.approved.expect("approved at once");
        assert_eq!(
            ok.agent.status,
            chainmark_server::domain::network::AgentStatus::Pending
        );
        assert_eq!(ok.agent.referrer_id, Some(a));
        assert_eq!(ok.agent.supplier_id, Some(a));
        assert_eq!(ok.username, "13800000001");
        assert!(ok.password.len() >= 12, "a one-time password is handed out");

        // Two-stage (区代): A as would-be supplier first, then HQ.
        let code = invite(&net, a_actor, a, None);
        let out = apply(&net, &code, input("13800000002", Some("district")));
        let id = out.application.id;
        assert_eq!(
            out.application.status,
            chainmark_server::domain::joining::Status::AwaitingSupplier
        );
        assert_eq!(out.application.supplier_id, Some(a));
        let early = decide(&net, net.admin, id, true).expect_err("HQ waits for the supplier");
        assert!(
            early.to_string().contains("supplier decides first"),
            "{early}"
        );
        let stranger = decide(&net, other_actor, id, true).expect_err("not its supplier");
        assert!(matches!(stranger, chainmark_server::Error::Forbidden(_)));
        let first = decide(&net, a_actor, id, true).expect("supplier approves");
        assert_eq!(
            first.application.status,
            chainmark_server::domain::joining::Status::AwaitingHq
        );
        assert!(first.approved.is_none());
        let second = decide(&net, net.admin, id, true).expect("HQ approves");
        let agent = second.approved.expect("agent created").agent;
        assert_eq!((agent.referrer_id, agent.supplier_id), (Some(a), Some(a)));
        assert_eq!(second.application.agent_id, Some(agent.id));

        // HQ only (省代) through a 市代's link naming that tier (a link that names none offers
        // only tiers below the inviter's): supplier is the 总代 above.
        let up = invite(&net, a_actor, a, Some("provincial"));
        let out = apply(&net, &up, input("13800000003", Some("provincial")));
        assert_eq!(
            out.application.status,
            chainmark_server::domain::joining::Status::AwaitingHq
        );
        assert_eq!(out.application.supplier_id, Some(n));
        let agent = decide(&net, net.admin, out.application.id, true)
            .expect("HQ approves")
            .approved
            .expect("agent")
            .agent;
        assert_eq!((agent.referrer_id, agent.supplier_id), (Some(a), Some(n)));

        // Rejected: reason required, and the phone is free again afterwards.
        let out = apply(&net, &code, input("13800000004", Some("district")));
        let id = out.application.id;
        assert!(
            decide(&net, a_actor, id, false).is_err(),
            "a rejection says why"
        );
        let r = joining::decide(&mut net.conn(), a_actor, id, false, "区域已满").expect("reject");
        assert_eq!(
            r.application.status,
            chainmark_server::domain::joining::Status::Rejected
        );
        assert!(
            decide(&net, net.admin, id, true).is_err(),
            "decided is final"
        );
        apply(&net, &code, input("13800000004", Some("special")));
        let _ = other;
    }
}

#[test]
fn bad_input_and_cycles_are_refused_with_nothing_written() {
    for backend in backends() {
        let net = Net::new(backend);
        let (n, n_actor) = net.active("nat", "national", None);
        let field = chainmark_server::domain::joining::FieldDef::check(
            "shop", "店铺", "Shop", true, "text", "",
        )
        .expect("field");
        joining::add_field(&mut net.conn(), net.admin, field).expect("add field");
        let code = invite(&net, n_actor, n, Some("special"));

        let before = counts(&net);
        let refuse = |i: ApplicationInput, what: &str| {
            let e = joining::apply(&mut net.conn(), &code, i).expect_err(what);
            assert_eq!(
                counts(&net),
                before,
                "{backend:?} {what}: nothing written ({e})"
            );
            e.to_string()
        };
        assert!(refuse(input("12ab", None), "bad phone").starts_with("phone:"));
        assert!(refuse(input("13900000001", None), "missing field").contains("fields.shop"));
        let mut odd = input("13900000001", None);
        odd.fields.insert("shop".into(), "西湖店".into());
        odd.fields.insert("age".into(), "3".into());
        assert!(refuse(odd, "unknown field").contains("fields.age"));
        let mut other_tier = input("13900000001", Some("national"));
        other_tier.fields.insert("shop".into(), "x".into());
        assert!(refuse(other_tier, "tier not offered").starts_with("tier:"));
        assert!(joining::apply(&mut net.conn(), "nosuchcode", input("139", None)).is_err());

        // S1 → S2 → S3 by invitation; S3 inviting S1's phone would close S1 → S2 → S3 → S1.
        // The policy lets no 特约 recruit a 特约, so HQ issues each link in the inviter's name
        // (the referrer is still the inviter).
        let with_shop = |phone: &str| {
            let mut i = input(phone, None);
            i.fields.insert("shop".into(), "店".into());
            i
        };
        let mut chain = Vec::new();
        let mut inviter = (n, n_actor);
        for phone in ["13900000011", "13900000012", "13900000013"] {
            let code = invite(&net, net.admin, inviter.0, Some("special"));
            let ok = apply(&net, &code, with_shop(phone)).approved.expect("auto");
            activate(&net, ok.agent.id);
            let actor = Actor::Agent {
                user: ok.agent.user_id.expect("account"),
                agent: ok.agent.id,
            };
            chain.push(ok.agent.id);
            inviter = (ok.agent.id, actor);
        }
        let code = invite(&net, net.admin, inviter.0, Some("special"));
        let before = counts(&net);
        let e =
            joining::apply(&mut net.conn(), &code, with_shop("13900000011")).expect_err("cycle");
        assert!(e.to_string().contains("cycle"), "{e}");
        assert_eq!(counts(&net), before, "{backend:?}: a cycle writes nothing");
        let e = joining::apply(&mut net.conn(), &code, with_shop("13900000013")).expect_err("self");
        assert!(e.to_string().contains("refer itself"), "{e}");
        let row = net.agent(chain[0]);
        assert_eq!(row.referrer_id, Some(n), "the referrer never changed");
    }
}

#[test]
fn certificates_say_authorised_suspended_expired_and_superseded() {
    for backend in backends() {
        let net = Net::new(backend);
        let (n, n_actor) = net.active("nat", "national", None);
        let (a, a_actor) = net.active("zhangsan", "city", Some(n));
        let (p, _) = net.pending("pend", "district", Some(a));
        let e = certificates::issue(&mut net.conn(), net.admin, p, None).expect_err("pending");
        assert!(e.to_string().contains("only an active agent"), "{e}");
        let e = certificates::issue(&mut net.conn(), n_actor, a, None).expect_err("not its own");
        assert!(matches!(e, chainmark_server::Error::Forbidden(_)));

        let cert = certificates::issue(&mut net.conn(), a_actor, a, None).expect("issue");
        assert!(cert.code.len() >= 26, "128 random bits in base32");
        assert_eq!(
            (cert.tier_key.as_str(), cert.tier_name_zh.as_str()),
            ("city", "市代")
        );
        let check = |code: &str, days: i64| {
            certificates::check(&mut net.conn(), code, now() + Duration::days(days))
                .expect("check")
                .expect("found")
                .standing
        };
        assert_eq!(check(&cert.code, 0), Standing::Authorised, "{backend:?}");
        assert_eq!(check(&cert.code, 366), Standing::Expired);

        agents::suspend(&mut net.conn(), a, "违规", net.admin.user()).expect("suspend");
        assert_eq!(check(&cert.code, 0), Standing::Suspended);
        agents::reinstate(&mut net.conn(), a, net.admin.user()).expect("reinstate");
        let newer = certificates::issue(&mut net.conn(), net.admin, a, Some(30)).expect("issue");
        assert_eq!(check(&cert.code, 0), Standing::Superseded);
        assert_eq!(check(&newer.code, 0), Standing::Authorised);
        assert_eq!(check(&newer.code, 31), Standing::Expired);
        assert!(
            certificates::check(&mut net.conn(), "nosuch", now())
                .expect("check")
                .is_none()
        );
    }
}
