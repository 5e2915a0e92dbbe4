"""AVTS runs (PAPERS.md §2); the chapter is ``avlib/chapters/avts.py``.

Two experiments, each one results file per seed under results/<profile>/avts/:

- ``avts-ablation``: the pretext ablation and everything its nets are used for.
  Five conditions train the same AVTS net on synchronisation pairs from the
  data layer's :class:`~avlib.data.samplers.shifts.AVTSSampler`: ``easy`` (easy
  negatives only), ``hardstart`` (easy:hard 3:1 from the first epoch),
  ``curriculum`` (the paper's: easy only, then easy:hard 3:1), ``superhard``
  (the curriculum with super-hard negatives added after the switch) and
  ``bce`` (the curriculum's pairs, binary cross-entropy instead of the
  contrastive loss). Each is scored on one fixed test set of positives and
  easy, hard and super-hard negatives (balanced accuracy per negative kind at
  the threshold chosen on validation pairs of that kind). Downstream: frozen
  audio features + linear SVM on the ESC-50 analogue (curriculum, easy-only,
  random init) beside MFCC + SVM; a frozen video probe on the UCF101
  analogue for every condition; the curriculum net fine-tuned on the UCF101
  and HMDB51 analogues (3 splits each). The downstream probes and fine-tuning
  are in :mod:`avlib.experiments.avts_eval`.
- ``avts-scratch``: the same fine-tuning recipe from random initialisation.

Training runs through the one trainer in two stages per condition, split at
the curriculum's switch epoch, each with Adam and a cosine schedule with
warm-up; the conditions whose first stage is identical (easy-only,
curriculum, curriculum + super-hard: easy negatives, contrastive loss, same
seed) share one trained first stage, exactly as separate runs would compute
it on a CPU (deterministic), at a third of the cost. Every epoch logs the
sampler's state (mix, share of each negative kind, aliases left) beside the
held-out sync accuracy, so the switch shows in the history.

Deviations: pretext pairs come from the AudioSet analogue (talking faces and
impacts; the paper's best downstream numbers came from AudioSet pre-training)
or, for a ``data_root`` without AudioSet, from Kinetics; the schedule has a
warm restart at the switch (the paper: x0.1 on a plateau); fine-tuning uses
whole clips of ``Setup.action_s`` and a linear head on the video features.
"""

from __future__ import annotations

import copy
import math
from dataclasses import asdict, dataclass

import numpy as np
import torch

from avlib.atomic import write_json
from avlib.data.cache import ClipArrays
from avlib.data.datasets import Batches
from avlib.data.layouts import open_dataset
from avlib.data.samplers.base import KINDS
from avlib.data.samplers.shifts import AVTSSampler, Curriculum, event_period
from avlib.errors import LayoutError
from avlib.eval.calibration import esc_mfcc_svm
from avlib.experiments import RunContext, RunOutput, register
from avlib.experiments.avts_eval import (
    action_data,
    esc_probe,
    finetune_all,
    video_features,
    video_probe,
)
from avlib.experiments.common import (
    EVAL_SEED,
    data_record,
    load_audio_clips,
    load_clips,
    split_by_position,
    train_config,
)
from avlib.models import build, get_config
from avlib.models.avts import pretext_loss
from avlib.train import TrainResult, train

PAPER = "avts"
EXPERIMENTS = ("avts-ablation", "avts-scratch")
CONDITIONS = ("easy", "hardstart", "curriculum", "superhard", "bce")
NEGATIVES = ("easy", "hard", "superhard")


