//! Joining the network (DOMAIN §3): an agent's invitations (邀请码, a link `/join/{code}` that may
//! offer one tier), applications with a profile and the brand's custom fields, and their approval
//! — automatic, by HQ, or two-stage (the would-be supplier, then HQ) as the active policy says for
//! the tier. Approval creates the agent (pending until its entry order is paid) through
//! `network::agents::create`, with the inviter as referrer, and an `agent` account whose one-time
//! password is returned once.

pub mod applicant;
pub mod certificates;

use std::collections::BTreeMap;

use rand::RngCore;

use crate::accounts;
use crate::domain::Role;
use crate::domain::joining::{self as rules, Decider, FieldDef, JoinError, Profile, Status};
use crate::domain::network::placement;
use crate::error::{Error, Result};
use crate::network::{Actor, agents, policy};
use crate::store::joining::{self as store, ApplicationRow, Decided, InvitationRow};
use crate::store::network::agent_id;
use crate::store::network::agents::{self as agent_store, AgentRow};
use crate::store::typed::Stored;
use crate::store::users::{self, now};
use crate::store::{DbConnection, audit};

const ADMIN: &[Role] = &[Role::HqAdmin];

/// A random code of `bytes` bytes, lower-case base32 (no padding): for links and QR codes.
pub fn new_code(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    data_encoding::BASE32_NOPAD
        .encode(&buf)
        .to_ascii_lowercase()
}

fn refused(e: JoinError) -> Error {
    match e {
        JoinError::Field { .. } => Error::BadRequest(e.to_string()),
        JoinError::WrongState(..) => Error::refused(&e),
    }
}

/// The brand's custom fields, in form order.
pub fn fields(conn: &mut DbConnection) -> Result<Vec<FieldDef>> {
    store::fields(conn)?
        .into_iter()
        .map(|f| {
            let kind = rules::FieldKind::of(f.kind, &f.choices)
                .map_err(|e| Error::Internal(format!("stored field {}: {e}", f.field_key)))?;
            Ok(FieldDef {
                key: f.field_key,
                label_zh: f.label_zh,
                label_en: f.label_en,
                required: f.required,
                kind,
            })
        })
        .collect()
}

/// HQ adds a field to the application form.
pub fn add_field(conn: &mut DbConnection, actor: Actor, def: FieldDef) -> Result<()> {
    actor.require_hq(ADMIN, "define application fields")?;
    let choices = match &def.kind {
        rules::FieldKind::Choice(list) => list.join("\n"),
        _ => String::new(),
    };
    let position = i32::try_from(store::fields(conn)?.len()).unwrap_or(i32::MAX);
    store::insert_field(
        conn,
        &store::NewField {
            field_key: def.key.clone(),
            label_zh: def.label_zh,
            label_en: def.label_en,
            required: def.required,
            kind: Stored(def.kind.field_type()),
            choices,
            position,
            created_at: now(),
        },
    )?;
    Ok(audit::record(
        conn,
        actor.user(),
        "join.field.add",
        &def.key,
        &serde_json::json!({}),
    )?)
}

/// HQ removes a field; answers given already stay with their applications.
pub fn remove_field(conn: &mut DbConnection, actor: Actor, key: &str) -> Result<()> {
    actor.require_hq(ADMIN, "define application fields")?;
    if !store::delete_field(conn, key)? {
        return Err(Error::not_found("field"));
    }
    Ok(audit::record(
        conn,
        actor.user(),
        "join.field.remove",
        key,
        &serde_json::json!({}),
    )?)
}

