"""What every pair sampler shares: the epoch's :class:`Windows`, ``KINDS`` and :class:`PairSampler`.

Clips are the rows of a decoded cache, all ``clip_frames`` long; every time
is in video frames (audio sample ``f * sr / fps`` starts frame ``f``). A
sampler draws an epoch's :class:`Windows` from ``(seed, epoch)`` alone, so a
run is reproducible and a checkpoint (``state_dict``: epoch and position)
resumes with the same remaining sequence. Pairs are balanced
(``_balanced_labels``): half corresponding (label 1), half not (label 0).
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
