"""Progress of long work: a live bar on a terminal, one line every ~30 s in a log.

Every progress bar avlib makes comes from :func:`bar` (a ``tqdm.auto`` bar with
:func:`tqdm_kwargs`), and code that hands tqdm settings to a library (papermill's
cell bar) passes :func:`tqdm_kwargs`. Where the output goes decides the style:

- a terminal or a Jupyter kernel: the usual live bar;
- anything else (``make book > log``, CI): ``tqdm`` refreshes at most every
  :data:`LOG_INTERVAL_S` seconds and each refresh is written as a line of its
  own, instead of thousands of carriage-return updates in one line; work
  shorter than one interval prints nothing.

``AVBOOK_PROGRESS=bar|log|off`` overrides the choice (``off``: no progress at all).
"""

from __future__ import annotations

import os
import sys
from typing import IO

from tqdm.auto import tqdm

from avlib.errors import ConfigError

LOG_INTERVAL_S = 30.0  # seconds between progress lines in a log
STYLES = ("bar", "log", "off")


class LineWriter:
    """A file for tqdm that turns each carriage-return refresh into one plain line."""

    def __init__(self, stream: IO[str]):
        self.stream = stream

    def write(self, text: str) -> int:
        """Write ``text`` without its carriage returns, as one line; blank refreshes are dropped."""
        line = text.replace("\r", "").replace("\x1b[A", "").strip()
        if line:
            self.stream.write(line + "\n")
        return len(text)

    def flush(self) -> None:
        """Flush the underlying stream."""
        self.stream.flush()

    def isatty(self) -> bool:  # tqdm asks; a log is not a terminal
        return False


def _in_kernel() -> bool:
    if "ipykernel" not in sys.modules:
        return False
    from IPython import get_ipython

    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


def style(stream: IO[str] | None = None) -> str:
    """'bar' on a terminal or in a Jupyter kernel, 'log' otherwise ($AVBOOK_PROGRESS overrides)."""
    forced = os.environ.get("AVBOOK_PROGRESS", "").strip().lower()
    if forced:
        if forced not in STYLES:
            raise ConfigError(
                f"AVBOOK_PROGRESS={forced!r}: use one of {', '.join(STYLES)} (or leave it unset)"
            )
        return forced
    stream = sys.stderr if stream is None else stream
    try:
        terminal = stream.isatty()
    except (AttributeError, ValueError):
        terminal = False
    return "bar" if terminal or _in_kernel() else "log"


def tqdm_kwargs(stream: IO[str] | None = None) -> dict:
    """Settings for a tqdm bar written to ``stream`` (default stderr) in the current style."""
    stream = sys.stderr if stream is None else stream
    chosen = style(stream)
    if chosen == "off":
        return {"disable": True}
    if chosen == "bar":
        return {"file": stream}
    return {
        "file": LineWriter(stream),
        "mininterval": LOG_INTERVAL_S,
        "maxinterval": LOG_INTERVAL_S,
        "delay": LOG_INTERVAL_S,  # work shorter than one interval prints nothing
        "miniters": 1,
        "ascii": True,
        "ncols": 100,
        "dynamic_ncols": False,
    }


def bar(iterable=None, *, disable: bool = False, **kwargs) -> tqdm:
    """A progress bar (``tqdm`` arguments) that is live on a terminal and a line every ~30 s in logs."""
    settings = tqdm_kwargs()
    if disable:
        settings["disable"] = True
    return tqdm(iterable, **{**kwargs, **settings})
