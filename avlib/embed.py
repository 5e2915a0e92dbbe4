"""Embeddings of audio and video with a trained network, as openl3 does: ``avlib embed``.

Python, for arrays in memory::

    emb, ts = embed_audio(audio, sr, model="l3")    # audio (S,), (S, C) or (C, S) at any rate
    emb, ts = embed_video(frames, fps, model="l3")  # frames (T, H, W, 3) uint8 or [0, 1] floats

and ``embed_file(path, modality, embedder)`` for files (``avlib embed audio|video FILE...``
writes one ``<stem>_<modality>.npz`` per file with ``embedding``, ``timestamps`` and a
``note`` on what was converted). Shapes, for N windows or frames:

- ``embedding`` (N, D) float32, D the network's embedding size (L3: its last conv
  block's width: 64 at ``quick``, 256 at ``full``, 512 in the paper);
- ``timestamps`` (N,) float64 seconds: for audio the centre of each window
  (windows of the network's length, every ``hop_s``, the signal padded with
  half a window of silence at each end as openl3's ``center=True``, so the first
  is at 0 s); for video the time of each frame taken (every ``hop_s``).

Audio is converted to what the network hears: channels are averaged to mono
and the rate resampled (polyphase) to the network's (L3 at ``quick``:
16 kHz). Frames are resized to the network's square input (the aspect ratio
is not kept). Both conversions are stated in the ``.npz``'s ``note``.

``--model`` is any architecture of the models registry (:mod:`avlib.models`)
whose class embeds: it has ``embed_audio(x)`` taking (N, samples) at its
config's ``sr``, windows of ``clip_s`` (or ``window_s``) seconds, and/or
``embed_video(x)`` taking (N, 3, frame_size, frame_size) frames in [0, 1], both
returning (N, D). So SoundNet and AVTS embed as soon as their chapters register
such models, with no change here; a model whose inputs differ registers its
own loader with :func:`register` (``l3`` does, only to name its checkpoint and
how to train one). Without ``--checkpoint`` the newest ``quick`` run of the
model is used (``runs/quick/<paper>/<experiment>/seed*/<model>/last.pt``).
"""

from __future__ import annotations

import argparse
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from avlib import progress
from avlib.errors import ConfigError, DataError, MediaError, TrainingError
from avlib.profiles import project_root, resolve_device

MODALITIES = ("audio", "video")
DEFAULT_HOP_S = 0.1  # seconds between windows (audio) or frames (video), as openl3
BATCH = 64  # windows or frames per forward pass
MAX_CHANNELS = 8  # a 2-D array with a dimension this small holds channels
COMING = {  # the models whose architectures come with their chapters (error hints only)
    "soundnet": "SoundNet",
    "avts": "AVTS",
}


@dataclass
class Embedder:
    """A trained network ready to embed, and what it expects."""

    name: str
    model: nn.Module
    sr: int | None  # audio rate the network hears (None: it embeds no audio)
    window_s: float | None  # seconds of audio per embedding
    frame_size: int | None  # frames are resized to frame_size x frame_size (None: no video)
    checkpoint: Path
    preset: str
    device: str
    audio_fn: Callable[[nn.Module, torch.Tensor], torch.Tensor] | None  # (N, S) -> (N, D)
    video_fn: Callable[[nn.Module, torch.Tensor], torch.Tensor] | None  # (N,3,H,W) -> (N, D)

    def modalities(self) -> tuple[str, ...]:
        return tuple(
            m for m, fn in zip(MODALITIES, (self.audio_fn, self.video_fn), strict=True) if fn
        )

    def require(self, modality: str) -> None:
        """ConfigError when this network does not embed ``modality``."""
        if modality not in self.modalities():
            raise ConfigError(
                f"model {self.name} embeds no {modality} (it embeds {' and '.join(self.modalities())})"
            )

    @torch.no_grad()
    def audio(self, windows: np.ndarray) -> np.ndarray:
        """(N, S) windows at ``sr`` -> (N, D) float32 embeddings, in batches."""
        self.require("audio")
        return self._run(self.audio_fn, torch.from_numpy(np.ascontiguousarray(windows)))

    @torch.no_grad()
    def video(self, frames: torch.Tensor) -> np.ndarray:
        """(N, 3, size, size) frames in [0, 1] -> (N, D) float32 embeddings, in batches."""
        self.require("video")
        return self._run(self.video_fn, frames)

    def _run(self, fn, x: torch.Tensor) -> np.ndarray:
        self.model.eval()
        out = [fn(self.model, x[i : i + BATCH].to(self.device)).float().cpu()
               for i in range(0, len(x), BATCH)]  # fmt: skip
        return torch.cat(out).numpy().astype(np.float32)


_LOADERS: dict[str, Callable[[Path | None, str | None, str], Embedder]] = {}


