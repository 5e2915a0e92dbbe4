"""Look, Listen and Learn (and Objects that Sound): what the chapter says, computed from results.

Arandjelović & Zisserman, ICCV 2017 and ECCV 2018; PAPERS.md §1. The runs are
``avlib/experiments/l3.py``; the notebook is ``notebooks/01_l3.ipynb``.

Every claim states its margin (a quarter of the paper's own effect, or half
of it for "far above chance") and its gates: the runs under a claim must
first show that they learnt (AVC clearly above chance, the supervised
baselines above a floor, a held-out curve that has flattened), or the claim is
``inconclusive (under-trained: ...)``.
"""

from __future__ import annotations

from matplotlib.figure import Figure

from avlib.claims.core import (
    Claim,
    CrossRow,
    Gate,
    Row,
    all_of,
    at_least,
    at_most,
    close_to,
    greater,
    reference_maker,
    share_of_gap,
)
from avlib.errors import ConfigError, ResultsError
from avlib.figures import draw_boxes
from avlib.results import Selection
from avlib.stats import difference_ci

PAPER = "l3"
TITLE = "Look, Listen and Learn"
NOTEBOOK = "01_l3"
CITE, CITE_OTS = "arandjelovic2017look", "arandjelovic2018objects"
CITES = {"l3": CITE, "objects-that-sound": CITE_OTS}
EXPERIMENTS = ("l3-avc", "l3-supervised", "l3-localisation")
DATA = ("kinetics_sounds", "esc50", "dcase2013", "imagenet")  # data sets its runs read
AVC, SUP, LOC = (f"{PAPER}/{e}" for e in EXPERIMENTS)


_ref = reference_maker(PAPER, CITE)


_KS, _ESC = "AVC accuracy, Kinetics-Sounds (34 classes)", "ESC-50 (5-fold CV, linear SVM)"
_NMI, _OTS_LOC = "NMI of k-means on embeddings", "Objects that Sound: localisation accuracy"
REFERENCES = [
    _ref("avc-chance", "Task definition", "chance (balanced pairs)", 50.0),
    _ref("avc-kinetics-sounds/l3", _KS, "L3 AVC accuracy", 74.0),
    _ref("avc-kinetics-sounds/supervised", _KS, "supervised-pretraining baseline", 74.0),
    _ref("avc-kinetics-sounds/direct-combination", _KS, "two supervised classifiers combined",
         65.0),
    _ref("avc-flickr-soundnet/l3", "AVC accuracy, Flickr-SoundNet", "L3 AVC accuracy", 78.0),
    _ref("esc50/l3", _ESC, "L3 audio features", 79.3),
    _ref("esc50/soundnet", _ESC, "SoundNet features", 74.2),
    _ref("esc50/random", _ESC, "random-init L3 features", 62.5),
    _ref("dcase2013/l3", "DCASE 2013 scene classification", "L3 audio features", 93.0),
    _ref("dcase2013/soundnet", "DCASE 2013 scene classification", "SoundNet features", 88.0),
    _ref("dcase2013/random", "DCASE 2013 scene classification", "random-init features", 85.0),
    _ref("ilsvrc-conv4/l3", "ILSVRC-12 linear probe, conv4, top-1", "L3 vision conv4", 32.3),
    _ref("ilsvrc-conv4/random", "ILSVRC-12 linear probe, conv4, top-1", "random init", 12.9),
    _ref("nmi/vision", _NMI, "L3 vision embeddings", 0.409, "NMI"),
    _ref("nmi/audio", _NMI, "L3 audio embeddings", 0.330, "NMI"),
    _ref("nmi/random-vision", _NMI, "random vision embeddings", 0.204, "NMI"),
    _ref("nmi/random-audio", _NMI, "random audio embeddings", 0.219, "NMI"),
    _ref("ots-avc/avenet", "Objects that Sound: AVC accuracy", "AVE-Net", 81.9, cite=CITE_OTS),
    _ref("ots-avc/l3", "Objects that Sound: AVC accuracy", "L3-Net", 80.8, cite=CITE_OTS),
    _ref("ots-localisation/avol", _OTS_LOC, "AVOL-Net", 81.7, cite=CITE_OTS),
    _ref("ots-localisation/centre-prior", _OTS_LOC, "centre prior", 57.2, cite=CITE_OTS),
]  # fmt: skip
REFS = {r.id.removeprefix(f"{PAPER}/"): r for r in REFERENCES}


