"""The world chapter (notebooks/00_world.ipynb): what it says about the data, computed from results.

The run is ``world-calibration`` (``avlib/experiments/world.py``); its
measurements are :mod:`avlib.eval.calibration` and the log-mel CNN
``logmel-cnn`` (``avlib/models/baselines.py``). :data:`CHECKS` states the band
each calibration number must land in at the quick and full presets, and
:func:`calibration_table` gives each a verdict. The world tests no paper's
claim, so this chapter has no ``CLAIMS``; the paper number it quotes is
SoundNet's MFCC baseline on real ESC-50.

The figure helpers read the data through the same readers the experiments
use: frames with their ground-truth boxes, log-mel spectrograms, the mouth
track against the speech envelope, class balance, and a playable clip.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from avlib.claims import CrossRow, references
from avlib.data.layouts import find_datasets, locate_dataset, open_dataset
from avlib.data.media import load_audio, load_video, probe
from avlib.figures import OURS_COLOUR, PAPER_COLOUR, draw_boxes

PAPER = "world"
TITLE = "The world"
NOTEBOOK = "00_world"
CITES: dict[str, str] = {}
EXPERIMENTS = ("world-calibration",)
PAPER_MFCC = "soundnet/baseline-mfcc-svm"  # the paper number the chapter quotes
CALIBRATION = "world/world-calibration"
CROSS = {  # the baseline every paper's audio features are compared with (scorecard)
    "audio-probes": [
        CrossRow("ESC-50", "MFCC + SVM (no learning)", PAPER_MFCC, CALIBRATION, "esc50_mfcc_svm"),
        CrossRow("ESC-10", "MFCC + SVM (no learning)", None, CALIBRATION, "esc10_mfcc_svm"),
        CrossRow("DCASE 2013", "MFCC + SVM (no learning)", None, CALIBRATION, "dcase_mfcc_svm"),
    ],
}


@dataclass(frozen=True)
class Check:
    """One calibration number and the band it must land in (quick and full presets)."""

    metric: str
    measurement: str
    low: float
    high: float
    why: str


CHECKS = (
    Check(
        "esc50_mfcc_svm",
        "ESC-50: MFCC + linear SVM",
        0.30,
        0.60,
        "hard, like the paper's MFCC baseline on real ESC-50",
    ),
    Check("esc50_cnn", "ESC-50: log-mel CNN from scratch", 0.70, 0.95, "learnable, not saturated"),
    Check(
        "esc50_shuffled_excess", "ESC-50: shuffled labels, above chance", -1.0, 0.03, "no leakage"
    ),
    Check("dcase_mfcc_svm", "DCASE: MFCC + linear SVM", 0.30, 0.90, "scenes are separable"),
    Check(
        "dcase_shuffled_excess", "DCASE: shuffled labels, above chance", -1.0, 0.10, "no leakage"
    ),
    Check(
        "shortcut_max_excess",
        "Best nuisance feature, above chance",
        -1.0,
        0.05,
        "no shortcut: file size, order, duration or colour say nothing",
    ),
    Check(
        "mouth_corr_true", "Mouth opening vs speech envelope, true lag", 0.30, 1.0, "lips follow"
    ),
    Check(
        "mouth_best_lag_hit",
        "Clips whose best lag is the true one (±1 frame)",
        0.80,
        1.0,
        "sync is visible in the mouth",
    ),
    Check(
        "outside_corr_abs",
        "Motion outside the mouth vs envelope change, |corr|",
        0.0,
        0.15,
        "and nowhere else",
    ),
)


def calibration_table(record: dict, profile: str) -> pd.DataFrame:
    """Each check: our number, its band, and whether it is in the band (bands hold for quick/full)."""
    rows = []
    for check in CHECKS:
        value = record["metrics"][check.metric]
        inside = check.low <= value <= check.high
        band = f"≤ {check.high:.2f}" if check.low <= -1 else f"{check.low:.2f}–{check.high:.2f}"
        verdict = ("in band" if inside else "OUTSIDE band") if profile != "smoke" else "n/a (smoke)"
        rows.append(
            {
                "measurement": check.measurement,
                "ours": round(value, 3),
                "band": band,
                "verdict": verdict,
                "why": check.why,
            }
        )
    return pd.DataFrame(rows)


FOLD_ROWS = {
    "esc50_mfcc_svm": "ESC-50: MFCC + SVM",
    "esc50_shuffled": "ESC-50: shuffled labels",
    "esc10_mfcc_svm": "ESC-10: MFCC + SVM",
    "esc50_cnn": "ESC-50: log-mel CNN",
    "dcase_mfcc_svm": "DCASE: MFCC + SVM",
    "dcase_shuffled": "DCASE: shuffled labels",
}


def fold_table(record: dict) -> pd.DataFrame:
    """Accuracy per test fold of each baseline and control, with the mean over folds."""
    rows = []
    for key, name in FOLD_ROWS.items():
        folds = {f"fold {r['fold']}": r["accuracy"] for r in record["folds"][key]}
        rows.append({"measurement": name, **folds, "mean": np.mean(list(folds.values()))})
    return pd.DataFrame(rows).round(3)


def shortcut_table(record: dict) -> pd.DataFrame:
    """Accuracy of each nuisance feature alone, beside chance."""
    table = pd.DataFrame(record["shortcuts"])[["data set", "feature", "accuracy", "chance"]]
    return table.assign(above_chance=table["accuracy"] - table["chance"]).round(3)


def headline_numbers(record: dict, table: pd.DataFrame) -> dict[str, str]:
    """The numbers the chapter's prose quotes (glue name -> text)."""
    m = record["metrics"]

    def pct(key):
        return f"{100 * m[key]:.1f} %"

    return {
        "world_esc_mfcc": pct("esc50_mfcc_svm"),
        "world_esc_cnn": pct("esc50_cnn"),
        "world_esc10_mfcc": pct("esc10_mfcc_svm"),
        "world_dcase_mfcc": pct("dcase_mfcc_svm"),
        "world_mouth_true": f"{m['mouth_corr_true']:.2f}",
        "world_mouth_other": f"{m['mouth_corr_other']:.2f}",
        "world_in_band": f"{(table['verdict'] == 'in band').sum()} of {len(table)}",
        "world_paper_mfcc": references()[PAPER_MFCC].format(),
    }


