//! Who the devices are, as the broker's connect check and the ingest need it: owner, secret,
//! revoked. Cached in memory (every scan and every connect looks a device up); the device API
//! forgets an entry whenever it changes one, so a revocation applies to the next message.

use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::domain::custody::Party;
use crate::domain::network::PartyKind;
use crate::error::{Error, Result};
use crate::ingest::device_key::{DeviceKey, same_secret};
use crate::store::{Db, DbConnection, devices};

/// A registered device, with its current secret.
#[derive(Debug, Clone)]
pub struct DeviceEntry {
    pub id: String,
    pub owner: Party,
    pub secret: String,
    pub revoked: bool,
}

#[derive(Debug)]
pub struct DeviceDirectory {
    key: DeviceKey,
    cache: RwLock<HashMap<String, Option<DeviceEntry>>>,
    /// Bumped by every `forget`: a look-up that read the database before a change committed must
    /// not cache what it read after that change forgot the entry (a revocation would be undone).
    forgotten: AtomicU64,
}

impl DeviceDirectory {
    pub fn new(key: DeviceKey) -> DeviceDirectory {
        DeviceDirectory {
            key,
            cache: RwLock::new(HashMap::new()),
            forgotten: AtomicU64::new(0),
        }
    }

    pub fn key(&self) -> &DeviceKey {
        &self.key
    }

    /// The device, from the cache or else the database (`None`: never registered).
    pub fn lookup(&self, conn: &mut DbConnection, id: &str) -> Result<Option<DeviceEntry>> {
        if let Some(hit) = self.cached(id) {
            return Ok(hit);
        }
        let since = self.forgotten.load(Ordering::Acquire);
        let row = devices::find(conn, id)?;
        self.remember(id, row, since)
    }

    /// [`Self::lookup`] for async callers: a cache miss reads on the database's blocking pool.
    pub async fn lookup_async(&self, db: &Db, id: &str) -> Result<Option<DeviceEntry>> {
        if let Some(hit) = self.cached(id) {
            return Ok(hit);
        }
        let since = self.forgotten.load(Ordering::Acquire);
        let owned = id.to_owned();
        let row = db.run(move |conn| Ok(devices::find(conn, &owned)?)).await?;
        self.remember(id, row, since)
    }

    /// Caches what a look-up read, unless an entry was forgotten since it began (`since`).
    fn remember(
        &self,
        id: &str,
        row: Option<devices::DeviceRow>,
        since: u64,
    ) -> Result<Option<DeviceEntry>> {
        let entry = row.map(|row| self.entry_of(row)).transpose()?;
        if let Ok(mut cache) = self.cache.write() {
            if self.forgotten.load(Ordering::Acquire) != since {
                return Ok(entry);
            }
            // Bounded: a flood of made-up ids must not grow the cache without end.
            if cache.len() > 100_000 {
                cache.clear();
            }
            cache.insert(id.to_owned(), entry.clone());
        }
        Ok(entry)
    }

    fn entry_of(&self, row: devices::DeviceRow) -> Result<DeviceEntry> {
        Ok(DeviceEntry {
            owner: owner_of(&row)?,
            secret: self.key.device_secret(&row.id, row.secret_generation),
            revoked: row.revoked,
            id: row.id,
        })
    }

    fn cached(&self, id: &str) -> Option<Option<DeviceEntry>> {
        self.cache.read().ok()?.get(id).cloned()
    }

    /// Drops the cached entry of `id` (after a registration, revocation or re-key).
    pub fn forget(&self, id: &str) {
        if let Ok(mut cache) = self.cache.write() {
            self.forgotten.fetch_add(1, Ordering::AcqRel);
            cache.remove(id);
        }
    }

    /// The broker's connect check: the server itself, or a registered, unrevoked device with its
    /// current secret.
    pub async fn authenticate(&self, db: &Db, user: &str, password: &str) -> bool {
        if user == crate::ingest::SERVER_USER {
            return same_secret(password, &self.key.server_password());
        }
        if !chainmark_wire::valid_device_id(user) {
            return false;
        }
        let entry = match self.cached(user) {
            Some(hit) => hit,
            None => {
                let user = user.to_owned();
                let found = db
                    .run(move |conn| Ok(devices::find(conn, &user)?))
                    .await
                    .ok()
                    .flatten();
                found.and_then(|row| self.entry_of(row).ok())
            }
        };
        entry.is_some_and(|d| !d.revoked && same_secret(password, &d.secret))
    }
}

fn owner_of(row: &devices::DeviceRow) -> Result<Party> {
    match (row.owner_kind, row.owner_id) {
        (PartyKind::Hq, _) => Ok(Party::Hq),
        (PartyKind::Agent, Some(id)) => Ok(Party::Agent(id)),
        (kind, id) => Err(Error::Internal(format!(
            "device {} has an unknown owner {kind:?}/{id:?}",
            row.id
        ))),
    }
}
