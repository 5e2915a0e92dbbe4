"""SoundNet: what the chapter says, computed from results.

Aytar, Vondrick & Torralba, NeurIPS 2016; PAPERS.md §4. The runs are
``avlib/experiments/soundnet.py``; the notebook is ``notebooks/04_soundnet.ipynb``.

Every claim states its margin (a quarter of the paper's own gap, or a stated
reason where the paper gives no number) and its gates: the teachers must
recognise their classes, each student must agree with its teachers on held-out
clips more than a constant answer does, with a flattened curve, and each
baseline must have learnt, or the claim is ``inconclusive (under-trained: ...)``.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from avlib.claims.core import (
    Claim,
    Gate,
    Row,
    all_of,
    at_least,
    at_most,
    greater,
    reference_maker,
    share_of_gap,
)
from avlib.errors import ConfigError, ResultsError
from avlib.figures import OURS_COLOUR, PAPER_COLOUR, palette
from avlib.results import Selection
from avlib.stats import difference_ci

PAPER = "soundnet"
TITLE = "SoundNet"
NOTEBOOK = "04_soundnet"
CITE = "aytar2016soundnet"
CITES = {"soundnet": CITE}
EXPERIMENTS = ("soundnet-student", "soundnet-ablations", "soundnet-scratch", "soundnet-baselines")
# run once before EXPERIMENTS (which read its checkpoints), with every core: runs side by side
# would otherwise wait while one of them trains the teachers
TEACHERS_RUN = "soundnet-teachers"
STUDENT, ABL, SCRATCH, BASE = (f"{PAPER}/{e}" for e in EXPERIMENTS)
L3 = "l3/l3-avc"  # the cross-paper row reads L3's frozen audio features
ABLATIONS = ("l2", "objects", "scenes", "five")
LAYERS = ("conv1", "conv2", "conv3", "conv4", "conv5", "pool5", "conv6", "conv7", "conv8")


_ref = reference_maker(PAPER, CITE)


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
REFS = {r.id.removeprefix(f"{PAPER}/"): r for r in REFERENCES}


# --- gates: what the runs must show before a claim is read -----------------------------------

# A teacher is read through its whole distribution, not its top-1: one right several times more
# often than chance already gives targets that carry the class. Floors: about 7x chance for the
# 34 object classes (2.9 %), 5x chance for the 10 scenes (10 %).
OBJECTS_FLOOR = 0.2  # object teacher: held-out top-1 over the 34 object classes
SCENES_FLOOR = 0.5  # scene teacher: held-out top-1 over the 10 scenes
AGREE_FLOOR = 0.05  # a student's held-out agreement with its teachers above a constant answer's
FLAT = 0.05  # held-out metric gained over the last quarter of training: below 5 points
SCRATCH_FLOOR = 0.10  # from-scratch nets: ESC-50 accuracy over 50 classes (chance 2 %)
AUTOENCODER_FLOOR = 0.8  # the autoencoder's held-out error below 0.8 of its first epoch's


def _above(key: str, metric: str, floor: float, name: str, why: str) -> Gate:
    return Gate(name, lambda d: greater(d[key].metric(metric), floor, 0.0), why)


def _flat(key: str, metric: str, name: str) -> Gate:
    why = f"the held-out metric gained less than {FLAT:.0%} over the last quarter of training"
    return Gate(name, lambda d: at_most(d[key].metric(metric), FLAT), why)


def _agrees(key: str, suffix: str, name: str) -> Gate:
    def test(d):
        e = d[key]
        return greater(e.metric(f"agreement{suffix}"), e.metric(f"agreement_majority{suffix}"),
                       AGREE_FLOOR)  # fmt: skip

    why = (f"held-out top-1 agreement with the teachers beats always answering their most "
           f"frequent class by {AGREE_FLOOR:.0%}: the student learnt from them")  # fmt: skip
    return Gate(name, test, why)


TEACHERS_LEARNT = (
    _above(STUDENT, "teacher_objects_acc", OBJECTS_FLOOR, "object teacher above 20 %",
           "a teacher that cannot tell the objects apart teaches nothing"),
    _above(STUDENT, "teacher_scenes_acc", SCENES_FLOOR, "scene teacher above 50 %",
           "a teacher that cannot tell the scenes apart teaches nothing"),
)  # fmt: skip
STUDENT_LEARNT = (
    _agrees(STUDENT, "", "student agrees with its teachers"),
    _flat(STUDENT, "agreement_gain_last_quarter", "student curve flattened"),
)
ABLATION_NAMES = {"l2": "L2 student", "objects": "objects-only student",
                  "scenes": "scenes-only student", "five": "5-layer student"}  # fmt: skip


def _ablation_gates(name: str) -> tuple[Gate, ...]:
    label = ABLATION_NAMES[name]
    return (
        _agrees(ABL, f"_{name}", f"{label} agrees with its teachers"),
        _flat(ABL, f"agreement_gain_last_quarter_{name}", f"{label} curve flattened"),
    )


SCRATCH_LEARNT = tuple(
    _above(SCRATCH, f"esc50_acc_scratch_{n}", SCRATCH_FLOOR, f"{d}-layer from scratch above 10 %",
           "a classifier that learnt nothing cannot show what depth does")
    for n, d in (("eight", 8), ("five", 5))
)  # fmt: skip
AUTOENCODER_LEARNT = Gate(
    "autoencoder learnt to reconstruct",
    lambda d: greater(
        d[BASE].metric("autoencoder_mse_first"),
        d[BASE].metric("autoencoder_mse").combine("0.8 x mse", lambda v: v / AUTOENCODER_FLOOR),
    ),
    f"its held-out reconstruction error fell below {AUTOENCODER_FLOOR:g} of its first epoch's",
)


# --- claims, each with its margin from the paper's effect -------------------------------------

KL_L2, KL_L2_NOTE = share_of_gap(REFS["loss-kl"], REFS["loss-l2"])
BOTH_OBJ, BOTH_OBJ_NOTE = share_of_gap(REFS["teacher-both"], REFS["teacher-imagenet"])
BOTH_SCN, BOTH_SCN_NOTE = share_of_gap(REFS["teacher-both"], REFS["teacher-places"])
DEEP_T, DEEP_T_NOTE = share_of_gap(REFS["teachers-8-layer"], REFS["teachers-5-layer"])
SHALLOW_S, SHALLOW_S_NOTE = share_of_gap(REFS["scratch-5-layer"], REFS["scratch-8-layer"])
MFCC, MFCC_NOTE = share_of_gap(REFS["esc50"], REFS["baseline-mfcc-svm"])
AUTOENC, AUTOENC_NOTE = share_of_gap(REFS["esc50"], REFS["baseline-autoencoder"])
BOTH_SOUND, BOTH_SOUND_NOTE = share_of_gap(REFS["multimodal-both"], REFS["multimodal-sound"])
BOTH_VISION, BOTH_VISION_NOTE = share_of_gap(REFS["multimodal-both"], REFS["multimodal-vision"])
LAYER_MARGIN = 0.02  # PAPERS.md gives the per-layer figure's order, not its numbers
LAYER_NOTE = (
    "2 points: the paper's per-layer numbers are not given, only their order; a difference "
    "smaller than that is within the probes' fold-to-fold spread"
)


def _best(e, metrics: tuple[str, ...], label: str):
    first = e.metric(metrics[0])
    return first.combine(f"{e.results.key}:max({label})", max, *(e.metric(m) for m in metrics[1:]))


def _sn_1(d, margin):
    return greater(d[STUDENT].metric("esc50_acc_best_layer"), d[ABL].metric("esc50_acc_l2"), margin)


def _sn_2(d, margin):
    both = d[STUDENT].metric("esc50_acc_best_layer")
    return all_of(
        greater(both, d[ABL].metric("esc50_acc_objects"), BOTH_OBJ),
        greater(both, d[ABL].metric("esc50_acc_scenes"), BOTH_SCN),
    )


def _sn_3(d, margin):
    s = d[SCRATCH]
    return all_of(
        greater(d[STUDENT].metric("esc50_acc_best_layer"), d[ABL].metric("esc50_acc_five"), DEEP_T),
        greater(s.metric("esc50_acc_scratch_five"), s.metric("esc50_acc_scratch_eight"),
                SHALLOW_S),
    )  # fmt: skip


def _sn_4(d, margin):
    e = d[STUDENT]
    middle = _best(e, ("esc50_acc_pool5", "esc50_acc_conv6"), "pool5, conv6")
    others = [f"esc50_acc_{n}" for n in LAYERS if n not in ("pool5", "conv6")]
    return all_of(
        greater(middle, e.metric("esc50_acc_conv8"), margin),
        at_least(middle, _best(e, tuple(others), "other layers"), margin),
    )


def _sn_5(d, margin):
    e = d[STUDENT]
    return all_of(
        greater(e.metric("esc50_acc"), d[BASE].metric("esc50_acc_mfcc"), MFCC),
        greater(e.metric("esc50_acc_best_layer"), d[BASE].metric("esc50_acc_autoencoder"),
                AUTOENC),
    )  # fmt: skip


def _sn_6(d, margin):
    e = d[STUDENT]
    both = e.metric("scene_acc_both")
    return all_of(
        greater(both, e.metric("scene_acc_sound"), BOTH_SOUND),
        greater(both, e.metric("scene_acc_vision"), BOTH_VISION),
    )


_GATES = TEACHERS_LEARNT + STUDENT_LEARNT
CLAIMS = [
    Claim(
        "SN-1", PAPER, "KL distillation beats L2 regression on the teachers' outputs.", CITE,
        (STUDENT, ABL), _sn_1, KL_L2, f"{KL_L2:.1%}, {KL_L2_NOTE}",
        _GATES + _ablation_gates("l2"), "results-the-loss-and-the-teachers",
    ),
    Claim(
        "SN-2", PAPER, "Two teachers (objects + scenes) beat either alone.", CITE,
        (STUDENT, ABL), _sn_2, BOTH_OBJ,
        f"objects only: {BOTH_OBJ:.2%}, {BOTH_OBJ_NOTE}; scenes only: {BOTH_SCN:.2%}, "
        f"{BOTH_SCN_NOTE}",
        _GATES + _ablation_gates("objects") + _ablation_gates("scenes"),
        "results-the-loss-and-the-teachers",
    ),
    Claim(
        "SN-3", PAPER, "With teachers the deeper net wins; from scratch the deeper net loses.",
        CITE, (STUDENT, ABL, SCRATCH), _sn_3, DEEP_T,
        f"with teachers: {DEEP_T:.1%}, {DEEP_T_NOTE}; from scratch: {SHALLOW_S:.1%}, "
        f"{SHALLOW_S_NOTE}",
        _GATES + _ablation_gates("five") + SCRATCH_LEARNT, "results-depth-and-supervision",
    ),
    Claim(
        "SN-4", PAPER, "The best probe layer is in the middle (pool5/conv6), not the top.", CITE,
        (STUDENT,), _sn_4, LAYER_MARGIN,
        f"the better of pool5 and conv6 beats conv8 by, and is no more than, {LAYER_NOTE} below "
        "the best other layer (every layer probed at the same dimension)",
        _GATES, "results-which-layer",
    ),
    Claim(
        "SN-5", PAPER, "SoundNet features beat MFCC + SVM and an autoencoder baseline.", CITE,
        (STUDENT, BASE), _sn_5, MFCC,
        f"MFCC: {MFCC:.1%}, {MFCC_NOTE}; autoencoder: {AUTOENC:.1%}, {AUTOENC_NOTE}",
        _GATES + (AUTOENCODER_LEARNT,), "results-sound-classification",
    ),
    Claim(
        "SN-6", PAPER, "Sound + vision beats either alone on the scene task.", CITE,
        (STUDENT,), _sn_6, BOTH_VISION,
        f"vs sound: {BOTH_SOUND:.1%}, {BOTH_SOUND_NOTE}; vs vision: {BOTH_VISION:.1%}, "
        f"{BOTH_VISION_NOTE}",
        _GATES, "results-multimodal-scene-recognition",
    ),
]  # fmt: skip
CLAIM_IDS = tuple(c.id for c in CLAIMS)


# --- tables: the paper's numbers (REFERENCES ids) beside ours -------------------------------

_P = f"{PAPER}/"
TABLES: dict[str, list[Row]] = {
    "classification": [
        Row("ESC-50: SoundNet, best layer", _P + "esc50", STUDENT, "esc50_acc", "SN-5"),
        Row("ESC-10: SoundNet, best layer", _P + "esc10", STUDENT, "esc10_acc"),
        Row("DCASE 2013: SoundNet, best layer", _P + "dcase2013", STUDENT, "dcase_acc"),
        Row("ESC-50: MFCC + SVM", _P + "baseline-mfcc-svm", BASE, "esc50_acc_mfcc", "SN-5"),
        Row("ESC-50: convolutional autoencoder, best layer", _P + "baseline-autoencoder", BASE,
            "esc50_acc_autoencoder", "SN-5"),
        Row("ESC-50: SoundNet, best layer at the probes' common dimension", None, STUDENT,
            "esc50_acc_best_layer", "SN-5"),
        Row("ESC-50: humans (not measured)", _P + "baseline-humans"),
    ],
    "loss": [
        Row("ESC-50: KL (8 layers, both teachers)", _P + "loss-kl", STUDENT,
            "esc50_acc_best_layer", "SN-1"),
        Row("ESC-50: L2", _P + "loss-l2", ABL, "esc50_acc_l2", "SN-1"),
    ],
    "teachers": [
        Row("ESC-50: both teachers", _P + "teacher-both", STUDENT, "esc50_acc_best_layer",
            "SN-2"),
        Row("ESC-50: object (ImageNet) teacher only", _P + "teacher-imagenet", ABL,
            "esc50_acc_objects", "SN-2"),
        Row("ESC-50: scene (Places) teacher only", _P + "teacher-places", ABL,
            "esc50_acc_scenes", "SN-2"),
    ],
    "depth": [
        Row("ESC-50: 8 layers, with teachers", _P + "teachers-8-layer", STUDENT,
            "esc50_acc_best_layer", "SN-3"),
        Row("ESC-50: 5 layers, with teachers", _P + "teachers-5-layer", ABL, "esc50_acc_five",
            "SN-3"),
        Row("ESC-50: 8 layers, from scratch (one fold)", _P + "scratch-8-layer", SCRATCH,
            "esc50_acc_scratch_eight", "SN-3"),
        Row("ESC-50: 5 layers, from scratch (one fold)", _P + "scratch-5-layer", SCRATCH,
            "esc50_acc_scratch_five", "SN-3"),
    ],
    "layers": [
        Row(f"ESC-50: {layer}", None, STUDENT, f"esc50_acc_{layer}",
            "SN-4" if layer in ("pool5", "conv6", "conv8") else None)
        for layer in LAYERS
    ],
    "multimodal": [
        Row(f"scenes (Flickr analogue): {name}", _P + f"multimodal-{ref}", STUDENT,
            f"scene_acc_{key}", "SN-6")
        for name, ref, key in (("sound", "sound", "sound"), ("vision", "vision", "vision"),
                               ("sound + vision", "both", "both"))
    ],
    "training": [
        Row("object teacher, top-1 (ImageNet analogue, 34 classes)", None, STUDENT,
            "teacher_objects_acc"),
        Row("scene teacher, top-1 (Places analogue, 10 scenes)", None, STUDENT,
            "teacher_scenes_acc"),
        Row("student: held-out agreement with the teachers", None, STUDENT, "agreement"),
        Row("student: constant answer's agreement (majority)", None, STUDENT,
            "agreement_majority"),
        *(Row(f"{ABLATION_NAMES[n]}: held-out agreement", None, ABL, f"agreement_{n}")
          for n in ABLATIONS),
    ],
    "cross": [
        Row("ESC-50: L3 audio features (L3 chapter's probe)", "l3/esc50/l3", L3, "esc50_acc"),
        Row("ESC-50: SoundNet features (this chapter's probe)", "l3/esc50/soundnet", STUDENT,
            "esc50_acc"),
        Row("DCASE 2013: L3 audio features (L3 chapter's probe)", "l3/dcase2013/l3", L3,
            "dcase_acc"),
        Row("DCASE 2013: SoundNet features (this chapter's probe)", "l3/dcase2013/soundnet",
            STUDENT, "dcase_acc"),
    ],
}  # fmt: skip
HEADLINES = {  # glue name -> (experiment, metric[, scale, digits, unit]): numbers the prose quotes
    "sn_esc50": (STUDENT, "esc50_acc"),
    "sn_esc10": (STUDENT, "esc10_acc"),
    "sn_dcase": (STUDENT, "dcase_acc"),
    "sn_esc50_equal": (STUDENT, "esc50_acc_best_layer"),
    "sn_mfcc": (BASE, "esc50_acc_mfcc"),
    "sn_autoencoder": (BASE, "esc50_acc_autoencoder"),
    "sn_l2": (ABL, "esc50_acc_l2"),
    "sn_objects": (ABL, "esc50_acc_objects"),
    "sn_scenes": (ABL, "esc50_acc_scenes"),
    "sn_five": (ABL, "esc50_acc_five"),
    "sn_scratch_eight": (SCRATCH, "esc50_acc_scratch_eight"),
    "sn_scratch_five": (SCRATCH, "esc50_acc_scratch_five"),
    "sn_teacher_objects": (STUDENT, "teacher_objects_acc"),
    "sn_teacher_scenes": (STUDENT, "teacher_scenes_acc"),
    "sn_agreement": (STUDENT, "agreement"),
    "sn_agreement_majority": (STUDENT, "agreement_majority"),
    "sn_agreement_gain": (STUDENT, "agreement_gain_last_quarter"),
    "sn_scene_sound": (STUDENT, "scene_acc_sound"),
    "sn_scene_vision": (STUDENT, "scene_acc_vision"),
    "sn_scene_both": (STUDENT, "scene_acc_both"),
    "sn_conv8": (STUDENT, "esc50_acc_conv8"),
    "sn_pool5": (STUDENT, "esc50_acc_pool5"),
}
TRAINING_RUNS = {  # figure title -> (experiment, run name): the chapter's learning curves
    "object teacher": (STUDENT, "teacher-objects"),
    "scene teacher": (STUDENT, "teacher-scenes"),
    "student (KL, both teachers)": (STUDENT, "student"),
    "student, L2 loss": (ABL, "l2"),
    "student, 5 layers": (ABL, "five"),
    "8 layers from scratch": (SCRATCH, "eight"),
    "5 layers from scratch": (SCRATCH, "five"),
}


# --- readings: results turned into words --------------------------------------------------------


def best_layer_reading(sel: Selection) -> str:
    """Which layer the probe liked best, per seed ('pool5 (seeds 0, 1), conv6 (seed 2)')."""
    seeds = sel.load(STUDENT)
    if not seeds.records:
        return "not measured (no runs yet)"
    by_layer: dict[str, list[int]] = {}
    for seed, rec in zip(seeds.seeds, seeds.records, strict=True):
        by_layer.setdefault(rec.get("best_layer", "?"), []).append(seed)
    parts = [f"{layer} ({'seed' if len(s) == 1 else 'seeds'} {', '.join(map(str, s))})"
             for layer, s in sorted(by_layer.items(), key=lambda kv: -len(kv[1]))]  # fmt: skip
    return ", ".join(parts)


def cross_paper_reading(sel: Selection) -> str:
    """L3-3's "beats SoundNet" part on our two probes: L3 minus SoundNet on ESC-50, paired by
    seed, or why it cannot be read yet."""
    l3, sn = sel.load(L3), sel.load(STUDENT)
    if not l3.records or not sn.records:
        missing = " and ".join(n for n, s in (("L3", l3), ("SoundNet", sn)) if not s.records)
        return f"cannot be read yet: no {missing} results for this selection"
    common = sorted(set(l3.seeds) & set(sn.seeds))
    if len(common) < 2:
        return "cannot be read: fewer than two seeds ran both chapters"
    a = [l3.values("esc50_acc")[l3.seeds.index(s)] for s in common]
    b = [sn.values("esc50_acc")[sn.seeds.index(s)] for s in common]
    try:
        diff = difference_ci(a, b, paired=True, confidence=sel.confidence)
    except (ConfigError, ResultsError):
        return "cannot be read"
    side = ("above" if diff.ci_low > 0 else "below" if diff.ci_high < 0 else "not clearly apart "
            "from")  # fmt: skip
    return (f"L3's features score {100 * diff.mean:+.1f} points [{100 * diff.ci_low:+.1f}, "
            f"{100 * diff.ci_high:+.1f}] against SoundNet's on the ESC-50 analogue ({len(common)} "
            f"seeds, paired), so L3 is {side} SoundNet here")  # fmt: skip


# --- figures only this chapter draws ----------------------------------------------------------


def layer_figure(sel: Selection, layers=LAYERS, title: str = "") -> Figure:
    """ESC-50 probe accuracy per layer (equal dimension): mean over seeds, a dot per seed, and
    each seed's best layer marked with a star."""
    seeds = sel.load(STUDENT)
    fig = Figure(figsize=(6.4, 3.4))
    ax = fig.add_subplot()
    if seeds.records:
        values = 100 * np.array([seeds.values(f"esc50_acc_{n}") for n in layers])  # (L, S)
        x = np.arange(len(layers))
        ax.plot(x, values.mean(axis=1), color=OURS_COLOUR, marker="o", label="mean over seeds")
        for s, colour in enumerate(palette(values.shape[1])):
            ax.scatter(x, values[:, s], color=colour, s=10, alpha=0.7)
            best = int(values[:, s].argmax())
            ax.scatter(x[best], values[best, s], marker="*", s=120, color=colour,
                       edgecolor="black", zorder=3, label=f"best, seed {seeds.seeds[s]}")  # fmt: skip
        ax.set_xticks(x, layers)
        ax.legend(frameon=False, fontsize="small")
    ax.set(ylabel="ESC-50 analogue accuracy (%)", title=title or "Linear probe per layer")
    return fig


