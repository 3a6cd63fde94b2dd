//! Properties of the decision: a day's assessment moves an agent at most once (a second run of
//! the same day changes nothing), every change moves in the direction it names, and a policy
//! that keeps levels with quotas leaves every agent where it is.

use chrono::{Days, NaiveDate};
use proptest::prelude::*;
use rust_decimal::Decimal;

use super::seeds::{d, policy};
use super::*;
use crate::network::TierRank;

const LADDER: &str = r#"version = 1
name = "every rule"
on_change = "keep"
[points]
per_yuan_sold = "1"
per_sub_agent = 100
[[levels]]
tier = "national"
[[levels.paths]]
window_days = 30
thresholds = { team_sales = "9000.00", invited_agents = 3 }
[[levels.downgrade]]
kind = "cyclic"
days = 7
to = "city"
[[levels]]
tier = "provincial"
[[levels.paths]]
window_days = 5
match = "any"
thresholds = { personal_sales = "3000.00", points = 4000 }
[[levels.downgrade]]
kind = "single"
days = 1
[[levels.downgrade]]
kind = "thresholds"
[levels.protection]
days = 2
thresholds = { orders = 2 }
[[levels]]
tier = "city"
[[levels.paths]]
window_days = 3
thresholds = { orders = 2, amount_paid = "100.00" }
[[levels.downgrade]]
kind = "thresholds"
[[levels]]
tier = "district"
[[levels.paths]]
thresholds = { orders = 1 }
[[levels.downgrade]]
kind = "validity"
days = 4
to = "relevel"
"#;

fn activity() -> impl Strategy<Value = Vec<(u64, Metrics)>> {
    prop::collection::vec(
        (0u64..40, 0i64..4, 0i64..3000, 0i64..5000, 0i64..300).prop_map(
            |(day, orders, sales, team, paid)| {
                let m = Metrics {
                    orders,
                    invited_agents: orders % 2,
                    personal_sales: Decimal::from(sales),
                    team_sales: Decimal::from(team),
                    amount_paid: Decimal::from(paid),
                    ..Metrics::default()
                };
                (day, m)
            },
        ),
        0..25,
    )
}

fn dated(start: NaiveDate, a: &[(u64, Metrics)]) -> Vec<(NaiveDate, Metrics)> {
    a.iter()
        .map(|(day, m)| (start + Days::new(*day), m.clone()))
        .collect()
}

proptest! {
    #[test]
    fn one_change_per_day_and_a_rerun_changes_nothing(
        rank in 1u8..=5,
        reached in 0u64..10,
        raw in activity(),
    ) {
        let p = policy(LADDER);
        let start = d(1, 1);
        let acts = dated(start, &raw);
        let mut agent = AgentLevel {
            rank: TierRank(rank),
            reached_on: start + Days::new(reached),
            quota: Quota::new(),
            last_decided_on: None,
        };
        for day in 10..40 {
            let today = start + Days::new(day);
            let m = over_windows(&acts, &p.windows(), today);
            if let Some(dec) = decide(&p, &agent, &m, today) {
                match dec.kind {
                    ChangeKind::Upgrade => prop_assert!(dec.to.is_above(dec.from)),
                    ChangeKind::Downgrade => prop_assert!(dec.from.is_above(dec.to)),
                    ChangeKind::Protected => prop_assert_eq!(dec.to, dec.from),
                }
                prop_assert_eq!(dec.from, agent.rank);
                agent.apply(&dec, today);
            }
            prop_assert_eq!(decide(&p, &agent, &m, today), None, "second run on {}", today);
        }
    }

    #[test]
    fn a_kept_level_with_its_quota_stays_put(rank in 1u8..=5, raw in activity()) {
        let p = policy(LADDER);
        let today = d(2, 10);
        let m = over_windows(&dated(d(1, 1), &raw), &p.windows(), today);
        let mut agent = AgentLevel {
            rank: TierRank(rank),
            reached_on: d(1, 1),
            quota: Quota::new(),
            last_decided_on: None,
        };
        agent.quota = keep_level_quota(&p, &agent, &m);
        // Under the new rules with its quota, the agent's level is exactly the one it keeps.
        prop_assert_eq!(relevel(&p, &agent, &m), None);
        prop_assert_eq!(
            decide(&p, &agent, &m, today).filter(|x| x.kind == ChangeKind::Upgrade),
            None
        );
    }
}
