"""Look, Listen and Learn runs (PAPERS.md §1); the chapter is ``avlib/chapters/l3.py``.

Three experiments, each one results file per seed under results/<profile>/l3/:

- ``l3-avc``: one L3-Net per seed, trained on AVC on the Kinetics-Sounds
  analogue's train split (labels unused), with held-out AVC accuracy on the
  val split after every epoch (the learning curve). From that one net: AVC
  accuracy on fixed test pairs, and on test pairs whose negatives share the
  positive's scene (a pure scene matcher scores 50 % there); k-means NMI and
  AMI of its embeddings against the classes and the scenes; frozen audio
  features (1 s windows, mean SVM decision per clip) on the ESC-50 and DCASE
  analogues; frozen vision features per layer (conv1-conv4 pooled to a fixed
  grid, PCA to one dimension for all) on the ImageNet analogue. Each against
  the same architecture at random init.
- ``l3-supervised``: the paper's two supervised baselines on the same data: a
  vision and an audio classifier trained on class labels; *direct
  combination* (the scalar product of their class distributions, thresholded
  on the val pairs) and *supervised pretraining* (their towers frozen, L3's
  fusion layers trained on AVC).
- ``l3-localisation`` (``l3_localisation.py``): Objects that Sound's AVOL-Net trained on AVC; its
  audio-to-vision similarity maps scored against the world's ground-truth
  boxes (pointing game with random tie-breaks, cIoU at our stated threshold,
  AUC, AP50) vs a centre prior and a random point.

Deviations: one L3-Net per seed serves AVC, clustering and transfer (the
paper trained its transfer net on Flickr-SoundNet); single frames at
``Setup.fps``; every net trains with Adam and a cosine schedule with warm-up
(the paper: constant rate); at the CPU presets every AVC net (and the fusion
layers of supervised pretraining) scores every video-audio pairing of its
batch (``InBatchCorrespondenceLoss``: B^2 - B negatives per step, balanced
against the positives; the paper samples one negative per pair): with one
negative per pair L3-Net stayed at chance for the whole quick budget; the
supervised-pretraining baseline freezes the supervised towers; the probes' C
values are ours.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F

from avlib.data.cache import ClipArrays, DecodedCache
from avlib.data.datasets import Batches, EmbeddingBatches, clip_batches
from avlib.data.layouts import open_dataset
from avlib.data.samplers.correspondence import AVCSampler
from avlib.eval.embeddings import cluster_scores
from avlib.eval.probes import audio_window_probe, extract_features, fold_probe, sliding_windows
from avlib.experiments import RunContext, RunOutput, register
from avlib.experiments.common import (
    EVAL_SEED,
    accuracy,
    data_record,
    eval_pairs,
    load_audio_clips,
    load_clips,
    train_config,
)
from avlib.losses import CrossEntropyLoss
from avlib.models import build, get_config
from avlib.models.l3 import correspondence_loss
from avlib.train import train

PAPER = "l3"
EXPERIMENTS = ("l3-avc", "l3-supervised", "l3-localisation")
LAYERS = ("conv1", "conv2", "conv3", "conv4")
TSNE_POINTS = 800  # clips kept for the t-SNE figures


@dataclass(frozen=True)
class Setup:
    """Data, budget and evaluation of the L3 experiments at one profile."""

    fps: int = 5  # frames per second kept from each clip (L3 looks at single frames)
    audio_s: float = 1.0  # audio around a frame (paper: 1 s)
    clip_s: float = 3.0  # seconds read from each Kinetics-Sounds clip (shorter clips: skips)
    # L3-Net on AVC, the quick budget's largest share (it decides L3-1..5); measured with in-batch
    # negatives, one thread per run (2 runs at once on 2 cores): 1,200 steps gave test AVC
    # 58.3 / 59.4 / 62.9 % (seeds 0-2; the interval reached below the 56 % gate) and gained up to
    # 4.7 points over the last quarter; 2,000 steps gave 69.0 / 67.7 / 65.6 %, gaining 1.2 / 0.6 /
    # 0.4 points over the last quarter (flat), in 205-215 s per run
    avc_steps: int = 2000
    # AVOL-Net on AVC (its gate: its own AVC above chance), its towers started from the seed's
    # L3-Net; measured: from scratch 400 and 600 steps left it at 50.6-53.8 % (seeds 0-2). From
    # the L3 towers, test AVC: 400 steps 54.7 / 59.9 / 59.1 % (seeds 0-2, ~50 s per run); 600
    # steps 61.3 / 63.8 / 59.4 % (its gate's 56 % missed by the interval's last 0.01 point; the
    # notebook 545 s); 800 steps 63.6 / 62.5 / 58.5 % (no better, and the notebook 621 s, over
    # its 600). Lr 4e-3 stayed at 50 %.
    avol_steps: int = 600
    classifier_steps: int = 300  # each supervised classifier
    fusion_steps: int = 200  # fusion layers on frozen supervised towers
    epoch_steps: int = 100  # steps between held-out evaluations (the learning curve's points)
    warmup: float = 0.05  # share of the steps spent warming the learning rate up
    val_pairs: int = 512  # held-out AVC pairs for the learning curve (val split)
    eval_pairs: int = 2000  # fixed AVC test pairs per test set (half positive)
    esc_s: float = 5.0  # seconds of each ESC-50 clip (all of it)
    dcase_s: float = 10.0  # seconds of each DCASE clip (real: 30 s)
    window_hop_s: float = 1.0  # audio probes: 1 s windows, back to back
    svm_C: float = 0.1  # audio probes (linear SVM on standardised features)
    image_C: float = 1.0  # vision probe (logistic regression)
    probe_grid: int = 4  # vision probe: each layer max-pooled to grid x grid ...
    probe_dim: int = 64  # ... then PCA to this many dimensions (equal for every layer)
    avol_pools: int = 2  # AVOL's vision tower pools twice: a 12 x 12 map at 48 px (>= 8 x 8)
    frames_per_clip: int = 3  # localisation: frames scored per test clip
    examples: int = 8  # localisation examples kept for the figure (best and worst)


SETUPS = {
    "smoke": Setup(
        clip_s=2.0,
        avc_steps=12,
        avol_steps=12,
        classifier_steps=6,
        fusion_steps=6,
        epoch_steps=6,
        val_pairs=32,
        eval_pairs=64,
        dcase_s=4.0,
        probe_dim=8,
    ),
    "quick": Setup(),
    "full": Setup(
        clip_s=4.0,
        avc_steps=8000,
        avol_steps=8000,
        classifier_steps=3000,
        fusion_steps=1000,
        epoch_steps=250,
        val_pairs=2000,
        eval_pairs=10_000,
        dcase_s=30.0,
        probe_dim=128,
        avol_pools=3,
    ),
}


def _config(*models: str, **overrides):
    def config(profile: str) -> dict:
        record = {m: asdict(get_config(m, profile, **overrides.get(m, {}))) for m in models}
        return {**record, "setup": asdict(SETUPS[profile])}

    return config


# --- shared pieces ------------------------------------------------------------------------------


def window_frames(setup: Setup) -> int:
    return round(setup.audio_s * setup.fps)


def _sampler(arrays: ClipArrays, setup: Setup, seed: int, samples: int, groups=None):
    """Frames with the audio around them, from the same clip (label 1) or another (label 0)."""
    return AVCSampler(
        len(arrays),
        arrays.frames.shape[1],
        video_frames=1,
        audio_frames=window_frames(setup),
        samples_per_epoch=samples,
        groups=groups,
        seed=seed,
    )


def fixed_pairs(arrays: ClipArrays, setup: Setup, n: int, groups=None) -> Batches:
    return eval_pairs(arrays, _sampler(arrays, setup, EVAL_SEED, n, groups))


def train_on_pairs(ctx, name, model, train_a, val_a, setup, steps, label_key="label"):
    """AVC pairs of ``train_a`` -> ``model`` (``label_key`` decides what is learnt), with the
    held-out accuracy on ``val_a``'s fixed pairs after every epoch of ``epoch_steps``."""
    cfg = model.cfg
    samples = setup.epoch_steps * cfg.batch_size
    data = Batches(train_a, _sampler(train_a, setup, ctx.seed, samples), cfg.batch_size)
    val = fixed_pairs(val_a, setup, setup.val_pairs)
    tc = train_config(
        ctx,
        name,
        steps,
        len(data),
        lr=cfg.lr,
        weight_decay=cfg.weight_decay,
        scheduler="cosine",
        warmup_steps=round(setup.warmup * steps),
    )

    def held_out(m, batches):
        return {"acc": accuracy(m, batches, ctx.device, key=label_key)}

    loss = (
        correspondence_loss(cfg) if label_key == "label" else CrossEntropyLoss(label_key=label_key)
    )
    return train(model, loss, data, tc, val_data=val, val_fn=held_out)