@dataclass(frozen=True)
class Setup:
    """Data, budget and evaluation of the AVTS experiments at one profile."""

    pretext: tuple[str, ...] = ("audioset", "kinetics_sounds")  # first layout the data holds
    pretext_s: float = 4.0  # seconds read from each pretext clip (shorter clips: skips)
    epochs: int = 9  # curriculum epochs (the paper's 90, scaled); the switch: round(50/90 x)
    epoch_steps: int = 24  # optimiser steps per epoch (a held-out evaluation after each)
    warmup: float = 0.1  # share of each stage's steps spent warming the learning rate up
    superhard_weight: float = 1.0  # 'superhard' condition: easy:hard:super-hard 3:1:w
    alias_tolerance: float = 1.0  # frames: a same-clip shift this near k x period is an alias
    val_pairs: int = 480  # validation pairs (thresholds, learning curve), a third per kind
    test_pairs: int = 1440  # fixed test pairs: half positive, a sixth per negative kind
    esc_s: float = 5.0  # seconds of each ESC-50 clip (all of it)
    svm_C: float = 0.1  # ESC probe: linear SVM on standardised features
    probe_C: float = 1.0  # frozen video probe on the action clips (logistic regression)
    action_s: float = 1.6  # seconds of each action clip the video net sees (fine-tune, probe)
    finetune_steps: int = 60  # per split
    finetune_batch: int = 16
    finetune_lr: float = 2e-3
    tsne_points: int = 300  # action clips kept for the t-SNE figure


SETUPS = {
    "smoke": Setup(
        pretext_s=3.0,
        epochs=3,
        epoch_steps=3,
        val_pairs=48,
        test_pairs=96,
        finetune_steps=4,
        finetune_batch=8,
        tsne_points=40,
    ),
    # quick at 24 steps per epoch and 60 fine-tuning steps: the notebook took 369 s on 2 cores;
    # the held-out curves still gained up to 7.7 points over their last quarter and fine-tuning
    # from scratch stayed under twice chance, so the rest of the 10 minutes goes to steps
    "quick": Setup(epoch_steps=36, finetune_steps=100),
    "full": Setup(
        pretext_s=6.0,
        epochs=18,
        epoch_steps=120,  # 8,400 pretext steps per seed (3 first stages, 5 second ones)
        warmup=0.05,
        val_pairs=1500,
        test_pairs=6000,
        action_s=3.2,
        finetune_steps=600,
        finetune_batch=32,
        finetune_lr=1e-3,
        tsne_points=600,
    ),
}


def _config(profile: str) -> dict:
    return {"avts": asdict(get_config("avts", profile)), "setup": asdict(SETUPS[profile])}


# --- the conditions: a loss and a curriculum each ------------------------------------------


def switch_epoch(setup: Setup) -> int:
    """The epoch (0-based) where the curriculum adds hard negatives: 50 of 90, scaled."""
    return Curriculum.avts(setup.epochs).stages[1][0]


def curriculum(condition: str, setup: Setup) -> Curriculum:
    """The negative mix per epoch of a condition, always in two stages split at the switch."""
    switch = switch_epoch(setup)
    later = {
        "easy": (("easy", 1.0),),
        "hardstart": (("easy", 3.0), ("hard", 1.0)),
        "curriculum": (("easy", 3.0), ("hard", 1.0)),
        "superhard": (("easy", 3.0), ("hard", 1.0), ("superhard", setup.superhard_weight)),
        "bce": (("easy", 3.0), ("hard", 1.0)),
    }[condition]
    first = later if condition == "hardstart" else (("easy", 1.0),)
    return Curriculum(((0, first), (switch, later)))


def loss_of(condition: str) -> str:
    """The pretext loss a condition trains with."""
    return "bce" if condition == "bce" else "contrastive"


# --- data ------------------------------------------------------------------------------------


def pretext_data(ctx: RunContext, cfg, setup: Setup):
    """(layout, train, val, test) clips of the first pretext data set the data holds; val is
    the data set's own, or every 5th training clip where it has none (AudioSet)."""
    for layout in setup.pretext:
        try:
            root = ctx.dataset(layout)
        except LayoutError:
            continue
        index = open_dataset(root)
        splits = {s: index.subset(split=s) for s in ("train", "val", "test")}
        if not splits["val"].items:
            splits["train"], splits["val"] = split_by_position(splits["train"])
        clips = [
            load_clips(
                splits[s], dur_s=setup.pretext_s, fps=cfg.fps, size=cfg.frame_size, sr=cfg.sr,
                progress=ctx.progress,
            )
            for s in ("train", "val", "test")
        ]  # fmt: skip
        return (layout, *clips)
    raise LayoutError(
        ctx.data_root or "the world", f"holds none of the pretext data sets {setup.pretext}"
    )


