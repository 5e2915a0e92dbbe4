"""Linear probes on frozen features (L3, SoundNet, AVTS protocols).

Rows of ``features`` are clips, or windows of clips when ``clip_ids`` is given
(SoundNet: a clip's windows -> ``decision_function`` -> mean per clip ->
argmax). Folds are the data set's own (ESC-50's five, DCASE's): train on all
folds but one, test on it, for every fold; the result is the per-fold
accuracies and their mean ± 95 % CI. ``pca=D`` reduces every feature set to D
dimensions (fitted on each training split) so layers of different widths
are compared at equal dimension.

Features come from a model through one API: its embedding functions
(``embed_video`` / ``embed_audio``) and its ``feature_taps(modality)``, the
layers it names for probing (L3: ``conv1`` ... ``conv4``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from torch import nn

from avlib.errors import ConfigError
from avlib.stats import Summary, mean_ci


@dataclass(frozen=True)
class ProbeResult:
    """Accuracy per test fold and its mean ± CI over folds."""

    fold_accuracies: dict[int, float]
    summary: Summary
    classifier: str
    C: float
    predictions: dict = field(default_factory=dict)  # clip id -> predicted label (test folds)

    @property
    def accuracy(self) -> float:
        """Mean accuracy over the test folds."""
        return self.summary.mean


def make_probe(
    classifier: str = "svm",
    C: float = 0.01,
    standardise: bool = True,
    seed: int = 0,
    pca: int | None = None,
) -> Pipeline:
    """A linear SVM (SoundNet: C = 0.01) or logistic regression, after optional standardisation
    and PCA to ``pca`` dimensions."""
    if classifier == "svm":
        model = LinearSVC(C=C, max_iter=20_000, random_state=seed)
    elif classifier == "logistic":
        model = LogisticRegression(C=C, max_iter=5_000, random_state=seed)
    else:
        raise ConfigError(f"unknown probe {classifier!r}: use 'svm' or 'logistic'")
    steps = [StandardScaler()] if standardise else []
    if pca:
        steps += [PCA(pca, random_state=seed), StandardScaler()]
    return make_pipeline(*steps, model)


def clip_predictions(
    probe: Pipeline, features: np.ndarray, clip_ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(clips, predicted class per clip) from the mean decision value of each clip's windows."""
    scores = probe.decision_function(features)
    if scores.ndim == 1:  # binary problems give one score for classes_[1]
        scores = np.stack([-scores, scores], axis=1)
    clips, index = np.unique(clip_ids, return_inverse=True)
    sums = np.zeros((len(clips), scores.shape[1]))
    np.add.at(sums, index, scores)
    mean = sums / np.bincount(index)[:, None]
    return clips, probe.classes_[mean.argmax(axis=1)]


def _clip_labels(labels: np.ndarray, clip_ids: np.ndarray) -> dict:
    out: dict = {}
    for clip, label in zip(clip_ids.tolist(), labels.tolist(), strict=True):
        if out.setdefault(clip, label) != label:
            raise ConfigError(f"clip {clip!r} has windows with different labels")
    return out


def fold_probe(
    features: np.ndarray,
    labels: np.ndarray,
    folds: np.ndarray,
    *,
    classifier: str = "svm",
    C: float = 0.01,
    standardise: bool = True,
    clip_ids: np.ndarray | None = None,
    test_folds: Sequence[int] | None = None,
    seed: int = 0,
    pca: int | None = None,
) -> ProbeResult:
    """Cross-validate a linear probe over the given folds (each fold tested once)."""
    features, labels, folds = np.asarray(features), np.asarray(labels), np.asarray(folds)
    if not len(features) == len(labels) == len(folds):
        raise ConfigError(
            f"features ({len(features)}), labels ({len(labels)}) and folds ({len(folds)}) differ"
        )
    clip_ids = np.arange(len(features)) if clip_ids is None else np.asarray(clip_ids)
    truth = _clip_labels(labels, clip_ids)
    accuracies, predictions = {}, {}
    for fold in sorted(set(folds.tolist())) if test_folds is None else test_folds:
        test = folds == fold
        if test.all() or not test.any():
            raise ConfigError(f"fold {fold} leaves no training or no test data")
        probe = make_probe(classifier, C, standardise, seed, pca).fit(
            features[~test], labels[~test]
        )
        clips, predicted = clip_predictions(probe, features[test], clip_ids[test])
        correct = [truth[c] == p for c, p in zip(clips.tolist(), predicted.tolist(), strict=True)]
        accuracies[int(fold)] = float(np.mean(correct))
        predictions.update(zip(clips.tolist(), predicted.tolist(), strict=True))
    summary = mean_ci(list(accuracies.values()))
    return ProbeResult(accuracies, summary, classifier, C, predictions)