# --- gates: what the runs must show before a claim is read -----------------------------------

# AVC's interval must clear chance by a quarter of the paper's own gain over chance (74 vs 50 %):
# a net that learnt less than that has not learnt the task the paper's comparisons are about
AVC_FLOOR, AVC_FLOOR_NOTE = share_of_gap(REFS["avc-kinetics-sounds/l3"], REFS["avc-chance"])
CLASSIFIER_FLOOR = 0.15  # supervised top-1 over 34 classes: 5x chance (2.9 %)
FLAT = 0.05  # held-out accuracy gained over the last quarter of training: below 5 points


def _above(key: str, metric: str, floor: float, name: str, why: str) -> Gate:
    return Gate(name, lambda d: greater(d[key].metric(metric), floor, 0.0), why)


def _flat(key: str, metric: str, name: str) -> Gate:
    return Gate(
        name,
        lambda d: at_most(d[key].metric(metric), FLAT),
        f"the held-out accuracy gained less than {FLAT:.0%} over the last quarter of training",
    )


AVC_LEARNT = _above(
    AVC,
    "avc_acc",
    0.5 + AVC_FLOOR,
    f"L3 AVC above {0.5 + AVC_FLOOR:.0%}",
    f"the pretext task was learnt: {AVC_FLOOR_NOTE} above chance",
)
AVC_FLAT = _flat(AVC, "avc_val_gain_last_quarter", "L3 AVC curve flattened")
VISION_LEARNT = _above(
    SUP, "vision_acc", CLASSIFIER_FLOOR, "supervised vision classifier above 15 %",
    "a baseline that cannot tell the classes apart says nothing about L3",
)  # fmt: skip
AUDIO_LEARNT = _above(
    SUP, "audio_acc", CLASSIFIER_FLOOR, "supervised audio classifier above 15 %",
    "a baseline that cannot tell the classes apart says nothing about L3",
)  # fmt: skip
AVOL_LEARNT = _above(
    LOC, "avc_acc", 0.5 + AVC_FLOOR, f"AVOL AVC above {0.5 + AVC_FLOOR:.0%}",
    "a map from a net that never learnt correspondence localises nothing",
)  # fmt: skip


# --- claims, each with its margin from the paper's effect -------------------------------------

FAR, FAR_NOTE = share_of_gap(REFS["avc-kinetics-sounds/l3"], REFS["avc-chance"], 0.5)
CLOSE, CLOSE_NOTE = share_of_gap(
    REFS["avc-kinetics-sounds/l3"], REFS["avc-kinetics-sounds/direct-combination"], 0.5
)
DIRECT, DIRECT_NOTE = share_of_gap(
    REFS["avc-kinetics-sounds/l3"], REFS["avc-kinetics-sounds/direct-combination"]
)
ESC, ESC_NOTE = share_of_gap(REFS["esc50/l3"], REFS["esc50/random"])
DCASE, DCASE_NOTE = share_of_gap(REFS["dcase2013/l3"], REFS["dcase2013/random"])
CONV4, CONV4_NOTE = share_of_gap(REFS["ilsvrc-conv4/l3"], REFS["ilsvrc-conv4/random"])
NMI_V, NMI_V_NOTE = share_of_gap(REFS["nmi/vision"], REFS["nmi/random-vision"])
NMI_A, NMI_A_NOTE = share_of_gap(REFS["nmi/audio"], REFS["nmi/random-audio"])
LOCALISE, LOCALISE_NOTE = share_of_gap(
    REFS["ots-localisation/avol"], REFS["ots-localisation/centre-prior"]
)


def _l3_1(d, margin):
    acc = d[AVC].metric("avc_acc")
    return all_of(
        greater(acc, 0.5, FAR), close_to(acc, d[SUP].metric("avc_acc_pretrained"), margin)
    )


def _l3_3(d, margin):
    a = d[AVC]
    return all_of(
        greater(a.metric("esc50_acc"), a.metric("esc50_acc_random"), ESC),
        greater(a.metric("dcase_acc"), a.metric("dcase_acc_random"), DCASE),
    )


def _l3_4(d, margin):
    a = d[AVC]
    conv4 = a.metric("probe_conv4")
    earlier = a.metric("probe_conv1").combine(
        f"{a.results.key}:max(probe_conv1..3)",
        max,
        a.metric("probe_conv2"),
        a.metric("probe_conv3"),
    )
    return all_of(
        greater(conv4, a.metric("probe_conv4_random"), margin), at_least(conv4, earlier, margin)
    )


