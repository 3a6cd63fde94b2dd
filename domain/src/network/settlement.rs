//! Settlement (DOMAIN §4–§5): orders auto-receive after the receive window and complete after the
//! return window (维权期) with no after-sale case open; completing unfreezes their earnings.
//! [`settle_completed`] is idempotent: a second run — or two overlapping runs — pays once, because
//! each completion is one posting under the key `order:{id}:complete`.

use chrono::{DateTime, Duration, Utc};

use super::OrderId;
use super::earnings::BookedOrder;
use super::ledger::{Applied, Ledger, LedgerError};
use super::order::OrderState;
use super::postings;

/// Shipped orders older than the receive window count as received (自动收货).
pub fn auto_receive_due(shipped_at: DateTime<Utc>, now: DateTime<Utc>, receive_days: u32) -> bool {
    now >= shipped_at + Duration::days(i64::from(receive_days))
}

/// Received orders complete once the return window has passed.
pub fn completion_due(received_at: DateTime<Utc>, now: DateTime<Utc>, return_days: u32) -> bool {
    now >= received_at + Duration::days(i64::from(return_days))
}

/// An order as settlement sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settleable {
    pub booked: BookedOrder,
    pub state: OrderState,
    pub received_at: Option<DateTime<Utc>>,
    /// Items refunded so far, per line.
    pub returned: Vec<u32>,
    /// An after-sale case (维权) is open: completion waits.
    pub open_case: bool,
}

impl Settleable {
    fn due(&self, now: DateTime<Utc>) -> bool {
        let waiting = matches!(
            self.state,
            OrderState::Received | OrderState::PartiallyRefunded
        );
        // A `Completed` order is settled again only to heal a crash between the state change and
        // the posting: the key makes it a no-op otherwise.
        let healed = self.state == OrderState::Completed;
        !self.open_case
            && (healed
                || waiting
                    && self
                        .received_at
                        .is_some_and(|at| completion_due(at, now, self.booked.return_days)))
    }
}

/// Books the completion of every due order; returns the orders newly settled (which the caller
/// moves to `Completed`). Running it again books nothing.
pub fn settle_completed(
    ledger: &mut Ledger,
    orders: &[Settleable],
    now: DateTime<Utc>,
) -> Result<Vec<OrderId>, LedgerError> {
    let mut settled = Vec::new();
    for o in orders.iter().filter(|o| o.due(now)) {
        // Settled before: a refund since then may change what `completion` would compute, but
        // the completion already booked is final (later refunds are their own postings).
        if ledger.contains(&postings::keys::complete(o.booked.order)) {
            continue;
        }
        // Nothing left to release (all returned): completed, with nothing to book.
        let Some(p) = postings::completion(&o.booked, &o.returned) else {
            continue;
        };
        if ledger.apply(p)? == Applied::Booked {
            settled.push(o.booked.order);
        }
    }
    Ok(settled)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + Duration::days(day)
    }

    #[test]
    fn windows_count_whole_days() {
        assert!(!auto_receive_due(at(0), at(9), 10));
        assert!(auto_receive_due(at(0), at(10), 10));
        assert!(!completion_due(at(10), at(16), 7));
        assert!(completion_due(at(10), at(17), 7));
    }
}
