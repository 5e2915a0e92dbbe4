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

import pandas as pd

from avlib.errors import ConfigError
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


def _refs(paper: str, cite: str, source: str, units: str, rows: dict) -> list[Reference]:
    return [
        Reference(f"{paper}/{k}", paper, q, v, units, source, cite) for k, (q, v) in rows.items()
    ]


_L3, _OTS = "arandjelovic2017look", "arandjelovic2018objects"
_AVTS, _PM, _SN, _AT = (
    "korbar2018cooperative",
    "chung2019perfect",
    "aytar2016soundnet",
    "khosravan2019attention",
)
_KS = "AVC accuracy, Kinetics-Sounds (34 classes)"
_ESC = "ESC-50 (5-fold CV, linear SVM on audio features)"
_SN_ABL = "Ablations (ESC-50)"
# fmt: off
_REFERENCE_LIST: list[Reference] = [
    *_refs("l3", _L3, _KS, "%", {
        "avc-kinetics-sounds/l3": ("L3 AVC accuracy", 74.0),
        "avc-kinetics-sounds/supervised": ("supervised-pretraining baseline", 74.0),
        "avc-kinetics-sounds/direct-combination": ("two supervised classifiers combined", 65.0),
    }),
    *_refs("l3", _L3, "AVC accuracy, Flickr-SoundNet", "%", {
        "avc-flickr-soundnet/l3": ("L3 AVC accuracy", 78.0),
    }),
    *_refs("l3", _L3, _ESC, "%", {
        "esc50/l3": ("L3 audio features", 79.3),
        "esc50/soundnet": ("SoundNet features", 74.2),
        "esc50/random": ("random-init L3 features", 62.5),
    }),
    *_refs("l3", _L3, "DCASE 2013 scene classification", "%", {
        "dcase2013/l3": ("L3 audio features", 93.0),
        "dcase2013/soundnet": ("SoundNet features", 88.0),
        "dcase2013/random": ("random-init features", 85.0),
    }),
    *_refs("l3", _L3, "ILSVRC-12 linear probe on conv4 of the vision net, top-1", "%", {
        "ilsvrc-conv4/l3": ("L3 vision conv4", 32.3),
        "ilsvrc-conv4/random": ("random init", 12.9),
    }),
    *_refs("l3", _L3, "NMI of k-means on embeddings", "NMI", {
        "nmi/vision": ("L3 vision embeddings", 0.409),
        "nmi/audio": ("L3 audio embeddings", 0.330),
        "nmi/random-vision": ("random vision embeddings", 0.204),
        "nmi/random-audio": ("random audio embeddings", 0.219),
    }),
    *_refs("l3", _OTS, "Objects that Sound: AVC accuracy on its split", "%", {
        "ots-avc/avenet": ("AVE-Net", 81.9),
        "ots-avc/l3": ("L3-Net", 80.8),
    }),
    *_refs("l3", _OTS, "Objects that Sound: sound localisation accuracy", "%", {
        "ots-localisation/avol": ("AVOL-Net", 81.7),
        "ots-localisation/centre-prior": ("centre prior", 57.2),
    }),
    *_refs("avts", _AVTS, "Reference numbers", "%", {
        "ucf101-finetune": ("UCF101 fine-tune accuracy", 89.0),
        "hmdb51-finetune": ("HMDB51 fine-tune accuracy", 61.6),
        "esc50-frozen": ("ESC-50, frozen audio features", 82.3),
    }),
    *_refs("avts", _AVTS, "Reference numbers", "points", {
        "ucf101-gain-over-scratch": ("UCF101 gain over training from scratch", 19.9),
        "hmdb51-gain-over-scratch": ("HMDB51 gain over training from scratch", 17.7),
    }),
    Reference("avts/ablations", "avts", "negative types and curriculum ablations", None, "%",
              "Ablations", _AVTS, "numbers not found: the paper reports that hard negatives "
              "from the start converge badly, the curriculum helps, super-hard negatives hurt"),
    *_refs("perfect_match", _PM, "LRS2 sync accuracy (within ±1 frame)", "%", {
        "sync-acc-5": ("multi-way, 5-frame context", 89.1),
        "sync-acc-15": ("multi-way, 15-frame context", 98.1),
        "prior-best-5": ("prior best, 5-frame context", 75.8),
    }),
    *_refs("perfect_match", _PM, "Number of candidates N", "candidates", {
        "best-n": ("best number of candidates", 40.0),
    }),
    Reference("perfect_match/lrw-tc5", "perfect_match", "LRW word accuracy, frozen front-end + "
              "TC-5", None, "%", "Visual speech recognition on LRW", _PM,
              "exact table not found: multi-way embeddings match an end-to-end model and beat "
              "SyncNet and AVE-Net embeddings"),
    *_refs("soundnet", _SN, "Reference numbers (linear SVM, C = 0.01)", "%", {
        "dcase2013": ("DCASE 2013 scenes", 88.0),
        "esc50": ("ESC-50", 74.2),
        "esc10": ("ESC-10", 92.2),
    }),
    *_refs("soundnet", _SN, _SN_ABL, "%", {
        "loss-l2": ("L2 loss", 47.8),
        "loss-kl": ("KL loss", 72.9),
        "teacher-imagenet": ("ImageNet teacher only", 69.5),
        "teacher-places": ("Places teacher only", 71.1),
        "teacher-both": ("both teachers", 72.9),
        "scratch-5-layer": ("5-layer from scratch", 65.0),
        "scratch-8-layer": ("8-layer from scratch", 51.1),
        "teachers-5-layer": ("5-layer with video teachers", 66.1),
        "teachers-8-layer": ("8-layer with video teachers", 72.9),
    }),
    *_refs("soundnet", _SN, "Multimodal recognition", "%", {
        "multimodal-sound": ("sound", 32.4),
        "multimodal-vision": ("vision", 49.4),
        "multimodal-both": ("sound + vision", 51.4),
    }),
    *_refs("soundnet", _SN, "Baselines (ESC-50)", "%", {
        "baseline-mfcc-svm": ("MFCC + SVM", 39.6),
        "baseline-autoencoder": ("convolutional autoencoder", 39.9),
        "baseline-humans": ("humans", 81.3),
    }),
    Reference("attention/accuracies", "attention", "sync accuracies of baseline, temporal and "
              "spatio-temporal attention", None, "%", "Reference", _AT,
              "exact accuracies not found: both attention models beat the baseline on speech "
              "and impact sounds; spatio-temporal is slightly better than temporal"),
]
# fmt: on
REFERENCES: dict[str, Reference] = {r.id: r for r in _REFERENCE_LIST}


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


