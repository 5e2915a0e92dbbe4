"""L3's audio-visual correspondence sampler, :class:`AVCSampler`.

A frame (or a few) and the audio centred on it, from the same clip (label 1)
or, as a negative (label 0), from another clip; with ``groups`` (one label per
clip, e.g. its scene) from another clip of the same group, so the group alone
cannot tell positives from negatives.
"""

from __future__ import annotations

import numpy as np

from avlib.data.samplers.base import PairSampler, Windows, _balanced_labels
from avlib.errors import ConfigError


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
