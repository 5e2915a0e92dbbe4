"""The world chapter's run (notebooks/00_world.ipynb); the chapter is ``avlib/chapters/world.py``.

``world-calibration`` measures, on the world of the run's profile (or on real
data under ``data_root``), whether each paper's question is non-trivial and
shortcut-free: MFCC + linear SVM on the ESC-50 analogue (and its ESC-10 rows)
and on DCASE, shuffled-label controls, nuisance features (duration, file size,
file order, write order, mean colour) alone, how well the mouth opening
measured from pixels follows the speech envelope (all from
:mod:`avlib.eval.calibration`), and a small log-mel CNN (``logmel-cnn``)
trained from scratch by the one trainer on each ESC-50 fold split (its
front-end runs once per clip and run; random crops happen in the model). One
results file per seed under results/<profile>/world/world-calibration/.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
import torch

from avlib.data.cache import ClipArrays
from avlib.data.datasets import Batches, ClipSampler, clip_batches
from avlib.data.layouts import open_dataset
from avlib.data.samplers.base import Windows
from avlib.eval import calibration
from avlib.experiments import RunContext, RunOutput, register
from avlib.experiments.common import accuracy, data_record, load_audio_clips, train_config
from avlib.losses import CrossEntropyLoss
from avlib.models import build, get_config
from avlib.models.baselines import LogMelCNN
from avlib.train import train

PAPER = "world"
CNN = "logmel-cnn"


@dataclass(frozen=True)
class Setup:
    """Budget of the calibration at one profile."""

    cnn_epochs: int = 15  # log-mel CNN: epochs over each fold split's training clips
    warmup: float = 0.3  # share of the CNN's steps spent warming the learning rate up
    mouth_clips: int = 40  # talking-face clips whose mouth track is measured
    svm_C: float = calibration.SVM_C  # MFCC + linear SVM


SETUPS = {
    "smoke": Setup(cnn_epochs=3, mouth_clips=12),
    "quick": Setup(),
    "full": Setup(cnn_epochs=30, mouth_clips=80),
}


def _config(profile: str) -> dict:
    return {CNN: asdict(get_config(CNN, profile)), "setup": asdict(SETUPS[profile])}


def _mean(df: pd.DataFrame) -> float:
    return float(df["accuracy"].mean())


class LogMelBatches(Batches):
    """Precomputed log-mel of whole clips as ``audio`` (B,1,F,T) (the glossary's feature form)
    with ``label``, each clip once per epoch in a :class:`ClipSampler`'s order (resumable)."""

    def __init__(self, features, labels, batch_size: int, *, train: bool = False, seed: int = 0):
        """``train``: shuffled every epoch, the last incomplete batch dropped."""
        self.features, self.batch_size = features, batch_size
        self.sampler = ClipSampler(labels, 1, shuffle=train, seed=seed)
        self.drop_last, self.rank, self.world_size, self._resumed = train, 0, 1, False

    def batch(self, w: Windows) -> dict:
        """The windows' clips: their features and class labels."""
        return {"audio": self.features[w.audio_clip], "label": torch.from_numpy(w.label)}


def log_mel(arrays: ClipArrays, cfg) -> torch.Tensor:
    """Every clip's log-mel (N,1,F,T) by the CNN's own front-end, once per run: on a CPU the
    front-end costs as much as a training step, and it is the same in every epoch and fold."""
    frontend = LogMelCNN(cfg).eval()
    with torch.no_grad():
        return torch.cat([frontend.log_mel(b["audio"]) for b in clip_batches(arrays, 64)])


def _cnn_fold(ctx: RunContext, clips: ClipArrays, features, test: np.ndarray, fold: int):
    """One log-mel CNN trained by the trainer on the clips outside ``test`` and tested on those
    in it (random crops in training, whole clips in the test); (test accuracy, TrainResult)."""
    setup, labels, train_rows = SETUPS[ctx.profile], clips.labels, torch.from_numpy(~test)
    torch.manual_seed(ctx.seed + fold)  # each fold's initial weights, whatever ran before
    model = build(CNN, ctx.profile, n_classes=len(clips.classes))
    cfg = model.cfg
    data = LogMelBatches(
        features[train_rows], labels[~test], cfg.batch_size, train=True, seed=ctx.seed + fold
    )
    steps = setup.cnn_epochs * len(data)
    tc = train_config(
        ctx, f"cnn-fold{fold}", steps, len(data), lr=cfg.lr, weight_decay=cfg.weight_decay,
        scheduler="cosine", warmup_steps=round(setup.warmup * steps),
    )  # fmt: skip
    result = train(model, CrossEntropyLoss(), data, tc)
    held_out = LogMelBatches(features[~train_rows], labels[test], 64)
    return accuracy(model, held_out, ctx.device), result


def esc_cnn(ctx: RunContext, esc) -> tuple[pd.DataFrame, dict, dict]:
    """Per-fold accuracy of the log-mel CNN on ESC-50 (train on 4 folds, test on the fifth),
    the trainer's result per fold, and what the data gave (items, skips)."""
    cfg = get_config(CNN, ctx.profile)
    index = open_dataset(esc, "esc50")
    clips = load_audio_clips(index, dur_s=cfg.clip_s, sr=cfg.sr, progress=ctx.progress)
    features, folds = log_mel(clips, cfg), np.array([i.fold for i in clips.items])
    rows, runs = [], {}
    for fold in sorted(set(folds.tolist())):
        test = folds == fold
        acc, runs[f"fold{fold}"] = _cnn_fold(ctx, clips, features, test, fold)
        rows.append({"fold": fold, "accuracy": acc, "n_test": int(test.sum())})
    return pd.DataFrame(rows), runs, data_record(esc50=clips)


@register("world-calibration", paper=PAPER, config=_config)
def world_calibration(ctx: RunContext) -> RunOutput:
    """Difficulty and shortcut controls of the data: baselines, shuffled labels, nuisance features, mouth sync."""
    setup, seed = SETUPS[ctx.profile], ctx.seed
    esc, dcase = ctx.dataset("esc50"), ctx.dataset("dcase2013")
    with warnings.catch_warnings():  # tiny smoke folds warn about class counts
        warnings.simplefilter("ignore", UserWarning)
        tables = {
            "esc50_mfcc_svm": calibration.esc_mfcc_svm(esc, seed=seed),
            "esc50_shuffled": calibration.esc_mfcc_svm(esc, shuffle=True, seed=seed),
            "esc10_mfcc_svm": calibration.esc_mfcc_svm(esc, esc10=True, seed=seed),
            "dcase_mfcc_svm": calibration.dcase_mfcc_svm(dcase, seed=seed),
            "dcase_shuffled": calibration.dcase_mfcc_svm(dcase, shuffle=True, seed=seed),
        }
        root = esc.parent if ctx.data_root is None else ctx.data_root
        shortcuts = calibration.shortcut_controls(root)
    tables["esc50_cnn"], runs, data = esc_cnn(ctx, esc)
    mouth = calibration.mouth_sync_table(ctx.dataset("lrs2", "lrs2"), max_clips=setup.mouth_clips)
    n_esc, n_dcase = len(open_dataset(esc).classes), len(open_dataset(dcase).classes)
    metrics = {name: _mean(t) for name, t in tables.items()}
    metrics.update(
        esc50_shuffled_excess=metrics["esc50_shuffled"] - 1 / n_esc,
        dcase_shuffled_excess=metrics["dcase_shuffled"] - 1 / n_dcase,
        shortcut_max_excess=float((shortcuts["accuracy"] - shortcuts["chance"]).max()),
        mouth_corr_true=float(mouth["mouth_corr_at_true"].mean()),
        mouth_corr_other=float(mouth["mouth_corr_max_other"].mean()),
        mouth_best_lag_hit=float(((mouth["best_lag"] - mouth["true_lag"]).abs() <= 1).mean()),
        outside_corr_abs=float(mouth["outside_corr_at_true"].abs().mean()),
    )
    extra = {
        "folds": {name: t.to_dict("records") for name, t in tables.items()},
        "shortcuts": shortcuts.to_dict("records"),
        "mouth": mouth.to_dict("records"),
    }
    return RunOutput(metrics=metrics, train=runs, extra=extra, data=data)
