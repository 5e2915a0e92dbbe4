"""The one trainer for every paper: ``train(model, loss_fn, train_data, cfg) -> TrainResult``.

Contract (the trainer knows nothing paper-specific):

- **model**: an ``nn.Module`` whose ``forward(batch) -> dict`` (STYLE rule 2).
- **loss_fn**: ``(batch, out) -> (loss, metrics)`` (see ``avlib.losses``);
  ``metrics`` maps names to 0-d tensors or floats, the same keys every step.
  An ``nn.Module`` loss with parameters (a learned scale) is optimised and
  checkpointed with the model. A ``chance_loss`` metric enables the
  stuck-at-chance check.
- **train_data**: an iterable of batch dicts (tensors are moved to the device,
  anything else is passed through) with ``__len__`` (batches per epoch) and
  optionally ``set_epoch(epoch)`` (called at the start of every epoch: a
  curriculum changes its negative mix there), ``state_dict()`` and
  ``load_state_dict(state)``. The loaded state must restore the data exactly
  as it was when ``state_dict()`` was taken, its epoch and the number of
  batches its iterator had yielded included, so the next ``iter()`` continues
  the epoch; the trainer does not call ``set_epoch`` for an epoch it resumes
  mid-way. Data without ``load_state_dict`` is resumed by ``set_epoch`` and
  skipping the batches already seen, so its order must depend only on the
  epoch. Hooks see ``on_epoch_start`` again for an epoch resumed mid-way. Under torchrun, data with ``shard(rank, world_size)`` shards itself
  (every rank must then report the same ``len``); other data is sharded by
  the trainer: rank r takes batches r, r + W, ... (each rank builds them all).
- **hooks**: objects with optional ``on_epoch_start(ctx)`` / ``on_epoch_end(ctx)``
  taking a :class:`HookContext`.

Seeded (same seed on CPU -> bit-identical metrics), bf16 autocast on CUDA,
channels_last (CPU too), atomic checkpoints with exact (mid-epoch) resume,
DDP under torchrun (gloo on CPU, nccl on CUDA; rank 0 logs and checkpoints),
progress (avlib.progress), JSONL metrics, NaN/inf detection, stuck-at-chance flag.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from avlib.checkpoint import (
    deterministic,
    load_checkpoint,
    rng_state,
    save_checkpoint,
    seed_everything,
    set_rng_state,
)
from avlib.device import autocast, channels_last_enabled, to_channels_last, to_device
from avlib.distributed import DistInfo, distributed, from_rank0, gather, mean_over_ranks, shard
from avlib.errors import AvlibError, CheckpointError, ConfigError, TrainingError
from avlib.monitor import ChanceMonitor, MetricsLog, _Progress, _timing
from avlib.optim import OPTIMIZERS, SCHEDULERS, _optimizer, _scheduler
from avlib.progress import bar as progress_bar

# fields that may change between a run and its resume (they do not change the numbers)
OPERATIONAL = {"resume", "progress", "checkpoint_dir", "checkpoint_every", "log_every"}
OPERATIONAL |= {"metrics_path", "device"}


@dataclass(frozen=True)
class TrainConfig:
    """Everything the trainer needs; the paper modules set the values."""

    epochs: int = 1
    max_steps: int | None = None  # stop after this many optimiser steps (None: all epochs)
    optimizer: str = "adam"  # adam | sgd
    lr: float = 1e-3
    weight_decay: float = 0.0  # L2 penalty (Adam's, not AdamW's; L3 used 1e-5)
    momentum: float = 0.9  # sgd only
    scheduler: str = "none"  # none | cosine (per step) | step (per epoch) | plateau (per epoch)
    warmup_steps: int = 0  # cosine: linear warm-up from lr / warmup_steps over these steps
    step_epochs: int = 30  # step: multiply lr by gamma every step_epochs epochs
    gamma: float = 0.1  # step and plateau factor (AVTS: x0.1)
    plateau_epochs: int = 5  # plateau: reduce once the metric has not improved this many epochs
    plateau_metric: str = "loss"  # minimised; val_<metric> when validating, else train <metric>
    grad_clip: float | None = None  # max global gradient norm
    amp: bool = True  # bf16 autocast, CUDA only (ignored on CPU)
    channels_last: bool = True  # NHWC / NDHWC memory format (CUDA and CPU)
    sync_batchnorm: bool = False  # CUDA with several processes only
    find_unused_parameters: bool = False  # DDP: models whose heads skip some parameters
    seed: int = 0
    deterministic: bool = True  # torch.use_deterministic_algorithms (warn-only), no cudnn benchmark
    device: str = "auto"  # auto | cpu | cuda[:N]; under torchrun cuda means cuda:LOCAL_RANK
    checkpoint_dir: str | None = None
    checkpoint_every: int = 0  # steps between checkpoints; 0: at the end of every epoch
    resume: bool = False  # continue from checkpoint_dir/last.pt when it exists
    log_every: int = 1  # steps between step records (history and JSONL)
    metrics_path: str | None = None  # JSONL of step and epoch records (rank 0)
    progress: bool = True  # tqdm bar (rank 0)
    chance_loss: float | None = None  # chance level; None: the loss's "chance_loss" metric
    chance_window: int = 25  # steps per window of the stuck-at-chance check
    chance_tolerance: float = 0.02  # stuck if no window's mean loss < (1 - tol) x chance

    def __post_init__(self):
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(f"unknown optimizer {self.optimizer!r}: use {', '.join(OPTIMIZERS)}")
        if self.scheduler not in SCHEDULERS:
            raise ConfigError(f"unknown scheduler {self.scheduler!r}: use {', '.join(SCHEDULERS)}")
        if self.epochs < 1 or (self.max_steps is not None and self.max_steps < 1):
            raise ConfigError("epochs and max_steps must be at least 1")
        if self.resume and not self.checkpoint_dir:
            raise ConfigError("resume=True needs a checkpoint_dir")
        counts = {"log_every": 1, "chance_window": 1, "plateau_epochs": 1, "step_epochs": 1}
        for name, low in {**counts, "checkpoint_every": 0, "warmup_steps": 0}.items():
            if getattr(self, name) < low:
                raise ConfigError(f"{name} must be at least {low}, got {getattr(self, name)}")

    def total_steps(self, steps_per_epoch: int) -> int:
        """Optimiser steps the run makes: all epochs, capped by max_steps."""
        total = self.epochs * steps_per_epoch
        return total if self.max_steps is None else min(total, self.max_steps)


@dataclass
class HookContext:
    """What an epoch hook sees."""

    epoch: int
    step: int
    model: nn.Module
    optimizer: torch.optim.Optimizer
    metrics: dict[str, float]  # the epoch's record at on_epoch_end, empty at on_epoch_start


@dataclass
class TrainResult:
    """A finished run: per-epoch history, logged steps, final metrics, flags, time."""

    history: list[dict]
    steps: list[dict]
    final_metrics: dict[str, float]
    flags: list[str]
    wall_time_s: float
    steps_done: int
    epochs_done: int
    resumed_from_step: int | None
    chance: dict | None
    timing: dict | None = None  # data wait vs step time, samples/s (rank 0's process)


def _batch_size(batch: dict) -> int:
    return next((len(v) for v in batch.values() if isinstance(v, torch.Tensor)), 0)


@torch.no_grad()
def evaluate(
    model: nn.Module, loss_fn, data: Iterable[dict], cfg: TrainConfig, device: torch.device
) -> dict[str, float]:
    """Mean of ``loss_fn``'s metrics over ``data`` in eval mode, each batch weighted by its size."""
    was_training = model.training
    model.eval()
    sums: dict[str, float] = {}
    n = 0
    for batch in data:
        size = next(len(v) for v in batch.values() if isinstance(v, torch.Tensor))
        batch = to_device(batch, device, channels_last_enabled(cfg, device))
        with autocast(cfg, device):
            out = model(batch)
        loss, metrics = loss_fn(batch, out)
        for k, v in {"loss": loss, **metrics}.items():
            sums[k] = sums.get(k, 0.0) + float(v) * size
        n += size
    model.train(was_training)
    if n == 0:
        raise TrainingError("evaluation data yielded no batches")
    return {k: v / n for k, v in sums.items()}


