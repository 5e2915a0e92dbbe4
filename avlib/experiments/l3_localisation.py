"""Objects that Sound's localisation run (``l3-localisation``) of the L3 chapter.

AVOL-Net trained on AVC on the Kinetics-Sounds analogue, its towers started
from the same seed's trained L3-Net (the ``l3-avc`` run, run first when
missing: one L3 per seed, a stated deviation); its audio-to-vision
similarity maps are scored against the world's ground-truth boxes (pointing
game with random tie-breaks, cIoU at our stated threshold, AUC, AP50) beside
a centre prior and a random point. Setups, samplers and training are the
L3 runs' (``avlib/experiments/l3.py``); the chapter is ``avlib/chapters/l3.py``.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from avlib.checkpoint import load_checkpoint
from avlib.data.cache import ClipArrays
from avlib.data.media import probe
from avlib.errors import ConfigError, LayoutError
from avlib.eval.localisation import (
    centre_prior_map,
    localisation_scores,
    random_point_scores,
    upsample,
)
from avlib.experiments import RunContext, RunOutput, register, upstream
from avlib.experiments.common import accuracy, data_record
from avlib.experiments.l3 import (
    PAPER,
    SETUPS,
    Setup,
    curve_gain,
    fixed_pairs,
    kinetics_splits,
    train_on_pairs,
    window_frames,
)
from avlib.models import build, get_config


def _truth_boxes(arrays: ClipArrays, frames: np.ndarray) -> list[list]:
    """Ground-truth boxes of the sounding objects at cached frame indices ``frames`` (per clip)."""
    out = []
    for item, f in zip(arrays.items, frames, strict=True):
        if not item.truth or "boxes" not in item.truth:
            raise LayoutError(
                item.path, "localisation needs ground-truth boxes (avbook_truth.jsonl)"
            )
        boxes = item.truth["boxes"]
        native_fps = len(boxes) / probe(item.path).duration_s
        out.append([boxes[min(int(round(t / arrays.fps * native_fps)), len(boxes) - 1)] for t in f])
    return out


@torch.no_grad()
def _localise(model, arrays: ClipArrays, setup: Setup, device: str):
    """Similarity maps at ``frames_per_clip`` frames of every clip, with frames and boxes."""
    model.eval()
    k, spf, t = window_frames(setup), arrays.sr // setup.fps, arrays.frames.shape[1]
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
        up = upsample(sim, img.shape[1:3]).cpu().numpy()
        for j in range(len(img)):
            if boxes[c][j]:  # frames with a visible sounding object only
                images.append(img[j]), maps.append(up[j]), gts.append(boxes[c][j])
    return np.stack(images), np.stack(maps), gts, sim.shape[-2:]


def _padded(boxes: list[list], width: int = 4) -> np.ndarray:
    """Ragged lists of boxes as an (N, max boxes, 4) array padded with NaN."""
    most = max(len(b) for b in boxes)
    out = np.full((len(boxes), most, width), np.nan)
    for i, b in enumerate(boxes):
        out[i, : len(b)] = b
    return out


def _avol_config(profile: str) -> dict:
    pools = SETUPS[profile].avol_pools
    return {"avol": asdict(get_config("avol", profile, vision_pools=pools)),
            "l3": asdict(get_config("l3", profile)),  # the towers it starts from
            "setup": asdict(SETUPS[profile])}  # fmt: skip


TOWERS = ("vision.", "audio.")


def warm_start(model, checkpoint: Path) -> int:
    """Copy the towers' weights of the trained L3-Net in ``checkpoint`` into ``model`` (the
    pooling between blocks holds no weights, so AVOL's finer map takes them as they are);
    returns how many tensors were copied. A tower weight that does not fit is a ConfigError."""
    trained = load_checkpoint(checkpoint)["model"]
    own = model.state_dict()
    towers = {k: v for k, v in trained.items() if k.startswith(TOWERS)}
    wrong = [k for k, v in towers.items() if k not in own or own[k].shape != v.shape]
    missing = [k for k in own if k.startswith(TOWERS) and k not in towers]
    if wrong or missing or not towers:
        raise ConfigError(
            f"{checkpoint}: its towers do not fit {type(model).__name__} "
            f"(mismatched: {wrong[:3]}, missing: {missing[:3]})"
        )
    model.load_state_dict(towers, strict=False)
    return len(towers)


@register("l3-localisation", paper=PAPER, config=_avol_config, after=("l3-avc",))
def l3_localisation(ctx: RunContext) -> RunOutput:
    """AVOL-Net (Objects that Sound): sound localisation vs a centre prior and a random point."""
    setup = SETUPS[ctx.profile]
    model = build("avol", ctx.profile, vision_pools=setup.avol_pools)
    warm_start(model, upstream(ctx, "l3-avc") / "l3" / "last.pt")
    train_a, val_a, test_a = kinetics_splits(ctx, model.cfg, setup)
    result = train_on_pairs(ctx, "avol", model, train_a, val_a, setup, setup.avol_steps)
    images, maps, boxes, grid = _localise(model, test_a, setup, ctx.device)
    ours = localisation_scores(maps, boxes, seed=ctx.seed)
    prior = np.broadcast_to(centre_prior_map(maps.shape[1:]), maps.shape)
    centre = localisation_scores(prior, boxes, seed=ctx.seed)
    metrics = {
        "avc_acc": accuracy(model, fixed_pairs(test_a, setup, setup.eval_pairs), ctx.device),
        "avc_val_gain_last_quarter": curve_gain(result),
        "pointing_random": random_point_scores(boxes, maps.shape[1:]),
    }
    for suffix, s in (("", ours), ("_centre", centre)):
        metrics.update(
            {f"pointing{suffix}": s.pointing, f"ciou{suffix}": s.ciou, f"auc{suffix}": s.auc,
             f"ap50{suffix}": s.ap50}
        )  # fmt: skip
    order = np.argsort(ours.cious)
    keep = np.r_[order[::-1][: setup.examples // 2], order[: setup.examples // 2]]
    return RunOutput(
        metrics=metrics,
        train={"avol": result},
        extra={"frames_scored": ours.n, "map_grid": list(grid), "ciou_threshold": ours.threshold},
        data=data_record(kinetics_train=train_a, kinetics_val=val_a, kinetics_test=test_a),
        arrays={
            "images": images[keep],
            "maps": maps[keep],
            "boxes": _padded([boxes[i] for i in keep]),
            "ciou": np.asarray(ours.cious)[keep],
        },
    )
