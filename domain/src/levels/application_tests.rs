//! Level applications as dated examples on the seed-004 tiers: what an agent may apply for, each
//! approval mode's steps, who may take them, lapses, and the approval's reasons.

use rust_decimal::Decimal;

use super::*;
use crate::levels::eligibility::{self, *};
use crate::levels::seeds::{d, policy, tiers};
use crate::levels::{
    AgentLevel, ChangeKind, LevelPolicy, Metrics, MetricsByWindow, Quota, Window, decide,
};
use crate::network::policy::ApprovalMode;

const CITY: TierRank = TierRank(3);
const DISTRICT: TierRank = TierRank(4);
const SPECIAL: TierRank = TierRank(5);

/// 市代 by HQ's approval with team sales; 区代 by application alone (0门槛, two-stage); 省代 only
/// automatically.
const DOC: &str = r#"version = 1
name = "applications"
on_change = "keep"
[[levels]]
tier = "provincial"
[[levels.paths]]
thresholds = { orders = 100 }
[[levels]]
tier = "city"
[[levels.paths]]
window_days = 30
thresholds = { orders = 50 }
[[levels.paths]]
window_days = 30
approval = "hq"
thresholds = { team_sales = "50000.00" }
[[levels]]
tier = "district"
[[levels.paths]]
approval = "supplier_then_hq"
"#;

fn special() -> AgentLevel {
    AgentLevel {
        rank: SPECIAL,
        reached_on: d(1, 1),
        quota: Quota::new(),
        last_decided_on: None,
    }
}

fn team(yuan: &str) -> MetricsByWindow {
    let mut m = MetricsByWindow::default();
    m.insert(
        Window::days(30),
        Metrics {
            team_sales: yuan.parse().expect("decimal"),
            ..Metrics::default()
        },
    );
    m
}

fn refused(r: Result<Offer, ApplicationError>) -> String {
    match r {
        Err(ApplicationError::NotEligible(m)) => m,
        other => panic!("expected not eligible, got {other:?}"),
    }
}

#[test]
fn an_agent_is_offered_the_paths_needing_approval_above_its_level() {
    let p = policy(DOC);
    let offers = offers(&p, &special(), &team("52300.00"));
    let listed: Vec<(&str, usize, bool)> = offers
        .iter()
        .map(|o| (o.level_key.as_str(), o.path, o.met))
        .collect();
    assert_eq!(listed, vec![("city", 1, true), ("district", 0, true)]);
    assert_eq!(
        offers[0].conditions(Lang::En),
        "team sales 52,300.00 ≥ 50,000.00 in the last 30 days"
    );
    assert_eq!(
        offers[0].conditions(Lang::Zh),
        "近30天团队业绩 52,300.00 ≥ 50,000.00"
    );
    assert!(offers[1].reasons.is_empty(), "0门槛: no conditions");
    let city = AgentLevel {
        rank: CITY,
        ..special()
    };
    assert!(
        eligibility::offers(&p, &city, &team("0")).is_empty(),
        "nothing above 市代 needs approval"
    );
}

#[test]
fn a_claim_is_met_now_or_refused_with_the_reason() {
    let p = policy(DOC);
    let ok = claim(&p, &special(), &team("52300.00"), "city", None).expect("met");
    assert_eq!((ok.rank, ok.path, ok.approval), (CITY, 1, ApprovalMode::Hq));
    assert!(
        refused(claim(&p, &special(), &team("40000.00"), "city", None))
            .contains("team sales 40,000.00 < 50,000.00 in the last 30 days")
    );
    let with_quota = AgentLevel {
        quota: [(super::super::Metric::TeamSales, Decimal::new(1_000_000, 2))].into(),
        ..special()
    };
    assert!(
        claim(&p, &with_quota, &team("40000.00"), "city", Some(1)).is_ok(),
        "a quota (配额) counts as everywhere a threshold is compared"
    );
    assert!(
        refused(claim(&p, &special(), &team("0"), "provincial", None))
            .contains("not reached by application")
    );
    assert!(refused(claim(&p, &special(), &team("0"), "city", Some(0))).contains("no path 0"));
    assert!(
        refused(claim(&p, &special(), &team("0"), "special", None)).contains("does not rank above")
    );
    assert!(refused(claim(&p, &special(), &team("0"), "mayor", None)).contains("no level"));
    let zero = claim(&p, &special(), &team("0"), "district", None).expect("0门槛");
    assert_eq!(zero.approval, ApprovalMode::SupplierThenHq);
}

