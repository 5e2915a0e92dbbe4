"""The world chapter's calibration verdicts and figures (avlib.chapters.world)."""

import pytest

from avlib.chapters import world

GOOD = {
    "esc50_mfcc_svm": 0.475,
    "esc50_cnn": 0.81,
    "esc50_shuffled_excess": 0.0,
    "dcase_mfcc_svm": 0.73,
    "dcase_shuffled_excess": 0.01,
    "shortcut_max_excess": 0.02,
    "mouth_corr_true": 0.62,
    "mouth_best_lag_hit": 1.0,
    "outside_corr_abs": 0.11,
}


def test_every_check_in_band_for_a_calibrated_world():
    table = world.calibration_table({"metrics": GOOD}, "quick")
    assert len(table) == len(world.CHECKS) and (table["verdict"] == "in band").all()


@pytest.mark.parametrize(
    "metric, value",
    [
        ("esc50_mfcc_svm", 0.95),  # too easy: MFCC + SVM should not solve ESC-50
        ("esc50_cnn", 0.99),  # saturated
        ("esc50_shuffled_excess", 0.10),  # shuffled labels learnt: leakage
        ("shortcut_max_excess", 0.30),  # file size predicts the class
        ("mouth_best_lag_hit", 0.2),  # sync not visible at the mouth
    ],
)
def test_a_broken_world_is_flagged(metric, value):
    table = world.calibration_table({"metrics": {**GOOD, metric: value}}, "quick")
    flagged = table[table["verdict"] == "OUTSIDE band"]
    assert len(flagged) == 1
    assert flagged.iloc[0]["measurement"] == next(
        c.measurement for c in world.CHECKS if c.metric == metric
    )


def test_smoke_verdicts_are_not_applicable():
    table = world.calibration_table({"metrics": {**GOOD, "esc50_cnn": 0.0}}, "smoke")
    assert (table["verdict"] == "n/a (smoke)").all()


def test_figures_read_the_world_through_the_readers():
    from avlib.data.world import ensure_world

    root = ensure_world("smoke")  # the same world the smoke notebooks use
    grid = world.frame_grid(root)
    assert len([ax for ax in grid.axes if ax.images]) == 34  # one clip per Kinetics-Sounds class
    assert any(ax.patches for ax in grid.axes)  # ground-truth boxes drawn
    assert len([ax for ax in world.spectrogram_grid(root).axes if ax.images]) == 8
    video, item = world.playable_clip(root)
    html = video._repr_html_()
    assert item.split == "test" and "data:video/mp4;base64," in html and len(html) > 10_000


def test_world_chapter_is_discovered_and_quotes_soundnets_mfcc_baseline():
    from avlib import chapters
    from avlib.claims import references

    assert chapters.get("world") is world and world.NOTEBOOK == "00_world"
    assert not getattr(world, "CLAIMS", [])  # the world tests no paper's claim
    record = {"metrics": {**GOOD, "esc10_mfcc_svm": 0.6, "mouth_corr_other": 0.1}}
    numbers = world.headline_numbers(record, world.calibration_table(record, "quick"))
    assert numbers["world_paper_mfcc"] == references()[world.PAPER_MFCC].format()
    assert numbers["world_in_band"] == f"{len(world.CHECKS)} of {len(world.CHECKS)}"
