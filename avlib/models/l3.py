"""Look, Listen and Learn (L3-Net) and the Objects-that-Sound networks (AVE-Net, AVOL-Net).

Arandjelović & Zisserman, "Look, Listen and Learn", ICCV 2017
(https://arxiv.org/abs/1705.08168), and "Objects that Sound", ECCV 2018
(https://arxiv.org/abs/1712.06651). Facts and numbers: ../shared/PAPERS.md §1.

Two towers of the same shape (vision on one RGB frame, audio on a log
spectrogram): 4 blocks of (conv3x3-BN-ReLU)x2, 2x2 max-pool after blocks 1-3,
global max-pool. One class per architecture:

- :class:`L3Net` (``l3``): concat (2 x 512) -> FC 128 -> ReLU -> FC 2.
- :class:`AVENet` (``avenet``): each tower -> FC 128 -> ReLU -> FC 128 -> L2 norm;
  Euclidean distance -> FC 1->2 (Objects that Sound, AVE-Net).
- :class:`AVOLNet` (``avol``): vision conv4 map -> 1x1 convs -> 128-d per
  location, audio -> 128-d; cosine similarity per location -> spatial max ->
  learned scale and bias -> 2-way logits (its similarity map localises the sound).
- :class:`TowerClassifier` (``l3-classifier``): one tower + FC to the class count
  (the paper's supervised baselines).

Deviations from the papers: presets below ``paper`` shrink widths and input
sizes to fit a CPU; the audio front-end runs inside the model on the batch's
waveform (``batch["audio"]`` (B,S)), so ``embed_audio`` takes raw audio like
openl3; the CPU presets pool the spectrogram's linear bins into log-mel bands
(``n_mels``), because at 16 kHz with 32-64 ms windows a few linear bins would
hold every low-pitched source and ambient bed (L3's 257 bins at 48 kHz
resolve them); the AVOL map follows the input size (8 x 8 at 64 px, the
paper's 14 x 14 at 224 px after its extra pooling). At the CPU presets the
AVC nets also score every video-audio pairing of a training batch
(``in_batch_negatives``, trained with ``InBatchCorrespondenceLoss``) and L3-Net
batch-normalises each tower's embedding before the concat (``fusion_norm``):
without both, L3-Net stayed at chance for the quick budget (numbers at PRESETS).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import nn

from avlib.data.features import L3LogSpectrogram
from avlib.errors import ConfigError
from avlib.losses import CrossEntropyLoss, InBatchCorrespondenceLoss
from avlib.models import register
from avlib.models.blocks import ConvTower, cosine_map, normalise_frames


@dataclass(frozen=True)
class Config:
    """L3-Net hyper-parameters; defaults are the paper's (L3 §3.1, §4)."""

    widths: tuple[int, ...] = (64, 128, 256, 512)  # channels of the 4 blocks (§3.1)
    frame_size: int = 224  # vision input 224x224 RGB (§3.1)
    vision_pools: int = 3  # 2x2 max-pools in the vision tower, after blocks 1-3 (§3.1)
    sr: int = 48_000  # audio: 1 s at 48 kHz (§3.1)
    clip_s: float = 1.0  # seconds of audio around the frame (§3.1)
    win_s: float = 0.01  # 0.01 s windows with half overlap -> 257 x 199 (§3.1)
    n_mels: int | None = None  # None: the paper's linear bins; else log-mel bands (CPU presets)
    augment: bool = False  # training only: random flip, zoom and shift of the frame (ours)
    # training only: also score every video-audio pairing of the batch (``pair_logits``) for
    # InBatchCorrespondenceLoss (ours; the paper samples one negative per pair)
    in_batch_negatives: bool = False
    # L3-Net: batch-normalise each tower's embedding before the concat (ours)
    fusion_norm: bool = False
    fusion_dim: int = 128  # concat 1024 -> FC 128 -> FC 2 (§3.1)
    embed_dim: int = 128  # AVE-Net / AVOL-Net embedding size (Objects that Sound §3)
    tower: str = "vision"  # l3-classifier only: which tower the supervised baseline trains
    n_classes: int = 34  # supervised baselines: Kinetics-Sounds classes
    lr: float = 1e-4  # Adam (§3.2)
    weight_decay: float = 1e-5  # (§3.2)
    batch_size: int = 256  # 16 GPUs x 16 (§3.2)


