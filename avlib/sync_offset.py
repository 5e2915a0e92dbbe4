"""`avlib sync-offset VIDEO...`: the audio-video offset of talking-face videos, with a trained model.

What it prints for each video (``--json``: one JSON object per video, in a list):

- ``offset_frames``: the offset in video frames at the model's 25 fps, **positive = audio
  late** (the speech is heard after the lips move; shift the audio earlier by that much to
  fix it), and ``offset_ms`` the same in milliseconds. It is the offset in -15..+15 frames
  (``--max-offset``) that minimises the mean Euclidean distance between the video feature
  of every 5-frame window and the audio feature of the window shifted by that offset, the
  mean taken over every frame with a partner inside the clip (syncnet_python's "AV offset").
- ``confidence``: median minus minimum of that distance curve (syncnet_python's
  definition): how far the best offset stands out; near 0 means no offset stands out
  (silence, no face, or another speaker).
- ``min_distance``: the minimum of the curve.

Any frame rate and sample rate: the video is read at 25 fps (the frame on screen at each
1/25 s) and the audio resampled to the model's rate (16 kHz). The mouth region is
``--crop x,y,w,h`` (pixels of the input) or, by default, the lower middle of the frame
(x 25-75 %, y 50-100 %: the mouth of a centred face, as in LRS2's face crops). A video
without audio, unreadable media, or a clip shorter than the search range needs
(2 x max offset + 7 frames) stops with a one-line error naming the file (exit status 2).

Without ``--model`` the quick model trained by ``avlib train pm-sync --profile quick`` is
used (``runs/quick/perfect_match/pm-sync/seed<S>/sync_model.pt``, lowest seed). Model files
hold only tensors and plain values and load with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from matplotlib.figure import Figure
from torch import nn

from avlib.checkpoint import save_checkpoint
from avlib.data.media import load_audio, load_video, probe
from avlib.errors import AvlibError, ConfigError, MediaError, MissingStreamError, TooShortError
from avlib.eval.sync import SyncPrediction, sync_offset
from avlib.figures import OURS_COLOUR, save_figure
from avlib.models import entry, get_config
from avlib.models.sync import samples_per_frame
from avlib.models.sync_streams import CONTEXT, WINDOW
from avlib.profiles import project_root

FORMAT = "avlib-sync-model/1"
DEFAULT_PROFILE = "quick"


def model_path(run_dir: str | Path) -> Path:
    """Where an experiment run keeps its exported sync model."""
    return Path(run_dir) / "sync_model.pt"


def save_model(path: str | Path, model: nn.Module, name: str, **trained) -> Path:
    """Write ``model`` (registered as ``name``) with its config, atomically, as plain tensors and
    values (``trained``: what produced it: profile, seed, steps ...)."""
    payload = {
        "format": FORMAT,
        "model": name,
        "config": json.loads(json.dumps(dataclasses.asdict(model.cfg))),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "trained": trained,
    }
    return save_checkpoint(path, payload)


def load_model(path: str | Path, device: str = "cpu") -> nn.Module:
    """A model written by :func:`save_model`, in eval mode (``weights_only=True``)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such model file")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 (torch raises many types for a bad file)
        raise ConfigError(f"{path}: not a sync model file ({type(e).__name__}: {e})") from e
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise ConfigError(f"{path}: not a sync model file (format {FORMAT} expected)")
    fields = {
        k: tuple(v) if isinstance(v, list) else v for k, v in ckpt["config"].items()
    }  # JSON lists back to the Config's tuples
    cfg = get_config(ckpt["model"], "paper", **fields)
    model = entry(ckpt["model"]).cls(cfg)
    model.load_state_dict(ckpt["state_dict"])
    return model.to(device).eval()


def find_model(profile: str = DEFAULT_PROFILE) -> Path:
    """The exported model of the lowest seed of ``avlib train pm-sync --profile <profile>``."""
    runs = project_root() / "runs" / profile / "perfect_match" / "pm-sync"
    found = sorted(runs.glob("seed*/sync_model.pt"), key=lambda p: int(p.parent.name[4:]))
    if not found:
        raise ConfigError(
            f"no trained sync model under {runs}: train one with `avlib train pm-sync "
            f"--profile {profile} --seed 0` (a few minutes on 2 CPU cores), or pass --model CKPT"
        )
    return found[0]


def _crop_box(crop: str | tuple | None) -> tuple[int, int, int, int] | None:
    if crop is None or isinstance(crop, tuple):
        return crop
    try:
        box = tuple(int(v) for v in crop.split(","))
    except ValueError:
        box = ()
    if len(box) != 4 or box[2] <= 0 or box[3] <= 0 or min(box[:2]) < 0:
        raise ConfigError(f"--crop {crop!r}: give x,y,w,h in pixels (w, h > 0)")
    return box