def periods(arrays: ClipArrays, fps: float) -> np.ndarray | None:
    """Each clip's event period in frames (NaN: not periodic); None without ground truth."""
    if any(i.truth is None or "events_s" not in i.truth for i in arrays.items):
        return None
    return np.array([event_period(i.truth["events_s"], fps) for i in arrays.items])


def _sampler(arrays, cfg, setup, mix, n, seed) -> AVTSSampler:
    return AVTSSampler(
        len(arrays),
        arrays.frames.shape[1],
        window_frames=cfg.clip_frames,
        curriculum=Curriculum.constant(**dict(mix)),
        min_hard_shift=cfg.frames_of(cfg.min_hard_shift_s),
        max_superhard_shift=cfg.frames_of(cfg.max_superhard_shift_s),
        samples_per_epoch=n,
        periods=periods(arrays, cfg.fps),
        alias_tolerance=setup.alias_tolerance,
        seed=seed,
    )


def fixed_pairs(arrays: ClipArrays, cfg, setup: Setup, n: int, seed: int = EVAL_SEED):
    """A fixed pair set: half positives, the negatives a third each easy, hard, super-hard."""
    sampler = _sampler(arrays, cfg, setup, {k: 1.0 for k in NEGATIVES}, n, seed)
    sampler.set_epoch(0)
    return Batches(arrays, sampler, 128, drop_last=False), sampler


# --- scoring ---------------------------------------------------------------------------------


@torch.no_grad()
def pair_distances(model, batches, device: str) -> tuple[np.ndarray, np.ndarray]:
    """Embedding distance and negative kind (KINDS index; 0 = positive) of every pair."""
    was = model.training
    model.eval()
    dist, kind = [], []
    for batch in batches:
        out = model({k: batch[k].to(device) for k in ("video", "audio")})
        dist.append(out["distance"].float().cpu())
        kind += [KINDS.index(m["kind"]) for m in batch["meta"]]
    model.train(was)
    return torch.cat(dist).numpy(), np.array(kind)


def balanced_accuracy(dist, kind, negative: str, threshold: float) -> float:
    """Mean of the positives' and one negative kind's accuracy at ``threshold`` (chance 0.5)."""
    pos, neg = dist[kind == 0], dist[kind == KINDS.index(negative)]
    return float(((pos <= threshold).mean() + (neg > threshold).mean()) / 2)


def best_threshold(dist, kind, negative: str) -> float:
    """The distance threshold that maximises the balanced accuracy against ``negative``."""
    candidates = np.unique(dist[(kind == 0) | (kind == KINDS.index(negative))])
    accs = [balanced_accuracy(dist, kind, negative, t) for t in candidates]
    return float(candidates[int(np.argmax(accs))])


def _held_out(device):
    def val_fn(model, val) -> dict:
        d, k = pair_distances(model, val, device)
        return {
            ("acc" if neg == "easy" else f"acc_{neg}"): balanced_accuracy(
                d, k, neg, best_threshold(d, k, neg)
            )
            for neg in NEGATIVES
        }

    return val_fn


def curve_gain(result: TrainResult, key: str = "val_acc") -> float:
    """Held-out accuracy gained over the last quarter of training: a flattened curve gains ~0."""
    history = [h for h in result.history if key in h]
    last = history[-1]
    quarter = min(history, key=lambda h: abs(h["step"] - 0.75 * last["step"]))
    return float(last[key] - quarter[key])


# --- training in stages -----------------------------------------------------------------------


class SamplerLog:
    """Trainer hook: the sampler's state at the start of every epoch (global epoch and step)."""

    def __init__(self, sampler: AVTSSampler, first_epoch: int, first_step: int):
        self.sampler, self.first_epoch, self.first_step = sampler, first_epoch, first_step
        self.records: list[dict] = []

    def on_epoch_start(self, ctx) -> None:
        """Record the mix and the negatives of the epoch about to run."""
        state = self.sampler.state(ctx.epoch)
        state["epoch"] = self.first_epoch + ctx.epoch
        state["step"] = self.first_step + ctx.step
        self.records = [r for r in self.records if r["epoch"] != state["epoch"]] + [state]


