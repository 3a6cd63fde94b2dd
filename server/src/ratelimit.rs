//! Rate limits (DOMAIN §6, §7): verifications per client address and per client and serial, a
//! stricter budget of wrong security codes per client and serial, sign-in attempts per client
//! and failed sign-ins per account, join applications and consumers' forms per client, and
//! consumers' sign-in codes sent and checked per client.
//!
//! Why nothing is limited per serial alone: a security code carries at least 60 bits, so
//! guessing one is hopeless at any rate a client is allowed, and a budget shared by every client
//! of a serial would only let a stranger lock the genuine consumer out (issue 15, item 9).
//! A client that spends its own budget is refused; no other client ever is.

use std::collections::HashMap;
use std::hash::Hash;
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

/// Failed sign-ins allowed per account (user name) per hour, from all addresses together, before
/// the account's sign-in is refused for a while: guessing from many addresses stays hopeless.
/// Only failures count, so a script that signs in often is never slowed down.
pub const LOGIN_FAILURES_PER_ACCOUNT_PER_HOUR: u32 = 20;

/// Applications to join (the public form behind an invitation link) per client address per
/// hour: a person fixing a refused form needs a few; a script filling an agent's queue needs many.
pub const JOIN_APPLICATIONS_PER_HOUR: u32 = 10;

/// Consumers' forms (joining an agent as a member, a reorder from an item's code) per client
/// address per hour: a shopper sends a few; a script filling agents' order lists is stopped.
pub const CONSUMER_FORMS_PER_HOUR: u32 = 30;

/// Sign-in codes a client address may have sent per hour (to any phones): each phone is also
/// limited by the codes stored for it (`marketing::sign_in::may_send`), so this stops one client
/// from texting many phones.
pub const CONSUMER_CODES_PER_HOUR: u32 = 10;

/// Sign-in codes a client address may submit per minute: a code allows five tries, and this
/// keeps one client from spending many phones' tries at speed.
pub const CONSUMER_CODE_CHECKS_PER_MINUTE: u32 = 10;

/// A budget of failures per key: once it is spent, the key is refused until the budget has
/// refilled enough for one more try. Success spends nothing.
struct Strikes<K: Hash + Eq + Clone> {
    budget: DefaultKeyedRateLimiter<K>,
    /// Keys whose budget ran out, and until when.
    locked: Mutex<HashMap<K, Instant>>,
}

impl<K: Hash + Eq + Clone> Strikes<K> {
    /// `n` failures per `period`, all of them allowed at once.
    fn new(n: u32, period: Duration) -> Strikes<K> {
        let n = NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(period / n.get())
            .unwrap_or_else(|| Quota::per_hour(n))
            .allow_burst(n);
        Strikes {
            budget: RateLimiter::keyed(quota),
            locked: Mutex::new(HashMap::new()),
        }
    }

    /// How long `key` must still wait, if it is locked.
    fn locked_for(&self, key: &K) -> Option<Duration> {
        let locked = self.locked.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        locked
            .get(key)
            .filter(|until| **until > now)
            .map(|until| until.saturating_duration_since(now))
    }

    /// Spends one failure of `key`'s budget; locks the key when it runs out.
    fn record(&self, key: &K, clock: &DefaultClock) {
        if let Err(not_until) = self.budget.check_key(key) {
            let wait = not_until.wait_time_from(clock.now());
            let mut locked = self.locked.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            if locked.len() > 100_000 {
                locked.retain(|_, until| *until > now);
            }
            locked.insert(key.clone(), now + wait);
        }
    }

    fn shrink(&self) {
        self.budget.retain_recent();
        let mut locked = self.locked.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        locked.retain(|_, until| *until > now);
    }
}

