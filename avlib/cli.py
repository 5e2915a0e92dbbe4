"""`avlib` command line: a thin layer over the library's functions.

Each subcommand lives beside the code it runs and registers itself through an
``add_parser(subparsers)`` function listed in ``COMMANDS``.

Whatever goes wrong ends as a message, not a traceback, and exit status 2:
avlib's own errors (:mod:`avlib.errors`) as they are (they name the file and
the fix), a full disk as a :class:`~avlib.errors.StorageError`, anything
else as one line with its type and a pointer to ``avlib --debug ...``, which
prints the traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback

from avlib.atomic import storage_error
from avlib.errors import AvlibError

# module paths whose add_parser() defines a subcommand; only real ones are listed
COMMANDS = (
    "avlib.data.commands",
    "avlib.experiments",
    "avlib.notebooks",
    "avlib.embed",
    "avlib.bench",
    "avlib.sync_offset",
)


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="avlib",
        description="avbook: reproduce five self-supervised audio-visual learning papers.",
    )
    parser.add_argument("--debug", action="store_true", help="print the full traceback of an error")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(name).add_parser(sub)
    return parser


def error_message(command: str, error: BaseException) -> str:
    """What the CLI prints for ``error``: avlib's message, or one line and a pointer to --debug."""
    if isinstance(error, OSError) and not isinstance(error, AvlibError):
        error = storage_error(error.filename or "?", error) or error
    if isinstance(error, AvlibError):
        return f"avlib {command}: error: {error}"
    first = " ".join(str(error).split("\n")[0].split()) or "(no message)"
    return (
        f"avlib {command}: error: {type(error).__name__}: {first}\n"
        f"  (unexpected: run `avlib --debug {command} ...` for the traceback, and report it)"
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point: parse, run, and turn every error into a short message and exit code 2."""
    args = build_parser().parse_args(argv)
    try:
        result = args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as e:
        if args.debug:
            traceback.print_exc()
        print(error_message(args.command, e), file=sys.stderr)
        return 2
    return result if isinstance(result, int) else 0
