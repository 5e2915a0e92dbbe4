"""One module per chapter: what the book says about a paper, computed from results.

``avlib/chapters/<paper>.py`` holds that paper's knowledge, apart from its runs
(``avlib/experiments/<paper>.py``) and its models (``avlib/models/<paper>.py``):

- ``PAPER`` (the short name shared by the model file, results folder and
  notebook), ``TITLE``, ``NOTEBOOK`` and ``CITES`` (citation keys of
  ``book/references.bib``, defined here once);
- ``REFERENCES``: the paper's own numbers, each with its source;
- ``CLAIMS``: every claim of PAPERS.md and, once the chapter is written, the
  comparison that tests it, its margin (a share of the paper's effect, with
  the reason) and its gates (what the runs must show first);
- ``EXPERIMENTS``, ``TABLES`` (rows of 'paper vs ours'), ``HEADLINES`` (numbers
  the prose quotes) and readings: functions that turn results into words;
- optionally ``CROSS`` (its lines of the scorecard's cross-paper tables,
  :mod:`avlib.cross_tables`) and ``DATA`` (the real data sets its runs read, by
  the world's directory names, for the "Run it on real data" page).

Chapters are discovered like experiments: a new paper only adds its file.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from avlib.errors import ConfigError

ORDER = ("world", "l3", "avts", "perfect_match", "soundnet", "attention")  # the book's order


def modules() -> dict[str, ModuleType]:
    """Every chapter module by its ``PAPER`` name, in the book's order."""
    found = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        found[module.PAPER] = module
    return {
        k: found[k]
        for k in sorted(
            found, key=lambda k: (k not in ORDER, ORDER.index(k) if k in ORDER else 0, k)
        )
    }


def get(paper: str) -> ModuleType:
    """The chapter module of ``paper`` (ConfigError naming the chapters otherwise)."""
    chapters = modules()
    if paper not in chapters:
        raise ConfigError(f"unknown chapter {paper!r}: choose one of {', '.join(chapters)}")
    return chapters[paper]
