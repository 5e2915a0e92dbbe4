"""Localisation metrics on hand-made maps and boxes match hand-computed values."""

import numpy as np
import pytest
import torch

from avlib.errors import ConfigError
from avlib.eval.localisation import (
    auc,
    binarise,
    box_mask,
    centre_prior_map,
    ciou,
    localisation_scores,
    pointing_hit,
    random_point_scores,
    upsample,
)
from avlib.models.blocks import cosine_map

TOP_LEFT = [0.0, 0.0, 0.5, 0.5]


def hand_map():
    """4x4: the top-left 2x2 quadrant and one more pixel are hot."""
    m = np.zeros((4, 4))
    m[:2, :2] = 1.0
    m[2, 2] = 1.0
    return m


def test_box_mask_takes_pixels_whose_centres_are_inside():
    assert box_mask([TOP_LEFT], (4, 4)).sum() == 4
    assert box_mask([[0.25, 0.25, 0.75, 0.75]], (4, 4))[1:3, 1:3].all()
    assert box_mask([TOP_LEFT, [0.5, 0.5, 1.0, 1.0]], (4, 4)).sum() == 8


def test_ciou_pointing_and_both_binarisations_by_hand():
    gt = box_mask([TOP_LEFT], (4, 4))
    pred = binarise(hand_map(), 0.5)
    assert pred.sum() == 5
    assert ciou(pred, gt) == pytest.approx(4 / (4 + 1))  # 4 hits / (4 gt + 1 false positive)
    assert ciou(binarise(hand_map(), "median"), gt) == pytest.approx(0.8)
    peaked = hand_map()
    peaked[0, 1] = 2.0  # one maximum, inside the box
    assert pointing_hit(peaked, gt)
    assert not pointing_hit(peaked, box_mask([[0.5, 0.0, 1.0, 0.5]], (4, 4)))
    with pytest.raises(ConfigError, match="ground-truth box"):
        ciou(pred, np.zeros((4, 4), dtype=bool))


def test_auc_and_ap50_by_hand():
    # fraction(cIoU >= t) is 1 up to t = 0.3, 0.5 up to 0.8, then 0:
    # 0.3 + (1 + 0.5) / 2 * 0.05 + 0.45 * 0.5 + 0.5 / 2 * 0.05 = 0.575
    assert auc([0.8, 0.3]) == pytest.approx(0.575)
    assert auc([1.0]) == pytest.approx(1.0)
    assert auc([0.0]) == pytest.approx(0.025)  # t = 0 counts every frame, as in the protocol
    away = np.zeros((4, 4))
    away[2:, 2:] = 1.0  # hot in the bottom-right quadrant only
    maps = np.stack([hand_map(), away])
    maps[0, 0, 1] = 1.5  # a unique maximum in the box
    scores = localisation_scores(maps, [[TOP_LEFT], [TOP_LEFT]])
    assert scores.cious == pytest.approx((0.8, 0.0))
    assert (scores.ciou, scores.ap50, scores.pointing, scores.n) == (0.4, 0.5, 0.5, 2)


def test_cosine_map_is_the_cosine_per_location_and_upsampling_keeps_the_peak():
    vision = torch.tensor([[[[1.0, 0.0], [0.0, -1.0]], [[0.0, 1.0], [0.0, 0.0]]]])  # (1,2,2,2)
    audio = torch.tensor([[2.0, 0.0]])
    same = cosine_map(vision, audio)
    assert np.allclose(same[0].numpy(), [[1.0, 0.0], [0.0, -1.0]])
    up = upsample(same, (8, 8))
    assert up.shape == (1, 8, 8) and up[0].argmax() == 0  # top-left stays hottest


def test_pointing_ties_are_broken_at_random_not_at_the_first_pixel():
    flat = np.zeros((8, 8))  # every pixel ties: the first one is the top-left corner
    gt = box_mask([[0.5, 0.5, 1.0, 1.0]], (8, 8))  # a quarter of the frame, away from it
    rng = np.random.default_rng(0)
    hits = np.mean([pointing_hit(flat, gt, rng) for _ in range(400)])
    assert 0.18 < hits < 0.32, "a tie is a coin toss weighted by area, not always a miss"


def test_random_point_baseline_is_the_boxed_share_of_the_frame():
    boxes = [[[0.0, 0.0, 0.5, 0.5]], [[0.0, 0.0, 1.0, 0.5]]]
    assert random_point_scores(boxes, (8, 8)) == pytest.approx((0.25 + 0.5) / 2)


def test_centre_prior_points_at_the_centre():
    prior = centre_prior_map((32, 32))
    assert pointing_hit(prior, box_mask([[0.4, 0.4, 0.6, 0.6]], (32, 32)))
    assert not pointing_hit(prior, box_mask([[0.0, 0.0, 0.4, 0.4]], (32, 32)))
    assert localisation_scores(prior[None], [[[0.25, 0.25, 0.75, 0.75]]]).ciou > 0.5
