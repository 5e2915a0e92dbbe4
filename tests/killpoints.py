"""Run avlib in a child process that is SIGKILLed (or slowed) at a chosen point, for fault tests.

    python tests/killpoints.py POINT -- ARGS...

runs ``avlib ARGS...`` (``avlib.cli.main``) after arming POINT; ``ARGS`` =
``cache-load DATA CACHE`` instead loads data set DATA into the decoded cache
CACHE with two workers (:data:`CACHE_SETTINGS`). POINT is one of:

- ``step:N``: SIGKILL just before the trainer's optimiser step N + 1 (N steps done);
- ``replace:NAME``: SIGKILL when an atomic write is about to rename its complete temporary
  file onto a file called NAME (the k-th such rename with ``replace:NAME:k``);
- ``slow-decode:DIR``: every decode job first touches DIR/<worker pid>, then sleeps 0.3 s
  (the test kills the process from outside while workers decode);
- ``none``: nothing.

A SIGKILL cannot be caught: no ``finally``, no atexit, no flush runs, as when
the machine's OOM killer or a user's ``kill -9`` stops a real run.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

CACHE_SETTINGS = {"fps": 10, "size": (16, 24), "sr": 8000, "dur_s": 1.0}


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def arm(point: str) -> None:
    """Patch avlib so the process dies (or slows down) at ``point``."""
    kind, _, arg = point.partition(":")
    if kind == "step":
        import avlib.train as train

        original = train._Run._step

        def step(self, batch, epoch):
            if self.state.step == int(arg):
                _die()
            return original(self, batch, epoch)

        train._Run._step = step
    elif kind == "replace":
        import avlib.atomic as atomic

        name, _, nth = arg.partition(":")
        seen = [0]
        real = os.replace

        class _Os:
            def __getattr__(self, attr):
                return getattr(os, attr)

            @staticmethod
            def replace(src, dst):
                if Path(dst).name == name:
                    seen[0] += 1
                    if seen[0] == int(nth or 1):
                        _die()
                return real(src, dst)

        atomic.os = _Os()
    elif kind == "slow-decode":
        import avlib.data.cache as cache

        marks, original = Path(arg), cache._decode

        def slow(job):
            (marks / str(os.getpid())).touch()
            time.sleep(0.3)
            return original(job)

        slow.__module__, slow.__qualname__ = "__main__", "slow_decode"
        sys.modules["__main__"].slow_decode = slow  # picklable by name in forked workers
        cache._decode = slow
    elif kind != "none":
        raise SystemExit(f"unknown kill point {point!r}")


if __name__ == "__main__":
    point, sep, *args = sys.argv[1:]
    assert sep == "--", "usage: killpoints.py POINT -- ARGS..."
    arm(point)
    if args[0] == "cache-load":
        from avlib.data.cache import DecodedCache
        from avlib.data.layouts import open_dataset

        cache = DecodedCache(args[2], workers=2)
        cache.load(open_dataset(args[1]), **CACHE_SETTINGS, progress=False)
        sys.exit(0)
    from avlib.cli import main

    sys.exit(main(args))
