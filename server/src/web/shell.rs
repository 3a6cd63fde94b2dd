//! The page shell of every signed-in page: the brand, navigation by role, the person, password
//! change, sign-out and the language switch, around the page's own body.
//!
//! Navigation is built from the same [`Permission`] each page's gate asks, so a role is never
//! shown a link it may not open ([`NAV`] and [`allowed`] are the one list). Agents get the phone
//! frame; HQ roles the desk frame (wide tables on a 1366 px screen).

use axum::extract::State;
use axum::response::Response;
use maud::{Markup, html};

use super::i18n::{Lang, Text};
use super::layout::{self, Width};
use super::staff::{self, see_other};
use crate::app::AppState;
use crate::auth::{Caller, MaybeCaller};
use crate::domain::{Permission, Role};

/// Where a role lands after signing in, and where "home" links lead.
pub fn home(role: Role) -> &'static str {
    match role {
        Role::HqAdmin => "/hq",
        // The money desk: HQ's accounts, withdrawals, statements, settlement.
        Role::HqFinance => "/hq/money",
        Role::HqAuditor => "/hq/audit",
        Role::Warehouse => "/warehouse",
        Role::Agent => "/agent",
    }
}

/// One entry of the navigation: where it leads, its words, and the permission its page asks.
pub struct NavItem {
    pub href: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
    pub needs: Permission,
}

/// Every page reachable from the navigation, in the order shown.
pub const NAV: &[NavItem] = &[
    NavItem {
        href: "/agent",
        zh: "首页",
        en: "Home",
        needs: Permission::AgentPortal,
    },
    NavItem {
        href: "/agent/orders",
        zh: "订单",
        en: "Orders",
        needs: Permission::AgentPortal,
    },
    NavItem {
        href: "/agent/retail",
        zh: "零售",
        en: "Retail",
        needs: Permission::AgentPortal,
    },
    NavItem {
        href: "/agent/money",
        zh: "钱包",
        en: "Money",
        needs: Permission::AgentPortal,
    },
    NavItem {
        href: "/agent/team",
        zh: "团队",
        en: "Team",
        needs: Permission::AgentPortal,
    },
    NavItem {
        href: "/agent/levels",
        zh: "我的等级",
        en: "My level",
        needs: Permission::AgentPortal,
    },
    NavItem {
        href: "/hq",
        zh: "总览",
        en: "Overview",
        needs: Permission::HqConsole,
    },
    NavItem {
        href: "/hq/network",
        zh: "代理网络",
        en: "Network",
        needs: Permission::HqConsole,
    },
    NavItem {
        href: "/hq/import",
        zh: "导入网络",
        en: "Import network",
        needs: Permission::ImportNetwork,
    },
    NavItem {
        href: "/hq/policy",
        zh: "价格政策",
        en: "Tier policy",
        needs: Permission::ManagePolicy,
    },
    NavItem {
        href: "/hq/levels",
        zh: "等级考核",
        en: "Levels",
        needs: Permission::ReadPolicy,
    },
    NavItem {
        href: "/hq/audit",
        zh: "防串货稽查",
        en: "Audit",
        needs: Permission::ReadSightings,
    },
    NavItem {
        href: "/warehouse",
        zh: "仓库",
        en: "Warehouse",
        needs: Permission::ReadDevices,
    },
    // HQ's desk (issue 18).
    NavItem {
        href: "/hq/orders",
        zh: "订单",
        en: "Orders",
        needs: Permission::ReadOrders,
    },
    NavItem {
        href: "/hq/agents",
        zh: "代理",
        en: "Agents",
        needs: Permission::ReadAgents,
    },
    NavItem {
        href: "/hq/money",
        zh: "资金",
        en: "Money",
        needs: Permission::MoneyDesk,
    },
    NavItem {
        href: "/hq/applications",
        zh: "入驻申请",
        en: "Applications",
        needs: Permission::ReadApplications,
    },
    NavItem {
        href: "/hq/products",
        zh: "商品",
        en: "Products",
        needs: Permission::ReadRegistry,
    },
    NavItem {
        href: "/hq/batches",
        zh: "批次与标签",
        en: "Batches",
        needs: Permission::ManageRegistry,
    },
    // Scan marketing (issue 21).
    NavItem {
        href: "/hq/marketing",
        zh: "扫码营销",
        en: "Scan marketing",
        needs: Permission::ReadCampaigns,
    },
    NavItem {
        href: "/hq/marketing/payouts",
        zh: "红包发放",
        en: "Cash payouts",
        needs: Permission::PayRewards,
    },
    NavItem {
        href: "/hq/staff",
        zh: "员工账号",
        en: "Staff",
        needs: Permission::ManageUsers,
    },
    NavItem {
        href: "/hq/devices",
        zh: "手持终端",
        en: "Handhelds",
        needs: Permission::ManageDevices,
    },
];

