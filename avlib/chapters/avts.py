"""AVTS: cooperative learning of audio and video models from self-supervised synchronisation.

Korbar, Tran & Torresani, NeurIPS 2018; PAPERS.md §2. The runs are
``avlib/experiments/avts.py``; the notebook is ``notebooks/02_avts.ipynb``.

The paper publishes its downstream numbers (UCF101 and HMDB51 fine-tuning,
ESC-50 with frozen features) but no numbers for its ablations of negatives,
curriculum and loss, only what they showed. So the downstream claim (AVTS-5)
takes its margins from the paper's own gaps (a quarter of each), and the
ablation claims (AVTS-1..4) a fixed margin of two points, stated below with
its reason. Every claim rests on gates: the pretext task learnt (easy pairs
clearly above chance, a flattened held-out curve), the hard pairs learnt where
a claim reads them, and the baselines above a floor; otherwise the verdict is
``inconclusive (under-trained: ...)``.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from avlib.chapters import soundnet
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
from avlib.figures import PAPER_COLOUR, palette
from avlib.results import Selection

PAPER = "avts"
TITLE = "AVTS"
NOTEBOOK = "02_avts"
CITE = "korbar2018cooperative"
CITES = {"avts": CITE}
EXPERIMENTS = ("avts-ablation", "avts-scratch")
ABL, SCR = (f"{PAPER}/{e}" for e in EXPERIMENTS)
CONDITIONS = {  # metric suffix -> what the condition is
    "easy": "easy negatives only",
    "hardstart": "easy:hard 3:1 from the start",
    "curriculum": "curriculum (easy, then easy:hard 3:1)",
    "superhard": "curriculum + super-hard negatives",
    "bce": "curriculum pairs, binary cross-entropy",
}

CONFIG_FIELDS = [  # the Config fields the setup table sets beside the paper's
    "fps", "clip_frames", "frame_size", "video_widths", "mixed_blocks", "convs", "n_mels",
    "margin", "epochs", "switch_epoch", "easy_to_hard", "min_hard_shift_s",
    "max_superhard_shift_s", "schedule", "lr", "batch_size",
]  # fmt: skip


_ref = reference_maker(PAPER, CITE)


REFERENCES = [
    _ref("ucf101-finetune", "Reference numbers", "UCF101 fine-tune accuracy", 89.0),
    _ref("hmdb51-finetune", "Reference numbers", "HMDB51 fine-tune accuracy", 61.6),
    _ref("esc50-frozen", "Reference numbers", "ESC-50, frozen audio features", 82.3),
    _ref("ucf101-gain-over-scratch", "Reference numbers",
         "UCF101 gain over training from scratch", 19.9, "points"),
    _ref("hmdb51-gain-over-scratch", "Reference numbers",
         "HMDB51 gain over training from scratch", 17.7, "points"),
    _ref("ucf101-scratch", "Reference numbers", "UCF101 trained from scratch", 69.1,
         note="89.0 - 19.9: the fine-tune accuracy minus the gain the paper reports"),
    _ref("hmdb51-scratch", "Reference numbers", "HMDB51 trained from scratch", 43.9,
         note="61.6 - 17.7: the fine-tune accuracy minus the gain the paper reports"),
    _ref("sync-chance", "Task definition", "chance (balanced pairs)", 50.0),
    _ref("ablations", "Ablations", "negative types and curriculum ablations", None,
         note="numbers not found: the paper reports that hard negatives from the start "
         "converge badly, the curriculum helps, super-hard negatives hurt"),
]  # fmt: skip
REFS = {r.id.removeprefix(f"{PAPER}/"): r for r in REFERENCES}
MFCC_REF = next(r for r in soundnet.REFERENCES if r.id == "soundnet/baseline-mfcc-svm")


# --- gates: what the runs must show before a claim is read -----------------------------------

SYNC_FLOOR = 0.05  # "clearly above chance": the easy-pair interval clears 50 % by 5 points
HARD_FLOOR = 0.02  # the hard pairs learnt at all: their interval clears 50 % by 2 points
FLAT = 0.05  # held-out accuracy gained over the last quarter of training: below 5 points
FINETUNE_FLOOR = 2.0  # from-scratch top-1 at least twice chance (1 / classes)
MFCC_FLOOR = 0.10  # MFCC + SVM on the ESC analogue: 5x chance (2 %)


SYNC_LEARNT = Gate(
    "AVTS easy pairs above chance",
    lambda d: greater(d[ABL].metric("sync_easy_curriculum"), 0.5, SYNC_FLOOR),
    "the pretext task was learnt: the curriculum net tells in-sync audio from another video's",
)
HARD_LEARNT = Gate(
    "AVTS hard pairs above chance",
    lambda d: greater(d[ABL].metric("sync_hard_curriculum"), 0.5, HARD_FLOOR),
    "a comparison on hard pairs says nothing when no net learnt them",
)
CURVE_FLAT = Gate(
    "AVTS curve flattened",
    lambda d: at_most(d[ABL].metric("gain_curriculum"), FLAT),
    f"the held-out accuracy gained less than {FLAT:.0%} over the last quarter of training",
)
SCRATCH_LEARNT = Gate(
    "from-scratch fine-tuning above twice chance",
    lambda d: all_of(
        greater(d[SCR].metric("ucf101_finetune"), FINETUNE_FLOOR / 12, 0.0),
        greater(d[SCR].metric("hmdb51_finetune"), FINETUNE_FLOOR / 12, 0.0),
    ),
    "a baseline that cannot tell the 12 actions apart says nothing about pre-training",
)
MFCC_LEARNT = Gate(
    "MFCC + SVM above 10 %",
    lambda d: greater(d[ABL].metric("esc_mfcc"), MFCC_FLOOR, 0.0),
    "the ESC baseline must classify at all",
)


# --- claims, each with its margin -------------------------------------------------------------

ABLATION = 0.02
ABLATION_NOTE = (
    "the paper publishes no ablation numbers, so no share of its effect exists; 2 points "
    "(ours): about one binomial standard error of an accuracy on our fixed test pairs, so a "
    "difference must exceed the noise of one test set"
)
UCF, UCF_NOTE = share_of_gap(REFS["ucf101-finetune"], REFS["ucf101-scratch"])
HMDB, HMDB_NOTE = share_of_gap(REFS["hmdb51-finetune"], REFS["hmdb51-scratch"])
ESC, ESC_NOTE = share_of_gap(REFS["esc50-frozen"], MFCC_REF)


def _avts_1(d, m):
    a = d[ABL]
    return all_of(
        greater(a.metric("sync_hard_curriculum"), a.metric("sync_hard_easy"), m),
        greater(a.metric("ucf_probe_curriculum"), a.metric("ucf_probe_easy"), m),
        greater(a.metric("esc_curriculum"), a.metric("esc_easy"), m),
    )


def _avts_5(d, m):
    a, s = d[ABL], d[SCR]
    return all_of(
        greater(a.metric("ucf101_finetune"), s.metric("ucf101_finetune"), UCF),
        greater(a.metric("hmdb51_finetune"), s.metric("hmdb51_finetune"), HMDB),
        greater(a.metric("esc_curriculum"), a.metric("esc_mfcc"), ESC),
    )


_SYNC = "sync accuracy = mean of the balanced accuracies on easy and on hard test pairs"
CLAIMS = [
    Claim(
        "AVTS-1", PAPER, "Curriculum (easy, then easy:hard 3:1) beats easy-only on the sync "
        "task and on downstream probes.", CITE, (ABL,), _avts_1, ABLATION,
        f"{ABLATION:.0%} on hard test pairs, the frozen UCF101 probe and the ESC-50 probe; "
        + ABLATION_NOTE, (SYNC_LEARNT, CURVE_FLAT, HARD_LEARNT),
        "results-negatives-and-curriculum",
    ),
    Claim(
        "AVTS-2", PAPER, "Hard negatives from the start train worse than the curriculum.",
        CITE, (ABL,),
        lambda d, m: greater(d[ABL].metric("sync_curriculum"), d[ABL].metric("sync_hardstart"), m),
        ABLATION, f"{ABLATION:.0%} on the {_SYNC}; " + ABLATION_NOTE,
        (SYNC_LEARNT, CURVE_FLAT, HARD_LEARNT), "results-negatives-and-curriculum",
    ),
    Claim(
        "AVTS-3", PAPER, "Adding super-hard negatives does not help.", CITE, (ABL,),
        lambda d, m: at_most(d[ABL].metric("sync_superhard"), d[ABL].metric("sync_curriculum"), m),
        ABLATION, f"'does not help': at most {ABLATION:.0%} better on the {_SYNC}; "
        + ABLATION_NOTE, (SYNC_LEARNT, CURVE_FLAT, HARD_LEARNT),
        "results-negatives-and-curriculum",
    ),
    Claim(
        "AVTS-4", PAPER, "The contrastive loss trains at least as well as binary "
        "cross-entropy on the same pairs.", CITE, (ABL,),
        lambda d, m: at_least(d[ABL].metric("sync_curriculum"), d[ABL].metric("sync_bce"), m),
        ABLATION, f"'at least as well': no more than {ABLATION:.0%} worse on the {_SYNC}; "
        + ABLATION_NOTE, (SYNC_LEARNT, CURVE_FLAT), "results-negatives-and-curriculum",
    ),
    Claim(
        "AVTS-5", PAPER, "AVTS pre-training beats training from scratch on the "
        "action-recognition analogue (fine-tune) and gives strong frozen audio features "
        "(ESC).", CITE, (ABL, SCR), _avts_5, UCF,
        f"UCF101: {UCF:.1%}, {UCF_NOTE}; HMDB51: {HMDB:.1%}, {HMDB_NOTE}; 'strong' ESC "
        f"features: above MFCC + SVM by {ESC:.1%}, {ESC_NOTE} (SoundNet's MFCC baseline)",
        (SYNC_LEARNT, SCRATCH_LEARNT, MFCC_LEARNT), "results-downstream-tasks",
    ),
]  # fmt: skip
CLAIM_IDS = tuple(c.id for c in CLAIMS)


# --- tables: the paper's numbers (REFERENCES ids) beside ours -------------------------------

_PAIR_CLAIMS = {("hard", "easy"): "AVTS-1", ("hard", "curriculum"): "AVTS-1"}
_SYNC_CLAIMS = {"hardstart": "AVTS-2", "superhard": "AVTS-3", "bce": "AVTS-4"}
TABLES: dict[str, list[Row]] = {
    "ablation": [
        *(
            Row(f"{kind} pairs: {label}", None, ABL, f"sync_{kind}_{c}", _PAIR_CLAIMS.get((kind, c)))
            for kind in ("easy", "hard", "superhard")
            for c, label in CONDITIONS.items()
        ),
        *(
            Row(f"sync accuracy (easy and hard): {label}", "avts/ablations", ABL, f"sync_{c}",
                _SYNC_CLAIMS.get(c))
            for c, label in CONDITIONS.items()
        ),
    ],
    "downstream": [
        Row("UCF101 analogue, fine-tuned: AVTS init", "avts/ucf101-finetune", ABL,
            "ucf101_finetune", "AVTS-5"),
        Row("UCF101 analogue, fine-tuned: from scratch", "avts/ucf101-scratch", SCR,
            "ucf101_finetune", "AVTS-5"),
        Row("HMDB51 analogue, fine-tuned: AVTS init", "avts/hmdb51-finetune", ABL,
            "hmdb51_finetune", "AVTS-5"),
        Row("HMDB51 analogue, fine-tuned: from scratch", "avts/hmdb51-scratch", SCR,
            "hmdb51_finetune", "AVTS-5"),
        Row("ESC-50 analogue, frozen audio features: AVTS (curriculum)", "avts/esc50-frozen",
            ABL, "esc_curriculum", "AVTS-5"),
        Row("ESC-50 analogue: MFCC + SVM (SoundNet's baseline)", MFCC_REF.id, ABL, "esc_mfcc"),
        Row("ESC-50 analogue, frozen audio features: easy negatives only", None, ABL,
            "esc_easy", "AVTS-1"),
        Row("ESC-50 analogue, frozen audio features: random init", None, ABL, "esc_random"),
    ],
    "probes": [
        Row(f"UCF101 analogue, frozen video probe: {label}", None, ABL, f"ucf_probe_{c}",
            "AVTS-1" if c in ("easy", "curriculum") else None)
        for c, label in (*CONDITIONS.items(), ("random", "random init"))
    ],
}  # fmt: skip
HEADLINES = {  # glue name -> (experiment, metric[, scale, digits, unit]): numbers the prose quotes
    "avts_sync_easy": (ABL, "sync_easy_curriculum"),
    "avts_sync_hard": (ABL, "sync_hard_curriculum"),
    "avts_sync_superhard": (ABL, "sync_superhard_curriculum"),
    "avts_sync_hard_easy": (ABL, "sync_hard_easy"),
    "avts_sync_hardstart": (ABL, "sync_hardstart"),
    "avts_sync_curriculum": (ABL, "sync_curriculum"),
    "avts_sync_bce": (ABL, "sync_bce"),
    "avts_gain": (ABL, "gain_curriculum"),
    "avts_ucf": (ABL, "ucf101_finetune"),
    "avts_ucf_scratch": (SCR, "ucf101_finetune"),
    "avts_hmdb": (ABL, "hmdb51_finetune"),
    "avts_hmdb_scratch": (SCR, "hmdb51_finetune"),
    "avts_esc": (ABL, "esc_curriculum"),
    "avts_esc_mfcc": (ABL, "esc_mfcc"),
    "avts_esc_random": (ABL, "esc_random"),
    "avts_alias": (ABL, "test_alias_share"),
}
TRAINING_RUNS = {  # figure title -> (experiment, run name): the chapter's learning curves
    "AVTS pretext: curriculum": (ABL, "curriculum"),
    "AVTS pretext: easy negatives only": (ABL, "easy"),
    "fine-tuning UCF101 split 1: AVTS init": (ABL, "ucf101-split1"),
    "fine-tuning UCF101 split 1: from scratch": (SCR, "ucf101-split1"),
}


# --- readings and figures only this chapter uses -------------------------------------------------


def switch_step(history: list[dict]) -> int | None:
    """The step where a run's logged sampler state first holds hard negatives (None: never)."""
    for before, record in zip([None, *history], history, strict=False):
        if record.get("hard_share", 0) > 0:
            return 0 if before is None else int(before["step"])
    return None


