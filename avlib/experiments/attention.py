"""Attention modules for AV synchronisation: runs (PAPERS.md §5); the chapter is
``avlib/chapters/attention.py``.

One experiment per aggregator, each one results file per seed under
results/<profile>/attention/<experiment>/: ``attention-average`` (the
baseline), ``attention-temporal`` and ``attention-spatiotemporal``. Each
trains its model (``avlib/models/attention.py``) on the AudioSet analogue's
speech clips (train split; every ``val_every``-th clip held out for the
learning curve): a window of ``n_chunks`` chunks of video with its own audio
(in sync) or with the audio of the same clip at least ``min_shift_s`` away
(not in sync, :class:`~avlib.data.samplers.shifts.ShiftedNegativeSampler`). Then, on
fixed pairs of the same kind:

- sync accuracy on the speech test clips, and on impact clips (a domain never
  seen in training), with the confidence (P(in sync)) of positive and negative
  pairs and its ROC AUC;
- convergence: the step at which the held-out accuracy first reaches
  ``target_acc`` (the run's length when it never does, flagged by
  ``reached_target``);
- where the attention goes (world only: it needs the per-chunk truth of
  ``avbook_truth.jsonl``): on in-sync windows that start on a chunk boundary,
  how often the highest-weight chunk holds the event, and (spatio-temporal)
  how often the highest-weight position lies on the event's box, each beside
  the rate of a uniformly random pick on the same windows (windows that
  hold the event in at least one chunk; the others have nothing to find).

Deviations: a chunk is one second read at the model's ``fps`` (the paper:
25 frames); windows of ``n_chunks`` chunks cut from short clips, so shifted
negatives lie at most ``clip_s`` minus the window away; Adam with a cosine
schedule and warm-up (the paper gives no schedule).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import roc_auc_score

from avlib.data.cache import ClipArrays
from avlib.data.datasets import Batches
from avlib.data.index import DataIndex
from avlib.data.layouts import open_dataset
from avlib.data.samplers.shifts import ShiftedNegativeSampler
from avlib.errors import ConfigError, LayoutError
from avlib.experiments import RunContext, RunOutput, register
from avlib.experiments.common import (
    EVAL_SEED,
    accuracy,
    data_record,
    eval_pairs,
    load_clips,
    train_config,
)
from avlib.losses import CrossEntropyLoss
from avlib.models import build, get_config
from avlib.train import train

PAPER = "attention"
EXPERIMENTS = ("attention-average", "attention-temporal", "attention-spatiotemporal")
SPEECH = ("Speech", "Male speech, man speaking", "Female speech, woman speaking")
IMPACTS = ("Knock", "Thump, thud", "Clang", "Tap", "Bang")  # AudioSet's impact display names


@dataclass(frozen=True)
class Setup:
    """Data, budget and evaluation of the attention experiments at one profile."""

    clip_s: float = 4.0  # seconds read from each AudioSet clip (the world's quick clips: 4 s)
    min_shift_s: float = 0.5  # a negative's audio is at least this far from its video
    steps: int = 300  # training steps of each model
    epoch_steps: int = 25  # steps between held-out evaluations (the learning curve's points)
    warmup: float = 0.05  # share of the steps spent warming the learning rate up
    val_every: int = 5  # every 5th training speech clip is held out for the learning curve
    val_pairs: int = 256  # held-out pairs (half in sync)
    eval_pairs: int = 1000  # fixed test pairs per test set (half in sync)
    target_acc: float = 0.65  # convergence: steps until the held-out accuracy first reaches it
    region_cover: float = 0.1  # a position 'holds' a box covering this share of its cell
    examples: int = 4  # speech test clips kept for the attention figures


SETUPS = {
    "smoke": Setup(
        clip_s=3.0, steps=8, epoch_steps=4, val_every=3, val_pairs=16, eval_pairs=32,
        target_acc=0.55, examples=2,
    ),
    "quick": Setup(
        min_shift_s=1.0, steps=240, epoch_steps=24, eval_pairs=512, target_acc=0.75,
    ),
    "full": Setup(
        clip_s=6.0, steps=3000, epoch_steps=100, val_pairs=1000, eval_pairs=4000,
        target_acc=0.75,
    ),
}  # fmt: skip


def _config(model: str):
    def config(profile: str) -> dict:
        return {model: asdict(get_config(model, profile)), "setup": asdict(SETUPS[profile])}

    return config


# --- data ---------------------------------------------------------------------------------------


def _has(item, names: tuple[str, ...]) -> bool:
    return any(label in names for label in item.labels)


def _every(index: DataIndex, k: int, keep: bool) -> DataIndex:
    """Every ``k``-th item (``keep``) or all the others."""
    return replace(index, items=[i for n, i in enumerate(index.items) if (n % k == k - 1) == keep])


def audioset_splits(index: DataIndex, val_every: int) -> dict[str, DataIndex]:
    """Speech train / val / test and impact clips of an AudioSet index (impacts from every split:
    the net never trains on them)."""
    speech = replace(index, items=[i for i in index.items if _has(i, SPEECH)])
    impacts = replace(
        index, items=[i for i in index.items if _has(i, IMPACTS) and not _has(i, SPEECH)]
    )
    train_all = speech.subset(split="train")
    out = {
        "train": _every(train_all, val_every, keep=False),
        "val": _every(train_all, val_every, keep=True),
        "test": speech.subset(split="test"),
        "impacts": impacts,
    }
    empty = [k for k, v in out.items() if not v.items]
    if empty:
        raise LayoutError(
            index.root,
            f"no {' or '.join(empty)} clips: the attention runs need speech clips in both "
            f"segment csvs and impact clips ({', '.join(IMPACTS)})",
        )
    return out


def _load(ctx: RunContext, cfg, setup: Setup) -> dict[str, ClipArrays]:
    splits = audioset_splits(open_dataset(ctx.dataset("audioset")), setup.val_every)
    loaded = {
        name: load_clips(index, dur_s=setup.clip_s, fps=cfg.fps, size=cfg.frame_size, sr=cfg.sr,
                         progress=ctx.progress)
        for name, index in splits.items()
    }  # fmt: skip
    for name, arrays in loaded.items():
        if len(arrays) == 0:
            raise LayoutError(
                splits[name].root, f"every {name} clip was skipped: {arrays.skipped[:3]}"
            )
    return loaded


def _sampler(arrays: ClipArrays, cfg, setup: Setup, seed: int, samples: int):
    """In-sync windows vs the same clip's audio at least ``min_shift_s`` away (half each)."""
    return ShiftedNegativeSampler(
        len(arrays),
        arrays.frames.shape[1],
        window_frames=cfg.clip_frames,
        min_shift=max(1, round(setup.min_shift_s * cfg.fps)),
        samples_per_epoch=samples,
        seed=seed,
    )


