"""The papers' reference numbers and the claims our runs test, with computed verdicts.

- :data:`REFERENCES` (``references.py``): the papers' own numbers with citations.
- :data:`CLAIMS` (``papers.py``): every claim of PAPERS.md and, for chapters that
  exist, the comparison that tests it.
- ``core.py``: the machinery (metrics over seeds, comparisons, verdict rules).
- here: registry look-up and the tables a chapter and the front page show.
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
    Metric,
    Reference,
    Row,
    all_of,
    at_least,
    close_to,
    greater,
)
from avlib.claims.papers import CLAIM_LIST
from avlib.claims.references import REFERENCES
from avlib.errors import ConfigError
from avlib.results import load_seeds, mean_ci

__all__ = [
    "CLAIMS",
    "COLUMNS",
    "REFERENCES",
    "VERDICTS",
    "Claim",
    "ClaimData",
    "ClaimResult",
    "Comparison",
    "Metric",
    "Reference",
    "Row",
    "all_of",
    "at_least",
    "close_to",
    "get_claim",
    "greater",
    "results_table",
    "scorecard",
    "to_markdown",
]

CLAIMS: dict[str, Claim] = {c.id: c for c in CLAIM_LIST}


def get_claim(claim_id: str) -> Claim:
    """The registered claim ``claim_id`` (ConfigError naming the known ids otherwise)."""
    if claim_id not in CLAIMS:
        raise ConfigError(f"unknown claim {claim_id!r}: known are {', '.join(CLAIMS)}")
    return CLAIMS[claim_id]


COLUMNS = ("metric", "paper", "ours (mean ± CI, seeds)", "profile", "verdict")


def results_table(
    rows: list[Row],
    profile: str,
    results_dir=None,
    claims: Mapping[str, Claim] | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """A chapter's table: metric | paper | ours (mean ± CI, seeds) | profile | verdict."""
    claims = CLAIMS if claims is None else claims
    verdicts: dict[str, str] = {}
    lines = []
    for row in rows:
        paper = REFERENCES[row.reference].format() if row.reference else ""
        ours = ""
        if row.result:
            seeds = load_seeds(profile, *row.result.split("/", 1), results_dir)
            if seeds.records:
                values = seeds.values(row.key)
                ours = mean_ci(values, confidence).format(row.scale, row.digits)
                flags = sorted({f for seed_flags in seeds.flags.values() for f in seed_flags})
                if flags:
                    ours += f" [flagged: {', '.join(flags)}]"
            else:
                ours = "no results yet"
        verdict = ""
        if row.claim:
            if row.claim not in verdicts:
                verdicts[row.claim] = claims[row.claim].evaluate(profile, results_dir).verdict
            verdict = f"{row.claim}: {verdicts[row.claim]}"
        lines.append((row.metric, paper, ours, profile, verdict))
    return pd.DataFrame(lines, columns=list(COLUMNS))


def scorecard(
    profile: str, results_dir=None, claims: Mapping[str, Claim] | None = None
) -> pd.DataFrame:
    """Every claim with its verdict and the evidence: the book's front page."""
    claims = CLAIMS if claims is None else claims
    rows = []
    for claim in claims.values():
        result = claim.evaluate(profile, results_dir)
        rows.append((claim.id, claim.paper, claim.statement, result.verdict, result.reason))
    return pd.DataFrame(rows, columns=["claim", "paper", "statement", "verdict", "evidence"])


def to_markdown(table: pd.DataFrame) -> str:
    """A DataFrame as a Markdown table (for glue and the book)."""
    return table.to_markdown(index=False)
