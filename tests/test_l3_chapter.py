"""Numbers and readings the L3 chapter's prose quotes come from results files, never from text."""

import pytest

from avlib import report
from avlib.experiments import l3
from avlib.results import save_result


def _kinetics(tmp_path, scene_nmi, class_nmi):
    for seed, (s, c) in enumerate(zip(scene_nmi, class_nmi, strict=True)):
        metrics = {"avc_acc": 0.6, "nmi_vision": c}
        if s is not None:
            metrics["nmi_vision_scene"] = s
        save_result(
            profile="quick", paper="l3", experiment="l3-kinetics", seed=seed,
            metrics=metrics, results_dir=tmp_path,
        )  # fmt: skip


@pytest.mark.parametrize(
    "scene, cls, reading",
    [
        ((0.78, 0.75, 0.80), (0.20, 0.19, 0.21), "group by scene rather than by object"),
        ((0.10, 0.12, 0.11), (0.30, 0.31, 0.29), "group by object rather than by scene"),
        ((0.30, 0.10, 0.20), (0.20, 0.20, 0.20), "do not group clearly more"),
        ((None, None, None), (0.20, 0.19, 0.21), "were not compared with scenes"),
    ],
)
def test_scene_reading_follows_the_results(tmp_path, scene, cls, reading):
    _kinetics(tmp_path, scene, cls)
    assert l3.scene_reading("quick", tmp_path).startswith(reading)


def test_scene_reading_without_runs_says_so(tmp_path):
    assert l3.scene_reading("quick", tmp_path) == "were not measured (no runs yet)"


def test_headlines_format_nmi_plainly_and_mark_missing_metrics(tmp_path):
    _kinetics(tmp_path, (None, None, None), (0.20, 0.19, 0.21))
    numbers = report.headline_numbers(l3.HEADLINES, "quick", tmp_path)
    assert numbers["l3_nmi_vision"].startswith("0.200 ±") and "%" not in numbers["l3_nmi_vision"]
    assert numbers["l3_nmi_vision_scene"] == "not measured"
    assert numbers["l3_avc"].startswith("60.0 ± 0.0 %")