pub struct RateLimits {
    enabled: bool,
    per_client: DefaultKeyedRateLimiter<IpAddr>,
    /// Verifications of one serial by one client.
    per_client_serial: DefaultKeyedRateLimiter<(IpAddr, String)>,
    /// Wrong security codes of one client for one serial.
    wrong_codes: Strikes<(IpAddr, String)>,
    /// Staff sign-in attempts per client address, so passwords cannot be guessed at speed.
    login: DefaultKeyedRateLimiter<IpAddr>,
    /// Failed sign-ins per account (see [`LOGIN_FAILURES_PER_ACCOUNT_PER_HOUR`]).
    login_failures: Strikes<String>,
    /// Join applications per client address (see [`JOIN_APPLICATIONS_PER_HOUR`]).
    join: DefaultKeyedRateLimiter<IpAddr>,
    /// Consumers' member and reorder forms (see [`CONSUMER_FORMS_PER_HOUR`]).
    consumer: DefaultKeyedRateLimiter<IpAddr>,
    /// Consumers' sign-in codes sent (see [`CONSUMER_CODES_PER_HOUR`]).
    consumer_codes: DefaultKeyedRateLimiter<IpAddr>,
    /// Consumers' sign-in codes checked (see [`CONSUMER_CODE_CHECKS_PER_MINUTE`]).
    consumer_code_checks: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN))
}

impl RateLimits {
    pub fn new(settings: &RateLimitSettings) -> RateLimits {
        let hour = Duration::from_secs(3600);
        RateLimits {
            enabled: settings.enabled,
            per_client: RateLimiter::keyed(per_minute(settings.per_client_per_minute)),
            per_client_serial: RateLimiter::keyed(per_minute(
                settings.per_client_serial_per_minute,
            )),
            wrong_codes: Strikes::new(settings.wrong_codes_per_client_serial_per_hour, hour),
            login: RateLimiter::keyed(per_minute(LOGIN_ATTEMPTS_PER_MINUTE)),
            login_failures: Strikes::new(LOGIN_FAILURES_PER_ACCOUNT_PER_HOUR, hour),
            join: RateLimiter::keyed(Quota::per_hour(
                NonZeroU32::new(JOIN_APPLICATIONS_PER_HOUR).unwrap_or(NonZeroU32::MIN),
            )),
            consumer: RateLimiter::keyed(Quota::per_hour(
                NonZeroU32::new(CONSUMER_FORMS_PER_HOUR).unwrap_or(NonZeroU32::MIN),
            )),
            consumer_codes: RateLimiter::keyed(Quota::per_hour(
                NonZeroU32::new(CONSUMER_CODES_PER_HOUR).unwrap_or(NonZeroU32::MIN),
            )),
            consumer_code_checks: RateLimiter::keyed(per_minute(CONSUMER_CODE_CHECKS_PER_MINUTE)),
            clock: DefaultClock::default(),
        }
    }

    fn limited(&self, wait: Duration) -> Error {
        Error::RateLimited {
            retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
        }
    }

    /// Counts one verification request; refuses it when the client, or the client for this
    /// serial, is over budget. Other clients' requests never count against it.
    pub fn check_verify(&self, client: IpAddr, serial: &str) -> Result<()> {
        if !self.enabled {
            return Ok(());
        }
        if let Err(not_until) = self.per_client.check_key(&client) {
            metrics::counter!("chainmark_rate_limited_total", "limit" => "client").increment(1);
            return Err(self.limited(not_until.wait_time_from(self.clock.now())));
        }
        if let Err(not_until) = self
            .per_client_serial
            .check_key(&(client, serial.to_string()))
        {
            metrics::counter!("chainmark_rate_limited_total", "limit" => "client_serial")
                .increment(1);
            return Err(self.limited(not_until.wait_time_from(self.clock.now())));
        }
        Ok(())
    }

    /// Refuses to look at a security code from a client that spent its wrong-code budget for
    /// this serial.
    pub fn check_code_allowed(&self, client: IpAddr, serial: &str) -> Result<()> {
        if !self.enabled {
            return Ok(());
        }
        match self.wrong_codes.locked_for(&(client, serial.to_string())) {
            Some(wait) => {
                metrics::counter!("chainmark_rate_limited_total", "limit" => "wrong_codes")
                    .increment(1);
                Err(self.limited(wait))
            }
            None => Ok(()),
        }
    }

    /// Spends one wrong try of the client's budget for `serial`; locks that pair when it runs out.
    pub fn record_wrong_code(&self, client: IpAddr, serial: &str) {
        if self.enabled {
            self.wrong_codes
                .record(&(client, serial.to_string()), &self.clock);
        }
    }

