"""Look, Listen and Learn experiments (PAPERS.md §1; chapter notebooks/01_l3.ipynb).

Four experiments, each one results file per seed under results/<profile>/l3/:

- ``l3-kinetics``: L3-Net trained on AVC on the Kinetics-Sounds analogue's
  train split; AVC accuracy on fixed test pairs; k-means NMI of its vision and
  audio embeddings of every clip vs a random-init net of the same architecture (and t-SNE data).
- ``l3-supervised``: the paper's two supervised baselines on the same data:
  a vision and an audio classifier trained on class labels, then (a) *direct
  combination*: the correspondence score is the scalar product of their class
  distributions, thresholded on the validation pairs; (b) *supervised
  pretraining*: their towers, frozen, with L3's fusion layers trained on AVC.
- ``l3-flickr``: L3-Net trained on the unlabelled Flickr-SoundNet analogue;
  AVC accuracy on held-out clips; then frozen features: audio (1 s windows,
  back to back, mean SVM decision per clip) on the ESC-50 analogue (5 folds) and
  the DCASE analogue (5 folds), vision per layer (conv1-conv4, global max
  pool, logistic regression) on the ImageNet analogue; each against the same
  net at random init.
- ``l3-localisation``: Objects that Sound's AVOL-Net trained on AVC on the
  Kinetics-Sounds analogue; its audio-to-vision similarity maps scored against
  the world's ground-truth boxes (pointing game, cIoU at our stated threshold,
  AUC, AP50) vs a centre prior.

Deviations: single frames at ``Setup.fps`` and towers scaled by the model
preset; the supervised-pretraining baseline freezes the supervised towers (the
paper gives no detail we could find; freezing is the cheaper reading); the
audio probe's C is ours (the L3 paper gives none).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from avlib.claims import Row
from avlib.data.cache import ClipArrays, DecodedCache
from avlib.data.datasets import Batches, EmbeddingBatches, clip_batches
from avlib.data.layouts import open_dataset
from avlib.data.media import probe
from avlib.data.samplers import AVCSampler
from avlib.errors import LayoutError, ResultsError
from avlib.eval.embeddings import kmeans_nmi
from avlib.eval.localisation import centre_prior_map, localisation_scores
from avlib.eval.probes import extract_features, fold_probe
from avlib.experiments import RunContext, RunOutput, register
from avlib.experiments.common import (
    EVAL_SEED,
    accuracy,
    config_record,
    eval_pairs,
    load_audio_clips,
    load_clips,
    split_by_position,
    train_config,
)
from avlib.losses import CrossEntropyLoss
from avlib.models import build, get_config
from avlib.results import difference_ci, load_seeds
from avlib.train import train

PAPER = "l3"
EXPERIMENTS = ("l3-kinetics", "l3-supervised", "l3-flickr", "l3-localisation")
VISION_LAYERS = ("vision.block1", "vision.block2", "vision.block3", "vision.block4")


@dataclass(frozen=True)
class Setup:
    """Data and training budget of the L3 experiments at one profile."""

    fps: int = 5  # frames per second kept from each clip (L3 looks at single frames)
    audio_s: float = 1.0  # audio around a frame (paper: 1 s)
    avc_steps: int = 600  # optimiser steps of an AVC training run (quick: the notebook in < 10 min)
    classifier_steps: int = 400  # each supervised classifier
    fusion_steps: int = 300  # fusion layers on frozen supervised towers
    samples_per_epoch: int = 6400
    eval_pairs: int = 2000  # fixed AVC evaluation pairs per test set (half positive)
    window_hop_s: float = 1.0  # audio probes: 1 s windows, back to back
    svm_C: float = 0.1  # audio probes (linear SVM on standardised features)
    image_C: float = 1.0  # vision probe (logistic regression on standardised features)
    frames_per_clip: int = 3  # localisation: frames scored per test clip
    examples: int = 8  # localisation examples kept for the figure (best and worst)


SETUPS = {
    "smoke": Setup(
        avc_steps=12, classifier_steps=6, fusion_steps=10, samples_per_epoch=128, eval_pairs=64
    ),
    "quick": Setup(),
    "full": Setup(
        avc_steps=6000,
        classifier_steps=2000,
        fusion_steps=1000,
        samples_per_epoch=64_000,
        eval_pairs=10_000,
    ),
}


# --- shared pieces ------------------------------------------------------------------------------


def _frames(setup: Setup) -> int:
    return round(setup.audio_s * setup.fps)


def _avc_sampler(arrays: ClipArrays, setup: Setup, seed: int, samples: int) -> AVCSampler:
    """Frames with the audio around them, from the same clip (label 1) or another (label 0)."""
    clip_frames = arrays.frames.shape[1]
    return AVCSampler(
        len(arrays),
        clip_frames,
        video_frames=1,
        audio_frames=_frames(setup),
        samples_per_epoch=samples,
        seed=seed,
    )


def _train(ctx, name, model, arrays, setup, steps, lr, wd, batch_size, label_key="label"):
    """One training run on AVC pairs of ``arrays`` (the label decides what is learnt)."""
    data = Batches(
        arrays, _avc_sampler(arrays, setup, ctx.seed, setup.samples_per_epoch), batch_size
    )
    cfg = train_config(ctx, name, steps, len(data), lr=lr, weight_decay=wd)
    return train(model, CrossEntropyLoss(label_key=label_key), data, cfg)


def _avc_accuracy(model, arrays: ClipArrays, setup: Setup, device: str) -> float:
    """AVC accuracy on the fixed evaluation pairs of ``arrays``."""
    pairs = eval_pairs(arrays, _avc_sampler(arrays, setup, EVAL_SEED, setup.eval_pairs))
    return accuracy(model, pairs, device)


def _centre_window(audio: torch.Tensor, n: int) -> torch.Tensor:
    start = (audio.shape[-1] - n) // 2
    return audio[..., start : start + n]


@torch.no_grad()
def _clip_embeddings(model, arrays: ClipArrays, sr: int, device: str) -> dict[str, np.ndarray]:
    """Vision (middle frame) and audio (middle 1 s) embeddings of every clip, in eval mode."""
    model.eval()
    video, audio = [], []
    for batch in clip_batches(arrays, 64):
        video.append(model.embed_video(batch["video"].to(device)).cpu())
        audio.append(model.embed_audio(_centre_window(batch["audio"], sr).to(device)).cpu())
    return {"video": torch.cat(video).numpy(), "audio": torch.cat(audio).numpy()}


def _model_config(ctx: RunContext, name: str = "l3", **overrides):
    return get_config(name, ctx.profile, **overrides)


def _kinetics(ctx: RunContext, cfg, setup: Setup, splits=("train", "test")) -> list[ClipArrays]:
    index = open_dataset(ctx.dataset("kinetics_sounds"))
    return [
        load_clips(
            index.subset(split=s),
            fps=setup.fps,
            size=cfg.frame_size,
            sr=cfg.sr,
            progress=ctx.progress,
        )
        for s in splits
    ]


def _skips(**arrays: ClipArrays) -> dict:
    """Every file left out of each split, with the reason (counted skips go into the results)."""
    return {k: [{"path": s.path, "reason": s.reason} for s in a.skipped] for k, a in arrays.items()}


# --- l3-kinetics --------------------------------------------------------------------------------


@register("l3-kinetics", paper=PAPER)
def l3_kinetics(ctx: RunContext) -> RunOutput:
    """L3-Net on AVC (Kinetics-Sounds analogue): accuracy, NMI and t-SNE data vs random init."""
    setup, cfg = SETUPS[ctx.profile], _model_config(ctx)
    train_a, test_a = _kinetics(ctx, cfg, setup)
    random = build("l3", ctx.profile)  # drawn first: the same init the trained net starts from
    model = build("l3", ctx.profile)
    model.load_state_dict(random.state_dict())
    result = _train(
        ctx, "l3", model, train_a, setup, setup.avc_steps, cfg.lr, cfg.weight_decay, cfg.batch_size
    )
    # NMI and t-SNE over every clip (labels are never used in training)
    emb, emb_random = (
        {
            k: np.concatenate(
                [_clip_embeddings(m, a, cfg.sr, ctx.device)[k] for a in (train_a, test_a)]
            )
            for k in ("video", "audio")
        }
        for m in (model, random)
    )
    labels = np.concatenate([train_a.labels, test_a.labels])
    # the world's truth names each clip's scene (background and ambient bed): what else clusters?
    scene_names = [(i.truth or {}).get("scene") for a in (train_a, test_a) for i in a.items]
    scenes = sorted(set(scene_names)) if None not in scene_names else []
    groupings = {"": labels}
    if scenes:
        groupings["_scene"] = np.array([scenes.index(s) for s in scene_names])
    metrics = {"avc_acc": _avc_accuracy(model, test_a, setup, ctx.device)}
    for modality in ("video", "audio"):
        name = "vision" if modality == "video" else "audio"
        for suffix, target in groupings.items():
            metrics[f"nmi_{name}{suffix}"] = kmeans_nmi(emb[modality], target, seed=ctx.seed)
            metrics[f"nmi_{name}{suffix}_random"] = kmeans_nmi(
                emb_random[modality], target, seed=ctx.seed
            )
    arrays = {"video_emb": emb["video"], "audio_emb": emb["audio"], "labels": labels}
    if scenes:
        arrays["scenes"] = groupings["_scene"]
    return RunOutput(
        metrics=metrics,
        config=config_record(model=cfg, setup=setup),
        train=result,
        extra={
            "skipped": _skips(train=train_a, test=test_a),
            "classes": test_a.classes,
            "scenes": scenes,
        },
        arrays=arrays,
    )


# --- l3-supervised ------------------------------------------------------------------------------


@torch.no_grad()
def _window_tables(vision, audio, arrays: ClipArrays, setup: Setup, device: str):
    """Embeddings of every frame (N,T,D) and every 1 s audio window start (N,T-k+1,D)."""
    vision.eval(), audio.eval()
    n, t = arrays.frames.shape[:2]
    k, spf = _frames(setup), arrays.sr // setup.fps
    v_rows, a_rows = [], []
    for c in range(0, n, 16):
        frames = torch.from_numpy(np.asarray(arrays.frames[c : c + 16]))  # (b,T,H,W,3)
        b = frames.shape[0]
        video = frames.reshape(b * t, 1, *frames.shape[2:]).permute(0, 4, 1, 2, 3).float() / 255
        v_rows.append(vision.embed_video(video.to(device)).cpu().view(b, t, -1))
        wave = torch.from_numpy(arrays.waveform(np.arange(c, c + b)))
        windows = wave.unfold(-1, k * spf, spf)[:, : t - k + 1]  # (b, T-k+1, samples)
        emb = audio.embed_audio(windows.reshape(-1, k * spf).to(device)).cpu()
        a_rows.append(emb.view(b, t - k + 1, -1))
    return torch.cat(v_rows), torch.cat(a_rows)


@torch.no_grad()
def _direct_scores(vision, audio, pairs: Batches, device: str) -> tuple[np.ndarray, np.ndarray]:
    """Scalar product of the two classifiers' class distributions, and the pair labels."""
    vision.eval(), audio.eval()
    scores, labels = [], []
    for batch in pairs:
        pv = F.softmax(vision({"video": batch["video"].to(device)})["logits"], dim=1)
        pa = F.softmax(audio({"audio": batch["audio"].to(device)})["logits"], dim=1)
        scores.append((pv * pa).sum(dim=1).cpu())
        labels.append(batch["label"])
    return torch.cat(scores).numpy(), torch.cat(labels).numpy()


