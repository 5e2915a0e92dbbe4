"""The random-crop sampler, :class:`CropSampler`, of SoundNet's student and the baselines.

A window of ``window_frames`` at a random start of every clip, each clip
equally often, labelled with the clip's class (or -1); the video and audio
windows coincide.
"""

from __future__ import annotations

import numpy as np

from avlib.data.samplers.base import PairSampler, Windows
from avlib.errors import ConfigError


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
