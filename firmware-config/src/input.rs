//! The scan input, chosen by `kind`. It goes through a flat [`RawInput`] instead of serde's
//! internally tagged enums because those buffer the table first, and the buffered values lose
//! their TOML spans: a wrong `baud` would then be reported on the `[input]` line, not its own.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Where scans come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawInput", into = "RawInput")]
pub enum Input {
    /// A USB scanner that types codes like a keyboard (`kind = "keyboard_wedge"`).
    KeyboardWedge {
        /// Characters the scanner sends before each code (stripped); default empty.
        prefix: String,
        /// Characters that end each code (stripped); default `"\n"`, must not be empty.
        suffix: String,
    },
    /// A scanner on a serial port, RS-232 or USB CDC (`kind = "serial"`).
    Serial {
        port: String,
        /// One of [`crate::STANDARD_BAUD_RATES`].
        baud: u32,
    },
    /// A camera whose decoded frames land as files in a directory (`kind = "camera"`).
    Camera { frames_dir: PathBuf, poll_ms: u64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    KeyboardWedge,
    Serial,
    Camera,
}

/// Every field any kind may have; which ones a kind allows is checked in `try_from`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInput {
    kind: Kind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    suffix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    port: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    baud: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    frames_dir: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    poll_ms: Option<u64>,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::KeyboardWedge => "keyboard_wedge",
            Kind::Serial => "serial",
            Kind::Camera => "camera",
        }
    }
}

impl TryFrom<RawInput> for Input {
    // Messages start with the backticked field so the error can be placed on that key's line.
    type Error = String;

    fn try_from(raw: RawInput) -> Result<Self, String> {
        let kind = raw.kind;
        let foreign = |field: &str, present: bool| {
            if present {
                Err(format!(
                    "`{field}` does not apply to kind = \"{}\"",
                    kind.name()
                ))
            } else {
                Ok(())
            }
        };
        let missing = |field: &str| format!("`{field}` is required for kind = \"{}\"", kind.name());
        match kind {
            Kind::KeyboardWedge => {
                foreign("port", raw.port.is_some())?;
                foreign("baud", raw.baud.is_some())?;
                foreign("frames_dir", raw.frames_dir.is_some())?;
                foreign("poll_ms", raw.poll_ms.is_some())?;
                Ok(Input::KeyboardWedge {
                    prefix: raw.prefix.unwrap_or_default(),
                    suffix: raw.suffix.unwrap_or_else(|| "\n".to_owned()),
                })
            }
            Kind::Serial => {
                foreign("prefix", raw.prefix.is_some())?;
                foreign("suffix", raw.suffix.is_some())?;
                foreign("frames_dir", raw.frames_dir.is_some())?;
                foreign("poll_ms", raw.poll_ms.is_some())?;
                Ok(Input::Serial {
                    port: raw.port.ok_or_else(|| missing("port"))?,
                    baud: raw.baud.ok_or_else(|| missing("baud"))?,
                })
            }
            Kind::Camera => {
                foreign("prefix", raw.prefix.is_some())?;
                foreign("suffix", raw.suffix.is_some())?;
                foreign("port", raw.port.is_some())?;
                foreign("baud", raw.baud.is_some())?;
                Ok(Input::Camera {
                    frames_dir: raw.frames_dir.ok_or_else(|| missing("frames_dir"))?,
                    poll_ms: raw.poll_ms.ok_or_else(|| missing("poll_ms"))?,
                })
            }
        }
    }
}

impl From<Input> for RawInput {
    fn from(input: Input) -> Self {
        let mut raw = RawInput {
            kind: Kind::Serial,
            prefix: None,
            suffix: None,
            port: None,
            baud: None,
            frames_dir: None,
            poll_ms: None,
        };
        match input {
            Input::KeyboardWedge { prefix, suffix } => {
                raw.kind = Kind::KeyboardWedge;
                raw.prefix = Some(prefix);
                raw.suffix = Some(suffix);
            }
            Input::Serial { port, baud } => {
                raw.port = Some(port);
                raw.baud = Some(baud);
            }
            Input::Camera {
                frames_dir,
                poll_ms,
            } => {
                raw.kind = Kind::Camera;
                raw.frames_dir = Some(frames_dir);
                raw.poll_ms = Some(poll_ms);
            }
        }
        raw
    }
}
