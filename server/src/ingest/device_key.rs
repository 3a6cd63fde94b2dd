//! The server's device key: the root every device's MQTT password and MAC secret is derived
//! from, so the database holds no device secret and a leaked database forges no scan.
//!
//! `secret = base64url(HMAC-SHA256(key, "chainmark-device-secret-v1" ‖ len ‖ device_id ‖ generation))`,
//! with the length-prefixed encoding of the wire protocol. Re-keying a device bumps its
//! generation; revoking it refuses it at connect time and at ingest.

use std::path::Path;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::error::{Error, Result};

const KEY_LEN: usize = 32;
const SECRET_DOMAIN: &[u8] = b"chainmark-device-secret-v1";
const SERVER_DOMAIN: &[u8] = b"chainmark-server-mqtt-v1";
const FINGERPRINT_DOMAIN: &[u8] = b"chainmark-device-key-fingerprint-v1";

/// 32 random bytes, kept in a file of 64 hex digits (mode 0600 when created here).
#[derive(Clone)]
pub struct DeviceKey([u8; KEY_LEN]);

impl std::fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeviceKey(..)")
    }
}

impl DeviceKey {
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> DeviceKey {
        DeviceKey(bytes)
    }

    pub fn load(path: &Path) -> Result<DeviceKey> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::Config(format!("cannot read device key {}: {e}", path.display()))
        })?;
        let bytes = data_encoding::HEXLOWER_PERMISSIVE
            .decode(text.trim().as_bytes())
            .ok()
            .and_then(|b| <[u8; KEY_LEN]>::try_from(b).ok())
            .ok_or_else(|| {
                Error::Config(format!(
                    "device key {} must hold {} hex digits",
                    path.display(),
                    KEY_LEN * 2
                ))
            })?;
        Ok(DeviceKey(bytes))
    }

    /// Loads the key at `path`, creating it with fresh random bytes first if there is none.
    pub fn load_or_create(path: &Path) -> Result<DeviceKey> {
        if path.exists() {
            return DeviceKey::load(path);
        }
        let mut bytes = [0u8; KEY_LEN];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
        let text = format!("{}\n", data_encoding::HEXLOWER.encode(&bytes));
        write_private(path, &text).map_err(|e| {
            Error::Config(format!("cannot write device key {}: {e}", path.display()))
        })?;
        Ok(DeviceKey(bytes))
    }

    /// The secret of `device_id` at `generation`: its broker password and its MAC key.
    pub fn device_secret(&self, device_id: &str, generation: i32) -> String {
        self.derive(
            SECRET_DOMAIN,
            &[device_id.as_bytes(), generation.to_string().as_bytes()],
        )
    }

    /// The password the server itself uses on the embedded broker.
    pub fn server_password(&self) -> String {
        self.derive(SERVER_DOMAIN, &[])
    }

    /// A short public name of this key: server instances compare theirs (`fleet`) without
    /// revealing the key.
    pub fn fingerprint(&self) -> String {
        self.derive(FINGERPRINT_DOMAIN, &[])
            .chars()
            .take(16)
            .collect()
    }

    fn derive(&self, domain: &[u8], fields: &[&[u8]]) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .expect("HMAC accepts a key of any length");
        for field in std::iter::once(domain).chain(fields.iter().copied()) {
            mac.update(&(field.len() as u64).to_be_bytes());
            mac.update(field);
        }
        data_encoding::BASE64URL_NOPAD.encode(&mac.finalize().into_bytes())
    }
}

/// Constant-time comparison of a presented password with the expected one.
pub fn same_secret(presented: &str, expected: &str) -> bool {
    presented.len() == expected.len() && bool::from(presented.as_bytes().ct_eq(expected.as_bytes()))
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_differ_by_device_and_generation_and_are_stable() {
        let key = DeviceKey::from_bytes([7; KEY_LEN]);
        let a1 = key.device_secret("hh-01", 1);
        assert_eq!(a1, key.device_secret("hh-01", 1));
        assert_ne!(a1, key.device_secret("hh-01", 2));
        assert_ne!(a1, key.device_secret("hh-02", 1));
        // Length prefixes: ("hh-0", "11") and ("hh-01", "1") must not collide.
        assert_ne!(key.device_secret("hh-0", 11), key.device_secret("hh-01", 1));
        assert_ne!(
            a1,
            DeviceKey::from_bytes([8; KEY_LEN]).device_secret("hh-01", 1)
        );
        assert_eq!(a1.len(), 43, "32 bytes in unpadded base64url");
    }

    #[test]
    fn load_or_create_round_trips_and_refuses_bad_files() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("device.key");
        let created = DeviceKey::load_or_create(&path).expect("create");
        let loaded = DeviceKey::load_or_create(&path).expect("load");
        assert_eq!(created.server_password(), loaded.server_password());
        std::fs::write(dir.path().join("bad.key"), "xyz").expect("write");
        let err = DeviceKey::load(&dir.path().join("bad.key")).expect_err("not hex");
        assert!(err.to_string().contains("64 hex digits"), "{err}");
    }

    #[test]
    fn secret_comparison() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("ab", "abc"));
    }
}
