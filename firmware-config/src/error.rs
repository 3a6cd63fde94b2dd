//! The crate's one error type. A config that fails validation carries every problem found, each
//! naming the file, line and field, so an installer fixes the file in one pass, not one per run.

use std::fmt;
use std::path::PathBuf;

/// One thing wrong with a config file, located well enough to fix it without guessing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file name as given to [`crate::Config::parse`] (or the path given to `load`).
    pub file: String,
    /// 1-based line of the offending key (or of its table when the key is missing).
    pub line: usize,
    /// Dotted field path, e.g. `broker.url`.
    pub field: String,
    /// What is wrong, in words an installer understands.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}: {}",
            self.file, self.line, self.field, self.message
        )
    }
}

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read at all.
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file was read but is not a valid config; never empty.
    #[error("{}", render(.0))]
    Invalid(Vec<Problem>),
    /// A scanned provisioning code is not usable (see [`crate::provision`]).
    #[error("{0}")]
    Provisioning(#[from] crate::provision::ProvisionError),
    /// A config could not be written back as TOML (a bug, not a user error).
    #[error("cannot write the config as TOML: {0}")]
    Serialize(#[from] toml::ser::Error),
}

impl ConfigError {
    /// The located problems, empty for read and serialize errors.
    pub fn problems(&self) -> &[Problem] {
        match self {
            ConfigError::Invalid(problems) => problems,
            _ => &[],
        }
    }
}

fn render(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(Problem::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}
