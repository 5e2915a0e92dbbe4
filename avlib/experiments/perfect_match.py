"""Perfect Match runs (PAPERS.md §3); the chapter is ``avlib/chapters/perfect_match.py``.

Two experiments, each one results file per seed under results/<profile>/perfect_match/:

- ``pm-sync``: SyncNet's streams trained under the three objectives (SyncNet's
  contrastive pairs, AVE-Net's distance -> FC -> binary pairs, Perfect Match's
  multi-way matching over N candidates) on the LRS2 analogue's train and
  pretrain splits, each with its held-out sync accuracy on val clips after
  every epoch (the learning curve). Each net is then scored with the LRS2
  protocol on the test split (offsets -15..+15, distances averaged over
  contexts of K = 5 ... 15 frames, correct within ±1 frame), checked for
  collapse (answers piling up at the edge of the search), run on the sync test
  sets with known shifts at 25 and at 30 fps, and its frozen video front-end
  feeds a TC-5-style back-end for word recognition on the LRW analogue,
  beside the same network trained end to end and a frozen random front-end.
  The multi-way net is exported for ``avlib sync-offset``.
- ``pm-nsweep``: the multi-way objective at several N (2 ... 40), each trained
  with fewer steps than ``pm-sync`` (the same for every N), scored at K = 5
  and 15.

Deviations: the candidates of every objective lie within ±``max_offset``
frames of the video window (pairs: one in-sync and one shifted candidate per
window); several windows per clip per batch (their audio shares one pass of
the fully convolutional audio stream); every net trains with Adam and a
cosine schedule with warm-up; the sync test sets are read through the decoded
cache (their first ``shifted_s`` seconds at 25 fps and 16 kHz, as
``sync-offset`` resamples them); one net per seed and objective serves sync
and word recognition.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch

from avlib.data.cache import ClipArrays, DecodedCache
from avlib.data.datasets import CandidateStripBatches, ClipSampler, EmbeddingBatches, clip_batches
from avlib.data.layouts import find_datasets, open_dataset
from avlib.data.samplers.candidates import OffsetCandidatesSampler
from avlib.eval.sync import collapse_check, context_distances, predict_offsets, sync_offset
from avlib.experiments import RunContext, RunOutput, register
from avlib.experiments.common import accuracy, data_record, train_config
from avlib.losses import ContrastiveLoss, CrossEntropyLoss, MultiWayLoss
from avlib.models import build, get_config
from avlib.models.sync import CandidatePairs, audio_window_frames
from avlib.models.sync_streams import WINDOW
from avlib.sync_offset import model_path, save_model
from avlib.train import train

PAPER = "perfect_match"
EXPERIMENTS = ("pm-sync", "pm-nsweep")
OBJECTIVES = ("syncnet", "sync-avenet", "multiway")  # registered model names
SHIFTED_SETS = ("lrs2_sync", "lrs2_sync_30fps")  # the world's sync test sets (known shifts)
SHORT = {"syncnet": "syncnet", "sync-avenet": "avenet", "multiway": "multiway"}


@dataclass(frozen=True)
class Setup:
    """Data, budget and evaluation of the Perfect Match experiments at one profile."""

    clip_s: float = 2.4  # seconds read from each LRS2 clip (60 frames; shorter clips: skips)
    max_offset: int = 15  # offset search of the LRS2 protocol: -15..+15 frames (PAPERS.md §3)
    contexts: tuple[int, ...] = (5, 7, 9, 11, 13, 15)  # K: frames averaged per prediction
    tolerance: int = 1  # correct within ±1 frame (PAPERS.md §3)
    windows_per_clip: int = 8  # video windows of one clip per batch (they share its audio pass)
    steps: int = 400  # each objective of pm-sync
    epoch_steps: int = 100  # steps between held-out evaluations (the learning curve's points)
    warmup: float = 0.05  # share of the steps spent warming the learning rate up
    val_clips: int = 24  # held-out clips of the learning curve (K = 5)
    sweep_n: tuple[int, ...] = (2, 5, 10, 20, 40)  # pm-nsweep: numbers of candidates
    sweep_steps: int = 200  # pm-nsweep: steps per N (fewer than pm-sync's)
    shifted_s: float = 2.6  # seconds of each sync-test-set clip scored
    lrw_s: float = 1.16  # LRW clips: 29 frames, the word centred
    word_frames: int = 15  # frames around the centre the word classifiers see
    word_steps: int = 150  # TC-5 back-end on frozen features
    word_e2e_steps: int = 150  # the same network trained end to end
    word_batch: int = 32


SETUPS = {
    "smoke": Setup(
        steps=12,
        epoch_steps=6,
        val_clips=4,
        windows_per_clip=4,
        sweep_n=(2, 5),
        sweep_steps=6,
        word_frames=9,
        word_steps=6,
        word_e2e_steps=6,
        word_batch=8,
    ),
    # ~0.12 s a sync step on one uncontended core. At 300 + 150 steps the notebook took 233 s on
    # 2 cores; at 500 + 250, 298 s, with K = 5 accuracy 75-87 % (multi-way), 69-78 % (SyncNet),
    # 68-76 % (AVE-Net) and held-out curves on 24 clips that still gained -0.2 to 14.6 points
    # over their last quarter (noisy: 3 seeds). Hence 900 + 400 steps and a curve on all 40 val
    # clips, every 100 steps (about the same evaluation cost)
    "quick": Setup(
        steps=900,
        epoch_steps=100,
        val_clips=40,
        sweep_n=(2, 10, 40),
        sweep_steps=400,
        word_e2e_steps=100,
    ),
    "full": Setup(
        steps=6000,
        epoch_steps=500,
        val_clips=100,
        sweep_steps=2000,
        word_frames=29,
        word_steps=2000,
        word_e2e_steps=3000,
        word_batch=64,
    ),
}


SWEEP_FIELDS = ("sweep_n", "sweep_steps")


def _config(*models: str, sweep: bool = False):
    """pm-sync's config leaves the sweep's fields out, so changing the sweep keeps its seeds."""

    def config(profile: str) -> dict:
        setup = asdict(SETUPS[profile])
        if not sweep:
            setup = {k: v for k, v in setup.items() if k not in SWEEP_FIELDS}
        return {**{m: asdict(get_config(m, profile)) for m in models}, "setup": setup}

    return config


# --- data ----------------------------------------------------------------------------------------


def _lrs2(ctx: RunContext, cfg, setup: Setup) -> dict[str, ClipArrays]:
    """LRS2's pretrain + train (training), val, the val clips of the learning curve, and test:
    frames at the model's size and audio at its rate, ``clip_s`` of each clip."""
    index = open_dataset(ctx.dataset("lrs2", "lrs2"), "lrs2")
    parts = {
        "train": [i for i in index.items if i.split in ("pretrain", "train")],
        "val": index.subset(split="val").items,
        "val_curve": index.subset(split="val").items[: setup.val_clips],
        "test": index.subset(split="test").items,
    }
    return {
        name: DecodedCache().load(
            replace(index, items=items),
            fps=cfg.fps,
            size=cfg.frame_size,
            sr=cfg.sr,
            dur_s=setup.clip_s,
            progress=ctx.progress,
        )  # fmt: skip
        for name, items in parts.items()
    }


