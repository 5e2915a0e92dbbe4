"""Batches for the trainer: a sampler's windows gathered from decoded-cache arrays, vectorised.

A batch is a dict (ARCHITECTURE.md glossary): ``video`` float (B, 3, T, H, W)
in [0, 1], ``audio`` float (B, S) waveform in [-1, 1] ((B, K, S) for K offset
candidates), ``label`` long (B,), ``offset_frames`` long (B,) or (B, K), and
``meta`` (one dict per sample: clip paths, window starts in seconds, kind);
with K candidates, ``target_index`` (B,) is the in-sync candidate (= ``label``).
``video_class`` / ``audio_class`` (B,) are the class labels of the clips the
video and audio come from (-1 when unlabelled; supervised baselines train on
them). ``video`` is a permuted view of (B, T, H, W, C) memory, i.e. already in
``torch.channels_last_3d`` format.
:class:`Batches` is what the trainer iterates: ``len()`` batches per epoch,
``set_epoch``, ``state_dict`` / ``load_state_dict`` to resume mid-epoch.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import torch

from avlib.data.cache import ClipArrays
from avlib.data.samplers.base import KINDS, PairSampler, Windows
from avlib.errors import ConfigError


class ClipSampler(PairSampler):
    """Whole clips, each once per epoch (shuffled per epoch when asked); ``label`` is the class."""

    salt = 5

    def __init__(
        self, labels: np.ndarray, clip_frames: int, *, shuffle: bool = False, seed: int = 0
    ):
        super().__init__(
            len(labels), clip_frames, video_frames=clip_frames, audio_frames=clip_frames, seed=seed
        )
        self.labels, self.shuffle = np.asarray(labels, np.int64), shuffle

    def config(self) -> dict:
        return super().config() | {"shuffle": self.shuffle}

    def _draw(self, rng, epoch, n) -> Windows:
        order = rng.permutation(n) if self.shuffle else np.arange(n)
        zeros = np.zeros(n, np.int64)
        return Windows(order, zeros, order, zeros, self.labels[order], zeros, zeros)


class Batches:
    """Iterable of batch dicts: ``sampler``'s windows gathered from ``arrays`` (no decoding)."""

    def __init__(
        self,
        arrays: ClipArrays,
        sampler: PairSampler,
        batch_size: int,
        *,
        drop_last: bool = True,
        float_video: bool = True,
        rank: int = 0,
        world_size: int = 1,
    ):
        self.arrays, self.sampler, self.batch_size = arrays, sampler, batch_size
        self.drop_last, self.float_video = drop_last, float_video
        self.rank, self.world_size = rank, world_size
        clip_frames = arrays.frames.shape[1] if arrays.frames is not None else 1
        if sampler.n_clips != len(arrays) or sampler.clip_frames != clip_frames:
            raise ConfigError(
                f"sampler is for {sampler.n_clips} clips of {sampler.clip_frames} frames, the "
                f"arrays hold {len(arrays)} clips of {clip_frames} frames"
            )
        self.samples_per_frame = 0
        if arrays.audio is not None:
            spf = arrays.sr / arrays.fps if arrays.frames is not None else arrays.audio.shape[1]
            if spf != int(spf):
                raise ConfigError(
                    f"sr {arrays.sr} is not a whole number of samples per frame at {arrays.fps} fps"
                )
            self.samples_per_frame = int(spf)
            if self.samples_per_frame * clip_frames > arrays.audio.shape[1]:
                raise ConfigError(
                    f"{clip_frames} frames need {int(spf) * clip_frames} audio samples, clips have {arrays.audio.shape[1]}"
                )
        self._resumed = False

    def __len__(self) -> int:
        """Batches per epoch for this rank."""
        n = (
            len(self.sampler) // self.batch_size
            if self.drop_last
            else math.ceil(len(self.sampler) / self.batch_size)
        )
        return n // self.world_size

    def set_epoch(self, epoch: int) -> None:
        """Start ``epoch``, or continue it when load_state_dict just restored a position inside it."""
        if not (self._resumed and epoch == self.sampler.epoch):
            self.sampler.set_epoch(epoch)
        self._resumed = False

    def state_dict(self) -> dict:
        """The sampler's epoch and position (samples consumed), for a checkpoint."""
        return self.sampler.state_dict()

    def load_state_dict(self, state: dict) -> None:
        """Resume where a checkpoint left off: the next batches are the ones that would have come."""
        self.sampler.load_state_dict(state)
        self._resumed = True

    def _finished(self) -> bool:
        """True once this epoch's batches (for every rank) have been taken."""
        limit = min(len(self.sampler), len(self) * self.world_size * self.batch_size)
        return self.sampler.position >= limit

    def __iter__(self):
        if self._finished():  # a new pass over an epoch already served
            self.sampler.set_epoch(self.sampler.epoch)
        while not self._finished():
            step = self.sampler.position // self.batch_size
            windows = self.sampler.take(self.batch_size)
            if step % self.world_size == self.rank:
                yield self.batch(windows)

    def batch(self, w: Windows) -> dict:
        """Gather one batch of windows from the arrays."""
        s, a = self.sampler, self.arrays
        out = {
            "label": torch.from_numpy(w.label),
            "offset_frames": torch.from_numpy(w.offset_frames),
            "video_class": torch.from_numpy(a.labels[w.video_clip]),
        }
        if w.audio_clip.ndim == 1:
            out["audio_class"] = torch.from_numpy(a.labels[w.audio_clip])
            out["video_clip"] = torch.from_numpy(w.video_clip.astype(np.int64))
            out["audio_clip"] = torch.from_numpy(w.audio_clip.astype(np.int64))
        else:  # K candidates: the label is the index of the in-sync one
            out["target_index"] = out["label"]
        if a.frames is not None:
            t = w.video_start[:, None] + np.arange(s.video_frames)
            video = torch.from_numpy(a.frames[w.video_clip[:, None], t]).permute(0, 4, 1, 2, 3)
            out["video"] = video.float().div_(255.0) if self.float_video else video.contiguous()
        if a.audio is not None:
            n = s.audio_frames * self.samples_per_frame
            first = w.audio_start * self.samples_per_frame
            samples = a.audio[w.audio_clip[..., None], first[..., None] + np.arange(n)]
            scale = a.audio_scale[w.audio_clip][..., None]
            out["audio"] = torch.from_numpy(samples.astype(np.float32) * scale)
        fps = a.fps or (1.0 / a.dur_s if a.dur_s else 1.0)  # audio-only clips: one "frame" per clip
        out["meta"] = [
            {
                "video": a.items[w.video_clip[k]].rel,
                "audio": [a.items[c].rel for c in np.atleast_1d(w.audio_clip[k])],
                "video_start_s": float(w.video_start[k] / fps),
                "audio_start_s": (np.atleast_1d(w.audio_start[k]) / fps).tolist(),
                "kind": KINDS[w.kind[k]],
            }
            for k in range(len(w))
        ]
        return out