def sampler_reading(sel: Selection) -> str:
    """What the curriculum's logged sampler state shows: the hard share before and after."""
    seeds = sel.load(ABL)
    if not seeds.records:
        return "was not logged (no runs yet)"
    history = seeds.records[0]["history"]["curriculum"]
    step = switch_step(history)
    if step is None:
        return "never held hard negatives"
    before = max(h.get("hard_share", 0) for h in history if h["step"] <= step)
    after = [h["hard_share"] for h in history if h["step"] > step]
    return (
        f"held {before:.0%} hard negatives up to step {step}, then {min(after):.0%} to "
        f"{max(after):.0%} of the negatives in every epoch"
    )


def pretext_reading(sel: Selection) -> str:
    """Which data set the pretext pairs came from."""
    seeds = sel.load(ABL)
    if not seeds.records:
        return "(no runs yet)"
    names = {"audioset": "the AudioSet analogue", "kinetics_sounds": "Kinetics-Sounds"}
    return names.get(seeds.records[0].get("pretext"), str(seeds.records[0].get("pretext")))


def training_curves(sel: Selection) -> Figure:
    """Held-out sync accuracy (easy and hard pairs) per condition over training, one line per
    seed; the dotted line is the curriculum's switch, read from the logged sampler state."""
    seeds = sel.load(ABL)
    fig = Figure(figsize=(8.4, 3.4))
    axes = fig.subplots(1, 2, sharey=True)
    colours = dict(zip(CONDITIONS, palette(len(CONDITIONS)), strict=True))
    for rec in seeds.records:
        for c, label in CONDITIONS.items():
            history = rec["history"][c]
            steps = [h["step"] for h in history]
            for ax, key in zip(axes, ("val_acc", "val_acc_hard"), strict=True):
                first = rec is seeds.records[0]
                ax.plot(steps, [100 * h[key] for h in history], color=colours[c], lw=1.2,
                        label=label if first else None)  # fmt: skip
        step = switch_step(rec["history"]["curriculum"])
        if step is not None:
            for ax in axes:
                ax.axvline(step, color=PAPER_COLOUR, ls=":", lw=1)
    for ax, title in zip(axes, ("easy pairs", "hard pairs"), strict=True):
        ax.axhline(50, color=PAPER_COLOUR, ls="--", lw=1)
        ax.set(title=f"held-out sync accuracy: {title}", xlabel="step")
    axes[0].set_ylabel("balanced accuracy (%)")
    axes[1].legend(frameon=False, fontsize="x-small", loc="lower right")
    fig.tight_layout()
    return fig


def distance_figure(arrays: dict, condition: str = "curriculum", title: str = "") -> Figure:
    """Distributions of the embedding distance of test positives and each negative kind."""
    d, k = arrays[f"distance_{condition}"], arrays[f"kind_{condition}"]
    fig = Figure(figsize=(6.4, 3.4))
    ax = fig.add_subplot()
    bins = np.linspace(0, max(float(d.max()), 1e-3), 40)
    for code, (name, colour) in enumerate(
        zip(("positives", "easy", "hard", "super-hard"), palette(4), strict=True)
    ):
        if (k == code).any():
            ax.hist(d[k == code], bins, density=True, histtype="step", lw=1.8, color=colour,
                    label=name)  # fmt: skip
    ax.set(xlabel="distance between the L2-normalised embeddings", ylabel="density",
           title=title)  # fmt: skip
    ax.legend(frameon=False)
    return fig
