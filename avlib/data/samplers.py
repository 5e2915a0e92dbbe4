"""The papers' pair logic, once: deterministic, seedable, resumable samplers of audio/video windows.

Clips are the rows of a decoded cache, all ``clip_frames`` long; every time
is in video frames (audio sample ``f * sr / fps`` starts frame ``f``). A
sampler draws an epoch's :class:`Windows` from ``(seed, epoch)`` alone, so a
run is reproducible and a checkpoint (``state_dict``: epoch and position)
resumes with the same remaining sequence. Pairs are balanced: half
corresponding (label 1), half not (label 0).

- :class:`AVCSampler` (L3): a frame and the audio around it, from the same
  clip or (negative) from another clip.
- :class:`AVTSSampler` (AVTS): aligned clips vs easy (other clip), hard (same
  clip, shifted by >= ``min_hard_shift`` frames) and super-hard (same clip,
  overlapping shift <= ``max_superhard_shift``) negatives mixed by a
  :class:`Curriculum`. Given each clip's event period (:func:`event_period`),
  same-clip shifts within ``alias_tolerance`` frames of a multiple of it (near
  aliases of a periodic sound) are avoided where another shift exists;
  :meth:`AVTSSampler.state` says what an epoch holds (mix, shares, aliases left).
- :class:`ShiftedNegativeSampler` (attention paper): same-video negatives at a
  non-corresponding time.
- :class:`OffsetCandidatesSampler` (Perfect Match): one video window vs N
  audio windows at distinct offsets, the true (zero) offset's index as label.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, fields

import numpy as np

from avlib.errors import ConfigError

KINDS = ("positive", "easy", "hard", "superhard")  # Windows.kind codes 0..3


@dataclass(frozen=True)
class Windows:
    """One epoch's samples; audio fields are (n, K) for K candidates, else (n,)."""

    video_clip: np.ndarray
    video_start: np.ndarray  # first frame of the video window
    audio_clip: np.ndarray
    audio_start: np.ndarray  # first frame of the audio window
    label: np.ndarray  # 1/0 correspondence, or the true candidate's index
    offset_frames: np.ndarray  # audio start - aligned start (same clip); 0 across clips
    kind: np.ndarray  # index into KINDS

    def __len__(self) -> int:
        return len(self.video_clip)

    def __getitem__(self, s: slice) -> Windows:
        return Windows(**{f.name: getattr(self, f.name)[s] for f in fields(self)})


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


