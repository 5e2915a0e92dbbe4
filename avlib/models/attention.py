"""On attention modules for audio-visual synchronisation: an early-fusion sync net and its
three aggregators.

Khosravan, Ardeshir & Puri, CVPR workshops 2019 (https://arxiv.org/abs/1812.06071).
Facts and claims: ../shared/PAPERS.md §5. No public implementation exists.

The base is an early-fusion network in the style of Owens & Efros' multisensory
net. The clip is cut into ``n_chunks`` chunks of ``chunk_frames`` frames; every
chunk goes through the same network: a video stem (3-D convs) and an audio stem
(1-D convs over a log-mel spectrogram, down to the video's frame rate), the
audio features tiled over space and concatenated with the video features across
channels, then 5 fused 3-D conv layers giving a T x H x W x C map per chunk. One
class per aggregator of the chunk maps, each followed by the decision layers
FC 512 -> FC 2 (in sync or not):

- :class:`AverageSync` (``attention-average``): plain averaging, the paper's baseline;
- :class:`TemporalAttentionSync` (``attention-temporal``): each chunk's map global-
  average-pooled to a C-vector, two 1x1x1 convs give a scalar confidence per
  chunk, softmax over chunks, weighted average of the chunk vectors;
- :class:`SpatioTemporalAttentionSync` (``attention-spatiotemporal``): the same two
  1x1x1 convs on the unpooled maps, softmax over every position of every chunk,
  weighted average of the position vectors.

``forward`` returns ``logits`` (B,2), ``embedding`` (B,C), ``chunk_weights`` (B,K)
(uniform for the baseline; for spatio-temporal attention the weights summed
over each chunk's positions) and, for spatio-temporal attention, the
``position_weights`` (B,K,t,h,w).

Deviations from the paper: the audio stem reads log-mel bands, not the
multisensory net's raw waveform; the stems are a patchifying conv and one
strided conv (the multisensory net: residual blocks); widths of the stems,
the attention hidden size and the optimiser settings are ours (the paper gives
none); presets below ``paper`` shrink widths, frames and rate for a CPU: a
chunk stays one second, read at ``fps`` frames per second, and the video stem
also reads frame differences (``frame_diff``), so that a small net finds the
mouth's motion within a CPU budget (at ``paper``: raw frames only).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import nn

from avlib.data.features import LogMel
from avlib.errors import ConfigError
from avlib.losses import CrossEntropyLoss
from avlib.models import register
from avlib.models.blocks import conv_bn_relu, normalise_frames


@dataclass(frozen=True)
class Config:
    """Hyper-parameters; defaults are the paper's where it gives them (§3), else marked ours."""

    chunk_frames: int = 25  # frames per chunk (§3)
    n_chunks: int = 5  # ours: the multisensory net's 4.2 s input holds about five chunks
    fps: int = 25  # ours: video frames per second, so a chunk is one second
    frame_size: int = 224  # the multisensory net's 224 x 224 frames
    sr: int = 21_000  # the multisensory net's audio rate (Hz)
    n_mels: int = 64  # ours: log-mel bands of the audio stem
    patch: int = 4  # video stem: conv over patch x patch pixels, stride patch (ours)
    # ours (off at the paper's size): the video stem also reads each frame's difference from the
    # previous one, scaled by this factor, so the small motion of a mouth is not drowned by the
    # face's appearance in the first layer; 0 reads the raw frames only, as the paper
    frame_diff: float = 0.0
    video_width: int = 64  # ours
    audio_width: int = 64  # ours
    fusion_widths: tuple[int, ...] = (128, 128, 256, 256, 512)  # the 5 fused conv layers (§3)
    fusion_strides: tuple[tuple[int, int, int], ...] = (
        (2, 2, 2), (1, 1, 1), (2, 2, 2), (1, 1, 1), (1, 1, 1),
    )  # fmt: skip  # (t, h, w) stride of each fused layer (ours)
    attention_hidden: int = 128  # width between the two 1x1x1 attention convs (ours)
    fc_dim: int = 512  # decision layers FC 512 -> FC 2 (§3)
    lr: float = 1e-4  # Adam (ours: the paper gives no optimiser settings)
    weight_decay: float = 1e-5  # ours
    batch_size: int = 32  # ours

    @property
    def clip_frames(self) -> int:
        """Video frames the model reads: every chunk, back to back."""
        return self.chunk_frames * self.n_chunks

    @property
    def samples_per_frame(self) -> int:
        """Audio samples per video frame."""
        return self.sr // self.fps

    @property
    def chunk_s(self) -> float:
        """Seconds per chunk."""
        return self.chunk_frames / self.fps