/// A new invitation of `agent` (the agent itself, or HQ admin for any agent), optionally
/// offering one tier of the active policy. Only an active agent invites.
pub fn invite(
    conn: &mut DbConnection,
    actor: Actor,
    agent: i64,
    tier: Option<&str>,
) -> Result<InvitationRow> {
    match actor {
        Actor::Agent { agent: me, .. } if me == agent => {}
        other => other.require_hq(ADMIN, "invite for another agent")?,
    }
    let row = agent_store::get(conn, agent)?;
    if !row.is_active() {
        return Err(Error::refuse(
            "agent_not_active",
            format!(
                "agent {agent} is {}: only an active agent invites",
                row.status
            ),
        ));
    }
    let tier = tier.map(str::trim).filter(|t| !t.is_empty());
    let (_, p) = policy::active(conn)?;
    match tier {
        Some(t) if p.tier_by_key(t).is_none() => {
            return Err(Error::BadRequest(format!(
                "tier: {t:?} is not in the active policy"
            )));
        }
        Some(t)
            if matches!(actor, Actor::Agent { .. })
                && !p
                    .recruits(crate::network::book::tier(row.tier_rank))
                    .iter()
                    .any(|r| r.key == t) =>
        {
            return Err(Error::BadRequest(format!(
                "tier: the policy does not let this agent recruit {t:?}"
            )));
        }
        Some(_) => {}
        None if open_link_tiers(&p, row.tier_rank).is_empty() => {
            return Err(Error::BadRequest(
                "tier: a link that names no tier offers only tiers below the inviter's, and \
                 there is none: name the tier this link offers"
                    .into(),
            ));
        }
        None => {}
    }
    let inv = store::insert_invitation(
        conn,
        &store::NewInvitation {
            code: new_code(10),
            agent_id: agent,
            tier_key: tier.map(String::from),
            created_at: now(),
            created_by: actor.user(),
        },
    )?;
    tracing::info!(agent, invitation = inv.id, "invitation created");
    Ok(inv)
}

/// The tiers a link that names no tier offers, from an inviter at `inviter_rank`.
pub fn open_link_tiers(
    policy: &crate::domain::network::policy::Policy,
    inviter_rank: i32,
) -> Vec<&crate::domain::network::policy::Tier> {
    policy
        .tiers()
        .iter()
        .filter(|t| rules::open_link_offers(inviter_rank, t.rank.0.into()))
        .collect()
}

/// An invitation that can be used now, and who sent it.
pub fn open(conn: &mut DbConnection, code: &str) -> Result<(InvitationRow, AgentRow)> {
    let inv = store::invitation_by_code(conn, code.trim())?
        .filter(|i| i.revoked_at.is_none())
        .ok_or_else(|| Error::not_found("invitation"))?;
    let inviter = agent_store::get(conn, inv.agent_id)?;
    if !inviter.is_active() {
        return Err(Error::refuse(
            "inviter_not_active",
            "the agent who sent this invitation cannot invite now",
        ));
    }
    Ok((inv, inviter))
}

/// What an applicant fills in.
#[derive(Debug, Clone, Default)]
pub struct ApplicationInput {
    /// Tier key; ignored when the invitation offers one (and refused if it differs).
    pub tier: Option<String>,
    pub name: String,
    pub phone: String,
    pub region: String,
    pub id_number: String,
    pub fields: BTreeMap<String, String>,
}

/// An approved applicant: its agent and the account, with the password to hand over once.
#[derive(Debug, Clone)]
pub struct Approved {
    pub agent: AgentRow,
    pub username: String,
    pub password: String,
}

/// An application as it stands after a step, with the new agent if it was approved by it.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub application: ApplicationRow,
    pub approved: Option<Approved>,
}

