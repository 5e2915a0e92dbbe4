"""Difficulty calibration of a data set or world: is each paper's question non-trivial, and shortcut-free?

Measurements for the world chapter (``avlib/chapters/world.py``; the run is
``world-calibration`` in ``avlib/experiments/world.py``), each a pandas
DataFrame, one row per fold / control / clip:

- ``esc_mfcc_svm``: 13 MFCCs (mean and std over time) + linear SVM, ESC's 5
  folds. SoundNet's MFCC baseline on real ESC-50 is 39.6%; the quick world is
  tuned to land in 30-60%. ``shuffle=True`` is the shuffled-label control.
- ``dcase_mfcc_svm``: the same baseline on the DCASE 2013 scenes.
- ``shortcut_controls``: clip duration, file size, file and write order and
  mean frame colour as the only feature; each must stay near chance.
- ``counts_table``: items, classes and skips per data set, read by its reader.
- ``mouth_sync_table``: per talking-face clip, correlation between the mouth
  opening measured from pixels and the speech envelope at every lag, and the
  same for motion outside the mouth box (must be near zero).

The log-mel CNN baseline is a model (``logmel-cnn``, ``avlib/models/baselines.py``)
trained by the one trainer in the run. Files are read through
:mod:`avlib.data.media` (the one decoding module) and the data sets' readers;
features use torchaudio transforms, classifiers scikit-learn.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from avlib.data.layouts import locate_dataset, open_dataset
from avlib.data.media import load_audio, load_video, probe
from avlib.data.world.common import frame_rms
from avlib.errors import LayoutError, MediaError
from avlib.eval.probes import fold_probe

SVM_C = 0.1  # the calibration baseline's C (SoundNet's probes use 0.01 on learnt features)


def read_truth(root: str | Path) -> dict[str, dict]:
    """A data set's ground truth as {relative path: record}, through the data set's reader."""
    return {i.rel: i.truth for i in open_dataset(root).items if i.truth is not None}


def _load_clips(paths: list) -> tuple[np.ndarray, int]:
    """(N, S) mono clips and their common rate; MediaError when clips differ in rate or length."""
    rates = [probe(p).sr for p in paths]
    clips = [load_audio(p) for p in paths]
    for path, rate, clip in zip(paths, rates, clips, strict=True):  # name the odd one out
        if rate != rates[0] or len(clip) != len(clips[0]):
            raise MediaError(
                path,
                f"{rate} Hz, {len(clip)} samples; {paths[0]} has {rates[0]} Hz, "
                f"{len(clips[0])} samples: calibration needs equal clips",
            )
    return np.stack(clips), rates[0]


def mfcc_stats(audio: np.ndarray, sr: int, n_mfcc: int = 13) -> np.ndarray:
    """(N, 2 * n_mfcc) mean and std over time of MFCCs of (N, S) audio."""
    import torch
    import torchaudio

    mfcc = torchaudio.transforms.MFCC(
        sr, n_mfcc=n_mfcc, melkwargs={"n_fft": 1024, "hop_length": 512, "n_mels": 40}
    )
    with torch.no_grad():
        feats = mfcc(torch.from_numpy(audio))
    return torch.cat([feats.mean(-1), feats.std(-1)], 1).numpy()


def _fold_accuracy(
    features: np.ndarray,
    labels: np.ndarray,
    folds: np.ndarray,
    shuffle: bool = False,
    seed: int = 0,
) -> pd.DataFrame:
    """Linear SVM on standardised features, each fold tested once (avlib.eval.probes.fold_probe)."""
    labels = np.random.default_rng(seed).permutation(labels) if shuffle else labels
    result = fold_probe(features, labels, folds, classifier="svm", C=SVM_C, seed=seed)
    return pd.DataFrame(
        [
            {"fold": f, "accuracy": a, "n_test": int((folds == f).sum())}
            for f, a in result.fold_accuracies.items()
        ]
    )


def _index_arrays(index) -> tuple[list, np.ndarray, np.ndarray]:
    items = index.items
    return [i.path for i in items], index.labels(), np.array([i.fold for i in items])


@lru_cache(maxsize=4)
def _mfcc_of(files: tuple[tuple[str, int], ...]) -> np.ndarray:
    """MFCC statistics of the clips in ``files`` ((path, mtime) pairs: an edited file is a new key)."""
    audio, sr = _load_clips([p for p, _ in files])
    return mfcc_stats(audio, sr)


def _mfcc_table(root: str | Path, layout: str):
    """(features, labels, folds, index) of a data set, each clip decoded once per process."""
    index = open_dataset(root, layout)
    files = tuple((str(i.path), i.path.stat().st_mtime_ns) for i in index.items)
    _, labels, folds = _index_arrays(index)
    return _mfcc_of(files), labels, folds, index


def esc_mfcc_svm(
    root: str | Path, shuffle: bool = False, esc10: bool = False, seed: int = 0
) -> pd.DataFrame:
    """Per-fold accuracy of MFCC mean/std + linear SVM on ESC-50 (or its ESC-10 rows), 5-fold CV."""
    features, labels, folds, index = _mfcc_table(root, "esc50")
    if esc10:
        keep = np.array([bool(i.extra.get("esc10")) for i in index.items])
        features, labels, folds = features[keep], labels[keep], folds[keep]
    return _fold_accuracy(features, labels, folds, shuffle, seed)


def dcase_mfcc_svm(root: str | Path, shuffle: bool = False, seed: int = 0) -> pd.DataFrame:
    """Per-fold accuracy of MFCC mean/std + linear SVM on the DCASE 2013 scenes' 5 folds."""
    features, labels, folds, _ = _mfcc_table(root, "dcase2013")
    return _fold_accuracy(features, labels, folds, shuffle, seed)


