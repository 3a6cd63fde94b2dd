//! A verification's place and whether it came from a bot, decided before the database is touched.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{Diversion, regions};
use crate::domain::diversion::bots::{self, BURST_WINDOW_SECS, BotReason};
use crate::domain::diversion::{Place, RegionCode, place};

/// Counts each client address's recent verifications, for the burst rule.
#[derive(Debug, Default)]
pub struct BurstMeter {
    seen: Mutex<HashMap<IpAddr, Vec<Instant>>>,
}

impl BurstMeter {
    /// Records one request from `client`; how many it made within the window, this one included.
    pub fn hit(&self, client: IpAddr) -> usize {
        let now = Instant::now();
        let window = Duration::from_secs(BURST_WINDOW_SECS);
        let Ok(mut seen) = self.seen.lock() else {
            return 1;
        };
        if seen.len() > 100_000 {
            seen.retain(|_, v| v.last().is_some_and(|t| now.duration_since(*t) < window));
        }
        let times = seen.entry(client).or_default();
        times.retain(|t| now.duration_since(*t) < window);
        times.push(now);
        times.len()
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
