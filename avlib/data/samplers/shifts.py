"""Time-shift negatives: AVTS's curriculum sampler and the attention paper's shifted negatives.

:class:`AVTSSampler` (AVTS) pairs aligned clips with easy (other clip), hard
(same clip, shifted by >= ``min_hard_shift`` frames) and super-hard (same
clip, overlapping shift <= ``max_superhard_shift``) negatives mixed by a
:class:`Curriculum`. Given each clip's event period (:func:`event_period`),
same-clip shifts within ``alias_tolerance`` frames of a multiple of it (near
aliases of a periodic sound) are avoided where another shift exists;
:meth:`AVTSSampler.state` says what an epoch holds (mix, shares, aliases
left). :class:`ShiftedNegativeSampler` (attention paper) draws only
same-video negatives at a non-corresponding time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from avlib.data.samplers.base import KINDS, PairSampler, Windows, _balanced_labels
from avlib.errors import ConfigError


@dataclass(frozen=True)
class Curriculum:
    """Negative mix per epoch: ``stages`` = ((first epoch, 0-based), {kind: weight}), ...)."""

    stages: tuple[tuple[int, tuple[tuple[str, float], ...]], ...]

    @classmethod
    def constant(cls, **mix: float) -> Curriculum:
        """The same mix every epoch, e.g. ``Curriculum.constant(easy=1)``."""
        return cls(((0, tuple(sorted(mix.items()))),))

    @classmethod
    def avts(cls, epochs: int = 90, superhard: float = 0.0) -> Curriculum:
        """AVTS: epochs 1-50 of 90 easy only, then easy:hard 3:1 (+ super-hard), scaled to ``epochs``."""
        switch = max(1, round(epochs * 50 / 90))
        later = {"easy": 3.0, "hard": 1.0} | ({"superhard": superhard} if superhard else {})
        return cls(((0, (("easy", 1.0),)), (switch, tuple(sorted(later.items())))))

    def mix(self, epoch: int) -> dict[str, float]:
        """{kind: weight} in force at ``epoch`` (0-based)."""
        return dict(max((s for s in self.stages if s[0] <= epoch), key=lambda s: s[0])[1])


def event_period(
    events_s, fps: float, *, min_events: int = 4, max_variation: float = 0.15
) -> float:
    """The period in video frames of regularly spaced events (onset times in seconds), or NaN
    when there are too few or their gaps vary by more than ``max_variation`` (std / mean)."""
    e = np.sort(np.asarray(events_s, dtype=float))
    if e.size < min_events:
        return float("nan")
    gaps = np.diff(e)
    if gaps.mean() <= 0 or gaps.std() / gaps.mean() > max_variation:
        return float("nan")
    return float(np.median(gaps) * fps)


def _largest_remainder(total: int, weights: dict[str, float]) -> dict[str, int]:
    """Split ``total`` in proportion to ``weights`` exactly (ties by name)."""
    names = sorted(weights)
    w = np.array([weights[k] for k in names], float)
    if (w < 0).any() or w.sum() <= 0:
        raise ConfigError(f"negative mix weights must be >= 0 and not all 0: {weights}")
    raw = total * w / w.sum()
    counts = np.floor(raw).astype(int)
    for i in np.argsort(-(raw - counts), kind="stable")[: total - counts.sum()]:
        counts[i] += 1
    return dict(zip(names, counts.tolist(), strict=True))


class AVTSSampler(PairSampler):
    """AVTS: aligned pairs vs easy / hard / super-hard negatives mixed by a curriculum.

    ``periods`` (one per clip, in frames; NaN for an aperiodic or unknown clip)
    makes same-clip negatives avoid shifts within ``alias_tolerance`` frames of a
    multiple of the clip's period: for a periodic sound such a shift sounds in
    sync. Where every allowed shift is an alias (a fast period) one is drawn
    anyway and counted (:meth:`aliases`, :meth:`state`).
    """

    salt = 2

    def __init__(
        self,
        n_clips: int,
        clip_frames: int,
        *,
        window_frames: int = 25,
        curriculum: Curriculum | None = None,
        min_hard_shift: int = 13,
        max_superhard_shift: int = 5,
        samples_per_epoch: int | None = None,
        periods: np.ndarray | None = None,
        alias_tolerance: float = 1.0,
        seed: int = 0,
    ):
        super().__init__(
            n_clips,
            clip_frames,
            video_frames=window_frames,
            audio_frames=window_frames,
            samples_per_epoch=samples_per_epoch,
            seed=seed,
        )
        if not 1 <= max_superhard_shift < window_frames or min_hard_shift < 1:
            raise ConfigError(
                f"super-hard shifts (<= {max_superhard_shift}) must overlap the {window_frames}-frame "
                f"window and hard shifts (>= {min_hard_shift}) be positive"
            )
        self.curriculum = curriculum or Curriculum.avts()
        self.min_hard_shift, self.max_superhard_shift = min_hard_shift, max_superhard_shift
        self.periods = None if periods is None else np.asarray(periods, dtype=float)
        if self.periods is not None and self.periods.shape != (n_clips,):
            raise ConfigError(f"{self.periods.shape} periods for {n_clips} clips")
        self.alias_tolerance = float(alias_tolerance)

    def config(self) -> dict:
        periodic = None if self.periods is None else int(np.isfinite(self.periods).sum())
        return super().config() | {
            "curriculum": [[s, list(map(list, m))] for s, m in self.curriculum.stages],
            "min_hard_shift": self.min_hard_shift,
            "max_superhard_shift": self.max_superhard_shift,
            "periodic_clips": periodic,
            "alias_tolerance": self.alias_tolerance,
        }

    def _alias(self, offset: np.ndarray, clip: np.ndarray) -> np.ndarray:
        """Whether each same-clip shift lies within the tolerance of a multiple of its period."""
        if self.periods is None:
            return np.zeros(np.broadcast(offset, clip).shape, bool)
        period = self.periods[clip]
        size = np.abs(offset)
        k = np.maximum(1, np.round(size / np.where(np.isfinite(period), period, 1.0)))
        near = np.abs(size - k * period) <= self.alias_tolerance
        return np.isfinite(period) & near

    def aliases(self, w: Windows) -> np.ndarray:
        """Which of ``w``'s samples are same-clip negatives shifted by a near-multiple of the
        clip's period (always False without periods)."""
        same = (w.kind == KINDS.index("hard")) | (w.kind == KINDS.index("superhard"))
        return same & self._alias(w.offset_frames, w.video_clip)

    def state(self, epoch: int | None = None) -> dict:
        """What ``epoch`` (default: the current one) holds: the curriculum's mix, the share of
        the negatives of each kind, and the share of same-clip negatives that are aliases."""
        epoch = self.epoch if epoch is None else epoch
        w = self.windows(epoch)
        neg = w.label == 0
        counts = {k: int((w.kind[neg] == KINDS.index(k)).sum()) for k in KINDS[1:]}
        n_neg = max(int(neg.sum()), 1)
        same = counts["hard"] + counts["superhard"]
        return {
            "epoch": int(epoch),
            "mix": self.curriculum.mix(epoch),
            **{f"{k}_share": v / n_neg for k, v in counts.items()},
            "alias_share": float(self.aliases(w).sum() / same) if same else 0.0,
        }

    def _same_clip_shifts(self, rng, v, clip, lo: int, hi: int) -> np.ndarray:
        """Audio starts shifted by lo..hi frames, avoiding near-aliases of the clip's period."""
        if self.periods is None:
            return self._shifted(rng, v, lo, hi)
        starts = np.arange(self.clip_frames - self.audio_frames + 1)
        offset = starts[None, :] - (v + self.align)[:, None]
        valid = (np.abs(offset) >= lo) & (np.abs(offset) <= hi)
        good = valid & ~self._alias(offset, clip[:, None])
        use = np.where(good.any(axis=1, keepdims=True), good, valid)
        return starts[np.argmax(np.where(use, rng.random(use.shape), -1.0), axis=1)]

    def _draw(self, rng, epoch, n) -> Windows:
        label = _balanced_labels(rng, n)
        counts = _largest_remainder(int((label == 0).sum()), self.curriculum.mix(epoch))
        unknown = set(counts) - set(KINDS[1:])
        if unknown:
            raise ConfigError(f"unknown negative kind(s) {sorted(unknown)}: use {KINDS[1:]}")
        kind = np.zeros(n, np.int64)
        kind[label == 0] = rng.permutation(
            np.repeat([KINDS.index(k) for k in counts], list(counts.values()))
        )
        clip = self._clips(rng, n)
        v = self._aligned_starts(rng, n)
        a, a_clip = v.copy(), clip.copy()
        easy, hard, superhard = (kind == 1), (kind == 2), (kind == 3)
        a_clip[easy] = self._other_clips(rng, clip[easy])
        a[easy] = rng.integers(0, self.clip_frames - self.audio_frames + 1, int(easy.sum()))
        big = self.clip_frames
        for mask, lo, hi in (
            (hard, self.min_hard_shift, big),
            (superhard, 1, self.max_superhard_shift),
        ):
            if mask.any():
                v[mask] = self._starts_with_shifts(rng, int(mask.sum()), lo, hi)
                a[mask] = self._same_clip_shifts(rng, v[mask], clip[mask], lo, hi)
        offset = np.where(easy, 0, a - v)
        return Windows(clip, v, a_clip, a, label, offset, kind)


class ShiftedNegativeSampler(AVTSSampler):
    """Attention paper: negatives are the same video at a non-corresponding time (>= min_shift frames)."""

    salt = 3

    def __init__(
        self,
        n_clips: int,
        clip_frames: int,
        *,
        window_frames: int = 25,
        min_shift: int = 13,
        samples_per_epoch: int | None = None,
        seed: int = 0,
    ):
        super().__init__(
            n_clips,
            clip_frames,
            window_frames=window_frames,
            curriculum=Curriculum.constant(hard=1.0),
            min_hard_shift=min_shift,
            samples_per_epoch=samples_per_epoch,
            seed=seed,
        )
