"""The papers' reference numbers and the claims our runs test, with computed verdicts.

Two registries, kept apart:

- :data:`REFERENCES`: every number of PAPERS.md's reference tables, each with
  its paper, the table or section it comes from, a citation key of
  ``book/references.bib`` and units. They are the *papers'* numbers, shown
  beside ours and never as ours; a figure the papers do not give is a
  reference with ``value=None`` that prints "not found".
- :data:`CLAIMS`: every claim of PAPERS.md. A claim's test is code: ``compare(data,
  margin) -> Comparison`` over the aggregated seeds of the experiments it
  ``reads``; the verdict follows from the comparison's confidence interval:

  - ``reproduced``: the interval lies entirely on the claim's side of the margin;
  - ``not reproduced``: it lies entirely on the other side;
  - ``inconclusive``: it straddles the margin, there is one seed only (no
    interval), or a run it reads was flagged (e.g. ``stuck_at_chance``);
  - ``no results yet``: an experiment it reads has no results, or its chapter
    has not attached a test yet. Never a made-up verdict.

Our metrics are fractions (0.71); the papers' are mostly percentages (71 %);
:class:`Row` scales ours for display.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from avlib.results import SeedResults, Summary, difference_ci, load_seeds, mean_ci

VERDICTS = ("reproduced", "not reproduced", "inconclusive", "no results yet")


# --- the papers' numbers -----------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """One number a paper reports (or a figure it does not give: ``value=None``)."""

    id: str
    paper: str  # chapter: l3, avts, perfect_match, soundnet, attention
    quantity: str
    value: float | None
    units: str  # "%", "points", "NMI", "candidates"
    source: str  # the paper's table or section, as PAPERS.md names it
    cite: str  # key in book/references.bib
    note: str = ""

    def format(self) -> str:
        """'79.3 %' or 'not found'."""
        if self.value is None:
            return "not found"
        return f"{self.value:g} %" if self.units == "%" else f"{self.value:g} {self.units}"


# --- comparisons ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Metric:
    """One metric of one experiment over its seeds, with the interval settings to use."""

    label: str  # e.g. "l3/avc:acc"
    seeds: tuple[int, ...]
    values: tuple[float, ...]
    confidence: float = 0.95
    method: str = "t"

    def summary(self) -> Summary:
        """Mean ± CI over seeds."""
        return mean_ci(self.values, self.confidence, self.method)


@dataclass(frozen=True)
class Comparison:
    """A tested inequality: estimate and CI of a difference, its margin and verdict."""

    label: str
    kind: str  # greater | at_least | close_to | all_of
    estimate: float
    ci_low: float
    ci_high: float
    margin: float
    verdict: str
    parts: tuple[Comparison, ...] = ()

    def describe(self) -> str:
        """One line: 'a - b = 0.12 [0.08, 0.16], margin 0.05 (greater): reproduced'."""
        if self.parts:
            return "; ".join(p.describe() for p in self.parts)
        ci = f"[{self.ci_low:.3g}, {self.ci_high:.3g}]"
        return f"{self.label} = {self.estimate:.3g} {ci}, margin {self.margin:g} ({self.kind})"


def _difference(a: Metric, b: Metric | float) -> tuple[str, Summary]:
    if not isinstance(b, Metric):
        s = a.summary()
        shifted = Summary(s.mean - b, s.ci_low - b, s.ci_high - b, s.std, s.n, s.confidence)
        return f"{a.label} - {b:g}", shifted
    paired = a.seeds == b.seeds
    s = difference_ci(a.values, b.values, paired=paired, confidence=a.confidence, method=a.method)
    return f"{a.label} - {b.label}", s


def _compare(kind: str, a: Metric, b: Metric | float, margin: float) -> Comparison:
    label, s = _difference(a, b)
    low, high = s.ci_low, s.ci_high
    if math.isnan(low) or math.isnan(high):
        verdict = "inconclusive"
    elif kind == "greater":
        verdict = _side(low > margin, high <= margin)
    elif kind == "at_least":
        verdict = _side(low >= -margin, high < -margin)
    else:  # close_to
        verdict = _side(-margin <= low and high <= margin, high < -margin or low > margin)
    return Comparison(label, kind, s.mean, low, high, margin, verdict)


def _side(holds: bool, fails: bool) -> str:
    return "reproduced" if holds else "not reproduced" if fails else "inconclusive"


def greater(a: Metric, b: Metric | float, margin: float = 0.0) -> Comparison:
    """The claim 'a beats b by more than margin': mean(a) - mean(b) > margin."""
    return _compare("greater", a, b, margin)


def at_least(a: Metric, b: Metric | float, margin: float = 0.0) -> Comparison:
    """The claim 'a is at least as good as b': mean(a) - mean(b) >= -margin."""
    return _compare("at_least", a, b, margin)


def close_to(a: Metric, b: Metric | float, margin: float) -> Comparison:
    """The claim 'a is close to b': |mean(a) - mean(b)| <= margin."""
    return _compare("close_to", a, b, margin)


def all_of(*parts: Comparison) -> Comparison:
    """Every part must hold: not reproduced if one fails, reproduced if all hold."""
    verdicts = {p.verdict for p in parts}
    verdict = (
        "not reproduced"
        if "not reproduced" in verdicts
        else "reproduced"
        if verdicts == {"reproduced"}
        else "inconclusive"
    )
    margin = parts[0].margin if parts else math.nan
    return Comparison("all of", "all_of", math.nan, math.nan, math.nan, margin, verdict, parts)


class ClaimData(Mapping):
    """The experiments a claim reads: ``data["paper/experiment"].metric("acc") -> Metric``."""

    def __init__(self, results: dict[str, SeedResults], confidence: float, method: str):
        self._results, self.confidence, self.method = results, confidence, method

    def __getitem__(self, key: str) -> _ExperimentView:
        return _ExperimentView(self._results[key], self.confidence, self.method)

    def __iter__(self):
        return iter(self._results)

    def __len__(self) -> int:
        return len(self._results)


@dataclass(frozen=True)
class _ExperimentView:
    results: SeedResults
    confidence: float
    method: str

    def metric(self, name: str) -> Metric:
        """One metric over this experiment's seeds."""
        values = tuple(float(v) for v in self.results.values(name))
        label = f"{self.results.key}:{name}"
        return Metric(label, self.results.seeds, values, self.confidence, self.method)


