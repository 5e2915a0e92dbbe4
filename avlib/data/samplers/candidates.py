"""Perfect Match's offset-candidates sampler, :class:`OffsetCandidatesSampler`.

One video window against N audio windows of the same clip at distinct
offsets, the true (zero) offset's index as the label; ``windows_per_clip``
keeps runs of consecutive samples on one clip, so a fully convolutional audio
stream can embed each clip once per batch.
"""

from __future__ import annotations

import numpy as np

from avlib.data.samplers.base import PairSampler, Windows
from avlib.errors import ConfigError


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