/// Submits an application through invitation `code`. Bad input is refused before anything is
/// written; with automatic approval the agent is created at once.
pub fn apply(conn: &mut DbConnection, code: &str, input: ApplicationInput) -> Result<Outcome> {
    let (inv, inviter) = open(conn, code)?;
    let tier_key =
        rules::applied_tier(inv.tier_key.as_deref(), input.tier.as_deref()).map_err(refused)?;
    let (_, policy) = policy::active(conn)?;
    let tier = policy.tier_by_key(&tier_key).ok_or_else(|| {
        Error::BadRequest(format!("tier: {tier_key:?} is not in the active policy"))
    })?;
    if inv.tier_key.is_none() && !rules::open_link_offers(inviter.tier_rank, tier.rank.0.into()) {
        let offered: Vec<&str> = open_link_tiers(&policy, inviter.tier_rank)
            .iter()
            .map(|t| t.key.as_str())
            .collect();
        return Err(Error::BadRequest(format!(
            "tier: this invitation offers only tiers below the inviter's ({}); a higher or \
             equal tier needs a link that names it",
            offered.join(", ")
        )));
    }
    let profile = Profile::check(&input.name, &input.phone, &input.region, &input.id_number)
        .map_err(refused)?;
    let answers = rules::check_answers(&fields(conn)?, &input.fields).map_err(refused)?;
    check_newcomer(conn, &profile.phone, inviter.id)?;
    let chain: Vec<(i64, i32, bool)> = agent_store::with_ancestors(conn, inviter.id)?
        .iter()
        .map(|a| (a.id, a.tier_rank, a.is_active()))
        .collect();
    let supplier = rules::would_be_supplier(&chain, i32::from(tier.rank.0));
    let status = rules::initial_status(tier.approval, supplier.is_none());
    let row = store::insert_application(
        conn,
        &store::NewApplication {
            invitation_id: inv.id,
            referrer_id: inviter.id,
            supplier_id: supplier,
            tier_key: tier.key.clone(),
            approval_mode: Stored(tier.approval),
            name: profile.name,
            phone: profile.phone,
            region: profile.region,
            id_number: profile.id_number,
            fields: serde_json::to_string(&answers).map_err(|e| Error::Internal(e.to_string()))?,
            status: Stored(if status == Status::Approved {
                Status::AwaitingHq
            } else {
                status
            }),
            created_at: now(),
        },
    )?;
    tracing::info!(application = row.id, tier = %row.tier_key, status = status.as_str(), "application submitted");
    if status != Status::Approved {
        return Ok(Outcome {
            application: row,
            approved: None,
        });
    }
    let approved = approve_now(conn, &row, Status::AwaitingHq, None)?;
    Ok(Outcome {
        application: store::application(conn, row.id)?,
        approved: Some(approved),
    })
}

/// One person, one place: a phone number already signing in as an agent, or with an application
/// pending, is refused; when the inviter sits below that agent the refusal names the cycle it
/// would close (a referrer never changes, DOMAIN §3).
fn check_newcomer(conn: &mut DbConnection, phone: &str, inviter: i64) -> Result<()> {
    if let Some(user) = users::find_by_username(conn, &username_for(phone))? {
        if let Some(existing) = agent_store::by_user(conn, user.id)? {
            let mut graph = agents::graph_above(conn, inviter)?;
            graph.add(&existing);
            placement::check_referral(
                &graph.seen_by(agent_id(existing.id)),
                agent_id(existing.id),
                agent_id(inviter),
            )
            .map_err(crate::network::refused)?;
            return Err(Error::refuse(
                "phone_is_agent",
                format!(
                    "phone: already an agent (agent {}), whose referrer never changes",
                    existing.id
                ),
            ));
        }
        return Err(Error::refuse(
            "phone_has_account",
            "phone: this number has an account already",
        ));
    }
    if store::phone_taken(conn, phone)?.is_some() {
        return Err(Error::refuse(
            "phone_application_pending",
            "phone: an application with this number is pending",
        ));
    }
    Ok(())
}

/// The username an applicant signs in with: its phone's digits.
pub fn username_for(phone: &str) -> String {
    phone.trim_start_matches('+').to_string()
}

