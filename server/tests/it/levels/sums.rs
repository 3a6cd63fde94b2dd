//! The store's window sums agree with the pure reference (`domain::levels::over_windows`) on
//! both backends, for orders in every state, activity, invited agents and team roll-ups.

use chainmark_server::domain::levels::{LevelPolicy, Metrics, MetricsByWindow, over_windows};
use chainmark_server::levels::activity::{self, NewActivity};
use chainmark_server::levels::population;
use chrono::NaiveDate;
use rand::{Rng, SeedableRng};
use rust_decimal::Decimal;

use super::{admin, days_ago, install, paid_order, today};
use crate::common::backends;
use crate::network::Net;

const DOC: &str = r#"version = 1
name = "windows"
on_change = "relevel"
[points]
per_bound_customer = 50
[[levels]]
tier = "city"
[[levels.paths]]
window_days = 3
thresholds = { team_sales = "1.00", personal_sales = "1.00" }
[[levels.paths]]
window_days = 10
thresholds = { orders = 1, amount_paid = "1.00", recharge = "1.00", invited_agents = 1, bound_customers = 1 }
[[levels.paths]]
thresholds = { points = 1 }
"#;

const STATES: [&str; 5] = [
    "paid",
    "completed",
    "partially_refunded",
    "refunded",
    "shipped",
];

#[test]
fn store_sums_match_the_pure_reference() {
    for backend in backends() {
        let net = Net::new(backend);
        let (root, _) = net.active("root", "special", None);
        let (mid, _) = net.active("mid", "special", Some(root));
        let (leaf, _) = net.active("leaf", "special", Some(mid));
        let (other, _) = net.active("other", "special", None);
        let agents = [root, mid, leaf, other];
        let mut rng = rand::rngs::StdRng::seed_from_u64(6);
        // Own activity per agent, dated, as the reference sees it.
        let mut facts: Vec<Vec<(NaiveDate, Metrics)>> = vec![Vec::new(); agents.len()];
        for _ in 0..60 {
            let who = rng.gen_range(0..agents.len());
            let ago = rng.gen_range(0..15u64);
            let cents = rng.gen_range(1..100_000i64);
            let state = STATES[rng.gen_range(0..STATES.len())];
            paid_order(&net, agents[who], ago, cents, state);
            let completed = matches!(state, "completed" | "partially_refunded");
            facts[who].push((
                days_ago(ago),
                Metrics {
                    orders: 1,
                    amount_paid: Decimal::new(cents, 2),
                    personal_sales: if completed {
                        Decimal::new(cents, 2)
                    } else {
                        Decimal::ZERO
                    },
                    ..Metrics::default()
                },
            ));
        }
        let mut conn = net.conn();
        for (who, kind, amount) in [
            (mid, "recharge", Some("12.50")),
            (leaf, "customer_bound", None),
        ] {
            activity::record(
                &mut conn,
                NewActivity {
                    agent_id: who,
                    kind: kind.into(),
                    amount: amount.map(|a| a.parse().expect("decimal")),
                    level_key: None,
                    at: None,
                    note: None,
                },
                admin(&net),
            )
            .expect("activity");
        }
        drop(conn);
        let i = |id| agents.iter().position(|a| *a == id).expect("agent");
        facts[i(mid)].push((
            today(),
            Metrics {
                recharge: "12.50".parse().expect("d"),
                ..Metrics::default()
            },
        ));
        facts[i(leaf)].push((
            today(),
            Metrics {
                bound_customers: 1,
                ..Metrics::default()
            },
        ));
        // Invited: root invited mid, mid invited leaf, activated today.
        facts[i(root)].push((
            today(),
            Metrics {
                invited_agents: 1,
                ..Metrics::default()
            },
        ));
        facts[i(mid)].push((
            today(),
            Metrics {
                invited_agents: 1,
                ..Metrics::default()
            },
        ));
        install(&net, DOC);

        let mut conn = net.conn();
        let (_, policy) = chainmark_server::levels::policy::active(&mut conn)
            .expect("read")
            .expect("active");
        for day in [today(), days_ago(4)] {
            let mut seen: Vec<(i64, MetricsByWindow)> = Vec::new();
            population::walk(&mut conn, &policy, day, |_, members| {
                seen.extend(members.into_iter().map(|m| (m.agent.id, m.metrics)));
                Ok(())
            })
            .expect("walk");
            assert_eq!(seen.len(), 4, "{backend:?}");
            for (id, got) in seen {
                let expected = reference(&policy, &facts, &agents, id, day);
                assert_eq!(got, expected, "{backend:?}: agent {id} on {day}");
            }
        }
    }
}

/// The reference: own facts, team sales summed over the subtree (root ⊃ mid ⊃ leaf).
fn reference(
    policy: &LevelPolicy,
    facts: &[Vec<(NaiveDate, Metrics)>],
    agents: &[i64; 4],
    id: i64,
    day: NaiveDate,
) -> MetricsByWindow {
    let windows = policy.windows();
    let own = agents.iter().position(|a| *a == id).expect("agent");
    let team: Vec<usize> = match own {
        0 => vec![0, 1, 2],
        1 => vec![1, 2],
        n => vec![n],
    };
    let mut m = over_windows(&facts[own], &windows, day);
    for w in &windows {
        let mut team_sales = Decimal::ZERO;
        for t in &team {
            team_sales += over_windows(&facts[*t], &windows, day)
                .get(*w)
                .personal_sales;
        }
        let mut one = m.get(*w).clone();
        one.team_sales = team_sales;
        m.insert(*w, one);
    }
    m
}