def _best_threshold(scores: np.ndarray, labels: np.ndarray) -> float:
    """The threshold on ``scores`` that maximises accuracy (chosen on validation pairs)."""
    candidates = np.unique(scores)
    accs = [((scores >= t) == labels).mean() for t in candidates]
    return float(candidates[int(np.argmax(accs))])


@register("l3-supervised", paper=PAPER)
def l3_supervised(ctx: RunContext) -> RunOutput:
    """The supervised baselines of L3 Table 1: direct combination and supervised pretraining."""
    setup = SETUPS[ctx.profile]
    train_a, val_a, test_a = _kinetics(ctx, _model_config(ctx), setup, ("train", "val", "test"))
    n_classes = len(train_a.classes)
    runs, towers = {}, {}
    for tower, key in (("vision", "video_class"), ("audio", "audio_class")):
        cfg = _model_config(ctx, "l3-classifier", tower=tower, n_classes=n_classes)
        towers[tower] = build("l3-classifier", ctx.profile, tower=tower, n_classes=n_classes)
        runs[tower] = _train(
            ctx,
            f"{tower}-classifier",
            towers[tower],
            train_a,
            setup,
            setup.classifier_steps,
            cfg.lr,
            cfg.weight_decay,
            cfg.batch_size,
            key,
        )
    vision, audio = towers["vision"], towers["audio"]
    test_pairs = eval_pairs(test_a, _avc_sampler(test_a, setup, EVAL_SEED, setup.eval_pairs))
    val_pairs = eval_pairs(val_a, _avc_sampler(val_a, setup, EVAL_SEED, setup.eval_pairs))
    threshold = _best_threshold(*_direct_scores(vision, audio, val_pairs, ctx.device))
    scores, labels = _direct_scores(vision, audio, test_pairs, ctx.device)
    # supervised pretraining: L3's fusion layers on the frozen supervised towers
    cfg = _model_config(ctx)
    fusion = build("l3", ctx.profile).requires_grad_(False)
    fusion.fusion.requires_grad_(True)
    sampler = _avc_sampler(train_a, setup, ctx.seed, setup.samples_per_epoch)
    data = EmbeddingBatches(
        *_window_tables(vision, audio, train_a, setup, ctx.device), sampler, cfg.batch_size
    )
    tc = train_config(
        ctx, "fusion", setup.fusion_steps, len(data), lr=cfg.lr, weight_decay=cfg.weight_decay
    )
    runs["fusion"] = train(fusion, CrossEntropyLoss(), data, tc)
    test_tables = _window_tables(vision, audio, test_a, setup, ctx.device)
    test_sampler = _avc_sampler(test_a, setup, EVAL_SEED, setup.eval_pairs)
    test_emb = EmbeddingBatches(*test_tables, test_sampler, 256, drop_last=False)
    test_emb.set_epoch(0)
    metrics = {
        "vision_acc": accuracy(vision, test_pairs, ctx.device, key="video_class"),
        "audio_acc": accuracy(audio, test_pairs, ctx.device, key="audio_class"),
        "avc_acc_direct": float(((scores >= threshold) == labels).mean()),
        "avc_acc_pretrained": accuracy(fusion, test_emb, ctx.device),
    }
    return RunOutput(
        metrics=metrics,
        config=config_record(model=cfg, setup=setup, direct_threshold=threshold),
        train=runs,
        extra={"skipped": _skips(train=train_a, val=val_a, test=test_a)},
    )


