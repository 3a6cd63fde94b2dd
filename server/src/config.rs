//! Settings: read once at start from an optional TOML file, then from `CHAINMARK_*` environment
//! variables, which win. Every setting has a default that suits the single-machine set-up.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Address to listen on (`CHAINMARK_LISTEN`).
    pub listen: SocketAddr,
    /// `sqlite://path/to/file.db`, a bare path, or `postgres://…` (`CHAINMARK_DATABASE_URL`).
    pub database_url: String,
    /// Connections in the pool (`CHAINMARK_DATABASE_POOL_SIZE`).
    pub database_pool_size: u32,
    /// Master key files that batches may be signed under (`CHAINMARK_KEY_FILES`, comma separated).
    pub key_files: Vec<PathBuf>,
    /// Where batches made on HQ's desk are written, with their code packs (`CHAINMARK_DATA_DIR`;
    /// unset: the folder of the first key file, as `chainmark demo` lays it out).
    pub data_dir: Option<PathBuf>,
    /// The public URL the codes were printed with, without a trailing slash (`CHAINMARK_BASE_URL`).
    pub base_url: String,
    /// The brand as consumers and agents read it on pages and certificates
    /// (`CHAINMARK_BRAND_NAME`; empty: the host of `base_url`).
    pub brand_name: String,
    /// The brand's service hotline shown to consumers (`CHAINMARK_BRAND_HOTLINE`; empty: none).
    pub brand_hotline: String,
    /// The brand's logo on the consumer's pages: an `https://` URL or a path on this site, such
    /// as a product picture's (`CHAINMARK_BRAND_LOGO_URL`; empty: the name alone).
    pub brand_logo_url: String,
    /// Lifetime of API bearer tokens in hours (`CHAINMARK_TOKEN_TTL_HOURS`).
    pub token_ttl_hours: u32,
    /// Lifetime of web sessions in hours (`CHAINMARK_SESSION_TTL_HOURS`).
    pub session_ttl_hours: u32,
    /// Trust `X-Forwarded-For` for the client address: only behind a proxy you run
    /// (`CHAINMARK_TRUST_PROXY`).
    pub trust_proxy: bool,
    /// HQ sells direct to consumers, so items still in HQ custody verify as genuine
    /// (`CHAINMARK_HQ_SELLS_DIRECT`, DOMAIN §7).
    pub hq_sells_direct: bool,
    /// Largest request body accepted, in bytes (`CHAINMARK_MAX_BODY_BYTES`).
    pub max_body_bytes: usize,
    pub rate_limit: RateLimitSettings,
    /// Devices: broker, topics, device key (`[mqtt]`).
    pub mqtt: crate::ingest::MqttSettings,
    /// Diversion audit: IP-to-region file, verification ceiling (`[diversion]`).
    pub diversion: crate::diversion::DiversionSettings,
    /// The courier adapter asked for shipments' tracks (`CHAINMARK_COURIER`: `none` or `demo`).
    pub courier: crate::network::tracking::CourierChoice,
    /// How consumers' sign-in codes are sent (`CHAINMARK_SMS`: `log`, the only sender so far,
    /// writes them to the log).
    pub sms: crate::sms::SmsChoice,
    /// Seconds after which a scan-marketing lease its server stopped renewing is taken for
    /// left behind and given back by another instance (`CHAINMARK_MARKETING_LEASE_STALE_SECS`;
    /// `marketing::STALE` by default). Longer than any pause a live server could take.
    pub marketing_lease_stale_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitSettings {
    /// Off only for benchmarks (`CHAINMARK_RATE_LIMIT_ENABLED`).
    pub enabled: bool,
    /// Verifications per client address per minute (`CHAINMARK_RATE_LIMIT_PER_CLIENT`).
    pub per_client_per_minute: u32,
    /// Verifications of one serial by one client per minute (`CHAINMARK_RATE_LIMIT_PER_SERIAL`;
    /// `per_serial_per_minute` is its former name). Never shared between clients: see
    /// `ratelimit.rs`.
    #[serde(alias = "per_serial_per_minute")]
    pub per_client_serial_per_minute: u32,
    /// Wrong security codes allowed per client and serial per hour before that client is
    /// throttled for that serial (`CHAINMARK_RATE_LIMIT_WRONG_CODES`;
    /// `wrong_codes_per_serial_per_hour` is its former name).
    #[serde(alias = "wrong_codes_per_serial_per_hour")]
    pub wrong_codes_per_client_serial_per_hour: u32,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        RateLimitSettings {
            enabled: true,
            per_client_per_minute: 30,
            per_client_serial_per_minute: 20,
            wrong_codes_per_client_serial_per_hour: 10,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: "sqlite://chainmark.db".into(),
            database_pool_size: 8,
            key_files: Vec::new(),
            data_dir: None,
            base_url: "http://127.0.0.1:8080".into(),
            brand_name: String::new(),
            brand_hotline: String::new(),
            brand_logo_url: String::new(),
            token_ttl_hours: 12,
            session_ttl_hours: 12,
            trust_proxy: false,
            hq_sells_direct: false,
            max_body_bytes: 64 * 1024,
            rate_limit: RateLimitSettings::default(),
            mqtt: crate::ingest::MqttSettings::default(),
            diversion: crate::diversion::DiversionSettings::default(),
            courier: crate::network::tracking::CourierChoice::None,
            sms: crate::sms::SmsChoice::Log,
            marketing_lease_stale_secs: crate::marketing::STALE.as_secs(),
        }
    }
}

