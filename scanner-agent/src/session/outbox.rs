//! Which journaled scans wait for the server, which are in flight on this connection, and which
//! to publish next. Only sequence numbers are held (the events stay on disk), so 100,000 unsent
//! scans cost a few MB.

use std::collections::{BTreeMap, BTreeSet};

/// The send bookkeeping of one device.
#[derive(Debug, Clone)]
pub struct Outbox {
    /// Journaled, no final answer yet.
    pending: BTreeSet<u64>,
    /// Published on this connection and not answered: seq → when last published (ms).
    in_flight: BTreeMap<u64, u64>,
    /// Answered with a protocol failure on this connection: kept, not sent again until the
    /// next connection.
    held: BTreeSet<u64>,
    /// The highest seq published on this connection (0: none yet); later pending seqs are next.
    cursor: u64,
    /// At most this many in flight: acks, not PUBACKs, open the window.
    window: usize,
}

impl Outbox {
    /// An outbox over the journal's pending seqs; `window` is at least 1.
    pub fn new(pending: impl IntoIterator<Item = u64>, window: usize) -> Self {
        Outbox {
            pending: pending.into_iter().collect(),
            in_flight: BTreeMap::new(),
            held: BTreeSet::new(),
            cursor: 0,
            window: window.max(1),
        }
    }

    /// A newly journaled scan.
    pub fn add(&mut self, seq: u64) {
        self.pending.insert(seq);
    }

    /// A final answer: forget `seq`. Returns whether it was pending.
    pub fn finish(&mut self, seq: u64) -> bool {
        self.in_flight.remove(&seq);
        self.held.remove(&seq);
        self.pending.remove(&seq)
    }

    /// A protocol-failure answer: keep `seq` but stop sending it on this connection. Returns
    /// whether it was pending.
    pub fn hold(&mut self, seq: u64) -> bool {
        self.in_flight.remove(&seq);
        let pending = self.pending.contains(&seq);
        if pending {
            self.held.insert(seq);
        }
        pending
    }

    /// A new connection: everything pending is sent again, oldest first.
    pub fn connected(&mut self) {
        self.in_flight.clear();
        self.held.clear();
        self.cursor = 0;
    }

    /// The connection is gone: nothing is in flight any more (rumqttc drops its queue on a
    /// clean-session reconnect, and the broker may have lost what it had).
    pub fn disconnected(&mut self) {
        self.in_flight.clear();
        self.cursor = 0;
    }

    /// A publish that never left (the client's queue refused it): send it again in order.
    pub fn unsend(&mut self, seq: u64) {
        if self.in_flight.remove(&seq).is_some() {
            self.cursor = self.cursor.min(seq.saturating_sub(1));
        }
    }

    /// Fills the window from the oldest unsent pending seq; appends what to publish to `out`.
    pub fn fill(&mut self, now_ms: u64, out: &mut Vec<u64>) {
        while self.in_flight.len() < self.window {
            let next = self
                .pending
                .range(self.cursor.saturating_add(1)..)
                .find(|seq| !self.held.contains(seq) && !self.in_flight.contains_key(seq))
                .copied();
            let Some(seq) = next else { break };
            self.cursor = seq;
            self.in_flight.insert(seq, now_ms);
            out.push(seq);
        }
    }

    /// In-flight seqs published at least `after_ms` ago, oldest first, marked as published now:
    /// the server never answered (it may have been down while the broker was up, and the
    /// message went to no one), so they are sent again. A resend is always safe: the server
    /// answers a seq it already applied with `duplicate`.
    pub fn due(&mut self, now_ms: u64, after_ms: u64, out: &mut Vec<u64>) {
        for (seq, sent) in self.in_flight.iter_mut() {
            if now_ms.saturating_sub(*sent) >= after_ms {
                *sent = now_ms;
                out.push(*seq);
            }
        }
    }

    /// Whether `seq` waits for a final answer.
    pub fn is_pending(&self, seq: u64) -> bool {
        self.pending.contains(&seq)
    }

    /// Scans waiting for a final answer.
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// Scans published on this connection and not answered.
    pub fn in_flight_len(&self) -> usize {
        self.in_flight.len()
    }

    /// Pending scans held after a protocol-failure answer.
    pub fn held_len(&self) -> usize {
        self.held.len()
    }
}

#[cfg(test)]
mod tests {
    use super::Outbox;

    fn fill(o: &mut Outbox) -> Vec<u64> {
        let mut out = Vec::new();
        o.fill(0, &mut out);
        out
    }

    #[test]
    fn window_oldest_first_and_resend_on_reconnect() {
        let mut o = Outbox::new([5, 3, 9, 4], 2);
        o.connected();
        assert_eq!(fill(&mut o), [3, 4]);
        assert_eq!(fill(&mut o), Vec::<u64>::new(), "window full");
        assert!(o.finish(3));
        assert_eq!(fill(&mut o), [5]);
        o.disconnected();
        o.connected();
        assert_eq!(fill(&mut o), [4, 5], "everything pending again");
    }

    #[test]
    fn held_until_next_connection() {
        let mut o = Outbox::new([1, 2], 5);
        o.connected();
        assert_eq!(fill(&mut o), [1, 2]);
        assert!(o.hold(1));
        assert_eq!(fill(&mut o), Vec::<u64>::new());
        assert_eq!(
            (o.pending_len(), o.held_len(), o.in_flight_len()),
            (2, 1, 1)
        );
        o.connected();
        assert_eq!(fill(&mut o), [1, 2]);
    }

    #[test]
    fn due_resends_only_old_ones() {
        let mut o = Outbox::new([1], 5);
        o.connected();
        let mut out = Vec::new();
        o.fill(100, &mut out);
        o.add(2);
        o.fill(150, &mut out);
        assert_eq!(out, [1, 2]);
        out.clear();
        o.due(160, 50, &mut out);
        assert_eq!(out, [1]);
        out.clear();
        o.due(200, 50, &mut out);
        assert_eq!(out, [2], "1 was just resent");
    }

    #[test]
    fn unsend_puts_it_back_in_order() {
        let mut o = Outbox::new([1, 2, 3], 3);
        o.connected();
        assert_eq!(fill(&mut o), [1, 2, 3]);
        o.unsend(2);
        assert_eq!(fill(&mut o), [2]);
    }
}
