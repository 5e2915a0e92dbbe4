"""The scorecard: every claim of the five papers on one page.

What the front page and ``notebooks/06_scorecard.ipynb`` show, computed from the
results files through a :class:`~avlib.results.Selection`, generic over the
chapter modules (a merged chapter's claims appear here without a change to
this file); the cross-paper tables beside it are :mod:`avlib.cross_tables`:

- :func:`score` gives one :class:`Score` per claim: the paper, the claim in its
  words, the paper's numbers (the claim's ``references``), ours (its
  ``headline``: mean ± 95 % CI over seeds), the gates it rests on, the verdict,
  the raw comparison and the section that produced it;
- :func:`scorecard_html` renders them with verdict badges (text and symbol as
  well as colour, in the Okabe-Ito colour-blind-safe hues; inline styles, so
  they need no stylesheet, script or network) and the comparison behind a
  ``<details>`` toggle; :func:`scorecard_csv` is the same table for download;
- :func:`summary_figure`: claims by paper and verdict.
"""

from __future__ import annotations

import base64
import html
import io
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from avlib import chapters
from avlib.claims import Claim, ClaimResult, claims, references
from avlib.errors import ConfigError, ResultsError
from avlib.results import Selection
from avlib.stats import Summary, mean_ci

NONE = "—"  # a cell with nothing to show (no paper number, no headline)


@dataclass(frozen=True)
class Badge:
    """How a verdict looks: a symbol and words, and colours (border, fill, text)."""

    symbol: str
    border: str
    fill: str
    text: str


# Okabe-Ito hues (bluish green, vermillion, orange, grey): told apart with the common
# colour-vision deficiencies, and every badge also carries its symbol and its words.
BADGES = {
    "reproduced": Badge("✓", "#009E73", "#d4f0e6", "#00452f"),
    "not reproduced": Badge("✗", "#D55E00", "#fbe0cf", "#7a2e00"),
    "inconclusive": Badge("?", "#E69F00", "#fdf0cc", "#5c3d00"),
    "no results yet": Badge("–", "#8c8c8c", "#eeeeee", "#404040"),
}
FIGURE_ORDER = ("reproduced", "not reproduced", "inconclusive", "under-trained", "no results yet")


@dataclass(frozen=True)
class Score:
    """One claim's line on the scorecard."""

    paper: str  # chapter name (``l3``)
    paper_title: str  # the chapter's TITLE
    claim: str  # "L3-1"
    statement: str
    paper_numbers: tuple[tuple[str, str], ...]  # (quantity, "74 %") per reference
    ours: str  # "61.2 ± 3.1 % (3 seeds)", "no results yet" or NONE
    ours_summary: Summary | None
    gates: tuple[tuple[str, bool | None], ...]  # (name, held; None: not evaluated)
    verdict: str  # one of VERDICTS
    label: str  # the verdict as printed: "inconclusive (under-trained: ...)"
    under_trained: str | None
    evidence: str  # the raw comparison (and why it is not evidence, when a gate failed)
    margin: str  # where the margin comes from
    link: str | None  # "01_l3.html#section" relative to the chapters' folder


def _headline(sel: Selection, spec: tuple | None) -> tuple[str, Summary | None]:
    """Our number for ``spec`` = (experiment, metric[, scale, digits, unit]): the text and the
    summary in the printed units (None when there is nothing to show)."""
    if spec is None:
        return NONE, None
    key, metric, *fmt = spec
    scale, digits, unit = (list(fmt) + [100.0, 1, "%"][len(fmt) :])[:3]
    seeds = sel.load(key)
    if not seeds.records:
        return "no results yet", None
    try:
        s = mean_ci(seeds.values(metric), sel.confidence)
    except ResultsError:
        return "not measured", None
    scaled = Summary(s.mean * scale, s.ci_low * scale, s.ci_high * scale, s.std * scale, s.n,
                     s.confidence, s.method)  # fmt: skip
    return s.format(scale, digits, unit), scaled


