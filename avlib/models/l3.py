"""Look, Listen and Learn (L3-Net) and the Objects-that-Sound heads (AVE-Net, AVOL-Net).

Arandjelović & Zisserman, "Look, Listen and Learn", ICCV 2017
(https://arxiv.org/abs/1705.08168), and "Objects that Sound", ECCV 2018
(https://arxiv.org/abs/1712.06651). Facts and numbers: ../shared/PAPERS.md §1.

Two towers of the same shape (vision on one RGB frame, audio on a log
spectrogram): 4 blocks of (conv3x3-BN-ReLU)x2, 2x2 max-pool after blocks 1-3,
global max-pool. Heads:

- ``l3``: concat (2 x 512) -> FC 128 -> ReLU -> FC 2 (correspondence logits).
- ``avenet``: each tower -> FC 128 -> ReLU -> FC 128 -> L2 norm; Euclidean
  distance -> FC 1->2 (Objects that Sound, AVE-Net).
- ``avol``: vision conv4 map -> 1x1 convs -> 128-d per location, audio -> 128-d;
  cosine similarity per location -> spatial max -> learned scale and bias ->
  2-way logits (AVOL-Net; its similarity map localises the sound).
- ``classifier``: one tower + FC to the class count (the supervised baselines).

Deviations from the papers: presets below ``paper`` shrink widths and input
sizes to fit a CPU; the audio front-end runs inside the model on the batch's
waveform (``batch["audio"]`` (B,S)), so ``embed_audio`` takes raw audio like
openl3; the AVOL similarity uses a fixed 1x1 map of the conv4 grid rather
than the paper's 14x14 (it follows the input size).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import nn

from avlib.data.features import L3LogSpectrogram
from avlib.models.blocks import ConvTower, normalise_frames


@dataclass(frozen=True)
class Config:
    """L3-Net hyper-parameters; defaults are the paper's (L3 §3.1, §4)."""

    head: str = "l3"  # l3 | avenet | avol | classifier
    tower: str = "both"  # classifier only: vision | audio | both
    widths: tuple[int, ...] = (64, 128, 256, 512)  # channels of the 4 blocks (§3.1)
    frame_size: int = 224  # vision input 224x224 RGB (§3.1)
    sr: int = 48_000  # audio: 1 s at 48 kHz (§3.1)
    clip_s: float = 1.0  # seconds of audio around the frame (§3.1)
    win_s: float = 0.01  # 0.01 s windows with half overlap -> 257 x 199 (§3.1)
    freq_pool: int = 1  # average this many adjacent frequency bins (1: the paper's 257 bins)
    fusion_dim: int = 128  # concat 1024 -> FC 128 -> FC 2 (§3.1)
    embed_dim: int = 128  # AVE-Net / AVOL-Net embedding size (Objects that Sound §3)
    n_classes: int = 34  # supervised baselines: Kinetics-Sounds classes
    lr: float = 1e-4  # Adam (§3.2)
    weight_decay: float = 1e-5  # (§3.2)
    batch_size: int = 256  # 16 GPUs x 16 (§3.2)


# CPU presets shrink inputs more than widths: measured on the quick world, 32-px frames and a
# 32-band spectrogram (64 ms windows) reach higher AVC accuracy per second of CPU than 48 px
# and 64 bands (68% vs 60% after ~45 s on 2 cores), because they allow ~2x more steps.
PRESETS: dict[str, dict] = {
    "paper": {},
    "full": {
        "widths": (32, 64, 128, 256),
        "frame_size": 96,
        "sr": 16_000,
        "win_s": 0.032,
        "freq_pool": 4,
        "batch_size": 128,
        "lr": 1e-3,
    },
    "quick": {
        "widths": (8, 16, 32, 64),
        "frame_size": 32,
        "sr": 16_000,
        "win_s": 0.064,
        "freq_pool": 16,
        "batch_size": 64,
        "lr": 1e-3,
    },
    "smoke": {
        "widths": (4, 8, 8, 16),
        "frame_size": 32,
        "sr": 8_000,
        "win_s": 0.064,
        "freq_pool": 16,
        "batch_size": 16,
        "lr": 1e-3,
    },
}


class AudioFrontend(nn.Module):
    """L3's log spectrogram, optionally averaged over ``freq_pool`` adjacent bins (CPU presets)."""

    def __init__(self, cfg: Config):
        super().__init__()
        self.spec = L3LogSpectrogram(cfg.sr, window_s=cfg.win_s)
        self.freq_pool = cfg.freq_pool

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        """(B,S) waveform -> (B,1,F,T)."""
        spec = self.spec(audio)
        return F.avg_pool2d(spec, (self.freq_pool, 1)) if self.freq_pool > 1 else spec


