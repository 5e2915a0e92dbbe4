"""AVTS: audio-visual temporal synchronisation (Korbar, Tran & Torresani, NeurIPS 2018).

"Cooperative Learning of Audio and Video Models from Self-Supervised
Synchronization" (https://arxiv.org/abs/1807.00230). Facts and numbers:
../shared/PAPERS.md §2. No public implementation of AVTS exists.

Two subnets, each ending in an L2-normalised embedding; the distance between
the embeddings says whether the audio is in sync with the clip:

- video: a mixed-convolution (MC) net in the style of Tran et al. 2018: the
  first ``mixed_blocks`` blocks convolve in 3-D (3x3x3, time and space), the
  later ones in 2-D (1x3x3, each frame); 1x2x2 max-pools between blocks;
- audio: a 2-D conv net on the log-mel spectrogram (``LogMel``), computed in
  the model from the batch's waveform ``batch["audio"]`` (B,S);
- both: max over space (video) or frequency (audio), the time axis pooled to
  ``time_steps`` steps and flattened (the *features* a downstream task uses:
  ``embed_video`` / ``embed_audio``), a linear projection, L2 normalisation.

:class:`AVTSNet` (``avts``) trains with the contrastive loss on the distance
(margin 0.99), or, with ``loss="bce"``, with binary cross-entropy on the same
pairs through a learnt scale and threshold of the distance (the AVTS-4
ablation; the architecture is the same).

Deviations from the paper: the presets below ``paper`` shrink widths, clip
length, frame rate and frame size to fit a CPU; the nets keep a short time
axis up to the embedding (a global temporal pool would leave only boundary
effects to say *when* in the clip an event falls, which is what synchrony is
about); one conv per block at the CPU presets instead of MC3-18's residual
pairs; the CPU presets train with Adam and a cosine schedule with warm-up
(the paper: x0.1 on a 5-epoch plateau, recorded here as ``schedule``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import nn

from avlib.data.features import LogMel
from avlib.errors import ConfigError
from avlib.losses import ContrastiveLoss, CrossEntropyLoss, euclidean
from avlib.models import register
from avlib.models.blocks import conv_bn_relu, normalise_frames

LOSSES = ("contrastive", "bce")


@dataclass(frozen=True)
class Config:
    """AVTS hyper-parameters; defaults are the paper's where PAPERS.md §2 gives them."""

    # --- video subnet (MC-style) ---
    fps: float = 25.0  # frames per second the video net sees (ours: the data sets' native rate)
    clip_frames: int = 25  # a 1 s clip (ours; PAPERS.md §2: hard shifts >= ~0.5 s, half of it)
    frame_size: int = 112  # the MC nets' 112 x 112 input (Tran et al. 2018)
    video_widths: tuple[int, ...] = (64, 128, 256, 512)  # MC3-18's stage widths (Tran et al.)
    mixed_blocks: int = 2  # 3-D convs in blocks 1-2, 2-D after: MC3 (PAPERS.md §2: "MC-style")
    convs: int = 2  # conv-BN-ReLU units per block (MC3-18: two per residual block)
    # --- audio subnet (2-D conv on log-mel) ---
    sr: int = 16_000  # audio rate of the subnet (ours)
    n_mels: int = 64  # log-mel bands (ours; PAPERS.md §2: "2D conv on log-mel")
    audio_widths: tuple[int, ...] = (64, 128, 256, 512)  # (ours, the video net's widths)
    # --- embeddings ---
    time_steps: int = 5  # time axis kept up to the embedding (ours: see the deviations)
    embed_dim: int = 128  # L2-normalised embedding (ours)
    # --- pretext training ---
    loss: str = "contrastive"  # contrastive on the embedding distance (PAPERS.md §2); or "bce"
    margin: float = 0.99  # contrastive margin eta (PAPERS.md §2)
    epochs: int = 90  # curriculum: epochs 1-50 easy negatives only ... (PAPERS.md §2)
    switch_epoch: int = 50  # ... then epochs 51-90 easy:hard = 3:1 (PAPERS.md §2)
    easy_to_hard: float = 3.0  # negatives after the switch: 3 easy to 1 hard (PAPERS.md §2)
    min_hard_shift_s: float = 0.5  # hard negatives: the same video >= ~0.5 s away (PAPERS.md §2)
    max_superhard_shift_s: float = 0.2  # super-hard: small overlapping shifts (ours: <= 0.2 s)
    schedule: str = "plateau"  # learning rate x0.1 after a 5-epoch plateau (PAPERS.md §2)
    lr_drop: float = 0.1  # (PAPERS.md §2)
    plateau_epochs: int = 5  # (PAPERS.md §2)
    lr: float = 0.01  # (ours: PAPERS.md §2 gives none)
    weight_decay: float = 1e-5  # (ours)
    batch_size: int = 64  # 4 GPUs x 16 (PAPERS.md §2)

    @property
    def clip_s(self) -> float:
        """Seconds of video (and of audio) in one clip."""
        return self.clip_frames / self.fps

    @property
    def samples(self) -> int:
        """Audio samples in one clip."""
        return round(self.clip_s * self.sr)

    def frames_of(self, seconds: float) -> int:
        """A duration in video frames of this net (rounded up: 'at least')."""
        return max(1, -int(-round(seconds * self.fps, 6) // 1))


# CPU presets, measured on the quick world (see the chapter's timings): a 0.8 s clip at
# 10 fps holds 8 frames (hard shifts >= 5 frames, super-hard 1-2 frames); objects are
# 5-12 px across at 32 px; the audio net hears 40 log-mel bands x 80 frames.
PRESETS: dict[str, dict] = {
    "paper": {},
    "full": {
        "fps": 12.5,
        "clip_frames": 12,
        "frame_size": 64,
        "video_widths": (32, 64, 128, 256),
        "audio_widths": (32, 64, 128, 256),
        "convs": 1,
        "time_steps": 4,
        "n_mels": 64,
        "schedule": "cosine",
        "lr": 2e-3,
        "weight_decay": 0.0,
        "batch_size": 128,
    },
    "quick": {
        "fps": 10.0,
        "clip_frames": 8,
        "frame_size": 32,
        "video_widths": (8, 16, 32, 32),
        "audio_widths": (8, 16, 32, 32),
        "convs": 1,
        "time_steps": 4,
        "n_mels": 40,
        "schedule": "cosine",
        "lr": 2e-3,
        "weight_decay": 0.0,
        "batch_size": 32,
    },
    "smoke": {
        "fps": 10.0,
        "clip_frames": 8,
        "frame_size": 24,
        "video_widths": (4, 8, 8),
        "audio_widths": (4, 8, 8),
        "convs": 1,
        "time_steps": 2,
        "n_mels": 24,
        "sr": 8_000,
        "schedule": "cosine",
        "lr": 2e-3,
        "weight_decay": 0.0,
        "batch_size": 16,
    },
}


def config(preset: str = "quick", **overrides) -> Config:
    """The paper's Config scaled by a preset (paper, full, quick, smoke), with overrides."""
    cfg = replace(Config(), **{**PRESETS[preset], **overrides})
    if cfg.loss not in LOSSES:
        raise ConfigError(f"unknown AVTS loss {cfg.loss!r}: use {' or '.join(LOSSES)}")
    if not 0 <= cfg.mixed_blocks <= len(cfg.video_widths):
        raise ConfigError(f"mixed_blocks {cfg.mixed_blocks} outside 0..{len(cfg.video_widths)}")
    if cfg.time_steps > cfg.clip_frames:
        raise ConfigError(f"time_steps {cfg.time_steps} > clip_frames {cfg.clip_frames}")
    if abs(cfg.clip_s * cfg.sr - cfg.samples) > 1e-6:
        raise ConfigError(f"{cfg.clip_frames} frames at {cfg.fps} fps are no whole audio samples")
    return cfg


def example_batch(cfg: Config, batch_size: int = 4, seed: int = 0) -> dict:
    """A random batch of the shapes AVTS takes: clips (B,3,T,H,W) and their audio (B,S)."""
    g = torch.Generator().manual_seed(seed)
    size, t = cfg.frame_size, cfg.clip_frames
    return {
        "video": torch.rand(batch_size, 3, t, size, size, generator=g),
        "audio": torch.randn(batch_size, cfg.samples, generator=g) * 0.1,
        "label": torch.arange(batch_size) % 2,
    }


class MCVideoNet(nn.Module):
    """Mixed convolutions: 3x3x3 in the first ``mixed`` blocks, 1x3x3 after; every block but
    the last halves height and width with its first conv's stride (1, 2, 2), as MC3-18 does."""

    def __init__(self, widths: tuple[int, ...], mixed: int, convs: int):
        super().__init__()
        c = 3
        for i, w in enumerate(widths, start=1):
            kernel = (3, 3, 3) if i <= mixed else (1, 3, 3)
            stride = (1, 2, 2) if i < len(widths) else 1
            layers = [
                conv_bn_relu(c if k == 0 else w, w, 3, kernel, stride if k == 0 else 1)
                for k in range(convs)
            ]
            self.add_module(f"block{i}", nn.Sequential(*layers))
            c = w
        self.out_channels = c

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        """(B,3,T,H,W) standardised -> (B,C,T) (max over space)."""
        x = video
        for block in self.children():
            x = block(x)
        return x.amax(dim=(-2, -1))


class LogMelNet(nn.Module):
    """2-D conv blocks on (B,1,F,T) log-mel; every block but the last halves both axes with
    its first conv's stride."""

    def __init__(self, widths: tuple[int, ...], convs: int):
        super().__init__()
        c = 1
        for i, w in enumerate(widths, start=1):
            stride = 2 if i < len(widths) else 1
            layers = [
                conv_bn_relu(c if k == 0 else w, w, 2, 3, stride if k == 0 else 1)
                for k in range(convs)
            ]
            self.add_module(f"block{i}", nn.Sequential(*layers))
            c = w
        self.out_channels = c

    def forward(self, spec: torch.Tensor) -> torch.Tensor:
        """(B,1,F,T) -> (B,C,t) (max over frequency)."""
        x = spec
        for block in self.children():
            x = block(x)
        return x.amax(dim=2)


@register("avts")
class AVTSNet(nn.Module):
    """AVTS: MC video net and log-mel audio net, L2-normalised embeddings, their distance."""

    def __init__(self, cfg: Config):
        super().__init__()
        self.cfg = cfg
        self.video = MCVideoNet(cfg.video_widths, cfg.mixed_blocks, cfg.convs)
        self.audio = LogMelNet(cfg.audio_widths, cfg.convs)
        self.frontend = LogMel(cfg.sr, n_mels=cfg.n_mels)
        self.audio_norm = nn.BatchNorm2d(1)  # standardises the log-mel input
        self.video_proj = nn.Linear(self.video.out_channels * cfg.time_steps, cfg.embed_dim)
        self.audio_proj = nn.Linear(self.audio.out_channels * cfg.time_steps, cfg.embed_dim)
        # BCE ablation: in-sync logit = scale * (threshold - distance), both learnt
        self.calibration = nn.Parameter(torch.tensor([5.0, 0.7]))

    def _steps(self, x: torch.Tensor) -> torch.Tensor:
        """(B,C,t) -> (B, C * time_steps): the time axis pooled to time_steps, flattened."""
        return F.adaptive_avg_pool1d(x, self.cfg.time_steps).flatten(1)

    def embed_video(self, video: torch.Tensor) -> torch.Tensor:
        """Clips (B,3,T,H,W) in [0,1] -> video features (B, C * time_steps)."""
        return self._steps(self.video(normalise_frames(video)))

    def embed_audio(self, audio: torch.Tensor) -> torch.Tensor:
        """Waveforms (B,S) or log-mel (B,1,F,T) -> audio features (B, C * time_steps)."""
        spec = self.frontend(audio) if audio.dim() == 2 else audio
        return self._steps(self.audio(self.audio_norm(spec)))

    def forward(self, batch: dict) -> dict:
        """-> unit ``video_emb`` / ``audio_emb`` (B,D), their ``distance`` (B,) and the
        2-way ``logits`` (out of sync, in sync) of the distance (used by the BCE ablation)."""
        v = F.normalize(self.video_proj(self.embed_video(batch["video"])), dim=1)
        a = F.normalize(self.audio_proj(self.embed_audio(batch["audio"])), dim=1)
        dist = euclidean(v, a)
        score = self.calibration[0] * (self.calibration[1] - dist)
        logits = torch.stack([-score / 2, score / 2], dim=1)
        return {"video_emb": v, "audio_emb": a, "distance": dist, "logits": logits}

    def feature_taps(self, modality: str) -> dict[str, nn.Module]:
        """Layers a probe may tap: conv1 ... convN of the video or audio subnet."""
        net = {"video": self.video, "audio": self.audio}.get(modality)
        if net is None:
            raise ConfigError(f"unknown modality {modality!r}: use 'video' or 'audio'")
        return {f"conv{i}": block for i, block in enumerate(net.children(), start=1)}

    @staticmethod
    def example(cfg: Config, batch_size: int = 4):
        """An example batch and the loss this configuration trains with."""
        return example_batch(cfg, batch_size), pretext_loss(cfg)


def pretext_loss(cfg: Config):
    """The sync loss of ``cfg``: contrastive (margin eta) or binary cross-entropy."""
    if cfg.loss == "bce":
        return CrossEntropyLoss()
    return ContrastiveLoss(margin=cfg.margin)
