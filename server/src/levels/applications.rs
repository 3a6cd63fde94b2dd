//! Applications for a level (等级申请, seed 000 方式一/方式四): an agent applies through a path
//! that needs approval and that it meets now; its supplier (two-stage approval) and HQ decide;
//! HQ's approval changes the level through [`super::apply`], the same path an assessment takes
//! (supplier recomputed, prices from the next order), with the approval and the path's numbers
//! of that day as its reasons. The rules are in `domain::levels::{application, eligibility}`;
//! what each caller reads is in [`super::application_lists`].
//!
//! Every step is one transaction (the caller's `Db::write`), checks role and ownership first,
//! and refuses with nothing changed: 422 not eligible, 409 wrong state or lapsed, 403 wrong
//! caller. Repeating a step already taken returns the application as it stands.

use chrono::{NaiveDate, NaiveDateTime};

use super::apply::{Cause, apply as apply_change};
use super::{policy, population};
use crate::domain::Role;
use crate::domain::joining::Decider;
use crate::domain::levels::application::{
    self as rules, ApplicationError, Caller, Lapse, Status, Step,
};
use crate::domain::levels::eligibility;
use crate::domain::levels::{Lang, LevelPolicy, Reason};
use crate::domain::network::TierRank;
use crate::error::{Error, Result};
use crate::network::{Actor, policy as tier_policy};
use crate::store::levels::applications::{
    self as store, Decided, LevelApplicationRow, NewLevelApplication,
};
use crate::store::network::agents::{self as agents_store, AgentRow};
use crate::store::typed::Stored;
use crate::store::users::now;
use crate::store::{DbConnection, audit};

/// Who decides HQ's stage.
const DECIDERS: &[Role] = &[Role::HqAdmin];

fn refused(e: ApplicationError) -> Error {
    match e {
        ApplicationError::NotEligible(_) => Error::NotEligible(e.to_string()),
        ApplicationError::WrongState { .. } | ApplicationError::AlreadyOpen(_) => {
            Error::refused(&e)
        }
        ApplicationError::NotYours(_) => Error::Forbidden(e.to_string()),
    }
}

pub(super) fn the_agent(actor: Actor, what: &str) -> Result<i64> {
    match actor {
        Actor::Agent { agent, .. } => Ok(agent),
        _ => Err(Error::Forbidden(format!("only an agent may {what}"))),
    }
}

/// The day a step happens on; never in the future (windows end on it).
fn day_of(at: NaiveDateTime) -> Result<NaiveDate> {
    if at > now() {
        return Err(Error::BadRequest(format!(
            "at {at}: a step cannot happen in the future"
        )));
    }
    Ok(at.date())
}

fn note_text(note: &str, required: bool) -> Result<Option<String>> {
    let note = note.trim();
    if note.is_empty() {
        if required {
            return Err(Error::BadRequest("note: say why it is rejected".into()));
        }
        return Ok(None);
    }
    if note.chars().count() > 500 || note.chars().any(|c| c.is_control() && c != '\n') {
        return Err(Error::BadRequest(
            "note: at most 500 printable characters".into(),
        ));
    }
    Ok(Some(note.to_string()))
}

pub(super) fn rank(r: i32) -> TierRank {
    TierRank(u8::try_from(r).unwrap_or(u8::MAX))
}