def _speaker(item) -> str:
    """The world's speaker id, or (real LRS2, which has none) the video id."""
    return str((item.truth or {}).get("speaker") or item.source_id or item.rel)


# --- training ------------------------------------------------------------------------------------


def _loss(name: str, cfg):
    if name == "multiway":
        return MultiWayLoss("distance")
    if name == "syncnet":
        return CandidatePairs(ContrastiveLoss(cfg.margin))
    return CandidatePairs(CrossEntropyLoss())


def _sampler(arrays: ClipArrays, cfg, setup: Setup, n: int, seed: int, samples: int):
    return OffsetCandidatesSampler(
        len(arrays), arrays.frames.shape[1], n_candidates=n, max_offset=cfg.max_offset,
        video_frames=WINDOW, audio_frames=audio_window_frames(), centre_audio=True,
        windows_per_clip=setup.windows_per_clip, samples_per_epoch=samples, seed=seed,
    )  # fmt: skip


def _train_sync(ctx, run: str, model, name: str, data: dict, setup: Setup, steps: int, n: int):
    """One objective on train (+ pretrain) windows, sync accuracy on val clips each epoch."""
    cfg, train_a = model.cfg, data["train"]
    samples = setup.epoch_steps * cfg.batch_size
    batches = CandidateStripBatches(
        train_a, _sampler(train_a, cfg, setup, n, ctx.seed, samples), cfg.batch_size
    )
    tc = train_config(
        ctx, run, steps, len(batches), lr=cfg.lr, weight_decay=cfg.weight_decay,
        scheduler="cosine", warmup_steps=round(setup.warmup * steps),
    )  # fmt: skip

    def held_out(m, val):
        return {"acc": sync_scores(m, val, setup, contexts=(5,), device=ctx.device)["acc_k5"]}

    return train(model, _loss(name, cfg), batches, tc, val_data=data["val_curve"], val_fn=held_out)