def _stage(ctx, name, model, data, val, setup, stage, n_stages, first_epoch, first_step):
    """One curriculum stage: ``stage`` = (epochs, mix); returns the run and the sampler log."""
    cfg = model.cfg
    epochs, mix = stage
    steps = epochs * setup.epoch_steps
    seed = ctx.seed * 1000 + first_epoch  # each stage draws its own pairs
    sampler = _sampler(data, cfg, setup, mix, setup.epoch_steps * cfg.batch_size, seed)
    log = SamplerLog(sampler, first_epoch, first_step)
    tc = train_config(
        ctx, name, steps, setup.epoch_steps, lr=cfg.lr, weight_decay=cfg.weight_decay,
        scheduler="cosine", warmup_steps=round(setup.warmup * steps),
    )  # fmt: skip
    batches = Batches(data, sampler, cfg.batch_size)
    result = train(
        model, pretext_loss(cfg), batches, tc, val_data=val, val_fn=_held_out(ctx.device),
        hooks=(log,),
    )  # fmt: skip
    write_json(ctx.run_dir / name / "sampler.json", log.records)
    return result, log.records


def chain(parts: list[tuple[TrainResult, list[dict], bool]]) -> TrainResult:
    """Stages run one after another as one run: epochs and steps continue, each epoch's record
    carries the sampler's state; ``parts`` = (result, sampler log, count its time)."""
    history, steps, flags = [], [], []
    step0 = epoch0 = 0
    wall = 0.0
    for result, log, counted in parts:
        state = {r["epoch"]: r for r in log}
        for h in result.history:
            epoch = h["epoch"] + epoch0
            extra = {k: v for k, v in state.get(epoch, {}).items() if k.endswith("_share")}
            history.append({**h, **extra, "epoch": epoch, "step": h["step"] + step0})
        steps += [{**s, "epoch": s["epoch"] + epoch0, "step": s["step"] + step0}
                  for s in result.steps]  # fmt: skip
        flags += [f for f in result.flags if f not in flags]
        wall += result.wall_time_s if counted else 0.0
        step0 += result.steps_done
        epoch0 += result.epochs_done
    last = parts[-1][0]
    return TrainResult(
        history, steps, dict(history[-1]) if history else {}, flags, round(wall, 3), step0,
        epoch0, last.resumed_from_step, last.chance,
    )  # fmt: skip


def train_conditions(ctx, train_a, val, setup, init, conditions=CONDITIONS):
    """Every condition from the same initial weights; first stages shared where identical."""
    done: dict[tuple, tuple] = {}  # (loss, first mix) -> (state after stage 1, result, log)
    models, results = {}, {}
    for condition in conditions:
        cur = curriculum(condition, setup)
        (_, first), (switch, later) = cur.stages
        loss = loss_of(condition)
        key = (loss, first)
        model = build("avts", ctx.profile, loss=loss)
        shared = key in done
        if not shared:
            model.load_state_dict(init)
            name = f"{loss}-{'-'.join(k for k, _ in first)}-stage1"
            r1, log1 = _stage(ctx, name, model, train_a, val, setup, (switch, first), 2, 0, 0)
            done[key] = (copy.deepcopy(model.state_dict()), r1, log1)
        state, r1, log1 = done[key]
        model.load_state_dict(state)
        r2, log2 = _stage(
            ctx, f"{condition}-stage2", model, train_a, val, setup,
            (setup.epochs - switch, later), 2, switch, r1.steps_done,
        )  # fmt: skip
        models[condition] = model
        results[condition] = chain([(r1, log1, not shared), (r2, log2, True)])
    return models, results


# --- the experiments ---------------------------------------------------------------------------


