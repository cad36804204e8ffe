"""Scale-out on Ray (extra ``hybridmem[cluster]``): users divided across shards, each shard an
ordinary store directory.

:mod:`hybridmem.cluster.shardmap` (users to shards, the versioned ``cluster.json``) needs
nothing beyond hybridmem itself; the Ray parts are imported only when used, so
``import hybridmem.cluster`` stays light and works without Ray installed.
"""

from __future__ import annotations

from .config import ClusterConfig, load_cluster_config
from .shardmap import (
    MANIFEST_FILE,
    ClusterManifest,
    ShardMap,
    ShardSpec,
    create_cluster,
    read_manifest,
    shard_index,
    write_manifest,
)

__all__ = [
    "MANIFEST_FILE",
    "ClusterConfig",
    "ClusterManifest",
    "ShardMap",
    "ShardSpec",
    "create_cluster",
    "load_cluster_config",
    "read_manifest",
    "shard_index",
    "write_manifest",
]
