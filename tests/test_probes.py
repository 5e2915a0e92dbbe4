"""Linear probes reproduce a known result, average windows per clip, and tap named layers."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from torch import nn

from avlib.errors import ConfigError
from avlib.eval.probes import extract_features, fold_probe, make_probe, sliding_windows


def test_linear_svm_on_digits_reaches_the_known_95_percent():
    # sklearn digits (1797 8x8 images), standardised, LinearSVC C = 0.01 (SoundNet's C),
    # 5 folds by index: known ~95 % for a linear classifier; measured 0.949.
    x, y = load_digits(return_X_y=True)
    result = fold_probe(x, y, np.arange(len(y)) % 5, classifier="svm", C=0.01)
    assert result.accuracy == pytest.approx(0.95, abs=0.02)
    assert sorted(result.fold_accuracies) == [0, 1, 2, 3, 4]
    assert (
        result.summary.n == 5 and result.summary.ci_low < result.accuracy < result.summary.ci_high
    )


def test_logistic_probe_on_digits():
    x, y = load_digits(return_X_y=True)
    result = fold_probe(x, y, np.arange(len(y)) % 5, classifier="logistic", C=1.0)
    assert result.accuracy == pytest.approx(0.97, abs=0.02)  # measured 0.968


def test_sliding_window_decisions_are_averaged_per_clip():
    # 40 clips of 2 classes, 5 windows each; each window is noisy, the clip mean is clean
    rng = np.random.default_rng(0)
    clips = np.repeat(np.arange(40), 5)
    labels = clips % 2
    features = (2 * labels - 1)[:, None] * 0.5 + rng.standard_normal((200, 3))
    folds = clips % 4
    windows = fold_probe(features, labels, folds, C=1.0)
    per_clip = fold_probe(features, labels, folds, C=1.0, clip_ids=clips)
    assert all(acc * 10 == round(acc * 10) for acc in per_clip.fold_accuracies.values())
    assert per_clip.accuracy > windows.accuracy + 0.1
    with pytest.raises(ConfigError, match="different labels"):
        fold_probe(features, (labels + np.arange(200)) % 2, folds, clip_ids=clips)


def test_sliding_windows_cut_clips_and_index_them():
    clips = torch.arange(20.0).reshape(2, 10)
    windows, index = sliding_windows(clips, window=4, hop=3)
    assert windows.tolist()[:3] == [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9]]
    assert index.tolist() == [0, 0, 0, 1, 1, 1]
    with pytest.raises(ConfigError, match="shorter than window"):
        sliding_windows(clips, window=11, hop=1)


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(1, 4, 3)
        self.bn = nn.BatchNorm1d(4)
        self.fc = nn.Linear(4, 2)

    def embed_audio(self, audio):
        h = self.bn(self.conv(audio.unsqueeze(1)))
        return self.fc(h.mean(-1))

    def feature_taps(self, modality):
        return {"conv": self.conv, "bn": self.bn}


def test_extract_features_taps_layers_pools_them_and_keeps_labels():
    model = Tiny().train()
    batches = [{"audio": torch.randn(3, 10), "label": torch.tensor([0, 1, 2])} for _ in range(2)]
    feats = extract_features(model, batches, "audio", ["conv", "bn"], keep=("label",))
    assert feats["embedding"].shape == (6, 2) and feats["conv"].shape == (6, 4)
    assert feats["label"].tolist() == [0, 1, 2, 0, 1, 2]
    x = batches[0]["audio"]
    with torch.no_grad():
        expected = model.conv(x.unsqueeze(1)).amax(-1)
    maxed = extract_features(model, batches[:1], "audio", ["conv"], pool="max")
    assert np.allclose(maxed["conv"], expected.numpy(), atol=1e-6)
    assert model.training, "extract_features must restore the model's mode"
    with pytest.raises(ConfigError, match=r"no layer conv9 to tap \(layers: conv, bn\)"):
        extract_features(model, batches, "audio", ["conv9"])


def test_pca_probe_compares_layers_at_one_dimension():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), 30)
    folds = np.tile(np.arange(5), 24)
    wide = rng.standard_normal((120, 200)) + np.eye(4)[labels].repeat(50, axis=1)
    result = fold_probe(wide, labels, folds, classifier="logistic", C=1.0, pca=8)
    assert result.accuracy > 0.9
    assert make_probe("logistic", pca=8).steps[1][1].n_components == 8