def confusion_figure(true: np.ndarray, predicted: np.ndarray, classes, title: str = "") -> Figure:
    """Row-normalised confusion matrix (true class per row) of the clips' predictions."""
    k = len(classes)
    counts = np.zeros((k, k))
    np.add.at(counts, (true, predicted), 1)
    rates = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    fig = Figure(figsize=(7.5, 7.0))
    ax = fig.add_subplot()
    image = ax.imshow(rates, cmap="viridis", vmin=0, vmax=1)
    ax.set_xticks(range(k), classes, rotation=90, fontsize=5)
    ax.set_yticks(range(k), classes, fontsize=5)
    ax.set(xlabel="predicted", ylabel="true", title=title or "Confusion matrix")
    ax.grid(False)
    fig.colorbar(image, ax=ax, fraction=0.04, label="share of the class's clips")
    fig.tight_layout()
    return fig


def filter_responses(
    filters: np.ndarray, sr: int, n_fft: int = 512
) -> tuple[np.ndarray, np.ndarray]:
    """conv1's filters (C, K) -> (frequencies (F,), magnitude responses in dB (C, F), the filters
    sorted by their peak frequency)."""
    spectrum = np.abs(np.fft.rfft(filters, n=n_fft, axis=1))
    db = 20 * np.log10(spectrum / spectrum.max(axis=1, keepdims=True).clip(1e-12) + 1e-6)
    order = np.argsort(spectrum.argmax(axis=1), kind="stable")
    return np.fft.rfftfreq(n_fft, 1 / sr), db[order]