def _l3_5(d, margin):
    a = d[AVC]
    return all_of(
        greater(a.metric("nmi_vision"), a.metric("nmi_vision_random"), NMI_V),
        greater(a.metric("nmi_audio"), a.metric("nmi_audio_random"), NMI_A),
    )


CLAIMS = [
    Claim(
        "L3-1", PAPER,
        "AVC trained from scratch reaches accuracy far above chance (50%) and close to a "
        "supervised-pretraining baseline of the same architecture.",
        CITE, (AVC, SUP), _l3_1, CLOSE,
        f"far: above chance by {FAR:.0%}, {FAR_NOTE}; close: within {CLOSE:.1%}, {CLOSE_NOTE}",
        (AVC_LEARNT, AVC_FLAT, VISION_LEARNT, AUDIO_LEARNT), "results-audio-visual-correspondence",
        references=("l3/avc-kinetics-sounds/l3", "l3/avc-kinetics-sounds/supervised"),
        headline=(AVC, "avc_acc"),
    ),
    Claim(
        "L3-2", PAPER, "AVC beats the direct combination of two supervised classifiers.",
        CITE, (AVC, SUP),
        lambda d, m: greater(d[AVC].metric("avc_acc"), d[SUP].metric("avc_acc_direct"), m),
        DIRECT, DIRECT_NOTE, (AVC_LEARNT, AVC_FLAT, VISION_LEARNT, AUDIO_LEARNT),
        "results-audio-visual-correspondence",
        references=("l3/avc-kinetics-sounds/l3", "l3/avc-kinetics-sounds/direct-combination"),
        headline=(AVC, "avc_acc"),
    ),
    Claim(
        "L3-3", PAPER,
        "Frozen L3 audio features + linear SVM beat random-init features on ESC-50 and DCASE "
        "(and beat SoundNet features on the same protocol).",
        CITE, (AVC,), _l3_3, ESC, f"ESC-50: {ESC:.1%}, {ESC_NOTE}; DCASE: {DCASE:.1%}, "
        f"{DCASE_NOTE}; the SoundNet part waits for that chapter",
        (AVC_LEARNT, AVC_FLAT), "results-transfer-of-the-frozen-features",
        references=("l3/esc50/l3", "l3/esc50/random", "l3/dcase2013/l3", "l3/dcase2013/random"),
        headline=(AVC, "esc50_acc"),
    ),
    Claim(
        "L3-4", PAPER,
        "Frozen L3 vision features + linear probe beat random init on the image-classification "
        "probe (ILSVRC analogue); conv4 is a good layer.",
        CITE, (AVC,), _l3_4, CONV4,
        f"{CONV4:.1%}, {CONV4_NOTE}; 'a good layer': conv4 no more than that below the best of "
        "conv1-conv3, every layer probed at the same dimension",
        (AVC_LEARNT, AVC_FLAT), "results-transfer-of-the-frozen-features",
        references=("l3/ilsvrc-conv4/l3", "l3/ilsvrc-conv4/random"),
        headline=(AVC, "probe_conv4"),
    ),
    Claim(
        "L3-5", PAPER, "Embeddings cluster by semantic class (NMI above random).",
        CITE, (AVC,), _l3_5, NMI_V, f"vision: {NMI_V:.3f} NMI, {NMI_V_NOTE}; audio: "
        f"{NMI_A:.3f}, {NMI_A_NOTE}",
        (AVC_LEARNT, AVC_FLAT), "results-do-the-embeddings-cluster-by-class",
        references=("l3/nmi/vision", "l3/nmi/random-vision"),
        headline=(AVC, "nmi_vision", 1.0, 3, "NMI"),
    ),
    Claim(
        "L3-6", PAPER,
        "Activation maps localise the sounding object (localisation accuracy above a centre "
        "prior).",
        CITE_OTS, (LOC,),
        lambda d, m: greater(d[LOC].metric("pointing"), d[LOC].metric("pointing_centre"), m),
        LOCALISE, LOCALISE_NOTE, (AVOL_LEARNT,), "results-sound-localisation-objects-that-sound",
        references=("l3/ots-localisation/avol", "l3/ots-localisation/centre-prior"),
        headline=(LOC, "pointing"),
    ),
]  # fmt: skip
CLAIM_IDS = tuple(c.id for c in CLAIMS)