# CPU presets shrink widths and inputs. Measured on the quick world (2 cores, 300 steps): the
# supervised vision classifier reached 34 % top-1 over 34 classes at 48 px and at 64 px alike
# with flips and zooms (27 % at 64 px without; 8 % at the old 32 px), at 0.56x the cost, so
# quick looks at 48 px; the audio tower hears 1 s as 32 log-mel bands x 30 frames (75 % top-1
# for the supervised audio classifier). Batch 32: AVC gained more per second than at 64.
# In-batch negatives: with one negative per pair, L3-Net stayed at 50.0 % held-out AVC for
# 1,000 steps (lr 1e-4, 5e-4, 2e-3 alike); scoring all 32 x 32 pairings it reached 62 % by step
# 600 (seed 0, same data and schedule), but other inits stayed at chance (seed 1: 49 % at step
# 500) or crawled (seed 2: 56 %); with each tower's embedding batch-normalised before the concat
# (``fusion_norm``) inits 1 and 2 reached 62 % and 60 % by step 500.
PRESETS: dict[str, dict] = {
    "paper": {},
    "full": {
        "augment": True,
        "in_batch_negatives": True,
        "fusion_norm": True,
        "widths": (32, 64, 128, 256),
        "frame_size": 96,
        "sr": 16_000,
        "win_s": 0.032,
        "n_mels": 64,
        "batch_size": 128,
        "lr": 1e-3,
    },
    "quick": {
        "augment": True,
        "in_batch_negatives": True,
        "fusion_norm": True,
        "widths": (8, 16, 32, 64),
        "frame_size": 48,
        "sr": 16_000,
        "win_s": 0.064,
        "n_mels": 32,
        "batch_size": 32,
        "lr": 2e-3,
    },
    "smoke": {
        "augment": True,
        "in_batch_negatives": True,
        "fusion_norm": True,
        "widths": (4, 8, 8, 16),
        "frame_size": 32,
        "sr": 8_000,
        "win_s": 0.032,
        "n_mels": 24,
        "batch_size": 16,
        "lr": 1e-3,
    },
}
TOWERS = ("vision", "audio")


def config(preset: str = "quick", **overrides) -> Config:
    """The paper's Config scaled by a preset (paper, full, quick, smoke), with overrides."""
    cfg = replace(Config(), **{**PRESETS[preset], **overrides})
    if cfg.tower not in TOWERS:
        raise ConfigError(f"unknown tower {cfg.tower!r}: use {' or '.join(TOWERS)}")
    return cfg


def example_batch(cfg: Config, batch_size: int = 4, seed: int = 0) -> dict:
    """A random batch of the shapes these models take (one frame, 1 s of audio)."""
    g = torch.Generator().manual_seed(seed)
    return {
        "video": torch.rand(batch_size, 3, 1, cfg.frame_size, cfg.frame_size, generator=g),
        "audio": torch.randn(batch_size, int(cfg.sr * cfg.clip_s), generator=g) * 0.1,
        "label": torch.arange(batch_size) % 2,
        "video_class": torch.arange(batch_size) % cfg.n_classes,
        "audio_class": (torch.arange(batch_size) + 1) % cfg.n_classes,
        "video_clip": torch.arange(batch_size),  # negatives: audio of the next clip
        "audio_clip": torch.where(torch.arange(batch_size) % 2 == 1, torch.arange(batch_size),
                                  (torch.arange(batch_size) + 1) % batch_size),
    }  # fmt: skip


