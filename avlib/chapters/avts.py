"""AVTS: cooperative learning of audio and video models from self-supervised synchronisation.

Korbar, Tran, Torresani, NeurIPS 2018. Facts and claims: PAPERS.md §2. The
chapter is not written yet: its claims are registered without a test, so the
scorecard shows them as 'no results yet'.
"""

from __future__ import annotations

from avlib.claims.core import Claim, Reference

PAPER = "avts"
TITLE = "AVTS"
NOTEBOOK = None
CITE = "korbar2018cooperative"
CITES = {"avts": CITE}


def _ref(key, source, quantity, value, units="%", note=""):
    return Reference(f"{PAPER}/{key}", PAPER, quantity, value, units, source, CITE, note)


REFERENCES = [
    _ref("ucf101-finetune", "Reference numbers", "UCF101 fine-tune accuracy", 89.0),
    _ref("hmdb51-finetune", "Reference numbers", "HMDB51 fine-tune accuracy", 61.6),
    _ref("esc50-frozen", "Reference numbers", "ESC-50, frozen audio features", 82.3),
    _ref("ucf101-gain-over-scratch", "Reference numbers",
         "UCF101 gain over training from scratch", 19.9, "points"),
    _ref("hmdb51-gain-over-scratch", "Reference numbers",
         "HMDB51 gain over training from scratch", 17.7, "points"),
    _ref("ablations", "Ablations", "negative types and curriculum ablations", None,
         note="numbers not found: the paper reports that hard negatives from the start "
         "converge badly, the curriculum helps, super-hard negatives hurt"),
]  # fmt: skip

CLAIMS = [
    Claim("AVTS-1", PAPER, "Curriculum (easy, then easy:hard 3:1) beats easy-only on the sync "
          "task and on downstream probes.", CITE),
    Claim("AVTS-2", PAPER, "Hard negatives from the start train worse than the curriculum.", CITE),
    Claim("AVTS-3", PAPER, "Adding super-hard negatives does not help.", CITE),
    Claim("AVTS-4", PAPER, "The contrastive loss trains at least as well as binary "
          "cross-entropy on the same pairs.", CITE),
    Claim("AVTS-5", PAPER, "AVTS pre-training beats training from scratch on the "
          "action-recognition analogue (fine-tune) and gives strong frozen audio features "
          "(ESC).", CITE),
]  # fmt: skip
