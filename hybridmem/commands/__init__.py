"""The subcommands of ``hybridmem``, one module per group; each module's ``register(sub)``
adds its parsers, whose ``func`` runs the command. Heavy imports happen inside each command."""

from . import bench, cluster, data, demo, mcp, serve, store

__all__ = ["GROUPS"]

#: the modules, in the order their subcommands appear in ``hybridmem --help``.
GROUPS = (store, data, serve, mcp, cluster, demo, bench)
