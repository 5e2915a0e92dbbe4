"""SoundNet: raw-waveform sound networks distilled from image networks, and their baselines.

Aytar, Vondrick & Torralba, "SoundNet: Learning Sound Representations from
Unlabeled Video", NeurIPS 2016 (https://arxiv.org/abs/1610.09001). Facts and
numbers: ../shared/PAPERS.md §4. Layer shapes follow the paper's Table 1 (and
the released Torch model: padding half the kernel in conv1-conv7, none in
conv8). One class per architecture:

- :class:`SoundNet` (``soundnet``, 8 layers; ``soundnet5``, the 5-layer
  variant): 1-D convolutions on the waveform (22,050 Hz scaled to
  [-256, 256]), conv-BN-ReLU, max-pools after conv1, conv2 (and conv5 /
  conv3), and a last conv with two heads (ImageNet objects, Places scenes)
  whose outputs over time are softmaxed and matched to the teachers (KL).
  ``n_classes`` > 0 adds one classification head instead (the paper's "from
  scratch" nets, trained on a labelled set).
- :class:`ImageTeacher` (``soundnet-teacher``): a torchvision classifier
  (``weights=None``; or a state dict found on disk, ``weights=PATH``) standing
  in for the ImageNet and Places networks that label the video frames.
- :class:`SpectrogramAutoencoder` (``soundnet-autoencoder``): a convolutional
  autoencoder on the log-mel spectrogram, the paper's unsupervised baseline.

Deviations: the CPU presets shrink widths and cut the temporal reductions
(pools, conv8's kernel) so 1 s windows give a conv8 output (the paper's 20 s
crops give 4); the quick preset hears 11,025 Hz (half the paper's 22,050 Hz) and their
teachers are small torchvision nets on 64-px frames.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path

import torch
import torch.nn.functional as F
import torchaudio
import torchvision
from torch import nn

from avlib.data.features import SoundNetWaveform
from avlib.errors import ConfigError
from avlib.losses import (
    CrossEntropyLoss,
    DistillationLoss,
    L2DistillationLoss,
    ReconstructionLoss,
)
from avlib.models import register
from avlib.models.blocks import normalise_frames
from avlib.models.l3 import augment_frames

HEADS = ("objects", "scenes")  # conv8's two heads: ImageNet objects, Places scenes (§3.2)
LOSSES = ("kl", "l2")


@dataclass(frozen=True)
class Config:
    """SoundNet hyper-parameters; defaults are the paper's 8-layer net (Table 1, §3, §4)."""

    depth: int = 8  # 8 or 5 layers (Table 1)
    sr: int = 22_050  # waveform rate (§3.1)
    clip_s: float = 20.0  # training crops: 20 s (the released training script; 4 conv8 steps)
    widths: tuple[int, ...] = (16, 32, 64, 128, 256, 512, 1024)  # conv1-conv7 (Table 1)
    kernels: tuple[int, ...] = (64, 32, 16, 8, 4, 4, 4)  # conv1-conv7 filter sizes (Table 1)
    stride: int = 2  # every conv (Table 1)
    pools: tuple[int, ...] = (8, 8, 1, 1, 4, 1, 1)  # max-pool after conv1, conv2, conv5 (Table 1)
    head_kernel: int = 8  # conv8: filter 8, stride 2, no padding (Table 1)
    head_stride: int = 2
    head_padding: int = 0
    n_objects: int = 1000  # ImageNet classes (§3.2)
    n_scenes: int = 401  # Places classes (§3.2)
    heads: tuple[str, ...] = HEADS  # the teachers distilled (ablation: one of them)
    n_classes: int = 0  # > 0: one supervised head instead (the "from scratch" nets, §4.3)
    loss: str = "kl"  # kl (the paper's) or l2 (its ablation, §4.3)
    temperature: float = 1.0  # teachers' softmax temperature (the paper: their own softmax)
    lr: float = 1e-3  # Adam (§3.3)
    weight_decay: float = 0.0
    batch_size: int = 64  # (§3.3)


