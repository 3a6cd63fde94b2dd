//! The agent network's JSON API (`/api/v1/policy`, `/agents`, `/orders`, `/ledger`,
//! `/withdrawals`, `/statements`, `/settlement`). Thin: each handler resolves who is acting and
//! calls a use case of `crate::network`, which checks role and ownership itself.

mod agents;
mod ledger;
mod orders;
mod policy;
mod settlement;
mod tracking;
mod withdrawals;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;
use crate::auth::Caller;
use crate::domain::Role;
use crate::error::Result;
use crate::network::{Actor, agents as agent_cases};
use crate::store::DbConnection;

/// Every route of the network API.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(policy::active))
        .routes(routes!(policy::versions, policy::create))
        .routes(routes!(policy::validate))
        .routes(routes!(policy::activate))
        .routes(routes!(agents::list, agents::create))
        .routes(routes!(agents::me))
        .routes(routes!(agents::my_prices))
        .routes(routes!(agents::get))
        .routes(routes!(agents::suspend))
        .routes(routes!(agents::reinstate))
        .routes(routes!(agents::referrer))
        .routes(routes!(agents::upgrade_progress, agents::upgrade))
        .routes(routes!(orders::list, orders::submit))
        .routes(routes!(orders::get))
        .routes(routes!(orders::accept))
        .routes(routes!(orders::reject))
        .routes(routes!(orders::forward))
        .routes(routes!(orders::pay))
        .routes(routes!(orders::leg_paid))
        .routes(routes!(orders::ship))
        .routes(routes!(orders::receive))
        .routes(routes!(orders::cancel))
        .routes(routes!(orders::refund))
        .routes(routes!(orders::case))
        .routes(routes!(tracking::get, tracking::add))
        .routes(routes!(ledger::mine))
        .routes(routes!(ledger::agent))
        .routes(routes!(ledger::hq))
        .routes(routes!(withdrawals::list, withdrawals::request))
        .routes(routes!(withdrawals::approve))
        .routes(routes!(withdrawals::reject))
        .routes(routes!(withdrawals::paid))
        .routes(routes!(settlement::statement))
        .routes(routes!(settlement::statement_csv))
        .routes(routes!(settlement::generate))
        .routes(routes!(settlement::run))
}

/// Who the caller acts as: its agent, or HQ staff with its role.
pub fn actor_of(conn: &mut DbConnection, caller: &CallerId) -> Result<Actor> {
    Ok(match caller.role {
        Role::Agent => Actor::Agent {
            user: caller.user,
            agent: agent_cases::for_user(conn, caller.user)?.id,
        },
        role => Actor::Hq {
            user: caller.user,
            role,
        },
    })
}

/// The parts of a caller a database closure needs (it must be `'static`).
#[derive(Debug, Clone, Copy)]
pub struct CallerId {
    pub user: i64,
    pub role: Role,
}

impl From<&Caller> for CallerId {
    fn from(c: &Caller) -> Self {
        CallerId {
            user: c.user_id,
            role: c.role,
        }
    }
}

/// Serialises money as a decimal string ("760.00"): never a float.
pub fn yuan(cents: i64) -> String {
    crate::store::network::money(cents).to_string()
}

/// Serialises an amount as a decimal string with exactly two decimals ("0.00", "1320.00"),
/// whatever scale the `Decimal` carries (a computed zero has scale 0 and prints "0").
pub fn yuan_of(amount: rust_decimal::Decimal) -> String {
    let mut a =
        amount.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    a.rescale(2);
    a.to_string()
}
