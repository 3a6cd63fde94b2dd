//! Roles (DOMAIN §1) and what each may do.

use serde::{Deserialize, Serialize};

/// Who a signed-in user is to the system.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::AsRefStr,
    strum::EnumIter,
)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 总部管理员: products, batches, users, approvals.
    HqAdmin,
    /// 总部财务: settlement and withdrawals.
    HqFinance,
    /// 总部稽查: sightings, diversion alerts, traces.
    HqAuditor,
    /// 仓库: packing and shipping scans.
    Warehouse,
    /// 代理: an agent of the network.
    Agent,
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::HqAdmin,
        Role::HqFinance,
        Role::HqAuditor,
        Role::Warehouse,
        Role::Agent,
    ];

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(s: &str) -> Option<Role> {
        s.parse().ok()
    }

    /// Staff of the brand itself, as opposed to agents.
    pub fn is_hq(self) -> bool {
        !matches!(self, Role::Agent)
    }
}

/// How a signed-in user holds their token (`api_tokens.kind`): a bearer token of the API, or
/// the cookie of a page session (which has a CSRF token beside it).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::AsRefStr,
    strum::EnumIter,
)]
#[strum(serialize_all = "snake_case")]
pub enum TokenKind {
    Api,
    Session,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(s: &str) -> Option<TokenKind> {
        s.parse().ok()
    }
}

/// What a route needs of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Create users, products; import, void, recall batches.
    ManageRegistry,
    /// Read the registry: products, batches, items.
    ReadRegistry,
    /// Read verification sightings.
    ReadSightings,
    /// Move items out of HQ custody (release for sale).
    MoveStock,
    /// Manage user accounts.
    ManageUsers,
    /// Register, re-key and revoke warehouse handhelds; see their secrets.
    ManageDevices,
    /// See devices, their status and scans (the warehouse page).
    ReadDevices,
    /// Export the custody history as GS1 EPCIS documents (traceability).
    ExportTraceability,
    /// See every restock order of the network (HQ's view; an agent sees its own through the
    /// order rules).
    ReadOrders,
    /// Read HQ's ledger accounts and any agent's ledger.
    ReadHqLedger,
    /// See and decide agents' withdrawal requests (money leaving HQ).
    DecideWithdrawals,
    /// Read the tier policy's versions and documents.
    ReadPolicy,
    /// Validate, write and activate tier policy versions.
    ManagePolicy,
    /// Open HQ's console pages (`/hq`, `/hq/network`): every HQ role; what each part shows is
    /// asked of the other permissions.
    HqConsole,
    /// Use the agent portal (`/agent`): own orders, team and money. Agents only; HQ staff act on
    /// agents through HQ's pages.
    AgentPortal,
    /// See the applications waiting for HQ (`/hq/applications`); deciding them is asked of the
    /// joining use case (HQ admin).
    ReadApplications,
    /// HQ's money desk (`/hq/money`): HQ's accounts, withdrawals, statements, the settlement run.
    MoneyDesk,
    /// Approve or reject applications at HQ's stage.
    DecideApplications,
    /// See any agent's profile, orders and money (`/hq/agents`): HQ's readers.
    ReadAgents,
    /// Suspend, reinstate, correct the referrer of an agent.
    ManageAgents,
    /// Bring a network in from a previous system (`/hq/import`, `chainmark import network`):
    /// creates agents with accounts and books opening balances, so HQ admin only.
    ImportNetwork,
    /// The warehouse's label printers and their queue (`/warehouse/printers`): add printers,
    /// print waybill labels of HQ's shipments, cancel and reprint.
    Print,
    /// See scan-marketing campaigns, their dashboards and payouts (`/hq/marketing`): every HQ
    /// desk role (admin, finance, audit).
    ReadCampaigns,
    /// Create campaigns and start, pause or end them: the money they promise is HQ's decision.
    ManageCampaigns,
    /// Export the cash owed to consumers as a payout batch and mark it paid (money leaving HQ).
    PayRewards,
}