fn version(v: i64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// The latest decision recorded: HQ's, else the supplier's.
fn last_decision(row: &LevelApplicationRow) -> Option<(Decider, bool)> {
    row.hq_approved
        .map(|a| (Decider::Hq, a))
        .or(row.supplier_approved.map(|a| (Decider::Supplier, a)))
}

fn lapse_of(row: &LevelApplicationRow, agent: &AgentRow, active: Option<i64>) -> Option<Lapse> {
    rules::lapse(
        rank(row.from_rank),
        version(row.level_policy_version),
        agent.is_active(),
        rank(agent.tier_rank),
        active.map(version),
    )
}

fn reasons_json(reasons: &[Reason]) -> Result<String> {
    serde_json::to_string(reasons)
        .map_err(|e| Error::Internal(format!("reasons do not serialise: {e}")))
}

fn active_policy(conn: &mut DbConnection) -> Result<(i64, LevelPolicy)> {
    let (row, levels) = policy::active(conn)?.ok_or_else(|| {
        Error::refuse(
            "no_level_policy",
            "no level policy is active: nothing to apply for",
        )
    })?;
    Ok((row.version, levels))
}

/// What an agent applies for.
#[derive(Debug, Clone, Default)]
pub struct ApplyInput {
    /// The tier key of the level.
    pub level: String,
    /// The path (index among the level's paths); default the first one needing approval met.
    pub path: Option<usize>,
    /// Its words to the approvers (升级资料), at most 500 characters.
    pub note: String,
}

/// The agent applies, at `at`. Refused unless it is active, has no other open application and
/// meets the claimed path now.
pub fn apply(
    conn: &mut DbConnection,
    actor: Actor,
    input: ApplyInput,
    at: NaiveDateTime,
) -> Result<LevelApplicationRow> {
    let me = the_agent(actor, "apply for a level")?;
    let day = day_of(at)?;
    let note = note_text(&input.note, false)?;
    let (active, levels) = active_policy(conn)?;
    let agent = agents_store::get(conn, me)?;
    if !agent.is_active() {
        return Err(Error::refuse(
            "agent_not_active",
            format!(
                "agent {me} is {}: only an active agent applies for a level",
                agent.status
            ),
        ));
    }
    if let Some(open) = store::open_of(conn, me)? {
        // An application whose ground moved is closed first: it no longer blocks a new one.
        match lapse_of(&open, &agent, Some(active)) {
            Some(l) => {
                store::close(
                    conn,
                    open.id,
                    open.status,
                    Status::Lapsed,
                    Some(l.as_str()),
                    at,
                )?;
            }
            None => return Err(refused(ApplicationError::AlreadyOpen(open.id))),
        }
    }
    let m = population::member(conn, &levels, day, agent)?;
    let offer = eligibility::claim(
        &levels,
        &m.level,
        &m.metrics,
        input.level.trim(),
        input.path,
    )
    .map_err(refused)?;
    let status =
        rules::first_status(offer.approval, m.agent.supplier_id.is_none()).map_err(refused)?;
    let row = store::insert(
        conn,
        &NewLevelApplication {
            agent_id: me,
            level_policy_version: active,
            from_rank: m.agent.tier_rank,
            to_rank: i32::from(offer.rank.0),
            level_key: offer.level_key.clone(),
            path_index: i32::try_from(offer.path).unwrap_or(i32::MAX),
            approval_mode: Stored(offer.approval),
            status: Stored(status),
            note,
            evidence: reasons_json(&offer.reasons)?,
            applied_on: day,
            created_at: at,
        },
    )?;
    audit::record(
        conn,
        actor.user(),
        "level.application.submit",
        &format!("level_application:{}", row.id),
        &serde_json::json!({ "level": row.level_key, "path": row.path_index,
            "status": row.status.as_str() }),
    )?;
    tracing::info!(application = row.id, agent = me, level = %row.level_key, "level application");
    Ok(row)
}

/// The applicant takes its open application back.
pub fn withdraw(
    conn: &mut DbConnection,
    actor: Actor,
    id: i64,
    at: NaiveDateTime,
) -> Result<LevelApplicationRow> {
    let me = the_agent(actor, "withdraw a level application")?;
    day_of(at)?;
    let row = store::get(conn, id)?;
    if row.agent_id != me {
        return Err(Error::Forbidden(
            "only the applicant withdraws its application".into(),
        ));
    }
    let Step::To(to) = rules::withdraw(row.status).map_err(refused)? else {
        return Ok(row);
    };
    if !store::close(conn, id, row.status, to, None, at)? {
        return Err(Error::refuse(
            "changed_meanwhile",
            format!("level application {id} was decided meanwhile"),
        ));
    }
    audit::record(
        conn,
        actor.user(),
        "level.application.withdraw",
        &format!("level_application:{id}"),
        &serde_json::json!({ "from": row.status.as_str() }),
    )?;
    Ok(store::get(conn, id)?)
}

/// A decision: the applicant's supplier in the first stage of two-stage approval, HQ admin
/// otherwise. HQ's approval changes the level. A reject says why (`note`).
pub fn decide(
    conn: &mut DbConnection,
    actor: Actor,
    id: i64,
    approve: bool,
    note: &str,
    at: NaiveDateTime,
) -> Result<LevelApplicationRow> {
    let caller = match actor {
        Actor::Agent { agent, .. } => Caller::Agent(agent),
        other => {
            other.require_hq(DECIDERS, "decide level applications")?;
            Caller::Hq
        }
    };
    let day = day_of(at)?;
    let row = store::get(conn, id)?;
    let status = row.status;
    let applicant = agents_store::get(conn, row.agent_id)?;
    let by = rules::stage_of(caller, applicant.id, applicant.supplier_id).map_err(refused)?;
    let hq_supplies = applicant.supplier_id.is_none();
    let step =
        rules::step(status, last_decision(&row), by, approve, hq_supplies).map_err(refused)?;
    let Step::To(next) = step else {
        return Ok(row);
    };
    let note = note_text(note, !approve)?;
    let active = policy::active(conn)?;
    if let Some(l) = lapse_of(&row, &applicant, active.as_ref().map(|(r, _)| r.version)) {
        return Err(Error::refuse(
            "application_lapsed",
            format!(
                "level application {id} has lapsed: {}; nothing was decided",
                l.render(Lang::En)
            ),
        ));
    }
    let approval = match (&active, next) {
        (Some((_, levels)), Status::Approved) => {
            let m = population::member(conn, levels, day, applicant.clone())?;
            let supplier_first = row.supplier_approved == Some(true);
            let path = usize::try_from(row.path_index).unwrap_or(usize::MAX);
            let decision = eligibility::approval(
                levels,
                &m.level,
                &m.metrics,
                rank(row.to_rank),
                path,
                supplier_first,
                day,
            )
            .ok_or_else(|| {
                Error::Internal(format!(
                    "level application {id}: its path is not in the policy"
                ))
            })?;
            Some((m, decision))
        }
        _ => None,
    };
    let saved = Decided {
        from: status,
        to: next,
        supplier: match by {
            Decider::Supplier => applicant.supplier_id,
            Decider::Hq => None,
        },
        by: actor.user(),
        approved: approve,
        note: note.as_deref(),
        at,
        evidence: approval
            .as_ref()
            .map(|(_, d)| reasons_json(&d.reasons))
            .transpose()?,
    };
    if !store::decide(conn, id, &saved)? {
        return Err(Error::refuse(
            "changed_meanwhile",
            format!("level application {id} was decided meanwhile"),
        ));
    }
    if let (Some((m, decision)), Some((_, levels))) = (approval, &active) {
        let (tier_row, _) = tier_policy::active(conn)?;
        apply_change(
            conn,
            levels,
            tier_row.version,
            &m.agent,
            m.state,
            &decision,
            day,
            Cause::Application,
        )?;
    }
    audit::record(
        conn,
        actor.user(),
        if approve {
            "level.application.approve"
        } else {
            "level.application.reject"
        },
        &format!("level_application:{id}"),
        &serde_json::json!({ "from": status.as_str(), "to": next.as_str(),
            "stage": if by == Decider::Supplier { "supplier" } else { "hq" } }),
    )?;
    Ok(store::get(conn, id)?)
}

/// Closes the agent's open application after its level changed another way.
pub fn lapse_open_of(conn: &mut DbConnection, agent: i64, at: NaiveDateTime) -> Result<()> {
    if let Some(open) = store::open_of(conn, agent)? {
        let why = Lapse::LevelChanged.as_str();
        store::close(conn, open.id, open.status, Status::Lapsed, Some(why), at)?;
    }
    Ok(())
}

/// Lapses every open application whose ground moved (agent suspended, level changed elsewhere,
/// e.g. a seed-004 top-up, another level policy active); returns how many. Run by the
/// assessment and by a policy's activation.
pub fn sweep(conn: &mut DbConnection, at: NaiveDateTime) -> Result<usize> {
    let active = policy::active(conn)?.map(|(r, _)| r.version);
    let mut lapsed = 0;
    for row in store::open_all(conn)? {
        let agent = agents_store::get(conn, row.agent_id)?;
        if let Some(l) = lapse_of(&row, &agent, active) {
            if store::close(
                conn,
                row.id,
                row.status,
                Status::Lapsed,
                Some(l.as_str()),
                at,
            )? {
                lapsed += 1;
            }
        }
    }
    Ok(lapsed)
}