# --- tables: the paper's numbers (REFERENCES ids) beside ours -------------------------------

LAYER_NAMES = ("conv1", "conv2", "conv3", "conv4")
TABLES: dict[str, list[Row]] = {
    "avc": [
        Row("AVC, Kinetics-Sounds: L3-Net", "l3/avc-kinetics-sounds/l3", AVC, "avc_acc", "L3-1"),
        Row("AVC, negatives from the same scene: L3-Net", None, AVC, "avc_acc_same_scene"),
        Row("AVC, Kinetics-Sounds: supervised pretraining", "l3/avc-kinetics-sounds/supervised",
            SUP, "avc_acc_pretrained", "L3-1"),
        Row("AVC, Kinetics-Sounds: direct combination",
            "l3/avc-kinetics-sounds/direct-combination", SUP, "avc_acc_direct", "L3-2"),
        Row("supervised vision classifier, top-1 (34 classes)", None, SUP, "vision_acc"),
        Row("supervised audio classifier, top-1 (34 classes)", None, SUP, "audio_acc"),
        Row("AVC, Flickr-SoundNet (not run: one L3 per seed, trained on Kinetics-Sounds)",
            "l3/avc-flickr-soundnet/l3"),
    ],
    "audio": [
        Row("ESC-50: L3 audio features", "l3/esc50/l3", AVC, "esc50_acc", "L3-3"),
        Row("ESC-50: random-init features", "l3/esc50/random", AVC, "esc50_acc_random", "L3-3"),
        Row("ESC-50: SoundNet features", "l3/esc50/soundnet"),
        Row("DCASE 2013: L3 audio features", "l3/dcase2013/l3", AVC, "dcase_acc", "L3-3"),
        Row("DCASE 2013: random-init features", "l3/dcase2013/random", AVC, "dcase_acc_random",
            "L3-3"),
        Row("DCASE 2013: SoundNet features", "l3/dcase2013/soundnet"),
    ],
    "vision": [
        Row(f"ImageNet analogue, {layer}: {net}",
            f"l3/ilsvrc-conv4/{ref}" if layer == "conv4" else None, AVC, f"probe_{layer}{suffix}",
            "L3-4" if layer == "conv4" else None)
        for net, ref, suffix in (("L3", "l3", ""), ("random init", "random", "_random"))
        for layer in LAYER_NAMES
    ],
    "nmi": [
        row
        for mod in ("vision", "audio")
        for row in (
            Row(f"NMI, {mod}: L3", f"l3/nmi/{mod}", AVC, f"nmi_{mod}", "L3-5", 1, 3),
            Row(f"NMI, {mod}: random init", f"l3/nmi/random-{mod}", AVC, f"nmi_{mod}_random",
                None, 1, 3),
            Row(f"NMI, {mod}: L3 clusters vs shuffled labels (floor)", None, AVC,
                f"nmi_{mod}_shuffled", None, 1, 3),
            Row(f"AMI, {mod}: L3", None, AVC, f"ami_{mod}", None, 1, 3),
            Row(f"AMI, {mod}: random init", None, AVC, f"ami_{mod}_random", None, 1, 3),
        )
    ],
    "localisation": [
        Row("pointing game: AVOL-Net", "l3/ots-localisation/avol", LOC, "pointing", "L3-6"),
        Row("pointing game: centre prior", "l3/ots-localisation/centre-prior", LOC,
            "pointing_centre", "L3-6"),
        Row("pointing game: random point", None, LOC, "pointing_random"),
        *(
            Row(f"{name}: {net}", None, LOC, f"{m}{suffix}", scale=1, digits=3)
            for name, m in (("cIoU", "ciou"), ("AUC", "auc"), ("AP50", "ap50"))
            for net, suffix in (("AVOL-Net", ""), ("centre prior", "_centre"))
        ),
        Row("AVC accuracy of AVOL-Net", None, LOC, "avc_acc"),
    ],
}  # fmt: skip
CROSS = {  # this chapter's lines of the scorecard's cross-paper tables
    "audio-probes": [
        CrossRow("ESC-50", "L3-Net audio, conv4 (frozen)", "l3/esc50/l3", AVC, "esc50_acc"),
        CrossRow("DCASE 2013", "L3-Net audio, conv4 (frozen)", "l3/dcase2013/l3", AVC,
                 "dcase_acc"),
        CrossRow("ESC-50", "L3-Net audio at random init", "l3/esc50/random", AVC,
                 "esc50_acc_random"),
        CrossRow("DCASE 2013", "L3-Net audio at random init", "l3/dcase2013/random", AVC,
                 "dcase_acc_random"),
    ],
}  # fmt: skip
HEADLINES = {  # glue name -> (experiment, metric[, scale, digits, unit]): numbers the prose quotes
    "l3_avc": (AVC, "avc_acc"),
    "l3_avc_same_scene": (AVC, "avc_acc_same_scene"),
    "l3_avc_gain": (AVC, "avc_val_gain_last_quarter"),
    "l3_avc_pretrained": (SUP, "avc_acc_pretrained"),
    "l3_avc_direct": (SUP, "avc_acc_direct"),
    "l3_avc_avol": (LOC, "avc_acc"),
    "l3_vision_acc": (SUP, "vision_acc"),
    "l3_audio_acc": (SUP, "audio_acc"),
    "l3_esc": (AVC, "esc50_acc"),
    "l3_esc_random": (AVC, "esc50_acc_random"),
    "l3_pointing": (LOC, "pointing"),
    "l3_pointing_centre": (LOC, "pointing_centre"),
    "l3_pointing_random": (LOC, "pointing_random"),
    "l3_ami_vision": (AVC, "ami_vision", 1.0, 3, ""),
    "l3_ami_vision_scene": (AVC, "ami_vision_scene", 1.0, 3, ""),
    "l3_ami_vision_scene_random": (AVC, "ami_vision_scene_random", 1.0, 3, ""),
}
TRAINING_RUNS = {  # figure title -> (experiment, run name): the chapter's learning curves
    "L3-Net on AVC": (AVC, "l3"),
    "AVOL-Net on AVC": (LOC, "avol"),
    "supervised vision classifier": (SUP, "vision"),
    "supervised audio classifier": (SUP, "audio"),
}