# --- l3-flickr: AVC on unlabelled video, then transfer -----------------------------------------


@torch.no_grad()
def _audio_window_features(model, arrays: ClipArrays, setup: Setup, device: str):
    """Embeddings of 1 s windows every ``window_hop_s`` of every clip, and each window's clip."""
    model.eval()
    win, hop = round(setup.audio_s * arrays.sr), round(setup.window_hop_s * arrays.sr)
    feats, clip_ids = [], []
    for c in range(0, len(arrays), 32):
        wave = torch.from_numpy(arrays.waveform(np.arange(c, min(c + 32, len(arrays)))))
        windows = wave.unfold(-1, win, hop)  # (b, W, win)
        b, w = windows.shape[:2]
        feats.append(model.embed_audio(windows.reshape(b * w, win).to(device)).cpu())
        clip_ids.append(np.repeat(np.arange(c, c + b), w))
    return torch.cat(feats).numpy(), np.concatenate(clip_ids)


def _audio_probe(model, arrays: ClipArrays, setup: Setup, device: str) -> float:
    """Mean accuracy over the data set's folds of a linear SVM on frozen window features."""
    feats, clips = _audio_window_features(model, arrays, setup, device)
    folds = np.array([arrays.items[c].fold for c in clips])
    return fold_probe(
        feats, arrays.labels[clips], folds, C=setup.svm_C, clip_ids=clips, seed=0
    ).accuracy


