"""Perfect Match and its baselines: SyncNet's two streams under three objectives, and a lip reader.

Chung, Chung & Kang, "Perfect Match: Improved cross-modal embeddings for
audio-visual synchronisation", ICASSP 2019 (https://arxiv.org/abs/1809.08001);
SyncNet: Chung & Zisserman, "Out of time: automated lip sync in the wild",
ACCV workshops 2016, as released in syncnet_python. Facts: PAPERS.md §3.

Streams (VGG-M-like, as SyncNet; in :mod:`avlib.models.sync_streams`):

- audio: 13 MFCCs x 20 steps (0.2 s at 100 Hz) -> five 3x3 convs with two
  max-pools -> a (5, 1) conv to 1 x 1 -> FC -> FC (the embedding);
- video: 5 grey mouth-region frames -> a 5x7x7 conv over (time, height, width)
  -> four convs and three max-pools per frame -> a conv spanning the map -> FC -> FC.

Both streams are fully convolutional along time with exact windows: T video
frames give T - 4 per-frame features, each equal to that of its own 5-frame
window, and audio of T + 2 frames (one frame of context each side, so the MFCC
columns never see padding) gives T - 4 audio features the same way. Training
on 5-frame windows and searching offsets over a whole clip
(:mod:`avlib.eval.sync`) therefore see the same features.

One class per objective, all on this trunk:

- :class:`SyncNetPairs` (``syncnet``): contrastive loss on (video, audio) pairs.
- :class:`SyncAVENet` (``sync-avenet``): L2-normalised embeddings, Euclidean
  distance -> FC -> 2-way (AVE-Net, Objects that Sound), cross-entropy.
- :class:`MultiWaySync` (``multiway``): one video feature against N audio
  candidates at different offsets, softmax over -distance, cross-entropy
  (Perfect Match §2).
- :class:`SyncWordNet` (``sync-words``): the video stream + a temporal-conv
  back-end (TC-5 style) for word recognition (LRW), trained end to end or on
  a frozen front-end's per-frame features.

Batches (ARCHITECTURE.md): ``video`` (B,3,5,H,W) whole frames in [0, 1] (the
model crops the mouth region ``mouth_box`` and makes it grey), ``audio``
(B,K,S) K candidate windows of 7 frames of waveform at ``sr``, and
``target_index`` (B,) the in-sync candidate.

Deviations from the papers: the CPU presets shrink widths and the mouth crop;
convolutions are padded so any crop size works (the last video conv spans
what is left of the map: 7 x 7 at 112 px); the audio convs are unpadded along
time so windows are exact (syncnet_python pads them); the pair baselines see
one in-sync and one shifted candidate of the same clip per video window, the
same offsets the multi-way objective sees.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import nn

from avlib.errors import ConfigError
from avlib.losses import ContrastiveLoss, CrossEntropyLoss, MultiWayLoss, euclidean
from avlib.models import register
from avlib.models.sync_streams import (
    CONTEXT,
    MFCC_PER_FRAME,
    WINDOW,
    AudioStream,
    VideoStream,
    mouth_frames,
)

# AVE-Net's distance -> FC starts with the sign that makes a small distance a match (ours: a
# default-initialised 1 -> 2 layer stayed at chance and could learn "far = match", which
# inverts the offset search on distances)
FUSION_SCALE = 5.0


@dataclass(frozen=True)
class Config:
    """Hyper-parameters; defaults are the paper's (SyncNet's streams, PAPERS.md §3)."""

    # conv1 ... conv5, fc6 of the video stream (VGG-M as in SyncNet / syncnet_python)
    video_widths: tuple[int, ...] = (96, 256, 256, 256, 256, 512)
    # conv1 ... conv5, fc6 of the audio stream (syncnet_python)
    audio_widths: tuple[int, ...] = (64, 192, 384, 256, 256, 512)
    embed_dim: int = 1024  # FC output of both streams (syncnet_python)
    mouth_size: int = 112  # grey mouth crop side (SyncNet: about 111 px)
    frame_size: int = 224  # decoded frame side the mouth box is cut from
    mouth_box: tuple[float, float, float, float] = (0.25, 0.5, 0.5, 0.5)  # x, y, w, h of the frame
    sr: int = 16_000  # MFCC input rate (syncnet_python: 16 kHz)
    fps: int = 25  # video rate: 4 MFCC steps per frame
    n_candidates: int = 40  # multi-way: N audio candidates (best N in the paper, PAPERS.md §3)
    max_offset: int = 30  # training candidates within +-max_offset frames (ours)
    margin: float = 0.99  # contrastive margin on unit embeddings (ours, as AVTS)
    augment: bool = False  # training only: random shift of the mouth crop (ours)
    n_words: int = 500  # word classes (LRW: 500)
    tc_width: int = 256  # TC-5 back-end channels (ours: PAPERS.md gives none)
    frozen_frontend: bool = False  # sync-words: train the back-end on frozen features
    lr: float = 1e-4  # Adam (ours: PAPERS.md gives none)
    weight_decay: float = 0.0
    batch_size: int = 64  # video windows per batch (ours)


# CPU presets: the quick world's frames are 96 px with the mouth in their lower middle, so a
# 48-px grey crop keeps its native resolution.
PRESETS: dict[str, dict] = {
    "paper": {},
    "full": {
        "video_widths": (48, 96, 128, 128, 128, 256),
        "audio_widths": (32, 96, 128, 128, 128, 256),
        "embed_dim": 256,
        "mouth_size": 64,
        "frame_size": 128,
        "augment": True,
        "n_words": 60,
        "tc_width": 128,
        "lr": 1e-3,
        "batch_size": 128,
    },
    "quick": {
        "video_widths": (16, 32, 32, 32, 32, 64),
        "audio_widths": (8, 16, 32, 32, 32, 64),
        "embed_dim": 64,
        "mouth_size": 32,
        "frame_size": 64,
        "augment": True,
        "n_words": 24,
        "tc_width": 64,
        "lr": 2e-3,
        "batch_size": 32,
    },
    "smoke": {
        "video_widths": (4, 8, 8, 8, 8, 16),
        "audio_widths": (4, 8, 8, 8, 8, 16),
        "embed_dim": 16,
        "mouth_size": 32,
        "frame_size": 64,
        "n_candidates": 8,
        "max_offset": 8,
        "n_words": 6,
        "tc_width": 16,
        "lr": 2e-3,
        "batch_size": 16,
    },
}


def config(preset: str = "quick", **overrides) -> Config:
    """The paper's Config scaled by a preset (paper, full, quick, smoke), with overrides."""
    cfg = replace(Config(), **{**PRESETS[preset], **overrides})
    if len(cfg.video_widths) != 6 or len(cfg.audio_widths) != 6:
        raise ConfigError("video_widths and audio_widths need 6 entries (conv1-conv5, fc6)")
    if cfg.sr % cfg.fps or (cfg.sr // cfg.fps) % MFCC_PER_FRAME:
        raise ConfigError(f"sr {cfg.sr} must give a whole number of MFCC hops per frame")
    if not 2 <= cfg.n_candidates <= 2 * cfg.max_offset + 1:
        raise ConfigError(
            f"{cfg.n_candidates} candidates need max_offset >= {cfg.n_candidates // 2}"
        )
    return cfg


def samples_per_frame(cfg: Config) -> int:
    """Audio samples per video frame."""
    return cfg.sr // cfg.fps


def audio_window_frames() -> int:
    """Frames of audio one feature reads: the 5-frame window and its context."""
    return WINDOW + 2 * CONTEXT


class _SyncTrunk(nn.Module):
    """The two streams, the mouth crop and the per-frame feature sequences."""

    def __init__(self, cfg: Config):
        super().__init__()
        self.cfg = cfg
        self.video = VideoStream(cfg)
        self.audio = AudioStream(cfg)

    def video_sequence(self, video: torch.Tensor, box: tuple | None = None) -> torch.Tensor:
        """(B, 3, T, H, W) frames -> (B, T - 4, D) per-frame video features (``box``: the
        mouth region as fractions of the frame, default ``cfg.mouth_box``)."""
        jitter = self.training and self.cfg.augment
        return self.video(mouth_frames(video, self.cfg, jitter, box))

    def audio_sequence(self, audio: torch.Tensor) -> torch.Tensor:
        """(B, S) waveform of T frames -> (B, T - 6, D): row p is the audio window of frames
        [p, p + 7), the one in sync with the video window starting at frame p + 1."""
        return self.audio(audio)

    def embed_video(self, video: torch.Tensor) -> torch.Tensor:
        """(B, 3, 5, H, W) -> (B, D): the feature the objective compares."""
        return self.video_sequence(video)[:, 0]

    def embed_audio(self, audio: torch.Tensor) -> torch.Tensor:
        """(B, S) 7-frame windows -> (B, D)."""
        return self.audio_sequence(audio)[:, 0]

    def feature_taps(self, modality: str) -> dict[str, nn.Module]:
        """conv1 ... conv5, fc6, fc7 of the video or audio stream."""
        stream = {"video": self.video, "audio": self.audio}.get(modality)
        if stream is None:
            raise ConfigError(f"unknown modality {modality!r}: use 'video' or 'audio'")
        return stream.taps()

    def sync_features(self, video: torch.Tensor, audio: torch.Tensor, box: tuple | None = None):
        """A clip's frames (B, 3, T, H, W) and audio (B, T x spf) -> aligned per-frame
        features (B, T - 6, D) each, row i being the 5-frame window starting at frame i + 1
        and its audio; the features whose Euclidean distance the offset search compares."""
        v = self.video_sequence(video, box)[:, 1:-1]
        return self.distance_features(v, self.audio_sequence(audio))

    def distance_features(self, video_seq, audio_seq):
        """The features the objective compares by Euclidean distance (raw embeddings here)."""
        return video_seq, audio_seq

    def _candidates(self, batch: dict) -> tuple[torch.Tensor, torch.Tensor]:
        """Video (B, D) and audio candidates (B, K, D).

        ``audio`` is (B, K, S) candidate windows, or (C, S) whole-clip strips with
        ``audio_strip`` (B,) (each sample's strip) and ``audio_position`` (B, K)
        (each candidate's window start in it): one pass over a strip serves every
        window of every sample cut from that clip.
        """
        if "audio_strip" in batch:
            seq = self.audio_sequence(batch["audio"])  # (C, P, D)
            a = seq[batch["audio_strip"][:, None], batch["audio_position"]]
        else:
            audio = batch["audio"]
            b, k, n = audio.shape
            a = self.embed_audio(audio.reshape(b * k, n)).view(b, k, -1)
        return self.embed_video(batch["video"]), a


def example_batch(cfg: Config, batch_size: int = 4, candidates: int = 2, seed: int = 0) -> dict:
    """A random batch of the shapes these models take: 5-frame windows cut from 2 clips, K audio
    candidates each (distinct offsets within +-max_offset, the in-sync one at ``target_index``)
    as positions in whole-clip audio strips."""
    g = torch.Generator().manual_seed(seed)
    m, spf = cfg.max_offset, samples_per_frame(cfg)
    frames = 2 * m + audio_window_frames() + 2  # room for every offset around frame m + 1
    target = torch.arange(batch_size) % candidates
    nonzero = torch.cat([torch.arange(-m, 0), torch.arange(1, m + 1)])
    rows = []
    for t in target.tolist():  # K distinct offsets, 0 (in sync) at the target index
        others = nonzero[torch.randperm(2 * m, generator=g)[: candidates - 1]]
        rows.append(torch.cat([others[:t], others.new_zeros(1), others[t:]]))
    offsets = torch.stack(rows)
    return {
        "video": torch.rand(batch_size, 3, WINDOW, cfg.frame_size, cfg.frame_size, generator=g),
        "audio": torch.randn(2, frames * spf, generator=g) * 0.1,
        "audio_strip": torch.arange(batch_size) % 2,
        "audio_position": offsets + m + 1 - CONTEXT,  # video window at frame m + 1
        "offset_frames": offsets,
        "target_index": target,
        "label": torch.arange(batch_size) % cfg.n_words,
    }


class CandidatePairs(nn.Module):
    """A pair loss over every (video, candidate) pair: label 1 for ``target_index``, else 0."""

    def __init__(self, loss: nn.Module):
        super().__init__()
        self.loss = loss

    def forward(self, batch: dict, out: dict):
        """``out`` holds K pairs per video window, flattened to (B K, ...)."""
        target = batch["target_index"]
        k = len(out["video_emb"]) // len(target)
        labels = torch.arange(k, device=target.device)[None] == target[:, None]
        return self.loss({"label": labels.flatten().long()}, out)


@register("syncnet")
class SyncNetPairs(_SyncTrunk):
    """SyncNet: L2-normalised embeddings compared in pairs by a contrastive loss."""

    def distance_features(self, video_seq, audio_seq):
        """Unit-length embeddings (the loss compares those)."""
        return F.normalize(video_seq, dim=-1), F.normalize(audio_seq, dim=-1)

    def forward(self, batch: dict) -> dict:
        """-> ``video_emb``, ``audio_emb`` (B K, D) of every pair (unit length), ``distance``."""
        v, a = self.distance_features(*self._candidates(batch))
        v = v[:, None].expand_as(a).reshape(-1, v.shape[-1])
        a = a.reshape(-1, a.shape[-1])
        return {"video_emb": v, "audio_emb": a, "distance": euclidean(v, a)}

    @staticmethod
    def example(cfg: Config, batch_size: int = 4):
        """An example batch (one in-sync and one shifted candidate) and the loss."""
        return example_batch(cfg, batch_size), CandidatePairs(ContrastiveLoss(cfg.margin))


@register("sync-avenet")
class SyncAVENet(SyncNetPairs):
    """AVE-Net on SyncNet's streams: unit embeddings, distance -> FC -> 2-way logits."""

    def __init__(self, cfg: Config):
        super().__init__(cfg)
        self.fusion = nn.Linear(1, 2)
        with torch.no_grad():  # ours: start with "far = no match", centred at orthogonal units
            self.fusion.weight.copy_(torch.tensor([[FUSION_SCALE], [-FUSION_SCALE]]))
            self.fusion.bias.copy_(torch.tensor([-1.0, 1.0]) * FUSION_SCALE * 2**0.5)

    def forward(self, batch: dict) -> dict:
        """-> ``logits`` (B K, 2) and the pairs' embeddings and distances."""
        out = super().forward(batch)
        return out | {"logits": self.fusion(out["distance"][:, None])}

    @staticmethod
    def example(cfg: Config, batch_size: int = 4):
        """An example batch and the pairs' binary cross-entropy."""
        return example_batch(cfg, batch_size), CandidatePairs(CrossEntropyLoss())


@register("multiway")
class MultiWaySync(_SyncTrunk):
    """Perfect Match: one video feature against N audio candidates (softmax over -distance)."""

    def forward(self, batch: dict) -> dict:
        """-> ``video_emb`` (B, D), ``audio_emb`` (B, N, D)."""
        v, a = self._candidates(batch)
        return {"video_emb": v, "audio_emb": a}

    @staticmethod
    def example(cfg: Config, batch_size: int = 4):
        """An example batch of N candidates and the multi-way loss."""
        batch = example_batch(cfg, batch_size, candidates=cfg.n_candidates)
        return batch, MultiWayLoss("distance")


@register("sync-words")
class SyncWordNet(nn.Module):
    """Word recognition: the video stream's per-frame embeddings -> TC-5 back-end -> words.

    The back-end (ours, after the TC-5 of the LRW papers): two temporal convs
    of width 5 with BN and ReLU, a max-pool between them, the mean over time,
    and a linear layer. With ``frozen_frontend`` the batch carries precomputed
    per-frame features ``video_emb`` (B, T', D) and only the back-end trains.
    """

    def __init__(self, cfg: Config):
        super().__init__()
        self.cfg = cfg
        self.video = VideoStream(cfg)
        w, d = cfg.tc_width, cfg.embed_dim
        self.backend = nn.Sequential(
            nn.Conv1d(d, w, 5, padding=2, bias=False), nn.BatchNorm1d(w), nn.ReLU(inplace=True),
            nn.MaxPool1d(2, ceil_mode=True),
            nn.Conv1d(w, w, 5, padding=2, bias=False), nn.BatchNorm1d(w), nn.ReLU(inplace=True),
        )  # fmt: skip
        self.classifier = nn.Linear(w, cfg.n_words)

    def video_sequence(self, video: torch.Tensor) -> torch.Tensor:
        """(B, 3, T, H, W) frames -> (B, T - 4, D) per-frame features."""
        return self.video(mouth_frames(video, self.cfg, self.training and self.cfg.augment))

    def embed_video(self, video: torch.Tensor) -> torch.Tensor:
        """(B, 3, T, H, W) -> (B, tc_width): the back-end's time-averaged features."""
        return self.backend(self.video_sequence(video).transpose(1, 2)).mean(-1)

    def feature_taps(self, modality: str) -> dict[str, nn.Module]:
        """The video stream's layers and the back-end."""
        if modality != "video":
            raise ConfigError(f"{type(self).__name__} has no {modality!r} stream")
        return self.video.taps() | {"backend": self.backend}

    def forward(self, batch: dict) -> dict:
        """``video`` (B, 3, T, H, W) or ``video_emb`` (B, T', D) -> ``logits`` (B, n_words)."""
        seq = batch["video_emb"] if "video_emb" in batch else self.video_sequence(batch["video"])
        return {"logits": self.classifier(self.backend(seq.transpose(1, 2)).mean(-1))}

    @staticmethod
    def example(cfg: Config, batch_size: int = 4):
        """A batch of 9-frame clips and the word cross-entropy."""
        batch = example_batch(cfg, batch_size)
        batch["video"] = torch.rand(batch_size, 3, 9, cfg.frame_size, cfg.frame_size)
        return batch, CrossEntropyLoss()