def curve_gain(result) -> float:
    """Held-out accuracy gained over the last quarter of training: a flattened curve gains ~0."""
    history = [h for h in result.history if "val_acc" in h]
    last = history[-1]
    quarter = min(history, key=lambda h: abs(h["step"] - 0.75 * last["step"]))
    return float(last["val_acc"] - quarter["val_acc"])


def kinetics_splits(ctx: RunContext, cfg, setup: Setup, splits=("train", "val", "test")):
    index = open_dataset(ctx.dataset("kinetics_sounds"))
    return [
        load_clips(
            index.subset(split=s),
            dur_s=setup.clip_s,
            fps=setup.fps,
            size=cfg.frame_size,
            sr=cfg.sr,
            progress=ctx.progress,
        )
        for s in splits
    ]


def _truth(splits: list[ClipArrays], key: str) -> tuple[np.ndarray | None, list[str]]:
    """One ground-truth field per clip of every split, as integer codes and their names
    (None when a clip lacks it: real data sets have no such truth)."""
    values = [(i.truth or {}).get(key) for a in splits for i in a.items]
    if any(v is None for v in values):
        return None, []
    names = sorted(set(values))
    return np.array([names.index(v) for v in values]), names


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


# --- l3-avc: one L3-Net per seed, and everything it is used for ----------------------------------


