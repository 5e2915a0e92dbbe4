"""The "Run it on real data" page: per data set its layout, `avlib data check` on a tiny copy,
the papermill command of each chapter reading it, and where its results go; computed, not typed."""

from pathlib import Path

import pytest

from avlib import realdata
from avlib.chapters import l3
from avlib.errors import ConfigError
from avlib.results import scope_dir
from tests.trees import esc50


def test_a_guide_checks_a_tiny_copy_and_gives_each_readers_command(tmp_path):
    esc50(tmp_path / "esc50")
    text = realdata.guide("esc50", tmp_path)
    assert "$ avlib data check esc50\nesc50: 1 data set(s), 0 problem(s)" in text
    assert "layout esc50, 6 items, 3 classes" in text  # the tree's own counts, not typed ones
    assert (
        f"papermill notebooks/{l3.NOTEBOOK}.ipynb {l3.NOTEBOOK}-real.ipynb -k avbook "
        "-p data_root /data -p profile full -p device cuda"
    ) in text
    tree = scope_dir(Path("results"), "/data")
    for experiment in l3.EXPERIMENTS:
        assert f"{tree}/full/l3/{experiment}/seed{{0,1,2}}.json" in text
    assert str(tree).startswith("results/real/data-")


def test_readers_come_from_the_chapters_data_and_absent_copies_are_not_invented(tmp_path):
    assert l3 in realdata.readers("esc50")  # L3 lists esc50 in its DATA
    assert realdata.check_text("esc50", tmp_path) is None  # no copy: no made-up output
    unread = [d.key for d in realdata.DATASETS if not realdata.readers(d.key)]
    if unread:  # until every chapter has landed
        text = realdata.guide(unread[0], tmp_path)
        assert "avlib data check" not in text and "No merged chapter reads it yet." in text
    with pytest.raises(ConfigError, match="unknown real data set 'esc-50'"):
        realdata.get("esc-50")
