"""SoundNet's comparison runs (PAPERS.md §4): the nets the teacher-student runs of
``avlib/experiments/soundnet.py`` are measured against, none of which learns from the teachers.
``soundnet-scratch`` trains the 8- and 5-layer nets on ESC-50's labels (four folds, tested on
the fifth, rotating with the seed: ``heldout_fold``; a clip's decision the mean of its windows'
logits); ``soundnet-baselines`` scores MFCC + linear SVM and a convolutional autoencoder trained
on the Flickr clips' audio, probed on ESC-50 as the students are. Both share the Setup, crops and
probes of ``soundnet.py``.
"""

from __future__ import annotations

import numpy as np
import torch

from avlib.data.cache import ClipArrays
from avlib.data.layouts import open_dataset
from avlib.eval.calibration import esc_mfcc_svm
from avlib.eval.probes import sliding_windows
from avlib.experiments import RunContext, RunOutput, register
from avlib.experiments.common import (
    accuracy,
    data_record,
    load_audio_clips,
    split_by_position,
    train_config,
)
from avlib.experiments.soundnet import (
    _STUDENT,
    PAPER,
    SETUPS,
    Setup,
    _audio,
    _config,
    _crops,
    _curve_gain,
    _fixed_crops,
    layer_probes,
)
from avlib.models import build, get_config
from avlib.train import train


def heldout_fold(seed: int, folds) -> int:
    """The ESC-50 fold a from-scratch run of ``seed`` tests on: the seeds rotate over the folds."""
    folds = sorted(set(folds))
    return folds[seed % len(folds)]


@torch.no_grad()
def _clip_accuracy(model, arrays: ClipArrays, clip_s: float, setup: Setup, device: str) -> float:
    """Accuracy of a classifier whose clip decision is the mean of its windows' logits."""
    model.eval()
    win, hop = round(clip_s * arrays.sr), round(setup.window_hop_s * arrays.sr)
    windows, owner = sliding_windows(
        torch.from_numpy(arrays.waveform(np.arange(len(arrays)))), win, hop
    )
    logits = torch.cat([model({"audio": w.to(device)})["logits"].cpu() for w in windows.split(256)])
    mean = torch.zeros(len(arrays), logits.shape[1]).index_add_(0, torch.from_numpy(owner), logits)
    return float((mean.argmax(1).numpy() == arrays.labels).mean())


def _subset(arrays: ClipArrays, rows: np.ndarray) -> ClipArrays:
    """The clips ``rows`` (bool mask) of ``arrays``."""
    idx = np.flatnonzero(rows)
    return ClipArrays(**{**arrays.__dict__, "items": [arrays.items[i] for i in idx],
                         "labels": arrays.labels[idx], "audio": arrays.audio.__class__(
                             arrays.audio.table, arrays.audio.rows[idx]),
                         "audio_scale": arrays.audio_scale[idx]})  # fmt: skip


@register("soundnet-scratch", paper=PAPER, config=_config(_STUDENT, ("soundnet5", {})))
def soundnet_scratch(ctx: RunContext) -> RunOutput:
    """The 8- and 5-layer nets trained from scratch on ESC-50's labels, tested on one fold."""
    setup = SETUPS[ctx.profile]
    sr = get_config("soundnet", ctx.profile).sr
    esc = _audio(ctx, "esc50", setup.esc_s, sr)
    folds = np.array([i.fold for i in esc.items])
    fold = heldout_fold(ctx.seed, folds)
    train_a, test_a = _subset(esc, folds != fold), _subset(esc, folds == fold)
    metrics, runs = {"heldout_fold": fold}, {}
    for name, model_name in (("eight", "soundnet"), ("five", "soundnet5")):
        model = build(model_name, ctx.profile, n_classes=len(esc.classes))
        cfg = model.cfg
        data = _crops(train_a, setup.fps, cfg.clip_s, cfg.batch_size,
                      setup.epoch_steps * cfg.batch_size, ctx.seed, labels=train_a.labels)  # fmt: skip
        val = _fixed_crops(test_a, setup.fps, cfg.clip_s, labels=test_a.labels)
        steps = setup.scratch_steps
        tc = train_config(ctx, name, steps, len(data), lr=cfg.lr, weight_decay=cfg.weight_decay,
                          scheduler="cosine", warmup_steps=round(setup.warmup * steps))  # fmt: skip
        runs[name] = train(model, model.loss_fn(), data, tc, val_data=val,
                           val_fn=lambda m, b: {"acc": accuracy(m, b, ctx.device)})  # fmt: skip
        metrics[f"esc50_acc_scratch_{name}"] = _clip_accuracy(model, test_a, cfg.clip_s, setup,
                                                              ctx.device)  # fmt: skip
        metrics[f"gain_last_quarter_{name}"] = _curve_gain(runs[name])
    return RunOutput(metrics, runs, {}, {}, data_record(esc50=esc))


@torch.no_grad()
def _reconstruction(model, batches, device: str) -> dict[str, float]:
    model.eval()
    total, n = 0.0, 0
    for batch in batches:
        out = model({"audio": batch["audio"].to(device)})
        total += float((out["reconstruction"] - out["target"]).pow(2).mean()) * len(batch["audio"])
        n += len(batch["audio"])
    return {"mse": total / n}


@register("soundnet-baselines", paper=PAPER, config=_config(("soundnet-autoencoder", {}), _STUDENT))
def soundnet_baselines(ctx: RunContext) -> RunOutput:
    """MFCC + linear SVM, and a convolutional autoencoder's features, on ESC-50."""
    setup = SETUPS[ctx.profile]
    model = build("soundnet-autoencoder", ctx.profile)
    cfg = model.cfg
    index = open_dataset(ctx.dataset("flickr_soundnet"))
    flickr = [load_audio_clips(i, dur_s=setup.flickr_s, sr=cfg.sr, progress=ctx.progress)
              for i in split_by_position(index, setup.val_every)]  # fmt: skip
    data = _crops(flickr[0], setup.fps, cfg.clip_s, cfg.batch_size,
                  setup.epoch_steps * cfg.batch_size, ctx.seed)  # fmt: skip
    val = _fixed_crops(flickr[1], setup.fps, cfg.clip_s)
    steps = setup.autoencoder_steps
    tc = train_config(ctx, "autoencoder", steps, len(data), lr=cfg.lr,
                      weight_decay=cfg.weight_decay, scheduler="cosine",
                      warmup_steps=round(setup.warmup * steps))  # fmt: skip
    from avlib.losses import ReconstructionLoss

    result = train(model, ReconstructionLoss(), data, tc, val_data=val,
                   val_fn=lambda m, b: _reconstruction(m, b, ctx.device))  # fmt: skip
    esc = _audio(ctx, "esc50", setup.esc_s, cfg.sr)
    layers, best, _, _ = layer_probes(model, esc, setup, ctx.device, prefix="esc50_autoencoder")
    metrics = {
        **layers,
        "esc50_acc_autoencoder": layers[f"esc50_autoencoder_acc_{best}"],
        "autoencoder_mse": _reconstruction(model, val, ctx.device)["mse"],
        "autoencoder_mse_first": result.history[0]["val_mse"],
        "esc50_acc_mfcc": float(
            esc_mfcc_svm(ctx.dataset("esc50"), seed=ctx.seed)["accuracy"].mean()
        ),
    }
    data_rec = data_record(esc50=esc, flickr_train=flickr[0], flickr_val=flickr[1])
    return RunOutput(metrics, {"autoencoder": result}, {}, {}, data_rec)
