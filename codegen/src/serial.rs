//! Batch ids, item serials (明码) and internal case codes: build, parse, take apart.
//!
//! Layouts (`docs/codes.md` § Identifiers):
//! - batch id: 8 random alphabet symbols;
//! - serial: batch id + item index (7 base-31 symbols) + check character = 16;
//! - case code: batch id + case index (6 base-31 symbols) + check character = 15.
//!
//! All three are stored upper case; parsing accepts lower case.

use std::fmt;
use std::str::FromStr;

use rand::Rng;

use crate::alphabet;
use crate::error::CodeError;

/// Length of a batch id.
pub const BATCH_ID_LEN: usize = 8;
/// Length of an item serial.
pub const SERIAL_LEN: usize = 16;
/// Length of an internal case code.
pub const CASE_CODE_LEN: usize = 15;
/// Number of item indices a batch can hold (31^7).
pub const MAX_ITEMS: u64 = 27_512_614_111;
/// Number of case indices a batch can hold (31^6).
pub const MAX_CASES: u64 = 887_503_681;

macro_rules! ascii_code {
    ($name:ident, $len:expr) => {
        impl $name {
            /// The code as printed (upper case).
            pub fn as_str(&self) -> &str {
                // Built only from ASCII alphabet symbols.
                std::str::from_utf8(&self.0).unwrap_or_default()
            }

            /// The code as bytes.
            pub fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }
        }

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
    };
}

/// A batch id: 8 alphabet symbols, no check character.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BatchId([u8; BATCH_ID_LEN]);
ascii_code!(BatchId, BATCH_ID_LEN);

/// An item serial (明码): batch id, item index, check character.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Serial([u8; SERIAL_LEN]);
ascii_code!(Serial, SERIAL_LEN);

/// An internal case code (箱码 without a GS1 prefix): batch id, case index, check character.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CaseCode([u8; CASE_CODE_LEN]);
ascii_code!(CaseCode, CASE_CODE_LEN);

impl BatchId {
    /// A fresh random batch id from the OS RNG.
    pub fn random() -> Self {
        let mut rng = rand::rngs::OsRng;
        let mut id = [0u8; BATCH_ID_LEN];
        for c in &mut id {
            *c = alphabet::symbol(rng.gen_range(0..alphabet::BASE as u8));
        }
        BatchId(id)
    }

    /// Parses a batch id (any case).
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        let bytes = symbols::<BATCH_ID_LEN>("batch id", s, "8")?;
        Ok(BatchId(bytes))
    }
}

impl Serial {
    /// The serial of item `index` (0-based) in `batch`.
    pub fn new(batch: &BatchId, index: u64) -> Result<Self, CodeError> {
        build::<SERIAL_LEN>(batch, index, "item index", MAX_ITEMS).map(Serial)
    }

    /// Parses a serial (any case), checking characters and the check character.
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        parse_checked::<SERIAL_LEN>("serial", s, "16").map(Serial)
    }

    /// The batch the serial belongs to.
    pub fn batch_id(&self) -> BatchId {
        BatchId(prefix(&self.0))
    }

    /// The 0-based item index within the batch.
    pub fn index(&self) -> u64 {
        alphabet::decode_fixed(&self.0[BATCH_ID_LEN..SERIAL_LEN - 1])
    }
}

impl CaseCode {
    /// The code of case `index` (0-based) in `batch`.
    pub fn new(batch: &BatchId, index: u64) -> Result<Self, CodeError> {
        build::<CASE_CODE_LEN>(batch, index, "case index", MAX_CASES).map(CaseCode)
    }

    /// Parses a case code (any case), checking characters and the check character.
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        parse_checked::<CASE_CODE_LEN>("case code", s, "15").map(CaseCode)
    }

    /// The batch the case belongs to.
    pub fn batch_id(&self) -> BatchId {
        BatchId(prefix(&self.0))
    }

    /// The 0-based case index within the batch.
    pub fn index(&self) -> u64 {
        alphabet::decode_fixed(&self.0[BATCH_ID_LEN..CASE_CODE_LEN - 1])
    }
}

fn prefix<const N: usize>(code: &[u8; N]) -> [u8; BATCH_ID_LEN] {
    let mut id = [0u8; BATCH_ID_LEN];
    id.copy_from_slice(&code[..BATCH_ID_LEN]);
    id
}

fn build<const N: usize>(
    batch: &BatchId,
    index: u64,
    what: &'static str,
    max: u64,
) -> Result<[u8; N], CodeError> {
    let mut code = [0u8; N];
    code[..BATCH_ID_LEN].copy_from_slice(&batch.0);
    if index >= max || !alphabet::encode_fixed(index, &mut code[BATCH_ID_LEN..N - 1]) {
        return Err(CodeError::OutOfRange {
            what,
            reason: format!("{index} is not below {max}"),
        });
    }
    code[N - 1] = alphabet::check_char(&code[..N - 1]);
    Ok(code)
}

fn symbols<const N: usize>(
    what: &'static str,
    s: &str,
    expected: &'static str,
) -> Result<[u8; N], CodeError> {
    let bytes = s.as_bytes();
    if bytes.len() != N {
        return Err(CodeError::WrongLength {
            what,
            expected,
            found: s.chars().count(),
        });
    }
    if let Some(pos) = alphabet::first_invalid(bytes) {
        let found = s[pos..].chars().next().unwrap_or('?');
        return Err(CodeError::BadCharacter {
            what,
            position: pos + 1,
            found,
        });
    }
    let mut out = [0u8; N];
    out.copy_from_slice(bytes);
    alphabet::to_upper(&mut out);
    Ok(out)
}

fn parse_checked<const N: usize>(
    what: &'static str,
    s: &str,
    expected: &'static str,
) -> Result<[u8; N], CodeError> {
    let code = symbols::<N>(what, s, expected)?;
    if !alphabet::check_ok(&code) {
        return Err(CodeError::BadCheckCharacter { what });
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_parts_round_trip() {
        let batch = BatchId::parse("abcdefgh").expect("valid id");
        let serial = Serial::new(&batch, 123_456).expect("in range");
        assert_eq!(serial.batch_id(), batch);
        assert_eq!(serial.index(), 123_456);
        assert_eq!(Serial::parse(&serial.as_str().to_lowercase()), Ok(serial));
        assert!(Serial::new(&batch, MAX_ITEMS).is_err());
    }

    #[test]
    fn case_code_parts_round_trip() {
        let batch = BatchId::random();
        let case = CaseCode::new(&batch, MAX_CASES - 1).expect("in range");
        assert_eq!(case.index(), MAX_CASES - 1);
        assert_eq!(CaseCode::parse(case.as_str()), Ok(case));
    }

    #[test]
    fn bad_input_says_why() {
        assert!(matches!(
            Serial::parse("ABC"),
            Err(CodeError::WrongLength { found: 3, .. })
        ));
        assert!(matches!(
            Serial::parse("ABCDEFGHI0000000"),
            Err(CodeError::BadCharacter {
                position: 9,
                found: 'I',
                ..
            })
        ));
    }
}