class PairSampler(ABC):
    """Base: draws epochs deterministically, serves them in order, checkpoints its position."""

    salt = 0

    def __init__(
        self,
        n_clips: int,
        clip_frames: int,
        *,
        video_frames: int,
        audio_frames: int,
        samples_per_epoch: int | None = None,
        centre_audio: bool = False,
        seed: int = 0,
    ):
        if (
            n_clips < 1
            or not 1 <= video_frames <= clip_frames
            or not 1 <= audio_frames <= clip_frames
        ):
            raise ConfigError(
                f"need clips and windows that fit: {n_clips} clips of {clip_frames} frames, "
                f"video {video_frames}, audio {audio_frames} frames"
            )
        self.n_clips, self.clip_frames = n_clips, clip_frames
        self.video_frames, self.audio_frames = video_frames, audio_frames
        self.samples_per_epoch = samples_per_epoch or n_clips
        self.align = (video_frames - audio_frames) // 2 if centre_audio else 0
        self.seed, self.epoch, self.position = seed, 0, 0
        self._cache: tuple[int, Windows] | None = None

    def config(self) -> dict:
        """The parameters that define the sequence (checked on resume)."""
        return {
            "class": type(self).__name__,
            "n_clips": self.n_clips,
            "clip_frames": self.clip_frames,
            "video_frames": self.video_frames,
            "audio_frames": self.audio_frames,
            "samples_per_epoch": self.samples_per_epoch,
            "align": self.align,
        }

    def __len__(self) -> int:
        return self.samples_per_epoch

    def set_epoch(self, epoch: int) -> None:
        """Start ``epoch`` from its beginning."""
        self.epoch, self.position = int(epoch), 0

    def windows(self, epoch: int | None = None) -> Windows:
        """All samples of ``epoch`` (default: the current one)."""
        epoch = self.epoch if epoch is None else epoch
        if self._cache is None or self._cache[0] != epoch:
            rng = np.random.default_rng([self.seed, epoch, self.salt])
            self._cache = (epoch, self._draw(rng, epoch, self.samples_per_epoch))
        return self._cache[1]

    def take(self, n: int) -> Windows:
        """The next ``n`` samples of the current epoch (fewer at its end); advances the position."""
        out = self.windows()[self.position : self.position + n]
        self.position += len(out)
        return out

    def state_dict(self) -> dict:
        """Epoch, position and the configuration, to resume exactly."""
        return {
            "epoch": self.epoch,
            "position": self.position,
            "seed": self.seed,
            "config": self.config(),
        }

    def load_state_dict(self, state: dict) -> None:
        """Resume at a saved position; ConfigError when the sampler is configured differently."""
        if state.get("seed") != self.seed or state.get("config") != self.config():
            raise ConfigError(
                f"sampler state is for seed {state.get('seed')} / {state.get('config')}, "
                f"this sampler is seed {self.seed} / {self.config()}"
            )
        self.epoch, self.position = int(state["epoch"]), int(state["position"])

    # --- drawing helpers ------------------------------------------------------------------
    @abstractmethod
    def _draw(self, rng: np.random.Generator, epoch: int, n: int) -> Windows:
        """The ``n`` samples of ``epoch``, from ``rng`` alone."""

    def _clips(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Clip of each sample: every clip equally often, in random order."""
        reps = -(-n // self.n_clips)
        return np.concatenate([rng.permutation(self.n_clips) for _ in range(reps)])[:n]

    def _aligned_starts(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Video starts whose aligned audio window also fits in the clip."""
        lo = max(0, -self.align)
        hi = min(
            self.clip_frames - self.video_frames, self.clip_frames - self.audio_frames - self.align
        )
        if hi < lo:
            raise ConfigError(f"aligned windows do not fit in {self.clip_frames}-frame clips")
        return rng.integers(lo, hi + 1, n)

    def _shifted(self, rng, v: np.ndarray, min_shift: int, max_shift: int) -> np.ndarray:
        """Audio starts a in the clip with min_shift <= |a - (v + align)| <= max_shift."""
        centre = v + self.align
        last = self.clip_frames - self.audio_frames
        left_lo, left_hi = np.maximum(centre - max_shift, 0), np.minimum(centre - min_shift, last)
        right_lo, right_hi = np.maximum(centre + min_shift, 0), np.minimum(centre + max_shift, last)
        n_left = np.clip(left_hi - left_lo + 1, 0, None)
        n_right = np.clip(right_hi - right_lo + 1, 0, None)
        if ((n_left + n_right) == 0).any():
            raise ConfigError("a window has no valid shift: the clips are too short for it")
        u = rng.integers(0, n_left + n_right)
        return np.where(u < n_left, left_lo + u, right_lo + u - n_left)

    def _starts_with_shifts(self, rng, n: int, min_shift: int, max_shift: int) -> np.ndarray:
        """Video starts (aligned audio fits) for which some shift in [min_shift, max_shift] exists."""
        v_all = np.arange(self.clip_frames - self.video_frames + 1)
        centre, last = v_all + self.align, self.clip_frames - self.audio_frames
        ok = (centre >= 0) & (centre <= last)
        ok &= (np.minimum(centre - min_shift, last) >= np.maximum(centre - max_shift, 0)) | (
            np.minimum(centre + max_shift, last) >= np.maximum(centre + min_shift, 0)
        )
        if not ok.any():
            raise ConfigError(
                f"{self.clip_frames}-frame clips are too short for {self.audio_frames}-frame audio "
                f"windows shifted by {min_shift}..{max_shift} frames"
            )
        return rng.choice(v_all[ok], n)

    def _other_clips(self, rng, clips: np.ndarray, groups: np.ndarray | None = None) -> np.ndarray:
        """Another clip for each of ``clips``: any other, or another of the same group."""
        if self.n_clips < 2:
            raise ConfigError("negatives from another clip need at least 2 clips")
        if groups is None:
            return (clips + rng.integers(1, self.n_clips, len(clips))) % self.n_clips
        out = np.empty_like(clips)
        for g in np.unique(groups[clips]):
            members = np.flatnonzero(groups == g)
            if len(members) < 2:
                raise ConfigError(f"group {g} has one clip: no negative of the same group")
            mine = groups[clips] == g
            pos = np.searchsorted(members, clips[mine])
            pick = (pos + rng.integers(1, len(members), int(mine.sum()))) % len(members)
            out[mine] = members[pick]
        return out


def _balanced_labels(rng, n: int) -> np.ndarray:
    """n labels, exactly half 1 (the extra one of an odd n is 1), in random order."""
    return rng.permutation((np.arange(n) < -(-n // 2)).astype(np.int64))


class AVCSampler(PairSampler):
    """L3's audio-visual correspondence: frame(s) + the audio centred on them, same clip or another.

    With ``groups`` (one label per clip, e.g. its scene), a negative's audio
    comes from another clip of the *same* group, so the group alone cannot
    tell positives from negatives.
    """

    salt = 1

    def __init__(
        self,
        n_clips: int,
        clip_frames: int,
        *,
        video_frames: int = 1,
        audio_frames: int = 25,
        samples_per_epoch: int | None = None,
        groups: np.ndarray | None = None,
        seed: int = 0,
    ):
        self.groups = None if groups is None else np.asarray(groups)
        if self.groups is not None and len(self.groups) != n_clips:
            raise ConfigError(f"{len(self.groups)} group labels for {n_clips} clips")
        super().__init__(
            n_clips,
            clip_frames,
            video_frames=video_frames,
            audio_frames=audio_frames,
            samples_per_epoch=samples_per_epoch,
            centre_audio=True,
            seed=seed,
        )

    def _draw(self, rng, epoch, n) -> Windows:
        clip = self._clips(rng, n)
        label = _balanced_labels(rng, n)
        v = self._aligned_starts(rng, n)
        other = self._other_clips(rng, clip, self.groups)
        a_clip = np.where(label == 1, clip, other)
        a_free = rng.integers(0, self.clip_frames - self.audio_frames + 1, n)
        a = np.where(label == 1, v + self.align, a_free)
        return Windows(clip, v, a_clip, a, label, np.zeros(n, np.int64), np.where(label == 1, 0, 1))

    def config(self) -> dict:
        groups = None if self.groups is None else int(np.unique(self.groups).size)
        return super().config() | {"groups": groups}


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


class OffsetCandidatesSampler(PairSampler):
    """Perfect Match: one video window against N audio windows of the same clip at distinct offsets.

    Offset o puts the audio window at ``video_start + align + o``; ``align`` is 0,
    or with ``centre_audio`` the shift that centres a longer audio window (e.g.
    5 video frames with 7 frames of audio: one frame of context each side) on
    the video window. With ``windows_per_clip`` W, each run of W consecutive
    samples comes from one clip (a batch of a multiple of W samples holds
    whole runs), so a fully convolutional audio stream can embed each clip
    once per batch (:class:`~avlib.data.datasets.CandidateStripBatches`).
    """

    salt = 4

    def __init__(
        self,
        n_clips: int,
        clip_frames: int,
        *,
        n_candidates: int = 40,
        max_offset: int = 30,
        video_frames: int = 5,
        audio_frames: int = 5,
        centre_audio: bool = False,
        windows_per_clip: int = 1,
        samples_per_epoch: int | None = None,
        seed: int = 0,
    ):
        super().__init__(
            n_clips,
            clip_frames,
            video_frames=video_frames,
            audio_frames=audio_frames,
            samples_per_epoch=samples_per_epoch,
            centre_audio=centre_audio,
            seed=seed,
        )
        if windows_per_clip < 1:
            raise ConfigError(f"windows_per_clip must be at least 1, got {windows_per_clip}")
        self.windows_per_clip = windows_per_clip
        if not 2 <= n_candidates <= 2 * max_offset + 1:
            raise ConfigError(
                f"{n_candidates} candidates need 2..{2 * max_offset + 1} (2 x max_offset + 1)"
            )
        self.n_candidates, self.max_offset = n_candidates, max_offset
        v_all = np.arange(clip_frames - video_frames + 1)
        grid = v_all[:, None] + self.align + np.arange(-max_offset, max_offset + 1)[None, :]
        inside = (grid >= 0) & (grid <= clip_frames - audio_frames)
        self._room = (inside.sum(1) >= n_candidates) & inside[:, max_offset]  # truth inside too
        if not self._room.any():
            raise ConfigError(
                f"{clip_frames}-frame clips cannot hold {n_candidates} distinct offsets"
            )

    def config(self) -> dict:
        return super().config() | {
            "n_candidates": self.n_candidates,
            "max_offset": self.max_offset,
            "windows_per_clip": self.windows_per_clip,
        }

    def _clips(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Clip of each sample: ``windows_per_clip`` consecutive samples share a clip."""
        w = self.windows_per_clip
        return np.repeat(super()._clips(rng, -(-n // w)), w)[:n]

    def _draw(self, rng, epoch, n) -> Windows:
        clip = self._clips(rng, n)
        v = rng.choice(np.flatnonzero(self._room), n)
        offsets = np.arange(-self.max_offset, self.max_offset + 1)
        a_all = v[:, None] + self.align + offsets[None, :]
        valid = (a_all >= 0) & (a_all <= self.clip_frames - self.audio_frames) & (offsets != 0)
        keys = np.where(valid, rng.random(valid.shape), np.inf)
        others = offsets[np.argsort(keys, axis=1)[:, : self.n_candidates - 1]]
        cands = np.concatenate([others, np.zeros((n, 1), np.int64)], axis=1)
        cands = np.take_along_axis(cands, np.argsort(rng.random(cands.shape), axis=1), axis=1)
        target = np.argmax(cands == 0, axis=1)
        clips = np.repeat(clip[:, None], self.n_candidates, axis=1)
        a = v[:, None] + self.align + cands
        return Windows(clip, v, clips, a, target, cands, np.zeros(n, np.int64))


class CropSampler(PairSampler):
    """Random crops: a window of ``window_frames`` at a random start of every clip, each clip
    equally often (SoundNet's student and baselines; ``label`` is the clip's class, or -1)."""

    salt = 6

    def __init__(
        self,
        n_clips: int,
        clip_frames: int,
        window_frames: int,
        *,
        labels: np.ndarray | None = None,
        samples_per_epoch: int | None = None,
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
        self.labels = np.full(n_clips, -1, np.int64) if labels is None else np.asarray(labels)
        if len(self.labels) != n_clips:
            raise ConfigError(f"{len(self.labels)} labels for {n_clips} clips")

    def _draw(self, rng, epoch, n) -> Windows:
        clips = self._clips(rng, n)
        starts = rng.integers(0, self.clip_frames - self.video_frames + 1, n)
        zeros = np.zeros(n, np.int64)
        return Windows(clips, starts, clips, starts, self.labels[clips], zeros, zeros)
