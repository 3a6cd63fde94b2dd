//! Applications for a level on the real store, both backends, dated: each approval mode end to
//! end (the level change in the agent's history with its reason, the supplier recomputed), the
//! refusals that change nothing (not eligible, a second open application, the wrong supplier,
//! the wrong role, the wrong state), withdrawal, and lapses.

use chainmark_server::Error;
use chainmark_server::levels::applications::{self as cases, ApplyInput};
use chainmark_server::levels::{assess, policy};
use chainmark_server::network::{Actor, agents};
use chainmark_server::store::levels::applications as store;
use chainmark_server::store::levels::{changes, state};
use chainmark_server::store::users::now;
use chrono::NaiveDateTime;

use super::{admin, days_ago, install, paid_order, today};
use crate::common::backends;
use crate::network::Net;

/// 市代 by HQ's approval on team sales; 区代 by the supplier, then HQ, on personal sales; 省代
/// automatically only.
const DOC: &str = r#"version = 1
name = "applications"
on_change = "keep"
[[levels]]
tier = "provincial"
[[levels.paths]]
window_days = 30
thresholds = { orders = 100 }
[[levels]]
tier = "city"
[[levels.paths]]
window_days = 30
approval = "hq"
thresholds = { team_sales = "500.00" }
[[levels]]
tier = "district"
[[levels.paths]]
window_days = 30
approval = "supplier_then_hq"
thresholds = { personal_sales = "100.00" }
"#;

fn at(ago: u64) -> NaiveDateTime {
    days_ago(ago).and_hms_opt(12, 0, 0).expect("noon")
}

fn apply(net: &Net, who: Actor, level: &str, when: NaiveDateTime) -> Result<i64, Error> {
    let input = ApplyInput {
        level: level.into(),
        path: None,
        note: "请审核 / please review".into(),
    };
    cases::apply(&mut net.conn(), who, input, when).map(|r| r.id)
}

fn decide(net: &Net, who: Actor, id: i64, approve: bool, note: &str) -> Result<String, Error> {
    cases::decide(&mut net.conn(), who, id, approve, note, now())
        .map(|r| r.status.as_str().to_string())
}

fn status(net: &Net, id: i64) -> String {
    store::get(&mut net.conn(), id)
        .expect("application")
        .status
        .as_str()
        .to_string()
}

fn level_changes(net: &Net, agent: i64) -> Vec<changes::LevelChangeRow> {
    changes::list(&mut net.conn(), Some(agent), None, 10).expect("changes")
}

