"""What a chapter notebook calls: run experiments over seeds, then tables, summaries and figures.

Notebooks stay thin (STYLE rule 7): each cell is one call into this module (or
:mod:`avlib.claims`), a table or figure, and a ``glue``. Everything here reads
results files, so a chapter re-renders from results alone.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from pandas.io.formats.style import Styler
from tqdm.auto import tqdm

from avlib import experiments
from avlib.claims import CLAIMS, VERDICTS, results_table, scorecard
from avlib.errors import ResultsError
from avlib.figures import OURS_COLOUR, PAPER_COLOUR, draw_boxes, palette
from avlib.models import get_config
from avlib.profiles import results_root
from avlib.results import load_arrays, load_result, load_seeds, mean_ci


def run_experiments(
    names: Sequence[str],
    profile: str,
    seeds: Sequence[int],
    device: str = "auto",
    results_dir=None,
    data_root=None,
) -> pd.DataFrame:
    """Run every experiment for every seed (results files written); one row per run with its time."""
    rows = []
    runs = [(name, seed) for name in names for seed in seeds]
    for name, seed in tqdm(runs, desc="experiments", unit="run"):
        start = time.perf_counter()
        path = experiments.run(
            name, profile, seed, device, results_dir, data_root=data_root, progress=False
        )
        flags = load_result(path).get("flags", []) if path is not None else []
        rows.append((name, seed, round(time.perf_counter() - start, 1), ", ".join(flags) or "-"))
    return pd.DataFrame(rows, columns=["experiment", "seed", "seconds", "flags"])


def summary(
    key: str, metric: str, profile: str, results_dir=None, scale=100.0, digits=1, unit="%"
) -> str:
    """'66.7 ± 2.1 % (3 seeds)' for ``metric`` of experiment ``key`` ('paper/experiment')."""
    seeds = load_seeds(profile, *key.split("/", 1), results_dir)
    if not seeds.records:
        return "no results yet"
    return mean_ci(seeds.values(metric)).format(scale, digits, unit)


def table(df: pd.DataFrame) -> Styler:
    """A DataFrame as the book shows tables: no index column, left-aligned, nothing truncated."""
    return (
        df.style.hide(axis="index")
        .set_properties(**{"text-align": "left", "white-space": "normal"})
        .set_table_styles([{"selector": "th", "props": [("text-align", "left")]}])
        .format(precision=3)
    )


def paper_table(rows, profile: str, results_dir=None) -> Styler:
    """A chapter's 'metric | paper | ours | profile | verdict' table, styled for the book."""
    return table(results_table(rows, profile, results_dir))


def headline_numbers(headlines: dict, profile: str, results_dir=None) -> dict[str, str]:
    """{glue name: '66.7 ± 2.1 % (3 seeds)'} for a chapter's {name: (experiment, metric[, scale, digits, unit])}.

    A metric the runs did not record (e.g. a world-only measurement on real data) reads
    'not measured'.
    """
    out = {}
    for name, (key, metric, *fmt) in headlines.items():
        try:
            out[name] = summary(key, metric, profile, results_dir, *fmt)
        except ResultsError:
            out[name] = "not measured"
    return out


def claims_table(ids: Sequence[str], profile: str, results_dir=None) -> Styler:
    """The verdict of each claim in ``ids`` with its evidence."""
    return table(scorecard(profile, results_dir, claims={i: CLAIMS[i] for i in ids}))


def verdict_counts(profile: str, results_dir=None) -> pd.Series:
    """How many claims have each verdict (every verdict listed, zeros included)."""
    verdicts = scorecard(profile, results_dir)["verdict"]
    return verdicts.value_counts().reindex(list(VERDICTS), fill_value=0)


def scorecard_table(profile: str, results_dir=None) -> Styler:
    """Every claim: paper, statement, verdict, evidence (the book's scorecard)."""
    return table(scorecard(profile, results_dir))


def claim_statements(ids: Sequence[str]) -> Styler:
    """The claims in ``ids`` as PAPERS.md states them (no verdicts)."""
    return table(
        pd.DataFrame([(i, CLAIMS[i].statement) for i in ids], columns=["claim", "statement"])
    )