def register(name: str):
    """Decorator: ``loader(checkpoint, preset, device) -> Embedder`` for model ``name``, for a
    model the generic loader (:func:`from_registry`) cannot serve."""

    def wrap(fn):
        _LOADERS[name] = fn
        return fn

    return wrap


def _embeds(cls: type) -> bool:
    return any(callable(getattr(cls, f"embed_{m}", None)) for m in MODALITIES)


def names() -> list[str]:
    """Models that can embed now: registered loaders and registered models that embed."""
    from avlib import models

    return sorted({*_LOADERS, *(n for n in models.names() if _embeds(models.entry(n).cls))})


def load(
    model: str = "l3", checkpoint=None, preset: str | None = None, device: str = "cpu"
) -> Embedder:
    """The embedder of ``model`` with the weights of ``checkpoint`` (None: the newest quick run)."""
    path = None if checkpoint is None else Path(checkpoint).expanduser()
    if model in _LOADERS:
        return _LOADERS[model](path, preset, resolve_device(device))
    if model not in names():
        coming = (
            f" ({COMING[model]} embeds once its chapter registers its models)"
            if model in COMING
            else ""
        )
        raise ConfigError(
            f"--model {model}: no registered model embeds under that name{coming}; "
            f"choose one of {', '.join(names())}"
        )
    return from_registry(model, path, preset, resolve_device(device))


# --- checkpoints ---------------------------------------------------------------------------------


def read_weights(path: Path) -> dict:
    """A trainer checkpoint's model weights, loaded with ``torch.load(weights_only=True)``.

    Trainer checkpoints also hold the RNG states (NumPy arrays among them); those
    NumPy types are allowed for the safe loader, which still runs no code.
    """
    from numpy._core.multiarray import _reconstruct  # where numpy 2 pickles arrays from

    allowed = [_reconstruct, np.ndarray, np.dtype, type(np.dtype(np.uint32))]
    try:
        with torch.serialization.safe_globals(allowed):
            state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError as e:
        raise TrainingError(f"{path}: no such checkpoint") from e
    except pickle.UnpicklingError as e:
        raise TrainingError(
            f"{path}: not loadable with torch.load(weights_only=True) ({str(e).splitlines()[0]}); "
            "only checkpoints written by avlib's trainer (or a plain state dict) are read"
        ) from e
    except (RuntimeError, EOFError, OSError) as e:
        raise TrainingError(f"{path}: unreadable checkpoint ({e})") from e
    weights = state.get("model", state) if isinstance(state, dict) else None
    if not isinstance(weights, dict) or not all(torch.is_tensor(v) for v in weights.values()):
        raise TrainingError(f"{path}: holds no model weights (no 'model' state dict)")
    return weights


def newest_checkpoint(pattern: str, how_to_train: str, runs_dir=None) -> Path:
    """The newest file matching ``pattern`` under the runs folder, or a TrainingError saying
    how to train one."""
    runs = Path(runs_dir) if runs_dir else project_root() / "runs"
    found = sorted(runs.glob(pattern), key=lambda p: p.stat().st_mtime)
    if not found:
        raise TrainingError(
            f"{runs / pattern}: no trained checkpoint found; train one with `{how_to_train}` "
            "or pass --checkpoint"
        )
    return found[-1]


def _fit(model_name: str, weights: dict, path: Path, preset: str | None):
    """The model at the preset the checkpoint was trained with: the one given, the profile
    named in its path (runs/<profile>/...), else the first preset whose shapes fit."""
    from avlib.models import PRESETS, build

    in_path = next((p for p in path.parts if p in PRESETS), None)
    tried = [preset] if preset else [p for p in dict.fromkeys([in_path, *PRESETS]) if p]
    problems = []
    for p in tried:
        model = build(model_name, p)
        try:
            model.load_state_dict(weights, strict=True)
        except RuntimeError as e:
            problems.append(f"{p}: {str(e).splitlines()[0]}")
            continue
        return model, p
    raise ConfigError(
        f"{path}: the weights fit {model_name} at no preset ({'; '.join(problems)}); "
        "pass --preset with the profile it was trained at"
    )


