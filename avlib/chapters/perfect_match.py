"""Perfect Match: improved cross-modal embeddings for audio-visual synchronisation.

Soo-Whan Chung, Joon Son Chung, Hong-Goo Kang, ICASSP 2019; PAPERS.md §3. The
runs are ``avlib/experiments/perfect_match.py``; the notebook is
``notebooks/03_perfect_match.ipynb``.

Every claim states its margin (a quarter of the paper's own effect where the
paper gives one, a stated number otherwise) and its gates: the nets under a
claim must first sync clearly above the chance of a ±15-frame search (3 of
31 offsets lie within ±1 frame of the truth), not collapse onto the edge of
the search range, and have a held-out curve that flattened; word recognition
also needs an end-to-end model that learnt. A failed gate makes the claim
``inconclusive (under-trained: ...)``.
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
from avlib.errors import ResultsError
from avlib.figures import OURS_COLOUR, PAPER_COLOUR, palette
from avlib.results import Selection
from avlib.stats import mean_ci

PAPER = "perfect_match"
TITLE = "Perfect Match"
NOTEBOOK = "03_perfect_match"
CITE = "chung2019perfect"
CITES = {"perfect_match": CITE}
EXPERIMENTS = ("pm-sync", "pm-nsweep")
SYNC, SWEEP = (f"{PAPER}/{e}" for e in EXPERIMENTS)
OBJECTIVES = ("multiway", "syncnet", "avenet")  # the short names in the results' metrics
NAMES = {"multiway": "multi-way (Perfect Match)", "syncnet": "SyncNet (contrastive pairs)",
         "avenet": "AVE-Net (distance -> FC -> binary)"}  # fmt: skip
CONTEXTS = (5, 7, 9, 11, 13, 15)
SWEEP_N = (2, 5, 10, 20, 40)
CHANCE = 3 / 31  # a uniform guess over -15..+15 lands within ±1 frame of the truth


_ref = reference_maker(PAPER, CITE)


_LRS2 = "LRS2 sync accuracy (within ±1 frame)"
REFERENCES = [
    _ref("sync-acc-5", _LRS2, "multi-way, 5-frame context", 89.1),
    _ref("sync-acc-15", _LRS2, "multi-way, 15-frame context", 98.1),
    _ref("prior-best-5", _LRS2, "prior best, 5-frame context", 75.8),
    _ref("best-n", "Number of candidates N", "best number of candidates", 40.0, "candidates"),
    _ref("lrw-tc5", "Visual speech recognition on LRW",
         "LRW word accuracy, frozen front-end + TC-5", None,
         note="exact table not found: multi-way embeddings match an end-to-end model and beat "
         "SyncNet and AVE-Net embeddings"),
]  # fmt: skip
REFS = {r.id.removeprefix(f"{PAPER}/"): r for r in REFERENCES}


# --- gates: what the runs must show before a claim is read -----------------------------------

SYNC_FLOOR = 0.10  # K = 5 accuracy must clear chance (3/31 = 9.7 %) by 10 points
EDGE = 0.25  # at most a quarter of the answers in the 2 outermost offsets at each end
FLAT = 0.05  # held-out accuracy gained over the last quarter of training: below 5 points
WORD_FLOOR = 0.10  # end-to-end word top-1: 10 % (24 words at quick: 2.4x chance)


def _learnt(key: str, metric: str, name: str) -> Gate:
    return Gate(
        f"{name} syncs above chance",
        lambda d: greater(d[key].metric(metric), CHANCE + SYNC_FLOOR, 0.0),
        f"K = 5 accuracy clear of a ±15-frame search's chance ({CHANCE:.1%}) by "
        f"{SYNC_FLOOR:.0%}: a net that never learnt says nothing about its objective",
    )


def _not_collapsed(short: str) -> Gate:
    return Gate(
        f"{short} not collapsed",
        lambda d: at_most(d[SYNC].metric(f"edge_fraction_{short}"), EDGE),
        "a collapsed embedding answers the edge of the search range (PAPERS.md §3)",
    )


def _flat(key: str, metric: str, name: str) -> Gate:
    return Gate(
        f"{name} curve flattened",
        lambda d: at_most(d[key].metric(metric), FLAT),
        f"the held-out accuracy gained less than {FLAT:.0%} over the last quarter of training",
    )


LEARNT = {s: _learnt(SYNC, f"acc_{s}_k5", s) for s in OBJECTIVES}
COLLAPSE = {s: _not_collapsed(s) for s in OBJECTIVES}
FLATTENED = {s: _flat(SYNC, f"val_gain_{s}", s) for s in OBJECTIVES}
SWEEP_LEARNT = _learnt(SWEEP, "acc_n2_k5", "sweep N = 2")
SWEEP_FLAT = Gate(
    "sweep's largest N curve flattened",
    lambda d: at_most(
        d[SWEEP].metric(f"val_gain_n{max(n for n in SWEEP_N if d[SWEEP].has(f'val_gain_n{n}'))}"),
        FLAT,
    ),
    f"the largest N's held-out accuracy gained less than {FLAT:.0%} over its last quarter",
)
E2E_LEARNT = Gate(
    "end-to-end word model above 10 %",
    lambda d: greater(d[SYNC].metric("words_acc_e2e"), WORD_FLOOR, 0.0),
    "'near an end-to-end model' means nothing if that model did not learn the words",
)
ALL_SYNC_GATES = tuple(g for s in OBJECTIVES for g in (LEARNT[s], COLLAPSE[s], FLATTENED[s]))


# --- claims, each with its margin ---------------------------------------------------------------

BEAT, BEAT_NOTE = share_of_gap(REFS["sync-acc-5"], REFS["prior-best-5"])
RISE, RISE_NOTE = share_of_gap(REFS["sync-acc-15"], REFS["sync-acc-5"])
N_MARGIN = 0.02
N_NOTE = "2 points: the paper gives no accuracy per N (only that N = 40 is best)"
WORDS, WORDS_NOTE = 0.02, "2 points: the paper's LRW table was not found"
NEAR, NEAR_NOTE = 0.05, "within 5 points of the end-to-end model ('matches' in the paper)"


def _pm_1(d, margin):
    acc = d[SYNC].metric
    return all_of(*(
        greater(acc(f"acc_multiway_k{k}"), acc(f"acc_{base}_k{k}"), margin)
        for k in CONTEXTS for base in ("syncnet", "avenet")
    ))  # fmt: skip


def _pm_2(d, margin):
    acc = d[SYNC].metric
    steps = [at_least(acc(f"acc_multiway_k{b}"), acc(f"acc_multiway_k{a}"), 0.01)
             for a, b in zip(CONTEXTS, CONTEXTS[1:], strict=False)]  # fmt: skip
    return all_of(greater(acc("acc_multiway_k15"), acc("acc_multiway_k5"), margin), *steps)


def _pm_3(d, margin):
    s = d[SWEEP]
    ran = [n for n in SWEEP_N if s.has(f"acc_n{n}_k5")]  # a profile may sweep fewer N
    large = [n for n in ran if n >= 10] or [max(ran)]
    best = [s.metric(f"acc_n{n}_k5") for n in large]
    label = f"{s.results.key}:max(acc_n{{{','.join(map(str, large))}}}_k5)"
    best = best[0].combine(label, lambda *v: max(v), *best[1:])
    return greater(best, s.metric("acc_n2_k5"), margin)


def _pm_4(d, margin):
    acc = d[SYNC].metric
    return all_of(
        greater(acc("words_acc_multiway"), acc("words_acc_syncnet"), margin),
        greater(acc("words_acc_multiway"), acc("words_acc_avenet"), margin),
        at_least(acc("words_acc_multiway"), acc("words_acc_e2e"), NEAR),
    )


CLAIMS = [
    Claim(
        "PM-1", PAPER, "Multi-way beats SyncNet (contrastive) and AVE-Net (binary) on sync "
        "accuracy at every context length.", CITE, (SYNC,), _pm_1, BEAT,
        f"{BEAT:.1%} at every K, {BEAT_NOTE}", ALL_SYNC_GATES, "results-sync-accuracy-lrs2-protocol",
    ),
    Claim(
        "PM-2", PAPER, "Accuracy rises with the number of frames in the context.", CITE, (SYNC,),
        _pm_2, RISE, f"K = 15 above K = 5 by {RISE:.1%}, {RISE_NOTE}; no step from one K to the "
        "next loses more than 1 point", (LEARNT["multiway"], COLLAPSE["multiway"],
                                           FLATTENED["multiway"]),
        "results-sync-accuracy-lrs2-protocol",
    ),
    Claim(
        "PM-3", PAPER, "Accuracy depends on N, with a best N well above 2 (sweep N).", CITE,
        (SWEEP,), _pm_3, N_MARGIN, f"the best of N = 10, 20, 40 beats N = 2 by {N_NOTE}",
        (SWEEP_LEARNT, SWEEP_FLAT), "results-the-number-of-candidates-n",
    ),
    Claim(
        "PM-4", PAPER, "Frozen multi-way embeddings give better word recognition than the "
        "baselines' embeddings, near an end-to-end model.", CITE, (SYNC,), _pm_4, WORDS,
        f"better: by {WORDS_NOTE}; near: {NEAR_NOTE}",
        (LEARNT["multiway"], LEARNT["syncnet"], LEARNT["avenet"], E2E_LEARNT),
        "results-word-recognition-lrw-analogue",
    ),
]  # fmt: skip
CLAIM_IDS = tuple(c.id for c in CLAIMS)


# --- tables ---------------------------------------------------------------------------------


def _sync_rows() -> list[Row]:
    rows = []
    for k in CONTEXTS:
        for s in OBJECTIVES:
            ref = None
            if s == "multiway" and k in (5, 15):
                ref = f"{PAPER}/sync-acc-{k}"
            elif s == "syncnet" and k == 5:
                ref = f"{PAPER}/prior-best-5"
            label = f"K = {k}: {NAMES[s]}" + (" (paper: the prior best)" if ref and s != "multiway"
                                               else "")  # fmt: skip
            rows.append(Row(label, ref, SYNC, f"acc_{s}_k{k}", "PM-1" if k in (5, 15) else None))
    return rows


TABLES: dict[str, list[Row]] = {
    "sync": _sync_rows(),
    "context": [
        Row(f"multi-way, K = {k}", f"{PAPER}/sync-acc-{k}" if k in (5, 15) else None, SYNC,
            f"acc_multiway_k{k}", "PM-2" if k in (5, 15) else None)
        for k in CONTEXTS
    ],
    "sweep": [
        *(Row(f"N = {n}, K = {k}", None, SWEEP, f"acc_n{n}_k{k}", "PM-3" if k == 5 else None)
          for n in SWEEP_N for k in (5, 15)),
        Row("best N (the sweep's argmax at K = 5)", f"{PAPER}/best-n", SWEEP, "best_n", "PM-3",
            1, 1),
    ],
    "words": [
        Row("frozen multi-way front-end + TC-5", f"{PAPER}/lrw-tc5", SYNC, "words_acc_multiway",
            "PM-4"),
        Row("frozen SyncNet front-end + TC-5", None, SYNC, "words_acc_syncnet", "PM-4"),
        Row("frozen AVE-Net front-end + TC-5", None, SYNC, "words_acc_avenet", "PM-4"),
        Row("frozen random front-end + TC-5 (floor)", None, SYNC, "words_acc_random"),
        Row("end to end (same network)", None, SYNC, "words_acc_e2e", "PM-4"),
    ],
    "shifted": [
        Row(f"{NAMES[s]}, {fps}", None, SYNC, f"shifted_acc_{fps.split()[0]}_{s}")
        for s in OBJECTIVES for fps in ("25fps", "30fps (re-encoded, 44.1 kHz)")
    ],
    "collapse": [
        Row(f"{NAMES[s]}: answers at the edge of the search (K = 5)", None, SYNC,
            f"edge_fraction_{s}")
        for s in OBJECTIVES
    ],
}  # fmt: skip
HEADLINES = {  # glue name -> (experiment, metric[, scale, digits, unit])
    **{f"pm_{s}_k{k}": (SYNC, f"acc_{s}_k{k}") for s in OBJECTIVES for k in (5, 15)},
    "pm_shifted_25": (SYNC, "shifted_acc_25fps_multiway"),
    "pm_shifted_30": (SYNC, "shifted_acc_30fps_multiway"),
    "pm_words_multiway": (SYNC, "words_acc_multiway"),
    "pm_words_syncnet": (SYNC, "words_acc_syncnet"),
    "pm_words_avenet": (SYNC, "words_acc_avenet"),
    "pm_words_random": (SYNC, "words_acc_random"),
    "pm_words_e2e": (SYNC, "words_acc_e2e"),
    "pm_gain_multiway": (SYNC, "val_gain_multiway"),
    "pm_edge_multiway": (SYNC, "edge_fraction_multiway"),
    "pm_sweep_n2": (SWEEP, "acc_n2_k5"),
    "pm_sweep_n40": (SWEEP, "acc_n40_k5"),
    "pm_best_n": (SWEEP, "best_n", 1.0, 0, ""),
    "pm_test_clips": (SYNC, "test_clips", 1.0, 0, ""),
}
TRAINING_RUNS = {  # figure title -> (experiment, run name)
    "multi-way (N = 40)": (SYNC, "multiway"),
    "SyncNet pairs": (SYNC, "syncnet"),
    "AVE-Net pairs": (SYNC, "avenet"),
    "words: frozen multi-way + TC-5": (SYNC, "words-multiway"),
    "words: end to end": (SYNC, "words-e2e"),
}
SWEEP_RUNS = {f"multi-way, N = {n}": (SWEEP, f"n{n}") for n in SWEEP_N}


# --- readings -----------------------------------------------------------------------------------


def best_n_reading(sel: Selection) -> str:
    """Which N won the sweep for each seed, in words."""
    seeds = sel.load(SWEEP)
    if not seeds.records or not seeds.has("best_n"):
        return "no sweep results yet"
    best = [int(b) for b in seeds.values("best_n")]
    per_seed = ", ".join(f"N = {b} (seed {s})" for s, b in zip(seeds.seeds, best, strict=True))
    return f"the best N at K = 5 was {per_seed}"


def ceiling_reading(sel: Selection, k: int = 15, ceiling: float = 0.97) -> str:
    """Whether the objectives all sit near 100 % at context K (no room left for a gap)."""
    seeds = sel.load(SYNC)
    if not seeds.records:
        return "no results yet"
    try:
        means = {s: float(np.mean(seeds.values(f"acc_{s}_k{k}"))) for s in OBJECTIVES}
    except ResultsError:
        return "not measured"
    if min(means.values()) >= ceiling:
        return (f"every objective is at or above {ceiling:.0%} at K = {k}, so a gap of the "
                "paper's size cannot show there")  # fmt: skip
    return f"the objectives still differ at K = {k} (lowest {min(means.values()):.1%})"


# --- figures only this chapter draws -------------------------------------------------------------


def _summary(sel: Selection, key: str, metric: str):
    seeds = sel.load(key)
    if not seeds.records or not seeds.has(metric):
        return None
    return mean_ci(seeds.values(metric), sel.confidence)


def _errorbar(ax, x, summaries, **kw):
    keep = [(xi, s) for xi, s in zip(x, summaries, strict=True) if s is not None]
    if not keep:
        return
    xs, ss = zip(*keep, strict=True)
    mean = np.array([s.mean for s in ss]) * 100
    err = np.array([[s.mean - s.ci_low, s.ci_high - s.mean] for s in ss]).T * 100
    ax.errorbar(xs, mean, yerr=np.nan_to_num(err), capsize=3, marker="o", **kw)


def accuracy_vs_context(sel: Selection) -> Figure:
    """Sync accuracy vs context K per objective (mean and CI over seeds), the paper's points."""
    fig = Figure(figsize=(6.4, 3.8))
    ax = fig.add_subplot()
    for colour, s in zip(palette(3), OBJECTIVES, strict=True):
        _errorbar(ax, CONTEXTS, [_summary(sel, SYNC, f"acc_{s}_k{k}") for k in CONTEXTS],
                  color=colour, label=f"ours: {NAMES[s]}")  # fmt: skip
    ax.plot([5, 15], [REFS["sync-acc-5"].value, REFS["sync-acc-15"].value], "s--",
            color=PAPER_COLOUR, label="paper: multi-way")  # fmt: skip
    ax.plot([5], [REFS["prior-best-5"].value], "^", color=PAPER_COLOUR, label="paper: prior best")
    ax.axhline(100 * CHANCE, color=PAPER_COLOUR, lw=0.8, ls=":", label="chance (±1 of 31)")
    ax.set(xlabel="context K (frames)", ylabel="sync accuracy (%)", xticks=CONTEXTS)
    ax.legend(frameon=False, fontsize="small")
    fig.tight_layout()
    return fig


