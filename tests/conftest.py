"""Shared fixtures: the smoke execution of every notebook, and the book built from it, run once
per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("AVBOOK_ROOT", str(ROOT))


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory):
    """Every notebook executed by papermill at profile smoke: (chapters dir, results dir, records)."""
    from avlib.notebooks import run_all

    base = tmp_path_factory.mktemp("smoke")
    chapters, results = base / "chapters", base / "results"
    records = run_all("smoke", out_dir=chapters, results_dir=results, force=True, root=ROOT)
    return chapters, results, records


@pytest.fixture(scope="session")
def smoke_book(smoke_run, tmp_path_factory) -> Path:
    """The book built strictly (warnings are errors) from the smoke notebooks: its HTML folder.
    The book test and the browser test share it, so the book is built once."""
    import shutil

    from avlib.notebooks import build_book

    chapters, _, _ = smoke_run
    site = tmp_path_factory.mktemp("book")
    shutil.copy(ROOT / "_config.yml", site / "_config.yml")
    shutil.copytree(ROOT / "book", site / "book", ignore=shutil.ignore_patterns("chapters"))
    shutil.copytree(chapters, site / "book" / "chapters")
    index = build_book(site, strict=True)
    assert index.exists()
    return index.parent
