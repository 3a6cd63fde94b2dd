//! chainmark's server: the HTTP API and pages for HQ, agents and consumers, the code registry,
//! device ingest over MQTT, the periodic jobs and the CLI.
//!
//! Layers (after crates.io), each its own crate below this one: `domain` (`chainmark-domain`) is
//! pure rules; `store` (`chainmark-store`) is the only SQL. Use-case modules here (`verify`,
//! `accounts`, `network`, `levels`, …) combine them; `api` and `web` are thin routes over those.

pub mod accounts;
pub mod api;
pub mod app;
pub mod auth;
pub mod batch_desk;
pub mod campaign_desk;
pub mod config;
pub mod consumers;
pub mod devices;
pub mod diversion;
/// The pure rules live in their own crate (`chainmark-domain`).
pub use chainmark_domain as domain;
pub mod epcis;
pub mod error;
pub mod headers;
pub mod idempotency;
pub mod ingest;
pub mod joining;
pub mod keys;
pub mod levels;
pub mod marketing;
pub mod network;
pub mod network_import;
pub mod pictures;
pub mod printing;
pub mod ratelimit;
pub mod registry;
pub mod retail;
pub mod sms;
pub mod store;
pub mod supervise;
pub mod telemetry;
pub mod verify;
pub mod web;

pub use error::{Error, Result};