def _audio_probe(model, arrays: ClipArrays, setup: Setup, device: str) -> float:
    """The audio probe on 1 s windows every ``window_hop_s`` of every clip."""
    win, hop = round(setup.audio_s * arrays.sr), round(setup.window_hop_s * arrays.sr)
    return audio_window_probe(model, arrays, win, hop, setup.svm_C, device)


def _vision_probe(model, train_a: ClipArrays, val_a: ClipArrays, setup: Setup, device: str):
    """Top-1 of a logistic-regression probe per vision layer (equal dimension), train -> val."""
    feats = [
        extract_features(
            model,
            clip_batches(a, 128),
            "video",
            LAYERS,
            keep=("video_class",),
            pool="grid",
            grid=setup.probe_grid,
            device=device,
        )
        for a in (train_a, val_a)
    ]
    folds = np.r_[np.zeros(len(train_a)), np.ones(len(val_a))]
    labels = np.r_[train_a.labels, val_a.labels]
    return {
        f"probe_{layer}": fold_probe(
            np.concatenate([f[layer] for f in feats]),
            labels,
            folds,
            classifier="logistic",
            C=setup.image_C,
            test_folds=[1],
            pca=setup.probe_dim,
        ).accuracy
        for layer in LAYERS
    }


def _clustering(models: dict, splits: list[ClipArrays], sr: int, seed: int, device: str):
    """NMI / AMI of k-means (k = classes) on every clip's embeddings, vs classes and scenes
    (vision: the background's scene; audio: the ambient bed's), on the same clusters."""
    labels = np.concatenate([a.labels for a in splits])
    scenes = {"video": _truth(splits, "scene"), "audio": _truth(splits, "bed_scene")}
    # the t-SNE figures draw a fixed subset: every clip would take minutes and hide the shape
    shown = np.sort(np.random.default_rng(seed).permutation(len(labels))[:TSNE_POINTS])
    out, arrays = {}, {"labels": labels[shown]}
    for suffix, model in models.items():
        emb = [_clip_embeddings(model, a, sr, device) for a in splits]
        for modality, name in (("video", "vision"), ("audio", "audio")):
            x = np.concatenate([e[modality] for e in emb])
            groupings = {"class": labels}
            if scenes[modality][0] is not None:
                groupings["scene"] = scenes[modality][0]
            scores = cluster_scores(x, groupings, len(np.unique(labels)), seed=seed)
            for key, value in scores.items():
                score, grouping, *rest = key.split("_")
                tail = "" if grouping == "class" else f"_{grouping}"
                out[f"{score}_{name}{tail}{''.join('_' + r for r in rest)}{suffix}"] = value
            if not suffix:
                arrays[f"{modality}_emb"] = x[shown]
                if "scene" in groupings:
                    arrays[f"{modality}_scenes"] = groupings["scene"][shown]
    return out, arrays, scenes["video"][1]