impl Settings {
    /// The brand's name for people: the setting, else the host the codes were printed with.
    pub fn brand(&self) -> String {
        let name = self.brand_name.trim();
        if !name.is_empty() {
            return name.to_string();
        }
        self.base_url
            .split("://")
            .nth(1)
            .unwrap_or(&self.base_url)
            .split(['/', ':'])
            .next()
            .unwrap_or("")
            .to_string()
    }

    /// The folder batches made on the desk go to (`batches/` inside it): `data_dir`, else the
    /// folder of the first key file; `None` when neither is set.
    pub fn data_folder(&self) -> Option<PathBuf> {
        self.data_dir.clone().or_else(|| {
            self.key_files.first().map(|k| {
                k.parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
            })
        })
    }

    /// The brand's logo address, if one is set.
    pub fn brand_logo(&self) -> Option<&str> {
        Some(self.brand_logo_url.trim()).filter(|l| !l.is_empty())
    }

    /// Loads `file` (if given) and then applies the environment.
    pub fn load(file: Option<&Path>) -> Result<Settings> {
        let mut settings = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    Error::Config(format!("cannot read config file {}: {e}", path.display()))
                })?;
                toml::from_str(&text)
                    .map_err(|e| Error::Config(format!("config file {}: {e}", path.display())))?
            }
            None => Settings::default(),
        };
        settings.apply_env(|name| std::env::var(name).ok())?;
        settings.validate()?;
        Ok(settings)
    }

    /// Applies `CHAINMARK_*` variables through `get`, so tests can pass a map.
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<()> {
        fn parse<T: std::str::FromStr>(name: &str, value: String) -> Result<T> {
            value
                .trim()
                .parse()
                .map_err(|_| Error::Config(format!("{name}={value:?} is not a valid value")))
        }
        if let Some(v) = get("CHAINMARK_LISTEN") {
            self.listen = parse("CHAINMARK_LISTEN", v)?;
        }
        if let Some(v) = get("CHAINMARK_DATABASE_URL") {
            self.database_url = v;
        }
        if let Some(v) = get("CHAINMARK_DATABASE_POOL_SIZE") {
            self.database_pool_size = parse("CHAINMARK_DATABASE_POOL_SIZE", v)?;
        }
        if let Some(v) = get("CHAINMARK_KEY_FILES") {
            self.key_files = v
                .split(',')
                .filter(|s| !s.is_empty())
                .map(PathBuf::from)
                .collect();
        }
        if let Some(v) = get("CHAINMARK_DATA_DIR").filter(|v| !v.trim().is_empty()) {
            self.data_dir = Some(PathBuf::from(v));
        }
        if let Some(v) = get("CHAINMARK_BASE_URL") {
            self.base_url = v;
        }
        if let Some(v) = get("CHAINMARK_BRAND_NAME") {
            self.brand_name = v;
        }
        if let Some(v) = get("CHAINMARK_BRAND_HOTLINE") {
            self.brand_hotline = v;
        }
        if let Some(v) = get("CHAINMARK_BRAND_LOGO_URL") {
            self.brand_logo_url = v;
        }
        if let Some(v) = get("CHAINMARK_TOKEN_TTL_HOURS") {
            self.token_ttl_hours = parse("CHAINMARK_TOKEN_TTL_HOURS", v)?;
        }
        if let Some(v) = get("CHAINMARK_SESSION_TTL_HOURS") {
            self.session_ttl_hours = parse("CHAINMARK_SESSION_TTL_HOURS", v)?;
        }
        if let Some(v) = get("CHAINMARK_TRUST_PROXY") {
            self.trust_proxy = parse("CHAINMARK_TRUST_PROXY", v)?;
        }
        if let Some(v) = get("CHAINMARK_HQ_SELLS_DIRECT") {
            self.hq_sells_direct = parse("CHAINMARK_HQ_SELLS_DIRECT", v)?;
        }
        if let Some(v) = get("CHAINMARK_COURIER") {
            self.courier = v
                .parse()
                .map_err(|e| Error::Config(format!("CHAINMARK_COURIER: {e}")))?;
        }
        if let Some(v) = get("CHAINMARK_SMS") {
            self.sms = v
                .parse()
                .map_err(|e| Error::Config(format!("CHAINMARK_SMS: {e}")))?;
        }
        if let Some(v) = get("CHAINMARK_MARKETING_LEASE_STALE_SECS") {
            self.marketing_lease_stale_secs = parse("CHAINMARK_MARKETING_LEASE_STALE_SECS", v)?;
            if self.marketing_lease_stale_secs == 0 {
                return Err(Error::Config(
                    "CHAINMARK_MARKETING_LEASE_STALE_SECS: at least 1 second".into(),
                ));
            }
        }
        if let Some(v) = get("CHAINMARK_MAX_BODY_BYTES") {
            self.max_body_bytes = parse("CHAINMARK_MAX_BODY_BYTES", v)?;
        }
        let rl = &mut self.rate_limit;
        if let Some(v) = get("CHAINMARK_RATE_LIMIT_ENABLED") {
            rl.enabled = parse("CHAINMARK_RATE_LIMIT_ENABLED", v)?;
        }
        if let Some(v) = get("CHAINMARK_RATE_LIMIT_PER_CLIENT") {
            rl.per_client_per_minute = parse("CHAINMARK_RATE_LIMIT_PER_CLIENT", v)?;
        }
        if let Some(v) = get("CHAINMARK_RATE_LIMIT_PER_SERIAL") {
            rl.per_client_serial_per_minute = parse("CHAINMARK_RATE_LIMIT_PER_SERIAL", v)?;
        }
        if let Some(v) = get("CHAINMARK_RATE_LIMIT_WRONG_CODES") {
            rl.wrong_codes_per_client_serial_per_hour =
                parse("CHAINMARK_RATE_LIMIT_WRONG_CODES", v)?;
        }
        self.mqtt.apply_env(&get)?;
        self.diversion.apply_env(&get)?;
        Ok(())
    }

    pub fn validate(&self) -> Result<()> {
        if self.base_url.ends_with('/') {
            return Err(Error::Config(format!(
                "base_url {:?} must not end with '/'",
                self.base_url
            )));
        }
        if !(self.base_url.starts_with("http://") || self.base_url.starts_with("https://")) {
            return Err(Error::Config(format!(
                "base_url {:?} must start with http:// or https://",
                self.base_url
            )));
        }
        let logo = self.brand_logo_url.trim();
        if !logo.is_empty()
            && (!(logo.starts_with("https://")
                || logo.starts_with("http://")
                || logo.starts_with('/'))
                || logo.chars().any(|c| c.is_whitespace() || c == '"'))
        {
            return Err(Error::Config(format!(
                "brand_logo_url {logo:?} must be an http(s) URL or a path starting with '/'"
            )));
        }
        if self.database_pool_size == 0 {
            return Err(Error::Config(
                "database_pool_size must be at least 1".into(),
            ));
        }
        let rl = &self.rate_limit;
        if rl.per_client_per_minute == 0
            || rl.per_client_serial_per_minute == 0
            || rl.wrong_codes_per_client_serial_per_hour == 0
        {
            return Err(Error::Config(
                "rate limits must be at least 1 (set rate_limit.enabled = false to lift them)"
                    .into(),
            ));
        }
        self.diversion.validate()?;
        self.mqtt.validate()
    }

    /// Cookies get `Secure` when the site is served over HTTPS.
    pub fn secure_cookies(&self) -> bool {
        self.base_url.starts_with("https://")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_brand_logo_is_an_http_url_or_a_path_on_this_site() {
        let with = |logo: &str| Settings {
            brand_logo_url: logo.into(),
            ..Settings::default()
        };
        for ok in ["", "https://brand.example/logo.png", "/products/1/picture"] {
            assert!(with(ok).validate().is_ok(), "{ok}");
        }
        for bad in ["javascript:alert(1)", "logo.png", "/a b.png", "/x\".png"] {
            assert!(with(bad).validate().is_err(), "{bad}");
        }
        assert_eq!(with(" ").brand_logo(), None);
        assert_eq!(with("/l.png").brand_logo(), Some("/l.png"));
    }
}
