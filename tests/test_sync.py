"""The sync evaluator finds known offsets, follows SyncNet's definitions, and detects collapse."""

import numpy as np
import pytest

from avlib.eval.sync import (
    collapse_check,
    offset_distances,
    predict_offsets,
    sync_accuracy,
    sync_offset,
    window_distances,
)


def shifted_features(shift: int, t: int = 60, d: int = 16, noise: float = 0.3, seed: int = 0):
    """Audio features and video features that match audio ``shift`` frames later."""
    rng = np.random.default_rng(seed)
    audio = rng.standard_normal((t, d))
    video = rng.standard_normal((t, d))
    for i in range(t):
        if 0 <= i + shift < t:
            video[i] = audio[i + shift] + noise * rng.standard_normal(d)
    return video, audio


def test_offset_distances_by_hand():
    v = np.array([[0.0], [1.0], [2.0]])
    d = offset_distances(v, v, max_offset=1)  # rows: offsets -1, 0, +1
    assert np.array_equal(np.isnan(d), [[True, False, False], [False] * 3, [False, False, True]])
    assert np.nan_to_num(d).tolist() == [[0, 1, 1], [0, 0, 0], [1, 1, 0]]


@pytest.mark.parametrize("shift", [0, 4, -7, 13])
def test_finds_the_true_offset_of_shifted_features(shift):
    video, audio = shifted_features(shift)
    prediction = sync_offset(video, audio, max_offset=15)
    assert prediction.offset == shift and prediction.confidence > 1.0
    assert prediction.distances.shape == (31,)
    curves = window_distances(video, audio, max_offset=15, context=5)
    assert curves.shape == (56, 31)
    # windows whose video frames have no partner inside the clip (|shift| near 15) can miss
    assert sync_accuracy(curves, shift) > 0.8


def test_longer_context_is_more_accurate_on_noisy_features():
    video, audio = shifted_features(3, noise=1.4, seed=1)
    acc = {k: sync_accuracy(window_distances(video, audio, 15, k), 3) for k in (1, 5, 15)}
    assert acc[1] < acc[5] <= acc[15]


def test_confidence_is_median_minus_min_and_tolerance_counts_neighbours():
    curve = np.array([3.0, 1.0, 2.0, 5.0, 4.0])  # offsets -2..2
    offset, confidence = predict_offsets(curve)
    assert offset == -1 and confidence == pytest.approx(3.0 - 1.0)
    assert sync_accuracy(curve[None], [0], tolerance=1) == 1.0
    assert sync_accuracy(curve[None], [0], tolerance=0) == 0.0


def test_collapse_check_fires_on_a_collapsed_model_only():
    rng = np.random.default_rng(0)
    truths = rng.integers(-15, 16, size=200)
    constant = np.ones((60, 8))  # a collapsed model: every embedding the same
    curves = window_distances(constant, constant, 15, context=5)
    collapsed_preds, _ = predict_offsets(curves)
    report = collapse_check(collapsed_preds, 15, true_offsets=truths)
    # all distances tie; argmin takes the first offset with a pair: -15 wherever it has one
    assert report.collapsed and report.edge_fraction > 0.8
    assert not collapse_check(truths, 15, true_offsets=truths).collapsed
    at_edges = np.full(50, 15)  # a test set of edge offsets answered correctly
    assert not collapse_check(at_edges, 15, true_offsets=at_edges).collapsed
    assert collapse_check(np.r_[np.full(60, -15), np.zeros(40)], 15).collapsed