@register("l3-avc", paper=PAPER, config=_config("l3"))
def l3_avc(ctx: RunContext) -> RunOutput:
    """L3-Net on AVC: accuracy, learning curve, clustering, audio and vision transfer vs random init."""
    setup, cfg = SETUPS[ctx.profile], get_config("l3", ctx.profile)
    train_a, val_a, test_a = kinetics_splits(ctx, cfg, setup)
    random = build("l3", ctx.profile)  # drawn first: the init the trained net starts from
    model = build("l3", ctx.profile)
    model.load_state_dict(random.state_dict())
    result = train_on_pairs(ctx, "l3", model, train_a, val_a, setup, setup.avc_steps)
    metrics = {
        "avc_acc": accuracy(model, fixed_pairs(test_a, setup, setup.eval_pairs), ctx.device),
        "avc_val_gain_last_quarter": curve_gain(result),
    }
    scenes, _ = _truth([test_a], "scene")
    if scenes is not None and np.bincount(scenes).min() >= 2:  # every scene has a negative
        same = fixed_pairs(test_a, setup, setup.eval_pairs, groups=scenes)
        metrics["avc_acc_same_scene"] = accuracy(model, same, ctx.device)
    clusters, arrays, scene_names = _clustering(
        {"": model, "_random": random}, [train_a, val_a, test_a], cfg.sr, ctx.seed, ctx.device
    )
    metrics.update(clusters)
    esc = load_audio_clips(
        open_dataset(ctx.dataset("esc50")), dur_s=setup.esc_s, sr=cfg.sr, progress=ctx.progress
    )
    dcase = load_audio_clips(
        open_dataset(ctx.dataset("dcase2013")),
        dur_s=setup.dcase_s,
        sr=cfg.sr,
        progress=ctx.progress,
    )
    images = open_dataset(ctx.dataset("imagefolder", "imagenet"))
    img_train, img_val = (
        DecodedCache().load(images.subset(split=s), size=cfg.frame_size, progress=ctx.progress)
        for s in ("train", "val")
    )
    for suffix, net in (("", model), ("_random", random)):
        metrics[f"esc50_acc{suffix}"] = _audio_probe(net, esc, setup, ctx.device)
        metrics[f"dcase_acc{suffix}"] = _audio_probe(net, dcase, setup, ctx.device)
        probes = _vision_probe(net, img_train, img_val, setup, ctx.device)
        metrics.update({f"{k}{suffix}": v for k, v in probes.items()})
    data = data_record(
        kinetics_train=train_a,
        kinetics_val=val_a,
        kinetics_test=test_a,
        esc50=esc,
        dcase2013=dcase,
        imagenet_train=img_train,
        imagenet_val=img_val,
    )
    extra = {"classes": test_a.classes, "scenes": scene_names}
    return RunOutput(metrics=metrics, train={"l3": result}, extra=extra, arrays=arrays, data=data)


# --- l3-supervised ------------------------------------------------------------------------------