class L3Net(nn.Module):
    """Two-tower audio-visual correspondence network with a configurable head."""

    def __init__(self, cfg: Config):
        super().__init__()
        self.cfg = cfg
        width = cfg.widths[-1]
        use_vision = cfg.head != "classifier" or cfg.tower in ("vision", "both")
        use_audio = cfg.head != "classifier" or cfg.tower in ("audio", "both")
        self.vision = ConvTower(3, cfg.widths, dims=2) if use_vision else None
        self.audio = ConvTower(1, cfg.widths, dims=2) if use_audio else None
        self.frontend = AudioFrontend(cfg)
        if cfg.head == "l3":
            self.fusion = nn.Sequential(
                nn.Linear(2 * width, cfg.fusion_dim),
                nn.ReLU(inplace=True),
                nn.Linear(cfg.fusion_dim, 2),
            )
        elif cfg.head == "avenet":
            self.vision_proj = _projection(width, cfg.embed_dim)
            self.audio_proj = _projection(width, cfg.embed_dim)
            self.fusion = nn.Linear(1, 2)
        elif cfg.head == "avol":
            self.vision_proj = nn.Sequential(
                nn.Conv2d(width, cfg.embed_dim, 1),
                nn.ReLU(inplace=True),
                nn.Conv2d(cfg.embed_dim, cfg.embed_dim, 1),
            )
            self.audio_proj = _projection(width, cfg.embed_dim)
            self.calibration = nn.Parameter(
                torch.tensor([5.0, -2.5])
            )  # scale, bias of the max similarity
        elif cfg.head == "classifier":
            n_towers = int(use_vision) + int(use_audio)
            self.fusion = nn.Linear(n_towers * width, cfg.n_classes)
        else:
            raise ValueError(f"unknown L3 head {cfg.head!r}: l3, avenet, avol or classifier")

    # --- towers -----------------------------------------------------------
    def video_map(self, video: torch.Tensor) -> torch.Tensor:
        """(B,C,T,H,W) or (B,C,H,W) frames in [0,1] -> conv4 map (B,D,h,w) (middle frame)."""
        if video.dim() == 5:
            video = video[:, :, video.shape[2] // 2]
        return self.vision.features(normalise_frames(video))

    def audio_map(self, audio: torch.Tensor) -> torch.Tensor:
        """(B,S) waveform or (B,1,F,T) spectrogram -> conv4 map (B,D,f,t)."""
        spec = self.frontend(audio) if audio.dim() == 2 else audio
        return self.audio.features(spec)

    def embed_video(self, video: torch.Tensor) -> torch.Tensor:
        """Globally max-pooled vision features (B, widths[-1])."""
        return self.video_map(video).amax(dim=(-2, -1))

    def embed_audio(self, audio: torch.Tensor) -> torch.Tensor:
        """Globally max-pooled audio features (B, widths[-1])."""
        return self.audio_map(audio).amax(dim=(-2, -1))

    # --- heads --------------------------------------------------------------
    def localisation_map(self, video: torch.Tensor, audio: torch.Tensor) -> torch.Tensor:
        """AVOL: cosine similarity of the audio embedding with every vision location (B,h,w)."""
        vmap = F.normalize(self.vision_proj(self.video_map(video)), dim=1)
        aemb = F.normalize(self.audio_proj(self.embed_audio(audio)), dim=1)
        return torch.einsum("bdhw,bd->bhw", vmap, aemb)

    def forward(self, batch: dict) -> dict:
        """batch: video (B,C,T,H,W), audio (B,S) (or precomputed video_emb / audio_emb) -> outputs.

        Returns ``logits`` (B,2) or (B,classes), and per head ``video_emb``,
        ``audio_emb``, ``distance`` (AVE-Net) or ``map`` (AVOL-Net, (B,h,w)).
        """
        head = self.cfg.head
        if head == "classifier":
            feats = []
            if self.vision is not None:
                feats.append(self.embed_video(batch["video"]))
            if self.audio is not None:
                feats.append(self.embed_audio(batch["audio"]))
            return {"logits": self.fusion(torch.cat(feats, dim=1))}
        if head == "avol":
            sim = self.localisation_map(batch["video"], batch["audio"])
            score = sim.flatten(1).amax(dim=1) * self.calibration[0] + self.calibration[1]
            return {"logits": torch.stack([-score / 2, score / 2], dim=1), "map": sim}
        # precomputed tower outputs (frozen towers, e.g. the supervised-pretraining baseline)
        v = batch["video_emb"] if "video_emb" in batch else self.embed_video(batch["video"])
        a = batch["audio_emb"] if "audio_emb" in batch else self.embed_audio(batch["audio"])
        if head == "l3":
            return {"logits": self.fusion(torch.cat([v, a], dim=1)), "video_emb": v, "audio_emb": a}
        v, a = F.normalize(self.vision_proj(v), dim=1), F.normalize(self.audio_proj(a), dim=1)
        dist = (v - a).norm(dim=1, keepdim=True)
        return {
            "logits": self.fusion(dist),
            "video_emb": v,
            "audio_emb": a,
            "distance": dist.squeeze(1),
        }


def _projection(width: int, dim: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(width, dim), nn.ReLU(inplace=True), nn.Linear(dim, dim))


def config(preset: str = "quick", **overrides) -> Config:
    """The paper's Config scaled by a preset (paper, full, quick, smoke), with overrides."""
    return replace(Config(), **{**PRESETS[preset], **overrides})