def accuracy_vs_n(sel: Selection) -> Figure:
    """Multi-way sync accuracy vs the number of candidates N, the paper's best N marked."""
    fig = Figure(figsize=(6.4, 3.6))
    ax = fig.add_subplot()
    for colour, k in zip(palette(2), (5, 15), strict=True):
        _errorbar(ax, SWEEP_N, [_summary(sel, SWEEP, f"acc_n{n}_k{k}") for n in SWEEP_N],
                  color=colour, label=f"ours, K = {k}")  # fmt: skip
    ax.axvline(REFS["best-n"].value, color=PAPER_COLOUR, ls="--", label="paper's best N (40)")
    ax.set_xscale("log")
    ax.set(xlabel="candidates N", ylabel="sync accuracy (%)", xticks=SWEEP_N)
    ax.set_xticklabels([str(n) for n in SWEEP_N])
    ax.legend(frameon=False, fontsize="small")
    fig.tight_layout()
    return fig


def distance_curves(arrays: dict, max_offset: int = 15) -> Figure:
    """Mean distance vs offset over the test windows (K = 15), standardised per objective: the
    minimum should sit at the true offset, 0."""
    fig = Figure(figsize=(6.4, 3.6))
    ax = fig.add_subplot()
    x = np.arange(-max_offset, max_offset + 1)
    for colour, s in zip(palette(3), OBJECTIVES, strict=True):
        if f"curve_{s}" in arrays:
            c = np.asarray(arrays[f"curve_{s}"], float)
            ax.plot(x, (c - c.mean()) / (c.std() or 1.0), color=colour, label=NAMES[s])
    ax.axvline(0, color=PAPER_COLOUR, lw=0.8, ls=":", label="true offset")
    ax.set(xlabel="offset (frames; positive: audio late)", ylabel="mean distance (z-score)")
    ax.legend(frameon=False, fontsize="small")
    fig.tight_layout()
    return fig


