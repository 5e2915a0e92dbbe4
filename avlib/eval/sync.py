"""Audio-visual offset search (SyncNet, Perfect Match): which audio shift matches the video?

Inputs are per-frame features at the video frame rate: ``video`` (T,D) (a
feature per frame, e.g. of the 5-frame window centred on it) and ``audio``
(T,D) (the audio window aligned with each frame). For an offset o (frames;
positive = audio late, as ``offset_frames`` in ARCHITECTURE.md) the distance
at frame t is ||video[t] - audio[t + o]||; pairs that fall outside the clip
are NaN and ignored. Definitions, as syncnet_python:

- offset = the o that minimises the mean distance over the frames considered;
- confidence = median over o of the mean distance - its minimum;
- with a context of K frames, each window of K consecutive frames predicts
  an offset (Perfect Match reports K = 5 and 15); a prediction is correct
  within ``tolerance`` frames (±1) of the true offset.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch

from avlib.errors import ConfigError


def _array(x) -> np.ndarray:
    return x.detach().float().cpu().numpy() if torch.is_tensor(x) else np.asarray(x, dtype=float)


def offsets(max_offset: int) -> np.ndarray:
    """The search range -max_offset..max_offset."""
    return np.arange(-max_offset, max_offset + 1)


def offset_distances(video, audio, max_offset: int = 15) -> np.ndarray:
    """(O, T) distances ||video[t] - audio[t + o]|| for o in -max..max (NaN off the clip)."""
    v, a = _array(video), _array(audio)
    if v.ndim != 2 or v.shape != a.shape:
        raise ConfigError(f"video {v.shape} and audio {a.shape} features must both be (T, D)")
    t = len(v)
    out = np.full((2 * max_offset + 1, t), np.nan)
    for i, o in enumerate(offsets(max_offset)):
        lo, hi = max(0, -o), min(t, t - o)
        if lo < hi:
            out[i, lo:hi] = np.linalg.norm(v[lo:hi] - a[lo + o : hi + o], axis=1)
    return out


def window_distances(video, audio, max_offset: int = 15, context: int | None = 5) -> np.ndarray:
    """(W, O) mean distance curves over each window of ``context`` frames (None: the clip)."""
    d = offset_distances(video, audio, max_offset)
    if context is None:
        return np.nanmean(d, axis=1)[None]
    if context > d.shape[1]:
        raise ConfigError(f"context of {context} frames is longer than the clip ({d.shape[1]})")
    windows = np.lib.stride_tricks.sliding_window_view(d, context, axis=1)  # (O, W, K)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # offsets with no pair in a window: NaN
        return np.nanmean(windows, axis=2).T


def context_distances(video, audio, max_offset: int = 15, context: int = 5) -> np.ndarray:
    """(W, O) mean distance curves of the LRS2 protocol: every window of ``context`` frames
    for which each offset in -max..max has all its pairs inside the clip (so no offset is
    averaged over fewer frames); (0, O) when the clip is too short for one."""
    n = len(_array(video))
    last = n - context + 1 - max_offset  # one past the last window start whose pairs all fit
    if last <= max_offset:
        return np.empty((0, 2 * max_offset + 1))
    return window_distances(video, audio, max_offset, context)[max_offset:last]


def min_frames(max_offset: int = 15, context: int = 5) -> int:
    """Feature frames a clip needs for one protocol window: ``context + 2 * max_offset``."""
    return context + 2 * max_offset


@dataclass(frozen=True)
class SyncPrediction:
    """A clip's predicted offset (frames), its confidence and the mean distance curve."""

    offset: int
    confidence: float
    min_distance: float
    distances: np.ndarray  # (O,) mean distance per offset


def predict_offsets(distances: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Offsets (argmin) and confidences (median - min) of (..., O) distance curves."""
    d = np.asarray(distances, dtype=float)
    max_offset = (d.shape[-1] - 1) // 2
    pred = offsets(max_offset)[np.nanargmin(d, axis=-1)]
    confidence = np.nanmedian(d, axis=-1) - np.nanmin(d, axis=-1)
    return pred, confidence


def sync_offset(video, audio, max_offset: int = 15) -> SyncPrediction:
    """The offset of a whole clip, as syncnet_python reports it (AV offset, min dist, conf)."""
    curve = window_distances(video, audio, max_offset, context=None)[0]
    pred, conf = predict_offsets(curve)
    return SyncPrediction(int(pred), float(conf), float(np.nanmin(curve)), curve)


def sync_accuracy(distances, true_offset, tolerance: int = 1) -> float:
    """Fraction of (..., O) distance curves whose argmin is within ``tolerance`` of the truth."""
    pred, _ = predict_offsets(distances)
    return float(np.mean(np.abs(pred - np.asarray(true_offset)) <= tolerance))


@dataclass(frozen=True)
class CollapseReport:
    """Whether predictions pile up at the edges of the search range."""

    collapsed: bool
    edge_fraction: float  # predictions within ``edge`` frames of ±max_offset
    expected_edge_fraction: float  # from the true offsets, or a uniform spread
    max_edge_fraction: float


def collapse_check(
    predicted_offsets,
    max_offset: int = 15,
    *,
    edge: int = 2,
    max_edge_fraction: float = 0.5,
    true_offsets=None,
) -> CollapseReport:
    """Flag a model whose answers sit at the edges of the range (a collapsed embedding).

    Collapsed when more than ``max_edge_fraction`` of the answers lie in the
    ``edge`` outermost offsets at either end, and that is more than twice what
    the truth (or, without it, a uniform spread) puts there.
    """
    pred = np.abs(np.asarray(predicted_offsets))
    at_edge = float(np.mean(pred > max_offset - edge))
    if true_offsets is None:
        expected = 2 * edge / (2 * max_offset + 1)
    else:
        expected = float(np.mean(np.abs(np.asarray(true_offsets)) > max_offset - edge))
    collapsed = at_edge > max_edge_fraction and at_edge > 2 * expected
    return CollapseReport(collapsed, at_edge, expected, max_edge_fraction)