@torch.no_grad()
def _window_tables(vision, audio, arrays: ClipArrays, setup: Setup, device: str):
    """Embeddings of every frame (N,T,D) and every 1 s audio window start (N,T-k+1,D)."""
    vision.eval(), audio.eval()
    n, t = arrays.frames.shape[:2]
    k, spf = window_frames(setup), arrays.sr // setup.fps
    v_rows, a_rows = [], []
    for c in range(0, n, 16):
        frames = torch.from_numpy(np.asarray(arrays.frames[c : c + 16]))  # (b,T,H,W,3)
        b = frames.shape[0]
        video = frames.reshape(b * t, 1, *frames.shape[2:]).permute(0, 4, 1, 2, 3).float() / 255
        v_rows.append(vision.embed_video(video.to(device)).cpu().view(b, t, -1))
        wave = torch.from_numpy(arrays.waveform(np.arange(c, c + b)))
        windows, _ = sliding_windows(wave, k * spf, spf)
        emb = audio.embed_audio(windows.to(device)).cpu().view(b, -1, audio.cfg.widths[-1])
        a_rows.append(emb[:, : t - k + 1])
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


@register(
    "l3-supervised",
    paper=PAPER,
    config=_config("l3-classifier", "l3", **{"l3-classifier": {"tower": "vision"}}),
)
def l3_supervised(ctx: RunContext) -> RunOutput:
    """The supervised baselines of L3 Table 1: direct combination and supervised pretraining."""
    setup = SETUPS[ctx.profile]
    cfg = get_config("l3", ctx.profile)
    train_a, val_a, test_a = kinetics_splits(ctx, cfg, setup)
    n_classes = len(train_a.classes)
    runs, towers = {}, {}
    for tower, key in (("vision", "video_class"), ("audio", "audio_class")):
        towers[tower] = build("l3-classifier", ctx.profile, tower=tower, n_classes=n_classes)
        runs[tower] = train_on_pairs(
            ctx, f"{tower}-classifier", towers[tower], train_a, val_a, setup,
            setup.classifier_steps, key,
        )  # fmt: skip
    vision, audio = towers["vision"], towers["audio"]
    test_pairs = fixed_pairs(test_a, setup, setup.eval_pairs)
    val_pairs = fixed_pairs(val_a, setup, setup.eval_pairs)
    threshold = _best_threshold(*_direct_scores(vision, audio, val_pairs, ctx.device))
    scores, labels = _direct_scores(vision, audio, test_pairs, ctx.device)
    # supervised pretraining: L3's fusion layers on the frozen supervised towers
    fusion = build("l3", ctx.profile).requires_grad_(False)
    fusion.fusion.requires_grad_(True)
    sampler = _sampler(train_a, setup, ctx.seed, setup.epoch_steps * cfg.batch_size)
    data = EmbeddingBatches(
        *_window_tables(vision, audio, train_a, setup, ctx.device), sampler, cfg.batch_size
    )
    tc = train_config(
        ctx, "fusion", setup.fusion_steps, len(data), lr=cfg.lr, weight_decay=cfg.weight_decay,
        scheduler="cosine", warmup_steps=round(setup.warmup * setup.fusion_steps),
    )  # fmt: skip
    runs["fusion"] = train(fusion, correspondence_loss(fusion.cfg), data, tc)
    test_sampler = _sampler(test_a, setup, EVAL_SEED, setup.eval_pairs)
    test_emb = EmbeddingBatches(
        *_window_tables(vision, audio, test_a, setup, ctx.device), test_sampler, 256,
        drop_last=False,
    )  # fmt: skip
    test_emb.set_epoch(0)
    metrics = {
        "vision_acc": accuracy(vision, test_pairs, ctx.device, key="video_class"),
        "audio_acc": accuracy(audio, test_pairs, ctx.device, key="audio_class"),
        "vision_val_gain_last_quarter": curve_gain(runs["vision"]),
        "audio_val_gain_last_quarter": curve_gain(runs["audio"]),
        "avc_acc_direct": float(((scores >= threshold) == labels).mean()),
        "avc_acc_pretrained": accuracy(fusion, test_emb, ctx.device),
    }
    return RunOutput(
        metrics=metrics,
        train=runs,
        extra={"direct_threshold": threshold},
        data=data_record(kinetics_train=train_a, kinetics_val=val_a, kinetics_test=test_a),
    )