/// The navigation a role sees.
pub fn allowed(role: Role) -> impl Iterator<Item = &'static NavItem> {
    NAV.iter().filter(move |item| role.allows(item.needs))
}

/// A role in words (never the internal key).
pub fn role_name(lang: Lang, role: Role) -> &'static str {
    let (zh, en) = match role {
        Role::HqAdmin => ("总部管理员", "HQ administrator"),
        Role::HqFinance => ("总部财务", "HQ finance"),
        Role::HqAuditor => ("总部稽查", "HQ auditor"),
        Role::Warehouse => ("仓库", "Warehouse"),
        Role::Agent => ("代理", "Agent"),
    };
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
    }
}

/// A signed-in page. `here` is the page's path (the current navigation entry); `switch_href`
/// is this page in the other language.
pub fn page(
    lang: Lang,
    caller: &Caller,
    here: &str,
    title: &str,
    switch_href: Option<&str>,
    body: Markup,
) -> Markup {
    let width = if caller.role == Role::Agent {
        Width::Phone
    } else {
        Width::Desk
    };
    let current = current_entry(caller.role, here);
    let bar = html! {
        nav.shell id="shell" aria-label=(tr(lang, "导航", "Navigation")) {
            a.brand href=(home(caller.role)) { "chainmark" }
            @for item in allowed(caller.role) {
                @let label = tr(lang, item.zh, item.en);
                @if Some(item.href) == current {
                    a href=(item.href) aria-current="page" { (label) }
                } @else {
                    a href=(item.href) { (label) }
                }
            }
            span.who id="shell-who" {
                (caller.display_name) " · " (role_name(lang, caller.role))
            }
            a href="/account/password" id="shell-password" { (lang.t(Text::ChangePassword)) }
            @if let Some(href) = switch_href {
                a href=(href) hreflang=(lang.other().code()) id="shell-lang" { (lang.t(Text::Language)) }
            }
            form.signout method="post" action="/logout" {
                input type="hidden" name="csrf" value=(caller.csrf());
                button type="submit" id="shell-signout" { (lang.t(Text::SignOut)) }
            }
        }
    };
    layout::frame(lang, title, width, bar, None, body)
}

/// The navigation entry a path belongs to: the longest entry that is the path or a parent of it.
fn current_entry(role: Role, here: &str) -> Option<&'static str> {
    let path = here.split(['?', '#']).next().unwrap_or(here);
    allowed(role)
        .map(|item| item.href)
        .filter(|href| path == *href || path.starts_with(&format!("{href}/")))
        .max_by_key(|href| href.len())
}

/// `GET /home`: the signed-in person's home, or sign-in first.
pub async fn go_home(State(state): State<AppState>, MaybeCaller(caller): MaybeCaller) -> Response {
    let lang = Lang::Zh;
    match staff::gate(&state, lang, caller, "/home").await {
        Ok(caller) => see_other(home(caller.role)),
        Err(redirect) => redirect,
    }
}

fn tr(lang: Lang, zh: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_home_is_a_page_its_role_may_open() {
        for role in Role::ALL {
            let home = home(role);
            let item = NAV.iter().find(|i| i.href == home);
            let item = item.unwrap_or_else(|| panic!("{home} is not in the navigation"));
            assert!(
                role.allows(item.needs),
                "{role:?} may not open its home {home}"
            );
        }
    }

    #[test]
    fn agents_see_only_agent_pages_and_hq_roles_none_of_them() {
        for role in Role::ALL {
            for item in allowed(role) {
                assert_eq!(
                    item.href.starts_with("/agent"),
                    role == Role::Agent,
                    "{role:?} sees {}",
                    item.href
                );
            }
        }
    }

    #[test]
    fn the_current_entry_is_the_longest_parent() {
        assert_eq!(
            current_entry(Role::Agent, "/agent/levels?lang=en"),
            Some("/agent/levels")
        );
        assert_eq!(
            current_entry(Role::Agent, "/agent/orders/7"),
            Some("/agent/orders")
        );
        assert_eq!(current_entry(Role::Agent, "/agent/upgrade"), Some("/agent"));
        assert_eq!(
            current_entry(Role::HqAdmin, "/hq/audit/alerts/3"),
            Some("/hq/audit")
        );
        assert_eq!(current_entry(Role::Agent, "/hq/levels"), None);
        assert_eq!(current_entry(Role::Warehouse, "/hq/levels"), Some("/hq"));
    }
}
