//! HQ's orders desk (`/hq/orders`, issue 18): every restock order of the network in tabs by
//! state, with search (order number, buyer's name, product name or SKU) and a range of placing
//! times. One query per page on the indexed columns; the lines, legs and names of a page are
//! loaded for all its orders at once by the callers (`network::views::summaries`,
//! [`super::desk::agent_names`]).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::domain::network::OrderState;
use crate::error::Result;
use crate::store::DbConnection;
use crate::store::desk::Page;
use crate::store::network::orders::OrderRow;
use crate::store::schema::{agents, order_lines, products, restock_orders};
use crate::typed::Stored;

/// The tabs of HQ's order list, each a set of states (after-sale also takes any order with an
/// open case, whatever its state).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderTab {
    All,
    /// Submitted: waiting for the seller's answer.
    ToAnswer,
    /// Accepted or forwarded: waiting for the buyer's payment.
    ToPay,
    /// Paid or being shipped.
    ToShip,
    Shipped,
    /// Received (return window open) or completed.
    Done,
    /// Refunded in part or in full, or with an open after-sale case.
    AfterSale,
    /// Rejected or cancelled.
    Closed,
}

impl OrderTab {
    pub const ALL: [OrderTab; 8] = [
        OrderTab::All,
        OrderTab::ToAnswer,
        OrderTab::ToPay,
        OrderTab::ToShip,
        OrderTab::Shipped,
        OrderTab::Done,
        OrderTab::AfterSale,
        OrderTab::Closed,
    ];

    /// The tab's query value.
    pub fn param(self) -> &'static str {
        match self {
            OrderTab::All => "all",
            OrderTab::ToAnswer => "answer",
            OrderTab::ToPay => "pay",
            OrderTab::ToShip => "ship",
            OrderTab::Shipped => "shipped",
            OrderTab::Done => "done",
            OrderTab::AfterSale => "aftersale",
            OrderTab::Closed => "closed",
        }
    }

    /// The tab a query value names; all for anything else.
    pub fn parse(s: Option<&str>) -> OrderTab {
        OrderTab::ALL
            .into_iter()
            .find(|t| Some(t.param()) == s)
            .unwrap_or(OrderTab::All)
    }

    /// The states the tab shows; `None`: all.
    pub fn states(self) -> Option<&'static [OrderState]> {
        use OrderState as S;
        match self {
            OrderTab::All => None,
            OrderTab::ToAnswer => Some(&[S::Submitted]),
            OrderTab::ToPay => Some(&[S::Accepted, S::Forwarded]),
            OrderTab::ToShip => Some(&[S::Paid, S::Shipping]),
            OrderTab::Shipped => Some(&[S::Shipped]),
            OrderTab::Done => Some(&[S::Received, S::Completed]),
            OrderTab::AfterSale => Some(&[S::PartiallyRefunded, S::Refunded]),
            OrderTab::Closed => Some(&[S::Rejected, S::Cancelled]),
        }
    }
}

/// What HQ's order list is narrowed to.
#[derive(Debug, Clone)]
pub struct OrderFilter {
    pub tab: OrderTab,
    /// An order number (`123` or `#123`), or part of the buyer's name or of a product's name or
    /// SKU.
    pub text: Option<String>,
    /// Placed at or after (UTC).
    pub from: Option<NaiveDateTime>,
    /// Placed before (UTC).
    pub until: Option<NaiveDateTime>,
}

fn like(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// Orders matching `f`, newest first: with ids below `before` (0: from the newest), then
/// skipping `offset`, at most `limit` (and whether more follow). The page skips by offset; the
/// CSV export walks by `before` so rows placed meanwhile neither repeat nor shift it.
pub fn orders(
    conn: &mut DbConnection,
    f: &OrderFilter,
    before: i64,
    offset: i64,
    limit: i64,
) -> Result<Page<OrderRow>> {
    let mut q = restock_orders::table
        .order(restock_orders::id.desc())
        .offset(offset)
        .limit(limit + 1)
        .select(OrderRow::as_select())
        .into_boxed();
    if before > 0 {
        q = q.filter(restock_orders::id.lt(before));
    }
    if let Some(states) = f.tab.states() {
        let states: Vec<Stored<OrderState>> = states.iter().copied().map(Stored).collect();
        q = if f.tab == OrderTab::AfterSale {
            // One OR inside the tab's own condition: `or_filter` would OR with every filter.
            q.filter(
                restock_orders::state
                    .eq_any(states)
                    .or(restock_orders::open_case.eq(true)),
            )
        } else {
            q.filter(restock_orders::state.eq_any(states))
        };
    }
    if let Some(from) = f.from {
        q = q.filter(restock_orders::created_at.ge(from));
    }
    if let Some(until) = f.until {
        q = q.filter(restock_orders::created_at.lt(until));
    }
    if let Some(text) = f.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        q = match text.trim_start_matches('#').parse::<i64>() {
            Ok(number) => q.filter(restock_orders::id.eq(number)),
            Err(_) => {
                let pattern = like(text);
                let buyers = agents::table
                    .filter(agents::name.like(pattern.clone()).escape('\\'))
                    .select(agents::id);
                let goods = products::table
                    .filter(
                        products::name
                            .like(pattern.clone())
                            .escape('\\')
                            .or(products::sku.like(pattern).escape('\\')),
                    )
                    .select(products::id);
                q.filter(
                    restock_orders::buyer_id
                        .eq_any(buyers)
                        .or(restock_orders::id.eq_any(
                            order_lines::table
                                .filter(order_lines::product_id.eq_any(goods))
                                .select(order_lines::order_id),
                        )),
                )
            }
        };
    }
    Ok(Page::of_rows(q.load(conn)?, limit))
}
