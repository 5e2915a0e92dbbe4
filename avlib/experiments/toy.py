"""toy-avc: audio-visual correspondence on synthetic tensors, the trainer's end-to-end check.

Not a paper: a task small enough to train in seconds on a CPU that still has
the shape of L3's AVC. Each of K classes is a latent vector z_k. A sample of
class k draws z = z_k + within-class noise and renders it twice:

- an image, sigmoid(sum_j z_j P_j + noise), P_j fixed smooth random patterns;
- a waveform, sum_j z_j sin(2 pi f_j t + phi_j) + noise, fixed f_j and phi_j.

A positive pair (label 1) is one sample's image and waveform; a negative pair
(label 0) is its image with the waveform of a sample of another class. Labels
are balanced, so chance is 50 % accuracy and a cross-entropy of ln 2.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, replace

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from avlib.errors import ConfigError
from avlib.experiments import RunContext, RunOutput, register
from avlib.losses import CrossEntropyLoss
from avlib.train import TrainConfig, train


@dataclass(frozen=True)
class ToyConfig:
    """The toy world, model and run."""

    n_classes: int = 8
    latent_dim: int = 6  # length of each class vector z_k
    image_size: int = 16  # images are 3 x size x size, one frame
    audio_samples: int = 256  # waveform length
    within_class: float = 0.5  # std of a sample's z around its class vector
    noise: float = 0.5  # pixel / sample noise std
    world_seed: int = 1234  # patterns, frequencies and class vectors (same for every run seed)
    train_size: int = 512  # samples per epoch
    val_size: int = 256
    batch_size: int = 32  # global: split across processes under torchrun
    width: int = 8  # conv channels
    embed_dim: int = 16
    epochs: int = 4
    lr: float = 3e-3


PRESETS: dict[str, dict] = {
    "smoke": {},
    "quick": {"train_size": 4096, "val_size": 1024, "batch_size": 64, "epochs": 6, "width": 16},
    "full": {
        "train_size": 32768,
        "val_size": 4096,
        "batch_size": 256,
        "epochs": 10,
        "width": 32,
        "embed_dim": 64,
    },
}


def config(profile: str, **overrides) -> ToyConfig:
    """The toy config of a profile, with overrides."""
    return replace(ToyConfig(), **{**PRESETS[profile], **overrides})


def _generator(*key: int) -> torch.Generator:
    seed = int(np.random.SeedSequence(list(key)).generate_state(1)[0])
    return torch.Generator().manual_seed(seed)


class ToyAVCData:
    """Batches of (video, audio, label) pairs; the contract the trainer expects of data.

    Each epoch's samples depend only on (seed, split, epoch), not on the batch
    size, so one process with batch 2b sees what two processes with b see.
    """

    def __init__(self, cfg: ToyConfig, size: int, batch_size: int, seed: int, split: str):
        if size < batch_size:
            raise ConfigError(f"toy {split} set of {size} samples is smaller than a batch")
        self.cfg, self.size, self.batch_size = cfg, size, batch_size
        self.seed, self.split_id = seed, ("train", "val").index(split)
        g = _generator(cfg.world_seed)
        low = torch.randn(cfg.latent_dim, 3, 4, 4, generator=g)
        self.patterns = F.interpolate(low, size=cfg.image_size, mode="bilinear")
        self.class_z = torch.randn(cfg.n_classes, cfg.latent_dim, generator=g)
        t = torch.arange(cfg.audio_samples) / cfg.audio_samples
        freqs = torch.randperm(40, generator=g)[: cfg.latent_dim] + 3  # cycles per clip
        phases = 2 * torch.pi * torch.rand(cfg.latent_dim, 1, generator=g)
        self.tones = torch.sin(2 * torch.pi * freqs[:, None] * t + phases)
        self.epoch = 0
        self.position = 0  # batches yielded in this epoch
        self._start = 0  # where the next iter() begins (set by load_state_dict)

    def __len__(self) -> int:
        return self.size // self.batch_size

    def set_epoch(self, epoch: int) -> None:
        """Start epoch ``epoch`` from its first batch."""
        self.epoch, self.position, self._start = epoch, 0, 0

    def state_dict(self) -> dict:
        """Epoch and position, for the trainer's checkpoints."""
        return {"epoch": self.epoch, "position": self.position}

    def load_state_dict(self, state: dict) -> None:
        """Continue from a checkpoint: the next iter() yields the epoch's remaining batches."""
        self.epoch, self.position = state["epoch"], state["position"]
        self._start = state["position"]

    def _render(self) -> dict[str, torch.Tensor]:
        cfg, n = self.cfg, len(self) * self.batch_size
        g = _generator(self.seed, self.split_id, self.epoch)
        cls = torch.randint(cfg.n_classes, (n,), generator=g)
        label = (torch.randperm(n, generator=g) % 2).long()
        other = (cls + torch.randint(1, cfg.n_classes, (n,), generator=g)) % cfg.n_classes
        z = self.class_z[cls] + cfg.within_class * torch.randn(n, cfg.latent_dim, generator=g)
        z_other = self.class_z[other]
        z_other = z_other + cfg.within_class * torch.randn(n, cfg.latent_dim, generator=g)
        z_audio = torch.where(label[:, None] == 1, z, z_other)
        image = torch.einsum("nl,lchw->nchw", z, self.patterns)
        image = torch.sigmoid(image + cfg.noise * torch.randn(image.shape, generator=g))
        audio = z_audio @ self.tones
        audio = audio + cfg.noise * torch.randn(audio.shape, generator=g)
        return {"video": image.unsqueeze(2), "audio": audio, "label": label}

    def __iter__(self):
        start, self._start = self._start, 0
        tensors = self._render()
        for i in range(start, len(self)):
            self.position = i + 1
            sl = slice(i * self.batch_size, (i + 1) * self.batch_size)
            yield {k: v[sl] for k, v in tensors.items()}


