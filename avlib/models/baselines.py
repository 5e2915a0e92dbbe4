"""Supervised baselines that calibrate the world, not any one paper's architecture.

:class:`LogMelCNN` (``logmel-cnn``): a small CNN trained from scratch on the
log-mel spectrogram of a whole ESC-50 clip, the world chapter's "learnable,
not saturated" check (notebooks/00_world.ipynb; on the quick world it must
land between 70 and 95 %, where MFCC + linear SVM lands between 30 and 60 %).
No paper defines it; it is the supervised from-scratch reference the world
is calibrated against.

Four blocks of conv3x3-BN-ReLU and a 2x2 max-pool, global average pool,
dropout, one linear layer. ``batch["audio"]`` is the waveform (B,S), which
the model's front-end turns into log-mel, or that log-mel already computed
(B,1,F,T) (``world-calibration`` computes it once per clip, since on a CPU it
costs as much as a training step); a learnt batch norm on the log-mel input
standardises it. In training mode each clip is cut to a random ``crop`` of
its frames (the augmentation); evaluation sees the whole clip.

Deviations: none (no paper to deviate from); ``Config``'s defaults are ours at
real ESC-50's 44.1 kHz, and the CPU presets run at the world's 22,050 Hz with
the same window in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
import torchaudio
from torch import nn

from avlib.errors import ConfigError
from avlib.losses import CrossEntropyLoss
from avlib.models import register
from avlib.models.blocks import conv_bn_relu


@dataclass(frozen=True)
class Config:
    """Log-mel CNN hyper-parameters (ours; real ESC-50: 5 s clips at 44.1 kHz, 50 classes)."""

    sr: int = 44_100  # audio sample rate of the clips
    clip_s: float = 5.0  # ESC-50 clips are 5 s
    n_fft: int = 4096  # ~93 ms windows ...
    hop: int = 2048  # ... and ~46 ms hop: 108 frames per 5 s clip
    n_mels: int = 48  # mel bands
    widths: tuple[int, ...] = (16, 32, 48, 64)  # channels of the conv blocks
    crop: float = 0.8  # training only: share of the clip's frames kept, at a random start
    dropout: float = 0.3  # before the classifier
    n_classes: int = 50  # ESC-50
    lr: float = 3e-3  # Adam, cosine schedule with warm-up (the experiment's trainer settings)
    weight_decay: float = 0.0
    batch_size: int = 32


PRESETS: dict[str, dict] = {
    "paper": {},
    "full": {},  # the full world is at 44.1 kHz, like real ESC-50
    "quick": {"sr": 22_050, "n_fft": 2048, "hop": 1024},
    "smoke": {"sr": 22_050, "n_fft": 2048, "hop": 1024, "widths": (4, 8, 8, 16)},
}


def config(preset: str = "quick", **overrides) -> Config:
    """Our Config scaled by a preset (paper, full, quick, smoke), with overrides."""
    cfg = replace(Config(), **{**PRESETS[preset], **overrides})
    if not 0 < cfg.crop <= 1:
        raise ConfigError(f"crop must be in (0, 1], got {cfg.crop}")
    return cfg


def example_batch(cfg: Config, batch_size: int = 4, seed: int = 0) -> dict:
    """Tones whose pitch follows the label, in noise: (B,S) audio a class loss can learn."""
    g = torch.Generator().manual_seed(seed)
    label = torch.arange(batch_size) % cfg.n_classes
    t = torch.arange(int(cfg.sr * cfg.clip_s)) / cfg.sr
    pitch = 200.0 + 150.0 * label  # 150 Hz apart: below 7.6 kHz for 50 classes
    audio = 0.3 * torch.sin(2 * torch.pi * pitch[:, None] * t)
    return {"audio": audio + 0.05 * torch.randn(audio.shape, generator=g), "label": label}


def random_crop(spec: torch.Tensor, share: float) -> torch.Tensor:
    """(B,1,F,T) -> (B,1,F,round(share * T)): each sample's frames from its own random start."""
    frames = spec.shape[-1]
    keep = max(1, round(share * frames))
    start = torch.randint(0, frames - keep + 1, (spec.shape[0],), device=spec.device)
    index = (start[:, None] + torch.arange(keep, device=spec.device))[:, None, None, :]
    return spec.gather(-1, index.expand(-1, *spec.shape[1:3], -1))


@register("logmel-cnn")
class LogMelCNN(nn.Module):
    """Log-mel -> 4 x (conv3x3-BN-ReLU, max-pool) -> average pool -> dropout -> class logits."""

    def __init__(self, cfg: Config):
        super().__init__()
        self.cfg = cfg
        self.mel = torchaudio.transforms.MelSpectrogram(
            cfg.sr, n_fft=cfg.n_fft, hop_length=cfg.hop, n_mels=cfg.n_mels
        )
        self.norm = nn.BatchNorm2d(1)  # standardises the log-mel input
        c = 1
        for i, w in enumerate(cfg.widths, start=1):
            self.add_module(f"block{i}", nn.Sequential(conv_bn_relu(c, w), nn.MaxPool2d(2)))
            c = w
        self.head = nn.Sequential(nn.Dropout(cfg.dropout), nn.Linear(c, cfg.n_classes))

    def log_mel(self, audio: torch.Tensor) -> torch.Tensor:
        """(B,S) waveform -> (B,1,n_mels,frames) log-mel."""
        return torch.log(self.mel(audio) + 1e-5).unsqueeze(1)

    def _blocks(self) -> list[nn.Module]:
        return [getattr(self, f"block{i}") for i in range(1, len(self.cfg.widths) + 1)]

    def embed_audio(self, audio: torch.Tensor) -> torch.Tensor:
        """(B,S) waveform or (B,1,F,T) log-mel -> the last block, average-pooled (B, widths[-1])."""
        x = self.norm(self.log_mel(audio) if audio.dim() == 2 else audio)
        if self.training and self.cfg.crop < 1:
            x = random_crop(x, self.cfg.crop)
        for block in self._blocks():
            x = block(x)
        return x.mean(dim=(-2, -1))

    def forward(self, batch: dict) -> dict:
        """audio (B,S) -> ``logits`` (B, n_classes) and ``audio_emb``."""
        emb = self.embed_audio(batch["audio"])
        return {"logits": self.head(emb), "audio_emb": emb}

    def feature_taps(self, modality: str) -> dict[str, nn.Module]:
        """The conv blocks (``conv1`` ...) a probe may tap; audio only."""
        if modality != "audio":
            raise ConfigError(f"LogMelCNN has no {modality!r} tower")
        return {f"conv{i}": b for i, b in enumerate(self._blocks(), start=1)}

    @staticmethod
    def example(cfg: Config, batch_size: int = 4):
        """An example batch and the class loss this model trains with."""
        return example_batch(cfg, batch_size), CrossEntropyLoss()