# --- evaluation ----------------------------------------------------------------------------------


@torch.no_grad()
def clip_features(model, arrays: ClipArrays, device: str = "cpu") -> list[tuple]:
    """Aligned per-frame (video, audio) distance features of every clip, in eval mode."""
    was = model.training
    model.eval()
    out = []
    for c in range(len(arrays)):
        video = torch.from_numpy(np.asarray(arrays.frames[c])).permute(3, 0, 1, 2)[None]
        audio = torch.from_numpy(arrays.waveform(np.array([c])))
        v, a = model.sync_features(video.float().div_(255).to(device), audio.to(device))
        out.append((v[0].cpu().numpy(), a[0].cpu().numpy()))
    model.train(was)
    return out


def sync_scores(model, arrays: ClipArrays, setup: Setup, contexts=None, device="cpu") -> dict:
    """LRS2-protocol sync accuracy ``acc_k<K>`` for each context K (every test window whose
    offsets all fit), with the predictions behind it (``_pred``/``_conf``/``_clip`` per K)."""
    feats = clip_features(model, arrays, device)
    out = {}
    for k in contexts or setup.contexts:
        curves, clips = [], []
        for c, (v, a) in enumerate(feats):
            d = context_distances(v, a, setup.max_offset, k)
            curves.append(d)
            clips.append(np.full(len(d), c))
        d = np.concatenate(curves)
        pred, conf = predict_offsets(d)
        out[f"acc_k{k}"] = float(np.mean(np.abs(pred) <= setup.tolerance))
        out[f"_pred_k{k}"], out[f"_conf_k{k}"], out[f"_clip_k{k}"] = (
            pred,
            conf,
            np.concatenate(clips),
        )
        out[f"_curve_k{k}"] = d.mean(axis=0)
    out["_features"] = feats
    return out


def shifted_accuracy(model, arrays: ClipArrays, setup: Setup, device="cpu") -> tuple[float, list]:
    """Share of the sync test set's clips whose whole-clip offset (``sync-offset``'s rule) is
    within ±tolerance of the truth (the truth's ``offset_s`` at the model's frame rate)."""
    rows = []
    for (v, a), item in zip(clip_features(model, arrays, device), arrays.items, strict=True):
        truth = round((item.truth or {})["offset_s"] * model.cfg.fps)
        rows.append((truth, sync_offset(v, a, setup.max_offset).offset))
    hits = [abs(p - t) <= setup.tolerance for t, p in rows]
    return float(np.mean(hits)), rows


def _shifted_sets(ctx: RunContext, cfg, setup: Setup) -> dict[str, ClipArrays]:
    """The sync test sets at 25 and 30 fps: the world's, or directories of those names in the
    LRS2 layout under ``data_root`` (a copy of the world's; real data sets have no known shifts)."""
    names = SHIFTED_SETS
    if ctx.data_root is not None:
        found = find_datasets(ctx.data_root) if Path(ctx.data_root).is_dir() else {}
        names = [n for n in SHIFTED_SETS if found.get(n) == "lrs2"]
    return {
        name: DecodedCache().load(
            open_dataset(ctx.dataset("lrs2", name), "lrs2"),
            fps=cfg.fps,
            size=cfg.frame_size,
            sr=cfg.sr,
            dur_s=setup.shifted_s,
            progress=ctx.progress,
        )  # fmt: skip
        for name in names
    }


# --- word recognition (LRW) ----------------------------------------------------------------------


def _lrw(ctx: RunContext, cfg, setup: Setup) -> dict[str, ClipArrays]:
    """LRW train / val / test: the ``word_frames`` frames around each clip's centre."""
    index = open_dataset(ctx.dataset("lrw"), "lrw")
    dur = setup.word_frames / cfg.fps
    start = round((setup.lrw_s - dur) / 2 * cfg.fps) / cfg.fps
    return {
        s: DecodedCache().load(
            index.subset(split=s),
            fps=cfg.fps,
            size=cfg.frame_size,
            sr=None,
            dur_s=dur,
            start_s=start,
            progress=ctx.progress,
        )  # fmt: skip
        for s in ("train", "val", "test")
    }


@torch.no_grad()
def _word_features(front, arrays: ClipArrays, device: str) -> torch.Tensor:
    """Per-frame video features (N, 1, T - 4, D) of every clip from a frozen front-end."""
    front.eval()
    rows = [
        front.video_sequence(batch["video"].to(device)).cpu() for batch in clip_batches(arrays, 64)
    ]
    return torch.cat(rows)[:, None]


