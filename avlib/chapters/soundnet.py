"""SoundNet: learning sound representations from unlabeled video.

Aytar, Vondrick, Torralba, NeurIPS 2016. Facts and claims: PAPERS.md §4. The
chapter is not written yet: its claims are registered without a test, so the
scorecard shows them as 'no results yet'.
"""

from __future__ import annotations

from avlib.claims.core import Claim, Reference

PAPER = "soundnet"
TITLE = "SoundNet"
NOTEBOOK = None
CITE = "aytar2016soundnet"
CITES = {"soundnet": CITE}


def _ref(key, source, quantity, value, units="%", note=""):
    return Reference(f"{PAPER}/{key}", PAPER, quantity, value, units, source, CITE, note)


_MAIN, _ABL = "Reference numbers (linear SVM, C = 0.01)", "Ablations (ESC-50)"
REFERENCES = [
    _ref("dcase2013", _MAIN, "DCASE 2013 scenes", 88.0),
    _ref("esc50", _MAIN, "ESC-50", 74.2),
    _ref("esc10", _MAIN, "ESC-10", 92.2),
    _ref("loss-l2", _ABL, "L2 loss", 47.8),
    _ref("loss-kl", _ABL, "KL loss", 72.9),
    _ref("teacher-imagenet", _ABL, "ImageNet teacher only", 69.5),
    _ref("teacher-places", _ABL, "Places teacher only", 71.1),
    _ref("teacher-both", _ABL, "both teachers", 72.9),
    _ref("scratch-5-layer", _ABL, "5-layer from scratch", 65.0),
    _ref("scratch-8-layer", _ABL, "8-layer from scratch", 51.1),
    _ref("teachers-5-layer", _ABL, "5-layer with video teachers", 66.1),
    _ref("teachers-8-layer", _ABL, "8-layer with video teachers", 72.9),
    _ref("multimodal-sound", "Multimodal recognition", "sound", 32.4),
    _ref("multimodal-vision", "Multimodal recognition", "vision", 49.4),
    _ref("multimodal-both", "Multimodal recognition", "sound + vision", 51.4),
    _ref("baseline-mfcc-svm", "Baselines (ESC-50)", "MFCC + SVM", 39.6),
    _ref("baseline-autoencoder", "Baselines (ESC-50)", "convolutional autoencoder", 39.9),
    _ref("baseline-humans", "Baselines (ESC-50)", "humans", 81.3),
]

CLAIMS = [
    Claim("SN-1", PAPER, "KL distillation beats L2 regression on the teachers' outputs.", CITE),
    Claim("SN-2", PAPER, "Two teachers (objects + scenes) beat either alone.", CITE),
    Claim("SN-3", PAPER, "With teachers the deeper net wins; from scratch the deeper net "
          "loses.", CITE),
    Claim("SN-4", PAPER, "The best probe layer is in the middle (pool5/conv6), not the top.",
          CITE),
    Claim("SN-5", PAPER, "SoundNet features beat MFCC + SVM and an autoencoder baseline.", CITE),
    Claim("SN-6", PAPER, "Sound + vision beats either alone on the scene task.", CITE),
]  # fmt: skip