def filter_figure(filters: np.ndarray, sr: int, title: str = "") -> Figure:
    """conv1's frequency responses, one row per filter sorted by peak frequency."""
    freqs, db = filter_responses(filters, sr)
    fig = Figure(figsize=(6.4, 3.0))
    ax = fig.add_subplot()
    image = ax.imshow(db, aspect="auto", origin="lower", cmap="magma", vmin=-30, vmax=0,
                      extent=(0, freqs[-1] / 1000, -0.5, len(db) - 0.5))  # fmt: skip
    ax.set(xlabel="frequency (kHz)", ylabel="filter (sorted by peak)",
           title=title or "conv1 frequency responses")  # fmt: skip
    ax.grid(False)
    fig.colorbar(image, ax=ax, label="dB (each filter's peak at 0)")
    return fig


def paper_vs_ours(rows: list[Row], sel: Selection, title: str = "") -> Figure:
    """Bars: the paper's number (grey) beside ours (mean over seeds, a dot per seed)."""
    from avlib.claims import references

    refs = references()
    fig = Figure(figsize=(6.4, 3.2))
    ax = fig.add_subplot()
    x = np.arange(len(rows))
    for i, row in enumerate(rows):
        paper = refs[row.reference].value if row.reference else None
        if paper is not None:
            ax.bar(i - 0.2, paper, 0.38, color=PAPER_COLOUR, label="paper" if i == 0 else None)
        seeds = sel.load(row.result)
        if seeds.records and seeds.has(row.key):
            v = 100 * np.asarray(seeds.values(row.key))
            ax.bar(i + 0.2, v.mean(), 0.38, color=OURS_COLOUR, label="ours" if i == 0 else None)
            ax.scatter(np.full(len(v), i + 0.2), v, color="black", s=8, zorder=3)
    ax.set_xticks(x, [r.metric.split(": ", 1)[-1] for r in rows], fontsize="small")
    ax.set(ylabel="accuracy (%)", title=title)
    ax.legend(frameon=False)
    return fig