# --- readings: results turned into words --------------------------------------------------------


def scene_reading(sel: Selection) -> str:
    """What training added to the vision clusters: scene or class structure (AMI, trained minus
    random init, paired by seed; both groupings scored on the same clusters)."""
    seeds = sel.load(AVC)
    if not seeds.records:
        return "were not measured (no runs yet)"
    if not seeds.has("ami_vision_scene"):
        return "were not compared with scenes (no scene labels in these runs)"
    gain_scene = seeds.values("ami_vision_scene") - seeds.values("ami_vision_scene_random")
    gain_class = seeds.values("ami_vision") - seeds.values("ami_vision_random")
    try:
        diff = difference_ci(gain_scene, gain_class, paired=True, confidence=sel.confidence)
    except (ConfigError, ResultsError):
        return "were not compared with scenes"
    low, high, note = diff.ci_low, diff.ci_high, ""
    if diff.n < 2:  # one seed: no interval, read the sign
        low = high = diff.mean
        note = " (one seed)"
    if low > 0:
        return f"gained more scene structure than class structure from training{note}"
    if high < 0:
        return f"gained more class structure than scene structure from training{note}"
    return f"gained scene and class structure alike from training{note}"


# --- figures only this chapter draws ----------------------------------------------------------


def localisation_figure(data: dict, title: str = "", columns: int = 4) -> Figure:
    """Frames (top of each pair of rows) and their localisation maps (below), ground-truth boxes in green."""
    images, maps, boxes, scores = data["images"], data["maps"], data["boxes"], data["ciou"]
    n = len(images)
    columns = min(columns, n)
    lines = -(-n // columns)
    fig = Figure(figsize=(1.9 * columns, 3.9 * lines))
    axes = fig.subplots(2 * lines, columns, squeeze=False)
    for ax in axes.ravel():
        ax.set_axis_off()
    for i in range(n):
        h, w = images[i].shape[:2]
        line, col = divmod(i, columns)
        for row, overlay in ((2 * line, False), (2 * line + 1, True)):
            ax = axes[row, col]
            ax.set_axis_on()
            ax.imshow(images[i])
            if overlay:
                ax.imshow(maps[i], cmap="magma", alpha=0.55)
            draw_boxes(ax, boxes[i], h, w)
            ax.set(xticks=[], yticks=[])
            ax.grid(False)
        axes[2 * line, col].set_title(f"cIoU {scores[i]:.2f}", fontsize=9)
    fig.suptitle(title)
    fig.tight_layout()
    return fig
