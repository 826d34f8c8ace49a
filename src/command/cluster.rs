//! CLUSTER, ASKING, READONLY and READWRITE on a standalone server. ferrokv has no cluster
//! mode (several servers are sharded by a proxy, see the README), so, as a Redis started
//! without `cluster-enabled`, every one of them answers that cluster support is disabled.
//! They are in the table so that arity, unknown subcommands, `COMMAND INFO` and the
//! `noscript` flag of `CLUSTER RESET` behave as in Redis.

use super::error;
use super::{flags::*, Cmd, Ctx, Outcome};
use bytes::Bytes;

fn disabled(_ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    Err(error::text(
        "ERR This instance has cluster support disabled",
    ))
}

fn container(_ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    Ok(())
}

/// Redis 7.0's subcommands: name, arity, flags, summary, since.
macro_rules! subs {
    ($(($name:literal, $arity:literal, $flags:expr, $doc:literal, $since:literal)),* $(,)?) => {
        &[$(Cmd::new($name, $arity, $flags, "cluster", disabled).doc($doc, $since)),*]
    };
}

const ADMIN_STALE: u32 = ADMIN | STALE;
/// Redis refuses these while it loads a replica's data asynchronously.
const ADMIN_STALE_NAL: u32 = ADMIN | STALE | NO_ASYNC_LOADING;

static CLUSTER_SUBS: &[Cmd] = subs![
    (
        "addslots",
        -3,
        ADMIN_STALE_NAL,
        "Assign new hash slots to receiving node",
        "3.0.0"
    ),
    (
        "addslotsrange",
        -4,
        ADMIN_STALE_NAL,
        "Assign new hash slots to receiving node",
        "7.0.0"
    ),
    (
        "bumpepoch",
        2,
        ADMIN_STALE_NAL,
        "Advance the cluster config epoch",
        "3.0.0"
    ),
    (
        "count-failure-reports",
        3,
        ADMIN_STALE,
        "Return the number of failure reports active for a given node",
        "3.0.0"
    ),
    (
        "countkeysinslot",
        3,
        STALE,
        "Return the number of local keys in the specified hash slot",
        "3.0.0"
    ),
    (
        "delslots",
        -3,
        ADMIN_STALE_NAL,
        "Set hash slots as unbound in receiving node",
        "3.0.0"
    ),
    (
        "delslotsrange",
        -4,
        ADMIN_STALE_NAL,
        "Set hash slots as unbound in receiving node",
        "7.0.0"
    ),
    (
        "failover",
        -2,
        ADMIN_STALE_NAL,
        "Forces a replica to perform a manual failover of its master.",
        "3.0.0"
    ),
    (
        "flushslots",
        2,
        ADMIN_STALE_NAL,
        "Delete a node's own slots information",
        "3.0.0"
    ),
    (
        "forget",
        3,
        ADMIN_STALE_NAL,
        "Remove a node from the nodes table",
        "3.0.0"
    ),
    (
        "getkeysinslot",
        4,
        STALE,
        "Return local key names in the specified hash slot",
        "3.0.0"
    ),
    (
        "help",
        2,
        LOADING | STALE,
        "Show helpful text about the different subcommands",
        "5.0.0"
    ),
    (
        "info",
        2,
        STALE,
        "Provides info about Redis Cluster node state",
        "3.0.0"
    ),
    (
        "keyslot",
        3,
        STALE,
        "Returns the hash slot of the specified key",
        "3.0.0"
    ),
    (
        "links",
        2,
        STALE,
        "Returns a list of all TCP links to and from peer nodes in cluster",
        "7.0.0"
    ),
    (
        "meet",
        -4,
        ADMIN_STALE_NAL,
        "Force a node cluster to handshake with another node",
        "3.0.0"
    ),
    ("myid", 2, STALE, "Return the node id", "3.0.0"),
    (
        "nodes",
        2,
        STALE,
        "Get Cluster config for the node",
        "3.0.0"
    ),
    (
        "replicas",
        3,
        ADMIN_STALE,
        "List replica nodes of the specified master node",
        "5.0.0"
    ),
    (
        "replicate",
        3,
        ADMIN_STALE_NAL,
        "Reconfigure a node as a replica of the specified master node",
        "3.0.0"
    ),
    (
        "reset",
        -2,
        ADMIN_STALE | NOSCRIPT,
        "Reset a Redis Cluster node",
        "3.0.0"
    ),
    (
        "saveconfig",
        2,
        ADMIN_STALE_NAL,
        "Forces the node to save cluster state on disk",
        "3.0.0"
    ),
    (
        "set-config-epoch",
        3,
        ADMIN_STALE_NAL,
        "Set the configuration epoch in a new node",
        "3.0.0"
    ),
    (
        "setslot",
        -4,
        ADMIN_STALE_NAL,
        "Bind a hash slot to a specific node",
        "3.0.0"
    ),
    (
        "shards",
        2,
        STALE,
        "Get array of cluster slots to node mappings",
        "7.0.0"
    ),
    (
        "slaves",
        3,
        ADMIN_STALE,
        "List replica nodes of the specified master node",
        "3.0.0"
    ),
    (
        "slots",
        2,
        STALE,
        "Get array of Cluster slot to node mappings",
        "3.0.0"
    ),
];

pub static COMMANDS: &[Cmd] = &[
    Cmd::new("cluster", -2, 0, "cluster", container)
        .subs(CLUSTER_SUBS)
        .doc("A container for cluster commands", "3.0.0"),
    Cmd::new("asking", 1, FAST, "cluster", disabled)
        .doc("Sent by cluster clients after an -ASK redirect", "3.0.0"),
    Cmd::new("readonly", 1, FAST | LOADING | STALE, "cluster", disabled).doc(
        "Enables read queries for a connection to a cluster replica node",
        "3.0.0",
    ),
    Cmd::new("readwrite", 1, FAST | LOADING | STALE, "cluster", disabled).doc(
        "Disables read queries for a connection to a cluster replica node",
        "3.0.0",
    ),
];
