//! The server's integration tests: one binary, files by area (crates.io style).

mod common;

mod accounts;
mod api_basics;
mod batch_desk_pages;
mod broker_limits;
mod cli_devices;
mod consumers;
mod contract;
mod diversion;
mod diversion_pages;
mod epcis;
mod errors;
mod hq_agents_pages;
mod hq_money_pages;
mod hq_orders_pages;
mod import;
mod ingest;
mod joining;
mod levels;
mod marketing;
mod marketing_desk;
mod network;
mod network_import;
mod network_import_pages;
mod policy_forms;
mod policy_versions;
mod products_pages;
mod registry;
mod schema;
mod security;
mod verify;
mod web;