def _pairs(arrays: ClipArrays, cfg, setup: Setup, n: int) -> Batches:
    return eval_pairs(arrays, _sampler(arrays, cfg, setup, EVAL_SEED, n), batch_size=64)


# --- training and evaluation ------------------------------------------------------------------


def _train(ctx: RunContext, name: str, model, data: dict[str, ClipArrays], setup: Setup):
    cfg = model.cfg
    samples = setup.epoch_steps * cfg.batch_size
    batches = Batches(data["train"], _sampler(data["train"], cfg, setup, ctx.seed, samples),
                      cfg.batch_size)  # fmt: skip
    val = _pairs(data["val"], cfg, setup, setup.val_pairs)
    tc = train_config(
        ctx, name, setup.steps, len(batches), lr=cfg.lr, weight_decay=cfg.weight_decay,
        scheduler="cosine", warmup_steps=round(setup.warmup * setup.steps),
    )  # fmt: skip

    def held_out(m, pairs):
        return {"acc": accuracy(m, pairs, ctx.device)}

    return train(model, CrossEntropyLoss(), batches, tc, val_data=val, val_fn=held_out)


def convergence(history: list[dict], target: float, steps: int) -> dict[str, float]:
    """Step at which the held-out accuracy first reaches ``target`` (``steps`` when it never
    does: censored), that step as a share of the run, whether it was reached, and the
    held-out accuracy gained over the last quarter of training (a flattened curve gains ~0)."""
    curve = [h for h in history if "val_acc" in h]
    if not curve:
        raise ConfigError(
            "no held-out evaluations in the history: nothing to read convergence from"
        )
    hit = next((h["step"] for h in curve if h["val_acc"] >= target), None)
    last = curve[-1]
    quarter = min(curve, key=lambda h: abs(h["step"] - 0.75 * last["step"]))
    reached = hit is not None
    return {
        "steps_to_target": float(hit if reached else steps),
        "steps_to_target_share": float((hit if reached else steps) / steps),
        "reached_target": float(reached),
        "val_gain_last_quarter": float(last["val_acc"] - quarter["val_acc"]),
    }