#[test]
fn the_first_status_follows_joining() {
    use ApprovalMode::*;
    assert_eq!(first_status(Hq, false), Ok(Status::AwaitingHq));
    assert_eq!(
        first_status(SupplierThenHq, false),
        Ok(Status::AwaitingSupplier)
    );
    assert_eq!(
        first_status(SupplierThenHq, true),
        Ok(Status::AwaitingHq),
        "HQ supplies the agent: HQ's stage only"
    );
    assert!(matches!(
        first_status(Automatic, false),
        Err(ApplicationError::NotEligible(_))
    ));
}

#[test]
fn only_the_current_supplier_or_hq_decides() {
    assert_eq!(stage_of(Caller::Hq, 7, Some(3)), Ok(Decider::Hq));
    assert_eq!(
        stage_of(Caller::Agent(3), 7, Some(3)),
        Ok(Decider::Supplier)
    );
    assert!(matches!(
        stage_of(Caller::Agent(4), 7, Some(3)),
        Err(ApplicationError::NotYours(_))
    ));
    assert!(matches!(
        stage_of(Caller::Agent(7), 7, Some(3)),
        Err(ApplicationError::NotYours(_))
    ));
    assert!(matches!(
        stage_of(Caller::Agent(3), 7, None),
        Err(ApplicationError::NotYours(_))
    ));
}

#[test]
fn each_step_leads_where_the_mode_says() {
    use Decider::{Hq, Supplier};
    use Status::*;
    let to = |s| Ok(Step::To(s));
    assert_eq!(
        step(AwaitingSupplier, None, Supplier, true, false),
        to(AwaitingHq)
    );
    assert_eq!(
        step(AwaitingSupplier, None, Supplier, false, false),
        to(Rejected)
    );
    assert_eq!(
        step(AwaitingHq, Some((Supplier, true)), Hq, true, false),
        to(Approved)
    );
    assert_eq!(step(AwaitingHq, None, Hq, false, false), to(Rejected));
    assert_eq!(
        step(AwaitingSupplier, None, Hq, true, true),
        to(Approved),
        "HQ supplies the applicant now: one decision for both stages"
    );
    assert!(matches!(
        step(AwaitingSupplier, None, Hq, true, false),
        Err(ApplicationError::WrongState { message, .. }) if message.contains("supplier decides first")
    ));
    assert!(matches!(
        step(AwaitingHq, Some((Supplier, true)), Supplier, false, false),
        Err(ApplicationError::WrongState { .. })
    ));
    assert!(matches!(
        step(Withdrawn, None, Hq, true, false),
        Err(ApplicationError::WrongState {
            status: "withdrawn",
            ..
        })
    ));
    // A retried request repeats the decision recorded: nothing changes.
    assert_eq!(
        step(AwaitingHq, Some((Supplier, true)), Supplier, true, false),
        Ok(Step::Repeat)
    );
    assert_eq!(
        step(Approved, Some((Hq, true)), Hq, true, false),
        Ok(Step::Repeat)
    );
    assert_eq!(
        step(Rejected, Some((Supplier, false)), Supplier, false, false),
        Ok(Step::Repeat)
    );
    assert!(
        step(Rejected, Some((Hq, false)), Hq, true, false).is_err(),
        "the other verdict is not a repeat"
    );
    assert_eq!(withdraw(AwaitingSupplier), Ok(Step::To(Withdrawn)));
    assert_eq!(withdraw(AwaitingHq), Ok(Step::To(Withdrawn)));
    assert_eq!(withdraw(Withdrawn), Ok(Step::Repeat));
    assert!(withdraw(Approved).is_err());
    for s in Status::ALL {
        assert_eq!(Status::parse(s.as_str()), Some(s));
    }
}

