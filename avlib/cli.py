"""`avlib` command line: a thin layer over the library's functions.

Each subcommand lives beside the code it runs and registers itself through an
``add_parser(subparsers)`` function listed in ``COMMANDS``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from avlib.errors import AvlibError

# module paths whose add_parser() defines a subcommand; only real ones are listed
COMMANDS = (
    "avlib.data.commands",
    "avlib.experiments",
    "avlib.notebooks",
    "avlib.embed",
    "avlib.bench",
)


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="avlib",
        description="avbook: reproduce five self-supervised audio-visual learning papers.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(name).add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point: parse, run, and turn avlib errors into a one-line message and exit code 2."""
    args = build_parser().parse_args(argv)
    try:
        result = args.func(args)
    except AvlibError as e:
        print(f"avlib {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return result if isinstance(result, int) else 0
