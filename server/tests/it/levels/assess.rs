//! Assessment runs on the store: upgrades, downgrades and protection with their reasons, the
//! supplier recomputed as for a seed-004 upgrade, idempotence, refusals that change nothing, and
//! policy activation (re-level or quotas) with its what-if.

use chainmark_server::Error;
use chainmark_server::levels::{assess, policy, whatif};
use chainmark_server::network::Actor;
use chainmark_server::store::levels::{changes, state};
use chainmark_server::store::network::agents as agents_store;

use super::{admin, days_ago, install, paid_order, today};
use crate::common::backends;
use crate::network::Net;

const LADDER: &str = r#"version = 1
name = "ladder"
on_change = "relevel"
[[levels]]
tier = "city"
[[levels.paths]]
window_days = 10
thresholds = { personal_sales = "2000.00" }
[[levels.downgrade]]
kind = "thresholds"
[levels.protection]
days = 3
thresholds = { amount_paid = "10.00" }
[[levels]]
tier = "district"
[[levels.paths]]
window_days = 30
thresholds = { orders = 2 }
[[levels.downgrade]]
kind = "thresholds"
"#;

fn no_progress() -> impl FnMut(i64, i64) {
    |_, _| {}
}

#[test]
fn a_run_moves_agents_with_reasons_once() {
    for backend in backends() {
        let net = Net::new(backend);
        let (riser, _) = net.active("riser", "special", None);
        let (below, _) = net.active("below", "special", Some(riser));
        let (faller, _) = net.active("faller", "district", None);
        let (kept, _) = net.active("kept", "city", None);
        paid_order(&net, riser, 2, 150_000, "completed");
        paid_order(&net, riser, 5, 60_000, "completed");
        paid_order(&net, riser, 12, 900_000, "completed"); // outside the 10-day window
        paid_order(&net, kept, 20, 500_000, "completed");
        paid_order(&net, kept, 1, 1_200, "paid"); // 12.00 paid in the last 3 days: 保级
        install(&net, LADDER);
        assert_eq!(
            net.agent(below).supplier_id,
            None,
            "HQ supplies a 特约 under a 特约"
        );

        let mut conn = net.conn();
        let refused = assess::run(
            &mut conn,
            today(),
            Actor::Agent {
                user: 1,
                agent: riser,
            },
            &mut no_progress(),
        );
        assert!(
            matches!(refused, Err(Error::Forbidden(_))),
            "{backend:?}: {refused:?}"
        );
        let future = assess::run(
            &mut conn,
            today() + chrono::Days::new(1),
            admin(&net),
            &mut no_progress(),
        );
        assert!(matches!(future, Err(Error::BadRequest(_))), "{future:?}");
        assert_eq!(
            changes::list(&mut conn, None, None, 10)
                .expect("list")
                .len(),
            0
        );

        let mut pages = Vec::new();
        let first = assess::run(&mut conn, today(), admin(&net), &mut |done, total| {
            pages.push((done, total))
        })
        .expect("run");
        assert_eq!(
            (
                first.agents,
                first.upgrades,
                first.downgrades,
                first.protected
            ),
            (4, 1, 1, 1)
        );
        assert_eq!(pages, vec![(4, 4)]);
        assert_eq!(net.agent(riser).tier_rank, 3, "市代");
        assert_eq!(net.agent(faller).tier_rank, 5, "no level met: 特约");
        assert_eq!(net.agent(kept).tier_rank, 3);
        assert_eq!(
            net.agent(below).supplier_id,
            Some(riser),
            "supplier recomputed"
        );

        let riser_changes = changes::list(&mut conn, Some(riser), None, 10).expect("list");
        assert_eq!(riser_changes.len(), 1);
        assert_eq!(
            riser_changes[0].summary_en,
            "upgraded to city: personal sales 2,100.00 ≥ 2,000.00 in the last 10 days"
        );
        assert_eq!(
            riser_changes[0].summary_zh,
            "升级为市代:近10天个人业绩 2,100.00 ≥ 2,000.00"
        );
        let kept_changes = changes::list(&mut conn, Some(kept), None, 10).expect("list");
        assert_eq!(kept_changes[0].kind.as_str(), "protected");
        assert!(
            kept_changes[0]
                .summary_en
                .contains("amount paid 12.00 ≥ 10.00 in the last 3 days")
        );
        let faller_changes = changes::list(&mut conn, Some(faller), None, 10).expect("list");
        assert_eq!(
            faller_changes[0].summary_en,
            "downgraded to special: no longer meets the thresholds of district; orders 0 < 2 in \
             the last 30 days"
        );
        let s = state::find(&mut conn, riser).expect("state").expect("row");
        assert_eq!(
            (s.tier_rank, s.reached_on, s.last_decided_on),
            (3, today(), Some(today()))
        );

        // Running the same day again changes nothing, also after new orders.
        paid_order(&net, faller, 0, 100, "paid");
        paid_order(&net, faller, 0, 100, "paid");
        let again =
            assess::run(&mut conn, today(), admin(&net), &mut no_progress()).expect("rerun");
        assert_eq!(
            (again.upgrades, again.downgrades, again.protected),
            (0, 0, 0),
            "{backend:?}"
        );
        assert_eq!(
            changes::list(&mut conn, None, None, 100)
                .expect("list")
                .len(),
            3
        );
        assert_eq!(net.agent(faller).tier_rank, 5);
        // An earlier day than one already decided is not decided again either.
        let back =
            assess::run(&mut conn, days_ago(1), admin(&net), &mut no_progress()).expect("run");
        assert_eq!((back.upgrades, back.downgrades), (0, 0));
        assert_eq!(
            agents_store::get(&mut conn, riser)
                .expect("agent")
                .tier_rank,
            3
        );
    }
}