# CPU presets: a chunk stays one second (at 10 fps for quick), frames shrink to 48 px (the
# world's mouth is still ~2-4 px tall there), widths to 16-32 and two chunks per window (so a
# 4 s clip leaves room for negatives shifted by a whole chunk); frame differences in the stem.
PRESETS: dict[str, dict] = {
    "paper": {},
    "full": {
        "n_chunks": 4,
        "fps": 25,
        "frame_size": 96,
        "frame_diff": 10.0,
        "sr": 16_000,
        "n_mels": 40,
        "video_width": 32,
        "audio_width": 32,
        "fusion_widths": (64, 64, 128, 128, 128),
        "attention_hidden": 64,
        "fc_dim": 256,
        "lr": 1e-3,
        "batch_size": 64,
    },
    "quick": {
        "chunk_frames": 10,
        "n_chunks": 2,
        "fps": 10,
        "frame_size": 48,
        "frame_diff": 10.0,
        "sr": 16_000,
        "n_mels": 32,
        "video_width": 16,
        "audio_width": 16,
        "fusion_widths": (32, 32, 32, 32, 32),
        "fusion_strides": ((2, 2, 2), (1, 1, 1), (1, 1, 1), (1, 1, 1), (1, 1, 1)),
        "attention_hidden": 16,
        "fc_dim": 64,
        "lr": 1e-3,
        "batch_size": 16,
    },
    "smoke": {
        "chunk_frames": 5,
        "n_chunks": 2,
        "fps": 5,
        "frame_size": 32,
        "frame_diff": 10.0,
        "sr": 8_000,
        "n_mels": 16,
        "video_width": 8,
        "audio_width": 8,
        "fusion_widths": (16, 16, 16, 16, 16),
        "fusion_strides": ((1, 2, 2), (1, 1, 1), (1, 1, 1), (1, 1, 1), (1, 1, 1)),
        "attention_hidden": 8,
        "fc_dim": 32,
        "lr": 2e-3,
        "batch_size": 8,
    },
}


def config(preset: str = "quick", **overrides) -> Config:
    """The paper's Config scaled by a preset (paper, full, quick, smoke), with overrides."""
    cfg = replace(Config(), **{**PRESETS[preset], **overrides})
    if len(cfg.fusion_widths) != 5 or len(cfg.fusion_strides) != 5:
        raise ConfigError("the paper fuses with 5 conv layers: give 5 fusion widths and strides")
    if cfg.sr % cfg.fps:
        raise ConfigError(f"sr {cfg.sr} is not a whole number of samples per frame at {cfg.fps}")
    if cfg.frame_size % (2 * cfg.patch):
        raise ConfigError(f"frame_size {cfg.frame_size} must be a multiple of 2 x patch")
    return cfg


def example_batch(cfg: Config, batch_size: int = 4, seed: int = 0) -> dict:
    """A random batch of the shapes these models take: n_chunks x chunk_frames frames, and audio."""
    g = torch.Generator().manual_seed(seed)
    t, s = cfg.clip_frames, cfg.frame_size
    return {
        "video": torch.rand(batch_size, 3, t, s, s, generator=g),
        "audio": torch.randn(batch_size, t * cfg.samples_per_frame, generator=g) * 0.1,
        "label": torch.arange(batch_size) % 2,
    }


