//! Keys: the master key file, its key id, per-batch keys, and what they compute — the item tag,
//! the security-code hash and the import seal (`docs/codes.md` § Keys).
//!
//! ```no_run
//! use codegen::keys::MasterKey;
//! use codegen::serial::{BatchId, Serial};
//! # fn main() -> codegen::Result<()> {
//! let master = MasterKey::load("master.key".as_ref())?;
//! let serial = Serial::parse("ABCDEFGH00000010")?;
//! let batch_key = master.batch_key(&serial.batch_id());
//! let ok = batch_key.verify_tag(&serial, "MZXW6YTBOI3DSNZQ");
//! # Ok(()) }
//! ```

use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use data_encoding::{BASE32_NOPAD, HEXLOWER};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::error::{CodeError, Error, Result};
use crate::security::SecurityCode;
use crate::serial::{BatchId, Serial};

type HmacSha256 = Hmac<Sha256>;

/// Size of a master key and of a key file, in bytes.
pub const KEY_LEN: usize = 32;
/// Length of a tag in characters.
pub const TAG_LEN: usize = 16;

/// The master secret. `Debug` does not show it.
#[derive(Clone)]
pub struct MasterKey([u8; KEY_LEN]);

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MasterKey(id {})", self.key_id())
    }
}

impl MasterKey {
    /// Loads a key file: exactly 32 raw bytes.
    ///
    /// Errors: [`Error::KeyMissing`], [`Error::KeyWrongSize`], [`Error::KeyIo`].
    pub fn load(path: &Path) -> Result<Self> {
        let key_io = |source| Error::KeyIo {
            path: path.to_owned(),
            source,
        };
        let bytes = match fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(Error::KeyMissing {
                    path: path.to_owned(),
                });
            }
            Err(e) => return Err(key_io(e)),
        };
        let key: [u8; KEY_LEN] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| Error::KeyWrongSize {
                path: path.to_owned(),
                len: bytes.len() as u64,
            })?;
        Ok(MasterKey(key))
    }

    /// Creates a fresh key from the OS RNG and writes it to a new file `path` with mode 0600.
    /// Never overwrites: an existing file gives [`Error::KeyExists`].
    pub fn generate_to(path: &Path) -> Result<Self> {
        let mut key = [0u8; KEY_LEN];
        rand::rngs::OsRng.fill_bytes(&mut key);
        let key_io = |source| Error::KeyIo {
            path: path.to_owned(),
            source,
        };
        let mut file = match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
        {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                return Err(Error::KeyExists {
                    path: path.to_owned(),
                });
            }
            Err(e) => return Err(key_io(e)),
        };
        if let Err(e) = file.write_all(&key).and_then(|()| file.sync_all()) {
            drop(file);
            let _ = fs::remove_file(path);
            return Err(key_io(e));
        }
        Ok(MasterKey(key))
    }

    /// A key from raw bytes (tests, or a server that keeps keys elsewhere).
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        MasterKey(bytes)
    }

    /// The key id: first 8 bytes of `HMAC(master, "chainmark key id v1")`, 16 lower-case hex.
    pub fn key_id(&self) -> String {
        let mut mac = new_mac(&self.0);
        mac.update(b"chainmark key id v1");
        HEXLOWER.encode(&mac.finalize().into_bytes()[..8])
    }

    /// The batch key for `batch`: HKDF-SHA256(master, salt "chainmark batch v1", info batch id).
    pub fn batch_key(&self, batch: &BatchId) -> BatchKey {
        let hk = Hkdf::<Sha256>::new(Some(b"chainmark batch v1"), &self.0);
        let mut okm = [0u8; 32];
        // 32 bytes is far below HKDF-SHA256's limit of 8160, so expand cannot fail.
        let _ = hk.expand(batch.as_bytes(), &mut okm);
        BatchKey { mac: new_mac(&okm) }
    }
}

fn new_mac(key: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length; this never fails.
    match HmacSha256::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    }
}

/// A batch's key, ready to compute tags, code hashes and the seal. Cheap to clone.
#[derive(Clone)]
pub struct BatchKey {
    mac: HmacSha256,
}

impl fmt::Debug for BatchKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BatchKey(..)")
    }
}

