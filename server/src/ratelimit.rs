//! Verification rate limits (DOMAIN §6, §7): per client address, per serial, and a stricter
//! budget of wrong security codes per serial, so guessing a code by brute force is hopeless even
//! from many addresses.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::RateLimitSettings;
use crate::error::{Error, Result};

/// Sign-in attempts (right or wrong) allowed per client address per minute: ample for a person
/// who mistypes, hopeless for guessing.
pub const LOGIN_ATTEMPTS_PER_MINUTE: u32 = 10;

/// Applications to join (the public form behind an invitation link) per client address per
/// hour: a person fixing a refused form needs a few; a script filling an agent's queue needs many.
pub const JOIN_APPLICATIONS_PER_HOUR: u32 = 10;

pub struct RateLimits {
    enabled: bool,
    per_client: DefaultKeyedRateLimiter<IpAddr>,
    per_serial: DefaultKeyedRateLimiter<String>,
    wrong_codes: DefaultKeyedRateLimiter<String>,
    /// Staff sign-in attempts per client address, so passwords cannot be guessed at speed.
    login: DefaultKeyedRateLimiter<IpAddr>,
    /// Join applications per client address (see [`JOIN_APPLICATIONS_PER_HOUR`]).
    join: DefaultKeyedRateLimiter<IpAddr>,
    /// Serials whose wrong-code budget ran out, and until when.
    locked: Mutex<HashMap<String, Instant>>,
    clock: DefaultClock,
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN))
}

impl RateLimits {
    pub fn new(settings: &RateLimitSettings) -> RateLimits {
        let wrong =
            NonZeroU32::new(settings.wrong_codes_per_serial_per_hour).unwrap_or(NonZeroU32::MIN);
        let wrong_quota = Quota::with_period(Duration::from_secs(3600) / wrong.get())
            .unwrap_or_else(|| Quota::per_hour(wrong))
            .allow_burst(wrong);
        RateLimits {
            enabled: settings.enabled,
            per_client: RateLimiter::keyed(per_minute(settings.per_client_per_minute)),
            per_serial: RateLimiter::keyed(per_minute(settings.per_serial_per_minute)),
            wrong_codes: RateLimiter::keyed(wrong_quota),
            login: RateLimiter::keyed(per_minute(LOGIN_ATTEMPTS_PER_MINUTE)),
            join: RateLimiter::keyed(Quota::per_hour(
                NonZeroU32::new(JOIN_APPLICATIONS_PER_HOUR).unwrap_or(NonZeroU32::MIN),
            )),
            locked: Mutex::new(HashMap::new()),
            clock: DefaultClock::default(),
        }
    }

    fn limited(&self, wait: Duration) -> Error {
        Error::RateLimited {
            retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
        }
    }

    /// Counts one verification request; refuses it when the client or the serial is over budget.
    pub fn check_verify(&self, client: IpAddr, serial: &str) -> Result<()> {
        if !self.enabled {
            return Ok(());
        }
        if let Err(not_until) = self.per_client.check_key(&client) {
            metrics::counter!("chainmark_rate_limited_total", "limit" => "client").increment(1);
            return Err(self.limited(not_until.wait_time_from(self.clock.now())));
        }
        if let Err(not_until) = self.per_serial.check_key(&serial.to_string()) {
            metrics::counter!("chainmark_rate_limited_total", "limit" => "serial").increment(1);
            return Err(self.limited(not_until.wait_time_from(self.clock.now())));
        }
        Ok(())
    }

    /// Refuses to look at a security code for a serial locked by too many wrong codes.
    pub fn check_code_allowed(&self, serial: &str) -> Result<()> {
        if !self.enabled {
            return Ok(());
        }
        let locked = self
            .locked
            .lock()
            .map_err(|_| Error::Internal("lock poisoned".into()))?;
        match locked.get(serial) {
            Some(until) if *until > Instant::now() => {
                metrics::counter!("chainmark_rate_limited_total", "limit" => "wrong_codes")
                    .increment(1);
                Err(self.limited(until.saturating_duration_since(Instant::now())))
            }
            _ => Ok(()),
        }
    }