    /// Refuses a sign-in to an account whose failure budget is spent (before the password is
    /// even hashed). `account` is the user name as typed; unknown names are throttled alike, so
    /// the answer tells nothing about which names exist.
    pub fn check_account(&self, account: &str) -> Result<()> {
        if !self.enabled {
            return Ok(());
        }
        match self.login_failures.locked_for(&account_key(account)) {
            Some(wait) => {
                metrics::counter!("chainmark_rate_limited_total", "limit" => "account")
                    .increment(1);
                Err(self.limited(wait))
            }
            None => Ok(()),
        }
    }

    /// Spends one failed sign-in of `account`'s budget.
    pub fn record_failed_login(&self, account: &str) {
        if self.enabled {
            self.login_failures
                .record(&account_key(account), &self.clock);
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

    /// Counts one consumer's member or reorder form from `client`; refuses it when over budget.
    pub fn check_consumer_form(&self, client: IpAddr) -> Result<()> {
        self.check_client(&self.consumer, client, "consumer_form")
    }

    /// Counts one sign-in code sent at the request of `client`; refuses it when over budget.
    pub fn check_consumer_code_sent(&self, client: IpAddr) -> Result<()> {
        self.check_client(&self.consumer_codes, client, "consumer_code_sent")
    }

    /// Counts one sign-in code submitted by `client`; refuses it when over budget.
    pub fn check_consumer_code_checked(&self, client: IpAddr) -> Result<()> {
        self.check_client(&self.consumer_code_checks, client, "consumer_code_checked")
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
        self.per_client_serial.retain_recent();
        self.wrong_codes.shrink();
        self.login.retain_recent();
        self.login_failures.shrink();
        self.join.retain_recent();
        self.consumer.retain_recent();
        self.consumer_codes.retain_recent();
        self.consumer_code_checks.retain_recent();
    }
}

/// One key per account however the name is typed (sign-in trims it; names are ASCII).
fn account_key(account: &str) -> String {
    account.trim().to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(client: u32, serial: u32, wrong: u32) -> RateLimitSettings {
        RateLimitSettings {
            enabled: true,
            per_client_per_minute: client,
            per_client_serial_per_minute: serial,
            wrong_codes_per_client_serial_per_hour: wrong,
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
    fn a_serial_budget_is_per_client() {
        let limits = RateLimits::new(&settings(100, 2, 10));
        let ip: IpAddr = [10, 0, 0, 1].into();
        limits.check_verify(ip, "S").expect("1");
        limits.check_verify(ip, "S").expect("2");
        assert!(limits.check_verify(ip, "S").is_err());
        limits.check_verify(ip, "T").expect("other serial");
        limits
            .check_verify([10, 0, 0, 2].into(), "S")
            .expect("other client");
    }

    #[test]
    fn wrong_codes_lock_the_serial_for_that_client_only() {
        let limits = RateLimits::new(&settings(100, 100, 2));
        let ip: IpAddr = [10, 0, 0, 1].into();
        limits.check_code_allowed(ip, "S").expect("fresh");
        limits.record_wrong_code(ip, "S");
        limits.record_wrong_code(ip, "S");
        limits
            .check_code_allowed(ip, "S")
            .expect("budget of 2 spent but not exceeded");
        limits.record_wrong_code(ip, "S");
        assert!(matches!(
            limits.check_code_allowed(ip, "S"),
            Err(Error::RateLimited { .. })
        ));
        limits.check_code_allowed(ip, "T").expect("other serial");
        limits
            .check_code_allowed([10, 0, 0, 2].into(), "S")
            .expect("other client");
    }

    #[test]
    fn failed_sign_ins_lock_the_account_by_any_spelling() {
        let limits = RateLimits::new(&settings(100, 100, 2));
        for _ in 0..LOGIN_FAILURES_PER_ACCOUNT_PER_HOUR {
            limits.check_account("Alice").expect("within budget");
            limits.record_failed_login("Alice");
        }
        limits.check_account("alice").expect("spent, not exceeded");
        limits.record_failed_login(" alice ");
        assert!(matches!(
            limits.check_account("ALICE"),
            Err(Error::RateLimited { .. })
        ));
        limits.check_account("bob").expect("other account");
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
            limits.record_wrong_code([10, 0, 0, 1].into(), "S");
            limits
                .check_code_allowed([10, 0, 0, 1].into(), "S")
                .expect("lifted");
            limits.record_failed_login("a");
            limits.check_account("a").expect("lifted");
        }
    }
}