#[test]
fn an_application_lapses_when_its_ground_moves() {
    assert_eq!(lapse(SPECIAL, 1, true, SPECIAL, Some(1)), None);
    assert_eq!(
        lapse(SPECIAL, 1, false, SPECIAL, Some(1)),
        Some(Lapse::AgentInactive)
    );
    assert_eq!(
        lapse(SPECIAL, 1, true, DISTRICT, Some(1)),
        Some(Lapse::LevelChanged)
    );
    assert_eq!(
        lapse(SPECIAL, 1, true, SPECIAL, Some(2)),
        Some(Lapse::RulesChanged)
    );
    assert_eq!(
        lapse(SPECIAL, 1, true, SPECIAL, None),
        Some(Lapse::RulesChanged)
    );
    assert_eq!(Lapse::parse("level_changed"), Some(Lapse::LevelChanged));
}

#[test]
fn an_approval_reads_as_the_agent_sees_it_with_the_numbers_of_its_day() {
    let p = policy(DOC);
    let up = approval(&p, &special(), &team("52300.00"), CITY, 1, false, d(4, 12)).expect("path");
    assert_eq!(
        (up.from, up.to, up.kind),
        (SPECIAL, CITY, ChangeKind::Upgrade)
    );
    assert_eq!(
        up.summary(&p, Lang::En),
        "upgraded to city: application approved by HQ on 2026-04-12; team sales 52,300.00 ≥ \
         50,000.00 in the last 30 days"
    );
    assert_eq!(
        up.summary(&p, Lang::Zh),
        "升级为市代:申请于2026-04-12经总部审核通过;近30天团队业绩 52,300.00 ≥ 50,000.00"
    );
    let slipped =
        approval(&p, &special(), &team("48000.00"), CITY, 1, true, d(4, 20)).expect("path");
    assert_eq!(
        slipped.summary(&p, Lang::En),
        "upgraded to city: application approved by the supplier and HQ on 2026-04-20; team \
         sales 48,000.00 < 50,000.00 in the last 30 days",
        "approved although the threshold slipped while it waited; the record says so"
    );
    let zero = approval(&p, &special(), &team("0"), DISTRICT, 0, true, d(4, 20)).expect("path");
    assert_eq!(
        zero.summary(&p, Lang::Zh),
        "升级为区代:申请于2026-04-20经上级和总部审核通过"
    );
    assert!(approval(&p, &special(), &team("0"), CITY, 7, false, d(4, 20)).is_none());
}

#[test]
fn a_path_without_conditions_needs_approval_and_holds_no_level() {
    let automatic = DOC.replace("approval = \"supplier_then_hq\"\n", "");
    let e = LevelPolicy::parse(&automatic, &tiers()).expect_err("0门槛 must need approval");
    assert!(e.names("levels[2].paths[0]"), "{e}");
    let only_zero = format!("{DOC}[[levels.downgrade]]\nkind = \"thresholds\"\n");
    let e = LevelPolicy::parse(&only_zero, &tiers()).expect_err("nothing to check");
    assert!(e.names("levels[2].downgrade"), "{e}");

    // 区代 by thresholds or by 0门槛 application: the application path does not keep an agent
    // that no longer meets the thresholds.
    let both = r#"version = 1
name = "both"
on_change = "keep"
[[levels]]
tier = "district"
[[levels.paths]]
window_days = 10
thresholds = { orders = 2 }
[[levels.paths]]
approval = "hq"
[[levels.downgrade]]
kind = "thresholds"
"#;
    let p = policy(both);
    let held = AgentLevel {
        rank: DISTRICT,
        ..special()
    };
    let down = decide(&p, &held, &MetricsByWindow::default(), d(4, 12)).expect("decided");
    assert_eq!((down.kind, down.to), (ChangeKind::Downgrade, SPECIAL));
}
