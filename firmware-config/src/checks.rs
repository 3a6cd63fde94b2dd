//! The semantic checks that run on a parsed config: each problem as a dotted field and a message,
//! all collected, so one run shows everything to fix. Lines are added by the caller.

use crate::schema::{Config, Input, STANDARD_BAUD_RATES};

const MIB: u64 = 1024 * 1024;
/// Longer than this and a genuine second scan of the same code would be dropped.
const MAX_DEBOUNCE_MS: u64 = 10_000;

/// Every semantic problem as (dotted field, message), in file order of the sections.
pub(crate) fn check(config: &Config) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut bad = |field: &str, message: String| out.push((field.to_owned(), message));

    if config.debounce_ms > MAX_DEBOUNCE_MS {
        bad(
            "debounce_ms",
            format!("{} ms is more than 10 s (10000)", config.debounce_ms),
        );
    }
    let id = &config.device.id;
    if id.is_empty() || id.len() > 64 {
        bad(
            "device.id",
            format!("{id:?} must be 1 to 64 characters long"),
        );
    } else if !id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
    {
        // The same rule as the wire protocol's device ids (scanner_agent::wire::valid_device_id),
        // so every id the server registers can be configured.
        bad(
            "device.id",
            format!("{id:?} may contain only A-Z, a-z, 0-9, '_', '.' and '-'"),
        );
    }
    if config.device.warehouse.trim().is_empty() {
        bad("device.warehouse", "must not be empty".to_owned());
    }

    let tls_scheme = match check_url(&config.broker.url) {
        Ok(tls) => Some(tls),
        Err(message) => {
            bad("broker.url", message);
            None
        }
    };
    let prefix = &config.broker.topic_prefix;
    if prefix.is_empty() || prefix.contains(['+', '#']) || prefix.ends_with('/') {
        bad(
            "broker.topic_prefix",
            format!("{prefix:?} must be non-empty, without '+', '#' or a trailing '/'"),
        );
    }
    if let Some(tls) = &config.broker.tls {
        if tls_scheme == Some(false) {
            bad(
                "broker.tls",
                "TLS settings need an mqtts:// broker url".to_owned(),
            );
        }
        // Mutual TLS needs both halves; one alone would fail only at the first connect.
        match (&tls.client_cert, &tls.client_key) {
            (Some(_), None) => bad(
                "broker.tls.client_cert",
                "client_cert given without client_key".to_owned(),
            ),
            (None, Some(_)) => bad(
                "broker.tls.client_key",
                "client_key given without client_cert".to_owned(),
            ),
            _ => {}
        }
    }

    let creds = &config.credentials;
    if creds.username.is_empty() {
        bad("credentials.username", "must not be empty".to_owned());
    }
    match (&creds.password, &creds.password_file) {
        (Some(_), Some(_)) => bad(
            "credentials.password_file",
            "give either password or password_file, not both".to_owned(),
        ),
        (None, None) => bad(
            "credentials",
            "password or password_file is required".to_owned(),
        ),
        _ => {}
    }

    if config.journal.max_bytes < MIB {
        bad(
            "journal.max_bytes",
            format!(
                "{} bytes is below the 1 MiB (1048576) minimum",
                config.journal.max_bytes
            ),
        );
    }
    if config.journal.path.as_os_str().is_empty() {
        bad("journal.path", "must not be empty".to_owned());
    }

    match &config.input {
        Input::KeyboardWedge { suffix, .. } => {
            // Without a terminator the agent cannot tell where one code ends.
            if suffix.is_empty() {
                bad("input.suffix", "must not be empty".to_owned());
            }
        }
        Input::Serial { port, baud } => {
            if port.is_empty() {
                bad("input.port", "must not be empty".to_owned());
            }
            if !STANDARD_BAUD_RATES.contains(baud) {
                bad(
                    "input.baud",
                    format!("{baud} is not a standard rate (one of {STANDARD_BAUD_RATES:?})"),
                );
            }
        }
        Input::Camera {
            frames_dir,
            poll_ms,
        } => {
            if frames_dir.as_os_str().is_empty() {
                bad("input.frames_dir", "must not be empty".to_owned());
            }
            if *poll_ms == 0 || *poll_ms > MAX_DEBOUNCE_MS {
                bad(
                    "input.poll_ms",
                    format!("{poll_ms} ms must be between 1 and 10000"),
                );
            }
        }
    }
    out
}

/// `Ok(true)` for `mqtts://host:port`, `Ok(false)` for `mqtt://host:port`.
fn check_url(url: &str) -> Result<bool, String> {
    let (tls, rest) = if let Some(rest) = url.strip_prefix("mqtts://") {
        (true, rest)
    } else if let Some(rest) = url.strip_prefix("mqtt://") {
        (false, rest)
    } else {
        return Err(format!("{url:?} is not an mqtt:// or mqtts:// URL"));
    };
    // rsplit so that a bracketed IPv6 host keeps its colons.
    let Some((host, port)) = rest.rsplit_once(':') else {
        return Err(format!("{url:?} has no port (mqtt://host:port)"));
    };
    if host.is_empty() || host.contains(['/', '@', '?', '#']) {
        return Err(format!("{url:?} has no valid host"));
    }
    match port.parse::<u16>() {
        Ok(p) if p > 0 => Ok(tls),
        _ => Err(format!("{url:?} has an invalid port {port:?} (1-65535)")),
    }
}