def dataclass_table(obj) -> Styler:
    """A dataclass instance as a two-column table (setting, value)."""
    rows = [(f.name, str(getattr(obj, f.name))) for f in dataclasses.fields(obj)]
    return table(pd.DataFrame(rows, columns=["setting", "value"]))


def verdict(claim_id: str, profile: str, results_dir=None) -> str:
    """The computed verdict of one claim."""
    return CLAIMS[claim_id].evaluate(profile, results_dir).verdict


def config_table(model: str, profile: str, fields: Sequence[str] | None = None) -> Styler:
    """The paper's Config beside the profile's (what the preset changed is what differs)."""
    paper, ours = get_config(model, "paper"), get_config(model, profile)
    names = fields or [f.name for f in dataclasses.fields(paper)]
    rows = [(n, getattr(paper, n), getattr(ours, n)) for n in names]
    return table(pd.DataFrame(rows, columns=["setting", "paper", profile]).astype(str))


def figure_dir(profile: str, paper: str, results_dir=None) -> Path:
    """Where a chapter's figures are saved (beside its results)."""
    return results_root(results_dir) / profile / paper / "figures"


def arrays(key: str, profile: str, seed: int, results_dir=None) -> dict:
    """The arrays an experiment saved for one seed (embeddings, maps, ...)."""
    paper, experiment = key.split("/", 1)
    return load_arrays(results_root(results_dir) / profile / paper / experiment / f"seed{seed}.npz")


def record(key: str, profile: str, seed: int, results_dir=None) -> dict:
    """One seed's results record (metrics, config, extra)."""
    seeds = load_seeds(profile, *key.split("/", 1), results_dir)
    return seeds.records[seeds.seeds.index(seed)]


def paired_bars(
    key: str,
    metrics: Sequence[str],
    baselines: Sequence[str],
    labels: Sequence[str],
    profile: str,
    results_dir=None,
    title: str = "",
    ylabel: str = "accuracy (%)",
) -> Figure:
    """Ours vs a baseline for several metrics: bars of the mean over seeds, a dot per seed."""
    seeds = load_seeds(profile, *key.split("/", 1), results_dir)
    fig = Figure(figsize=(6.4, 3.6))
    ax = fig.add_subplot()
    x = np.arange(len(metrics))
    for offset, names, colour, name in (
        (-0.2, metrics, OURS_COLOUR, "trained"),
        (0.2, baselines, PAPER_COLOUR, "random init"),
    ):
        values = np.array([seeds.values(m) for m in names]) * 100  # (metrics, seeds)
        ax.bar(x + offset, values.mean(axis=1), 0.38, color=colour, label=name, alpha=0.85)
        for i, row in enumerate(values):
            ax.scatter(np.full(len(row), x[i] + offset), row, color="black", s=8, zorder=3)
    ax.set_xticks(x, labels)
    ax.set(ylabel=ylabel, title=title)
    ax.legend(frameon=False)
    return fig


def loss_curves(key: str, run: str, profile: str, results_dir=None, title: str = "") -> Figure:
    """Training loss against step for every seed of one training run of an experiment."""
    seeds = load_seeds(profile, *key.split("/", 1), results_dir)
    fig = Figure(figsize=(6.4, 3.4))
    ax = fig.add_subplot()
    for colour, seed, rec in zip(
        palette(len(seeds.seeds)), seeds.seeds, seeds.records, strict=True
    ):
        steps = rec["steps"][run] if run else rec["steps"]
        ax.plot(
            [s["step"] for s in steps],
            [s["loss"] for s in steps],
            color=colour,
            label=f"seed {seed}",
            alpha=0.8,
        )
    ax.axhline(np.log(2), color=PAPER_COLOUR, ls="--", lw=1, label="chance (ln 2)")
    ax.set(xlabel="step", ylabel="training loss", title=title)
    ax.legend(frameon=False, fontsize="small")
    return fig


def localisation_grid(data: dict, title: str = "", columns: int = 4) -> Figure:
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
