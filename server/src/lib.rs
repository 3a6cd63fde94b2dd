//! chainmark's server: the HTTP API and pages for HQ, agents and consumers, the code registry,
//! and (later) the device ingest.
//!
//! Layers (after crates.io): `domain` is pure rules; `store` is the only diesel; use-case modules
//! (`verify`, `accounts`) combine them; `api` and `web` are thin routes over those.

pub mod accounts;
pub mod api;
pub mod app;
pub mod auth;
pub mod config;
pub mod devices;
pub mod diversion;
pub mod domain;
pub mod epcis;
pub mod error;
pub mod headers;
pub mod idempotency;
pub mod ingest;
pub mod joining;
pub mod keys;
pub mod levels;
pub mod network;
pub mod ratelimit;
pub mod registry;
pub mod store;
pub mod supervise;
pub mod telemetry;
pub mod verify;
pub mod web;

pub use error::{Error, Result};
