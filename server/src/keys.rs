//! The master keys this server trusts, by key id. Batch keys are derived per request: two
//! HMACs, cheaper than a cache would be to keep coherent.

use std::collections::HashMap;
use std::path::Path;

use codegen::keys::{BatchKey, MasterKey};
use codegen::serial::BatchId;

use crate::error::{Error, Result};

#[derive(Debug, Clone, Default)]
pub struct KeyRing {
    by_id: HashMap<String, MasterKey>,
    /// The key id of the first key loaded: new batches made on the desk are issued under it.
    first: Option<String>,
}

impl KeyRing {
    pub fn load(paths: &[impl AsRef<Path>]) -> Result<KeyRing> {
        let mut ring = KeyRing::default();
        for path in paths {
            let path = path.as_ref();
            let key = MasterKey::load(path)
                .map_err(|e| Error::Config(format!("key file {}: {e}", path.display())))?;
            ring.insert(key);
        }
        Ok(ring)
    }

    pub fn insert(&mut self, key: MasterKey) {
        self.first.get_or_insert_with(|| key.key_id());
        self.by_id.insert(key.key_id(), key);
    }

    /// The key new batches are issued under: the first of `key_files`.
    pub fn current(&self) -> Option<&MasterKey> {
        self.first.as_deref().and_then(|id| self.get(id))
    }

    pub fn get(&self, key_id: &str) -> Option<&MasterKey> {
        self.by_id.get(key_id)
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.by_id.keys().map(String::as_str)
    }

    /// The key of `batch`, signed under master `key_id`; `None` when this server lacks that master.
    pub fn batch_key(&self, key_id: &str, batch: &BatchId) -> Option<BatchKey> {
        self.get(key_id).map(|m| m.batch_key(batch))
    }
}
