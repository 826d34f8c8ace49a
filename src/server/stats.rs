//! Server-wide counters behind `INFO stats` and the metrics.

use std::sync::atomic::AtomicU64;

#[derive(Debug, Default)]
pub struct Stats {
    pub connections_received: AtomicU64,
    pub rejected_connections: AtomicU64,
    pub net_input_bytes: AtomicU64,
    pub net_output_bytes: AtomicU64,
    /// Writes since start (Redis's `dirty`-style change counter).
    pub changes: AtomicU64,
    pub error_replies: AtomicU64,
    pub unexpected_error_replies: AtomicU64,
}