def baseline_bars(record: dict) -> Figure:
    """Our ESC-50 / ESC-10 / DCASE baselines (mean over folds) beside the paper's MFCC baseline."""
    m = record["metrics"]
    paper = references()[PAPER_MFCC]
    labels, keys = list(FOLD_ROWS.values()), list(FOLD_ROWS)
    fig = Figure(figsize=(7.5, 4.2))
    ax = fig.subplots()
    ax.barh(labels[::-1], [100 * m[k] for k in keys[::-1]], color=OURS_COLOUR, label="ours")
    ax.axvline(paper.value, color=PAPER_COLOUR, ls="--", label=f"paper: {paper.quantity} (real)")
    band = next(c for c in CHECKS if c.metric == "esc50_mfcc_svm")
    ax.axvspan(100 * band.low, 100 * band.high, color=OURS_COLOUR, alpha=0.08,
               label="ESC-50 MFCC band")  # fmt: skip
    ax.set(xlabel="accuracy (%)", xlim=(0, 100))
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3, fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def _first_per_class(index, split: str | None = None) -> list:
    seen, out = set(), []
    for item in index.items:
        if item.label is not None and item.label not in seen and split in (None, item.split):
            seen.add(item.label)
            out.append(item)
    return sorted(out, key=lambda i: i.label)


