//! Reads (and the few writes) of HQ's desk pages: bounded, paged lists with search, and the
//! to-do counts of the landing pages. Every list takes an offset and a limit and fetches one row
//! more than it shows, so a page knows whether a next page exists without counting the table.

use std::collections::HashMap;

use diesel::prelude::*;

use crate::domain::joining::Status as ApplicationStatus;
use crate::domain::network::{OrderState, WithdrawalStatus};
use crate::typed::Stored;

use super::DbConnection;
use super::joining::ApplicationRow;
use super::network::statements::StatementRow;
use super::network::withdrawals::WithdrawalRow;
use super::schema::{
    agents, applications, diversion_alerts, monthly_statements, order_lines, products,
    restock_orders, users, withdrawals,
};
use super::users::User;
use super::warehouse::Shipment;
use crate::error::Result;

/// One page of a list: its rows and whether more follow.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub rows: Vec<T>,
    pub more: bool,
}

impl<T> Page<T> {
    /// The page of `rows` fetched with `limit + 1`.
    pub fn of_rows(rows: Vec<T>, limit: i64) -> Page<T> {
        Page::of(rows, limit)
    }

    fn of(mut rows: Vec<T>, limit: i64) -> Page<T> {
        let more = rows.len() as i64 > limit;
        rows.truncate(limit.max(0) as usize);
        Page { rows, more }
    }
}

/// `%text%` for LIKE, with LIKE's own wildcards taken literally.
pub(crate) fn contains(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// Withdrawals newest first, optionally of one status and one agent.
pub fn withdrawals(
    conn: &mut DbConnection,
    status: Option<WithdrawalStatus>,
    agent: Option<i64>,
    offset: i64,
    limit: i64,
) -> Result<Page<WithdrawalRow>> {
    let mut q = withdrawals::table
        .order(withdrawals::id.desc())
        .offset(offset)
        .limit(limit + 1)
        .select(WithdrawalRow::as_select())
        .into_boxed();
    if let Some(s) = status {
        q = q.filter(withdrawals::status.eq(Stored(s)));
    }
    if let Some(a) = agent {
        q = q.filter(withdrawals::agent_id.eq(a));
    }
    Ok(Page::of(q.load(conn)?, limit))
}

/// Users by name (user name or display name contains `search`), oldest first.
pub fn users(
    conn: &mut DbConnection,
    search: Option<&str>,
    offset: i64,
    limit: i64,
) -> Result<Page<User>> {
    let mut q = users::table
        .order(users::id)
        .offset(offset)
        .limit(limit + 1)
        .select(User::as_select())
        .into_boxed();
    if let Some(s) = search {
        let pattern = contains(s);
        q = q.filter(
            users::username
                .like(pattern.clone())
                .escape('\\')
                .or(users::display_name.like(pattern).escape('\\')),
        );
    }
    Ok(Page::of(q.load(conn)?, limit))
}

/// Disables or enables a user; false when there is no such user.
pub fn set_user_disabled(conn: &mut DbConnection, id: i64, disabled: bool) -> Result<bool> {
    let n = diesel::update(users::table.filter(users::id.eq(id)))
        .set(users::disabled.eq(disabled))
        .execute(conn)?;
    Ok(n == 1)
}

/// Applications in `status`, oldest first, whose name, phone or region contains `search`.
pub fn applications(
    conn: &mut DbConnection,
    status: ApplicationStatus,
    search: Option<&str>,
    offset: i64,
    limit: i64,
) -> Result<Page<ApplicationRow>> {
    let mut q = applications::table
        .filter(applications::status.eq(Stored(status)))
        .order(applications::id)
        .offset(offset)
        .limit(limit + 1)
        .select(ApplicationRow::as_select())
        .into_boxed();
    if let Some(s) = search {
        let pattern = contains(s);
        q = q.filter(
            applications::name
                .like(pattern.clone())
                .escape('\\')
                .or(applications::phone.like(pattern.clone()).escape('\\'))
                .or(applications::region.like(pattern).escape('\\')),
        );
    }
    Ok(Page::of(q.load(conn)?, limit))
}

/// The names of the agents `ids` (those that exist).
pub fn agent_names(conn: &mut DbConnection, ids: &[i64]) -> Result<HashMap<i64, String>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, String)> = agents::table
        .filter(agents::id.eq_any(ids))
        .select((agents::id, agents::name))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// What waits for HQ: the landing pages' to-do counts.
#[derive(Debug, Clone, Copy, Default)]
pub struct ToDo {
    pub applications: i64,
    pub withdrawals_requested: i64,
    pub withdrawals_approved: i64,
    pub alerts_open: i64,
    pub orders_to_ship: i64,
}

pub fn to_do(conn: &mut DbConnection) -> Result<ToDo> {
    Ok(ToDo {
        applications: applications::table
            .filter(applications::status.eq(Stored(ApplicationStatus::AwaitingHq)))
            .count()
            .get_result(conn)?,
        withdrawals_requested: withdrawals::table
            .filter(withdrawals::status.eq(Stored(WithdrawalStatus::Requested)))
            .count()
            .get_result(conn)?,
        withdrawals_approved: withdrawals::table
            .filter(withdrawals::status.eq(Stored(WithdrawalStatus::Approved)))
            .count()
            .get_result(conn)?,
        alerts_open: diversion_alerts::table
            .filter(
                diversion_alerts::status
                    .eq(Stored(crate::domain::diversion::alert::AlertStatus::Open)),
            )
            .count()
            .get_result(conn)?,
        orders_to_ship: restock_orders::table
            .filter(
                restock_orders::state
                    .eq_any([Stored(OrderState::Paid), Stored(OrderState::Shipping)]),
            )
            .count()
            .get_result(conn)?,
    })
}

/// The stored statements of `month`, by agent.
pub fn statements_of_month(
    conn: &mut DbConnection,
    month: &str,
    offset: i64,
    limit: i64,
) -> Result<Page<StatementRow>> {
    let rows = monthly_statements::table
        .filter(monthly_statements::month.eq(month))
        .order(monthly_statements::agent_id)
        .offset(offset)
        .limit(limit + 1)
        .select(StatementRow::as_select())
        .load(conn)?;
    Ok(Page::of(rows, limit))
}

/// One order as the pick list shows it, one row per line (the warehouse page's shipment rows),
/// whatever its state; empty when there is no such order.
pub fn shipment(conn: &mut DbConnection, order: i64) -> Result<Vec<Shipment>> {
    Ok(restock_orders::table
        .inner_join(agents::table.on(agents::id.eq(restock_orders::buyer_id)))
        .inner_join(order_lines::table.on(order_lines::order_id.eq(restock_orders::id)))
        .inner_join(products::table.on(products::id.eq(order_lines::product_id)))
        .filter(restock_orders::id.eq(order))
        .order(order_lines::position.asc())
        .select((
            restock_orders::id,
            restock_orders::state,
            agents::name,
            products::sku,
            order_lines::quantity,
            order_lines::shipped_quantity,
            restock_orders::shipper_kind,
            restock_orders::shipper_id,
            restock_orders::paid_at,
        ))
        .load(conn)?)
}
