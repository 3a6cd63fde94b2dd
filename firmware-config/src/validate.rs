//! Loading and checking a config: TOML syntax and type errors come from `toml` with their span;
//! the semantic checks below run on the typed config and are all collected, then each is placed
//! on its line through [`LineIndex`].

use std::path::Path;

use crate::error::{ConfigError, Problem};
use crate::lines::LineIndex;
use crate::schema::{Config, Input, STANDARD_BAUD_RATES};

const MIB: u64 = 1024 * 1024;
/// Longer than this and a genuine second scan of the same code would be dropped.
const MAX_DEBOUNCE_MS: u64 = 10_000;

impl Config {
    /// Reads and validates the config at `path`; problems name the path as given.
    pub fn load(path: impl AsRef<Path>) -> Result<Config, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Config::parse(&text, &path.display().to_string())
    }

    /// Parses and validates `text`; `file_name` is only used in the problems reported.
    pub fn parse(text: &str, file_name: &str) -> Result<Config, ConfigError> {
        let config: Config = match toml::from_str(text) {
            Ok(config) => config,
            // The TOML parser stops at its first error, so this is the one problem we can report.
            Err(err) => {
                return Err(ConfigError::Invalid(vec![toml_problem(
                    text, file_name, &err,
                )]));
            }
        };
        let index = LineIndex::new(text);
        let problems: Vec<Problem> = config
            .check()
            .into_iter()
            .map(|(field, message)| Problem {
                file: file_name.to_owned(),
                line: index.line_of(&field),
                field,
                message,
            })
            .collect();
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(ConfigError::Invalid(problems))
        }
    }

    /// Writes the config as TOML that [`Config::parse`] reads back to an equal config.
    pub fn to_toml(&self) -> Result<String, ConfigError> {
        Ok(toml::to_string(self)?)
    }

    /// Every semantic problem as (dotted field, message), in file order of the sections.
    fn check(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut bad = |field: &str, message: String| out.push((field.to_owned(), message));

        if self.debounce_ms > MAX_DEBOUNCE_MS {
            bad(
                "debounce_ms",
                format!("{} ms is more than 10 s (10000)", self.debounce_ms),
            );
        }
        let id = &self.device.id;
        if id.is_empty() || id.len() > 64 {
            bad(
                "device.id",
                format!("{id:?} must be 1 to 64 characters long"),
            );
        } else if !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            bad(
                "device.id",
                format!("{id:?} may contain only A-Z, a-z, 0-9, '_' and '-'"),
            );
        }
        if self.device.warehouse.trim().is_empty() {
            bad("device.warehouse", "must not be empty".to_owned());
        }

        let tls_scheme = match check_url(&self.broker.url) {
            Ok(tls) => Some(tls),
            Err(message) => {
                bad("broker.url", message);
                None
            }
        };
        let prefix = &self.broker.topic_prefix;
        if prefix.is_empty() || prefix.contains(['+', '#']) || prefix.ends_with('/') {
            bad(
                "broker.topic_prefix",
                format!("{prefix:?} must be non-empty, without '+', '#' or a trailing '/'"),
            );
        }
        if let Some(tls) = &self.broker.tls {
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

        let creds = &self.credentials;
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

        if self.journal.max_bytes < MIB {
            bad(
                "journal.max_bytes",
                format!(
                    "{} bytes is below the 1 MiB (1048576) minimum",
                    self.journal.max_bytes
                ),
            );
        }
        if self.journal.path.as_os_str().is_empty() {
            bad("journal.path", "must not be empty".to_owned());
        }

        match &self.input {
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

/// Places a `toml` parse or type error on its line; the field is the key on that line.
fn toml_problem(text: &str, file_name: &str, err: &toml::de::Error) -> Problem {
    let mut line = err
        .span()
        .map(|span| {
            // Bytes, not a str slice: a span never panics us on a char boundary.
            let end = span.start.min(text.len());
            text.as_bytes()[..end]
                .iter()
                .filter(|b| **b == b'\n')
                .count()
                + 1
        })
        .unwrap_or(1);
    let index = LineIndex::new(text);
    // A span starting at the top (or none) is the whole document: the root table.
    let root = err.span().is_none_or(|span| span.start == 0);
    let mut field = if root {
        String::new()
    } else {
        index.key_at(line).unwrap_or_default().to_owned()
    };
    // One line per problem: toml's multi-line messages ("invalid string\nexpected ...") are joined.
    let message = err.message().trim().replace('\n', "; ");
    // Errors about a whole table ("missing field `port`", "`baud` does not apply ...") carry the
    // table's span; the backticked name narrows them to the key, or names the key to add. Only
    // for a table (a header, an inline table's key or the root): an error on a `key = value` line
    // is already placed, and its backticked word is a value or a sibling key.
    let whole_table = message.starts_with("missing field") || message.contains("is required");
    let on_table = field.is_empty() || index.is_header(&field) || whole_table;
    if let Some(name) = backticked(&message).filter(|_| on_table) {
        let key = if field.is_empty() {
            name.to_owned()
        } else {
            format!("{field}.{name}")
        };
        if index.contains(&key) {
            line = index.line_of(&key);
            field = key;
        } else if whole_table {
            field = key;
        }
    }
    if field.is_empty() {
        field = "(syntax)".to_owned();
    }
    Problem {
        file: file_name.to_owned(),
        line,
        field,
        message,
    }
}

/// The first `` `name` `` in a message.
fn backticked(message: &str) -> Option<&str> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(&message[start..start + len])
}
