//! Applying for a level (等级申请, seed 000 方式一 and 方式四): an agent claims a level through one
//! of its paths that needs approval (`approval = "hq"` or `"supplier_then_hq"`), and HQ — or
//! first the agent's supplier, then HQ — approves or rejects. Pure: whether the agent may apply
//! now, who decides in each state, where each step leads, and when a waiting application lapses.
//! The use cases in `crate::levels::applications` load and save.
//!
//! The approval stages are joining's (`domain::joining`): the same first status and the same
//! supplier-then-HQ step, reused here. A level application adds `withdrawn` (by the agent) and
//! `lapsed` (what it stood on moved before a decision). Submitting is not a state of its own: a
//! new application waits for its first decider at once, as a joining application does.

use chrono::NaiveDate;

use super::decision::{AgentLevel, ChangeKind, Decision, check};
use super::metrics::MetricsByWindow;
use super::policy::{Level, LevelPolicy, UpgradePath};
use super::reason::{Lang, Reason};
use crate::domain::joining::{self, Decider};
use crate::domain::network::TierRank;
use crate::domain::network::policy::ApprovalMode;

/// Where an application stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    AwaitingSupplier,
    AwaitingHq,
    Approved,
    Rejected,
    /// Taken back by the agent before a final decision.
    Withdrawn,
    /// Closed without a decision: see [`Lapse`].
    Lapsed,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::AwaitingSupplier,
        Status::AwaitingHq,
        Status::Approved,
        Status::Rejected,
        Status::Withdrawn,
        Status::Lapsed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::AwaitingSupplier => "awaiting_supplier",
            Status::AwaitingHq => "awaiting_hq",
            Status::Approved => "approved",
            Status::Rejected => "rejected",
            Status::Withdrawn => "withdrawn",
            Status::Lapsed => "lapsed",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Waiting for a decision (at most one per agent).
    pub fn is_open(self) -> bool {
        matches!(self, Status::AwaitingSupplier | Status::AwaitingHq)
    }

    fn joining(self) -> Option<joining::Status> {
        match self {
            Status::AwaitingSupplier => Some(joining::Status::AwaitingSupplier),
            Status::AwaitingHq => Some(joining::Status::AwaitingHq),
            _ => None,
        }
    }

    fn from_joining(s: joining::Status) -> Status {
        match s {
            joining::Status::AwaitingSupplier => Status::AwaitingSupplier,
            joining::Status::AwaitingHq => Status::AwaitingHq,
            joining::Status::Approved => Status::Approved,
            joining::Status::Rejected => Status::Rejected,
        }
    }
}

/// An application refused, naming the rule. The use cases answer 422, 409, 409 and 403.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplicationError {
    /// The agent does not meet, now, a path of this level that needs approval.
    #[error("not eligible: {0}")]
    NotEligible(String),
    /// The application's state does not allow this step.
    #[error("this application is {status}: {message}")]
    WrongState {
        status: &'static str,
        message: &'static str,
    },
    /// One open application per agent.
    #[error("application {0} is still open: withdraw it or wait for its decision")]
    AlreadyOpen(i64),
    /// This caller may not take this step.
    #[error("{0}")]
    NotYours(&'static str),
}

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
        let sep = if lang == Lang::Zh { ";" } else { "; " };
        let parts: Vec<String> = self.reasons.iter().map(|r| r.render(lang)).collect();
        parts.join(sep)
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

/// The first status of a new application: joining's rule (two-stage approval of an agent that
/// HQ supplies has the HQ stage only). An automatic path is never applied for.
pub fn first_status(mode: ApprovalMode, supplier_is_hq: bool) -> Result<Status, ApplicationError> {
    if mode == ApprovalMode::Automatic {
        return Err(ApplicationError::NotEligible(
            "path: it is automatic: the assessment takes it without an application".into(),
        ));
    }
    Ok(Status::from_joining(joining::initial_status(
        mode,
        supplier_is_hq,
    )))
}

/// Who decides an open application now: the applicant's *current* supplier in the first stage
/// of two-stage approval (suppliers change with levels), HQ otherwise — and HQ for both stages
/// when it supplies the applicant now (HQ is then the supplier). `None` when closed.
pub fn decider(status: Status, supplier_is_hq: bool) -> Option<Decider> {
    match status {
        Status::AwaitingSupplier if !supplier_is_hq => Some(Decider::Supplier),
        Status::AwaitingSupplier | Status::AwaitingHq => Some(Decider::Hq),
        _ => None,
    }
}

/// Who asks to decide, as the rules see it (the use case checks HQ roles).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    Agent(i64),
    Hq,
}