#[test]
fn hq_approves_and_the_level_changes_like_an_assessment() {
    for backend in backends() {
        let net = Net::new(backend);
        let (top, top_actor) = net.active("top", "provincial", None);
        let (a, a_actor) = net.active("a", "special", Some(top));
        let (below, below_actor) = net.active("below", "special", Some(a));
        paid_order(&net, a, 2, 30_000, "completed");
        paid_order(&net, below, 3, 25_000, "completed");
        install(&net, DOC);
        assert_eq!(net.agent(below).supplier_id, Some(top), "{backend:?}");

        let id = apply(&net, a_actor, "city", now()).expect("team sales 550.00 ≥ 500.00");
        let row = store::get(&mut net.conn(), id).expect("row");
        assert_eq!(
            (row.status.as_str(), row.approval_mode.as_str()),
            ("awaiting_hq", "hq")
        );
        assert_eq!(
            chainmark_server::levels::application_lists::reasons_text(
                &row.evidence,
                chainmark_server::domain::levels::Lang::En
            ),
            "team sales 550.00 ≥ 500.00 in the last 30 days"
        );

        // Only HQ admin decides an HQ application; nothing changes on a refusal.
        let supplier = decide(&net, top_actor, id, true, "");
        assert!(
            matches!(supplier, Err(Error::Refused { .. })),
            "{supplier:?}"
        );
        let finance = decide(&net, net.finance, id, true, "");
        assert!(matches!(finance, Err(Error::Forbidden(_))), "{finance:?}");
        let stranger = decide(&net, below_actor, id, true, "");
        assert!(matches!(stranger, Err(Error::Forbidden(_))), "{stranger:?}");
        let own = decide(&net, a_actor, id, true, "");
        assert!(matches!(own, Err(Error::Forbidden(_))), "{own:?}");
        assert_eq!(status(&net, id), "awaiting_hq");
        assert_eq!(net.agent(a).tier_rank, 5);

        assert_eq!(
            decide(&net, admin(&net), id, true, "").expect("approve"),
            "approved"
        );
        assert_eq!(net.agent(a).tier_rank, 3, "市代");
        assert_eq!(
            net.agent(below).supplier_id,
            Some(a),
            "the supplier recomputed as for a seed-004 upgrade"
        );
        let history = level_changes(&net, a);
        assert_eq!(history.len(), 1);
        assert_eq!(
            (history[0].cause.as_str(), history[0].kind.as_str()),
            ("application", "upgrade")
        );
        assert_eq!(
            history[0].summary_en,
            format!(
                "upgraded to city: application approved by HQ on {}; team sales 550.00 ≥ 500.00 \
                 in the last 30 days",
                today()
            )
        );
        assert_eq!(
            history[0].summary_zh,
            format!(
                "升级为市代:申请于{}经总部审核通过;近30天团队业绩 550.00 ≥ 500.00",
                today()
            )
        );

        // A retried approval changes nothing; the assessment of the day leaves the agent be.
        assert_eq!(
            decide(&net, admin(&net), id, true, "").expect("repeat"),
            "approved"
        );
        let s = state::find(&mut net.conn(), a)
            .expect("state")
            .expect("row");
        assert_eq!(
            (s.tier_rank, s.reached_on, s.last_decided_on),
            (3, today(), Some(today()))
        );
        assess::run(&mut net.conn(), today(), admin(&net), &mut |_, _| {}).expect("run");
        assert_eq!(level_changes(&net, a).len(), 1, "{backend:?}");
        assert_eq!(net.agent(a).tier_rank, 3);
    }
}

#[test]
fn supplier_then_hq_with_a_threshold_that_slipped_while_waiting() {
    for backend in backends() {
        let net = Net::new(backend);
        let (top, top_actor) = net.active("top", "provincial", None);
        let (_other, other_actor) = net.active("other", "provincial", None);
        let (x, x_actor) = net.active("x", "special", Some(top));
        // 150.00 sold 32 days ago: inside the 30 days before the application 5 days ago, outside
        // the 30 days before today.
        paid_order(&net, x, 32, 15_000, "completed");
        let (z, z_actor) = net.active("z", "special", None);
        paid_order(&net, z, 1, 15_000, "completed");
        install(&net, DOC);
        let direct = apply(&net, z_actor, "district", now()).expect("z");
        assert_eq!(
            status(&net, direct),
            "awaiting_hq",
            "HQ supplies z: HQ's stage only, as in joining"
        );

        let id = apply(&net, x_actor, "district", at(5)).expect("personal sales 150.00");
        assert_eq!(status(&net, id), "awaiting_supplier");
        let hq_first = decide(&net, admin(&net), id, true, "");
        assert!(
            matches!(&hq_first, Err(Error::Refused { message: m, .. }) if m.contains("supplier decides first")),
            "{hq_first:?}"
        );
        let wrong = decide(&net, other_actor, id, true, "");
        assert!(
            matches!(wrong, Err(Error::Forbidden(_))),
            "{backend:?}: {wrong:?}"
        );
        assert_eq!(status(&net, id), "awaiting_supplier");
        assert!(
            chainmark_server::levels::application_lists::queue(&mut net.conn(), other_actor)
                .expect("queue")
                .is_empty(),
            "not its downline"
        );
        assert_eq!(
            chainmark_server::levels::application_lists::queue(&mut net.conn(), top_actor)
                .expect("queue")
                .len(),
            1
        );

        assert_eq!(
            decide(&net, top_actor, id, true, "好").expect("supplier"),
            "awaiting_hq"
        );
        assert_eq!(
            decide(&net, top_actor, id, true, "好").expect("repeat"),
            "awaiting_hq"
        );
        assert_eq!(
            net.agent(x).tier_rank,
            5,
            "the supplier's approval alone changes nothing"
        );
        let hq_queue =
            chainmark_server::levels::application_lists::queue(&mut net.conn(), admin(&net))
                .expect("queue");
        assert_eq!(
            hq_queue.iter().map(|r| r.id).collect::<Vec<_>>(),
            vec![direct, id]
        );

        assert_eq!(
            decide(&net, admin(&net), id, true, "").expect("hq"),
            "approved"
        );
        assert_eq!(net.agent(x).tier_rank, 4, "区代");
        let row = store::get(&mut net.conn(), id).expect("row");
        assert_eq!(row.supplier_agent_id, Some(top));
        assert_eq!(row.supplier_approved, Some(true));
        assert_eq!(
            level_changes(&net, x)[0].summary_en,
            format!(
                "upgraded to district: application approved by the supplier and HQ on {}; \
                 personal sales 0.00 < 100.00 in the last 30 days",
                today()
            ),
            "HQ approved although the sales left the window; the record shows it"
        );
        assert!(
            chainmark_server::levels::application_lists::reasons_text(
                &row.evidence,
                chainmark_server::domain::levels::Lang::En
            )
            .starts_with("personal sales 150.00 ≥ 100.00"),
            "the evidence of the day applied is kept"
        );
    }
}