# --- claims ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimResult:
    """A claim's computed verdict and the evidence behind it."""

    claim: str
    verdict: str
    reason: str
    comparison: Comparison | None
    margin: float | None
    seeds: dict[str, int] = field(default_factory=dict)  # experiment -> number of seeds


@dataclass(frozen=True)
class Claim:
    """A claim of a paper and, once its chapter exists, the code that tests it."""

    id: str
    paper: str
    statement: str
    cite: str
    reads: tuple[str, ...] = ()  # "paper/experiment" results it compares
    compare: Callable[[ClaimData, float], Comparison] | None = None
    margin: float = 0.0  # in the metric's units (fractions for accuracies)

    def evaluate(
        self, profile: str, results_dir=None, confidence: float = 0.95, method: str = "t"
    ) -> ClaimResult:
        """The verdict from the results on disk (see the module docstring for the rules)."""
        if self.compare is None or not self.reads:
            reason = "no test attached yet (its chapter is not written)"
            return ClaimResult(self.id, "no results yet", reason, None, None)
        loaded = {}
        for key in self.reads:
            paper, _, experiment = key.partition("/")
            loaded[key] = load_seeds(profile, paper, experiment, results_dir)
        seeds = {k: len(v.records) for k, v in loaded.items()}
        missing = [k for k, n in seeds.items() if n == 0]
        if missing:
            reason = f"no results yet for {', '.join(missing)} at profile {profile}"
            return ClaimResult(self.id, "no results yet", reason, None, self.margin, seeds)
        comparison = self.compare(ClaimData(loaded, confidence, method), self.margin)
        flagged = [
            f"{key} seed {seed}: {', '.join(flags)}"
            for key, results in loaded.items()
            for seed, flags in results.flags.items()
        ]
        if flagged:
            reason = "runs flagged, not published as a finding: " + "; ".join(flagged)
            return ClaimResult(self.id, "inconclusive", reason, comparison, self.margin, seeds)
        return ClaimResult(
            self.id, comparison.verdict, comparison.describe(), comparison, self.margin, seeds
        )


# --- tables ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One line of a chapter's 'paper vs ours' table."""

    metric: str  # what the line shows, e.g. "ESC-50 accuracy (linear SVM)"
    reference: str | None = None  # REFERENCES id for the paper column
    result: str | None = None  # "paper/experiment" for our column
    key: str | None = None  # metric name in those results
    claim: str | None = None  # claim whose verdict the line shows
    scale: float = 100.0  # ours x scale = the paper's units (fractions -> %)
    digits: int = 1