class _Towers(nn.Module):
    """The vision and/or audio tower of L3 with its front-end, embeddings and feature taps."""

    def __init__(self, cfg: Config, vision: bool = True, audio: bool = True):
        super().__init__()
        self.cfg = cfg
        self.vision = ConvTower(3, cfg.widths, dims=2, pools=cfg.vision_pools) if vision else None
        self.audio = ConvTower(1, cfg.widths, dims=2) if audio else None
        self.frontend = L3LogSpectrogram(cfg.sr, window_s=cfg.win_s, n_mels=cfg.n_mels)

    def _pairs(self) -> bool:
        """Whether forward also scores every pairing of the batch (training with in-batch negatives)."""
        return self.training and self.cfg.in_batch_negatives

    def video_map(self, video: torch.Tensor) -> torch.Tensor:
        """(B,C,T,H,W) or (B,C,H,W) frames in [0,1] -> conv4 map (B,D,h,w) (middle frame)."""
        frame = _frame(video)
        if self.training and self.cfg.augment:
            frame = augment_frames(frame)
        return self.vision.features(frame)

    def audio_map(self, audio: torch.Tensor) -> torch.Tensor:
        """(B,S) waveform or (B,1,F,T) spectrogram -> conv4 map (B,D,f,t)."""
        return self.audio.features(self.frontend(audio) if audio.dim() == 2 else audio)

    def embed_video(self, video: torch.Tensor) -> torch.Tensor:
        """Globally max-pooled vision features (B, widths[-1])."""
        return self.video_map(video).amax(dim=(-2, -1))

    def embed_audio(self, audio: torch.Tensor) -> torch.Tensor:
        """Globally max-pooled audio features (B, widths[-1])."""
        return self.audio_map(audio).amax(dim=(-2, -1))

    def feature_taps(self, modality: str) -> dict[str, nn.Module]:
        """Layers a probe may tap, by the paper's names: conv1 ... conv4 of one tower."""
        tower = {"video": self.vision, "audio": self.audio}.get(modality)
        if tower is None:
            raise ConfigError(f"{type(self).__name__} has no {modality!r} tower")
        return {f"conv{i}": block for i, block in enumerate(tower.children(), start=1)}


