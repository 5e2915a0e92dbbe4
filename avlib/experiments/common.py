"""Pieces every paper's experiments share: reading clips, fixed evaluation pairs, trainer settings."""

from __future__ import annotations

import math
from dataclasses import asdict, replace

import numpy as np
import torch
from torch import nn

from avlib.data.cache import ClipArrays, DecodedCache
from avlib.data.datasets import Batches
from avlib.data.index import DataIndex
from avlib.data.samplers.base import PairSampler
from avlib.errors import ConfigError, DataError
from avlib.experiments import RunContext
from avlib.train import TrainConfig

EVAL_SEED = 20_170_000  # fixed evaluation pairs: the same for every model and training seed


def load_clips(
    index: DataIndex, *, dur_s: float, fps: int, size: int, sr: int, progress: bool
) -> ClipArrays:
    """Decoded frames and audio of the first ``dur_s`` seconds of every clip (decoded cache).

    The window comes from the experiment's config, never from the data: a clip
    shorter than it is a counted skip naming the file (``ClipArrays.skipped``);
    a DataError naming the data set when no clip is left.
    """
    arrays = DecodedCache().load(index, fps=fps, size=size, sr=sr, dur_s=dur_s, progress=progress)
    return _some_left(index, arrays)


def load_audio_clips(index: DataIndex, *, dur_s: float, sr: int, progress: bool) -> ClipArrays:
    """Decoded audio of the first ``dur_s`` seconds of every clip (decoded cache; shorter: skips)."""
    return _some_left(index, DecodedCache().load(index, sr=sr, dur_s=dur_s, progress=progress))


def _some_left(index: DataIndex, arrays: ClipArrays) -> ClipArrays:
    """``arrays``, or a DataError naming the data set and its first skip when none was usable."""
    if len(arrays) or not index.items:
        return arrays
    first = arrays.skipped[0] if arrays.skipped else None
    example = f"; first: {first.path}: {first.reason}" if first else ""
    raise DataError(
        index.root,
        f"none of its {len(index.items)} clips is usable at a {arrays.dur_s:g} s window "
        f"({len(arrays.skipped)} skipped{example})",
        "see `avlib data check --probe` for every problem",
    )


def data_record(**arrays: ClipArrays) -> dict:
    """What each data set gave a run: its root, layout, items used and every file skipped."""
    out = {}
    for name, a in arrays.items():
        out[name] = {
            "items": len(a),
            "classes": len(a.classes),
            "window_s": a.dur_s,
            "skipped": [{"path": s.path, "reason": s.reason} for s in a.skipped],
        }
    return out


def train_config(ctx: RunContext, name: str, steps: int, steps_per_epoch: int, **kw) -> TrainConfig:
    """Trainer settings of one training run inside an experiment (checkpoints under run_dir/name)."""
    return TrainConfig(
        epochs=max(1, math.ceil(steps / steps_per_epoch)),
        max_steps=steps,
        seed=ctx.seed,
        device=ctx.device,
        checkpoint_dir=str(ctx.run_dir / name),
        resume=ctx.resume,
        metrics_path=str(ctx.run_dir / name / "metrics.jsonl"),
        progress=ctx.progress,
        log_every=10,
        **kw,
    )


@torch.no_grad()
def accuracy(model: nn.Module, batches, device: str, key: str = "label") -> float:
    """Fraction of batches' samples whose argmax logit equals ``batch[key]``, in eval mode."""
    was = model.training
    model.eval()
    correct = total = 0
    for batch in batches:
        batch = {k: v.to(device) if torch.is_tensor(v) else v for k, v in batch.items()}
        pred = model(batch)["logits"].argmax(dim=1)
        correct += int((pred == batch[key]).sum())
        total += len(pred)
    model.train(was)
    if total == 0:
        raise ConfigError("accuracy over an empty evaluation set (fewer pairs than one batch?)")
    return correct / total


def eval_pairs(arrays: ClipArrays, sampler: PairSampler, batch_size: int = 256) -> Batches:
    """A fixed evaluation set: ``sampler`` (seeded with EVAL_SEED by the caller) over ``arrays``."""
    sampler.set_epoch(0)
    return Batches(arrays, sampler, batch_size, drop_last=False)


def config_record(**parts) -> dict:
    """A JSON-ready record of the dataclass configs an experiment ran with."""
    return {k: asdict(v) if hasattr(v, "__dataclass_fields__") else v for k, v in parts.items()}


def split_by_position(index: DataIndex, test_every: int = 5) -> tuple[DataIndex, DataIndex]:
    """Deterministic train/test split of an unsplit index: every ``test_every``-th item is test."""
    test = np.arange(len(index.items)) % test_every == test_every - 1
    train_items = [i for i, t in zip(index.items, test, strict=True) if not t]
    test_items = [i for i, t in zip(index.items, test, strict=True) if t]
    return replace(index, items=train_items), replace(index, items=test_items)
