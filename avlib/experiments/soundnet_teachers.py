"""SoundNet's image teachers (PAPERS.md §4), used by the students of
``avlib/experiments/soundnet.py``: the two heads and the image data set each learns
(``TEACHERS``), torchvision weights found on disk (a real ImageNet and Places network), the
training of each teacher on its image set (once per profile and data, in a checkpoint shared by
every student seed), and what the students learn from: each cached frame's teacher logits, the
object teacher's penultimate features (the vision side of scene recognition) and the soft
targets at the students' temperature. No experiment is registered here.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F

from avlib.atomic import atomic_path
from avlib.data.cache import ClipArrays, DecodedCache
from avlib.data.cachefiles import CacheLock
from avlib.data.datasets import clip_batches
from avlib.data.layouts import open_dataset
from avlib.errors import LayoutError
from avlib.experiments import RunContext
from avlib.experiments.common import accuracy, train_config
from avlib.losses import CrossEntropyLoss
from avlib.models import build, get_config
from avlib.results import digest
from avlib.train import train

if TYPE_CHECKING:
    from avlib.experiments.soundnet import Setup

TEACHERS = {"objects": "imagenet", "scenes": "places"}  # head -> the image data set it learns


def teacher_weights(data_root: Path | None) -> dict[str, str]:
    """{head: path} of torchvision state dicts found on disk: ``<data_root>/soundnet_teachers/
    objects.pt`` and ``scenes.pt`` (a real ImageNet and a Places network); none for the world."""
    if data_root is None:
        return {}
    folder = Path(data_root) / "soundnet_teachers"
    return {h: str(folder / f"{h}.pt") for h in TEACHERS if (folder / f"{h}.pt").is_file()}


def _classes_in(path: str) -> int:
    """The class count of a classifier state dict (its last 2-D weight's rows)."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    state = state.get("state_dict", state)
    last = [v for k, v in state.items() if k.endswith("weight") and v.dim() == 2][-1]
    return int(last.shape[0])


def _train_teacher(ctx: RunContext, head: str, setup: Setup, weights: str | None):
    """One teacher: trained on its image set (once per profile and data: a shared checkpoint), or
    loaded from ``weights``; returns (model, held-out top-1 or None, TrainResult or None)."""
    cfg = get_config("soundnet-teacher", ctx.profile)
    try:
        images = open_dataset(ctx.dataset("imagefolder", TEACHERS[head]))
    except LayoutError:
        if weights is None:
            raise
        images = None
    splits = [] if images is None else [
        DecodedCache().load(images.subset(split=s), size=cfg.frame_size, progress=ctx.progress)
        for s in ("train", "val")
    ]  # fmt: skip
    if weights is not None:
        model = build(
            "soundnet-teacher", ctx.profile, weights=weights, n_classes=_classes_in(weights)
        )
        acc = accuracy(model, clip_batches(splits[1], 128), ctx.device) if splits else None
        model.frames_cache = None  # a user's weights: its frame outputs are not cached
        return model.to(ctx.device).eval(), acc, None, splits
    train_a, val_a = splits
    model = build("soundnet-teacher", ctx.profile, n_classes=len(train_a.classes))
    steps = setup.teacher_steps if head == "objects" else setup.scene_teacher_steps
    own = {"steps": steps, **{k: getattr(setup, k) for k in ("teacher_seed", "warmup")}}
    key = digest({"config": asdict(model.cfg), "setup": own, "classes": train_a.classes,
                  "items": [i.rel for i in train_a.items], "profile": ctx.profile})  # fmt: skip
    data = clip_batches(train_a, cfg.batch_size, shuffle=True, seed=setup.teacher_seed,
                        drop_last=True)  # fmt: skip
    tc = train_config(ctx, f"teacher-{head}", steps, len(data), lr=cfg.lr,
                      weight_decay=cfg.weight_decay, scheduler="cosine",
                      warmup_steps=round(setup.warmup * steps))  # fmt: skip
    shared = ctx.run_dir.parent.parent / "teachers" / f"{head}-{key}"
    tc = tc.__class__(**{**asdict(tc), "seed": setup.teacher_seed, "resume": True,
                         "checkpoint_dir": str(shared), "metrics_path": str(shared / "metrics.jsonl")})  # fmt: skip
    val = clip_batches(val_a, 128)
    shared.parent.mkdir(parents=True, exist_ok=True)
    # runs side by side (avlib.runpool) share the teacher: one trains it, the others wait and
    # read its finished checkpoint (resume returns a finished run without training)
    with CacheLock(shared.parent / f".{shared.name}.lock"):
        result = train(model, CrossEntropyLoss(), data, tc, val_data=val,
                       val_fn=lambda m, b: {"acc": accuracy(m, b, ctx.device)})  # fmt: skip
    model.frames_cache = shared  # its frame outputs are cached beside its checkpoint
    return model.eval(), accuracy(model, val, ctx.device), result, splits


def teachers(ctx: RunContext, setup: Setup):
    """Both teachers: {head: model}, metrics (held-out top-1), {name: TrainResult}, data."""
    weights = teacher_weights(ctx.data_root)
    models, metrics, runs, data = {}, {}, {}, {}
    for head, name in TEACHERS.items():
        model, acc, result, splits = _train_teacher(ctx, head, setup, weights.get(head))
        models[head] = model
        if acc is not None:
            metrics[f"teacher_{head}_acc"] = acc
        if result is not None:
            runs[f"teacher-{head}"] = result
        if splits:
            data.update({f"{name}_train": splits[0], f"{name}_val": splits[1]})
    return models, metrics, runs, data


def _frame_batches(arrays: ClipArrays, batch: int):
    """Every clip's cached frames, whole clips at a time: (clips in the batch, frames per clip,
    (clips x frames, 3, H, W) floats in [0, 1])."""
    n, t = arrays.frames.shape[:2]
    step = max(1, batch // t)
    for c in range(0, n, step):
        frames = torch.from_numpy(np.asarray(arrays.frames[c : c + step]))
        b = frames.shape[0]
        yield b, t, frames.reshape(b * t, *frames.shape[2:]).permute(0, 3, 1, 2).float() / 255


def _cached(teacher, arrays: ClipArrays, what: str, compute) -> torch.Tensor:
    """``compute()`` once per trained teacher and clips: every student seed and ablation reads
    the same frames (12 s of the object and scene teachers' logits per run at quick, 6 s of
    features), so the result is kept beside the teacher's checkpoint, keyed by the clips."""
    folder = getattr(teacher, "frames_cache", None)
    if folder is None:
        return compute()
    # a regenerated world is other clips under the same names: each file's size and time count
    stats = [(i.rel, Path(i.path).stat()) for i in arrays.items]
    files = [(rel, st.st_size, st.st_mtime_ns) for rel, st in stats]
    key = digest({"items": files, "frames": list(arrays.frames.shape), "fps": arrays.fps,
                  "what": what})  # fmt: skip
    path = Path(folder) / f"frames-{key}.pt"
    if path.is_file():
        try:
            return torch.load(path, map_location="cpu", weights_only=True)
        except Exception:  # a damaged cache file is computed again
            pass
    out = compute()
    with atomic_path(path) as tmp:
        torch.save(out, tmp)
    return out


@torch.no_grad()
def frame_logits(teacher, arrays: ClipArrays, device: str, batch: int = 256) -> torch.Tensor:
    """The teacher's logits for every cached frame of every clip, once: (N, T, K)."""
    teacher.eval()
    return _cached(teacher, arrays, "logits", lambda: torch.cat([
        teacher({"video": video.to(device)})["logits"].float().cpu().view(b, t, -1)
        for b, t, video in _frame_batches(arrays, batch)
    ]))  # fmt: skip


@torch.no_grad()
def frame_features(teacher, arrays: ClipArrays, device: str, batch: int = 256) -> np.ndarray:
    """The teacher's penultimate features averaged over each clip's frames: (N, D)."""
    teacher.eval()
    return _cached(teacher, arrays, "features", lambda: torch.cat([
        teacher.embed_video(video.to(device)).cpu().view(b, t, -1).mean(dim=1)
        for b, t, video in _frame_batches(arrays, batch)
    ])).numpy()  # fmt: skip


def soft_targets(logits: dict[str, torch.Tensor], temperature: float) -> dict[str, torch.Tensor]:
    """Per frame: the teachers' distributions softened by ``temperature``."""
    return {h: F.softmax(x / temperature, dim=-1) for h, x in logits.items()}