def _feature_batches(feats: torch.Tensor, labels, batch: int, shuffle: bool, seed: int):
    sampler = ClipSampler(labels, 1, shuffle=shuffle, seed=seed)
    return EmbeddingBatches(feats, feats, sampler, batch, drop_last=shuffle)


def _word_training(ctx, run, model, data, steps, setup, eval_data=None):
    tc = train_config(
        ctx, run, steps, len(data), lr=model.cfg.lr, weight_decay=model.cfg.weight_decay,
        scheduler="cosine", warmup_steps=round(setup.warmup * steps),
    )  # fmt: skip

    def held_out(m, batches):
        return {"acc": accuracy(m, batches, ctx.device)}

    return train(model, CrossEntropyLoss(), data, tc, val_data=eval_data, val_fn=held_out)


def _words_frozen(ctx, run, front, lrw, setup: Setup):
    """TC-5 back-end on a frozen front-end's features: (top-1 on test, TrainResult)."""
    n = len(lrw["train"].classes)
    feats = {s: _word_features(front, a, ctx.device) for s, a in lrw.items()}
    model = build("sync-words", ctx.profile, n_words=n, frozen_frontend=True)
    batch = min(setup.word_batch, len(lrw["train"]))  # a small real tree: one batch an epoch
    train_b = _feature_batches(feats["train"], lrw["train"].labels, batch, True, ctx.seed)
    val_b = _feature_batches(feats["val"], lrw["val"].labels, 256, False, 0)
    val_b.set_epoch(0)
    result = _word_training(ctx, run, model, train_b, setup.word_steps, setup, val_b)
    test_b = _feature_batches(feats["test"], lrw["test"].labels, 256, False, 0)
    test_b.set_epoch(0)
    return accuracy(model, test_b, ctx.device), result


def _words_e2e(ctx, lrw, setup: Setup):
    """The same front-end and back-end trained end to end on the words."""
    model = build("sync-words", ctx.profile, n_words=len(lrw["train"].classes))
    batch = min(setup.word_batch, len(lrw["train"]))
    train_b = clip_batches(lrw["train"], batch, shuffle=True, seed=ctx.seed, drop_last=True)
    result = _word_training(
        ctx, "words-e2e", model, train_b, setup.word_e2e_steps, setup, clip_batches(lrw["val"], 64)
    )
    return accuracy(model, clip_batches(lrw["test"], 64), ctx.device), result


# --- pm-sync -------------------------------------------------------------------------------------


def curve_gain(result) -> float:
    """Held-out accuracy gained over the last quarter of training: a flattened curve gains ~0."""
    history = [h for h in result.history if "val_acc" in h]
    last = history[-1]
    quarter = min(history, key=lambda h: abs(h["step"] - 0.75 * last["step"]))
    return float(last["val_acc"] - quarter["val_acc"])


def _speaker_accuracy(scores: dict, arrays: ClipArrays, k: int) -> dict[str, float]:
    speakers = np.array([_speaker(i) for i in arrays.items])[scores[f"_clip_k{k}"]]
    hits = np.abs(scores[f"_pred_k{k}"]) <= 1
    return {s: float(hits[speakers == s].mean()) for s in sorted(set(speakers))}