def confidence_histograms(arrays: dict) -> Figure:
    """Confidence (median - min distance, K = 15) of correct and wrong predictions, per objective."""
    fig = Figure(figsize=(7.5, 2.8))
    axes = fig.subplots(1, 3)
    for ax, s in zip(axes, OBJECTIVES, strict=True):
        if f"confidence_{s}" not in arrays:
            continue
        conf, ok = np.asarray(arrays[f"confidence_{s}"]), np.asarray(arrays[f"correct_{s}"], bool)
        bins = np.linspace(0, max(conf.max(), 1e-6), 25)
        ax.hist(conf[ok], bins, color=OURS_COLOUR, alpha=0.7, label="correct")
        ax.hist(conf[~ok], bins, color=PAPER_COLOUR, alpha=0.7, label="wrong")
        ax.set(title=s, xlabel="confidence")
    axes[0].set_ylabel("test windows")
    axes[0].legend(frameon=False, fontsize="small")
    fig.tight_layout()
    return fig


def speaker_accuracy(sel: Selection) -> Figure:
    """K = 5 accuracy per test speaker and objective (mean over seeds)."""
    seeds = sel.load(SYNC)
    per = {s: {} for s in OBJECTIVES}
    for rec in seeds.records:
        for s in OBJECTIVES:
            for spk, acc in rec.get("speaker_accuracy", {}).get(s, {}).items():
                per[s].setdefault(spk, []).append(acc)
    speakers = sorted({spk for d in per.values() for spk in d})
    fig = Figure(figsize=(6.4, 3.4))
    ax = fig.add_subplot()
    x = np.arange(len(speakers))
    for i, (colour, s) in enumerate(zip(palette(3), OBJECTIVES, strict=True)):
        values = [100 * np.mean(per[s].get(spk, [np.nan])) for spk in speakers]
        ax.bar(x + (i - 1) * 0.27, values, 0.27, color=colour, label=s)
    ax.set_xticks(x, speakers, rotation=45, ha="right", fontsize="small")
    ax.set(ylabel="sync accuracy, K = 5 (%)", xlabel="test speaker")
    ax.legend(frameon=False, fontsize="small")
    fig.tight_layout()
    return fig


def shifted_figure(arrays: dict, objective: str = "multiway") -> Figure:
    """Predicted vs true offset on the sync test sets (25 fps, and re-encoded at 30 fps)."""
    fig = Figure(figsize=(7.0, 3.4))
    axes = fig.subplots(1, 2, sharey=True)
    for ax, fps in zip(axes, ("25fps", "30fps"), strict=True):
        rows = np.asarray(arrays.get(f"shifted_{fps}_{objective}", np.zeros((0, 2))))
        if len(rows):
            jitter = np.random.default_rng(0).uniform(-0.2, 0.2, len(rows))
            ax.scatter(rows[:, 0] + jitter, rows[:, 1], s=12, color=OURS_COLOUR)
            lo, hi = rows.min() - 1, rows.max() + 1
            ax.fill_between([lo, hi], [lo - 1, hi - 1], [lo + 1, hi + 1], color=PAPER_COLOUR,
                            alpha=0.2, label="±1 frame")  # fmt: skip
        ax.set(title=fps.replace("fps", " fps"), xlabel="true offset (frames)")
    axes[0].set_ylabel("predicted offset (frames)")
    axes[0].legend(frameon=False, fontsize="small")
    fig.tight_layout()
    return fig