# The 5-layer variant (Table 1): 32/64/128/256 channels, pools after conv1-conv3, a k16 s12 conv5
# head: 20 s give 4 conv5 steps, as the 8-layer net's conv8 (padding 4 is ours).
FIVE = {
    "widths": (32, 64, 128, 256),
    "kernels": (64, 32, 16, 8),
    "pools": (8, 8, 8, 1),
    "head_kernel": 16,
    "head_stride": 12,
    "head_padding": 4,
}
# Temperature 2 at quick: the world's scene teacher is right on every held-out image and nearly
# one-hot, so at T = 1 KL to it is cross-entropy on its top-1 and L2 alike (the paper's teachers
# were far less certain). quick: 1 s windows at 11,025 Hz (half the paper's rate; at 16 kHz the
# SoundNet notebook took 16.6 min on 2 cores, over its 10). The temporal reductions shrink so
# conv8 (conv5) still sees about 1 s; widths are the paper's / 4 (8 layers) and / 4 (5 layers). full: 4 s windows at
# 22,050 Hz, half the paper's widths. Timings: see SETUPS in experiments/soundnet.py.
PRESETS: dict[str, dict[int, dict]] = {
    "paper": {8: {}, 5: {}},
    "full": {
        8: {"clip_s": 4.0, "widths": (8, 16, 32, 64, 128, 256, 512),
            "pools": (4, 4, 1, 1, 2, 1, 1), "head_kernel": 4, "batch_size": 64},
        5: {"clip_s": 4.0, "widths": (16, 32, 64, 128), "pools": (4, 4, 4, 1),
            "head_kernel": 8, "head_stride": 6, "head_padding": 2, "batch_size": 64},
    },
    "quick": {
        8: {"sr": 11_025, "clip_s": 1.0, "widths": (8, 16, 16, 32, 64, 128, 256),
            "pools": (4, 4, 1, 1, 2, 1, 1), "head_kernel": 2, "batch_size": 32, "lr": 2e-3,
            "temperature": 2.0},
        5: {"sr": 11_025, "clip_s": 1.0, "widths": (8, 16, 32, 64), "pools": (4, 4, 4, 1),
            "head_kernel": 4, "head_stride": 3, "head_padding": 0, "batch_size": 32,
            "lr": 2e-3, "temperature": 2.0},
    },
    "smoke": {
        8: {"sr": 8_000, "clip_s": 1.0, "widths": (2, 4, 4, 8, 8, 16, 16),
            "pools": (4, 4, 1, 1, 2, 1, 1), "head_kernel": 1, "batch_size": 8},
        5: {"sr": 8_000, "clip_s": 1.0, "widths": (4, 4, 8, 8), "pools": (4, 4, 2, 1),
            "head_kernel": 2, "head_stride": 2, "head_padding": 0, "batch_size": 8},
    },
}  # fmt: skip


def config(preset: str = "quick", **overrides) -> Config:
    """The paper's Config (8 or ``depth=5`` layers) scaled by a preset, with overrides."""
    depth = overrides.get("depth", 8)
    if depth not in (8, 5):
        raise ConfigError(f"SoundNet has 8 or 5 layers, not {depth}")
    base = replace(Config(), depth=depth, **(FIVE if depth == 5 else {}))
    cfg = replace(base, **{**PRESETS[preset][depth], **overrides})
    layers = depth - 1
    if not len(cfg.widths) == len(cfg.kernels) == len(cfg.pools) == layers:
        raise ConfigError(f"a {depth}-layer SoundNet needs {layers} widths, kernels and pools")
    if cfg.loss not in LOSSES:
        raise ConfigError(f"unknown loss {cfg.loss!r}: use {' or '.join(LOSSES)}")
    unknown = [h for h in cfg.heads if h not in HEADS]
    if unknown or not cfg.heads:
        raise ConfigError(f"heads must be among {HEADS}, got {cfg.heads}")
    return cfg