@torch.no_grad()
def confidences(model, pairs: Batches, device: str) -> tuple[np.ndarray, np.ndarray]:
    """P(in sync) of every pair and the pairs' labels (eval mode)."""
    model.eval()
    probs, labels = [], []
    for batch in pairs:
        batch = {k: v.to(device) if torch.is_tensor(v) else v for k, v in batch.items()}
        probs.append(F.softmax(model(batch)["logits"].float(), dim=1)[:, 1].cpu())
        labels.append(batch["label"].cpu())
    return torch.cat(probs).numpy(), torch.cat(labels).numpy()


def _window(arrays: ClipArrays, clip: int, first: int, frames: int) -> dict:
    """The in-sync window of ``frames`` video frames from ``first``, with its audio, as a batch."""
    spf = round(arrays.sr / arrays.fps)
    video = np.asarray(arrays.frames[clip, first : first + frames])  # (T,H,W,3)
    audio = arrays.waveform(np.array([clip]))[0, first * spf : (first + frames) * spf]
    return {
        "video": torch.from_numpy(video).permute(3, 0, 1, 2)[None].float() / 255,
        "audio": torch.from_numpy(np.ascontiguousarray(audio))[None].float(),
    }


def cell_hits(box, h: int, w: int, cover: float) -> np.ndarray:
    """(h, w) booleans: the grid cells that hold ``box`` ([x0, y0, x1, y1] in [0, 1]): it covers
    at least ``cover`` of the cell, or its centre lies in the cell."""
    x0, y0, x1, y1 = box
    xs, ys = np.arange(w + 1) / w, np.arange(h + 1) / h
    ox = np.clip(np.minimum(xs[1:], x1) - np.maximum(xs[:-1], x0), 0, None) * w
    oy = np.clip(np.minimum(ys[1:], y1) - np.maximum(ys[:-1], y0), 0, None) * h
    covered = oy[:, None] * ox[None, :] >= cover
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    centre = np.zeros((h, w), bool)
    centre[min(int(cy * h), h - 1), min(int(cx * w), w - 1)] = True
    return covered | centre


def _chunk_truth(item, cfg) -> tuple[np.ndarray, list] | None:
    """Per file chunk: event (bool) and box, when the truth has chunks of the model's length."""
    truth = item.truth or {}
    if "chunk_events" not in truth or abs(truth.get("chunk_s", 0) - cfg.chunk_s) > 1e-6:
        return None
    return np.asarray(truth["chunk_events"], bool), truth["chunk_boxes"]