class EarlyFusionNet(nn.Module):
    """Per chunk: video and audio stems, audio tiled over space and concatenated, 5 fused convs."""

    def __init__(self, cfg: Config):
        super().__init__()
        self.cfg = cfg
        v, a = cfg.video_width, cfg.audio_width
        self.video = nn.Sequential(
            nn.Sequential(  # conv1: patchify each frame (with a 3-frame temporal extent)
                nn.Conv3d(
                    6 if cfg.frame_diff else 3,
                    v,
                    (3, cfg.patch, cfg.patch),
                    (1, cfg.patch, cfg.patch),
                    (1, 0, 0),
                    bias=False,
                ),
                nn.BatchNorm3d(v),
                nn.ReLU(inplace=True),
            ),  # fmt: skip
            conv_bn_relu(v, v, dims=3, stride=(1, 2, 2)),  # conv2
        )
        hop = cfg.samples_per_frame // 2  # two spectrogram frames per video frame
        self.frontend = LogMel(cfg.sr, n_mels=cfg.n_mels, window_s=2 * hop / cfg.sr,
                               hop_s=hop / cfg.sr)  # fmt: skip
        self.audio = nn.Sequential(
            _conv1d(cfg.n_mels, a, stride=1),  # conv1
            _conv1d(a, a, stride=2),  # conv2: down to the video's frame rate
        )
        layers, c = [], v + a
        for w, stride in zip(cfg.fusion_widths, cfg.fusion_strides, strict=True):
            layers.append(conv_bn_relu(c, w, dims=3, stride=stride))
            c = w
        self.fusion = nn.Sequential(*layers)
        self.out_channels = c

    def video_features(self, video: torch.Tensor) -> torch.Tensor:
        """(B,3,T,H,W) frames in [0,1] -> (B,v,T,h,w)."""
        x = normalise_frames(video)
        if self.cfg.frame_diff:
            diff = torch.diff(video, dim=2, prepend=video[:, :, :1]) * self.cfg.frame_diff
            x = torch.cat([x, diff], dim=1)
        return self.video(x)

    def audio_features(self, audio: torch.Tensor) -> torch.Tensor:
        """(B,S) waveform -> (B,a,T) at the video frame rate."""
        mel = self.frontend(audio)[:, 0]  # (B, n_mels, 2T)
        return self.audio(mel)

    def forward(self, video: torch.Tensor, audio: torch.Tensor) -> torch.Tensor:
        """video (B,3,K*Tc,H,W), audio (B,K*Tc*spf) -> chunk maps (B,K,C,t,h,w)."""
        k, tc = self.cfg.n_chunks, self.cfg.chunk_frames
        b = video.shape[0]
        if video.shape[2] != k * tc:
            raise ConfigError(f"video has {video.shape[2]} frames, the model reads {k} x {tc}")
        v = self.video_features(_chunks(video, k))  # chunks as batch items: (B*K,v,Tc,h,w)
        a = self.audio_features(audio)[..., : k * tc]  # (B,a,K*Tc)
        a = a.view(b, -1, k, tc).transpose(1, 2).reshape(b * k, -1, tc)
        a = a[..., None, None].expand(-1, -1, -1, *v.shape[-2:])
        maps = self.fusion(torch.cat([v, a], dim=1))
        return maps.view(b, k, *maps.shape[1:])


