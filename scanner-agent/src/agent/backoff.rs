//! Reconnect delays: doubling from a short first wait to a cap, with jitter so a warehouse of
//! handhelds that lost the same broker does not come back in one burst.

use std::time::Duration;

/// The delay before the next connection attempt.
#[derive(Debug, Clone)]
pub struct Backoff {
    first: Duration,
    cap: Duration,
    next: Duration,
    /// A cheap xorshift state: jitter needs spread, not secrecy.
    seed: u64,
}

impl Backoff {
    pub fn new(first: Duration, cap: Duration, seed: u64) -> Self {
        Backoff {
            first,
            cap,
            next: first,
            seed: seed | 1,
        }
    }

    /// The wait before the next attempt: the current step plus up to a quarter more.
    pub fn next_delay(&mut self) -> Duration {
        let base = self.next;
        self.next = (self.next * 2).min(self.cap);
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        let quarter = base.as_millis() as u64 / 4;
        base + Duration::from_millis(if quarter == 0 { 0 } else { self.seed % quarter })
    }

    /// A connection succeeded: start from the first step again.
    pub fn reset(&mut self) {
        self.next = self.first;
    }
}

#[cfg(test)]
mod tests {
    use super::Backoff;
    use std::time::Duration;

    #[test]
    fn doubles_to_the_cap_with_bounded_jitter_and_resets() {
        let ms = Duration::from_millis;
        let mut b = Backoff::new(ms(200), ms(3000), 42);
        let steps: Vec<u64> = (0..6).map(|_| b.next_delay().as_millis() as u64).collect();
        for (got, base) in steps.iter().zip([200u64, 400, 800, 1600, 3000, 3000]) {
            assert!(*got >= base && *got < base + base / 4 + 1, "{steps:?}");
        }
        b.reset();
        assert!(b.next_delay() < ms(251));
    }
}