# --- the run -------------------------------------------------------------------------------


class _Run:
    """One call of :func:`train`: the objects it builds and the loop over epochs and steps."""

    def __init__(self, model, loss_fn, train_data, cfg, d: DistInfo, val_data, val_fn, hooks):
        self.cfg, self.d = cfg, d
        self.val_data, self.val_fn, self.hooks = val_data, val_fn, tuple(hooks)
        model.to(d.device)
        self.channels_last = channels_last_enabled(cfg, d.device)
        if self.channels_last:
            to_channels_last(model)
        if d.device.type == "cuda" and cfg.sync_batchnorm and d.world > 1:
            model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        self.model, self.loss_fn = model, loss_fn
        self.loss_module = loss_fn.to(d.device) if isinstance(loss_fn, nn.Module) else None
        self.loss_params = list(self.loss_module.parameters()) if self.loss_module else []
        self.params = [p for p in model.parameters() if p.requires_grad] + self.loss_params
        self.data = shard(train_data, d)
        self.steps_per_epoch = len(self.data)
        if self.steps_per_epoch == 0:
            raise ConfigError("train_data has no batches (len 0) on this rank")
        self.total = cfg.total_steps(self.steps_per_epoch)
        self.optimizer = _optimizer(self.params, cfg)
        self.scheduler = _scheduler(self.optimizer, cfg, self.total)
        self.chance = ChanceMonitor(cfg.chance_loss, cfg.chance_window, cfg.chance_tolerance)
        self.state = _Progress()
        self.ckpt_path = Path(cfg.checkpoint_dir) / "last.pt" if cfg.checkpoint_dir else None
        self.resumed_from: int | None = None
        self.saved_at: int | None = None  # step of the last checkpoint written or loaded
        # set only when resuming mid-epoch: restored just before the first resumed step
        self.pending_rng: dict | None = None
        self.segment_start = time.perf_counter()

    # --- checkpoints ---------------------------------------------------------------------
    def resume(self) -> None:
        """Load checkpoint_dir/last.pt, if there is one, and continue from it exactly."""
        if not self.ckpt_path.exists():
            return
        ckpt = load_checkpoint(self.ckpt_path)
        try:
            self._restore(ckpt)
        except AvlibError:  # a changed config or sampler says so itself
            raise
        except (KeyError, TypeError, ValueError, AttributeError, IndexError, RuntimeError) as e:
            first = " ".join(str(e).split("\n")[0].split())
            raise CheckpointError(
                f"{self.ckpt_path}: does not fit this run ({type(e).__name__}: {first}); "
                "another model or data in the same checkpoint_dir? use a new one or delete it"
            ) from e

    def _restore(self, ckpt: dict) -> None:
        """Model, optimiser, schedulers, monitors, progress, data and RNG from ``ckpt``."""
        self._check_compatible(ckpt)
        self.model.load_state_dict(ckpt["model"])
        if self.loss_module is not None:
            self.loss_module.load_state_dict(ckpt["loss"])
        self.optimizer.load_state_dict(ckpt["optimizer"])
        if self.scheduler is not None:
            self.scheduler.load_state_dict(ckpt["scheduler"])
        self.chance.load_state_dict(ckpt["chance"])
        self.state = _Progress(**ckpt["progress"])
        data_state = ckpt["data"][self.d.rank]
        if hasattr(self.data, "load_state_dict") and data_state is not None:
            self.data.load_state_dict(data_state)
        self.resumed_from = self.saved_at = self.state.step
        self.pending_rng = ckpt["rng"][self.d.rank]
        if self.state.batch_in_epoch == 0:  # at an epoch boundary nothing runs in between
            set_rng_state(self.pending_rng)
            self.pending_rng = None

    def _check_compatible(self, ckpt: dict) -> None:
        saved, now = ckpt["config"], dataclasses.asdict(self.cfg)
        changed = sorted(k for k in now if k not in OPERATIONAL and saved.get(k) != now[k])
        if changed:
            diffs = ", ".join(f"{k}: {saved.get(k)!r} -> {now[k]!r}" for k in changed)
            raise TrainingError(
                f"{self.ckpt_path}: cannot resume with a different config ({diffs}); "
                "use a new checkpoint_dir or the original settings"
            )
        if ckpt["world_size"] != self.d.world:
            raise TrainingError(
                f"{self.ckpt_path}: written by {ckpt['world_size']} process(es), resumed with "
                f"{self.d.world}; resume with the same number of processes"
            )

    def checkpoint(self) -> None:
        """Every rank hands its RNG and data state to rank 0, which writes the file."""
        if self.ckpt_path is None:
            return
        self.saved_at = self.state.step
        data_state = self.data.state_dict() if hasattr(self.data, "state_dict") else None
        parts = gather((rng_state(self.d.device), data_state), self.d)
        if self.d.rank != 0:
            return
        wall = self.state.wall_s + time.perf_counter() - self.segment_start
        progress = dataclasses.asdict(dataclasses.replace(self.state, wall_s=wall))
        save_checkpoint(
            self.ckpt_path,
            {
                "model": self.model.state_dict(),
                "loss": self.loss_module.state_dict() if self.loss_module is not None else None,
                "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
                "chance": self.chance.state_dict(),
                "progress": progress,
                "rng": [p[0] for p in parts],
                "data": [p[1] for p in parts],
                "config": dataclasses.asdict(self.cfg),
                "world_size": self.d.world,
            },
        )

    # --- the loop ------------------------------------------------------------------------
    def fit(self) -> None:
        """Run the remaining epochs and steps; checkpoint as configured and at the end."""
        cfg, st = self.cfg, self.state
        self.log = MetricsLog(cfg.metrics_path, self.d.rank == 0, st.log_lines)
        self.net = self.model
        if self.d.world > 1:
            self.net = nn.parallel.DistributedDataParallel(
                self.model,
                device_ids=[self.d.device.index] if self.d.device.type == "cuda" else None,
                find_unused_parameters=cfg.find_unused_parameters,
            )
        for epoch in range(st.epoch, cfg.epochs):
            if st.step >= self.total:
                break
            self._run_epoch(epoch)
            if cfg.checkpoint_every == 0:
                self.checkpoint()
        if self.saved_at != st.step:
            self.checkpoint()

    def _batches(self, epoch: int) -> Iterator[dict]:
        """The epoch's batches: from its start, or from where a resumed checkpoint left it."""
        mid_epoch = self.pending_rng is not None
        restored = mid_epoch and hasattr(self.data, "load_state_dict")
        if not restored and hasattr(self.data, "set_epoch"):
            self.data.set_epoch(epoch)
        if not mid_epoch:
            self.state.sums = {}
        ctx = HookContext(epoch, self.state.step, self.model, self.optimizer, {})
        _call_hooks(self.hooks, "on_epoch_start", ctx)
        batches = iter(self.data)
        if mid_epoch and not restored:
            for _ in range(self.state.batch_in_epoch):
                next(batches)
        if mid_epoch:
            set_rng_state(self.pending_rng)
            self.pending_rng = None
        return batches

    def _run_epoch(self, epoch: int) -> None:
        """One epoch (possibly resumed mid-way, possibly cut short by max_steps)."""
        cfg, st = self.cfg, self.state
        self.model.train()
        bar = progress_bar(
            total=self.steps_per_epoch,
            initial=st.batch_in_epoch,
            desc=f"epoch {epoch + 1}/{cfg.epochs}",
            disable=not (cfg.progress and self.d.rank == 0),
            leave=False,
            dynamic_ncols=True,
        )
        batches, waited = self._batches(epoch), time.perf_counter()
        for batch in batches:
            started = time.perf_counter()
            st.data_wait_s += started - waited
            if st.batch_in_epoch >= self.steps_per_epoch:
                raise TrainingError(
                    f"train_data yielded more than len() = {self.steps_per_epoch} batches in "
                    f"epoch {epoch}; its load_state_dict must restore the position"
                )
            values = self._step(batch, epoch)
            st.samples += _batch_size(batch)
            waited = time.perf_counter()
            st.step_s += waited - started
            bar.update(1)
            bar.set_postfix(loss=f"{values['loss']:.4f}", refresh=False)
            if cfg.checkpoint_every and st.step % cfg.checkpoint_every == 0:
                self.checkpoint()
            if st.step >= self.total:
                break
        bar.close()
        self._end_epoch(epoch)

    def _step(self, batch: dict, epoch: int) -> dict[str, float]:
        """Forward, loss, backward, checks, optimiser step, records."""
        cfg, st, d = self.cfg, self.state, self.d
        batch = to_device(batch, d.device, self.channels_last)
        with autocast(cfg, d.device):
            out = self.net(batch)
        loss, metrics = self.loss_fn(batch, out)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if d.world > 1:  # DDP averages the model's gradients, not the loss's
            for p in self.loss_params:
                if p.grad is not None:
                    p.grad.copy_(mean_over_ranks(p.grad, d))
        keys = sorted({"loss", *metrics})
        metrics = {"loss": loss.detach(), **metrics}
        stacked = torch.stack([torch.as_tensor(metrics[k], dtype=torch.float32) for k in keys])
        values = dict(zip(keys, mean_over_ranks(stacked, d).tolist(), strict=True))
        if not math.isfinite(values["loss"]):
            terms = ", ".join(f"{k}={v:.6g}" for k, v in values.items())
            raise TrainingError(
                f"non-finite loss at step {st.step + 1} (epoch {epoch}): {terms}; lower the "
                "learning rate, clip gradients (grad_clip) or check the batch for NaN/inf"
            )
        if cfg.grad_clip is not None:
            norm = float(torch.nn.utils.clip_grad_norm_(self.params, cfg.grad_clip))
            if not math.isfinite(norm):
                raise TrainingError(
                    f"non-finite gradient norm at step {st.step + 1} (epoch {epoch}); "
                    f"loss terms: {values}"
                )
        self.optimizer.step()
        lr = self.optimizer.param_groups[0]["lr"]
        if cfg.scheduler == "cosine":
            self.scheduler.step()
        st.step += 1
        st.batch_in_epoch += 1
        for k, v in values.items():
            st.sums[k] = st.sums.get(k, 0.0) + v
        self.chance.update(values)
        if st.step % cfg.log_every == 0:
            record = {"step": st.step, "epoch": epoch, "lr": lr, **values}
            st.steps.append(record)
            self.log.write("step", record)
            st.log_lines += 1
        return values

    def _end_epoch(self, epoch: int) -> None:
        """Epoch means, validation, epoch-level schedulers, hooks; roll over a full epoch."""
        cfg, st = self.cfg, self.state
        n = st.batch_in_epoch
        record = {"epoch": epoch, "step": st.step, "lr": self.optimizer.param_groups[0]["lr"]}
        record.update({k: v / max(n, 1) for k, v in st.sums.items()})
        if self.val_data is not None or self.val_fn is not None:
            record.update(self._validate())
        if cfg.scheduler == "step":
            self.scheduler.step()
        elif cfg.scheduler == "plateau":
            key = f"val_{cfg.plateau_metric}"
            self.scheduler.step(record.get(key, record.get(cfg.plateau_metric)))
        st.history.append(record)
        self.log.write("epoch", record)
        st.log_lines += 1
        ctx = HookContext(epoch, st.step, self.model, self.optimizer, record)
        _call_hooks(self.hooks, "on_epoch_end", ctx)
        if n == self.steps_per_epoch:
            st.epoch, st.batch_in_epoch = epoch + 1, 0

    def _validate(self) -> dict[str, float]:
        """Rank 0 evaluates; every rank gets the numbers (a plateau scheduler needs them)."""
        metrics = None
        if self.d.rank == 0:
            if self.val_fn is None:
                metrics = evaluate(self.model, self.loss_fn, self.val_data, self.cfg, self.d.device)
            else:
                self.model.eval()
                with torch.no_grad():
                    metrics = self.val_fn(self.model, self.val_data)
                self.model.train()
        metrics = from_rank0(metrics, self.d)
        return {f"val_{k}": float(v) for k, v in metrics.items()}

    def result(self) -> TrainResult:
        """The finished run's :class:`TrainResult`."""
        st = self.state
        report = self.chance.report()
        return TrainResult(
            history=st.history,
            steps=st.steps,
            final_metrics=dict(st.history[-1]) if st.history else {},
            flags=["stuck_at_chance"] if report and report["stuck"] else [],
            wall_time_s=round(st.wall_s + time.perf_counter() - self.segment_start, 3),
            steps_done=st.step,
            epochs_done=st.epoch,
            resumed_from_step=self.resumed_from,
            chance=report,
            timing=_timing(st),
        )


def _call_hooks(hooks: Sequence, name: str, ctx: HookContext) -> None:
    for hook in hooks:
        method = getattr(hook, name, None)
        if method is not None:
            method(ctx)


def train(
    model: nn.Module,
    loss_fn,
    train_data,
    cfg: TrainConfig,
    *,
    val_data: Iterable[dict] | None = None,
    val_fn=None,
    hooks: Sequence = (),
) -> TrainResult:
    """Train ``model`` on ``train_data`` with ``loss_fn`` as ``cfg`` says.

    ``val_fn(model, val_data) -> dict`` runs at every epoch end on rank 0 with
    the model in eval mode and no gradients (default: the mean of ``loss_fn``'s
    metrics over ``val_data``, when given); its numbers join the epoch record
    prefixed ``val_``. With ``cfg.resume`` a finished run returns its stored
    result without training.
    """
    if not hasattr(train_data, "__len__"):
        raise ConfigError("train_data needs __len__ (batches per epoch)")
    with distributed(cfg.device) as d, deterministic(cfg.deterministic):
        seed_everything(cfg.seed + d.rank)
        run = _Run(model, loss_fn, train_data, cfg, d, val_data, val_fn, hooks)
        if cfg.resume:
            run.resume()
        run.fit()
        return run.result()