/// The stage `caller` may decide for an application of agent `applicant`, whose supplier now is
/// `supplier` (`None`: HQ). An agent decides only for its direct downline, never its own.
pub fn stage_of(
    caller: Caller,
    applicant: i64,
    supplier: Option<i64>,
) -> Result<Decider, ApplicationError> {
    match caller {
        Caller::Hq => Ok(Decider::Hq),
        Caller::Agent(a) if a == applicant => Err(ApplicationError::NotYours(
            "an agent does not decide its own application",
        )),
        Caller::Agent(a) if supplier == Some(a) => Ok(Decider::Supplier),
        Caller::Agent(_) => Err(ApplicationError::NotYours(
            "only the applicant's supplier (its direct upline) or HQ decides this application",
        )),
    }
}

/// What a step does: move to a status, or nothing (it repeats the step already recorded, as a
/// retried request does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    To(Status),
    Repeat,
}

/// The step when `by` approves or rejects. `last` is the latest decision recorded (who, and
/// whether it approved): the same decision again, while the application still stands where it
/// led, changes nothing.
pub fn step(
    status: Status,
    last: Option<(Decider, bool)>,
    by: Decider,
    approve: bool,
    supplier_is_hq: bool,
) -> Result<Step, ApplicationError> {
    let led_to = match (by, approve) {
        (Decider::Supplier, true) => Status::AwaitingHq,
        (Decider::Hq, true) => Status::Approved,
        (_, false) => Status::Rejected,
    };
    if last == Some((by, approve)) && status == led_to {
        return Ok(Step::Repeat);
    }
    let closed = |status: Status| ApplicationError::WrongState {
        status: status.as_str(),
        message: "it is closed",
    };
    let Some(now) = status.joining() else {
        return Err(closed(status));
    };
    // HQ supplying the applicant decides the supplier stage as well, in one decision.
    let now = match (now, decider(status, supplier_is_hq)) {
        (joining::Status::AwaitingSupplier, Some(Decider::Hq)) => joining::Status::AwaitingHq,
        (s, _) => s,
    };
    joining::decide(now, by, approve)
        .map(|s| Step::To(Status::from_joining(s)))
        .map_err(|_| match by {
            Decider::Hq => ApplicationError::WrongState {
                status: status.as_str(),
                message: "the applicant's supplier decides first",
            },
            Decider::Supplier => ApplicationError::WrongState {
                status: status.as_str(),
                message: "it awaits HQ's decision, not the supplier's",
            },
        })
}

/// The agent takes its application back: only while open; again changes nothing.
pub fn withdraw(status: Status) -> Result<Step, ApplicationError> {
    match status {
        s if s.is_open() => Ok(Step::To(Status::Withdrawn)),
        Status::Withdrawn => Ok(Step::Repeat),
        s => Err(ApplicationError::WrongState {
            status: s.as_str(),
            message: "only an open application can be withdrawn",
        }),
    }
}

/// Why an open application lapsed: what it stood on moved before a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lapse {
    /// The agent is no longer active (suspended).
    AgentInactive,
    /// The agent's level changed another way (assessment, top-up, policy change).
    LevelChanged,
    /// Another level policy version is active: the claimed path may mean something else now.
    RulesChanged,
}

impl Lapse {
    pub fn as_str(self) -> &'static str {
        match self {
            Lapse::AgentInactive => "agent_inactive",
            Lapse::LevelChanged => "level_changed",
            Lapse::RulesChanged => "rules_changed",
        }
    }

    pub fn parse(s: &str) -> Option<Lapse> {
        [
            Lapse::AgentInactive,
            Lapse::LevelChanged,
            Lapse::RulesChanged,
        ]
        .into_iter()
        .find(|l| l.as_str() == s)
    }

    pub fn render(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Lapse::AgentInactive, Lang::En) => "the agent is no longer active",
            (Lapse::AgentInactive, Lang::Zh) => "代理已停用",
            (Lapse::LevelChanged, Lang::En) => "the agent's level changed since it applied",
            (Lapse::LevelChanged, Lang::Zh) => "申请后等级已变动",
            (Lapse::RulesChanged, Lang::En) => "the level rules changed since it applied",
            (Lapse::RulesChanged, Lang::Zh) => "申请后等级规则已变更",
        }
    }
}

/// Whether an open application made at `applied_from` under policy `applied_version` lapses,
/// given the agent's standing now and the active policy version (`None`: none is active).
pub fn lapse(
    applied_from: TierRank,
    applied_version: u32,
    agent_active: bool,
    agent_rank: TierRank,
    active_version: Option<u32>,
) -> Option<Lapse> {
    if !agent_active {
        Some(Lapse::AgentInactive)
    } else if agent_rank != applied_from {
        Some(Lapse::LevelChanged)
    } else if active_version != Some(applied_version) {
        Some(Lapse::RulesChanged)
    } else {
        None
    }
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

#[cfg(test)]
#[path = "application_tests.rs"]
mod tests;