#[test]
fn rejections_say_why_and_change_no_level() {
    for backend in backends() {
        let net = Net::new(backend);
        let (top, top_actor) = net.active("top", "provincial", None);
        let (x, x_actor) = net.active("x", "special", Some(top));
        let (y, y_actor) = net.active("y", "special", Some(top));
        paid_order(&net, x, 3, 60_000, "completed");
        paid_order(&net, y, 3, 60_000, "completed");
        install(&net, DOC);

        // The supplier rejects (a reason is required).
        let id = apply(&net, x_actor, "district", now()).expect("apply");
        let bare = decide(&net, top_actor, id, false, " ");
        assert!(matches!(bare, Err(Error::BadRequest(_))), "{bare:?}");
        assert_eq!(status(&net, id), "awaiting_supplier");
        assert_eq!(
            decide(&net, top_actor, id, false, "资料不全").expect("reject"),
            "rejected"
        );
        let late = decide(&net, admin(&net), id, true, "");
        assert!(matches!(late, Err(Error::Refused { .. })), "{late:?}");

        // HQ rejects an HQ application.
        let id = apply(&net, y_actor, "city", now()).expect("apply");
        assert_eq!(
            decide(&net, admin(&net), id, false, "not yet").expect("reject"),
            "rejected"
        );
        let again = decide(&net, admin(&net), id, true, "");
        assert!(
            matches!(again, Err(Error::Refused { .. })),
            "{backend:?}: {again:?}"
        );
        assert_eq!(
            store::get(&mut net.conn(), id)
                .expect("row")
                .hq_note
                .as_deref(),
            Some("not yet")
        );
        for agent in [x, y] {
            assert_eq!(net.agent(agent).tier_rank, 5);
            assert!(level_changes(&net, agent).is_empty());
        }
        // A closed application no longer blocks a new one.
        assert!(apply(&net, y_actor, "city", now()).is_ok());
    }
}

