//! The operator's grammar: which scanned lines are commands that change the mode (and its
//! context), and what a code scanned in each mode becomes. Pure; documented in
//! docs/protocol.md § Operator grammar.
//!
//! Commands are lines a handheld operator can scan from a command sheet (`@pack`, …) or from a
//! document (`CMORDER:<order id>`, the QR on a pick list). Every other line is a code.

use crate::wire::ScanKind;

/// The QR printed on an order's pick list: `CMORDER:<order id>`.
pub const ORDER_PREFIX: &str = "CMORDER:";
/// Order ids and case codes given in commands: at most this many characters.
const MAX_CONTEXT_CHARS: usize = 128;

/// What the handheld does with the next code scanned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Nothing opened yet (or just closed): codes are refused until a mode is chosen.
    Idle,
    /// Shipping against an order.
    Ship { order: String },
    /// Packing items into a case; `None` until the case itself is scanned.
    Pack { case: Option<String> },
    /// Opening cases.
    Unpack,
    /// Receiving, against an order when one was scanned.
    Receive { order: Option<String> },
    /// Returning to the shipper, against an order when one was scanned.
    Return { order: Option<String> },
    /// Retail sale.
    Sell,
    /// An audit look; changes nothing on the server.
    Inspect,
}

/// A scanned line, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// `CMORDER:<id>`: opens a shipment, or gives the order to receive or return against.
    Order(String),
    /// `@ship <order>`, `@pack [case]`, `@unpack`, `@receive [order]`, `@return [order]`,
    /// `@sell`, `@inspect`: a new mode.
    Open(Mode),
    /// `@close`: back to idle, with a summary of what was scanned.
    Close,
    /// `@status`: the running counts.
    Status,
    /// Anything else: a code to scan in the current mode.
    Code(String),
}

/// Why a command line was refused (nothing changes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandError {
    /// `@something` that is not a command.
    UnknownCommand,
    /// The command needs an argument (`@ship` without an order).
    MissingArgument,
    /// An argument to a command that takes none, or two where one is taken.
    UnexpectedArgument,
    /// An order id or case code that is empty, too long or has spaces or control characters.
    BadContext,
}

impl CommandError {
    /// Stable snake_case name, shown on the handheld and in the line output.
    pub fn code(self) -> &'static str {
        match self {
            CommandError::UnknownCommand => "unknown_command",
            CommandError::MissingArgument => "missing_argument",
            CommandError::UnexpectedArgument => "unexpected_argument",
            CommandError::BadContext => "bad_context",
        }
    }
}

/// Reads one scanned line (already stripped of the scanner's prefix and suffix and trimmed).
pub fn parse(line: &str) -> Result<Entry, CommandError> {
    if let Some(order) = line.strip_prefix(ORDER_PREFIX) {
        return Ok(Entry::Order(context(order)?));
    }
    let Some(command) = line.strip_prefix('@') else {
        return Ok(Entry::Code(line.to_owned()));
    };
    let mut words = command.split_whitespace();
    let word = words.next().unwrap_or_default().to_ascii_lowercase();
    let arg = words.next().map(context).transpose()?;
    if words.next().is_some() {
        return Err(CommandError::UnexpectedArgument);
    }
    let none = |entry: Entry| match arg {
        Some(_) => Err(CommandError::UnexpectedArgument),
        None => Ok(entry),
    };
    match word.as_str() {
        "ship" => Ok(Entry::Open(Mode::Ship {
            order: arg.ok_or(CommandError::MissingArgument)?,
        })),
        "pack" => Ok(Entry::Open(Mode::Pack { case: arg })),
        "receive" => Ok(Entry::Open(Mode::Receive { order: arg })),
        "return" => Ok(Entry::Open(Mode::Return { order: arg })),
        "unpack" => none(Entry::Open(Mode::Unpack)),
        "sell" => none(Entry::Open(Mode::Sell)),
        "inspect" => none(Entry::Open(Mode::Inspect)),
        "close" => none(Entry::Close),
        "status" => none(Entry::Status),
        _ => Err(CommandError::UnknownCommand),
    }
}

fn context(text: &str) -> Result<String, CommandError> {
    let text = text.trim();
    if text.is_empty()
        || text.chars().count() > MAX_CONTEXT_CHARS
        || text.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(CommandError::BadContext);
    }
    Ok(text.to_owned())
}

/// What a code scanned in a mode becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A scan event to journal and send.
    Send {
        kind: ScanKind,
        context: Option<String>,
    },
    /// In pack mode a case code names the case the following items go into; it is not sent.
    SetCase,
    /// Pack mode without a case, and the code is not a case code.
    NeedCase,
    /// Idle: no mode chosen.
    NoMode,
}

