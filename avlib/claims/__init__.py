"""The papers' reference numbers and the claims our runs test, with computed verdicts.

- ``core.py``: the machinery (metrics over seeds, comparisons, gates, verdict rules).
- The registries are gathered from the chapter modules (``avlib/chapters/<paper>.py``),
  where each paper's references and claims live: :func:`claims` and
  :func:`references` (also as the module attributes ``CLAIMS`` / ``REFERENCES``).
- Here: the tables a chapter and the front page show, read through a
  :class:`~avlib.results.Selection` (profile, seeds, config and data digests).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from avlib.claims.core import (
    VERDICTS,
    Claim,
    ClaimData,
    ClaimResult,
    Comparison,
    CrossRow,
    Gate,
    Metric,
    Reference,
    Row,
    all_of,
    at_least,
    at_most,
    close_to,
    greater,
    share_of_gap,
)
from avlib.errors import ConfigError, ResultsError
from avlib.results import Selection
from avlib.stats import mean_ci

__all__ = [
    "COLUMNS",
    "VERDICTS",
    "Claim",
    "ClaimData",
    "ClaimResult",
    "Comparison",
    "CrossRow",
    "Gate",
    "Metric",
    "Reference",
    "Row",
    "all_of",
    "at_least",
    "at_most",
    "claims",
    "close_to",
    "get_claim",
    "greater",
    "references",
    "results_table",
    "scorecard",
    "share_of_gap",
    "to_markdown",
]


def claims() -> dict[str, Claim]:
    """Every claim of every chapter, by id, in the book's order."""
    from avlib import chapters

    return {c.id: c for m in chapters.modules().values() for c in getattr(m, "CLAIMS", [])}


def references() -> dict[str, Reference]:
    """Every paper number of every chapter, by id."""
    from avlib import chapters

    return {r.id: r for m in chapters.modules().values() for r in getattr(m, "REFERENCES", [])}


def __getattr__(name: str):  # CLAIMS / REFERENCES, gathered on first use
    if name == "CLAIMS":
        return claims()
    if name == "REFERENCES":
        return references()
    raise AttributeError(name)


def get_claim(claim_id: str) -> Claim:
    """The registered claim ``claim_id`` (ConfigError naming the known ids otherwise)."""
    known = claims()
    if claim_id not in known:
        raise ConfigError(f"unknown claim {claim_id!r}: known are {', '.join(known)}")
    return known[claim_id]


COLUMNS = ("metric", "paper", "ours (mean ± CI, seeds)", "verdict")


def format_ours(sel: Selection, key: str, metric: str, scale=100.0, digits=1, unit="") -> str:
    """'66.7 ± 2.1 (3 seeds)' for one metric of experiment ``key``, with flags and a note on
    files ignored; 'no results yet' or 'not measured' when there is nothing to show."""
    seeds = sel.load(key)
    if not seeds.records:
        ignored = f" ({len(seeds.ignored)} older or foreign files ignored)" if seeds.ignored else ""
        return "no results yet" + ignored
    try:
        values = seeds.values(metric)
    except ResultsError:
        return "not measured"
    text = mean_ci(values, sel.confidence).format(scale, digits, unit)
    flags = sorted({f for seed_flags in seeds.flags.values() for f in seed_flags})
    return text + (f" [flagged: {', '.join(flags)}]" if flags else "")


def results_table(
    rows: list[Row], sel: Selection, claim_map: Mapping[str, Claim] | None = None
) -> pd.DataFrame:
    """A chapter's table: metric | paper | ours (mean ± CI, seeds) | verdict."""
    claim_map = claims() if claim_map is None else claim_map
    refs = references()
    verdicts: dict[str, str] = {}
    lines = []
    for row in rows:
        paper = refs[row.reference].format() if row.reference else ""
        ours = format_ours(sel, row.result, row.key, row.scale, row.digits) if row.result else ""
        verdict = ""
        if row.claim:
            if row.claim not in verdicts:
                verdicts[row.claim] = claim_map[row.claim].evaluate(sel).label
            verdict = f"{row.claim}: {verdicts[row.claim]}"
        lines.append((row.metric, paper, ours, verdict))
    return pd.DataFrame(lines, columns=list(COLUMNS))


def scorecard(sel: Selection, claim_map: Mapping[str, Claim] | None = None) -> pd.DataFrame:
    """Every claim with its verdict, the gates it rests on and the evidence."""
    claim_map = claims() if claim_map is None else claim_map
    rows = []
    for claim in claim_map.values():
        result = claim.evaluate(sel)
        gates = "; ".join(
            f"{g.name}: {'passed' if g.holds else 'FAILED'}" for g in result.gates
        ) or ("—" if claim.gates == () else "not evaluated")
        rows.append(
            (claim.id, claim.paper, claim.statement, result.label, gates, result.reason,
             claim.margin_note)
        )  # fmt: skip
    return pd.DataFrame(
        rows, columns=["claim", "paper", "statement", "verdict", "gates", "evidence", "margin"]
    )


def to_markdown(table: pd.DataFrame) -> str:
    """A DataFrame as a Markdown table (for glue and the book)."""
    return table.to_markdown(index=False)