def _frame(video: torch.Tensor) -> torch.Tensor:
    """The middle frame of a clip, standardised."""
    if video.dim() == 5:
        video = video[:, :, video.shape[2] // 2]
    return normalise_frames(video)


def augment_frames(frames: torch.Tensor, zoom: float = 0.85, shift: float = 0.1) -> torch.Tensor:
    """Per-sample random horizontal flip, zoom in [zoom, 1] and shift (fraction of the side)."""
    b = frames.shape[0]
    g = torch.empty(b, 3, device=frames.device).uniform_(0, 1)
    scale = zoom + (1 - zoom) * g[:, 0]
    flip = torch.where(g[:, 1] < 0.5, -1.0, 1.0)
    theta = torch.zeros(b, 2, 3, device=frames.device, dtype=frames.dtype)
    theta[:, 0, 0], theta[:, 1, 1] = scale * flip, scale
    theta[:, :, 2] = torch.empty(b, 2, device=frames.device).uniform_(-shift, shift)
    grid = F.affine_grid(theta, list(frames.shape), align_corners=False)
    return F.grid_sample(frames, grid, padding_mode="reflection", align_corners=False)


def correspondence_loss(cfg: Config) -> CrossEntropyLoss | InBatchCorrespondenceLoss:
    """The AVC loss of these models at ``cfg``: over every pairing of the batch, or per pair."""
    return InBatchCorrespondenceLoss() if cfg.in_batch_negatives else CrossEntropyLoss()


def _mlp(width: int, dim: int, out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(width, dim), nn.ReLU(inplace=True), nn.Linear(dim, out))


@register("l3")
class L3Net(_Towers):
    """L3-Net: two towers, concatenated, FC 128 -> FC 2 correspondence logits."""

    def __init__(self, cfg: Config):
        super().__init__(cfg)
        self.fusion = _mlp(2 * cfg.widths[-1], cfg.fusion_dim, 2)
        norm = nn.BatchNorm1d if cfg.fusion_norm else lambda _: nn.Identity()
        self.video_norm, self.audio_norm = norm(cfg.widths[-1]), norm(cfg.widths[-1])

    def forward(self, batch: dict) -> dict:
        """video (B,C,T,H,W), audio (B,S) (or precomputed ``video_emb`` / ``audio_emb``) ->
        ``logits`` (B,2), ``video_emb``, ``audio_emb``."""
        v = batch["video_emb"] if "video_emb" in batch else self.embed_video(batch["video"])
        a = batch["audio_emb"] if "audio_emb" in batch else self.embed_audio(batch["audio"])
        out = {"video_emb": v, "audio_emb": a}
        v, a = self.video_norm(v), self.audio_norm(a)
        out["logits"] = self.fusion(torch.cat([v, a], dim=1))
        if self._pairs():
            n = v.shape[0]
            pairs = torch.cat([v[:, None].expand(n, n, -1), a[None].expand(n, n, -1)], dim=2)
            out["pair_logits"] = self.fusion(pairs)
        return out

    @staticmethod
    def example(cfg: Config, batch_size: int = 4):
        """An example batch and the loss this model trains with."""
        return example_batch(cfg, batch_size), correspondence_loss(cfg)


@register("avenet")
class AVENet(_Towers):
    """AVE-Net: L2-normalised 128-d embeddings, Euclidean distance -> FC -> 2-way logits."""

    def __init__(self, cfg: Config):
        super().__init__(cfg)
        self.vision_proj = _mlp(cfg.widths[-1], cfg.embed_dim, cfg.embed_dim)
        self.audio_proj = _mlp(cfg.widths[-1], cfg.embed_dim, cfg.embed_dim)
        self.fusion = nn.Linear(1, 2)
        # ours: start where a distance below sqrt(2) (random unit vectors) leans "corresponding",
        # with AVOL's scale of 5, instead of a default init that maps [0, 2] to near-equal logits
        with torch.no_grad():
            self.fusion.weight.copy_(torch.tensor([[2.5], [-2.5]]))
            self.fusion.bias.copy_(torch.tensor([-2.5, 2.5]) * 2**0.5)

    def forward(self, batch: dict) -> dict:
        """-> ``logits`` (B,2), unit ``video_emb`` / ``audio_emb`` (B,128), ``distance`` (B,)."""
        v = F.normalize(self.vision_proj(self.embed_video(batch["video"])), dim=1)
        a = F.normalize(self.audio_proj(self.embed_audio(batch["audio"])), dim=1)
        dist = (v - a).norm(dim=1, keepdim=True)
        out = {"logits": self.fusion(dist), "video_emb": v, "audio_emb": a, "distance": dist[:, 0]}
        if self._pairs():
            out["pair_logits"] = self.fusion(torch.cdist(v, a).unsqueeze(-1))
        return out

    example = L3Net.example


@register("avol")
class AVOLNet(_Towers):
    """AVOL-Net: audio embedding against every location of the vision map; max -> logits."""

    def __init__(self, cfg: Config):
        super().__init__(cfg)
        d = cfg.embed_dim
        self.vision_proj = nn.Sequential(
            nn.Conv2d(cfg.widths[-1], d, 1), nn.ReLU(inplace=True), nn.Conv2d(d, d, 1)
        )
        self.audio_proj = _mlp(cfg.widths[-1], d, d)
        self.calibration = nn.Parameter(torch.tensor([5.0, -2.5]))  # scale, bias of the max

    def localisation_map(self, video: torch.Tensor, audio: torch.Tensor) -> torch.Tensor:
        """Cosine similarity of the audio embedding with every vision location (B,h,w)."""
        vmap = self.vision_proj(self.video_map(video))
        return cosine_map(vmap, self.audio_proj(self.embed_audio(audio)))

    def _logits(self, sim: torch.Tensor) -> torch.Tensor:
        """Similarity maps (..., h, w) -> 2-way logits (..., 2) from their calibrated maximum."""
        score = sim.flatten(-2).amax(dim=-1) * self.calibration[0] + self.calibration[1]
        return torch.stack([-score / 2, score / 2], dim=-1)

    def forward(self, batch: dict) -> dict:
        """-> ``logits`` (B,2) from the map's maximum, and the ``map`` (B,h,w)."""
        vmap = F.normalize(self.vision_proj(self.video_map(batch["video"])), dim=1)
        a = F.normalize(self.audio_proj(self.embed_audio(batch["audio"])), dim=1)
        sim = torch.einsum("bdhw,bd->bhw", vmap, a)
        out = {"logits": self._logits(sim), "map": sim}
        if self._pairs():  # every video's map against every audio: (B,B,h,w)
            out["pair_logits"] = self._logits(torch.einsum("bdhw,kd->bkhw", vmap, a))
        return out

    example = L3Net.example


@register("l3-classifier")
class TowerClassifier(_Towers):
    """One L3 tower + FC to the classes: the supervised baselines of L3 Table 1."""

    def __init__(self, cfg: Config):
        super().__init__(cfg, vision=cfg.tower == "vision", audio=cfg.tower == "audio")
        self.head = nn.Linear(cfg.widths[-1], cfg.n_classes)

    def forward(self, batch: dict) -> dict:
        """-> ``logits`` (B, n_classes) from the configured tower's embedding."""
        if self.cfg.tower == "vision":
            return {"logits": self.head(self.embed_video(batch["video"]))}
        return {"logits": self.head(self.embed_audio(batch["audio"]))}

    @staticmethod
    def example(cfg: Config, batch_size: int = 4):
        """An example batch and the class loss of this tower."""
        key = "video_class" if cfg.tower == "vision" else "audio_class"
        return example_batch(cfg, batch_size), CrossEntropyLoss(label_key=key)