def _link(module, claim: Claim) -> str | None:
    notebook = getattr(module, "NOTEBOOK", None)
    if not notebook:
        return None
    return f"{notebook}.html" + (f"#{claim.section}" if claim.section else "")


def score(sel: Selection, claim_map: dict[str, Claim] | None = None) -> list[Score]:
    """Every claim (of every chapter module, in the book's order) scored on ``sel``."""
    claim_map = claims() if claim_map is None else claim_map
    refs, mods = references(), chapters.modules()
    out = []
    for claim in claim_map.values():
        module = mods.get(claim.paper)
        try:
            result = claim.evaluate(sel)
        except ResultsError as e:  # e.g. a file without a metric the claim reads: no verdict
            result = ClaimResult(claim.id, "no results yet", str(e), None, claim.margin)
        unknown = [r for r in claim.references if r not in refs]
        if unknown:
            raise ConfigError(f"claim {claim.id}: unknown reference ids {', '.join(unknown)}")
        numbers = tuple((refs[r].quantity, refs[r].format()) for r in claim.references)
        ours, summary = _headline(sel, claim.headline)
        evaluated = {g.name: g.holds for g in result.gates}
        gates = tuple((g.name, evaluated.get(g.name)) for g in claim.gates)
        out.append(
            Score(
                claim.paper,
                getattr(module, "TITLE", claim.paper),
                claim.id,
                claim.statement,
                numbers,
                ours,
                summary,
                gates,
                result.verdict,
                result.label,
                result.under_trained,
                result.reason,
                claim.margin_note,
                _link(module, claim) if module is not None else None,
            )
        )
    return out


def counts(scores: list[Score]) -> dict[str, int]:
    """How many claims have each verdict (every verdict listed, zeros included)."""
    return {v: sum(s.verdict == v for s in scores) for v in BADGES}


def has_results(scores: list[Score]) -> bool:
    """Whether any claim has results (a verdict other than 'no results yet')."""
    return any(s.verdict != "no results yet" for s in scores)


def summary_sentence(scores: list[Score]) -> str:
    """'Of the 26 claims, 2 are reproduced, ... and 20 have no results yet.'"""
    n = counts(scores)
    under = sum(1 for s in scores if s.under_trained)
    under_text = f" ({under} of them under-trained)" if under else ""
    return (
        f"Of the {len(scores)} claims, {n['reproduced']} are reproduced, "
        f"{n['not reproduced']} not reproduced, {n['inconclusive']} inconclusive{under_text} "
        f"and {n['no results yet']} have no results yet."
    )


# --- HTML ----------------------------------------------------------------------------------------


def badge_html(verdict: str, under_trained: str | None = None) -> str:
    """A verdict badge: symbol and words on the verdict's colour (dashed when under-trained)."""
    if verdict not in BADGES:
        raise ConfigError(f"unknown verdict {verdict!r}: one of {', '.join(BADGES)}")
    b = BADGES[verdict]
    border = "dashed" if under_trained else "solid"
    style = (
        f"display:inline-block;padding:0.1em 0.55em;border-radius:0.9em;"
        f"border:2px {border} {b.border};background:{b.fill};color:{b.text};"
        "font-weight:600;white-space:nowrap;font-size:0.9em"
    )
    words = "inconclusive: under-trained" if under_trained else verdict
    cls = verdict.replace(" ", "-")
    return f'<span class="avb-badge avb-{cls}" style="{style}">{b.symbol} {words}</span>'


def _e(text: str) -> str:
    return html.escape(str(text), quote=True)


def _paper_cell(s: Score) -> str:
    if not s.paper_numbers:
        return NONE
    return "<br>".join(f"{_e(value)} <small>({_e(q)})</small>" for q, value in s.paper_numbers)


def _gates_cell(s: Score) -> str:
    if not s.gates:
        return NONE
    marks = {True: "✓", False: "✗", None: "·"}
    words = {True: "passed", False: "FAILED", None: "not evaluated"}
    return "<br>".join(
        f'<span title="{words[held]}">{marks[held]} {_e(name)}</span>' for name, held in s.gates
    )


