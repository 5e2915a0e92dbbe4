"""Linear probes on frozen features (L3, SoundNet, AVTS protocols).

Rows of ``features`` are clips, or windows of clips when ``clip_ids`` is given
(SoundNet: a clip's windows -> ``decision_function`` -> mean per clip ->
argmax). Folds are the data set's own (ESC-50's five, DCASE's): train on all
folds but one, test on it, for every fold; the result is the per-fold
accuracies and their mean ± 95 % CI.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from torch import nn

from avlib.errors import ConfigError
from avlib.results import Summary, mean_ci


@dataclass(frozen=True)
class ProbeResult:
    """Accuracy per test fold and its mean ± CI over folds."""

    fold_accuracies: dict[int, float]
    summary: Summary
    classifier: str
    C: float

    @property
    def accuracy(self) -> float:
        """Mean accuracy over the test folds."""
        return self.summary.mean


def make_probe(
    classifier: str = "svm", C: float = 0.01, standardise: bool = True, seed: int = 0
) -> Pipeline:
    """A linear SVM (SoundNet: C = 0.01) or logistic regression, after optional standardisation."""
    if classifier == "svm":
        model = LinearSVC(C=C, max_iter=20_000, random_state=seed)
    elif classifier == "logistic":
        model = LogisticRegression(C=C, max_iter=5_000, random_state=seed)
    else:
        raise ConfigError(f"unknown probe {classifier!r}: use 'svm' or 'logistic'")
    return make_pipeline(StandardScaler(), model) if standardise else make_pipeline(model)


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
) -> ProbeResult:
    """Cross-validate a linear probe over the given folds (each fold tested once)."""
    features, labels, folds = np.asarray(features), np.asarray(labels), np.asarray(folds)
    if not len(features) == len(labels) == len(folds):
        raise ConfigError(
            f"features ({len(features)}), labels ({len(labels)}) and folds ({len(folds)}) differ"
        )
    clip_ids = np.arange(len(features)) if clip_ids is None else np.asarray(clip_ids)
    truth = _clip_labels(labels, clip_ids)
    accuracies = {}
    for fold in sorted(set(folds.tolist())) if test_folds is None else test_folds:
        test = folds == fold
        if test.all() or not test.any():
            raise ConfigError(f"fold {fold} leaves no training or no test data")
        probe = make_probe(classifier, C, standardise, seed).fit(features[~test], labels[~test])
        clips, predicted = clip_predictions(probe, features[test], clip_ids[test])
        correct = [truth[c] == p for c, p in zip(clips.tolist(), predicted.tolist(), strict=True)]
        accuracies[int(fold)] = float(np.mean(correct))
    return ProbeResult(accuracies, mean_ci(list(accuracies.values())), classifier, C)


def sliding_windows(clips: torch.Tensor, window: int, hop: int) -> tuple[torch.Tensor, np.ndarray]:
    """(N,S) clips -> (N*W, window) windows and the clip index of each window."""
    if clips.shape[-1] < window:
        raise ConfigError(f"clips of {clips.shape[-1]} samples are shorter than window {window}")
    windows = clips.unfold(-1, window, hop)  # (N, W, window)
    n, w = windows.shape[:2]
    return windows.reshape(n * w, window), np.repeat(np.arange(n), w)


def _pool(x, pool: str) -> torch.Tensor:
    if isinstance(x, tuple | list):
        x = x[0]
    if x.dim() > 2:  # (B, C, ...) -> global pool over everything after channels
        x = x.flatten(2)
        x = x.mean(dim=2) if pool == "mean" else x.amax(dim=2)
    return x.detach().float().cpu()


def _tap(store: list, pool: str):
    """A forward hook appending the module's pooled output to ``store``."""

    def hook(_module, _inputs, output):
        store.append(_pool(output, pool))

    return hook


@torch.no_grad()
def extract_features(
    model_fn: Callable[[torch.Tensor], torch.Tensor],
    batches: Iterable[dict],
    layers: Sequence[str] = (),
    *,
    input_key: str = "audio",
    keep: Sequence[str] = ("label",),
    pool: str = "mean",
    module: nn.Module | None = None,
    device: str | torch.device = "cpu",
) -> dict[str, np.ndarray]:
    """Features of ``model_fn(batch[input_key])`` for every batch, in eval mode.

    Returns ``output`` (the function's globally pooled result), one entry per
    named layer of ``module`` (default: the module ``model_fn`` is bound to,
    e.g. ``model.embed_audio``) tapped by a forward hook and globally pooled
    over everything after the channel dimension, and the batch keys in ``keep``.
    """
    if pool not in ("mean", "max"):
        raise ConfigError(f"unknown pooling {pool!r}: use 'mean' or 'max'")
    module = module if module is not None else getattr(model_fn, "__self__", None)
    if layers and not isinstance(module, nn.Module):
        raise ConfigError("layer taps need the model: pass module= or a bound method")
    collected: dict[str, list] = {name: [] for name in ("output", *layers, *keep)}
    handles = []
    for name in layers:
        try:
            sub = module.get_submodule(name)
        except AttributeError as e:
            names = ", ".join(n for n, _ in module.named_modules() if n)
            raise ConfigError(f"no layer {name!r} in the model (layers: {names})") from e
        handles.append(sub.register_forward_hook(_tap(collected[name], pool)))
    was_training = module.training if module is not None else False
    if module is not None:
        module.eval()
    try:
        for batch in batches:
            collected["output"].append(_pool(model_fn(batch[input_key].to(device)), pool))
            for key in keep:
                value = batch[key]
                collected[key].append(value.cpu() if torch.is_tensor(value) else list(value))
    finally:
        for h in handles:
            h.remove()
        if module is not None:
            module.train(was_training)
    return {k: np.concatenate([np.asarray(v) for v in vs]) for k, vs in collected.items() if vs}
