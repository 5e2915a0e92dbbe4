"""`avlib data check` reports the layout, the counts and every problem, for one data set or a world root."""

import argparse
import json
import subprocess
import sys

import pytest

from avlib.data.check import add_check_parser, check
from avlib.errors import LayoutError
from tests import trees


def test_check_reports_layout_counts_and_problems(tmp_path):
    root = trees.esc50(tmp_path / "esc50")
    (root / "audio" / "3-500-A-2.wav").unlink()
    report = check(root)
    (d,) = report.datasets
    assert (d.layout, d.n_items, d.n_classes, report.problems) == (
        "esc50",
        5,
        3,
        1,
    )  # crow stays a class
    assert d.counts["fold"] == {"1": 3, "2": 2}
    text = report.to_text()
    assert "layout esc50, 5 items" in text and "missing file (esc50.csv line 7)" in text


def test_check_walks_a_world_root_and_probes_media(tmp_path):
    trees.esc50(tmp_path / "esc50")
    trees.lrw(tmp_path / "lrw")  # placeholder mp4s: unreadable when probed
    report = check(tmp_path, probe_media=True)
    by_name = {d.name: d for d in report.datasets}
    assert set(by_name) == {"esc50", "lrw"}
    assert not by_name["esc50"].skipped
    assert len(by_name["lrw"].skipped) == 12 and "MediaError" in by_name["lrw"].skipped[0].reason
    json.dumps(report.to_dict())


def test_check_knows_hmdb51_and_counts_a_bad_split_row(tmp_path):
    root = trees.hmdb51(tmp_path / "hmdb51")
    listing = root / "testTrainMulti_7030_splits" / "brush_hair_test_split2.txt"
    listing.write_text(listing.read_text() + "\nGone_brush_hair.avi 2 \n")
    report = check(root)
    (d,) = report.datasets
    assert (d.layout, d.n_items, d.n_classes, report.problems) == ("hmdb51", 8, 2, 1)
    assert "layout hmdb51, 8 items" in report.to_text()


def test_check_raises_layout_error_for_an_unknown_directory(tmp_path):
    with pytest.raises(LayoutError, match="no known layout"):
        check(tmp_path)


def test_add_check_parser_registers_a_data_subcommand(tmp_path):
    parser = argparse.ArgumentParser(prog="avlib")
    data = parser.add_subparsers(dest="command").add_parser("data").add_subparsers(dest="action")
    add_check_parser(data)
    args = parser.parse_args(
        ["data", "check", str(trees.esc50(tmp_path)), "--json", str(tmp_path / "r.json")]
    )
    assert args.func(args) == 0
    assert json.loads((tmp_path / "r.json").read_text())["datasets"][0]["layout"] == "esc50"


def test_module_entry_point_prints_the_report_and_sets_the_exit_status(tmp_path):
    root = trees.esc50(tmp_path / "esc50")
    run = [sys.executable, "-m", "avlib.data.check"]
    ok = subprocess.run([*run, str(root)], capture_output=True, text=True)
    assert ok.returncode == 0 and "layout esc50" in ok.stdout
    (root / "audio" / "1-100-A-0.wav").unlink()
    assert subprocess.run([*run, str(root)], capture_output=True).returncode == 1
    bad = subprocess.run([*run, str(tmp_path / "nowhere")], capture_output=True, text=True)
    assert bad.returncode == 2 and "does not exist" in bad.stderr and "Traceback" not in bad.stderr