def _chunks(video: torch.Tensor, k: int) -> torch.Tensor:
    """(B,C,K*Tc,H,W) -> (B*K,C,Tc,H,W), chunk-major within each sample."""
    b, c, t, h, w = video.shape
    return video.view(b, c, k, t // k, h, w).transpose(1, 2).reshape(b * k, c, t // k, h, w)


def _conv1d(c_in: int, c_out: int, stride: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv1d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm1d(c_out), nn.ReLU(True)
    )


def _attention_convs(c: int, hidden: int) -> nn.Sequential:
    """The paper's two 1x1x1 convs: C -> hidden -> 1 scalar confidence."""
    return nn.Sequential(nn.Conv3d(c, hidden, 1), nn.ReLU(inplace=True), nn.Conv3d(hidden, 1, 1))


class _SyncNet(nn.Module):
    """The early-fusion net and the decision layers; subclasses aggregate the chunk maps."""

    def __init__(self, cfg: Config):
        super().__init__()
        self.cfg = cfg
        self.net = EarlyFusionNet(cfg)
        c = self.net.out_channels
        self.decision = nn.Sequential(nn.Linear(c, cfg.fc_dim), nn.ReLU(inplace=True),
                                      nn.Linear(cfg.fc_dim, 2))  # fmt: skip

    def aggregate(self, maps: torch.Tensor) -> dict:
        """(B,K,C,t,h,w) chunk maps -> ``embedding`` (B,C), ``chunk_weights`` (B,K), ..."""
        raise NotImplementedError

    def forward(self, batch: dict) -> dict:
        """video (B,3,K*Tc,H,W), audio (B,S) -> ``logits`` (B,2) (index 1: in sync), the
        ``embedding`` and the attention weights (see the module docstring)."""
        out = self.aggregate(self.net(batch["video"], batch["audio"]))
        out["logits"] = self.decision(out["embedding"])
        return out

    def embed_video(self, video: torch.Tensor) -> torch.Tensor:
        """Globally averaged video-stem features (B, video_width) (no fusion: probes only)."""
        return self.net.video_features(video).mean(dim=(2, 3, 4))

    def embed_audio(self, audio: torch.Tensor) -> torch.Tensor:
        """Time-averaged audio-stem features (B, audio_width) (no fusion: probes only)."""
        return self.net.audio_features(audio).mean(dim=2)

    def feature_taps(self, modality: str) -> dict[str, nn.Module]:
        """Layers a probe may tap: conv1 and conv2 of the video or the audio stem."""
        stem = {"video": self.net.video, "audio": self.net.audio}.get(modality)
        if stem is None:
            raise ConfigError(f"{type(self).__name__} has no {modality!r} stem")
        return {f"conv{i}": layer for i, layer in enumerate(stem.children(), start=1)}

    @staticmethod
    def example(cfg: Config, batch_size: int = 4):
        """An example batch and the loss these models train with (2-way cross-entropy)."""
        return example_batch(cfg, batch_size), CrossEntropyLoss()


@register("attention-average")
class AverageSync(_SyncNet):
    """The baseline: every position of every chunk averaged, then FC 512 -> FC 2."""

    def aggregate(self, maps: torch.Tensor) -> dict:
        b, k = maps.shape[:2]
        chunk = maps.mean(dim=(3, 4, 5))  # (B,K,C)
        weights = maps.new_full((b, k), 1.0 / k)
        return {"embedding": chunk.mean(dim=1), "chunk_weights": weights}


@register("attention-temporal")
class TemporalAttentionSync(_SyncNet):
    """Temporal attention: a confidence per chunk from its pooled vector, softmax over chunks."""

    def __init__(self, cfg: Config):
        super().__init__(cfg)
        self.attention = _attention_convs(self.net.out_channels, cfg.attention_hidden)

    def aggregate(self, maps: torch.Tensor) -> dict:
        b, k, c = maps.shape[:3]
        chunk = maps.mean(dim=(3, 4, 5))  # (B,K,C): global average pool per chunk
        scores = self.attention(chunk.reshape(b * k, c, 1, 1, 1)).view(b, k)
        weights = F.softmax(scores, dim=1)
        return {
            "embedding": (weights[..., None] * chunk).sum(dim=1),
            "chunk_weights": weights,
            "chunk_scores": scores,
        }


@register("attention-spatiotemporal")
class SpatioTemporalAttentionSync(_SyncNet):
    """Spatio-temporal attention: a confidence per position of the unpooled maps, softmax over
    every position of every chunk."""

    def __init__(self, cfg: Config):
        super().__init__(cfg)
        self.attention = _attention_convs(self.net.out_channels, cfg.attention_hidden)

    def aggregate(self, maps: torch.Tensor) -> dict:
        b, k, c, t, h, w = maps.shape
        scores = self.attention(maps.reshape(b * k, c, t, h, w)).view(b, -1)  # (B, K*t*h*w)
        weights = F.softmax(scores, dim=1)
        positions = maps.permute(0, 1, 3, 4, 5, 2).reshape(b, -1, c)  # (B, K*t*h*w, C)
        grid = weights.view(b, k, t, h, w)
        return {
            "embedding": (weights[..., None] * positions).sum(dim=1),
            "chunk_weights": grid.sum(dim=(2, 3, 4)),
            "position_weights": grid,
        }