class ToyAVCNet(nn.Module):
    """Two small towers and an L3-style fusion head (concat -> FC -> ReLU -> FC 2)."""

    def __init__(self, cfg: ToyConfig):
        super().__init__()
        w, e = cfg.width, cfg.embed_dim
        side = (cfg.image_size + 1) // 2
        self.vision = nn.Sequential(
            nn.Conv2d(3, w, 3, padding=1),
            nn.ReLU(),
            nn.Conv2d(w, w, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(w * side * side, e),
        )
        steps = cfg.audio_samples // 16
        self.audio = nn.Sequential(
            nn.Conv1d(1, w, 8, stride=4, padding=2),
            nn.ReLU(),
            nn.Conv1d(w, w, 8, stride=4, padding=2),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(w * steps, e),
        )
        self.fusion = nn.Sequential(nn.Linear(2 * e, 2 * e), nn.ReLU(), nn.Linear(2 * e, 2))

    def embed_video(self, video: torch.Tensor) -> torch.Tensor:
        """(B,3,T,H,W) frames -> (B,E) embedding of the middle frame."""
        return self.vision(4 * (video[:, :, video.shape[2] // 2] - 0.5))

    def embed_audio(self, audio: torch.Tensor) -> torch.Tensor:
        """(B,S) waveform -> (B,E) embedding."""
        return self.audio(audio.unsqueeze(1))

    def forward(self, batch: dict) -> dict:
        """{'logits': (B,2), 'video_emb', 'audio_emb'}."""
        v, a = self.embed_video(batch["video"]), self.embed_audio(batch["audio"])
        return {"logits": self.fusion(torch.cat([v, a], dim=1)), "video_emb": v, "audio_emb": a}


def train_config(toy: ToyConfig, ctx: RunContext) -> TrainConfig:
    """The trainer settings of a toy run."""
    return TrainConfig(
        epochs=toy.epochs,
        lr=toy.lr,
        seed=ctx.seed,
        device=ctx.device,
        checkpoint_dir=str(ctx.run_dir / "checkpoints"),
        resume=ctx.resume,
        metrics_path=str(ctx.run_dir / "metrics.jsonl"),
        progress=ctx.progress,
    )


@register(
    "toy-avc", paper="toy", config=lambda profile: {"toy": dataclasses.asdict(config(profile))}
)
def toy_avc(ctx: RunContext) -> RunOutput:
    """Toy audio-visual correspondence: two towers trained with binary cross-entropy."""
    toy = config(ctx.profile)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if toy.batch_size % world:
        raise ConfigError(f"toy batch size {toy.batch_size} does not split over {world} processes")
    train_data = ToyAVCData(toy, toy.train_size, toy.batch_size // world, ctx.seed, "train")
    val_data = ToyAVCData(toy, toy.val_size, toy.batch_size, ctx.seed, "val")
    model = ToyAVCNet(toy)
    cfg = train_config(toy, ctx)
    result = train(model, CrossEntropyLoss(), train_data, cfg, val_data=val_data)
    final = result.final_metrics
    metrics = {"val_acc": final["val_acc"], "val_loss": final["val_loss"], "loss": final["loss"]}
    return RunOutput(metrics=metrics, train=result)