def _section_cell(s: Score, prefix: str) -> str:
    """The paper's name, leading to the section that produced the line's numbers."""
    if s.link is None:
        return f"{_e(s.paper_title)} (chapter not written yet)"
    return f'<a href="{_e(prefix + s.link)}">{_e(s.paper_title)} §</a>'


def _verdict_cell(s: Score) -> str:
    """The badge, and behind a toggle what it rests on: the failed gates, the comparison, the
    margin (kept out of sight so the column stays narrow enough to read beside the claim)."""
    details = ""
    if s.under_trained:
        details += f'<span class="avb-gate-failed">failed: {_e(s.under_trained)}</span><br>'
    details += _e(s.evidence)
    if s.margin:
        details += f"<br><em>margin:</em> {_e(s.margin)}"
    return (
        f"{badge_html(s.verdict, s.under_trained)}"
        f'<details class="avb-details"><summary>comparison</summary><small>{details}</small>'
        "</details>"
    )


def _claim_cell(s: Score, prefix: str) -> str:
    return (
        f'<small class="avb-paper">{_section_cell(s, prefix)}</small><br>'
        f"<strong>{_e(s.claim)}</strong> {_e(s.statement)}"
    )


# the verdict beside the claim (whose paper's name links to the section behind it), so a
# reader takes both in without scrolling sideways
COLUMNS = ("claim", "verdict", "paper's number", "ours (mean ± 95 % CI)", "gates")


def scorecard_html(scores: list[Score], link_prefix: str = "") -> str:
    """The scorecard as an HTML table (badges, comparison toggles, links to the sections).

    ``link_prefix`` leads from the page showing it to the chapters' folder
    (``""`` on a chapter page, ``"chapters/"`` on the front page).
    """
    head = "".join(f"<th>{_e(c)}</th>" for c in COLUMNS)
    rows = []
    for s in scores:
        cells = (
            _claim_cell(s, link_prefix),
            _verdict_cell(s),
            _paper_cell(s),
            _e(s.ours),
            _gates_cell(s),
        )
        tds = "".join(
            f'<td data-label="{_e(c)}">{cell}</td>' for c, cell in zip(COLUMNS, cells, strict=True)
        )
        rows.append(f'<tr class="avb-{s.verdict.replace(" ", "-")}">{tds}</tr>')
    return (
        '<div class="avb-scroll"><table class="avb-table avb-scorecard">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def legend_html() -> str:
    """The four badges in one line, for the text above the table."""
    return " ".join(badge_html(v) for v in BADGES) + " " + badge_html("inconclusive", "gate")


def scorecard_frame(scores: list[Score], profile: str) -> pd.DataFrame:
    """The scorecard as a flat table (the CSV for download)."""

    def num(x):
        return None if x is None or math.isnan(x) else round(x, 4)

    rows = []
    for s in scores:
        m = s.ours_summary
        rows.append(
            {
                "paper": s.paper_title,
                "claim": s.claim,
                "statement": s.statement,
                "paper_numbers": "; ".join(f"{q}: {v}" for q, v in s.paper_numbers),
                "ours": s.ours,
                "ours_mean": num(m.mean) if m else None,
                "ours_ci_low": num(m.ci_low) if m else None,
                "ours_ci_high": num(m.ci_high) if m else None,
                "seeds": m.n if m else 0,
                "gates": "; ".join(
                    f"{n}: {'passed' if h else 'not evaluated' if h is None else 'FAILED'}"
                    for n, h in s.gates
                ),
                "verdict": s.verdict,
                "under_trained": s.under_trained or "",
                "comparison": s.evidence,
                "margin": s.margin,
                "section": s.link or "",
                "profile": profile,
            }
        )
    return pd.DataFrame(rows)


def scorecard_csv(scores: list[Score], profile: str) -> str:
    """The scorecard as CSV text."""
    return scorecard_frame(scores, profile).to_csv(index=False)


# --- the summary figure ------------------------------------------------------------------------


def _bucket(s: Score) -> str:
    return "under-trained" if s.under_trained else s.verdict


def summary_figure(scores: list[Score]) -> Figure:
    """Claims per paper, stacked by verdict (under-trained apart, hatched), counts written in."""
    papers = list(dict.fromkeys(s.paper_title for s in scores))
    fig = Figure(figsize=(7.2, 0.55 * len(papers) + 1.6))
    ax = fig.subplots()
    left = np.zeros(len(papers))
    style = {v: BADGES[v] for v in BADGES} | {"under-trained": BADGES["inconclusive"]}
    for bucket in FIGURE_ORDER:
        n = np.array([sum(_bucket(s) == bucket for s in scores if s.paper_title == p)
                      for p in papers])  # fmt: skip
        if not n.any():
            continue
        b = style[bucket]
        label = "inconclusive (under-trained)" if bucket == "under-trained" else bucket
        bars = ax.barh(papers, n, left=left, color=b.fill, edgecolor=b.border, linewidth=1.5,
                       hatch="//" if bucket == "under-trained" else None,
                       label=f"{b.symbol} {label}")  # fmt: skip
        for rect, k in zip(bars, n, strict=True):
            if k:
                ax.text(rect.get_x() + rect.get_width() / 2, rect.get_y() + rect.get_height() / 2,
                        f"{b.symbol} {k}", ha="center", va="center", color=b.text,
                        fontsize=9, fontweight="bold")  # fmt: skip
        left += n
    ax.invert_yaxis()
    ax.set(xlabel="claims")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.grid(axis="y", visible=False)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.35 if len(papers) < 4 else -0.2),
              ncol=3, frameon=False, fontsize=9)  # fmt: skip
    fig.tight_layout()
    return fig