    /// Spends one wrong try of `serial`'s budget; locks the serial when it runs out.
    pub fn record_wrong_code(&self, serial: &str) {
        if !self.enabled {
            return;
        }
        if let Err(not_until) = self.wrong_codes.check_key(&serial.to_string()) {
            let wait = not_until.wait_time_from(self.clock.now());
            if let Ok(mut locked) = self.locked.lock() {
                let now = Instant::now();
                if locked.len() > 100_000 {
                    locked.retain(|_, until| *until > now);
                }
                locked.insert(serial.to_string(), now + wait);
            }
        }
    }

    /// Counts one sign-in attempt from `client`; refuses it when the client is over budget.
    pub fn check_login(&self, client: IpAddr) -> Result<()> {
        self.check_client(&self.login, client, "login")
    }

    /// Counts one join application from `client`; refuses it when the client is over budget.
    pub fn check_join(&self, client: IpAddr) -> Result<()> {
        self.check_client(&self.join, client, "join")
    }

    fn check_client(
        &self,
        limiter: &DefaultKeyedRateLimiter<IpAddr>,
        client: IpAddr,
        limit: &'static str,
    ) -> Result<()> {
        if !self.enabled {
            return Ok(());
        }
        limiter.check_key(&client).map_err(|not_until| {
            metrics::counter!("chainmark_rate_limited_total", "limit" => limit).increment(1);
            self.limited(not_until.wait_time_from(self.clock.now()))
        })
    }

    /// Forgets keys that are back to a full budget; called now and then to bound memory.
    pub fn shrink(&self) {
        self.per_client.retain_recent();
        self.per_serial.retain_recent();
        self.wrong_codes.retain_recent();
        self.login.retain_recent();
        self.join.retain_recent();
        if let Ok(mut locked) = self.locked.lock() {
            let now = Instant::now();
            locked.retain(|_, until| *until > now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(client: u32, serial: u32, wrong: u32) -> RateLimitSettings {
        RateLimitSettings {
            enabled: true,
            per_client_per_minute: client,
            per_serial_per_minute: serial,
            wrong_codes_per_serial_per_hour: wrong,
        }
    }

    #[test]
    fn client_budget_runs_out_with_a_retry_time() {
        let limits = RateLimits::new(&settings(3, 100, 10));
        let ip: IpAddr = [10, 0, 0, 1].into();
        for i in 0..3 {
            limits
                .check_verify(ip, &format!("S{i}"))
                .expect("within budget");
        }
        match limits.check_verify(ip, "S9") {
            Err(Error::RateLimited { retry_after_secs }) => {
                assert!((1..=60).contains(&retry_after_secs))
            }
            other => panic!("expected rate limit, got {other:?}"),
        }
        // Another client is unaffected.
        limits
            .check_verify([10, 0, 0, 2].into(), "S9")
            .expect("other client");
    }

    #[test]
    fn serial_budget_is_shared_by_all_clients() {
        let limits = RateLimits::new(&settings(100, 2, 10));
        limits.check_verify([10, 0, 0, 1].into(), "S").expect("1");
        limits.check_verify([10, 0, 0, 2].into(), "S").expect("2");
        assert!(limits.check_verify([10, 0, 0, 3].into(), "S").is_err());
    }

    #[test]
    fn wrong_codes_lock_the_serial() {
        let limits = RateLimits::new(&settings(100, 100, 2));
        limits.check_code_allowed("S").expect("fresh");
        limits.record_wrong_code("S");
        limits.record_wrong_code("S");
        limits
            .check_code_allowed("S")
            .expect("budget of 2 spent but not exceeded");
        limits.record_wrong_code("S");
        assert!(matches!(
            limits.check_code_allowed("S"),
            Err(Error::RateLimited { .. })
        ));
        limits.check_code_allowed("T").expect("other serial");
    }

    #[test]
    fn disabled_limits_allow_everything() {
        let mut s = settings(1, 1, 1);
        s.enabled = false;
        let limits = RateLimits::new(&s);
        for _ in 0..10 {
            limits
                .check_verify([10, 0, 0, 1].into(), "S")
                .expect("lifted");
            limits.record_wrong_code("S");
            limits.check_code_allowed("S").expect("lifted");
        }
    }
}
