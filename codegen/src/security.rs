//! The 20-digit security code (暗码): generation, the printed form in groups of four, parsing.
//!
//! Each digit is uniform over 0–9 from a CSPRNG seeded by the OS (66.4 bits). The code is
//! printed as `4821 0937 5512 8046 1733`; input ignores spaces and dashes.

use std::fmt;
use std::str::FromStr;

use rand::Rng;

use crate::error::CodeError;

/// Number of digits in a security code.
pub const DIGITS: usize = 20;

/// 10^20: security codes are uniform in `0..SPACE`.
const SPACE: u128 = 100_000_000_000_000_000_000;

/// A security code: 20 ASCII digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SecurityCode([u8; DIGITS]);

impl SecurityCode {
    /// A fresh code from `rng`, which must be a CSPRNG seeded from the OS (e.g. `StdRng::from_rng(OsRng)`
    /// or `rand::thread_rng()`). Uniform over all 10^20 codes, so each digit is uniform.
    pub fn generate<R: rand::CryptoRng + Rng + ?Sized>(rng: &mut R) -> Self {
        let mut n = rng.gen_range(0..SPACE);
        let mut digits = [b'0'; DIGITS];
        for d in digits.iter_mut().rev() {
            *d = b'0' + (n % 10) as u8;
            n /= 10;
        }
        SecurityCode(digits)
    }

    /// Parses a code typed or scanned by a person: 20 digits, spaces and dashes ignored.
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        let mut digits = [0u8; DIGITS];
        let mut n = 0;
        for (i, c) in s.chars().enumerate() {
            match c {
                ' ' | '-' => continue,
                '0'..='9' if n < DIGITS => {
                    digits[n] = c as u8;
                    n += 1;
                }
                '0'..='9' => n += 1,
                _ => {
                    return Err(CodeError::BadCharacter {
                        what: "security code",
                        position: i + 1,
                        found: c,
                    });
                }
            }
        }
        if n != DIGITS {
            return Err(CodeError::WrongLength {
                what: "security code",
                expected: "20 digits",
                found: n,
            });
        }
        Ok(SecurityCode(digits))
    }

    /// The 20 digits without separators (what is hashed).
    pub fn digits(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// Writes the printed form (`dddd dddd dddd dddd dddd`, 24 bytes) into `out`.
    pub fn write_grouped(&self, out: &mut Vec<u8>) {
        for (i, group) in self.0.chunks(4).enumerate() {
            if i > 0 {
                out.push(b' ');
            }
            out.extend_from_slice(group);
        }
    }
}

/// The printed form, in groups of four.
impl fmt::Display for SecurityCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = Vec::with_capacity(24);
        self.write_grouped(&mut out);
        f.write_str(std::str::from_utf8(&out).unwrap_or_default())
    }
}

/// Redacted: a security code must not end up in logs.
impl fmt::Debug for SecurityCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecurityCode(****)")
    }
}

impl FromStr for SecurityCode {
    type Err = CodeError;
    fn from_str(s: &str) -> Result<Self, CodeError> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printed_form_parses_back() {
        let code = SecurityCode::generate(&mut rand::thread_rng());
        let printed = code.to_string();
        assert_eq!(printed.len(), 24);
        assert_eq!(SecurityCode::parse(&printed), Ok(code));
        assert_eq!(SecurityCode::parse(&printed.replace(' ', "-")), Ok(code));
        assert_eq!(SecurityCode::parse(code.digits()), Ok(code));
    }

    #[test]
    fn wrong_digit_count_is_refused() {
        assert!(SecurityCode::parse("1234 5678").is_err());
        assert!(SecurityCode::parse("123456789012345678901").is_err());
        assert!(SecurityCode::parse("1234567890123456789x").is_err());
    }
}