@register("avts-ablation", paper=PAPER, config=_config)
def avts_ablation(ctx: RunContext) -> RunOutput:
    """AVTS pretext ablation (negatives, curriculum, loss), downstream probes and fine-tuning."""
    setup, cfg = SETUPS[ctx.profile], get_config("avts", ctx.profile)
    layout, train_a, val_a, test_a = pretext_data(ctx, cfg, setup)
    random = build("avts", ctx.profile)  # drawn first: the init every condition starts from
    init = copy.deepcopy(random.state_dict())
    val, _ = fixed_pairs(val_a, cfg, setup, setup.val_pairs, EVAL_SEED + 1)
    test, test_sampler = fixed_pairs(test_a, cfg, setup, setup.test_pairs)
    models, runs = train_conditions(ctx, train_a, val, setup, init)
    metrics, arrays = {}, {}
    for condition, model in models.items():
        d_val, k_val = pair_distances(model, val, ctx.device)
        d, k = pair_distances(model, test, ctx.device)
        for neg in NEGATIVES:
            threshold = best_threshold(d_val, k_val, neg)
            metrics[f"sync_{neg}_{condition}"] = balanced_accuracy(d, k, neg, threshold)
        metrics[f"sync_{condition}"] = (
            metrics[f"sync_easy_{condition}"] + metrics[f"sync_hard_{condition}"]
        ) / 2
        metrics[f"gain_{condition}"] = curve_gain(runs[condition])
        arrays[f"distance_{condition}"], arrays[f"kind_{condition}"] = d, k
    test_windows = test_sampler.windows(0)
    same = np.isin(test_windows.kind, [KINDS.index("hard"), KINDS.index("superhard")])
    metrics["test_alias_share"] = float(
        test_sampler.aliases(test_windows).sum() / max(same.sum(), 1)
    )
    # downstream: frozen audio (ESC-50) and video (action sets) features, fine-tuning
    esc_index = open_dataset(ctx.dataset("esc50"))
    esc = load_audio_clips(esc_index, dur_s=setup.esc_s, sr=cfg.sr, progress=ctx.progress)
    metrics["esc_mfcc"] = float(esc_mfcc_svm(esc_index.root)["accuracy"].mean())
    for name, net in (("curriculum", models["curriculum"]), ("easy", models["easy"]),
                      ("random", random)):  # fmt: skip
        metrics[f"esc_{name}"] = esc_probe(net, esc, setup, ctx.device)
    actions = action_data(ctx, cfg, setup)
    for name, net in (*models.items(), ("random", random)):
        features = video_features(net, actions["ucf101"], ctx.device)
        metrics[f"ucf_probe_{name}"] = video_probe(features, actions["ucf101"], setup)
        if name == "curriculum":
            shown = np.random.default_rng(ctx.seed).permutation(len(features))
            shown = np.sort(shown[: setup.tsne_points])
            arrays["tsne_features"] = features[shown]
            arrays["tsne_labels"] = actions["ucf101"].labels[shown]
    tuned, tuned_runs = finetune_all(ctx, models["curriculum"], actions, setup, "avts")
    metrics.update(tuned)
    runs.update(tuned_runs)
    extra = {
        "pretext": layout,
        "switch_epoch": switch_epoch(setup),
        "switch_step": switch_epoch(setup) * setup.epoch_steps,
        "action_classes": actions["ucf101"].classes,
        "periodic_clips": _periodic_share(train_a, cfg.fps),
    }
    data = data_record(
        pretext_train=train_a, pretext_val=val_a, pretext_test=test_a, esc50=esc,
        ucf101=actions["ucf101"], hmdb51=actions["hmdb51"],
    )  # fmt: skip
    return RunOutput(metrics=metrics, train=runs, extra=extra, arrays=arrays, data=data)


def _periodic_share(arrays: ClipArrays, fps: float) -> float | None:
    p = periods(arrays, fps)
    return None if p is None else float(np.isfinite(p).mean())


@register("avts-scratch", paper=PAPER, config=_config)
def avts_scratch(ctx: RunContext) -> RunOutput:
    """The fine-tuning recipe of avts-ablation from random initialisation (training from scratch)."""
    setup, cfg = SETUPS[ctx.profile], get_config("avts", ctx.profile)
    actions = action_data(ctx, cfg, setup)
    metrics, runs = finetune_all(ctx, build("avts", ctx.profile), actions, setup, "scratch")
    data = data_record(ucf101=actions["ucf101"], hmdb51=actions["hmdb51"])
    return RunOutput(metrics=metrics, train=runs, data=data)


def expected_hard_share(setup: Setup, epoch: int) -> float:
    """The share of hard negatives the paper's curriculum puts in ``epoch`` (0 or 1/4)."""
    mix = Curriculum.avts(setup.epochs).mix(epoch)
    return mix.get("hard", 0.0) / math.fsum(mix.values())
