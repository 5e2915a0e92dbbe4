"""The papers' own numbers (PAPERS.md reference tables), each with its source and citation.

They are shown beside ours, always labelled as the paper's, and never as ours.
"""

from __future__ import annotations

from avlib.claims.core import Reference


def _refs(paper: str, cite: str, source: str, units: str, rows: dict) -> list[Reference]:
    return [
        Reference(f"{paper}/{k}", paper, q, v, units, source, cite) for k, (q, v) in rows.items()
    ]


_L3, _OTS = "arandjelovic2017look", "arandjelovic2018objects"
_AVTS, _PM, _SN, _AT = (
    "korbar2018cooperative",
    "chung2019perfect",
    "aytar2016soundnet",
    "khosravan2019attention",
)
_KS = "AVC accuracy, Kinetics-Sounds (34 classes)"
_ESC = "ESC-50 (5-fold CV, linear SVM on audio features)"
_SN_ABL = "Ablations (ESC-50)"
# fmt: off
_REFERENCE_LIST: list[Reference] = [
    *_refs("l3", _L3, _KS, "%", {
        "avc-kinetics-sounds/l3": ("L3 AVC accuracy", 74.0),
        "avc-kinetics-sounds/supervised": ("supervised-pretraining baseline", 74.0),
        "avc-kinetics-sounds/direct-combination": ("two supervised classifiers combined", 65.0),
    }),
    *_refs("l3", _L3, "AVC accuracy, Flickr-SoundNet", "%", {
        "avc-flickr-soundnet/l3": ("L3 AVC accuracy", 78.0),
    }),
    *_refs("l3", _L3, _ESC, "%", {
        "esc50/l3": ("L3 audio features", 79.3),
        "esc50/soundnet": ("SoundNet features", 74.2),
        "esc50/random": ("random-init L3 features", 62.5),
    }),
    *_refs("l3", _L3, "DCASE 2013 scene classification", "%", {
        "dcase2013/l3": ("L3 audio features", 93.0),
        "dcase2013/soundnet": ("SoundNet features", 88.0),
        "dcase2013/random": ("random-init features", 85.0),
    }),
    *_refs("l3", _L3, "ILSVRC-12 linear probe on conv4 of the vision net, top-1", "%", {
        "ilsvrc-conv4/l3": ("L3 vision conv4", 32.3),
        "ilsvrc-conv4/random": ("random init", 12.9),
    }),
    *_refs("l3", _L3, "NMI of k-means on embeddings", "NMI", {
        "nmi/vision": ("L3 vision embeddings", 0.409),
        "nmi/audio": ("L3 audio embeddings", 0.330),
        "nmi/random-vision": ("random vision embeddings", 0.204),
        "nmi/random-audio": ("random audio embeddings", 0.219),
    }),
    *_refs("l3", _OTS, "Objects that Sound: AVC accuracy on its split", "%", {
        "ots-avc/avenet": ("AVE-Net", 81.9),
        "ots-avc/l3": ("L3-Net", 80.8),
    }),
    *_refs("l3", _OTS, "Objects that Sound: sound localisation accuracy", "%", {
        "ots-localisation/avol": ("AVOL-Net", 81.7),
        "ots-localisation/centre-prior": ("centre prior", 57.2),
    }),
    *_refs("avts", _AVTS, "Reference numbers", "%", {
        "ucf101-finetune": ("UCF101 fine-tune accuracy", 89.0),
        "hmdb51-finetune": ("HMDB51 fine-tune accuracy", 61.6),
        "esc50-frozen": ("ESC-50, frozen audio features", 82.3),
    }),
    *_refs("avts", _AVTS, "Reference numbers", "points", {
        "ucf101-gain-over-scratch": ("UCF101 gain over training from scratch", 19.9),
        "hmdb51-gain-over-scratch": ("HMDB51 gain over training from scratch", 17.7),
    }),
    Reference("avts/ablations", "avts", "negative types and curriculum ablations", None, "%",
              "Ablations", _AVTS, "numbers not found: the paper reports that hard negatives "
              "from the start converge badly, the curriculum helps, super-hard negatives hurt"),
    *_refs("perfect_match", _PM, "LRS2 sync accuracy (within ±1 frame)", "%", {
        "sync-acc-5": ("multi-way, 5-frame context", 89.1),
        "sync-acc-15": ("multi-way, 15-frame context", 98.1),
        "prior-best-5": ("prior best, 5-frame context", 75.8),
    }),
    *_refs("perfect_match", _PM, "Number of candidates N", "candidates", {
        "best-n": ("best number of candidates", 40.0),
    }),
    Reference("perfect_match/lrw-tc5", "perfect_match", "LRW word accuracy, frozen front-end + "
              "TC-5", None, "%", "Visual speech recognition on LRW", _PM,
              "exact table not found: multi-way embeddings match an end-to-end model and beat "
              "SyncNet and AVE-Net embeddings"),
    *_refs("soundnet", _SN, "Reference numbers (linear SVM, C = 0.01)", "%", {
        "dcase2013": ("DCASE 2013 scenes", 88.0),
        "esc50": ("ESC-50", 74.2),
        "esc10": ("ESC-10", 92.2),
    }),
    *_refs("soundnet", _SN, _SN_ABL, "%", {
        "loss-l2": ("L2 loss", 47.8),
        "loss-kl": ("KL loss", 72.9),
        "teacher-imagenet": ("ImageNet teacher only", 69.5),
        "teacher-places": ("Places teacher only", 71.1),
        "teacher-both": ("both teachers", 72.9),
        "scratch-5-layer": ("5-layer from scratch", 65.0),
        "scratch-8-layer": ("8-layer from scratch", 51.1),
        "teachers-5-layer": ("5-layer with video teachers", 66.1),
        "teachers-8-layer": ("8-layer with video teachers", 72.9),
    }),
    *_refs("soundnet", _SN, "Multimodal recognition", "%", {
        "multimodal-sound": ("sound", 32.4),
        "multimodal-vision": ("vision", 49.4),
        "multimodal-both": ("sound + vision", 51.4),
    }),
    *_refs("soundnet", _SN, "Baselines (ESC-50)", "%", {
        "baseline-mfcc-svm": ("MFCC + SVM", 39.6),
        "baseline-autoencoder": ("convolutional autoencoder", 39.9),
        "baseline-humans": ("humans", 81.3),
    }),
    Reference("attention/accuracies", "attention", "sync accuracies of baseline, temporal and "
              "spatio-temporal attention", None, "%", "Reference", _AT,
              "exact accuracies not found: both attention models beat the baseline on speech "
              "and impact sounds; spatio-temporal is slightly better than temporal"),
]
# fmt: on
REFERENCES: dict[str, Reference] = {r.id: r for r in _REFERENCE_LIST}
