"""AVTS downstream evaluation (PAPERS.md §2): what the runs of ``avlib/experiments/avts.py`` do
with a net once its pretext training is done. Frozen audio features of back-to-back windows
and the linear-SVM probe on the ESC-50 analogue's folds; frozen whole-clip video features and
the logistic-regression probe on the action sets' split lists; the action data sets' clips
(UCF101 and HMDB51 analogues, video only); and fine-tuning a copy of the encoder on every split
of each (``avts-ablation`` fine-tunes the curriculum net, ``avts-scratch`` a random one). No
experiment is registered here.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import torch

from avlib.data.cache import ClipArrays, DecodedCache, RowView
from avlib.data.datasets import clip_batches
from avlib.data.layouts import open_dataset
from avlib.eval.finetune import finetune
from avlib.eval.probes import audio_window_probe, fold_probe
from avlib.experiments import RunContext
from avlib.experiments.common import train_config

if TYPE_CHECKING:
    from avlib.experiments.avts import Setup

ACTION_SETS = ("ucf101", "hmdb51")


def _take(arrays: ClipArrays, idx: np.ndarray) -> ClipArrays:
    """The clips ``idx`` of decoded arrays (views, no copy)."""
    idx = np.asarray(idx, dtype=np.int64)

    def rows(view):
        return None if view is None else RowView(view.table, view.rows[idx])

    return replace(
        arrays,
        items=[arrays.items[i] for i in idx],
        labels=arrays.labels[idx],
        frames=rows(arrays.frames),
        audio=rows(arrays.audio),
        audio_scale=None if arrays.audio_scale is None else arrays.audio_scale[idx],
    )


def esc_probe(model, esc: ClipArrays, setup: Setup, device: str) -> float:
    """The audio probe on back-to-back windows of the net's clip length."""
    win = model.cfg.samples
    return audio_window_probe(model, esc, win, win, setup.svm_C, device)


@torch.no_grad()
def video_features(model, arrays: ClipArrays, device: str) -> np.ndarray:
    """Video features of every whole clip (eval mode)."""
    model.eval()
    return np.concatenate(
        [model.embed_video(b["video"].to(device)).cpu().numpy() for b in clip_batches(arrays, 32)]
    )


def action_splits(arrays: ClipArrays) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, test) clip indices of each of the data set's split lists (UCF101, HMDB51)."""
    roles = np.array([i.extra.get("splits", ()) for i in arrays.items], dtype=object)
    out = []
    for k in range(max((len(r) for r in roles), default=0)):
        role = np.array([r[k] if len(r) > k else None for r in roles], dtype=object)
        out.append((np.flatnonzero(role == "train"), np.flatnonzero(role == "test")))
    return out


def video_probe(features: np.ndarray, arrays: ClipArrays, setup: Setup) -> float:
    """Mean top-1 over the split lists of a logistic-regression probe on frozen features."""
    accs = []
    for train_idx, test_idx in action_splits(arrays):
        keep = np.r_[train_idx, test_idx]
        folds = np.r_[np.zeros(len(train_idx)), np.ones(len(test_idx))]
        accs.append(
            fold_probe(
                features[keep], arrays.labels[keep], folds, classifier="logistic",
                C=setup.probe_C, test_folds=[1],
            ).accuracy
        )  # fmt: skip
    return float(np.mean(accs))


def action_data(ctx: RunContext, cfg, setup: Setup) -> dict[str, ClipArrays]:
    """The action data sets' clips (video only) at the net's frame rate and size."""
    return {
        name: DecodedCache().load(
            open_dataset(ctx.dataset(name)), fps=cfg.fps, size=cfg.frame_size,
            dur_s=setup.action_s, progress=ctx.progress,
        )
        for name in ACTION_SETS
    }  # fmt: skip


def finetune_all(ctx, encoder, actions: dict, setup: Setup, prefix: str):
    """Fine-tune a copy of ``encoder`` on every split of every action data set: metrics
    ``<set>_finetune`` (mean over splits) and per split, and each split's training run."""
    metrics, runs = {}, {}
    for name, arrays in actions.items():
        accs = []
        for k, (train_idx, test_idx) in enumerate(action_splits(arrays), start=1):
            train_a, test_a = _take(arrays, train_idx), _take(arrays, test_idx)
            data = clip_batches(
                train_a, setup.finetune_batch, shuffle=True, seed=ctx.seed, drop_last=True
            )
            tc = train_config(
                ctx, f"{prefix}-{name}-split{k}", setup.finetune_steps, len(data),
                lr=setup.finetune_lr, scheduler="cosine",
                warmup_steps=round(setup.warmup * setup.finetune_steps),
            )  # fmt: skip
            test = clip_batches(test_a, 64)
            result = finetune(encoder, data, test, len(arrays.classes), tc, val_data=test)
            accs.append(result.accuracy)
            metrics[f"{name}_finetune_split{k}"] = result.accuracy
            runs[f"{name}-split{k}"] = result.train
        metrics[f"{name}_finetune"] = float(np.mean(accs))
    return metrics, runs