def _vision_probe(model, train_a: ClipArrays, val_a: ClipArrays, setup: Setup, device: str) -> dict:
    """Top-1 of a logistic-regression probe per vision layer, trained on train, tested on val."""
    feats = [
        extract_features(
            model.embed_video,
            clip_batches(a, 128),
            VISION_LAYERS,
            input_key="video",
            keep=("video_class",),
            pool="max",
            device=device,
        )
        for a in (train_a, val_a)
    ]
    folds = np.r_[np.zeros(len(train_a)), np.ones(len(val_a))]
    labels = np.r_[train_a.labels, val_a.labels]
    out = {}
    for k, layer in enumerate(VISION_LAYERS, start=1):
        x = np.concatenate([f[layer] for f in feats])
        out[f"probe_block{k}"] = fold_probe(
            x, labels, folds, classifier="logistic", C=setup.image_C, test_folds=[1]
        ).accuracy
    return out


@register("l3-flickr", paper=PAPER)
def l3_flickr(ctx: RunContext) -> RunOutput:
    """L3-Net on the Flickr-SoundNet analogue; AVC accuracy and frozen-feature transfer vs random init."""
    setup, cfg = SETUPS[ctx.profile], _model_config(ctx)
    flickr = open_dataset(ctx.dataset("flickr_soundnet"))
    train_a, test_a = (
        load_clips(i, fps=setup.fps, size=cfg.frame_size, sr=cfg.sr, progress=ctx.progress)
        for i in split_by_position(flickr)
    )
    random = build("l3", ctx.profile)
    model = build("l3", ctx.profile)
    model.load_state_dict(random.state_dict())
    result = _train(
        ctx, "l3", model, train_a, setup, setup.avc_steps, cfg.lr, cfg.weight_decay, cfg.batch_size
    )
    esc = load_audio_clips(open_dataset(ctx.dataset("esc50")), sr=cfg.sr, progress=ctx.progress)
    dcase = load_audio_clips(
        open_dataset(ctx.dataset("dcase2013")), sr=cfg.sr, progress=ctx.progress
    )
    images = open_dataset(ctx.dataset("imagefolder", "imagenet"))
    img_train, img_val = (
        DecodedCache().load(images.subset(split=s), size=cfg.frame_size, progress=ctx.progress)
        for s in ("train", "val")
    )
    metrics = {"avc_acc": _avc_accuracy(model, test_a, setup, ctx.device)}
    for suffix, net in (("", model), ("_random", random)):
        metrics[f"esc50_acc{suffix}"] = _audio_probe(net, esc, setup, ctx.device)
        metrics[f"dcase_acc{suffix}"] = _audio_probe(net, dcase, setup, ctx.device)
        probes = _vision_probe(net, img_train, img_val, setup, ctx.device)
        metrics.update({f"{k}{suffix}": v for k, v in probes.items()})
    skipped = _skips(
        train=train_a,
        test=test_a,
        esc50=esc,
        dcase=dcase,
        images_train=img_train,
        images_val=img_val,
    )
    return RunOutput(
        metrics=metrics,
        config=config_record(model=cfg, setup=setup),
        train=result,
        extra={"skipped": skipped},
    )


