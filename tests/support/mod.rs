//! Shared helpers for the integration tests: starting servers on free ports, a raw RESP
//! client, and the spec-scenario runner.
#![allow(dead_code)]

pub mod client;
pub mod scenario;
pub mod server;