def read_clip(path: str | Path, cfg, crop=None, max_offset: int = 15):
    """A video's frames (1, 3, T, H, W) in [0, 1] at ``cfg.fps``, its audio (1, T x spf) at
    ``cfg.sr``, the mouth box as fractions of those frames, and the file's own rates."""
    path = Path(path)
    info = probe(path)
    if not info.has_video:
        raise MissingStreamError(path, "no video stream", "sync-offset needs the face")
    if not info.has_audio:
        raise MissingStreamError(path, "no audio stream", "sync-offset needs the speech")
    need = 2 * max_offset + WINDOW + 2 * CONTEXT
    frames = math.floor(info.duration_s * cfg.fps + 1e-6) - 1  # a frame of slack at the end
    if frames < need:
        raise TooShortError(
            path,
            f"{info.duration_s:.2f} s is too short: a ±{max_offset}-frame search needs at least "
            f"{need / cfg.fps:.2f} s",
        )
    dur = frames / cfg.fps
    box = _crop_box(crop)
    if box is None:
        video = load_video(path, 0.0, dur, fps=cfg.fps, size=cfg.frame_size)
        fractions = None
    else:
        x, y, w, h = box
        if x + w > info.width or y + h > info.height:
            raise ConfigError(
                f"{path}: --crop {x},{y},{w},{h} leaves the {info.width}x{info.height} frame"
            )
        scale = min(1.0, 2 * cfg.mouth_size / min(w, h))  # decode only what the crop needs
        size = (max(1, round(info.height * scale)), max(1, round(info.width * scale)))
        video = load_video(path, 0.0, dur, fps=cfg.fps, size=size)
        fractions = (x / info.width, y / info.height, w / info.width, h / info.height)
    audio = load_audio(path, 0.0, dur, sr=cfg.sr)[: frames * samples_per_frame(cfg)]
    frames_t = torch.from_numpy(video).permute(3, 0, 1, 2)[None].float().div_(255.0)
    return frames_t, torch.from_numpy(audio)[None], fractions, info


@torch.no_grad()
def predict(model: nn.Module, video, audio, box=None, max_offset: int = 15) -> SyncPrediction:
    """The offset, confidence and distance curve of one decoded clip."""
    model.eval()
    v, a = model.sync_features(video, audio, box)
    return sync_offset(v[0], a[0], max_offset)


def sync_offset_file(path, model: nn.Module, crop=None, max_offset: int = 15) -> dict:
    """Everything ``avlib sync-offset`` reports for one file."""
    cfg = model.cfg
    video, audio, box, info = read_clip(path, cfg, crop, max_offset)
    p = predict(model, video.to(_device(model)), audio.to(_device(model)), box, max_offset)
    return {
        "file": str(path),
        "offset_frames": p.offset,
        "offset_ms": round(p.offset * 1000 / cfg.fps, 1),
        "confidence": round(p.confidence, 4),
        "min_distance": round(p.min_distance, 4),
        "fps": cfg.fps,
        "input_fps": info.fps,
        "input_sr": info.sr,
        "frames": int(video.shape[2]),
        "distances": [round(float(d), 4) for d in p.distances],
    }


def known_shift_accuracy(
    root: str | Path, model: nn.Module, max_offset: int = 15, tolerance: int = 1
) -> dict:
    """``sync-offset`` on every clip of an LRS2-layout set whose ground truth gives its shift
    (``offset_s``, as the world's sync test sets): the share within ``tolerance`` frames of
    the truth (at the model's frame rate), and (file, true, predicted) per clip."""
    from avlib.data.layouts import open_dataset

    index = open_dataset(root, "lrs2")
    rows = []
    for item in index.items:
        if (item.truth or {}).get("offset_s") is None:
            continue
        truth = round(item.truth["offset_s"] * model.cfg.fps)
        found = sync_offset_file(item.path, model, max_offset=max_offset)["offset_frames"]
        rows.append((str(item.path), truth, found))
    if not rows:
        raise ConfigError(f"{root}: no clip with a known shift (offset_s in avbook_truth.jsonl)")
    hits = [abs(p - t) <= tolerance for _, t, p in rows]
    return {"accuracy": sum(hits) / len(hits), "clips": len(rows), "rows": rows}