# --- l3-localisation: AVOL-Net ------------------------------------------------------------------


def _truth_boxes(arrays: ClipArrays, frames: np.ndarray) -> list[list]:
    """Ground-truth boxes of the sounding objects at cached frame indices ``frames`` (per clip)."""
    out = []
    for item, f in zip(arrays.items, frames, strict=True):
        if not item.truth or "boxes" not in item.truth:
            raise LayoutError(
                item.path, "localisation needs ground-truth boxes (avbook_truth.jsonl)"
            )
        native_fps = len(item.truth["boxes"]) / probe(item.path).duration_s
        out.append(
            [
                item.truth["boxes"][
                    min(int(round(t / arrays.fps * native_fps)), len(item.truth["boxes"]) - 1)
                ]
                for t in f
            ]
        )
    return out


@torch.no_grad()
def _localise(model, arrays: ClipArrays, setup: Setup, device: str):
    """Similarity maps at ``frames_per_clip`` frames of every clip, with frames and boxes."""
    model.eval()
    k, spf, t = _frames(setup), arrays.sr // setup.fps, arrays.frames.shape[1]
    frames = np.linspace(k // 2, t - (k - k // 2), setup.frames_per_clip).round().astype(int)
    frames = np.tile(frames, (len(arrays), 1))
    boxes = _truth_boxes(arrays, frames)
    images, maps, gts = [], [], []
    for c in range(len(arrays)):
        img = np.asarray(arrays.frames[c, frames[c]])  # (F,H,W,3)
        wave = torch.from_numpy(arrays.waveform(np.array([c]))[0])
        audio = torch.stack([wave[(f - k // 2) * spf : (f - k // 2 + k) * spf] for f in frames[c]])
        video = torch.from_numpy(img).permute(0, 3, 1, 2).unsqueeze(2).float() / 255
        sim = model.localisation_map(video.to(device), audio.to(device))
        up = F.interpolate(sim[:, None], size=img.shape[1:3], mode="bilinear", align_corners=False)[
            :, 0
        ]
        for j in range(len(img)):
            if boxes[c][j]:  # frames with a visible sounding object only
                images.append(img[j]), maps.append(up[j].cpu().numpy()), gts.append(boxes[c][j])
    return np.stack(images), np.stack(maps), gts


def _padded(boxes: list[list], width: int = 4) -> np.ndarray:
    """Ragged lists of boxes as an (N, max boxes, 4) array padded with NaN."""
    most = max(len(b) for b in boxes)
    out = np.full((len(boxes), most, width), np.nan)
    for i, b in enumerate(boxes):
        out[i, : len(b)] = b
    return out


@register("l3-localisation", paper=PAPER)
def l3_localisation(ctx: RunContext) -> RunOutput:
    """AVOL-Net (Objects that Sound): sound localisation vs a centre prior on ground-truth boxes."""
    setup, cfg = SETUPS[ctx.profile], _model_config(ctx, "avol")
    train_a, test_a = _kinetics(ctx, cfg, setup)
    model = build("avol", ctx.profile)
    result = _train(
        ctx,
        "avol",
        model,
        train_a,
        setup,
        setup.avc_steps,
        cfg.lr,
        cfg.weight_decay,
        cfg.batch_size,
    )
    images, maps, boxes = _localise(model, test_a, setup, ctx.device)
    ours = localisation_scores(maps, boxes)
    centre = localisation_scores(
        np.broadcast_to(centre_prior_map(maps.shape[1:]), maps.shape), boxes
    )
    metrics = {"avc_acc": _avc_accuracy(model, test_a, setup, ctx.device)}
    for suffix, s in (("", ours), ("_centre", centre)):
        metrics.update(
            {
                f"pointing{suffix}": s.pointing,
                f"ciou{suffix}": s.ciou,
                f"auc{suffix}": s.auc,
                f"ap50{suffix}": s.ap50,
            }
        )
    order = np.argsort(ours.cious)
    keep = np.r_[order[::-1][: setup.examples // 2], order[: setup.examples // 2]]
    return RunOutput(
        metrics=metrics,
        config=config_record(model=cfg, setup=setup, ciou_threshold=ours.threshold),
        train=result,
        extra={"skipped": _skips(train=train_a, test=test_a), "frames_scored": ours.n},
        arrays={
            "images": images[keep],
            "maps": maps[keep],
            "boxes": _padded([boxes[i] for i in keep]),
            "ciou": np.asarray(ours.cious)[keep],
        },
    )


# --- the chapter's tables: the paper's numbers (REFERENCES ids) beside ours ---------------------

_KIN, _SUP, _FLI, _LOC = (f"{PAPER}/{e}" for e in EXPERIMENTS)
_LAYERS = [f"probe_block{i}" for i in range(1, 5)]
TABLES: dict[str, list[Row]] = {
    "avc": [
        Row("AVC, Kinetics-Sounds: L3-Net", "l3/avc-kinetics-sounds/l3", _KIN, "avc_acc", "L3-1"),
        Row(
            "AVC, Kinetics-Sounds: supervised pretraining",
            "l3/avc-kinetics-sounds/supervised",
            _SUP,
            "avc_acc_pretrained",
            "L3-1",
        ),
        Row(
            "AVC, Kinetics-Sounds: direct combination",
            "l3/avc-kinetics-sounds/direct-combination",
            _SUP,
            "avc_acc_direct",
            "L3-2",
        ),
        Row("AVC, Flickr-SoundNet: L3-Net", "l3/avc-flickr-soundnet/l3", _FLI, "avc_acc"),
        Row("supervised vision classifier, top-1 (34 classes)", None, _SUP, "vision_acc"),
        Row("supervised audio classifier, top-1 (34 classes)", None, _SUP, "audio_acc"),
    ],
    "audio": [
        Row("ESC-50: L3 audio features", "l3/esc50/l3", _FLI, "esc50_acc", "L3-3"),
        Row("ESC-50: random-init features", "l3/esc50/random", _FLI, "esc50_acc_random", "L3-3"),
        Row("ESC-50: SoundNet features", "l3/esc50/soundnet"),
        Row("DCASE 2013: L3 audio features", "l3/dcase2013/l3", _FLI, "dcase_acc", "L3-3"),
        Row(
            "DCASE 2013: random-init features",
            "l3/dcase2013/random",
            _FLI,
            "dcase_acc_random",
            "L3-3",
        ),
        Row("DCASE 2013: SoundNet features", "l3/dcase2013/soundnet"),
    ],
    "vision": [
        Row(
            f"ImageNet analogue, conv{i}: {net}",
            f"l3/ilsvrc-conv4/{ref}" if i == 4 else None,
            _FLI,
            f"{m}{suffix}",
            "L3-4" if i == 4 else None,
        )
        for net, ref, suffix in (("L3", "l3", ""), ("random init", "random", "_random"))
        for i, m in enumerate(_LAYERS, start=1)
    ],
    "nmi": [
        Row(
            f"NMI, {mod} embeddings: {net}",
            f"l3/nmi/{ref}",
            _KIN,
            f"nmi_{mod}{suffix}",
            "L3-5" if not suffix else None,
            scale=1,
            digits=3,
        )
        for mod in ("vision", "audio")
        for net, ref, suffix in (("L3", mod, ""), ("random init", f"random-{mod}", "_random"))
    ],
    "localisation": [
        Row("pointing game: AVOL-Net", "l3/ots-localisation/avol", _LOC, "pointing", "L3-6"),
        Row(
            "pointing game: centre prior",
            "l3/ots-localisation/centre-prior",
            _LOC,
            "pointing_centre",
            "L3-6",
        ),
        *(
            Row(f"{name}: {net}", None, _LOC, f"{m}{suffix}", scale=1, digits=3)
            for name, m in (("cIoU", "ciou"), ("AUC", "auc"), ("AP50", "ap50"))
            for net, suffix in (("AVOL-Net", ""), ("centre prior", "_centre"))
        ),
        Row("AVC accuracy of AVOL-Net", None, _LOC, "avc_acc"),
    ],
}
HEADLINES = {  # glue name -> (experiment, metric): numbers the chapter's text quotes
    "l3_avc": (_KIN, "avc_acc"),
    "l3_avc_pretrained": (_SUP, "avc_acc_pretrained"),
    "l3_avc_direct": (_SUP, "avc_acc_direct"),
    "l3_avc_flickr": (_FLI, "avc_acc"),
    "l3_avc_avol": (_LOC, "avc_acc"),
    "l3_vision_acc": (_SUP, "vision_acc"),
    "l3_audio_acc": (_SUP, "audio_acc"),
    "l3_esc": (_FLI, "esc50_acc"),
    "l3_esc_random": (_FLI, "esc50_acc_random"),
    "l3_pointing": (_LOC, "pointing"),
    "l3_pointing_centre": (_LOC, "pointing_centre"),
    "l3_nmi_vision": (_KIN, "nmi_vision", 1.0, 3, ""),
    "l3_nmi_vision_scene": (_KIN, "nmi_vision_scene", 1.0, 3, ""),
    "l3_nmi_vision_scene_random": (_KIN, "nmi_vision_scene_random", 1.0, 3, ""),
}
CLAIM_IDS = ("L3-1", "L3-2", "L3-3", "L3-4", "L3-5", "L3-6")


def scene_reading(profile: str, results_dir=None) -> str:
    """What the vision embeddings' clusters follow, read from the runs (scene vs class NMI, paired by seed)."""
    seeds = load_seeds(profile, PAPER, "l3-kinetics", results_dir)
    if not seeds.records:
        return "were not measured (no runs yet)"
    try:
        diff = difference_ci(
            seeds.values("nmi_vision_scene"), seeds.values("nmi_vision"), paired=True
        )
    except ResultsError:  # no runs, or real data without scene labels
        return "were not compared with scenes (no scene labels in these runs)"
    low, high, note = diff.ci_low, diff.ci_high, ""
    if diff.n < 2:  # one seed: no interval, read the sign
        low = high = diff.mean
        note = " (one seed)"
    if low > 0:
        return f"group by scene rather than by object{note}"
    if high < 0:
        return f"group by object rather than by scene{note}"
    return f"do not group clearly more by scene than by object{note}"


LAYER_METRICS = tuple(_LAYERS)
