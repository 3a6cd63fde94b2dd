//! Text messages to consumers' phones (issue 21: the sign-in code). A sender is a trait so a
//! provider's gateway can be put in later without touching the sign-in; for now the one sender
//! writes the message to the log (`CHAINMARK_SMS=log`), which is what the demo and the tests
//! read the code from.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// Why a message was not sent.
#[derive(Debug, thiserror::Error)]
pub enum SmsError {
    #[error("the text message service did not take the message: {0}")]
    Unavailable(String),
}

/// Sends one text message. Called on tokio's blocking pool (`consumers::send_code`), so a
/// provider's client may block on its network call.
pub trait SmsSender: Send + Sync {
    /// Sends `text` to `phone` (11 digits of a mainland mobile).
    fn send(&self, phone: &str, text: &str) -> Result<(), SmsError>;
}

/// Writes every message to the log (target `chainmark::sms`, fields `phone` and `text`, the
/// whole text with its code): the demo's sender, and how a test reads the code it was sent.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogSender;

impl SmsSender for LogSender {
    fn send(&self, phone: &str, text: &str) -> Result<(), SmsError> {
        tracing::info!(target: "chainmark::sms", phone, text, "text message");
        Ok(())
    }
}

/// Which sender the server uses (`CHAINMARK_SMS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmsChoice {
    /// [`LogSender`].
    #[default]
    Log,
}

impl std::str::FromStr for SmsChoice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "log" | "" => Ok(SmsChoice::Log),
            other => Err(format!("unknown text message sender {other:?}: log")),
        }
    }
}

impl SmsChoice {
    pub fn sender(self) -> Arc<dyn SmsSender> {
        match self {
            SmsChoice::Log => Arc::new(LogSender),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_setting_names_a_sender() {
        assert_eq!("log".parse::<SmsChoice>(), Ok(SmsChoice::Log));
        assert_eq!("".parse::<SmsChoice>(), Ok(SmsChoice::Log));
        assert!("aliyun".parse::<SmsChoice>().is_err());
        assert!(SmsChoice::Log.sender().send("13800138000", "x").is_ok());
    }
}