#[test]
fn withdraw_not_eligible_and_one_open_application() {
    for backend in backends() {
        let net = Net::new(backend);
        let (top, top_actor) = net.active("top", "provincial", None);
        let (x, x_actor) = net.active("x", "special", Some(top));
        let (poor, poor_actor) = net.active("poor", "special", Some(top));
        paid_order(&net, x, 3, 60_000, "completed");
        paid_order(&net, poor, 3, 5_000, "completed");
        paid_order(&net, poor, 40, 900_000, "completed"); // outside every window
        install(&net, DOC);

        let refused = apply(&net, poor_actor, "district", now());
        assert!(
            matches!(&refused, Err(Error::NotEligible(m)) if m.contains("personal sales 50.00 < 100.00")),
            "{backend:?}: {refused:?}"
        );
        for (level, why) in [
            ("provincial", "not reached by application"),
            ("special", "does not rank above"),
        ] {
            let r = apply(&net, x_actor, level, now());
            assert!(
                matches!(&r, Err(Error::NotEligible(m)) if m.contains(why)),
                "{r:?}"
            );
        }
        let hq = apply(&net, admin(&net), "city", now());
        assert!(matches!(hq, Err(Error::Forbidden(_))), "{hq:?}");
        assert!(
            store::of_agent(&mut net.conn(), poor, 10)
                .expect("rows")
                .is_empty()
        );

        let first = apply(&net, x_actor, "city", now()).expect("city");
        let second = apply(&net, x_actor, "district", now());
        assert!(
            matches!(&second, Err(Error::Refused { message: m, .. }) if m.contains(&format!("application {first}"))),
            "{second:?}"
        );
        assert_eq!(
            store::of_agent(&mut net.conn(), x, 10).expect("rows").len(),
            1
        );

        let theirs = cases::withdraw(&mut net.conn(), top_actor, first, now());
        assert!(matches!(theirs, Err(Error::Forbidden(_))), "{theirs:?}");
        let done = cases::withdraw(&mut net.conn(), x_actor, first, now()).expect("withdraw");
        assert_eq!(done.status.as_str(), "withdrawn");
        let again = cases::withdraw(&mut net.conn(), x_actor, first, now()).expect("repeat");
        assert_eq!(again.status.as_str(), "withdrawn");
        let hq = decide(&net, admin(&net), first, true, "");
        assert!(matches!(hq, Err(Error::Refused { .. })), "{hq:?}");
        assert_eq!(net.agent(x).tier_rank, 5);
        assert!(
            apply(&net, x_actor, "district", now()).is_ok(),
            "a new one after withdrawing"
        );
    }
}

#[test]
fn an_application_lapses_when_the_level_or_the_rules_move() {
    for backend in backends() {
        let net = Net::new(backend);
        let (top, top_actor) = net.active("top", "provincial", None);
        let (x, x_actor) = net.active("x", "special", Some(top));
        let (y, y_actor) = net.active("y", "special", Some(top));
        paid_order(&net, x, 3, 60_000, "completed");
        paid_order(&net, y, 3, 60_000, "completed");
        install(&net, DOC);
        let xa = apply(&net, x_actor, "city", now()).expect("x");
        let ya = apply(&net, y_actor, "district", now()).expect("y");

        // x's level changes another way (HQ suspends it here): deciding is refused, and the
        // next run closes the application.
        agents::suspend(&mut net.conn(), x, "audit", None).expect("suspend");
        let late = decide(&net, admin(&net), xa, true, "");
        assert!(
            matches!(&late, Err(Error::Refused { message: m, .. }) if m.contains("lapsed")),
            "{backend:?}: {late:?}"
        );
        assert_eq!(status(&net, xa), "awaiting_hq", "a refusal changes nothing");
        assess::run(&mut net.conn(), today(), admin(&net), &mut |_, _| {}).expect("run");
        let row = store::get(&mut net.conn(), xa).expect("row");
        assert_eq!(
            (row.status.as_str(), row.lapse_reason.as_deref()),
            ("lapsed", Some("agent_inactive"))
        );

        // A new level policy: y's application claimed a path of the old one.
        let next = DOC.replacen("version = 1", "version = 2", 1);
        let mut conn = net.conn();
        policy::save_draft(&mut conn, &next, admin(&net)).expect("draft");
        policy::activate(&mut conn, 2, admin(&net)).expect("activate");
        drop(conn);
        let row = store::get(&mut net.conn(), ya).expect("row");
        assert_eq!(
            (row.status.as_str(), row.lapse_reason.as_deref()),
            ("lapsed", Some("rules_changed"))
        );
        let closed = decide(&net, top_actor, ya, true, "");
        assert!(matches!(closed, Err(Error::Refused { .. })), "{closed:?}");
        assert_eq!(net.agent(y).tier_rank, 5);
    }
}