def from_registry(
    name: str, checkpoint: Path | None, preset: str | None, device: str,
    pattern: str | None = None, how_to_train: str | None = None,
) -> Embedder:  # fmt: skip
    """The embedder of registered model ``name``: its ``embed_audio`` / ``embed_video`` and its
    config's ``sr``, ``clip_s`` (or ``window_s``) and ``frame_size``."""
    path = checkpoint or newest_checkpoint(
        pattern or f"quick/*/*/seed*/{name}/last.pt",
        how_to_train or f"avlib train <an experiment training {name}> --profile quick",
    )
    model, preset = _fit(name, read_weights(path), path, preset)
    cfg = model.cfg
    audio = callable(getattr(model, "embed_audio", None))
    video = callable(getattr(model, "embed_video", None))
    return Embedder(
        name, model.to(device).eval(),
        sr=cfg.sr if audio else None,
        window_s=getattr(cfg, "clip_s", None) or getattr(cfg, "window_s", None) if audio else None,
        frame_size=cfg.frame_size if video else None,
        checkpoint=path, preset=preset, device=device,
        audio_fn=(lambda m, x: m.embed_audio(x)) if audio else None,
        video_fn=(lambda m, x: m.embed_video(x)) if video else None,
    )  # fmt: skip


@register("l3")
def _l3(checkpoint: Path | None, preset: str | None, device: str) -> Embedder:
    """L3-Net (the ``l3-avc`` run's network): both towers' globally max-pooled conv4 features."""
    return from_registry(
        "l3", checkpoint, preset, device, "quick/l3/l3-avc/seed*/l3/last.pt",
        "avlib train l3-avc --profile quick --seed 0 (about ten minutes on two cores)",
    )  # fmt: skip


# --- arrays in memory ----------------------------------------------------------------------------


def _mono(audio: np.ndarray) -> tuple[np.ndarray, int]:
    """(S,), (S, C) or (C, S) -> (S,) float32 and the channel count."""
    x = np.asarray(audio)
    if x.ndim == 1:
        return x.astype(np.float32, copy=False), 1
    if x.ndim == 2 and x.shape[1] <= MAX_CHANNELS < x.shape[0]:
        return x.mean(axis=1).astype(np.float32), x.shape[1]
    if x.ndim == 2 and x.shape[0] <= MAX_CHANNELS < x.shape[1]:
        return x.mean(axis=0).astype(np.float32), x.shape[0]
    raise ConfigError(
        f"audio of shape {x.shape}: give (samples,), (samples, channels) or (channels, samples) "
        f"with at most {MAX_CHANNELS} channels"
    )