def clip_batches(
    arrays: ClipArrays,
    batch_size: int,
    *,
    shuffle: bool = False,
    seed: int = 0,
    drop_last: bool = False,
) -> Batches:
    """Whole clips with their class labels: for probes, fine-tuning and embedding a data set."""
    clip_frames = arrays.frames.shape[1] if arrays.frames is not None else 1
    sampler = ClipSampler(arrays.labels, clip_frames, shuffle=shuffle, seed=seed)
    return Batches(arrays, sampler, batch_size, drop_last=drop_last)


class EmbeddingBatches(Batches):
    """Batches of precomputed per-window embeddings (frozen towers): ``video_emb``, ``audio_emb``.

    ``video_emb[c, f]`` is the embedding of clip c's video window starting at
    frame f, ``audio_emb[c, f]`` likewise for audio; the sampler's windows index
    them, so training a head on frozen features costs no tower forward passes.
    """

    def __init__(
        self,
        video_emb: torch.Tensor,
        audio_emb: torch.Tensor,
        sampler: PairSampler,
        batch_size: int,
        *,
        drop_last: bool = True,
    ):
        n_clips = video_emb.shape[0]
        if sampler.n_clips != n_clips or audio_emb.shape[0] != n_clips:
            raise ConfigError(f"sampler is for {sampler.n_clips} clips, embeddings for {n_clips}")
        self.video_emb, self.audio_emb = video_emb, audio_emb
        self.sampler, self.batch_size = sampler, batch_size
        self.drop_last, self.rank, self.world_size = drop_last, 0, 1
        self._resumed = False

    def batch(self, w: Windows) -> dict:
        """Gather the windows' embeddings."""
        return {
            "video_emb": self.video_emb[w.video_clip, w.video_start],
            "audio_emb": self.audio_emb[w.audio_clip, w.audio_start],
            "label": torch.from_numpy(w.label),
            "video_clip": torch.from_numpy(w.video_clip.astype(np.int64)),
            "audio_clip": torch.from_numpy(w.audio_clip.astype(np.int64)),
        }


class CandidateStripBatches(Batches):
    """Offset candidates as positions in whole-clip audio strips, for fully convolutional streams.

    For an :class:`~avlib.data.samplers.candidates.OffsetCandidatesSampler`: ``audio`` (C, S)
    is the whole waveform of each of the C clips the batch's windows come from,
    ``audio_strip`` (B,) the strip a sample's candidates lie in,
    ``audio_position`` (B, N) the first frame of each candidate's audio window
    (the sampler's audio starts), ``offset_frames`` (B, N) the candidates'
    offsets and ``target_index`` (B,) the in-sync one. With several windows per
    clip (the sampler's ``windows_per_clip``), one pass of an audio stream over
    a strip serves all their candidates (Perfect Match's N = 40 costs a few
    clips of audio per batch, not 40 windows per sample).
    """

    def batch(self, w: Windows) -> dict:
        """Video windows, whole-clip audio strips and the candidates' positions in them."""
        s, a = self.sampler, self.arrays
        out = super().batch(
            replace(w, audio_clip=w.video_clip, audio_start=w.video_start + s.align)
        )
        clips, strip = np.unique(w.video_clip, return_inverse=True)
        out["audio"] = torch.from_numpy(
            a.waveform(clips)[:, : s.clip_frames * self.samples_per_frame]
        )
        out["audio_strip"] = torch.from_numpy(strip.astype(np.int64))
        out["audio_position"] = torch.from_numpy(w.audio_start)
        out["offset_frames"] = torch.from_numpy(w.offset_frames)
        out["target_index"] = torch.from_numpy(w.label)
        return out
