"""Perfect Match: improved cross-modal embeddings for audio-visual synchronisation.

Soo-Whan Chung, Joon Son Chung, Hong-Goo Kang, ICASSP 2019. Facts and claims:
PAPERS.md §3. The chapter is not written yet: its claims are registered
without a test, so the scorecard shows them as 'no results yet'.
"""

from __future__ import annotations

from avlib.claims.core import Claim, Reference

PAPER = "perfect_match"
TITLE = "Perfect Match"
NOTEBOOK = None
CITE = "chung2019perfect"
CITES = {"perfect_match": CITE}


def _ref(key, source, quantity, value, units="%", note=""):
    return Reference(f"{PAPER}/{key}", PAPER, quantity, value, units, source, CITE, note)


_LRS2 = "LRS2 sync accuracy (within ±1 frame)"
REFERENCES = [
    _ref("sync-acc-5", _LRS2, "multi-way, 5-frame context", 89.1),
    _ref("sync-acc-15", _LRS2, "multi-way, 15-frame context", 98.1),
    _ref("prior-best-5", _LRS2, "prior best, 5-frame context", 75.8),
    _ref("best-n", "Number of candidates N", "best number of candidates", 40.0, "candidates"),
    _ref("lrw-tc5", "Visual speech recognition on LRW",
         "LRW word accuracy, frozen front-end + TC-5", None,
         note="exact table not found: multi-way embeddings match an end-to-end model and beat "
         "SyncNet and AVE-Net embeddings"),
]  # fmt: skip

CLAIMS = [
    Claim("PM-1", PAPER, "Multi-way beats SyncNet (contrastive) and AVE-Net (binary) on sync "
          "accuracy at every context length.", CITE),
    Claim("PM-2", PAPER, "Accuracy rises with the number of frames in the context.", CITE),
    Claim("PM-3", PAPER, "Accuracy depends on N, with a best N well above 2 (sweep N).", CITE),
    Claim("PM-4", PAPER, "Frozen multi-way embeddings give better word recognition than the "
          "baselines' embeddings, near an end-to-end model.", CITE),
]  # fmt: skip
