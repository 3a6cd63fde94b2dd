//! Server instances that share a broker's scans must share one database and one device key.
//!
//! Why: several instances split the devices' scans through one shared subscription. An instance
//! left on the broker with another database (a stale staging copy, an old restore) would take its
//! share of the scans and answer them from that database: `duplicate` for sequence numbers it
//! happened to hold, `accepted` for scans stored where nobody looks. The device then forgets the
//! scan. An instance with another device key cannot check the signatures and answers nothing, and
//! its share of the scans only comes back after the devices' resend timeout.
//!
//! So each instance announces its identity (the database's `database_id` and the device key's
//! fingerprint) as a retained message on `{prefix}/servers/{client id}`, cleared by its last will
//! when its connection drops, and reads every other instance's. While any instance on the broker
//! announces another identity, every instance that sees it stops taking scans (unsubscribes) and
//! `/readyz` answers 503 naming the conflict: the devices keep their scans in their journals until
//! an operator removes the wrong instance, then the others subscribe again. Stopping all is the
//! safe side: from inside, no instance can tell which of two databases is the right one.
//!
//! The decisions are a pure state machine ([`Fleet::announced`]); the consumer does the I/O.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What an instance announces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// The database's `database_id` (store::facts).
    pub database: String,
    /// The device key's fingerprint.
    pub device_key: String,
}

/// What the consumer must do after an announcement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Nothing,
    /// Stop taking scans; the reason is for the log and `/readyz`.
    Pause(String),
    /// Take scans again: no conflicting instance is left.
    Resume,
}

/// The other instances whose identity differs from ours.
#[derive(Debug)]
pub struct Fleet {
    own_client: String,
    own: Identity,
    conflicting: BTreeMap<String, String>,
}

/// The topic an instance announces itself on.
pub fn topic(prefix: &str, client: &str) -> String {
    format!("{prefix}/servers/{client}")
}

/// The filter for every instance's announcement.
pub fn filter(prefix: &str) -> String {
    format!("{prefix}/servers/+")
}

/// The client id in an announcement's topic.
pub fn client_of<'a>(prefix: &str, topic: &'a str) -> Option<&'a str> {
    let client = topic.strip_prefix(prefix)?.strip_prefix("/servers/")?;
    (!client.is_empty() && !client.contains('/')).then_some(client)
}

impl Fleet {
    pub fn new(own_client: String, own: Identity) -> Fleet {
        Fleet {
            own_client,
            own,
            conflicting: BTreeMap::new(),
        }
    }

    /// Our client id on the broker.
    pub fn own_client(&self) -> &str {
        &self.own_client
    }

    /// Our announcement's payload.
    pub fn payload(&self) -> Vec<u8> {
        serde_json::to_vec(&self.own).unwrap_or_default()
    }

    /// Whether scans must not be taken now.
    pub fn paused(&self) -> bool {
        !self.conflicting.is_empty()
    }

    /// Why scans are paused, if they are.
    pub fn why(&self) -> Option<String> {
        let (client, what) = self.conflicting.iter().next()?;
        Some(format!(
            "server instance {client} on the same MQTT broker uses {what}: every instance that \
             shares the scans must use this database and device key; scans are paused until it \
             leaves the broker"
        ))
    }

    /// Takes another instance's announcement (an empty payload: it left).
    pub fn announced(&mut self, client: &str, payload: &[u8]) -> Action {
        if client == self.own_client {
            return Action::Nothing;
        }
        let was = self.paused();
        let conflict = if payload.is_empty() {
            None
        } else {
            match serde_json::from_slice::<Identity>(payload) {
                Ok(theirs) if theirs == self.own => None,
                Ok(theirs) if theirs.database != self.own.database => {
                    Some(format!("another database ({})", theirs.database))
                }
                Ok(_) => Some("another device key".to_string()),
                Err(_) => Some("an announcement this version cannot read".to_string()),
            }
        };
        match conflict {
            Some(what) => {
                self.conflicting.insert(client.to_string(), what);
            }
            None => {
                self.conflicting.remove(client);
            }
        }
        match (was, self.paused()) {
            (false, true) => Action::Pause(self.why().unwrap_or_default()),
            (true, false) => Action::Resume,
            _ => Action::Nothing,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(database: &str, key: &str) -> Vec<u8> {
        serde_json::to_vec(&Identity {
            database: database.into(),
            device_key: key.into(),
        })
        .expect("json")
    }

    fn fleet() -> Fleet {
        Fleet::new(
            "me".into(),
            Identity {
                database: "db-1".into(),
                device_key: "k-1".into(),
            },
        )
    }

    #[test]
    fn instances_alike_change_nothing() {
        let mut f = fleet();
        assert_eq!(f.announced("me", &id("db-9", "k-9")), Action::Nothing);
        assert_eq!(f.announced("other", &id("db-1", "k-1")), Action::Nothing);
        assert_eq!(f.announced("other", b""), Action::Nothing);
        assert!(!f.paused());
    }

    #[test]
    fn another_database_or_key_pauses_until_it_leaves() {
        let mut f = fleet();
        assert!(matches!(
            f.announced("stale", &id("db-2", "k-1")),
            Action::Pause(why) if why.contains("another database (db-2)")
        ));
        assert!(matches!(
            f.announced("rekeyed", &id("db-1", "k-2")),
            Action::Nothing
        ));
        assert!(
            f.why()
                .is_some_and(|w| w.contains("rekeyed") || w.contains("stale"))
        );
        // One leaves (its will clears the retained announcement): still paused.
        assert_eq!(f.announced("stale", b""), Action::Nothing);
        assert!(f.paused());
        // The other comes back with the right key: resume.
        assert_eq!(f.announced("rekeyed", &id("db-1", "k-1")), Action::Resume);
        assert!(!f.paused());
    }

    #[test]
    fn an_unreadable_announcement_pauses() {
        let mut f = fleet();
        assert!(matches!(f.announced("odd", b"{"), Action::Pause(_)));
    }

    #[test]
    fn topics() {
        assert_eq!(topic("cm", "s-1"), "cm/servers/s-1");
        assert_eq!(client_of("cm", "cm/servers/s-1"), Some("s-1"));
        assert_eq!(client_of("cm", "cm/servers/"), None);
        assert_eq!(client_of("cm", "cm/servers/a/b"), None);
        assert_eq!(client_of("cm", "cm/devices/a/state"), None);
    }
}
