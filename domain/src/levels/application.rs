//! Applying for a level (等级申请, seed 000 方式一 and 方式四): an agent claims a level through one
//! of its paths that needs approval (`approval = "hq"` or `"supplier_then_hq"`), and HQ — or
//! first the agent's supplier, then HQ — approves or rejects. Pure: who decides in each state,
//! where each step leads, and when a waiting application lapses; whether the agent may apply
//! now is [`super::eligibility`]. The use cases in `crate::levels::applications` load and save.
//!
//! The approval stages are joining's (`domain::joining`): the same first status and the same
//! supplier-then-HQ step, reused here. A level application adds `withdrawn` (by the agent) and
//! `lapsed` (what it stood on moved before a decision). Submitting is not a state of its own: a
//! new application waits for its first decider at once, as a joining application does.

use super::reason::Lang;
use crate::joining::{self, Decider};
use crate::network::TierRank;
use crate::network::policy::ApprovalMode;

/// Where an application stands.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::AsRefStr,
    strum::EnumIter,
)]
#[strum(serialize_all = "snake_case")]
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

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
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
        self.into()
    }

    pub fn parse(s: &str) -> Option<Status> {
        s.parse().ok()
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

impl crate::Refusal for ApplicationError {
    fn code(&self) -> &'static str {
        match self {
            ApplicationError::NotEligible(_) => "not_eligible",
            ApplicationError::WrongState { .. } => "level_application_closed",
            ApplicationError::AlreadyOpen(_) => "level_application_open",
            ApplicationError::NotYours(_) => "forbidden",
        }
    }
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
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::AsRefStr,
    strum::EnumIter,
)]
#[strum(serialize_all = "snake_case")]
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
        self.into()
    }

    pub fn parse(s: &str) -> Option<Lapse> {
        s.parse().ok()
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

#[cfg(test)]
#[path = "application_tests.rs"]
mod tests;

#[cfg(test)]
mod strum_names {
    use super::*;

    #[test]
    fn stored_names_of_status() {
        crate::pin_stored_names(
            &[
                (Status::AwaitingSupplier, "awaiting_supplier"),
                (Status::AwaitingHq, "awaiting_hq"),
                (Status::Approved, "approved"),
                (Status::Rejected, "rejected"),
                (Status::Withdrawn, "withdrawn"),
                (Status::Lapsed, "lapsed"),
            ],
            Status::as_str,
            Status::parse,
        );
    }

    #[test]
    fn stored_names_of_lapse() {
        crate::pin_stored_names(
            &[
                (Lapse::AgentInactive, "agent_inactive"),
                (Lapse::LevelChanged, "level_changed"),
                (Lapse::RulesChanged, "rules_changed"),
            ],
            Lapse::as_str,
            Lapse::parse,
        );
    }
}