impl Mode {
    /// The mode's name in the line output and on screen.
    pub fn name(&self) -> &'static str {
        match self {
            Mode::Idle => "idle",
            Mode::Ship { .. } => "ship",
            Mode::Pack { .. } => "pack",
            Mode::Unpack => "unpack",
            Mode::Receive { .. } => "receive",
            Mode::Return { .. } => "return",
            Mode::Sell => "sell",
            Mode::Inspect => "inspect",
        }
    }

    /// The order id or case code scans in this mode carry.
    pub fn context(&self) -> Option<&str> {
        match self {
            Mode::Ship { order } => Some(order),
            Mode::Pack { case } => case.as_deref(),
            Mode::Receive { order } | Mode::Return { order } => order.as_deref(),
            _ => None,
        }
    }

    /// The mode after scanning an order's pick list: receiving and returning take it as their
    /// order; in any other mode it opens a shipment.
    pub fn with_order(&self, order: String) -> Mode {
        match self {
            Mode::Receive { .. } => Mode::Receive { order: Some(order) },
            Mode::Return { .. } => Mode::Return { order: Some(order) },
            _ => Mode::Ship { order },
        }
    }

    /// What scanning `code` does here; `is_case` says whether the code is a case code.
    pub fn target(&self, is_case: bool) -> Target {
        let send = |kind| Target::Send {
            kind,
            context: self.context().map(str::to_owned),
        };
        match self {
            Mode::Idle => Target::NoMode,
            Mode::Pack { .. } if is_case => Target::SetCase,
            Mode::Pack { case: None } => Target::NeedCase,
            Mode::Pack { .. } => send(ScanKind::Pack),
            Mode::Ship { .. } => send(ScanKind::Ship),
            Mode::Unpack => send(ScanKind::Unpack),
            Mode::Receive { .. } => send(ScanKind::Receive),
            Mode::Return { .. } => send(ScanKind::Return),
            Mode::Sell => send(ScanKind::Sell),
            Mode::Inspect => send(ScanKind::Inspect),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_and_codes() {
        assert_eq!(parse("CMORDER:ORD-42"), Ok(Entry::Order("ORD-42".into())));
        assert_eq!(
            parse("@ship ORD-1"),
            Ok(Entry::Open(Mode::Ship {
                order: "ORD-1".into()
            }))
        );
        assert_eq!(parse("@PACK"), Ok(Entry::Open(Mode::Pack { case: None })));
        assert_eq!(
            parse("@pack C1"),
            Ok(Entry::Open(Mode::Pack {
                case: Some("C1".into())
            }))
        );
        assert_eq!(parse("@unpack"), Ok(Entry::Open(Mode::Unpack)));
        assert_eq!(
            parse("@receive"),
            Ok(Entry::Open(Mode::Receive { order: None }))
        );
        assert_eq!(parse("@close"), Ok(Entry::Close));
        assert_eq!(parse("@status"), Ok(Entry::Status));
        assert_eq!(parse("ABC123"), Ok(Entry::Code("ABC123".into())));
    }

    #[test]
    fn bad_commands() {
        assert_eq!(parse("@ship"), Err(CommandError::MissingArgument));
        assert_eq!(parse("@sell now"), Err(CommandError::UnexpectedArgument));
        assert_eq!(parse("@ship a b"), Err(CommandError::UnexpectedArgument));
        assert_eq!(parse("@dance"), Err(CommandError::UnknownCommand));
        assert_eq!(parse("@"), Err(CommandError::UnknownCommand));
        assert_eq!(parse("CMORDER:"), Err(CommandError::BadContext));
        assert_eq!(parse("CMORDER:a b"), Err(CommandError::BadContext));
        let long = format!("CMORDER:{}", "x".repeat(129));
        assert_eq!(parse(&long), Err(CommandError::BadContext));
    }

    #[test]
    fn targets() {
        let ship = Mode::Ship { order: "O".into() };
        assert_eq!(
            ship.target(false),
            Target::Send {
                kind: ScanKind::Ship,
                context: Some("O".into())
            }
        );
        assert_eq!(Mode::Idle.target(false), Target::NoMode);
        assert_eq!(Mode::Pack { case: None }.target(false), Target::NeedCase);
        assert_eq!(Mode::Pack { case: None }.target(true), Target::SetCase);
        let packing = Mode::Pack {
            case: Some("C".into()),
        };
        assert_eq!(packing.target(true), Target::SetCase);
        assert_eq!(
            packing.target(false),
            Target::Send {
                kind: ScanKind::Pack,
                context: Some("C".into())
            }
        );
        assert_eq!(
            Mode::Sell.target(true),
            Target::Send {
                kind: ScanKind::Sell,
                context: None
            }
        );
    }

    #[test]
    fn order_scan_depends_on_mode() {
        let receiving = Mode::Receive { order: None };
        assert_eq!(
            receiving.with_order("O".into()),
            Mode::Receive {
                order: Some("O".into())
            }
        );
        assert_eq!(
            Mode::Inspect.with_order("O".into()),
            Mode::Ship { order: "O".into() }
        );
    }
}