FIGURE_CAPTION = (
    "Claims per paper by verdict. Hatched: inconclusive because a gate failed (the runs did "
    "not learn enough to be evidence); grey: no results yet."
)


def figure_alt(scores: list[Score]) -> str:
    """The summary figure in words (its alt text): each paper's claims by verdict."""
    parts = []
    for paper in dict.fromkeys(s.paper_title for s in scores):
        mine = [_bucket(s) for s in scores if s.paper_title == paper]
        named = ", ".join(
            f"{mine.count(b)} {'inconclusive (under-trained)' if b == 'under-trained' else b}"
            for b in FIGURE_ORDER
            if b in mine
        )
        parts.append(f"{paper}: {named}")
    return "Horizontal bars, one per paper, split by verdict. " + "; ".join(parts) + "."


def figure_html(fig: Figure, alt: str, caption: str) -> str:
    """A figure as self-contained HTML (PNG inline, alt text, caption), for pages that cannot
    paste a glued image with its alt text (the front page)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    data = base64.b64encode(buf.getvalue()).decode()
    return (
        f'<figure class="avb-figure"><img src="data:image/png;base64,{data}" alt="{_e(alt)}" '
        f'style="max-width:100%;height:auto"><figcaption>{_e(caption)}</figcaption></figure>'
    )


def front_html(scores: list[Score], fig: Figure, caption: str, alt: str) -> str:
    """What the front page shows: the summary figure, the badges' legend and the scorecard,
    its links leading from the book's root page into the chapters' folder."""
    return (
        figure_html(fig, alt, caption)
        + f'<p class="avb-legend">{legend_html()}</p>'
        + scorecard_html(scores, link_prefix="chapters/")
    )


def full_profile_html(sel: Selection) -> str:
    """The committed ``full`` results scored like the book's own, or a sentence saying there
    are none (or that this book is the full profile)."""
    from avlib.report import full_selection

    full = full_selection(sel)
    if full is None:
        return "<p>This book was built from the <code>full</code> profile itself.</p>"
    scores = score(full)
    if not has_results(scores):
        return (
            "<p>No <code>full</code>-profile results are committed yet: every claim would read "
            "<em>no results yet</em>. Run <code>make full</code> on a GPU and commit "
            "<code>results/full/</code>.</p>"
        )
    return scorecard_html(scores)
