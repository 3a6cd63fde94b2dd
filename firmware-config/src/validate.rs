//! Loading and checking a config: TOML syntax and type errors come from `toml` with their span;
//! the semantic checks in `checks.rs` are all collected, then each is placed
//! on its line through [`LineIndex`].

use std::path::Path;

use crate::error::{ConfigError, Problem};
use crate::lines::LineIndex;
use crate::schema::Config;

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
        let problems: Vec<Problem> = crate::checks::check(&config)
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