impl BatchKey {
    fn mac_of(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut mac = self.mac.clone();
        for part in parts {
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }

    /// The tag of `serial`: `HMAC(batch_key, "tag:" + serial)`, first 10 bytes, base32.
    pub fn tag(&self, serial: &Serial) -> Tag {
        let mac = self.mac_of(&[b"tag:", serial.as_bytes()]);
        let mut out = [0u8; TAG_LEN];
        BASE32_NOPAD.encode_mut(&mac[..10], &mut out);
        Tag(out)
    }

    /// Whether `tag` (as scanned, any case) is the tag of `serial`. Constant time.
    pub fn verify_tag(&self, serial: &Serial, tag: &str) -> bool {
        let expected = self.tag(serial);
        let mut given = [0u8; TAG_LEN];
        if tag.len() != TAG_LEN {
            return false;
        }
        given.copy_from_slice(tag.as_bytes());
        given.make_ascii_uppercase();
        bool::from(expected.0[..].ct_eq(&given[..]))
    }

    /// The security-code hash: `HMAC(batch_key, "code:" + serial + ":" + digits)`, 64 hex.
    pub fn code_hash(&self, serial: &Serial, code: &SecurityCode) -> CodeHash {
        let mac = self.mac_of(&[b"code:", serial.as_bytes(), b":", code.digits().as_bytes()]);
        let mut out = [0u8; 64];
        HEXLOWER.encode_mut(&mac, &mut out);
        CodeHash(out)
    }

    /// Whether `code` is the security code whose hash is `expected_hex`. Constant time.
    pub fn verify_code(&self, serial: &Serial, code: &SecurityCode, expected_hex: &str) -> bool {
        let actual = self.code_hash(serial, code);
        actual.0.len() == expected_hex.len()
            && bool::from(actual.0[..].ct_eq(expected_hex.as_bytes()))
    }

    /// A streaming seal MAC: feed it every byte of `import.jsonl` before the seal line.
    pub fn sealer(&self) -> Sealer {
        let mut mac = self.mac.clone();
        mac.update(b"seal:");
        Sealer { mac }
    }
}

/// An item tag: 16 base32 characters (80 bits of HMAC).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tag([u8; TAG_LEN]);

impl Tag {
    /// Parses a tag's shape (16 base32 characters, any case). Says nothing about authenticity:
    /// use [`BatchKey::verify_tag`].
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        let what = "tag";
        if s.len() != TAG_LEN {
            return Err(CodeError::WrongLength {
                what,
                expected: "16",
                found: s.chars().count(),
            });
        }
        let mut out = [0u8; TAG_LEN];
        out.copy_from_slice(s.as_bytes());
        out.make_ascii_uppercase();
        if let Some(i) = out
            .iter()
            .position(|c| !(c.is_ascii_uppercase() || (b'2'..=b'7').contains(c)))
        {
            return Err(CodeError::BadCharacter {
                what,
                position: i + 1,
                found: s[i..].chars().next().unwrap_or('?'),
            });
        }
        Ok(Tag(out))
    }

    /// The tag as printed.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// A security-code hash: 64 lower-case hex characters.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CodeHash([u8; 64]);

impl CodeHash {
    /// Parses a hash's shape: 64 lower-case hex characters.
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        let what = "code hash";
        let bytes: [u8; 64] = s
            .as_bytes()
            .try_into()
            .map_err(|_| CodeError::WrongLength {
                what,
                expected: "64",
                found: s.chars().count(),
            })?;
        if let Some(i) = bytes
            .iter()
            .position(|c| !(c.is_ascii_digit() || (b'a'..=b'f').contains(c)))
        {
            return Err(CodeError::BadCharacter {
                what,
                position: i + 1,
                found: s[i..].chars().next().unwrap_or('?'),
            });
        }
        Ok(CodeHash(bytes))
    }

    /// The hash as hex.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

macro_rules! show {
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
show!(Tag, CodeHash);

/// The streaming import seal (see [`BatchKey::sealer`]).
#[derive(Clone)]
pub struct Sealer {
    mac: HmacSha256,
}

impl fmt::Debug for Sealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sealer(..)")
    }
}

impl Sealer {
    /// Feeds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.mac.update(bytes);
    }

    /// The seal MAC, 64 lower-case hex characters.
    pub fn finish(self) -> String {
        HEXLOWER.encode(&self.mac.finalize().into_bytes())
    }

    /// Whether `mac_hex` is the seal of the bytes fed. Constant time.
    pub fn verify(self, mac_hex: &str) -> bool {
        let actual = self.finish();
        actual.len() == mac_hex.len() && bool::from(actual.as_bytes().ct_eq(mac_hex.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_is_created_0600_and_never_overwritten() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("master.key");
        let key = MasterKey::generate_to(&path).expect("created");
        let mode = fs::metadata(&path).expect("exists").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(matches!(
            MasterKey::generate_to(&path),
            Err(Error::KeyExists { .. })
        ));
        assert_eq!(
            MasterKey::load(&path).expect("loads").key_id(),
            key.key_id()
        );
        fs::write(&path, b"short").expect("write");
        assert!(matches!(
            MasterKey::load(&path),
            Err(Error::KeyWrongSize { len: 5, .. })
        ));
        assert!(matches!(
            MasterKey::load(&dir.path().join("nope")),
            Err(Error::KeyMissing { .. })
        ));
    }

    #[test]
    fn tags_verify_only_for_their_serial_and_batch() {
        let master = MasterKey::from_bytes([7; 32]);
        assert_eq!(master.key_id().len(), 16);
        let batch = BatchId::parse("ABCDEFGH").expect("id");
        let key = master.batch_key(&batch);
        let s0 = Serial::new(&batch, 0).expect("serial");
        let s1 = Serial::new(&batch, 1).expect("serial");
        let tag = key.tag(&s0);
        assert_eq!(tag.as_str().len(), TAG_LEN);
        assert!(key.verify_tag(&s0, tag.as_str()));
        assert!(key.verify_tag(&s0, &tag.as_str().to_lowercase()));
        assert!(!key.verify_tag(&s1, tag.as_str()));
        let other = master.batch_key(&BatchId::parse("ABCDEFGJ").expect("id"));
        assert!(!other.verify_tag(&s0, tag.as_str()));
        assert!(!key.verify_tag(&s0, "short"));
    }

    #[test]
    fn code_hash_verifies() {
        let key = MasterKey::from_bytes([1; 32]).batch_key(&BatchId::random());
        let serial = Serial::new(&BatchId::random(), 5).expect("serial");
        let code = SecurityCode::parse("4821 0937 5512 8046 1733").expect("code");
        let hash = key.code_hash(&serial, &code);
        assert!(key.verify_code(&serial, &code, hash.as_str()));
        let other = SecurityCode::parse("4821 0937 5512 8046 1734").expect("code");
        assert!(!key.verify_code(&serial, &other, hash.as_str()));
    }
}
