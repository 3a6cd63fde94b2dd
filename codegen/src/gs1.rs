//! GS1 identifiers: the mod-10 check digit, GTIN-8/12/13/14 (validated, padded to GTIN-14),
//! GS1 company prefixes and SSCC-18 (built from a prefix and a serial reference, or parsed).

use std::fmt;
use std::str::FromStr;

use crate::error::CodeError;

/// The GS1 mod-10 check digit for `digits` (ASCII `0`–`9`, check digit not included): weights
/// 3, 1, 3, … from the right.
pub fn check_digit(digits: &[u8]) -> u8 {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| u32::from(d - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    b'0' + ((10 - sum % 10) % 10) as u8
}

fn digits_only(what: &'static str, s: &str) -> Result<(), CodeError> {
    match s.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, c)) => Err(CodeError::BadCharacter {
            what,
            position: s[..i].chars().count() + 1,
            found: c,
        }),
        None => Ok(()),
    }
}

fn check_ok(what: &'static str, s: &[u8]) -> Result<(), CodeError> {
    let (body, check) = s.split_at(s.len() - 1);
    if check_digit(body) == check[0] {
        Ok(())
    } else {
        Err(CodeError::BadCheckDigit { what })
    }
}

/// A GTIN, held as GTIN-14 (shorter GTINs are left-padded with zeros).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Gtin14([u8; 14]);

impl Gtin14 {
    /// Parses a GTIN-8, -12, -13 or -14 and checks its check digit.
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        let what = "GTIN";
        digits_only(what, s)?;
        if ![8, 12, 13, 14].contains(&s.len()) {
            return Err(CodeError::WrongLength {
                what,
                expected: "8, 12, 13 or 14 digits",
                found: s.len(),
            });
        }
        check_ok(what, s.as_bytes())?;
        let mut out = [b'0'; 14];
        out[14 - s.len()..].copy_from_slice(s.as_bytes());
        Ok(Gtin14(out))
    }

    /// The 14 digits.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// A GS1 company prefix: 4 to 12 digits.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CompanyPrefix(String);

impl CompanyPrefix {
    /// Parses a company prefix.
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        let what = "company prefix";
        digits_only(what, s)?;
        if !(4..=12).contains(&s.len()) {
            return Err(CodeError::WrongLength {
                what,
                expected: "4 to 12 digits",
                found: s.len(),
            });
        }
        Ok(CompanyPrefix(s.to_owned()))
    }

    /// The digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// How many SSCC serial references this prefix allows: 10^(16 − prefix length).
    pub fn serial_capacity(&self) -> u64 {
        10u64.pow(16 - self.0.len() as u32)
    }
}

/// An SSCC-18.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sscc([u8; 18]);

impl Sscc {
    /// The SSCC with extension digit 0, `prefix` and `serial_ref`, plus its check digit.
    pub fn build(prefix: &CompanyPrefix, serial_ref: u64) -> Result<Self, CodeError> {
        let capacity = prefix.serial_capacity();
        if serial_ref >= capacity {
            return Err(CodeError::OutOfRange {
                what: "SSCC serial reference",
                reason: format!(
                    "{serial_ref} does not fit in {} digits after prefix {}",
                    16 - prefix.0.len(),
                    prefix.0
                ),
            });
        }
        let width = 16 - prefix.0.len();
        let body = format!("0{}{serial_ref:0width$}", prefix.0);
        let mut out = [0u8; 18];
        out[..17].copy_from_slice(body.as_bytes());
        out[17] = check_digit(&out[..17]);
        Ok(Sscc(out))
    }

    /// Parses an 18-digit SSCC and checks its check digit.
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        let what = "SSCC";
        digits_only(what, s)?;
        if s.len() != 18 {
            return Err(CodeError::WrongLength {
                what,
                expected: "18 digits",
                found: s.len(),
            });
        }
        check_ok(what, s.as_bytes())?;
        let mut out = [0u8; 18];
        out.copy_from_slice(s.as_bytes());
        Ok(Sscc(out))
    }

    /// The 18 digits.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

macro_rules! display_as_str {
    ($($name:ident),*) => {$(
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.as_str())
            }
        }
        impl FromStr for $name {
            type Err = CodeError;
            fn from_str(s: &str) -> Result<Self, CodeError> {
                Self::parse(s)
            }
        }
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    )*};
}
display_as_str!(Gtin14, CompanyPrefix, Sscc);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_to_gtin14() {
        let g = Gtin14::parse("036000291452").expect("GS1 example");
        assert_eq!(g.as_str(), "00036000291452");
    }

    #[test]
    fn builds_sscc_with_check_digit() {
        let prefix = CompanyPrefix::parse("0614141").expect("prefix");
        let sscc = Sscc::build(&prefix, 123456789).expect("fits");
        assert_eq!(sscc.as_str(), "006141411234567890");
        assert!(Sscc::build(&prefix, 1_000_000_000).is_err());
    }
}