def sliding_windows(clips: torch.Tensor, window: int, hop: int) -> tuple[torch.Tensor, np.ndarray]:
    """(N,S) clips -> (N*W, window) windows and the clip index of each window."""
    if clips.shape[-1] < window:
        raise ConfigError(f"clips of {clips.shape[-1]} samples are shorter than window {window}")
    windows = clips.unfold(-1, window, hop)  # (N, W, window)
    n, w = windows.shape[:2]
    return windows.reshape(n * w, window), np.repeat(np.arange(n), w)


@torch.no_grad()
def audio_window_embeddings(
    model: nn.Module, arrays, window: int, hop: int, device: str, chunk: int = 32
) -> tuple[np.ndarray, np.ndarray]:
    """``model.embed_audio`` of ``window``-sample windows every ``hop`` samples of every clip of
    ``arrays`` (a ClipArrays), in eval mode; and the clip index of each window."""
    model.eval()
    feats, clip_ids = [], []
    for c in range(0, len(arrays), chunk):
        clips = np.arange(c, min(c + chunk, len(arrays)))
        windows, owner = sliding_windows(torch.from_numpy(arrays.waveform(clips)), window, hop)
        feats.append(model.embed_audio(windows.to(device)).cpu())
        clip_ids.append(clips[owner])
    return torch.cat(feats).numpy(), np.concatenate(clip_ids)


def audio_window_probe(
    model: nn.Module, arrays, window: int, hop: int, C: float, device: str
) -> float:
    """Mean accuracy over the data set's folds of a linear SVM on frozen window embeddings
    (mean decision value per clip): the L3 and AVTS audio-transfer protocol."""
    feats, clips = audio_window_embeddings(model, arrays, window, hop, device)
    folds = np.array([arrays.items[c].fold for c in clips])
    return fold_probe(feats, arrays.labels[clips], folds, C=C, clip_ids=clips, seed=0).accuracy


POOLS = ("mean", "max", "grid")


def _pool(x, pool: str, grid: int) -> torch.Tensor:
    if isinstance(x, tuple | list):
        x = x[0]
    if x.dim() > 2:  # (B, C, ...) -> pooled over everything after channels
        if pool == "grid":  # a fixed grid (over space, or time for 1-D maps) keeps where
            if x.dim() == 3:
                x = F.adaptive_max_pool1d(x, grid)
            else:
                x = F.adaptive_max_pool2d(x.amax(dim=2) if x.dim() == 5 else x, grid)
            return x.flatten(1).detach().float().cpu()
        x = x.flatten(2)
        x = x.mean(dim=2) if pool == "mean" else x.amax(dim=2)
    return x.detach().float().cpu()


@torch.no_grad()
def extract_features(
    model: nn.Module,
    batches: Iterable[dict],
    modality: str = "audio",
    layers: Sequence[str] = (),
    *,
    keep: Sequence[str] = ("label",),
    pool: str = "mean",
    grid: int = 4,
    device: str | torch.device = "cpu",
) -> dict[str, np.ndarray]:
    """Frozen features of every batch, in eval mode (the model's mode is restored).

    Returns ``embedding`` (``model.embed_video`` / ``embed_audio`` of
    ``batch[modality]``), one entry per layer named in ``layers`` (from
    ``model.feature_taps(modality)``), pooled globally (``mean`` / ``max``) or
    to a ``grid`` x ``grid`` max-pooled map (``grid`` steps for 1-D (B,C,T) maps, as
    SoundNet's), and the batch keys in ``keep``.
    """
    if pool not in POOLS:
        raise ConfigError(f"unknown pooling {pool!r}: use {', '.join(POOLS)}")
    embed = {"video": "embed_video", "audio": "embed_audio"}.get(modality)
    if embed is None:
        raise ConfigError(f"unknown modality {modality!r}: use 'video' or 'audio'")
    taps = model.feature_taps(modality) if layers else {}
    unknown = [name for name in layers if name not in taps]
    if unknown:
        raise ConfigError(f"no layer {', '.join(unknown)} to tap (layers: {', '.join(taps)})")
    collected: dict[str, list] = {name: [] for name in ("embedding", *layers, *keep)}
    handles = [
        taps[name].register_forward_hook(
            lambda _m, _i, out, store=collected[name]: store.append(_pool(out, pool, grid))
        )
        for name in layers
    ]
    was_training = model.training
    model.eval()
    try:
        for batch in batches:
            out = getattr(model, embed)(batch[modality].to(device))
            collected["embedding"].append(_pool(out, "max" if pool == "grid" else pool, grid))
            for key in keep:
                value = batch[key]
                collected[key].append(value.cpu() if torch.is_tensor(value) else list(value))
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return {k: np.concatenate([np.asarray(v) for v in vs]) for k, vs in collected.items() if vs}