def _mean_colours(paths: list[Path]) -> np.ndarray:
    return np.stack([load_video(p).reshape(-1, 3).mean(0) for p in paths])


def _single_feature_accuracy(feature: np.ndarray, labels: np.ndarray, groups: np.ndarray) -> float:
    """Cross-validated accuracy of a small tree ensemble that sees only ``feature``."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import GroupKFold, cross_val_score

    model = RandomForestClassifier(n_estimators=50, min_samples_leaf=3, random_state=0)
    x = feature.reshape(len(labels), -1)
    return float(cross_val_score(model, x, labels, groups=groups, cv=GroupKFold(5)).mean())


def _rank(values) -> np.ndarray:
    return np.argsort(np.argsort(values, kind="stable")).astype(float)


def shortcut_controls(world: str | Path) -> pd.DataFrame:
    """Accuracy of label prediction from nuisance features alone (each should be near chance).

    ESC-50: clip duration, file size, position of the file in the sorted
    listing and in write time. Kinetics-Sounds: file size, position of the
    clip id in sorted order and in write time (the label folder is part of
    the real layout, so path order is not a control). LRW: mean frame colour
    (speaker and background must say nothing about the word).
    """
    rows = []

    def add(data_set, feature, x, labels, groups):
        rows.append(
            {
                "data set": data_set,
                "feature": feature,
                "accuracy": _single_feature_accuracy(
                    np.asarray(x, dtype=float), np.asarray(labels), np.asarray(groups)
                ),
                "chance": 1 / len(set(np.asarray(labels).tolist())),
            }
        )

    esc = open_dataset(locate_dataset(world, "esc50"), "esc50")
    paths, targets, folds = _index_arrays(esc)
    add("esc50", "duration", [probe(p).duration_s for p in paths], targets, folds)
    add("esc50", "file size", [p.stat().st_size for p in paths], targets, folds)
    add("esc50", "file order", _rank([p.name for p in paths]), targets, folds)
    add("esc50", "write order", _rank([p.stat().st_mtime_ns for p in paths]), targets, folds)
    for layout, name, features in (
        ("kinetics_sounds", "kinetics_sounds", "ks"),
        ("lrw", "lrw", "lrw"),
    ):
        try:
            index = open_dataset(locate_dataset(world, layout, name), layout)
        except LayoutError:
            continue
        paths, labels = [i.path for i in index.items], index.labels()
        groups = np.arange(len(paths)) % 5
        if features == "ks":
            ids = [i.source_id or i.rel for i in index.items]
            add(name, "file size", [p.stat().st_size for p in paths], labels, groups)
            add(name, "id order", _rank(ids), labels, groups)
            add(name, "write order", _rank([p.stat().st_mtime_ns for p in paths]), labels, groups)
        else:
            add(name, "mean colour", _mean_colours(paths), labels, groups)
    return pd.DataFrame(rows)


def counts_table(world: str | Path) -> pd.DataFrame:
    """Per data set of a world: layout, items, classes and counted skips, read by the data set's reader."""
    from avlib.data.layouts import find_datasets

    rows = []
    for name, layout in sorted(find_datasets(world).items()):
        index = open_dataset(Path(world) / name, layout)
        rows.append(
            {
                "data set": name,
                "layout": layout,
                "items": len(index),
                "classes": len(index.classes),
                "skipped": len(index.skipped),
            }
        )
    return pd.DataFrame(rows)