def _device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def curve_figure(results: list[dict]) -> Figure:
    """Mean distance vs offset for each result (the minimum is the predicted offset)."""
    fig = Figure(figsize=(6.4, 3.6))
    ax = fig.add_subplot()
    for r in results:
        m = (len(r["distances"]) - 1) // 2
        label = f"{Path(r['file']).name}: {r['offset_frames']:+d} frames"
        line = ax.plot(range(-m, m + 1), r["distances"], label=label)[0]
        ax.plot(r["offset_frames"], min(r["distances"]), "o", color=line.get_color())
    ax.set(xlabel="offset (frames; positive: audio late)", ylabel="mean distance")
    ax.axvline(0, color=OURS_COLOUR, lw=0.8, ls=":")
    ax.legend(frameon=False, fontsize="small")
    fig.tight_layout()
    return fig


def _line(r: dict) -> str:
    return (
        f"{r['file']}: offset {r['offset_frames']:+d} frames ({r['offset_ms']:+.0f} ms; "
        f"positive = audio late), confidence {r['confidence']:.3f}, "
        f"min distance {r['min_distance']:.3f}"
    )


def _run(args: argparse.Namespace) -> int:
    missing = [v for v in args.videos if not Path(v).is_file()]
    if missing:  # before looking for a model: a typo in a path is the first thing to hear about
        raise MediaError(missing[0], "no such video file" + (
            f" (and {len(missing) - 1} more of the {len(args.videos)} given)"
            if len(missing) > 1 else ""))  # fmt: skip
    path = Path(args.model) if args.model else find_model()
    model = load_model(path, args.device)
    results, failed = [], 0
    for video in args.videos:
        try:
            results.append(sync_offset_file(video, model, args.crop, args.max_offset))
        except AvlibError as e:
            print(f"avlib sync-offset: error: {e}", file=sys.stderr)
            failed += 1
            continue
        if not args.json:
            print(_line(results[-1]))
    if args.json:
        print(json.dumps([{k: v for k, v in r.items() if k != "distances"} | {"model": str(path)}
                          for r in results], indent=2))  # fmt: skip
    if args.plot and results:
        plot = Path(args.plot)
        save_figure(curve_figure(results), plot.stem, plot.parent, formats=("png",))
    return 2 if failed else 0


def add_parser(sub) -> None:
    """`avlib sync-offset VIDEO [VIDEO...] [--model CKPT] [--crop x,y,w,h] [--json] [--plot PNG]`."""
    p = sub.add_parser(
        "sync-offset",
        help="audio-video offset of talking-face videos (frames and ms; positive: audio late)",
        description=__doc__.split("\n\n")[1],
    )
    p.add_argument("videos", nargs="+", metavar="VIDEO", help="video files (any fps, any rate)")
    p.add_argument("--model", help="sync model file (default: the quick model under runs/)")
    p.add_argument("--crop", help="mouth region x,y,w,h in pixels (default: lower middle)")
    p.add_argument("--json", action="store_true", help="print JSON instead of one line per file")
    p.add_argument("--plot", metavar="PNG", help="save the distance-vs-offset curves here")
    p.add_argument("--max-offset", type=int, default=15, help="search range in frames (15)")
    p.add_argument("--device", default="cpu", help="cpu | cuda[:N] (default cpu)")
    p.set_defaults(func=_run)


def benchmark(model: str | Path | None = None, seconds: float = 10.0, repeats: int = 3) -> dict:
    """Wall time of ``sync-offset`` on one generated ``seconds``-long talking-face clip: model
    load, and per clip (decode, features, search; the median of ``repeats``)."""
    from avlib.data.encode import write_video
    from avlib.data.world import compose_talking, get_preset
    from avlib.data.world.common import rng_for
    from avlib.data.world.layouts import speaker_for
    from avlib.data.world.speech import WORDS

    started = time.perf_counter()
    net = load_model(model or find_model())
    load_s = time.perf_counter() - started
    preset = get_preset(DEFAULT_PROFILE)
    words = list(WORDS)[:30]
    clip = compose_talking.talking_clip(
        rng_for(0, "bench"), preset, speaker_for(0, 1), words, min_duration=seconds
    )
    n = round(seconds * preset.fps)
    with tempfile.TemporaryDirectory() as tmp:
        path = write_video(Path(tmp) / "talk.mp4", clip.frames[:n], preset.fps,
                           clip.audio[: round(seconds * preset.sr)], preset.sr)  # fmt: skip
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            result = sync_offset_file(path, net)
            times.append(time.perf_counter() - t)
    return {
        "clip_s": seconds,
        "model_load_s": round(load_s, 3),
        "seconds_per_clip": round(statistics.median(times), 3),
        "threads": torch.get_num_threads(),
        "offset_frames": result["offset_frames"],
        "times": [round(t, 3) for t in times],
    }
