//! The agent network's use cases (DOMAIN §2–§5): each loads what a rule of
//! `domain::network` needs through `store::network`, applies the rule, and saves the outcome, in
//! one transaction (a savepoint inside the caller's, e.g. `Db::write`). The API, the jobs and (for
//! `ship` scans) the device ingest call these; none of them holds a rule of its own.
//!
//! Who may act is checked here too, on [`Actor`], so every caller gets the same answer.

pub mod agents;
pub mod book;
pub mod jobs;
pub mod ledger;
pub mod orders;
pub mod payment;
pub mod policy;
pub mod policy_review;
pub mod refunds;
pub mod scan_ship;
pub mod settlement;
pub mod shipping;
pub mod statements;
pub mod tracking;
pub mod upgrade;
pub mod views;
pub mod withdrawals;

use crate::domain::Role;
use crate::domain::network::Party;
use crate::error::{Error, Result};
use crate::store::network::agent_id;

/// Who is acting: HQ staff with a role, or the agent a signed-in agent account belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    Hq {
        user: i64,
        role: Role,
    },
    Agent {
        user: i64,
        agent: i64,
    },
    /// A scheduled job or the command line.
    System,
}

impl Actor {
    pub fn user(self) -> Option<i64> {
        match self {
            Actor::Hq { user, .. } | Actor::Agent { user, .. } => Some(user),
            Actor::System => None,
        }
    }

    /// Acting for `party`: that agent itself, or for HQ one of `roles` (or the system).
    pub fn require_party(self, party: Party, roles: &[Role], what: &str) -> Result<()> {
        let ok = match (self, party) {
            (Actor::System, _) => true,
            (Actor::Agent { agent, .. }, Party::Agent(a)) => agent_id(agent) == a,
            (Actor::Hq { role, .. }, Party::Hq) => roles.contains(&role),
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            Err(Error::Forbidden(format!(
                "only {} may {what}",
                book::who(party)
            )))
        }
    }

    /// HQ staff whose role grants `permission` (or the system): the one check of a resource,
    /// made alike by the API and the pages (`domain::Role::allows`).
    pub fn require(self, permission: crate::domain::Permission, what: &str) -> Result<()> {
        match self {
            Actor::System => Ok(()),
            Actor::Hq { role, .. } if role.allows(permission) => Ok(()),
            Actor::Hq { role, .. } => Err(Error::Forbidden(format!(
                "role {} may not {what}",
                role.as_str()
            ))),
            Actor::Agent { .. } => Err(Error::Forbidden(format!("only HQ may {what}"))),
        }
    }

    /// Whether [`Actor::require`] would let this actor through.
    pub fn may(self, permission: crate::domain::Permission) -> bool {
        self.require(permission, "").is_ok()
    }

    /// HQ staff with one of `roles` (or the system).
    pub fn require_hq(self, roles: &[Role], what: &str) -> Result<()> {
        match self {
            Actor::System => Ok(()),
            Actor::Hq { role, .. } if roles.contains(&role) => Ok(()),
            _ => Err(Error::Forbidden(format!(
                "only HQ ({}) may {what}",
                roles
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }
}

/// HQ roles that sell and ship for HQ.
pub const HQ_SELLERS: &[Role] = &[Role::HqAdmin, Role::HqFinance, Role::Warehouse];
/// HQ roles that decide about money.
pub const HQ_MONEY: &[Role] = &[Role::HqAdmin, Role::HqFinance];

/// A domain rule's refusal as a client error: the input or the state did not allow it (409 with
/// the rule's own code).
pub(crate) fn refused(e: impl crate::domain::Refusal) -> Error {
    Error::refused(&e)
}