def decode_mp4(path: str | Path) -> tuple[np.ndarray, np.ndarray, int, float]:
    """(frames (T,H,W,3) uint8, mono audio float32, sample rate, fps) of an mp4, via avlib.data.media."""
    info = probe(path)
    if not info.has_video or not info.has_audio:
        raise MediaError(path, "mp4 lacks a video or an audio stream")
    return load_video(path), load_audio(path), int(info.sr), float(info.fps)


def _lagged_corr(x: np.ndarray, y: np.ndarray, lag: int) -> float:
    """corr(x[t], y[t + lag]) over the overlap (y later for positive lag)."""
    if lag >= 0:
        a, b = x[: len(x) - lag], y[lag:]
    else:
        a, b = x[-lag:], y[: len(y) + lag]
    if len(a) < 5 or a.std() == 0 or b.std() == 0:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def mouth_tracks(
    frames: np.ndarray, boxes: list, audio: np.ndarray, sr: int, fps: float
) -> dict[str, np.ndarray]:
    """Per frame: mouth opening from pixels (dark + bright area in the mouth box), motion outside it, audio RMS."""
    T, H, W, _ = frames.shape
    luma = frames.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32) / 255
    opening, outside = np.zeros(T), np.zeros(T)
    for t in range(T):
        x0, y0, x1, y1 = boxes[t][0]
        win = luma[t, int(y0 * H) : int(np.ceil(y1 * H)), int(x0 * W) : int(np.ceil(x1 * W))]
        opening[t] = ((win < 0.2) | (win > 0.8)).mean()
        mask = np.ones((H, W), bool)
        mask[int(y0 * H) : int(np.ceil(y1 * H)), int(x0 * W) : int(np.ceil(x1 * W))] = False
        if t:
            outside[t] = np.abs(luma[t] - luma[t - 1])[mask].mean()
    return {
        "opening": opening,
        "outside_motion": outside,
        "envelope": frame_rms(audio, sr, int(round(fps)), T),
    }


def mouth_sync_table(root: str | Path, max_clips: int = 40, max_lag: int = 5) -> pd.DataFrame:
    """Per LRS2-style clip: mouth/envelope and outside-motion/envelope correlations by lag (frames)."""
    root = Path(root)
    truth = read_truth(root)
    rows = []
    for rel, record in sorted(truth.items())[:max_clips]:
        frames, audio, sr, fps = decode_mp4(root / rel)
        tr = mouth_tracks(frames, record["boxes"], audio, sr, fps)
        env_change = np.abs(np.diff(tr["envelope"], prepend=tr["envelope"][0]))
        true_lag = int(round(record.get("offset_s", 0.0) * fps))
        corr = {
            lag: _lagged_corr(tr["opening"], tr["envelope"], lag)
            for lag in range(-max_lag, max_lag + 1)
        }
        rows.append(
            {
                "path": rel,
                "true_lag": true_lag,
                "best_lag": max(corr, key=corr.get),
                "mouth_corr_at_true": corr.get(true_lag, float("nan")),
                "mouth_corr_max_other": max(v for k, v in corr.items() if abs(k - true_lag) > 1),
                "outside_corr_at_true": _lagged_corr(tr["outside_motion"], env_change, true_lag),
            }
        )
    return pd.DataFrame(rows)
