"""What the trainer watches besides the loss: the chance level, the JSONL metrics log, progress.

PAPERS.md: "SyncNet-style training often sits at the chance loss (BCE 0.693)
for a long time before it learns; a reimplementation must detect and report a
run that never leaves chance rather than publish its numbers."
:class:`ChanceMonitor` compares the mean loss of each window of steps with the
chance level (the loss's ``chance_loss`` metric, e.g. ln 2 for balanced 2-way
cross-entropy and ln N for N-way, or a level given in the config); a run none
of whose windows gets below (1 - tolerance) x chance is flagged
``stuck_at_chance``. ``_Progress`` is where a run is and what it has recorded
(all of it goes into checkpoints); ``_timing`` sums up where its time went.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path


class ChanceMonitor:
    """Flags a run whose windowed mean loss never drops below (1 - tolerance) x chance."""

    def __init__(self, level: float | None, window: int, tolerance: float):
        self.level, self.window, self.tolerance = level, window, tolerance
        self.sum_loss = self.sum_chance = 0.0
        self.count = 0
        self.best_ratio: float | None = None

    def update(self, metrics: dict[str, float]) -> None:
        """Add one step's loss (and its chance level, if the loss reports one)."""
        chance = self.level if self.level is not None else metrics.get("chance_loss")
        if chance is None or chance <= 0:
            return
        self.sum_loss += metrics["loss"]
        self.sum_chance += chance
        self.count += 1
        if self.count == self.window:
            self._close_window()

    def _close_window(self) -> None:
        ratio = self.sum_loss / self.sum_chance
        self.best_ratio = ratio if self.best_ratio is None else min(self.best_ratio, ratio)
        self.sum_loss = self.sum_chance = 0.0
        self.count = 0

    def report(self) -> dict | None:
        """None without a chance level; else the best window's loss / chance and the verdict."""
        if self.count and (self.best_ratio is None or 2 * self.count >= self.window):
            self._close_window()  # the last partial window counts if at least half full
        if self.best_ratio is None:
            return None
        stuck = self.best_ratio >= 1 - self.tolerance
        return {"best_window_loss_over_chance": self.best_ratio, "stuck": stuck}

    def state_dict(self) -> dict:
        """Accumulators, for checkpoints."""
        return {k: getattr(self, k) for k in ("sum_loss", "sum_chance", "count", "best_ratio")}

    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict`."""
        for k, v in state.items():
            setattr(self, k, v)


class MetricsLog:
    """Rank 0's JSONL file; on resume it is cut back to the lines the checkpoint knew of."""

    def __init__(self, path: str | None, active: bool, keep_lines: int):
        self.path = Path(path) if path and active else None
        if self.path is None:
            return
        lines = self.path.read_text().splitlines(keepends=True) if self.path.exists() else []
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text("".join(lines[:keep_lines]))

    def write(self, kind: str, record: dict) -> None:
        """Append one record (rank 0 only; the caller counts lines for resume)."""
        if self.path is not None:
            with self.path.open("a") as f:
                f.write(json.dumps({"kind": kind, **record}) + "\n")


@dataclass
class _Progress:
    """Where the run is, and what it has recorded; all of it goes into checkpoints."""

    step: int = 0
    epoch: int = 0  # the epoch to run next (or the one in progress)
    batch_in_epoch: int = 0
    sums: dict[str, float] = field(default_factory=dict)  # metric sums of the current epoch
    history: list[dict] = field(default_factory=list)
    steps: list[dict] = field(default_factory=list)
    log_lines: int = 0  # JSONL lines written so far
    wall_s: float = 0.0  # training time of earlier, interrupted segments
    data_wait_s: float = 0.0  # time spent waiting for the next batch (all segments)
    step_s: float = 0.0  # time spent in forward, backward and the optimiser step
    samples: int = 0  # training samples seen by this process


def _timing(st: _Progress) -> dict:
    """Where training time went: waiting for batches vs stepping (the checkpointed totals)."""
    busy = st.data_wait_s + st.step_s
    return {
        "data_wait_s": round(st.data_wait_s, 3),
        "step_s": round(st.step_s, 3),
        "data_wait_share": round(st.data_wait_s / busy, 4) if busy else None,
        "samples": st.samples,
        "samples_per_s": round(st.samples / busy, 2) if busy else None,
    }