@torch.no_grad()
def attention_truth(model, arrays: ClipArrays, setup: Setup, device: str) -> dict[str, float]:
    """How often the highest-weight chunk (and, with position weights, position) holds the
    event, against a uniformly random pick, on every chunk-aligned in-sync window that holds
    the event in at least one chunk, of clips with per-chunk truth; {} when no clip has it
    (real data)."""
    cfg, model = model.cfg, model.eval()
    chunk_hit, chunk_chance, region_hit, region_chance = [], [], [], []
    for clip, item in enumerate(arrays.items):
        truth = _chunk_truth(item, cfg)
        if truth is None:
            continue
        events, boxes = truth
        n_file = min(len(events), arrays.frames.shape[1] // cfg.chunk_frames)
        for first in range(n_file - cfg.n_chunks + 1):
            ev = events[first : first + cfg.n_chunks]
            if not ev.any():  # nothing to find: such a window would score a miss for both
                continue
            batch = _window(arrays, clip, first * cfg.chunk_frames, cfg.clip_frames)
            out = model({k: v.to(device) for k, v in batch.items()})
            weights = out["chunk_weights"][0].cpu().numpy()
            chunk_hit.append(float(ev[_argmax(weights)]))
            chunk_chance.append(float(ev.mean()))
            if "position_weights" in out:
                grid = out["position_weights"][0].sum(dim=1).cpu().numpy()  # (K,h,w)
                k, h, w = grid.shape
                cells = np.stack([
                    cell_hits(boxes[first + c], h, w, setup.region_cover) if ev[c]
                    else np.zeros((h, w), bool)
                    for c in range(k)
                ])  # fmt: skip
                region_hit.append(float(cells.flat[_argmax(grid.ravel())]))
                region_chance.append(float(cells.mean()))
    if not chunk_hit:
        return {}
    out = {"top_chunk_hit": np.mean(chunk_hit), "top_chunk_chance": np.mean(chunk_chance),
           "windows_scored": float(len(chunk_hit))}  # fmt: skip
    if region_hit:
        out |= {"top_region_hit": np.mean(region_hit), "top_region_chance": np.mean(region_chance)}
    return {k: float(v) for k, v in out.items()}


def _argmax(x: np.ndarray) -> int:
    """The index of the largest value; ties (the baseline's uniform weights) to the first."""
    return int(np.argmax(x))


@torch.no_grad()
def _examples(model, arrays: ClipArrays, n: int, device: str) -> dict[str, np.ndarray]:
    """The first chunk-aligned window of the first ``n`` clips: a frame per chunk, the audio,
    per-chunk truth and the model's chunk (and position) weights, for the figures."""
    cfg, model = model.cfg, model.eval()
    keep = {k: [] for k in ("frames", "audio", "events", "boxes", "chunk_weights", "grid")}
    for clip in range(min(n, len(arrays))):
        batch = _window(arrays, clip, 0, cfg.clip_frames)
        out = model({k: v.to(device) for k, v in batch.items()})
        middle = np.arange(cfg.n_chunks) * cfg.chunk_frames + cfg.chunk_frames // 2
        keep["frames"].append(np.asarray(arrays.frames[clip, middle]))
        keep["audio"].append(batch["audio"][0].numpy())
        truth = _chunk_truth(arrays.items[clip], cfg)
        events = truth[0][: cfg.n_chunks] if truth else np.zeros(cfg.n_chunks, bool)
        boxes = [b if b else [np.nan] * 4 for b in truth[1][: cfg.n_chunks]] if truth else \
            [[np.nan] * 4] * cfg.n_chunks  # fmt: skip
        keep["events"].append(events)
        keep["boxes"].append(np.asarray(boxes, float))
        keep["chunk_weights"].append(out["chunk_weights"][0].cpu().numpy())
        if "position_weights" in out:
            keep["grid"].append(out["position_weights"][0].sum(dim=1).cpu().numpy())
    return {f"example_{k}": np.stack(v) for k, v in keep.items() if v}


def _run(ctx: RunContext, model_name: str) -> RunOutput:
    setup, cfg = SETUPS[ctx.profile], get_config(model_name, ctx.profile)
    data = _load(ctx, cfg, setup)
    model = build(model_name, ctx.profile)
    result = _train(ctx, model_name.removeprefix("attention-"), model, data, setup)
    metrics = convergence(result.history, setup.target_acc, setup.steps)
    arrays = {}
    for domain, split in (("speech", "test"), ("impact", "impacts")):
        probs, labels = confidences(model, _pairs(data[split], cfg, setup, setup.eval_pairs),
                                    ctx.device)  # fmt: skip
        metrics[f"acc_{domain}"] = float(((probs >= 0.5) == labels).mean())
        metrics[f"auc_{domain}"] = float(roc_auc_score(labels, probs))
        arrays[f"conf_pos_{domain}"], arrays[f"conf_neg_{domain}"] = (
            probs[labels == 1],
            probs[labels == 0],
        )
        where = attention_truth(model, data[split], setup, ctx.device)
        if model_name != "attention-average":  # uniform weights point nowhere
            metrics |= {f"{k}_{domain}": v for k, v in where.items()}
    arrays |= _examples(model, data["test"], setup.examples, ctx.device)
    return RunOutput(
        metrics=metrics,
        train={model_name.removeprefix("attention-"): result},
        extra={"chunk_s": cfg.chunk_s, "n_chunks": cfg.n_chunks},
        arrays=arrays,
        data=data_record(**{f"audioset_{k}": v for k, v in data.items()}),
    )


@register("attention-average", paper=PAPER, config=_config("attention-average"))
def attention_average(ctx: RunContext) -> RunOutput:
    """The baseline: early-fusion sync net with plain averaging over chunks."""
    return _run(ctx, "attention-average")


@register("attention-temporal", paper=PAPER, config=_config("attention-temporal"))
def attention_temporal(ctx: RunContext) -> RunOutput:
    """Temporal attention: a softmax over the chunks' confidences."""
    return _run(ctx, "attention-temporal")


@register("attention-spatiotemporal", paper=PAPER, config=_config("attention-spatiotemporal"))
def attention_spatiotemporal(ctx: RunContext) -> RunOutput:
    """Spatio-temporal attention: a softmax over every position of every chunk."""
    return _run(ctx, "attention-spatiotemporal")