/// Decides an application: its would-be supplier in the first stage of two-stage approval, HQ
/// admin otherwise. HQ's approval creates the agent.
pub fn decide(
    conn: &mut DbConnection,
    actor: Actor,
    id: i64,
    approve: bool,
    reason: &str,
) -> Result<Outcome> {
    let row = store::application(conn, id)?;
    let status = row.status;
    let by = match actor {
        Actor::Agent { agent, .. } if row.supplier_id == Some(agent) => Decider::Supplier,
        Actor::Agent { .. } => {
            return Err(Error::Forbidden(
                "only the would-be supplier or HQ decides this application".into(),
            ));
        }
        other => {
            other.require(
                crate::domain::Permission::DecideApplications,
                "approve applications",
            )?;
            Decider::Hq
        }
    };
    let next = rules::decide(status, by, approve).map_err(refused)?;
    let reason = reason.trim();
    if !approve && reason.is_empty() {
        return Err(Error::BadRequest("reason: say why it is rejected".into()));
    }
    if reason.chars().count() > 500 {
        return Err(Error::BadRequest("reason: at most 500 characters".into()));
    }
    if next == Status::Approved {
        let approved = approve_now(conn, &row, status, actor.user())?;
        return Ok(Outcome {
            application: store::application(conn, id)?,
            approved: Some(approved),
        });
    }
    let saved = Decided {
        from: status,
        to: next,
        supplier_stage: by == Decider::Supplier,
        by: actor.user(),
        reason: (!reason.is_empty()).then_some(reason),
        at: now(),
    };
    if !store::set_status(conn, id, saved)? {
        return Err(Error::refuse(
            "changed_meanwhile",
            format!("application {id} was decided meanwhile"),
        ));
    }
    audit::record(
        conn,
        actor.user(),
        if approve {
            "join.approve"
        } else {
            "join.reject"
        },
        &format!("application:{id}"),
        &serde_json::json!({ "to": next.as_str() }),
    )?;
    Ok(Outcome {
        application: store::application(conn, id)?,
        approved: None,
    })
}

/// Marks the application approved (only if still in `from`), then creates the account and the
/// pending agent with the inviter as referrer.
fn approve_now(
    conn: &mut DbConnection,
    row: &ApplicationRow,
    from: Status,
    by: Option<i64>,
) -> Result<Approved> {
    let saved = Decided {
        from,
        to: Status::Approved,
        supplier_stage: false,
        by,
        reason: None,
        at: now(),
    };
    if !store::set_status(conn, row.id, saved)? {
        return Err(Error::refuse(
            "changed_meanwhile",
            format!("application {} was decided meanwhile", row.id),
        ));
    }
    let username = username_for(&row.phone);
    let (user, password) = accounts::create_user(conn, &username, &row.name, Role::Agent, None)?;
    let mut password =
        password.ok_or_else(|| Error::Internal("no one-time password was generated".into()))?;
    // An applicant that chose its password when applying signs in with it: the approver never
    // holds the new agent's credentials (issue 17).
    if let Some(chosen) = crate::store::agent_pages::chosen_password(conn, row.id)? {
        users::set_password(conn, user.id, &chosen, false)?;
        password = String::new();
    }
    let input = agents::NewAgentInput {
        name: row.name.clone(),
        tier: row.tier_key.clone(),
        referrer_id: Some(row.referrer_id),
        region: row.region.clone(),
        user_id: Some(user.id),
    };
    let agent = agents::create(conn, input, by)?;
    store::set_agent(conn, row.id, agent.id)?;
    audit::record(
        conn,
        by,
        "join.approve",
        &format!("application:{}", row.id),
        &serde_json::json!({ "agent": agent.id, "to": "approved" }),
    )?;
    tracing::info!(
        application = row.id,
        agent = agent.id,
        "application approved"
    );
    Ok(Approved {
        agent,
        username,
        password,
    })
}

/// The applications `actor` may decide now: HQ sees those awaiting HQ, an agent those awaiting it
/// as the would-be supplier.
pub fn queue(conn: &mut DbConnection, actor: Actor) -> Result<Vec<ApplicationRow>> {
    match actor {
        Actor::Agent { agent, .. } => Ok(store::applications_in(
            conn,
            Status::AwaitingSupplier,
            Some(agent),
            200,
        )?),
        other => {
            other.require_hq(&[Role::HqAdmin, Role::HqAuditor], "see applications")?;
            Ok(store::applications_in(conn, Status::AwaitingHq, None, 200)?)
        }
    }
}

/// The invitation link for `code` under the site's base URL.
pub fn join_url(base_url: &str, code: &str) -> String {
    format!("{base_url}/join/{code}")
}

/// The QR image (PNG) of an invitation link.
pub fn invitation_png(base_url: &str, code: &str) -> Result<Vec<u8>> {
    let options = codegen::label::LabelOptions::default();
    codegen::label::png::render_png(&join_url(base_url, code), code, &options)
        .map_err(|e| Error::Internal(format!("invitation QR: {e}")))
}