def audio_windows(x: np.ndarray, sr: int, window_s: float, hop_s: float):
    """Windows of ``window_s`` centred every ``hop_s`` from 0 s to the end (half a window of
    silence padded at each end): (N, S) windows and their centre times (N,) in seconds."""
    win, hop = round(window_s * sr), hop_s * sr
    padded = np.pad(x, (win // 2, win - win // 2))
    n = int(np.floor(len(x) / hop)) + 1
    starts = np.round(np.arange(n) * hop).astype(int)
    starts = starts[starts + win <= len(padded)]
    return np.stack([padded[s : s + win] for s in starts]), starts / sr


def _check_hop(hop_s: float) -> float:
    if not hop_s > 0:
        raise ConfigError(f"hop must be > 0 seconds, got {hop_s!r}")
    return float(hop_s)


def _embedder(model, embedder, checkpoint, device) -> Embedder:
    return embedder if embedder is not None else load(model, checkpoint, device=device)


def embed_audio(
    audio, sr: int, model: str = "l3", *, hop_s: float = DEFAULT_HOP_S, checkpoint=None,
    embedder: Embedder | None = None, device: str = "cpu",
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Embeddings (N, D) and window-centre times (N,) of ``audio`` at rate ``sr``: channels
    averaged, resampled to the network's rate, windows every ``hop_s`` seconds."""
    from avlib.data.media import resample_audio

    _check_hop(hop_s)
    e = _embedder(model, embedder, checkpoint, device)
    e.require("audio")
    x, _ = _mono(audio)
    if x.size == 0:
        raise ConfigError("audio is empty: nothing to embed")
    if not np.isfinite(x).all():
        raise ConfigError(f"audio holds {int((~np.isfinite(x)).sum())} NaN/inf samples")
    if not sr > 0:
        raise ConfigError(f"sr must be > 0, got {sr!r}")
    x = resample_audio(x, int(sr), e.sr)
    windows, times = audio_windows(x, e.sr, e.window_s, hop_s)
    return e.audio(windows), times


def _square(frames, size: int) -> torch.Tensor:
    """(T, H, W, 3) uint8 or floats in [0, 1] -> (T, 3, size, size) floats in [0, 1]."""
    arr = np.asarray(frames)
    if arr.ndim != 4 or arr.shape[-1] != 3:
        raise ConfigError(f"frames of shape {arr.shape}: give (frames, height, width, 3) RGB")
    x = torch.from_numpy(np.ascontiguousarray(arr)).permute(0, 3, 1, 2).float()
    if arr.dtype.kind != "f":  # uint8 pixels
        x = x / 255.0
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False).clamp(0, 1)


def embed_video(
    frames, fps: float, model: str = "l3", *, hop_s: float = DEFAULT_HOP_S, checkpoint=None,
    embedder: Embedder | None = None, device: str = "cpu",
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Embeddings (N, D) and times (N,) of the frames every ``hop_s`` seconds of ``frames``
    (T, H, W, 3) at ``fps``, each resized to the network's square input."""
    _check_hop(hop_s)
    if not fps > 0:
        raise ConfigError(f"fps must be > 0, got {fps!r}")
    e = _embedder(model, embedder, checkpoint, device)
    e.require("video")
    n = len(frames)
    if n == 0:
        raise ConfigError("no frames: nothing to embed")
    times = np.arange(0.0, n / fps, hop_s)
    picks = np.minimum(np.round(times * fps).astype(int), n - 1)
    return e.video(_square(np.asarray(frames)[picks], e.frame_size)), times


# --- files ---------------------------------------------------------------------------------------


def embed_file(
    path, modality: str, embedder: Embedder, hop_s: float = DEFAULT_HOP_S, out_dir=None
) -> Path:
    """Embed one file's audio or video into ``<out_dir or its folder>/<stem>_<modality>.npz``
    (``embedding``, ``timestamps``, ``note``); errors name the file."""
    from avlib.atomic import atomic_open
    from avlib.data.media import load_audio, load_video, probe

    if modality not in MODALITIES:
        raise ConfigError(f"unknown modality {modality!r}: audio or video")
    embedder.require(modality)
    path = Path(path)
    info = probe(path)
    e = embedder
    try:
        if modality == "audio":
            if not info.has_audio:
                raise MediaError(path, "no audio stream", "embed its video instead")
            x = load_audio(path, sr=e.sr)
            emb, ts = embed_audio(x, e.sr, hop_s=hop_s, embedder=e)
            note = _audio_note(info.sr, info.channels, e)
        else:
            if not info.has_video:
                raise MediaError(path, "no video stream", "embed its audio instead")
            frames = load_video(path, fps=1.0 / _check_hop(hop_s), size=e.frame_size)
            emb, ts = embed_video(frames, 1.0 / hop_s, hop_s=hop_s, embedder=e)
            note = f"frames {info.width}x{info.height} resized to {e.frame_size}x{e.frame_size}"
    except ConfigError as err:  # an empty or odd file: say which
        raise DataError(path, str(err)) from err
    out = Path(out_dir) if out_dir is not None else path.parent
    target = out / f"{path.stem}_{modality}.npz"
    with atomic_open(target, "wb") as f:
        np.savez(f, embedding=emb, timestamps=ts, note=np.array(note), model=np.array(e.name),
                 checkpoint=np.array(str(e.checkpoint)), hop_s=np.array(hop_s))  # fmt: skip
    return target


def _audio_note(sr: int | None, channels: int | None, e: Embedder) -> str:
    parts = []
    if channels and channels > 1:
        parts.append(f"{channels} channels averaged to mono")
    if sr and sr != e.sr:
        parts.append(f"resampled from {sr} Hz to {e.sr} Hz")
    return "; ".join(parts) or f"mono at {e.sr} Hz as read"


def add_parser(sub) -> None:
    """`avlib embed audio|video FILE... [--model] [--checkpoint] [--hop] [--out]`."""
    p = sub.add_parser(
        "embed",
        help="embeddings of audio or video files with a trained network (one .npz per file)",
        description=__doc__.split("\n\n")[0],
    )
    p.add_argument("modality", choices=MODALITIES, help="embed the audio or the frames")
    p.add_argument("files", nargs="+", metavar="FILE", help="wav, flac, mp4, ... files")
    p.add_argument("--model", default="l3", help="a registered model that embeds (default l3)")
    p.add_argument("--checkpoint", default=None, help="trained weights (default: newest quick run)")
    p.add_argument("--preset", default=None, help="profile the checkpoint was trained at")
    p.add_argument("--hop", type=float, default=DEFAULT_HOP_S, help="seconds between embeddings")
    p.add_argument("--out", default=None, help="folder for the .npz files (default: beside each)")
    p.add_argument("--device", default="cpu", help="cpu | cuda[:N] | auto (default cpu)")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    e = load(args.model, args.checkpoint, args.preset, args.device)
    e.require(args.modality)
    hears = f"hears {e.sr} Hz, {e.window_s:g} s windows" if e.sr else "hears nothing"
    sees = f"sees {e.frame_size} px frames" if e.frame_size else "sees nothing"
    print(f"{e.name} at preset {e.preset} from {e.checkpoint} ({hears}; {sees})")
    for path in progress.bar(args.files, desc="embed", unit="file", leave=False):
        target = embed_file(path, args.modality, e, args.hop, args.out)
        with np.load(target) as saved:
            shape = saved["embedding"].shape
            print(f"{path} -> {target}: embedding {shape[0]} x {shape[1]} ({saved['note']})")
    return 0