def frame_grid(root: str | Path, columns: int = 7) -> Figure:
    """The middle frame of one Kinetics-Sounds clip per class, its sounding object's box in green."""
    index = open_dataset(locate_dataset(root, "kinetics_sounds"), "kinetics_sounds")
    items = _first_per_class(index)
    rows = -(-len(items) // columns)
    fig = Figure(figsize=(1.45 * columns, 1.7 * rows))
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    for ax, item in zip(axes, items, strict=False):
        frames = load_video(item.path)
        t = len(frames) // 2
        ax.imshow(frames[t])
        if item.truth and item.truth.get("boxes"):
            draw_boxes(ax, item.truth["boxes"][t], *frames.shape[1:3], linewidth=1.2)
        ax.set_title(item.label_name.replace("_", " ")[:18], fontsize=7)
    for ax in axes:
        ax.set(xticks=[], yticks=[])
        ax.grid(False)
    for ax in axes[len(items) :]:
        ax.set_axis_off()
    fig.tight_layout(pad=0.3)
    return fig


def spectrogram_grid(root: str | Path, classes: int = 8, columns: int = 4) -> Figure:
    """Log-mel spectrograms of one ESC-50 clip for each of the first ``classes`` classes."""
    import torch
    import torchaudio

    index = open_dataset(locate_dataset(root, "esc50"), "esc50")
    items = _first_per_class(index)[:classes]
    sr = probe(items[0].path).sr
    mel = torchaudio.transforms.MelSpectrogram(sr, n_fft=1024, hop_length=256, n_mels=64)
    rows = -(-len(items) // columns)
    fig = Figure(figsize=(2.4 * columns, 1.9 * rows))
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    for ax, item in zip(axes, items, strict=False):
        audio = torch.from_numpy(load_audio(item.path))
        spec = 10 * torch.log10(mel(audio) + 1e-8).numpy()
        ax.imshow(
            spec,
            origin="lower",
            aspect="auto",
            cmap="magma",
            vmin=spec.max() - 70,
            extent=(0, len(audio) / sr, 0, 64),
        )
        ax.set_title(item.label_name.replace("_", " "), fontsize=8)
        duration = len(audio) / sr
        ax.set(yticks=[], xticks=[0, duration], xticklabels=["0", f"{duration:g} s"])
        ax.tick_params(labelsize=7)
        ax.grid(False)
    for ax in axes[len(items) :]:
        ax.set_axis_off()
    fig.tight_layout(pad=0.3)
    return fig


def mouth_figure(root: str | Path) -> Figure:
    """One talking-face clip: a frame with the mouth box, mouth opening vs speech envelope over time."""
    from avlib.eval.calibration import decode_mp4, mouth_tracks

    index = open_dataset(locate_dataset(root, "lrs2", "lrs2"), "lrs2")
    item = next(i for i in index.items if i.truth and i.truth.get("boxes"))
    frames, audio, sr, fps = decode_mp4(item.path)
    tracks = mouth_tracks(frames, item.truth["boxes"], audio, sr, fps)
    fig = Figure(figsize=(9, 2.8))
    left, right = fig.subplots(1, 2, width_ratios=(1, 3))
    t = int(np.argmax(tracks["opening"]))
    left.imshow(frames[t])
    draw_boxes(left, item.truth["boxes"][t], *frames.shape[1:3], linewidth=1.2)
    left.set(xticks=[], yticks=[], title=f"frame {t}: mouth box")
    left.grid(False)
    time = np.arange(len(frames)) / fps

    def unit(x):
        return (x - x.min()) / (np.ptp(x) or 1)

    right.plot(time, unit(tracks["envelope"]), color=PAPER_COLOUR, label="speech envelope (audio)")
    right.plot(time, unit(tracks["opening"]), color=OURS_COLOUR, label="mouth opening (pixels)")
    right.set(xlabel="time (s)", yticks=[], title=f'"{item.text or ""}"'[:70])
    right.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    return fig


def class_balance(root: str | Path) -> Figure:
    """Items per class (min, median, max) of every labelled data set of the world."""
    rows = []
    for name, layout in sorted(find_datasets(root).items()):
        index = open_dataset(Path(root) / name, layout)
        labels = index.labels()
        if (labels >= 0).any():
            counts = np.bincount(labels[labels >= 0], minlength=len(index.classes))
            rows.append((name, counts.min(), np.median(counts), counts.max()))
    fig = Figure(figsize=(7, 0.45 * len(rows) + 1))
    ax = fig.subplots()
    for y, (_, lo, med, hi) in enumerate(rows):
        ax.plot([lo, hi], [y, y], color=OURS_COLOUR, lw=2)
        ax.plot([med], [y], "o", color=OURS_COLOUR)
    ax.set(yticks=range(len(rows)), yticklabels=[r[0] for r in rows], xlabel="items per class")
    ax.set_xlim(left=0)
    ax.set_title("class balance: min – median (dot) – max", fontsize=9)
    fig.tight_layout()
    return fig


def playable_clip(root: str | Path, label: str | None = None):
    """An IPython Video of one Kinetics-Sounds test clip, embedded so the built book plays it."""
    from IPython.display import Video

    index = open_dataset(locate_dataset(root, "kinetics_sounds"), "kinetics_sounds")
    items = [i for i in index.items if label in (None, i.label_name)]
    item = next((i for i in items if i.split == "test"), items[0])
    info = probe(item.path)
    return Video(str(item.path), embed=True, width=max(4 * info.width, 256)), item