def _claims(paper: str, cite: str, statements: dict[str, str]) -> list[Claim]:
    return [Claim(cid, paper, text, cite) for cid, text in statements.items()]


# fmt: off
_CLAIM_LIST: list[Claim] = [
    *_claims("l3", _L3, {
        "L3-1": "AVC trained from scratch reaches accuracy far above chance (50%) and close to "
                "a supervised-pretraining baseline of the same architecture.",
        "L3-2": "AVC beats the direct combination of two supervised classifiers.",
        "L3-3": "Frozen L3 audio features + linear SVM beat random-init features on ESC-50 and "
                "DCASE (and beat SoundNet features on the same protocol).",
        "L3-4": "Frozen L3 vision features + linear probe beat random init on the "
                "image-classification probe (ILSVRC analogue); conv4 is a good layer.",
        "L3-5": "Embeddings cluster by semantic class (NMI above random).",
    }),
    Claim("L3-6", "l3", "Activation maps localise the sounding object (localisation accuracy "
          "above a centre prior).", _OTS),
    *_claims("avts", _AVTS, {
        "AVTS-1": "Curriculum (easy, then easy:hard 3:1) beats easy-only on the sync task and "
                  "on downstream probes.",
        "AVTS-2": "Hard negatives from the start train worse than the curriculum.",
        "AVTS-3": "Adding super-hard negatives does not help.",
        "AVTS-4": "The contrastive loss trains at least as well as binary cross-entropy on the "
                  "same pairs.",
        "AVTS-5": "AVTS pre-training beats training from scratch on the action-recognition "
                  "analogue (fine-tune) and gives strong frozen audio features (ESC).",
    }),
    *_claims("perfect_match", _PM, {
        "PM-1": "Multi-way beats SyncNet (contrastive) and AVE-Net (binary) on sync accuracy "
                "at every context length.",
        "PM-2": "Accuracy rises with the number of frames in the context.",
        "PM-3": "Accuracy depends on N, with a best N well above 2 (sweep N).",
        "PM-4": "Frozen multi-way embeddings give better word recognition than the baselines' "
                "embeddings, near an end-to-end model.",
    }),
    *_claims("soundnet", _SN, {
        "SN-1": "KL distillation beats L2 regression on the teachers' outputs.",
        "SN-2": "Two teachers (objects + scenes) beat either alone.",
        "SN-3": "With teachers the deeper net wins; from scratch the deeper net loses.",
        "SN-4": "The best probe layer is in the middle (pool5/conv6), not the top.",
        "SN-5": "SoundNet features beat MFCC + SVM and an autoencoder baseline.",
        "SN-6": "Sound + vision beats either alone on the scene task.",
    }),
    *_claims("attention", _AT, {
        "AT-1": "Temporal attention beats plain averaging on sync accuracy.",
        "AT-2": "Spatio-temporal attention is at least as good as temporal, with a smaller "
                "extra gain.",
        "AT-3": "The gains hold on a test domain not seen in training (impact sounds).",
        "AT-4": "Attention converges faster (steps to a target accuracy).",
        "AT-5": "Chunks/regions where the synchronising event is get the highest attention "
                "weights (measurable on our world, where we know where it is).",
    }),
]
# fmt: on
CLAIMS: dict[str, Claim] = {c.id: c for c in _CLAIM_LIST}


def get_claim(claim_id: str) -> Claim:
    """The registered claim ``claim_id`` (ConfigError naming the known ids otherwise)."""
    if claim_id not in CLAIMS:
        raise ConfigError(f"unknown claim {claim_id!r}: known are {', '.join(CLAIMS)}")
    return CLAIMS[claim_id]


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