def output_length(cfg: Config, samples: int) -> int:
    """Steps of conv8 (the heads) for a waveform of ``samples``: the paper's arithmetic."""
    n = samples
    for k, p in zip(cfg.kernels, cfg.pools, strict=True):
        n = (n + 2 * (k // 2) - k) // cfg.stride + 1
        n //= p
    return (n + 2 * cfg.head_padding - cfg.head_kernel) // cfg.head_stride + 1


def example_batch(cfg: Config, batch_size: int = 4, seed: int = 0) -> dict:
    """Tones whose pitch follows a class, with teachers' distributions that follow it too."""
    g = torch.Generator().manual_seed(seed)
    n = round(cfg.sr * cfg.clip_s)
    label = torch.arange(batch_size) % 4
    t = torch.arange(n) / cfg.sr
    audio = 0.3 * torch.sin(2 * math.pi * (220.0 * (1 + label[:, None])) * t)
    audio = audio + 0.05 * torch.randn(audio.shape, generator=g)
    sizes = {"objects": cfg.n_objects, "scenes": cfg.n_scenes}
    probs = {
        h: F.softmax(3.0 * F.one_hot(label % sizes[h], sizes[h]).float(), dim=1) for h in cfg.heads
    }
    return {"audio": audio, "teacher_probs": probs, "label": label % max(cfg.n_classes, 1)}


class _Heads(nn.Module):
    """conv8: one conv per head; its output (the feature tap) is the heads concatenated."""

    def __init__(self, c_in: int, sizes: dict[str, int], cfg: Config):
        super().__init__()
        self.sizes = sizes
        self.conv = nn.ModuleDict(
            {
                h: nn.Conv1d(c_in, k, cfg.head_kernel, cfg.head_stride, cfg.head_padding)
                for h, k in sizes.items()
            }
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B,C,T) -> (B, sum of head sizes, T')."""
        return torch.cat([conv(x) for conv in self.conv.values()], dim=1)

    def split(self, out: torch.Tensor) -> dict[str, torch.Tensor]:
        """(B,K,T') -> {head: (B,T',K_head)} logits over time."""
        parts = out.split(list(self.sizes.values()), dim=1)
        return {h: p.transpose(1, 2) for h, p in zip(self.sizes, parts, strict=True)}


@register("soundnet")
@register("soundnet5", depth=5)
class SoundNet(nn.Module):
    """conv1 ... conv7 (conv-BN-ReLU, max-pools as the paper) -> conv8 heads over time."""

    def __init__(self, cfg: Config):
        super().__init__()
        self.cfg = cfg
        self.frontend = SoundNetWaveform(cfg.sr, cfg.sr)
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        c = 1
        for i, (w, k, p) in enumerate(zip(cfg.widths, cfg.kernels, cfg.pools, strict=True), 1):
            layers[f"conv{i}"] = nn.Sequential(
                nn.Conv1d(c, w, k, cfg.stride, k // 2, bias=False),
                nn.BatchNorm1d(w),
                nn.ReLU(inplace=True),
            )
            if p > 1:
                layers[f"pool{i}"] = nn.MaxPool1d(p)
            c = w
        self.body = nn.Sequential(layers)
        if cfg.n_classes:
            sizes = {"label": cfg.n_classes}
        else:
            all_sizes = {"objects": cfg.n_objects, "scenes": cfg.n_scenes}
            sizes = {h: all_sizes[h] for h in cfg.heads}
        self.heads = _Heads(c, sizes, cfg)

    def features(self, audio: torch.Tensor) -> torch.Tensor:
        """(B,S) waveform in [-1, 1] (or (B,1,S) scaled) -> the last conv's map (B,C,T)."""
        x = self.frontend(audio) if audio.dim() == 2 else audio
        return self.body(x)

    def embed_audio(self, audio: torch.Tensor) -> torch.Tensor:
        """The last conv layer's features, max-pooled over time (B, widths[-1]); conv8 runs too,
        so a probe's hook on any layer fires."""
        x = self.features(audio)
        self.heads(x)
        return x.amax(dim=-1)

    def forward(self, batch: dict) -> dict:
        """audio (B,S) -> ``logits`` {head: (B,T,K)} over conv8's steps (``label``: (B,K), the
        steps averaged), and ``audio_emb``."""
        x = self.features(batch["audio"])
        logits = self.heads.split(self.heads(x))
        if self.cfg.n_classes:
            logits = logits["label"].mean(dim=1)
        return {"logits": logits, "audio_emb": x.amax(dim=-1)}

    def feature_taps(self, modality: str) -> dict[str, nn.Module]:
        """The paper's layer names: conv1, pool1, conv2, pool2, conv3, ... pool5, ..., conv8."""
        if modality != "audio":
            raise ConfigError(f"SoundNet has no {modality!r} tower")
        taps = dict(self.body.named_children())
        taps[f"conv{self.cfg.depth}"] = self.heads
        return taps

    def loss_fn(self):
        """The loss this configuration trains with: KL or L2 to the teachers, or CE on labels."""
        if self.cfg.n_classes:
            return CrossEntropyLoss()
        if self.cfg.loss == "l2":
            return L2DistillationLoss(heads=self.cfg.heads)
        return DistillationLoss(heads=self.cfg.heads)

    @staticmethod
    def example(cfg: Config, batch_size: int = 4):
        """An example batch and the loss this configuration trains with."""
        return example_batch(cfg, batch_size), SoundNet(cfg).loss_fn()


# --- teachers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TeacherConfig:
    """An image classifier that labels video frames (ours: the paper names no architecture)."""

    arch: str = "resnet18"  # a torchvision.models builder
    weights: str | None = None  # path of a torchvision state dict on disk (real data), or None
    n_classes: int = 1000  # ImageNet (objects) or the Places model's classes
    frame_size: int = 224
    augment: bool = False  # training only: random flip, zoom and shift (as L3's vision tower)
    lr: float = 1e-3
    weight_decay: float = 0.0
    batch_size: int = 64


TEACHER_PRESETS = {
    "paper": {},
    "full": {"arch": "resnet18", "frame_size": 112, "augment": True, "batch_size": 128},
    "quick": {"arch": "resnet18", "frame_size": 32, "augment": True, "batch_size": 32, "lr": 2e-3},
    "smoke": {"arch": "shufflenet_v2_x0_5", "frame_size": 32, "batch_size": 16},
}


def teacher_config(preset: str = "quick", **overrides) -> TeacherConfig:
    """The teachers' Config at a preset (paper, full, quick, smoke), with overrides."""
    cfg = replace(TeacherConfig(), **{**TEACHER_PRESETS[preset], **overrides})
    if not hasattr(torchvision.models, cfg.arch):
        raise ConfigError(f"torchvision.models has no architecture {cfg.arch!r}")
    return cfg


def _classifier(model: nn.Module) -> tuple[str, nn.Module]:
    """The name and module of a torchvision classifier's last linear layer."""
    last = [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Linear)]
    if not last:
        raise ConfigError(f"{type(model).__name__} has no linear classifier to tap before")
    return last[-1]


@register("soundnet-teacher")
class ImageTeacher(nn.Module):
    """A torchvision image classifier on frames in [0, 1] (ImageNet-normalised inside)."""

    configure = staticmethod(teacher_config)

    def __init__(self, cfg: TeacherConfig):
        super().__init__()
        self.cfg = cfg
        self.net = getattr(torchvision.models, cfg.arch)(weights=None, num_classes=cfg.n_classes)
        if cfg.weights is not None:
            load_weights(self.net, cfg.weights)
        self._penultimate: list[torch.Tensor] = []
        _, self.classifier = _classifier(self.net)

    def _frames(self, video: torch.Tensor) -> torch.Tensor:
        frames = video[:, :, video.shape[2] // 2] if video.dim() == 5 else video
        if frames.shape[-1] != self.cfg.frame_size:
            frames = F.interpolate(frames, size=self.cfg.frame_size, mode="bilinear")
        if self.training and self.cfg.augment:
            frames = augment_frames(frames)
        return normalise_frames(frames)

    def forward(self, batch: dict) -> dict:
        """video (B,C,T,H,W) (middle frame) or (B,C,H,W) -> ``logits`` (B, n_classes)."""
        return {"logits": self.net(self._frames(batch["video"]))}

    @torch.no_grad()
    def embed_video(self, video: torch.Tensor) -> torch.Tensor:
        """The classifier's input: the penultimate features (B, D)."""
        seen: list[torch.Tensor] = []
        handle = self.classifier.register_forward_hook(lambda m, i, o: seen.append(i[0]))
        try:
            self.net(self._frames(video))
        finally:
            handle.remove()
        return seen[0].flatten(1)

    def feature_taps(self, modality: str) -> dict[str, nn.Module]:
        """The classifier layer (its input is the penultimate feature)."""
        if modality != "video":
            raise ConfigError(f"ImageTeacher has no {modality!r} tower")
        return {"classifier": self.classifier}

    @staticmethod
    def example(cfg: TeacherConfig, batch_size: int = 4):
        """Frames whose brightness follows the label, and the class loss."""
        label = torch.arange(batch_size) % min(cfg.n_classes, 4)
        video = torch.rand(batch_size, 3, 1, cfg.frame_size, cfg.frame_size) * 0.2
        video = video + 0.2 * label[:, None, None, None, None]
        return {"video": video, "label": label}, CrossEntropyLoss()


def load_weights(net: nn.Module, path: str | Path) -> None:
    """Load a torchvision state dict saved on disk (``torch.save(model.state_dict(), path)``)."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise ConfigError(f"{path}: teacher weights not found (pass a torchvision state dict)")
    state = torch.load(path, map_location="cpu", weights_only=True)
    state = state.get("state_dict", state) if isinstance(state, dict) else state
    try:
        net.load_state_dict(state)
    except RuntimeError as err:
        first = str(err).splitlines()[0]
        raise ConfigError(f"{path}: not a state dict of this architecture ({first})") from err


# --- the autoencoder baseline -------------------------------------------------------------------


@dataclass(frozen=True)
class AutoencoderConfig:
    """A convolutional autoencoder on log-mel (ours: the paper does not describe its own)."""

    sr: int = 22_050
    clip_s: float = 20.0  # the student's crops
    n_fft: int = 1024
    hop: int = 512
    n_mels: int = 64
    widths: tuple[int, ...] = (32, 64, 128)  # encoder conv-BN-ReLU + 2x2 max-pool blocks
    lr: float = 1e-3
    weight_decay: float = 0.0
    batch_size: int = 64


AUTOENCODER_PRESETS = {
    "paper": {},
    "full": {"clip_s": 4.0},
    "quick": {"sr": 11_025, "clip_s": 1.0, "n_fft": 512, "hop": 128, "n_mels": 32,
              "widths": (8, 16, 32), "batch_size": 32, "lr": 2e-3},
    "smoke": {"sr": 8_000, "clip_s": 1.0, "n_fft": 256, "hop": 64, "n_mels": 16,
              "widths": (4, 4, 8), "batch_size": 8},
}  # fmt: skip


def autoencoder_config(preset: str = "quick", **overrides) -> AutoencoderConfig:
    """The autoencoder's Config at a preset, with overrides."""
    return replace(AutoencoderConfig(), **{**AUTOENCODER_PRESETS[preset], **overrides})


@register("soundnet-autoencoder")
class SpectrogramAutoencoder(nn.Module):
    """log-mel -> encoder (conv-BN-ReLU, pool) x N -> decoder (upsample, conv) x N -> log-mel."""

    configure = staticmethod(autoencoder_config)

    def __init__(self, cfg: AutoencoderConfig):
        super().__init__()
        self.cfg = cfg
        self.mel = torchaudio.transforms.MelSpectrogram(
            cfg.sr, n_fft=cfg.n_fft, hop_length=cfg.hop, n_mels=cfg.n_mels
        )
        self.norm = nn.BatchNorm2d(1, affine=False)  # standardises the log-mel input
        enc: OrderedDict[str, nn.Module] = OrderedDict()
        c = 1
        for i, w in enumerate(cfg.widths, start=1):
            enc[f"conv{i}"] = nn.Sequential(
                nn.Conv2d(c, w, 3, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU(True),
                nn.MaxPool2d(2),
            )  # fmt: skip
            c = w
        self.encoder = nn.Sequential(enc)
        dec = []
        for w in [*reversed(cfg.widths[:-1]), 1]:
            dec += [nn.Upsample(scale_factor=2), nn.Conv2d(c, w, 3, padding=1)]
            if w != 1:
                dec += [nn.BatchNorm2d(w), nn.ReLU(True)]
            c = w
        self.decoder = nn.Sequential(*dec)

    def spectrogram(self, audio: torch.Tensor) -> torch.Tensor:
        """(B,S) -> standardised (B,1,F,T) log-mel cropped to a multiple of 2^blocks."""
        x = self.norm(torch.log(self.mel(audio) + 1e-5).unsqueeze(1))
        m = 2 ** len(self.cfg.widths)
        return x[..., : x.shape[-2] // m * m, : x.shape[-1] // m * m]

    def embed_audio(self, audio: torch.Tensor) -> torch.Tensor:
        """The code, max-pooled over frequency and time (B, widths[-1])."""
        return self.encoder(self.spectrogram(audio)).amax(dim=(-2, -1))

    def forward(self, batch: dict) -> dict:
        """audio (B,S) -> ``reconstruction`` and ``target`` (B,1,F,T), ``audio_emb``."""
        target = self.spectrogram(batch["audio"])
        code = self.encoder(target)
        return {
            "reconstruction": self.decoder(code),
            "target": target,
            "audio_emb": code.amax(dim=(-2, -1)),
        }

    def feature_taps(self, modality: str) -> dict[str, nn.Module]:
        """The encoder's blocks (``conv1`` ...)."""
        if modality != "audio":
            raise ConfigError(f"the autoencoder has no {modality!r} tower")
        return dict(self.encoder.named_children())

    @staticmethod
    def example(cfg: AutoencoderConfig, batch_size: int = 4):
        """Noise and tones, and the reconstruction loss."""
        g = torch.Generator().manual_seed(0)
        n = round(cfg.sr * cfg.clip_s)
        t = torch.arange(n) / cfg.sr
        freq = 300.0 * (1 + torch.arange(batch_size))[:, None]
        audio = 0.3 * torch.sin(2 * math.pi * freq * t) + 0.05 * torch.randn(
            batch_size, n, generator=g
        )
        return {"audio": audio}, ReconstructionLoss()
