"""Shared pieces of the world generator: seeded random streams, random ids, clips.

Every generated item draws from its own stream, derived from (world seed, data
set, item index, purpose), so items can be rendered in any order on any number
of processes and still come out identical.
"""

from __future__ import annotations

import string
import zlib
from dataclasses import dataclass, field

import numpy as np

ID_CHARS = np.array(list(string.ascii_letters + string.digits + "-_"))


def rng_for(seed: int, *keys: str | int) -> np.random.Generator:
    """A random generator determined by the world seed and a path of keys (names or indices)."""
    words = [int(seed) & 0xFFFFFFFF]
    for key in keys:
        words.append(zlib.crc32(key.encode()) if isinstance(key, str) else int(key) & 0xFFFFFFFF)
    return np.random.default_rng(np.random.SeedSequence(words))


def random_ids(rng: np.random.Generator, n: int, length: int = 11, chars=ID_CHARS) -> list[str]:
    """``n`` distinct random ids (YouTube-like by default); they carry no class or order."""
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        new = ["".join(row) for row in rng.choice(chars, size=(n - len(out), length))]
        for s in new:
            if s not in seen and not s.startswith("-"):
                seen.add(s)
                out.append(s)
    return out


def random_digit_ids(rng: np.random.Generator, n: int, length: int) -> list[str]:
    """``n`` distinct random decimal ids with no leading zero (Flickr / LRS2 style)."""
    return random_ids(rng, n, length, chars=np.array(list("0123456789")))


def frame_rms(audio: np.ndarray, sr: int, fps: int, n_frames: int) -> np.ndarray:
    """RMS of the audio in a window of one frame period centred on each frame's instant i / fps."""
    hop = sr / fps
    half = int(hop // 2)
    padded = np.pad(audio.astype(np.float64), (half, half + int(hop) + 1))
    csum = np.concatenate([[0.0], np.cumsum(padded**2)])
    starts = (np.arange(n_frames) * hop).astype(int)
    ends = starts + int(hop) + 1
    return np.sqrt((csum[ends] - csum[starts]) / (ends - starts)).astype(np.float32)


def smooth_noise(
    rng: np.random.Generator, n: int, corr: float, dims: int = 1, scale: float = 1.0
) -> np.ndarray:
    """Smooth random track (n, dims): white noise low-passed over ``corr`` steps, unit std * scale."""
    corr = max(corr, 1.0)
    k = np.exp(-0.5 * (np.arange(-3 * corr, 3 * corr + 1) / corr) ** 2)
    raw = rng.standard_normal((n + len(k), dims))
    out = np.stack(
        [
            np.convolve(raw[:, d], k, mode="same")[len(k) // 2 : len(k) // 2 + n]
            for d in range(dims)
        ],
        1,
    )
    out /= out.std(0, keepdims=True) + 1e-9
    return out * scale


def db_gain(signal_rms: float, other_rms: float, snr_db: float) -> float:
    """Gain for ``other`` so that signal / (gain * other) has the given SNR in dB."""
    if other_rms <= 0:
        return 0.0
    return float(signal_rms / (other_rms * 10 ** (snr_db / 20)))


def rms(x: np.ndarray) -> float:
    """Root mean square of an array (0 for an empty one)."""
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if x.size else 0.0


@dataclass
class Clip:
    """One rendered item: video frames (T,H,W,3) uint8 or None, mono/stereo audio, ground truth."""

    audio: np.ndarray  # float32 (S,) or (S, 2), peak <= 1
    frames: np.ndarray | None = None
    truth: dict = field(default_factory=dict)


def finish_audio(
    audio: np.ndarray, rng: np.random.Generator, peak_db: tuple = (-9.0, -1.0)
) -> np.ndarray:
    """Peak-normalise to a random level in ``peak_db`` (dBFS) and return float32."""
    peak = float(np.max(np.abs(audio))) or 1.0
    level = 10 ** (rng.uniform(*peak_db) / 20)
    return (audio * (level / peak)).astype(np.float32)
