"""Shared fixtures: the smoke execution of every notebook runs once per session."""

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
