"""Sound localisation scores (Objects that Sound; Senocak et al. 2018 protocol).

A localisation map is an (H, W) array of scores, e.g. the cosine similarity
between an audio embedding and each location of a vision feature map,
upsampled to the frame. Ground truth is the union of the frame's boxes
``[x0, y0, x1, y1]`` in [0, 1] (a pixel belongs to a box when its centre
does). Scores:

- **cIoU** = sum(pred & gt) / (sum(gt) + sum(pred & ~gt)) on a binarised map.
  Repositories disagree on the binarisation; **ours**: min-max normalise the
  map to [0, 1] and keep pixels >= 0.5 (``threshold=0.5``); ``"median"``
  keeps the top half of the pixels instead (as LVS/EZ-VSL code does).
- **AUC** = area (trapezoid) under fraction(cIoU >= t) for t = 0, 0.05, ..., 1.
- **AP50** = mean(cIoU >= 0.5).
- **Pointing game**: the map's maximum is in a box; ties (a flat or
  up-sampled map has several equal maxima) are broken at random, seeded.
- Baselines: a **centre prior** (a Gaussian at the frame centre) and a
  **random point** (expected pointing accuracy = the share of the frame the
  boxes cover; its maps are uniform noise).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from avlib.errors import ConfigError

Box = Sequence[float]  # [x0, y0, x1, y1] in [0, 1]
CIOU_THRESHOLDS = np.round(np.arange(21) * 0.05, 2)  # 0, 0.05, ..., 1


def upsample(maps: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """(B,h,w) maps bilinearly up-sampled to (B,H,W) (e.g. AVOL's grid to the frame)."""
    return F.interpolate(maps[:, None], size=size, mode="bilinear", align_corners=False)[:, 0]


def box_mask(boxes: Sequence[Box], size: tuple[int, int]) -> np.ndarray:
    """(H, W) boolean union of the boxes; a pixel is inside when its centre is."""
    h, w = size
    ys, xs = (np.arange(h) + 0.5) / h, (np.arange(w) + 0.5) / w
    mask = np.zeros(size, dtype=bool)
    for x0, y0, x1, y1 in boxes:
        mask |= ((ys >= y0) & (ys <= y1))[:, None] & ((xs >= x0) & (xs <= x1))[None, :]
    return mask


def binarise(score_map: np.ndarray, threshold: float | str = 0.5) -> np.ndarray:
    """Min-max normalise and keep >= threshold, or keep pixels above the median ('median')."""
    m = np.asarray(score_map, dtype=float)
    if threshold == "median":
        return m > np.median(m)
    span = m.max() - m.min()
    normalised = (m - m.min()) / span if span > 0 else np.zeros_like(m)
    return normalised >= float(threshold)


def ciou(pred: np.ndarray, gt: np.ndarray) -> float:
    """sum(pred & gt) / (sum(gt) + sum(pred & ~gt)) of two boolean masks."""
    if not gt.any():
        raise ConfigError("cIoU needs a frame with at least one ground-truth box")
    return float((pred & gt).sum() / (gt.sum() + (pred & ~gt).sum()))


def pointing_hit(
    score_map: np.ndarray, gt: np.ndarray, rng: np.random.Generator | None = None
) -> bool:
    """Whether the map's maximum falls inside the ground truth (ties broken at random)."""
    m = np.asarray(score_map)
    best = np.flatnonzero(m >= m.max() - 1e-9 * max(1.0, abs(float(m.max()))))
    pick = best[0] if len(best) == 1 else (rng or np.random.default_rng(0)).choice(best)
    return bool(gt.flat[int(pick)])


def auc(cious: Sequence[float]) -> float:
    """Area under fraction(cIoU >= t) over t = 0, 0.05, ..., 1 (trapezoid rule)."""
    c = np.asarray(cious, dtype=float)
    fractions = [(c >= t).mean() for t in CIOU_THRESHOLDS]
    return float(np.trapezoid(fractions, CIOU_THRESHOLDS))


@dataclass(frozen=True)
class LocalisationScores:
    """Mean cIoU, AUC, AP50 and pointing-game accuracy over frames."""

    ciou: float
    auc: float
    ap50: float
    pointing: float
    n: int
    threshold: float | str
    cious: tuple[float, ...]


def localisation_scores(
    maps, boxes: Sequence[Sequence[Box]], threshold: float | str = 0.5, seed: int = 0
) -> LocalisationScores:
    """Score (N,H,W) maps against each frame's ground-truth boxes (ties broken with ``seed``)."""
    rng = np.random.default_rng(seed)
    maps = maps.detach().float().cpu().numpy() if torch.is_tensor(maps) else np.asarray(maps)
    if len(maps) != len(boxes):
        raise ConfigError(f"{len(maps)} maps but {len(boxes)} lists of boxes")
    cious, hits = [], []
    for m, frame_boxes in zip(maps, boxes, strict=True):
        gt = box_mask(frame_boxes, m.shape)
        cious.append(ciou(binarise(m, threshold), gt))
        hits.append(pointing_hit(m, gt, rng))
    c = np.asarray(cious)
    return LocalisationScores(
        ciou=float(c.mean()),
        auc=auc(c),
        ap50=float((c >= 0.5).mean()),
        pointing=float(np.mean(hits)),
        n=len(c),
        threshold=threshold,
        cious=tuple(cious),
    )


def centre_prior_map(size: tuple[int, int] = (224, 224), sigma: float = 0.25) -> np.ndarray:
    """An isotropic Gaussian at the frame centre (sigma as a fraction of the side): the baseline."""
    h, w = size
    ys, xs = (np.arange(h) + 0.5) / h - 0.5, (np.arange(w) + 0.5) / w - 0.5
    return np.exp(-(ys[:, None] ** 2 + xs[None, :] ** 2) / (2 * sigma**2))


def random_point_scores(boxes: Sequence[Sequence[Box]], size: tuple[int, int]) -> float:
    """Expected pointing accuracy of a uniformly random point: the mean share of the frame boxed."""
    return float(np.mean([box_mask(b, size).mean() for b in boxes]))
