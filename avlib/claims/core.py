"""Verdict rules shared by every chapter: metrics over seeds, comparisons, gates, claims.

A claim's test is code: ``compare(data, margin) -> Comparison`` over the
aggregated seeds of the experiments it ``reads``. Before the comparison is
read, the claim's **gates** must hold: each gate is a comparison of its own
(the pretext task above chance by a stated margin, a baseline above a stated
floor, a learning curve that flattened) that says the runs under the claim
learnt at all. The verdict, from the comparison's confidence interval:

- ``reproduced``: the interval lies entirely on the claim's side of the margin;
- ``not reproduced``: it lies entirely on the other side, and every gate holds;
- ``inconclusive``: it straddles the margin, there is one seed only (no
  interval), or the runs are not evidence: a gate failed or a training run
  was flagged (``stuck_at_chance``). Those read ``inconclusive (under-trained:
  <which gate>)``; a failed gate can never yield ``not reproduced``, because a
  reader takes that as evidence against the paper;
- ``no results yet``: an experiment it reads has no results for the
  selection (profile, seeds, config, data), or its chapter has not attached a
  test yet. Never a made-up verdict.

Margins are in the metric's units (fractions for accuracies) and come from the
paper's own effect (:func:`share_of_gap`), stated next to the claim.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from avlib.results import SeedResults, Selection
from avlib.stats import Summary, difference_ci, mean_ci

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


def reference_maker(paper: str, cite: str):
    """A chapter's ``_ref(key, source, quantity, value, units="%", note="", cite=cite)``: a
    :class:`Reference` keyed ``paper/key`` from that paper, cited as ``cite`` unless told."""

    def ref(key, source, quantity, value, units="%", note="", cite=cite) -> Reference:
        return Reference(f"{paper}/{key}", paper, quantity, value, units, source, cite, note)

    return ref


def share_of_gap(a: Reference, b: Reference, share: float = 0.25) -> tuple[float, str]:
    """A margin from the paper's own effect: ``share`` of (a - b), in our metric's units.

    Percentages become fractions (ours are fractions). Returns the margin and
    the sentence that justifies it, for the scorecard.
    """
    if a.value is None or b.value is None:
        raise ValueError(f"{a.id} or {b.id} has no number: no margin can come from it")
    gap = a.value - b.value
    scale = 0.01 if a.units == "%" else 1.0
    unit = " points" if a.units == "%" else ""
    note = (
        f"{share:g} of the paper's gap ({a.value:g} vs {b.value:g}: {gap:.3g}{unit}, "
        f"{a.quantity} vs {b.quantity})"
    )
    return round(share * gap * scale, 6), note


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

    def combine(self, label: str, fn: Callable, *others: Metric) -> Metric:
        """A per-seed function of this metric and others measured on the same seeds."""
        for o in others:
            if o.seeds != self.seeds:
                raise ValueError(f"{o.label} and {self.label} come from different seeds")
        values = tuple(
            float(fn(*vals)) for vals in zip(self.values, *(o.values for o in others), strict=True)
        )
        return Metric(label, self.seeds, values, self.confidence, self.method)


@dataclass(frozen=True)
class Comparison:
    """A tested inequality: estimate and CI of a difference, its margin and verdict."""

    label: str
    kind: str  # greater | at_least | at_most | close_to | all_of
    estimate: float
    ci_low: float
    ci_high: float
    margin: float
    verdict: str
    parts: tuple[Comparison, ...] = ()

    @property
    def holds(self) -> bool:
        """True when the comparison holds beyond its interval (verdict 'reproduced')."""
        return self.verdict == "reproduced"

    def describe(self) -> str:
        """One line: 'a - b = 0.12 [0.08, 0.16], margin 0.05 (greater)'."""
        if self.parts:
            return "; ".join(p.describe() for p in self.parts)
        ci = f"[{self.ci_low:.3g}, {self.ci_high:.3g}]"
        return f"{self.label} = {self.estimate:.3g} {ci}, margin {self.margin:g} ({self.kind})"


def _difference(a: Metric, b: Metric | float) -> tuple[str, Summary]:
    if not isinstance(b, Metric):
        return f"{a.label} - {b:g}", a.summary().shifted(b)
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
    elif kind == "at_most":
        verdict = _side(high <= margin, low > margin)
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


def at_most(a: Metric, b: Metric | float, margin: float = 0.0) -> Comparison:
    """'a exceeds b by no more than margin': mean(a) - mean(b) <= margin (e.g. a curve's gain)."""
    return _compare("at_most", a, b, margin)


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

    def has(self, name: str) -> bool:
        """Whether every seed recorded the metric (world-only numbers are absent on real data)."""
        return self.results.has(name)


# --- gates and claims --------------------------------------------------------------------------


@dataclass(frozen=True)
class Gate:
    """What the runs under a claim must show before its comparison means anything.

    ``test(data)`` returns a comparison that must hold (its whole interval on
    the right side of its floor), e.g. ``greater(avc, 0.5, 0.05)``.
    """

    name: str  # short, for the scorecard: "AVC above chance"
    test: Callable[[ClaimData], Comparison]
    why: str = ""  # why this floor


@dataclass(frozen=True)
class GateResult:
    """One gate's outcome."""

    name: str
    holds: bool
    evidence: str


@dataclass(frozen=True)
class ClaimResult:
    """A claim's computed verdict and the evidence behind it."""

    claim: str
    verdict: str
    reason: str
    comparison: Comparison | None
    margin: float | None
    seeds: dict[str, int] = field(default_factory=dict)  # experiment -> number of seeds
    gates: tuple[GateResult, ...] = ()
    under_trained: str | None = None  # the failed gate(s), when the verdict rests on them

    @property
    def label(self) -> str:
        """The verdict as the book prints it: 'inconclusive (under-trained: AVC above chance)'."""
        if self.under_trained:
            return f"{self.verdict} (under-trained: {self.under_trained})"
        return self.verdict


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
    margin_note: str = ""  # where the margin comes from (a share of the paper's effect)
    gates: tuple[Gate, ...] = ()
    section: str = ""  # anchor of the chapter section that produces it
    references: tuple[str, ...] = ()  # REFERENCES ids: the paper's numbers the scorecard shows
    # our number on the scorecard: (experiment, metric[, scale, digits, unit]) as a chapter's
    # HEADLINES; default scale 100, 1 digit, unit "%" (accuracies stored as fractions)
    headline: tuple | None = None

    def evaluate(self, sel: Selection) -> ClaimResult:
        """The verdict from the selected results (see the module docstring for the rules)."""
        if self.compare is None or not self.reads:
            reason = "no test attached yet (its chapter is not written)"
            return ClaimResult(self.id, "no results yet", reason, None, None)
        loaded = {key: sel.load(key) for key in self.reads}
        seeds = {k: len(v.records) for k, v in loaded.items()}
        missing = [k for k, n in seeds.items() if n == 0]
        if missing:
            reason = f"no results yet for {', '.join(missing)} at profile {sel.profile}"
            ignored = sum(len(loaded[k].ignored) for k in missing)
            if ignored:
                reason += f" ({ignored} older or foreign results files ignored)"
            return ClaimResult(self.id, "no results yet", reason, None, self.margin, seeds)
        data = ClaimData(loaded, sel.confidence, sel.method)
        gates = tuple(_run_gate(g, data) for g in self.gates)
        comparison = self.compare(data, self.margin)
        failed = [g.name for g in gates if not g.holds]
        flagged = [
            f"{key} seed {seed}: {', '.join(flags)}"
            for key, results in loaded.items()
            for seed, flags in results.flags.items()
        ]
        if flagged:
            failed.append("training flagged (" + "; ".join(flagged) + ")")
        if failed:  # not evidence either way, whatever the comparison says
            evidence = [g.evidence for g in gates if not g.holds] + flagged
            reason = f"{comparison.describe()}; not evidence: " + "; ".join(evidence)
            return ClaimResult(
                self.id,
                "inconclusive",
                reason,
                comparison,
                self.margin,
                seeds,
                gates,
                ", ".join(failed),
            )
        return ClaimResult(
            self.id,
            comparison.verdict,
            comparison.describe(),
            comparison,
            self.margin,
            seeds,
            gates,
        )


def _run_gate(gate: Gate, data: ClaimData) -> GateResult:
    c = gate.test(data)
    return GateResult(gate.name, c.holds, f"{gate.name}: {c.describe()} -> {c.verdict}")


# --- tables ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CrossRow:
    """One line of a cross-paper table (the scorecard's): one method on one task.

    A chapter module declares its lines in ``CROSS = {table: [CrossRow, ...]}``
    (tables: ``audio-probes``, ``sync``; see :mod:`avlib.cross_tables`), so a
    chapter's rows appear there once it is merged.
    """

    task: str  # what is measured, on one protocol: "ESC-50", "DCASE 2013", "sync accuracy"
    method: str  # whose features or model: "L3-Net audio conv4, linear SVM"
    reference: str | None = None  # REFERENCES id for the paper column
    result: str | None = None  # "paper/experiment" for our column
    key: str | None = None  # metric name in those results
    scale: float = 100.0  # ours x scale = the paper's units (fractions -> %)
    digits: int = 1


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
