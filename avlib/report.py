"""What every chapter notebook calls: run experiments, then tables, numbers and common figures.

Notebooks stay thin (STYLE rule 7): each cell is one call into this module, its
chapter module (``avlib.chapters.<paper>``) or :mod:`avlib.claims`, a table or
figure, and a ``glue``. Everything here reads results through a
:class:`~avlib.results.Selection` (:func:`selection`): the seeds asked for,
written with the current config on the same data, so a chapter re-renders from
results alone and never averages in a stale or foreign file. Anything that
only one paper uses belongs in its chapter module, not here.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from pandas.io.formats.style import Styler

from avlib import experiments, progress, runpool
from avlib.claims import COLUMNS, VERDICTS, claims, format_ours, results_table, scorecard
from avlib.errors import ConfigError
from avlib.figures import OURS_COLOUR, PAPER_COLOUR, palette, save_figure
from avlib.models import get_config
from avlib.notebooks import FIGURE_METADATA
from avlib.profiles import results_root
from avlib.results import Selection, load_arrays, load_result


def selection(
    profile: str,
    seeds=None,
    data_root=None,
    results_dir=None,
    confidence: float = 0.95,
    match_data: bool = True,
) -> Selection:
    """The results this notebook run reads (see :func:`avlib.experiments.selection`)."""
    return experiments.selection(profile, seeds, data_root, results_dir, confidence, match_data)


def run_experiments(
    names: Sequence[str],
    profile: str,
    seeds: Sequence[int],
    device: str = "auto",
    results_dir=None,
    data_root=None,
) -> pd.DataFrame:
    """Run every experiment for every seed (results files written); one row per run with its time.

    On a CPU the runs (beyond ``smoke``) go side by side, one process and one thread each, as
    many at once as there are cores (:mod:`avlib.runpool`; ``AVBOOK_WORKERS=1`` runs them one at a time in
    this process). With the environment variable ``AVBOOK_REUSE_RESULTS=1`` a seed whose
    results file was written with the current config on the same data (e.g. by ``torchrun ...
    avlib train`` on several GPUs) is read instead of run again; its row says "reused".
    ``attrs["wall_s"]`` is the wall time of them all (the "seconds" of runs side by side add up
    to more).
    """
    from avlib.profiles import resolve_device

    started = time.perf_counter()
    rows, todo = {}, []
    runs = [(name, seed) for name in names for seed in seeds]
    reuse = os.environ.get("AVBOOK_REUSE_RESULTS") == "1"
    sel = selection(profile, seeds, data_root, results_dir) if reuse else None
    for name, seed in runs:
        done = sel.load(f"{experiments.get(name).paper}/{name}") if sel else None
        done = [p for p in done.paths if p.stem == f"seed{seed}"] if done else []
        if done:
            rows[name, seed] = (0.0, f"reused {done[0].name} (AVBOOK_REUSE_RESULTS=1)")
        else:
            todo.append((name, seed))
    device = resolve_device(device)
    workers = runpool.cpu_workers(device, len(todo), profile)
    if workers > 1:
        finished = runpool.run_parallel(todo, profile, workers, results_dir, data_root)
    else:
        finished = []
        for name, seed in progress.bar(todo, desc="experiments", unit="run"):
            start = time.perf_counter()
            path = experiments.run(
                name, profile, seed, device, results_dir, data_root=data_root, progress=False
            )
            finished.append((name, seed, round(time.perf_counter() - start, 1), path))
    for name, seed, seconds, path in finished:
        flags = load_result(path).get("flags", []) if path is not None else []
        rows[name, seed] = (seconds, ", ".join(flags) or "-")
    table = [(name, seed, *rows[name, seed]) for name, seed in runs]
    df = pd.DataFrame(table, columns=["experiment", "seed", "seconds", "flags"])
    df.attrs["wall_s"] = time.perf_counter() - started  # runs side by side: less than the sum
    return df


def table(df: pd.DataFrame) -> Styler:
    """A DataFrame as the book shows tables: no index column, left-aligned, nothing truncated."""
    return (
        df.style.hide(axis="index")
        .set_properties(**{"text-align": "left", "white-space": "normal"})
        .set_table_styles([{"selector": "th", "props": [("text-align", "left")]}])
        .format(precision=3)
    )


def full_selection(sel: Selection) -> Selection | None:
    """The committed ``full``-profile results of the same results tree (any data: full runs are
    made on another machine), or None when ``sel`` is the full profile itself."""
    if sel.profile == "full":
        return None
    return experiments.selection("full", None, None, sel.results_dir, sel.confidence, False)


def _has_results(sel: Selection | None, keys) -> bool:
    return sel is not None and any(sel.load(k).records for k in keys if k)


def paper_table(rows, sel: Selection) -> Styler:
    """A chapter's 'metric | paper | ours | verdict' table, styled for the book; when committed
    ``full`` results exist for its experiments, their column stands beside ours."""
    df = results_table(rows, sel)
    full = full_selection(sel)
    if _has_results(full, {r.result for r in rows}):
        df.insert(3, "ours at full (GPU)", results_table(rows, full)[COLUMNS[2]])
        df = df.rename(columns={COLUMNS[2]: f"ours at {sel.profile}"})
    return table(df)


def headline_numbers(headlines: dict, sel: Selection) -> dict[str, str]:
    """{glue name: '66.7 ± 2.1 % (3 seeds)'} for a chapter's {name: (experiment, metric[, scale,
    digits, unit])}; a metric the runs did not record reads 'not measured'."""
    out = {}
    for name, (key, metric, *fmt) in headlines.items():
        scale, digits, unit = fmt + [100.0, 1, "%"][len(fmt) :]
        out[name] = format_ours(sel, key, metric, scale, digits, unit)
    return out


def claims_table(ids: Sequence[str], sel: Selection) -> Styler:
    """The verdict of each claim in ``ids``, the gates it rests on, its evidence and margin."""
    known = claims()
    return table(scorecard(sel, {i: known[i] for i in ids}))


def verdict_counts(sel: Selection) -> pd.Series:
    """How many claims have each verdict (every verdict listed, zeros included)."""
    verdicts = scorecard(sel)["verdict"].str.split(" ").str[0].replace({"not": "not reproduced"})
    verdicts = verdicts.replace({"no": "no results yet"})
    return verdicts.value_counts().reindex(list(VERDICTS), fill_value=0)


def scorecard_table(sel: Selection) -> Styler:
    """Every claim: paper, statement, verdict, gates, evidence (the book's scorecard)."""
    return table(scorecard(sel))


def claim_statements(ids: Sequence[str]) -> Styler:
    """The claims in ``ids`` as PAPERS.md states them, with the margin each is tested at."""
    known = claims()
    rows = [(i, known[i].statement, known[i].margin_note) for i in ids]
    return table(pd.DataFrame(rows, columns=["claim", "statement", "margin (from the paper)"]))


def verdict(claim_id: str, sel: Selection) -> str:
    """The computed verdict of one claim, as the book prints it."""
    return claims()[claim_id].evaluate(sel).label


def dataclass_table(obj) -> Styler:
    """A dataclass instance as a two-column table (setting, value)."""
    rows = [(f.name, str(getattr(obj, f.name))) for f in dataclasses.fields(obj)]
    return table(pd.DataFrame(rows, columns=["setting", "value"]))


def config_table(model: str, profile: str, fields: Sequence[str] | None = None) -> Styler:
    """The paper's Config beside the profile's (what the preset changed is what differs)."""
    paper, ours = get_config(model, "paper"), get_config(model, profile)
    names = fields or [f.name for f in dataclasses.fields(paper)]
    rows = [(n, getattr(paper, n), getattr(ours, n)) for n in names]
    return table(pd.DataFrame(rows, columns=["setting", "paper", profile]).astype(str))


def _data_text(data: dict) -> str:
    if data.get("source") == "world":
        return f"world {data.get('preset')} (digest {str(data.get('digest'))[:10]})"
    if data.get("source") == "data_root":
        return f"real data: {data.get('root', '?')}"
    return "no data read"


def _items_text(data: dict) -> str:
    sets = data.get("datasets", {})
    return "; ".join(f"{name} {d.get('items', '?')}" for name, d in sets.items()) or "-"


def provenance_table(keys: Sequence[str], sel: Selection) -> Styler:
    """Where every number of a chapter comes from: per run its profile, seed, data (the world's
    preset and digest, or the real data set's root), items read per data set, files skipped,
    git sha, device and wall time; files left out are counted, and committed ``full`` runs of
    the same experiments are listed below the chapter's own."""
    rows = []
    for s in (sel, full_selection(sel)):
        if s is None or (s is not sel and not _has_results(s, keys)):
            continue
        for key in keys:
            seeds = s.load(key)
            for rec in seeds.records:
                prov, data = rec["provenance"], rec.get("data", {})
                skipped = sum(len(d.get("skipped", [])) for d in data.get("datasets", {}).values())
                rows.append(
                    (key, prov.get("profile", s.profile), prov["seed"], _data_text(data),
                     _items_text(data), skipped, prov["git_sha"][:12], prov["device"],
                     f"{prov['wall_time_s']:.0f}")
                )  # fmt: skip
            if seeds.ignored and s is sel:
                rows.append((key, s.profile, "-", f"{len(seeds.ignored)} older or foreign "
                             "results files ignored", "", "", "", "", ""))  # fmt: skip
    columns = ["experiment", "profile", "seed", "data", "items read", "files skipped", "git sha",
               "device", "seconds"]  # fmt: skip
    return table(pd.DataFrame(rows, columns=columns))


def figure(fig: Figure, name: str, fig_dir: Path, caption: str, alt: str) -> None:
    """Save ``fig`` (PNG + SVG in ``fig_dir``) and show it; the book renders it as a figure with
    ``caption`` and ``alt`` text (one figure per cell: the caption applies to the cell's output)."""
    from IPython.display import display

    if not caption.strip() or not alt.strip():
        raise ConfigError(f"figure {name!r}: give a caption and an alt text")
    save_figure(fig, name, fig_dir)
    display(fig, metadata={FIGURE_METADATA: {"caption": caption, "alt": alt}})


def figure_dir(sel: Selection, paper: str) -> Path:
    """Where a chapter's figures are saved (beside its results)."""
    return results_root(sel.results_dir) / sel.profile / paper / "figures"


def record(key: str, sel: Selection, seed: int) -> dict:
    """One selected seed's results record (metrics, config, extra)."""
    seeds = sel.load(key)
    return seeds.records[seeds.seeds.index(seed)]


def arrays(key: str, sel: Selection, seed: int) -> dict:
    """The arrays an experiment saved for one selected seed (embeddings, maps, ...)."""
    seeds = sel.load(key)
    return load_arrays(seeds.paths[seeds.seeds.index(seed)].with_suffix(".npz"))


def paired_bars(
    key: str,
    metrics: Sequence[str],
    baselines: Sequence[str],
    labels: Sequence[str],
    sel: Selection,
    title: str = "",
    ylabel: str = "accuracy (%)",
    names: tuple[str, str] = ("trained", "random init"),
) -> Figure:
    """Ours vs a baseline for several metrics: bars of the mean over seeds, a dot per seed."""
    seeds = sel.load(key)
    fig = Figure(figsize=(6.4, 3.6))
    ax = fig.add_subplot()
    x = np.arange(len(metrics))
    for offset, keys, colour, name in (
        (-0.2, metrics, OURS_COLOUR, names[0]),
        (0.2, baselines, PAPER_COLOUR, names[1]),
    ):
        values = np.array([seeds.values(m) for m in keys]) * 100  # (metrics, seeds)
        ax.bar(x + offset, values.mean(axis=1), 0.38, color=colour, label=name, alpha=0.85)
        for i, row in enumerate(values):
            ax.scatter(np.full(len(row), x[i] + offset), row, color="black", s=8, zorder=3)
    ax.set_xticks(x, labels)
    ax.set(ylabel=ylabel, title=title)
    ax.legend(frameon=False)
    return fig


def learning_curves(runs: dict[str, tuple[str, str]], sel: Selection) -> Figure:
    """Per training run: training loss (with its chance level) and held-out accuracy per epoch,
    one line per seed; ``runs`` maps a panel title to (experiment, run name)."""
    fig = Figure(figsize=(6.4, 2.4 * len(runs)))
    axes = fig.subplots(len(runs), 2, squeeze=False)
    for (title, (key, run)), (ax_loss, ax_acc) in zip(runs.items(), axes, strict=True):
        seeds, chance = sel.load(key), []
        for colour, seed, rec in zip(palette(max(len(seeds.seeds), 1)), seeds.seeds, seeds.records,
                                     strict=False):  # fmt: skip
            history = rec["history"][run] if isinstance(rec["history"], dict) else rec["history"]
            steps = [h["step"] for h in history]
            ax_loss.plot(steps, [h["loss"] for h in history], color=colour, label=f"seed {seed}")
            if any("val_acc" in h for h in history):
                acc = [100 * h["val_acc"] for h in history if "val_acc" in h]
                ax_acc.plot(steps[-len(acc) :], acc, color=colour, label=f"seed {seed}")
            chance += [h["chance_loss"] for h in history if "chance_loss" in h]
        if chance:
            ax_loss.axhline(chance[-1], color=PAPER_COLOUR, ls="--", lw=1, label="chance")
        ax_loss.set(title=f"{title}: training loss", xlabel="step")
        ax_acc.set(title="held-out accuracy (%)", xlabel="step")
        if seeds.seeds:
            ax_acc.legend(frameon=False, fontsize="small")
    fig.tight_layout()
    return fig


def gate_summary(ids: Sequence[str], sel: Selection) -> str:
    """One sentence on the gates of claims ``ids``: which failed (and so which verdicts are
    'inconclusive (under-trained)'), or that every gate passed."""
    known = claims()
    failed: dict[str, list[str]] = {}
    for i in ids:
        for g in known[i].evaluate(sel).gates:
            if not g.holds:
                failed.setdefault(g.name, []).append(i)
    if not failed:
        return "every gate passed, so each verdict reads the comparison itself"
    parts = [f"{gate} (so {', '.join(c)} stay inconclusive)" for gate, c in failed.items()]
    return "these gates failed: " + "; ".join(parts)