@register("pm-sync", paper=PAPER, config=_config(*OBJECTIVES, "sync-words"))
def pm_sync(ctx: RunContext) -> RunOutput:
    """SyncNet, AVE-Net and multi-way objectives: LRS2-protocol sync accuracy and word recognition."""
    setup = SETUPS[ctx.profile]
    cfg = get_config("multiway", ctx.profile)
    data = _lrs2(ctx, cfg, setup)
    shifted = _shifted_sets(ctx, cfg, setup)
    lrw = _lrw(ctx, cfg, setup)
    metrics, runs, arrays, speakers = {}, {}, {}, {}
    random_front = build("multiway", ctx.profile)  # drawn first: a frozen random front-end
    for name in OBJECTIVES:
        short = SHORT[name]
        model = build(name, ctx.profile)
        n = cfg.n_candidates if name == "multiway" else 2
        runs[short] = _train_sync(ctx, short, model, name, data, setup, setup.steps, n)
        scores = sync_scores(model, data["test"], setup, device=ctx.device)
        metrics[f"val_gain_{short}"] = curve_gain(runs[short])
        for k in setup.contexts:
            metrics[f"acc_{short}_k{k}"] = scores[f"acc_k{k}"]
        k_min, k_max = min(setup.contexts), max(setup.contexts)
        report = collapse_check(scores[f"_pred_k{k_min}"], setup.max_offset, true_offsets=
                                np.zeros_like(scores[f"_pred_k{k_min}"]))  # fmt: skip
        metrics[f"edge_fraction_{short}"] = report.edge_fraction
        metrics[f"collapsed_{short}"] = float(report.collapsed)
        arrays[f"curve_{short}"] = scores[f"_curve_k{k_max}"]
        arrays[f"confidence_{short}"] = scores[f"_conf_k{k_max}"]
        arrays[f"correct_{short}"] = np.abs(scores[f"_pred_k{k_max}"]) <= setup.tolerance
        speakers[short] = _speaker_accuracy(scores, data["test"], k_min)
        for set_name, set_arrays in shifted.items():
            fps = "30fps" if set_name.endswith("30fps") else "25fps"
            acc, rows = shifted_accuracy(model, set_arrays, setup, ctx.device)
            metrics[f"shifted_acc_{fps}_{short}"] = acc
            arrays[f"shifted_{fps}_{short}"] = np.array(rows).reshape(-1, 2)
        metrics[f"words_acc_{short}"], runs[f"words-{short}"] = _words_frozen(
            ctx, f"words-{short}", model, lrw, setup
        )
        if name == "multiway":
            save_model(model_path(ctx.run_dir), model, name, profile=ctx.profile, seed=ctx.seed,
                       steps=setup.steps)  # fmt: skip
    # the floor: a back-end on a frozen random front-end is expected near chance, so its
    # training stays out of the trainer's record (its stuck-at-chance flag is not a failure)
    metrics["words_acc_random"], _ = _words_frozen(ctx, "words-random", random_front, lrw, setup)
    metrics["words_acc_e2e"], runs["words-e2e"] = _words_e2e(ctx, lrw, setup)
    metrics["test_clips"] = float(len(data["test"]))
    data_rec = data_record(
        lrs2_train=data["train"], lrs2_val=data["val"], lrs2_test=data["test"],
        lrw_train=lrw["train"], lrw_val=lrw["val"], lrw_test=lrw["test"], **shifted,
    )  # fmt: skip
    extra = {"speaker_accuracy": speakers, "words": lrw["train"].classes,
             "model_file": str(model_path(ctx.run_dir))}  # fmt: skip
    return RunOutput(metrics=metrics, train=runs, extra=extra, arrays=arrays, data=data_rec)


# --- pm-nsweep -----------------------------------------------------------------------------------


@register("pm-nsweep", paper=PAPER, config=_config("multiway", sweep=True))
def pm_nsweep(ctx: RunContext) -> RunOutput:
    """Multi-way matching at several numbers of candidates N (Perfect Match: N = 40 best)."""
    setup = SETUPS[ctx.profile]
    cfg = get_config("multiway", ctx.profile)
    data = _lrs2(ctx, cfg, setup)
    metrics, runs = {}, {}
    k_min, k_max = min(setup.contexts), max(setup.contexts)
    for n in setup.sweep_n:
        model = build("multiway", ctx.profile, n_candidates=n)
        runs[f"n{n}"] = _train_sync(ctx, f"n{n}", model, "multiway", data, setup,
                                    setup.sweep_steps, n)  # fmt: skip
        scores = sync_scores(model, data["test"], setup, contexts=(k_min, k_max),
                             device=ctx.device)  # fmt: skip
        metrics[f"val_gain_n{n}"] = curve_gain(runs[f"n{n}"])
        metrics[f"acc_n{n}_k{k_min}"] = scores[f"acc_k{k_min}"]
        metrics[f"acc_n{n}_k{k_max}"] = scores[f"acc_k{k_max}"]
    best = max(setup.sweep_n, key=lambda n: metrics[f"acc_n{n}_k{k_min}"])
    metrics["best_n"] = float(best)
    metrics["acc_best_minus_n2"] = metrics[f"acc_n{best}_k{k_min}"] - metrics.get(
        f"acc_n{min(setup.sweep_n)}_k{k_min}", np.nan
    )
    data_rec = data_record(lrs2_train=data["train"], lrs2_val=data["val"],
                           lrs2_test=data["test"])  # fmt: skip
    return RunOutput(metrics=metrics, train=runs, extra={"sweep_n": list(setup.sweep_n)},
                     data=data_rec)  # fmt: skip
