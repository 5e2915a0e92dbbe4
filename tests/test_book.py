"""The book's table of contents matches the notebooks, and the book builds with warnings as errors."""

import json
import shutil

import pandas as pd
import pytest
import yaml

from avlib.notebooks import notebook_paths, run_all


def _toc_files(root):
    toc = yaml.safe_load((root / "book" / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [c["file"] for c in part["chapters"]]
    return files


def test_every_notebook_is_a_chapter_and_every_page_exists(root):
    files = _toc_files(root)
    chapters = {f.removeprefix("book/chapters/") for f in files if f.startswith("book/chapters/")}
    assert chapters == {nb.stem for nb in notebook_paths(root)}
    for f in files:
        if not f.startswith("book/chapters/"):
            assert (root / f"{f}.md").exists(), f


@pytest.mark.slow
def test_book_builds_strictly_from_smoke_notebooks(root, smoke_book):
    for f in _toc_files(root):
        assert (smoke_book / f"{f}.html").exists(), f


@pytest.mark.slow
def test_changing_a_results_file_and_rebuilding_changes_the_scorecard(root, smoke_run, tmp_path):
    """The scorecard reads the results files: a changed file re-executes it (and only then) with
    the new numbers in its table, sentence and CSV; other papers' lines stay as they were."""
    chapters, results, _ = smoke_run
    res, out = tmp_path / "results", tmp_path / "chapters"
    shutil.copytree(results, res)
    before = pd.read_csv(chapters / "scorecard.csv").set_index("claim")
    seeds = [json.loads(p.read_text()) for p in sorted(res.glob("smoke/l3/l3-avc/seed*.json"))]
    changed = res / "smoke" / "l3" / "l3-avc" / "seed0.json"
    seeds[0]["metrics"]["avc_acc"] = 0.9
    changed.write_text(json.dumps(seeds[0]))
    expected = 100 * sum(s["metrics"]["avc_acc"] for s in seeds) / len(seeds)

    def rebuild():
        return run_all("smoke", only=["06"], out_dir=out, results_dir=res, root=root)[0]

    assert rebuild()["executed"]
    after = pd.read_csv(out / "scorecard.csv").set_index("claim")
    assert after.loc["L3-1", "ours_mean"] == pytest.approx(expected, abs=0.05)
    assert before.loc["L3-1", "ours_mean"] != pytest.approx(expected, abs=0.05)
    others = [c for c in before.index if not c.startswith("L3")]
    assert after.loc[others, "ours"].equals(before.loc[others, "ours"])
    page = (out / "06_scorecard.ipynb").read_text()
    assert f"{expected:.1f} ± " in page  # the table the book shows carries the new number
    assert not rebuild()["executed"]  # nothing changed since: the scorecard is kept as it is
