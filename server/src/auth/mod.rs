//! Who is calling: passwords, tokens, sessions, and the `Caller` every protected route extracts.

mod caller;
pub mod password;
pub mod token;

pub use caller::{Caller, MaybeCaller, SESSION_COOKIE, Via};