const KEEP: &str = r#"version = 7
name = "new rules"
on_change = "keep"
[[levels]]
tier = "provincial"
[[levels.paths]]
thresholds = { orders = 31 }
[[levels]]
tier = "city"
[[levels.paths]]
thresholds = { orders = 21 }
[[levels]]
tier = "district"
[[levels.paths]]
thresholds = { orders = 10 }
"#;

/// Seed 001's quota example on the store: a 市代 (等级三) with 16 orders.
#[test]
fn activation_keeps_levels_with_quotas_or_re_levels() {
    for backend in backends() {
        let net = Net::new(backend);
        let (x, _) = net.active("sixteen", "city", None);
        for i in 0..16 {
            paid_order(&net, x, i, 100, "paid");
        }
        let mut conn = net.conn();
        let relevel_doc = KEEP
            .replace("\"keep\"", "\"relevel\"")
            .replace("version = 7", "version = 8");
        let preview =
            whatif::what_if(&mut conn, &relevel_doc, today(), admin(&net)).expect("what-if");
        assert_eq!(
            (preview.agents, preview.up, preview.down),
            (1, 0, 1),
            "{backend:?}"
        );
        assert_eq!(preview.moves[0].agent_id, x);
        assert_eq!(preview.moves[0].to_rank, 4);
        let keep_preview = whatif::what_if(&mut conn, KEEP, today(), admin(&net)).expect("what-if");
        assert_eq!(
            (keep_preview.quotas, keep_preview.up, keep_preview.down),
            (1, 0, 0)
        );
        let agent = Actor::Agent { user: 1, agent: x };
        assert!(matches!(
            whatif::what_if(&mut conn, KEEP, today(), agent),
            Err(Error::Forbidden(_))
        ));

        let draft = policy::save_draft(&mut conn, KEEP, admin(&net)).expect("draft");
        let done = policy::activate(&mut conn, draft.version, admin(&net)).expect("activate");
        assert_eq!((done.on_change.as_str(), done.quotas), ("keep", 1));
        assert_eq!(net.agent(x).tier_rank, 3, "等级三 kept");
        let s = state::find(&mut conn, x).expect("state").expect("row");
        assert_eq!(s.quota_orders, 5, "配额 +5");
        // Nine more orders are not enough for 等级四, the tenth is.
        for _ in 0..9 {
            paid_order(&net, x, 0, 100, "paid");
        }
        let run = assess::run(&mut conn, today(), admin(&net), &mut no_progress()).expect("run");
        assert_eq!(run.upgrades, 0, "25 + 5 < 31");
        let draft = policy::save_draft(&mut conn, &relevel_doc, admin(&net)).expect("draft");
        let done = policy::activate(&mut conn, draft.version, admin(&net)).expect("activate");
        assert_eq!(
            (done.downgrades, done.upgrades),
            (0, 0),
            "25 orders: still 等级三 (≥ 21)"
        );
        assert_eq!(
            state::find(&mut conn, x)
                .expect("s")
                .expect("row")
                .quota_orders,
            0
        );
        assert!(matches!(
            policy::activate(&mut conn, draft.version, admin(&net)),
            Err(Error::Refused { .. })
        ));
    }
}

#[test]
fn bad_documents_are_refused_and_store_nothing() {
    for backend in backends() {
        let net = Net::new(backend);
        let mut conn = net.conn();
        let bad = LADDER.replace("window_days = 10", "window_days = 0");
        let e = policy::save_draft(&mut conn, &bad, admin(&net)).expect_err("invalid");
        assert!(
            e.to_string().contains("levels[0].paths[0].window_days"),
            "{e}"
        );
        let e =
            whatif::what_if(&mut conn, "version = 1", today(), admin(&net)).expect_err("invalid");
        assert!(matches!(e, Error::BadRequest(_)), "{e:?}");
        assert!(
            chainmark_server::store::levels::policies::list(&mut conn)
                .expect("list")
                .is_empty()
        );
        let e = policy::save_draft(&mut conn, LADDER, Actor::Agent { user: 1, agent: 1 })
            .expect_err("agent");
        assert!(matches!(e, Error::Forbidden(_)));
        let e = assess::run(&mut conn, today(), admin(&net), &mut no_progress())
            .expect_err("none active");
        assert!(matches!(e, Error::Refused { .. }), "{e:?}");
        assert!(
            assess::daily(&mut conn)
                .expect("daily without a policy")
                .is_empty()
        );
    }
}
