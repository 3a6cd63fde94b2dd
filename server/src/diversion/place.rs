//! A verification's place and whether it came from a bot, decided before the database is touched.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{Diversion, regions};
use crate::domain::diversion::bots::{self, BURST_LIMIT, BURST_WINDOW_SECS, BotReason};
use crate::domain::diversion::{Place, RegionCode, place};

/// Counts each client address's recent verifications, for the burst rule.
///
/// The rule only asks whether a client made more than [`BURST_LIMIT`] requests in the window, so
/// each client keeps at most that many times: memory and work per request stay constant however
/// fast one client asks (keeping every time made a busy client's requests linear in its rate).
#[derive(Debug)]
pub struct BurstMeter {
    seen: Mutex<Clients>,
}

#[derive(Debug)]
struct Clients {
    times: HashMap<IpAddr, Vec<Instant>>,
    /// Forget quiet clients when the map grows past this; doubles with the live population so
    /// the sweep stays rare.
    sweep_at: usize,
}

const SWEEP_FLOOR: usize = 100_000;

impl Default for BurstMeter {
    fn default() -> BurstMeter {
        BurstMeter {
            seen: Mutex::new(Clients {
                times: HashMap::new(),
                sweep_at: SWEEP_FLOOR,
            }),
        }
    }
}

impl BurstMeter {
    /// Records one request from `client`; how many it made within the window, this one included,
    /// counted up to `BURST_LIMIT + 1`.
    pub fn hit(&self, client: IpAddr) -> usize {
        let now = Instant::now();
        let window = Duration::from_secs(BURST_WINDOW_SECS);
        let Ok(mut seen) = self.seen.lock() else {
            return 1;
        };
        let recent = |t: &Instant| now.duration_since(*t) < window;
        if seen.times.len() > seen.sweep_at {
            seen.times.retain(|_, v| v.last().is_some_and(recent));
            seen.sweep_at = SWEEP_FLOOR.max(seen.times.len() * 2);
        }
        let times = seen.times.entry(client).or_default();
        times.retain(recent);
        if times.len() > BURST_LIMIT {
            // Oldest first: keep the newest BURST_LIMIT, so with this one the count is still over.
            times.drain(..times.len() - BURST_LIMIT);
        }
        times.push(now);
        times.len()
    }

    /// Times kept for `client` (for tests of the bound).
    #[cfg(test)]
    fn kept(&self, client: IpAddr) -> usize {
        self.seen
            .lock()
            .map(|s| s.times.get(&client).map_or(0, Vec::len))
            .unwrap_or(0)
    }
}

/// Where a verification was and whether it counts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Located {
    pub place: Option<Place>,
    pub bot: Option<BotReason>,
}

/// Places a verification from what the request carries. `picked` must be a code in the book
/// (checked by the caller, which refuses anything else).
pub fn locate(
    d: &Diversion,
    client: IpAddr,
    user_agent: Option<&str>,
    browser: Option<(f64, f64)>,
    picked: Option<RegionCode>,
) -> Located {
    let recent = d.bursts.hit(client);
    let bot = bots::bot_reason(user_agent, recent);
    let by_address = d.ip_regions.lookup(client);
    Located {
        place: place::locate(regions(), browser, picked, by_address),
        bot,
    }
}

/// A picked region from a form or body: empty is none; anything else must be a known code.
pub fn picked_region(raw: Option<&str>) -> crate::error::Result<Option<RegionCode>> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => regions().known(s).map(Some).ok_or_else(|| {
            crate::error::Error::BadRequest(format!(
                "region {s:?} is not a GB/T 2260 code of a province, city or district"
            ))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_counted_with_bounded_memory() {
        let meter = BurstMeter::default();
        let busy: IpAddr = [198, 51, 100, 1].into();
        let counts: Vec<usize> = (0..BURST_LIMIT + 1).map(|_| meter.hit(busy)).collect();
        assert_eq!(counts, (1..=BURST_LIMIT + 1).collect::<Vec<_>>());
        for _ in 0..100_000 {
            assert!(
                bots::bot_reason(Some("Mozilla/5.0"), meter.hit(busy)) == Some(BotReason::Burst)
            );
        }
        assert!(meter.kept(busy) <= BURST_LIMIT + 1);
        // Another client starts from one.
        assert_eq!(meter.hit([198, 51, 100, 2].into()), 1);
    }
}
