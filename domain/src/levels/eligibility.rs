//! Whether an agent may apply for a level now (等级申请的条件): the paths that need approval of
//! the levels above its own, each checked with the engine's own condition check over the path's
//! window (quotas included), and the level change HQ's final approval makes. Pure; the states
//! and who decides are in [`super::application`].

use chrono::NaiveDate;

use super::application::ApplicationError;
use super::decision::{AgentLevel, ChangeKind, Decision, check};
use super::metrics::MetricsByWindow;
use super::policy::{Level, LevelPolicy, UpgradePath};
use super::reason::{Lang, Reason};
use crate::network::TierRank;
use crate::network::policy::ApprovalMode;

/// One way an agent could apply: a level above its own through one of the level's paths that
/// needs approval, with its conditions as they stand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    pub rank: TierRank,
    pub level_key: String,
    pub name_zh: String,
    pub name_en: String,
    /// The path's index among the level's paths, as in the document (`levels.paths[i]`).
    pub path: usize,
    pub approval: ApprovalMode,
    /// Met now over the path's window (quotas included).
    pub met: bool,
    /// The conditions that carried it when met, the failing ones when not; empty for a path
    /// without conditions (0门槛).
    pub reasons: Vec<Reason>,
}

impl Offer {
    /// The reasons in one line: "team sales 52,300.00 ≥ 50,000.00 in the last 30 days".
    pub fn conditions(&self, lang: Lang) -> String {
        Reason::render_all(&self.reasons, lang)
    }
}

/// Whether `path` of `level` is met over its own window. A path without conditions is met.
pub fn path_met(
    policy: &LevelPolicy,
    level: &Level,
    path: &UpgradePath,
    agent: &AgentLevel,
    metrics: &MetricsByWindow,
) -> (bool, Vec<Reason>) {
    if path.set.conditions.is_empty() {
        return (true, Vec::new());
    }
    check(
        &path.set,
        &level.key,
        path.window,
        metrics,
        &agent.quota,
        &policy.points,
    )
}

/// Every path that needs approval of every level above the agent's, met or not, the highest
/// level first. Automatic paths are not offered: the assessment takes them by itself.
pub fn offers(policy: &LevelPolicy, agent: &AgentLevel, metrics: &MetricsByWindow) -> Vec<Offer> {
    let mut out = Vec::new();
    for level in policy.levels.iter().filter(|l| l.rank.is_above(agent.rank)) {
        for (i, p) in level.paths.iter().enumerate() {
            if p.approval == ApprovalMode::Automatic {
                continue;
            }
            let (met, reasons) = path_met(policy, level, p, agent, metrics);
            out.push(Offer {
                rank: level.rank,
                level_key: level.key.clone(),
                name_zh: level.name_zh.clone(),
                name_en: level.name_en.clone(),
                path: i,
                approval: p.approval,
                met,
                reasons,
            });
        }
    }
    out
}

/// What an application claims: `level_key` (a level above the agent's) through `path`, or when
/// none is named the first of its paths needing approval that is met now. Refused unless met.
pub fn claim(
    policy: &LevelPolicy,
    agent: &AgentLevel,
    metrics: &MetricsByWindow,
    level_key: &str,
    path: Option<usize>,
) -> Result<Offer, ApplicationError> {
    let not = |m: String| Err(ApplicationError::NotEligible(m));
    let Some(level) = policy.levels.iter().find(|l| l.key == level_key) else {
        return not(format!("level: there is no level {level_key:?}"));
    };
    if !level.rank.is_above(agent.rank) {
        return not(format!(
            "level: {} does not rank above the level held",
            level.name_en
        ));
    }
    let mine: Vec<Offer> = offers(policy, agent, metrics)
        .into_iter()
        .filter(|o| o.rank == level.rank)
        .collect();
    if mine.is_empty() {
        return not(format!(
            "level: {} is not reached by application (none of its paths needs approval)",
            level.name_en
        ));
    }
    let chosen = match path {
        Some(i) => match mine.iter().find(|o| o.path == i) {
            Some(o) => o,
            None => {
                return not(format!(
                    "path: {} has no path {i} that needs approval",
                    level.name_en
                ));
            }
        },
        None => mine.iter().find(|o| o.met).unwrap_or(&mine[0]),
    };
    if !chosen.met {
        return not(format!(
            "{} path {}: {}",
            level.name_en,
            chosen.path,
            chosen.conditions(Lang::En)
        ));
    }
    Ok(chosen.clone())
}

/// The level change a final approval makes, on `on`: up to the level applied for, the approval
/// first among its reasons, then the claimed path's conditions as they stand that day, met or
/// not — HQ may approve although a threshold slipped while the application waited (the wait is
/// not the agent's doing), and the record shows the numbers it approved on. `None` when the
/// path is not in `policy` (an application of another version lapses instead).
pub fn approval(
    policy: &LevelPolicy,
    agent: &AgentLevel,
    metrics: &MetricsByWindow,
    to: TierRank,
    path: usize,
    supplier_first: bool,
    on: NaiveDate,
) -> Option<Decision> {
    let level = policy.level(to)?;
    let p = level.paths.get(path)?;
    let (_, now) = path_met(policy, level, p, agent, metrics);
    let mut reasons = vec![Reason::Approved { supplier_first, on }];
    reasons.extend(now);
    Some(Decision {
        kind: ChangeKind::Upgrade,
        from: agent.rank,
        to,
        reasons,
    })
}
