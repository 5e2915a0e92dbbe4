"""On attention modules for audio-visual synchronisation.

Khosravan, Ardeshir, Puri; arXiv December 2018, CVPR workshops 2019. Facts and
claims: PAPERS.md §5. The chapter is not written yet: its claims are
registered without a test, so the scorecard shows them as 'no results yet'.
"""

from __future__ import annotations

from avlib.claims.core import Claim, Reference

PAPER = "attention"
TITLE = "Attention modules for AV synchronisation"
NOTEBOOK = None
CITE = "khosravan2019attention"
CITES = {"attention": CITE}

REFERENCES = [
    Reference(f"{PAPER}/accuracies", PAPER, "sync accuracies of baseline, temporal and "
              "spatio-temporal attention", None, "%", "Reference", CITE,
              "exact accuracies not found: both attention models beat the baseline on speech "
              "and impact sounds; spatio-temporal is slightly better than temporal"),
]  # fmt: skip

CLAIMS = [
    Claim("AT-1", PAPER, "Temporal attention beats plain averaging on sync accuracy.", CITE),
    Claim("AT-2", PAPER, "Spatio-temporal attention is at least as good as temporal, with a "
          "smaller extra gain.", CITE),
    Claim("AT-3", PAPER, "The gains hold on a test domain not seen in training (impact "
          "sounds).", CITE),
    Claim("AT-4", PAPER, "Attention converges faster (steps to a target accuracy).", CITE),
    Claim("AT-5", PAPER, "Chunks/regions where the synchronising event is get the highest "
          "attention weights (measurable on our world, where we know where it is).", CITE),
]  # fmt: skip
