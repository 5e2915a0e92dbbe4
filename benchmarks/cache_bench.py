"""Decoded-cache benchmark: training samples per second read from the cache vs decoded with PyAV per access.

A sample is what AVTS and the attention paper train on: 1 s of video at
25 fps resized to 64 x 64 plus the 1 s of audio at 16 kHz, from a random
clip at a random time. The baseline decodes each sample from its mp4
(load_video + load_audio, seeking to the window). The cache side builds the
decoded cache once (timed separately, as is a second load that verifies every row), then serves AVTS batches through
``avlib.data.datasets.Batches`` (gather + float conversion, what the trainer
gets). Media: world-style H.264 (yuv420p) + AAC mp4s written here, or
``--data DIR``, any data set directory with videos. Results go to
``benchmarks/out/cache_bench.json`` (gitignored).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from avlib.atomic import write_json
from avlib.data.cache import DecodedCache
from avlib.data.datasets import Batches
from avlib.data.encode import write_video
from avlib.data.layouts import open_dataset
from avlib.data.media import load_audio, load_video
from avlib.data.samplers.shifts import AVTSSampler, Curriculum
from avlib.profiles import project_root

FPS, SIZE, SR, WINDOW_S = 25, (64, 64), 16000, 1.0


def write_clips(folder: Path, n: int, seconds: float, seed: int = 0) -> Path:
    """n moving-noise 128 x 128 H.264/AAC (48 kHz) clips in the Flickr-SoundNet layout."""
    rng = np.random.default_rng(seed)
    for k in range(n):
        base = rng.integers(0, 256, (128, 128, 3), dtype=np.uint8)
        frames = np.stack([np.roll(base, 2 * t, axis=1) for t in range(round(seconds * FPS))])
        t = np.arange(round(seconds * 48000)) / 48000
        audio = 0.3 * np.sin(2 * np.pi * (200 + 40 * k) * t) + 0.05 * rng.standard_normal(len(t))
        write_video(
            folder / "videos" / f"clip{k:03d}.mp4", frames, FPS, audio.astype(np.float32), 48000
        )
    (folder / "videos.txt").write_text("".join(f"videos/clip{k:03d}.mp4\n" for k in range(n)))
    return folder


def decode_per_access(items, samples: int, clip_s: float, seed: int = 0) -> float:
    """Samples/s when each sample is decoded from its file (the no-cache baseline)."""
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    for _ in range(samples):
        item = items[rng.integers(len(items))]
        start = round(float(rng.uniform(0, clip_s - WINDOW_S)) * FPS) / FPS
        load_video(item.path, start, WINDOW_S, fps=FPS, size=SIZE)
        load_audio(item.path, start, WINDOW_S, sr=SR)
    return samples / (time.perf_counter() - t0)


def from_cache(arrays, samples: int, batch_size: int = 32) -> float:
    """Samples/s of AVTS batches gathered from the cache arrays (warm page cache)."""
    window = round(WINDOW_S * FPS)
    sampler = AVTSSampler(
        len(arrays),
        arrays.frames.shape[1],
        window_frames=window,
        curriculum=Curriculum.constant(easy=3, hard=1),
        min_hard_shift=window // 2,
        samples_per_epoch=samples,
    )
    batches = Batches(arrays, sampler, batch_size)
    n, t0 = 0, time.perf_counter()
    for batch in batches:
        n += len(batch["label"])
    return n / (time.perf_counter() - t0)


def run(
    data: Path | None = None,
    *,
    clips: int = 24,
    clip_s: float = 5.0,
    decode_samples: int = 60,
    cache_samples: int = 4096,
    out: Path | None = None,
) -> dict:
    """Run both sides and write the numbers as JSON; returns them."""
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="avbook-bench-") as tmp:
        root = data or write_clips(Path(tmp) / "media", clips, clip_s)
        index = open_dataset(root)
        cache = DecodedCache(Path(tmp) / "cache")
        t0 = time.perf_counter()
        arrays = cache.load(index, fps=FPS, size=SIZE, sr=SR, dur_s=clip_s, progress=True)
        build_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        arrays = cache.load(index, fps=FPS, size=SIZE, sr=SR, dur_s=clip_s, progress=False)
        reload_s = time.perf_counter() - t0
        cached = from_cache(arrays, cache_samples)
        decoded = decode_per_access(arrays.items, decode_samples, clip_s)
    result = {
        "sample": f"{WINDOW_S:g} s video at {FPS} fps, {SIZE[0]}x{SIZE[1]}, + {WINDOW_S:g} s audio at {SR} Hz",
        "clips": len(arrays),
        "clip_s": clip_s,
        "data": str(data) if data else "synthetic H.264/AAC 128x128, 48 kHz",
        "decode_per_access_samples_per_s": round(decoded, 2),
        "cache_samples_per_s": round(cached, 1),
        "ratio": round(cached / decoded, 1),
        "cache_build_s": round(build_s, 2),
        "cache_build_workers": cache.workers,
        "cache_reload_s (hash check + CRC verify)": round(reload_s, 3),
        "cpu_count": len(os.sched_getaffinity(0)),
        "load_average_before_1_5_15": [round(x, 2) for x in load_before],
        "load_average_after_1_5_15": [round(x, 2) for x in os.getloadavg()],
    }
    write_json(out or project_root() / "benchmarks" / "out" / "cache_bench.json", result)
    return result


def main(args: argparse.Namespace) -> int:
    """Run with parsed arguments and print the result."""
    data, out = (Path(x) if x else None for x in (args.data, args.out))
    result = run(data, clips=args.clips, clip_s=args.clip_s, out=out)
    width = max(map(len, result))
    print("\n".join(f"{k:<{width}}  {v}" for k, v in result.items()))
    return 0


if __name__ == "__main__":
    from avlib.bench import add_cache_arguments

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_cache_arguments(parser)
    raise SystemExit(main(parser.parse_args()))
