"""The ``hybridmem`` command line: the parser and the error handling; the subcommands are in
:mod:`hybridmem.commands`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .commands import GROUPS
from .commands.common import EXIT_USAGE

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    p = argparse.ArgumentParser(
        prog="hybridmem",
        description="Local memory search engine with MemOS-shaped answers.",
    )
    p.add_argument("--version", action="version", version=f"hybridmem {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.register(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns its exit status (2 for usage errors and every HybridMemError)."""
    args = build_parser().parse_args(argv)
    from .errors import HybridMemError

    try:
        return int(args.func(args))
    except HybridMemError as exc:
        print(f"hybridmem: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
