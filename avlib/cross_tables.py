"""The scorecard's cross-paper tables: one method per row, one task per column, ours vs the paper.

:data:`CROSS_TABLES` names each table with what it compares and the protocol
every row shares; a chapter module declares its rows in ``CROSS = {table:
[CrossRow, ...]}`` and :func:`cross_rows` gathers them from every merged
chapter, :func:`cross_frame` fills in our numbers (from a
:class:`~avlib.results.Selection`, formatted like the scorecard's) and the
paper's, and :func:`cross_table_html` renders the table for
``notebooks/06_scorecard.ipynb``.
"""

from __future__ import annotations

import pandas as pd

from avlib import chapters
from avlib.claims import CrossRow, references
from avlib.errors import ConfigError
from avlib.results import Selection
from avlib.scorecard import NONE, _e, _headline

CROSS_TABLES = {  # name -> (what it compares, the protocol every row shares)
    "audio-probes": (
        "Frozen audio features on the environmental-sound and scene benchmarks",
        "each method's features (or MFCCs) of the world's ESC-50, ESC-10 and DCASE 2013 "
        "analogues, a linear SVM on the data set's own folds",
    ),
    "sync": (
        "Audio-visual synchronisation on one talking-face test set",
        "accuracy of the predicted offset on the LRS2 analogue's test split (the offsets and "
        "clips fixed for every model)",
    ),
}


def cross_rows(table: str) -> list[tuple[str, CrossRow]]:
    """(chapter, row) of every chapter module that declares rows for ``table``."""
    if table not in CROSS_TABLES:
        raise ConfigError(f"unknown cross-paper table {table!r}: one of {', '.join(CROSS_TABLES)}")
    out = []
    for paper, module in chapters.modules().items():
        declared = getattr(module, "CROSS", {})
        unknown = set(declared) - set(CROSS_TABLES)
        if unknown:
            raise ConfigError(
                f"avlib/chapters/{paper}.py: CROSS names unknown tables {', '.join(sorted(unknown))}"
                f" (known: {', '.join(CROSS_TABLES)})"
            )
        out += [(paper, row) for row in declared.get(table, [])]
    return out


def cross_frame(table: str, sel: Selection) -> pd.DataFrame:
    """One cross-paper table, flat: method, chapter, task, paper, ours (for tests and CSV)."""
    refs, mods = references(), chapters.modules()
    lines = []
    for paper, row in cross_rows(table):
        ours, _ = (
            _headline(
                sel, (row.result, row.key, row.scale, row.digits, "%" if row.scale == 100 else "")
            )
            if row.result
            else (NONE, None)
        )
        lines.append(
            {
                "method": row.method,
                "chapter": getattr(mods[paper], "TITLE", paper),
                "notebook": getattr(mods[paper], "NOTEBOOK", None),
                "task": row.task,
                "paper": refs[row.reference].format() if row.reference else NONE,
                "ours": ours,
            }
        )
    return pd.DataFrame(lines, columns=["method", "chapter", "notebook", "task", "paper", "ours"])


def cross_table_html(table: str, sel: Selection, link_prefix: str = "") -> str:
    """A cross-paper table: one row per method, one column per task, each cell ours over the
    paper's number; a sentence instead when no merged chapter has declared rows yet."""
    title, protocol = CROSS_TABLES[table]
    frame = cross_frame(table, sel)
    if frame.empty:
        return (
            f'<p class="avb-empty"><strong>{_e(title)}</strong>: no merged chapter declares '
            "rows for this table yet; they appear here when the chapters that measure it are "
            "merged.</p>"
        )
    tasks = list(dict.fromkeys(frame["task"]))
    head = "".join(f"<th>{_e(c)}</th>" for c in ("method", "chapter", *tasks))
    rows = []
    for (method, chapter, notebook), group in frame.groupby(
        ["method", "chapter", "notebook"], sort=False, dropna=False
    ):
        cells = {r.task: r for r in group.itertuples()}
        link = (
            f'<a href="{_e(link_prefix)}{_e(notebook)}.html">{_e(chapter)}</a>'
            if isinstance(notebook, str)
            else _e(chapter)
        )
        tds = [
            f'<td data-label="method">{_e(method)}</td>',
            f'<td data-label="chapter">{link}</td>',
        ]
        for task in tasks:
            r = cells.get(task)
            text = (
                NONE
                if r is None
                else f"{_e(r.ours)}<br><small>paper: {_e(r.paper)}</small>"
                if r.paper != NONE
                else _e(r.ours)
            )
            tds.append(f'<td data-label="{_e(task)}">{text}</td>')
        rows.append(f"<tr>{''.join(tds)}</tr>")
    return (
        f'<p class="avb-caption"><strong>{_e(title)}</strong>: {_e(protocol)}. Ours: mean ± '
        "95 % CI over seeds; paper: the number that paper reports on the real data set.</p>"
        f'<div class="avb-scroll"><table class="avb-table avb-cross"><thead><tr>{head}</tr>'
        f"</thead><tbody>{''.join(rows)}</tbody></table></div>"
    )