impl Role {
    pub fn allows(self, permission: Permission) -> bool {
        use Permission::*;
        use Role::*;
        match permission {
            ManageRegistry | ManageUsers => self == HqAdmin,
            ReadRegistry => matches!(self, HqAdmin | HqAuditor | HqFinance | Warehouse),
            ReadSightings => matches!(self, HqAdmin | HqAuditor),
            MoveStock => matches!(self, HqAdmin | Warehouse),
            ManageDevices => self == HqAdmin,
            ReadDevices => matches!(self, HqAdmin | HqAuditor | Warehouse),
            ExportTraceability => matches!(self, HqAdmin | HqAuditor),
            ReadOrders => matches!(self, HqAdmin | HqFinance | HqAuditor | Warehouse),
            ReadHqLedger | ReadPolicy => matches!(self, HqAdmin | HqFinance | HqAuditor),
            DecideWithdrawals => matches!(self, HqAdmin | HqFinance),
            ManagePolicy => self == HqAdmin,
            HqConsole => self.is_hq(),
            AgentPortal => self == Agent,
            ReadApplications => matches!(self, HqAdmin | HqAuditor),
            MoneyDesk => matches!(self, HqAdmin | HqFinance),
            DecideApplications => self == HqAdmin,
            ReadAgents => matches!(self, HqAdmin | HqFinance | HqAuditor),
            ManageAgents => self == HqAdmin,
            ImportNetwork => self == HqAdmin,
            Print => matches!(self, HqAdmin | Warehouse),
            ReadCampaigns => matches!(self, HqAdmin | HqFinance | HqAuditor),
            ManageCampaigns => self == HqAdmin,
            PayRewards => matches!(self, HqAdmin | HqFinance),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn token_kinds_keep_their_stored_names() {
        use super::TokenKind;
        crate::pin_stored_names(
            &[(TokenKind::Api, "api"), (TokenKind::Session, "session")],
            TokenKind::as_str,
            TokenKind::parse,
        );
    }

    use super::*;

    #[test]
    fn names_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn agents_see_nothing_of_hq() {
        for p in [
            Permission::ManageRegistry,
            Permission::ReadRegistry,
            Permission::ReadSightings,
            Permission::MoveStock,
            Permission::ManageUsers,
            Permission::ManageDevices,
            Permission::ReadDevices,
            Permission::ExportTraceability,
            Permission::ReadOrders,
            Permission::ReadHqLedger,
            Permission::DecideWithdrawals,
            Permission::ReadPolicy,
            Permission::ManagePolicy,
            Permission::ImportNetwork,
        ] {
            assert!(!Role::Agent.allows(p), "{p:?}");
            assert!(Role::HqAdmin.allows(p), "{p:?}");
        }
        assert!(!Role::Warehouse.allows(Permission::ReadSightings));
        assert!(Role::HqAuditor.allows(Permission::ReadSightings));
    }

    #[test]
    fn only_hq_money_roles_see_money_leave() {
        for role in Role::ALL {
            let money = matches!(role, Role::HqAdmin | Role::HqFinance);
            assert_eq!(
                role.allows(Permission::DecideWithdrawals),
                money,
                "{role:?}"
            );
        }
        assert!(!Role::Warehouse.allows(Permission::ReadHqLedger));
        assert!(Role::Warehouse.allows(Permission::ReadOrders));
        assert!(!Role::HqAuditor.allows(Permission::ManagePolicy));
    }

    #[test]
    fn campaigns_are_read_by_hq_made_by_admin_and_paid_by_finance() {
        for role in Role::ALL {
            let desk = matches!(role, Role::HqAdmin | Role::HqFinance | Role::HqAuditor);
            assert_eq!(role.allows(Permission::ReadCampaigns), desk, "{role:?}");
            assert_eq!(
                role.allows(Permission::ManageCampaigns),
                role == Role::HqAdmin,
                "{role:?}"
            );
            assert_eq!(
                role.allows(Permission::PayRewards),
                matches!(role, Role::HqAdmin | Role::HqFinance),
                "{role:?}"
            );
        }
    }
}

#[cfg(test)]
mod strum_names {
    use super::*;

    #[test]
    fn stored_names_of_role() {
        crate::pin_stored_names(
            &[
                (Role::HqAdmin, "hq_admin"),
                (Role::HqFinance, "hq_finance"),
                (Role::HqAuditor, "hq_auditor"),
                (Role::Warehouse, "warehouse"),
                (Role::Agent, "agent"),
            ],
            Role::as_str,
            Role::parse,
        );
    }
}
