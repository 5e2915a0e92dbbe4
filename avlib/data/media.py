"""The one module that decodes media: video frames and audio samples, by timestamps.

wav/flac/ogg/aiff are read with soundfile, everything else (mp4, mkv, avi, png,
jpg) with PyAV. Every conversion is explicit: frame-rate conversion picks, for
each output time ``start_s + k / fps``, the frame on screen at that time (the
latest frame whose timestamp is <= it); resizing is asked for with ``size``;
resampling uses a polyphase filter (``scipy.signal.resample_poly``); stereo
becomes mono by averaging the channels. Times are presentation timestamps in
seconds, shared by the audio and video streams of one file, so an offset
between the two streams survives decoding. Problems raise typed errors from
:mod:`avlib.errors` that name the file.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

from avlib.errors import (
    ConfigError,
    DataError,
    MediaError,
    MissingStreamError,
    NonFiniteError,
    TooShortError,
)

SOUNDFILE_SUFFIXES = frozenset({".wav", ".flac", ".ogg", ".aif", ".aiff"})
TIME_EPS = 1e-4  # seconds: timestamps closer than this are the same instant
RESAMPLE_MARGIN_S = 0.05  # context read on each side of a window before resampling


@dataclass(frozen=True)
class MediaInfo:
    """What a media file holds, read from its headers (no decoding)."""

    path: Path
    duration_s: float
    has_video: bool
    has_audio: bool
    fps: float | None = None
    frames: int | None = None
    width: int | None = None
    height: int | None = None
    sr: int | None = None
    channels: int | None = None


def _check_file(path: str | Path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise MediaError(path, "no such media file")
    if path.stat().st_size == 0:
        raise MediaError(path, "empty file (0 bytes)", "re-create or remove it")
    return path


def _check_window(start_s: float, dur_s: float | None) -> None:
    if not math.isfinite(start_s) or start_s < 0:
        raise ConfigError(f"start_s must be a finite number >= 0, got {start_s!r}")
    if dur_s is not None and (not math.isfinite(dur_s) or dur_s <= 0):
        raise ConfigError(f"dur_s must be a finite number > 0 or None, got {dur_s!r}")


@contextmanager
def _reading(path: Path) -> Iterator[None]:
    """Turn decoder exceptions into a MediaError naming the file."""
    try:
        yield
    except DataError:
        raise
    except (av.error.FFmpegError, sf.SoundFileError, EOFError) as e:
        raise MediaError(
            path,
            f"unreadable, truncated or corrupted media ({type(e).__name__}: {e})",
            "re-encode or remove the file",
        ) from e


def _uses_soundfile(path: Path) -> bool:
    return path.suffix.lower() in SOUNDFILE_SUFFIXES


def probe(path: str | Path) -> MediaInfo:
    """Duration, frame rate, frame count, sample rate and channels of a media file."""
    path = _check_file(path)
    with _reading(path):
        if _uses_soundfile(path):
            info = sf.info(str(path))
            return MediaInfo(
                path,
                info.frames / info.samplerate,
                False,
                True,
                sr=info.samplerate,
                channels=info.channels,
            )
        with av.open(str(path)) as container:
            video = container.streams.video[0] if container.streams.video else None
            audio = container.streams.audio[0] if container.streams.audio else None
            durations = [
                float(s.duration * s.time_base)
                for s in (video, audio)
                if s is not None and s.duration is not None
            ]
            if container.duration is not None:
                durations.append(container.duration / av.time_base)
            duration = max(durations, default=0.0)
            fps = frames = None
            if video is not None:
                rate = video.average_rate or video.guessed_rate
                fps = float(rate) if rate else None
                frames = video.frames or (round(duration * fps) if fps else None)
            return MediaInfo(
                path,
                duration,
                has_video=video is not None,
                has_audio=audio is not None,
                fps=fps,
                frames=frames,
                width=video.codec_context.width if video is not None else None,
                height=video.codec_context.height if video is not None else None,
                sr=audio.sample_rate if audio is not None else None,
                channels=audio.codec_context.layout.nb_channels if audio is not None else None,
            )


def _stream(container: av.container.InputContainer, kind: str, path: Path):
    streams = getattr(container.streams, kind)
    if not streams:
        raise MissingStreamError(path, f"no {kind} stream", f"this file has no {kind} track")
    return streams[0]


def _seek(container, stream, t: float) -> None:
    """Seek to the keyframe at or before ``t`` seconds (no-op near the start)."""
    if t > 0.5:
        container.seek(int(t / stream.time_base), stream=stream, backward=True)


def _size_hw(size: int | tuple[int, int] | None) -> tuple[int, int] | None:
    if size is None:
        return None
    h, w = (size, size) if isinstance(size, int) else size
    if h <= 0 or w <= 0:
        raise ConfigError(f"size must be positive (H, W), got {size!r}")
    return int(h), int(w)


def load_video(
    path: str | Path,
    start_s: float = 0.0,
    dur_s: float | None = None,
    fps: float | None = None,
    size: int | tuple[int, int] | None = None,
) -> np.ndarray:
    """RGB frames (T, H, W, 3) uint8 of ``[start_s, start_s + dur_s)``, at ``fps`` and ``size`` (H, W).

    With ``fps`` the output has ``round(dur_s * fps)`` frames, frame k being the
    one on screen at ``start_s + k / fps``; without it, the file's own frames
    whose timestamps fall in the window.
    """
    path = _check_file(path)
    _check_window(start_s, dur_s)
    hw = _size_hw(size)
    if fps is not None and fps <= 0:
        raise ConfigError(f"fps must be > 0 or None, got {fps!r}")
    end_s = None if dur_s is None else start_s + dur_s
    n_out = None if fps is None or dur_s is None else round(dur_s * fps)
    kwargs = {} if hw is None else {"height": hw[0], "width": hw[1], "interpolation": "BILINEAR"}
    out: list[np.ndarray] = []
    last: list = [
        None,
        None,
    ]  # the last frame converted and its array (frames repeat when upsampling)

    def emit(frame: av.VideoFrame) -> None:
        if frame is not last[0]:
            last[:] = frame, frame.to_ndarray(format="rgb24", **kwargs)
        out.append(last[1])

    def due(t: float) -> bool:  # is the next output time before t?
        k = len(out)
        return (n_out is None or k < n_out) and start_s + k / fps < t - TIME_EPS

    with _reading(path), av.open(str(path)) as container:
        stream = _stream(container, "video", path)
        rate = stream.average_rate or stream.guessed_rate or Fraction(25)
        period = 1.0 / float(rate)
        header_s = float(stream.duration * stream.time_base) if stream.duration else None
        _seek(container, stream, start_s)
        shown, decoded, t = None, 0, 0.0  # shown: the frame on screen at the next output time
        for frame in container.decode(stream):
            t = frame.time if frame.pts is not None else decoded * period
            decoded += 1
            if fps is None:
                if t >= start_s - TIME_EPS and (end_s is None or t < end_s - TIME_EPS):
                    emit(frame)
            else:
                while due(t):  # output times before this frame show the previous one
                    emit(shown if shown is not None else frame)
                shown = frame
            if end_s is not None and t >= end_s - TIME_EPS:
                break
        if not decoded:
            raise TooShortError(path, "no video frames could be decoded")
        stream_end = t + period
        if start_s == 0 and dur_s is None and stream.frames and decoded < stream.frames:
            raise MediaError(path, f"truncated: decoded {decoded} of {stream.frames} frames")
        if end_s is not None and end_s > stream_end + TIME_EPS:
            problem = f"video ends at {stream_end:.3f} s; window [{start_s:.3f}, {end_s:.3f}) s"
            if header_s is not None and header_s > stream_end + 2 * period:
                raise MediaError(path, f"truncated: header says {header_s:.3f} s but {problem}")
            raise TooShortError(path, f"{problem} does not fit")
        while fps is not None and due(stream_end):
            emit(shown)
        if not out:
            raise TooShortError(path, f"no video frame in [{start_s:.3f}, {end_s}) s")
        return np.stack(out)


def _audio_frame_to_float(frame: av.AudioFrame) -> np.ndarray:
    """(C, n) float32 in [-1, 1] from a decoded audio frame of any sample format."""
    channels = frame.layout.nb_channels
    arr = frame.to_ndarray()
    if not frame.format.is_planar:
        arr = arr.reshape(-1, channels).T
    if arr.dtype == np.uint8:
        return (arr.astype(np.float32) - 128.0) / 128.0
    if arr.dtype.kind == "i":
        return arr.astype(np.float32) / float(2 ** (8 * arr.dtype.itemsize - 1))
    return arr.astype(np.float32, copy=False)


def _read_native(
    path: Path, start_s: float, dur_s: float | None, margin_s: float
) -> tuple[np.ndarray, int, int, int]:
    """The window at the native rate with up to ``margin_s`` of context on each side.

    Returns (x (C, n) float32, native rate, index of the window's first sample
    in x, window length in samples).
    """
    if _uses_soundfile(path):
        with sf.SoundFile(str(path)) as f:
            native, total = f.samplerate, f.frames
            a, n = _window(path, start_s, dur_s, native, total)
            lo, hi = (
                max(a - round(margin_s * native), 0),
                min(a + n + round(margin_s * native), total),
            )
            f.seek(lo)
            return f.read(hi - lo, dtype="float32", always_2d=True).T.copy(), native, a - lo, n
    with av.open(str(path)) as container:
        stream = _stream(container, "audio", path)
        native = stream.sample_rate
        margin = round(margin_s * native)
        a = round(start_s * native)
        stop = None if dur_s is None else a + round(dur_s * native) + margin
        _seek(container, stream, start_s - margin_s - 0.2)  # 0.2 s of decoder pre-roll
        chunks: list[tuple[int, np.ndarray]] = []
        pos = 0
        for frame in container.decode(stream):
            s0 = round(frame.time * native) if frame.pts is not None else pos
            x = _audio_frame_to_float(frame)
            pos = s0 + x.shape[1]
            if pos > a - margin:
                chunks.append((s0, x))
            if stop is not None and pos >= stop:
                break
        header = round(float(stream.duration * stream.time_base * native)) if stream.duration else 0
        if header and pos < min(header, stop or header) - native // 10:
            raise MediaError(
                path, f"truncated: audio ends at {pos / native:.3f} s of {header / native:.3f} s"
            )
        total = header or pos
        a, n = _window(path, start_s, dur_s, native, total)
        lo, hi = max(a - margin, 0), min(a + n + margin, pos)
        out = np.zeros((stream.codec_context.layout.nb_channels, hi - lo), np.float32)
        for s0, x in chunks:
            c0, c1 = max(s0, lo), min(s0 + x.shape[1], hi)
            if c1 > c0:
                out[:, c0 - lo : c1 - lo] = x[:, c0 - s0 : c1 - s0]
        return out, native, a - lo, n


def _window(path: Path, start_s: float, dur_s: float | None, native: int, total: int):
    """(first sample, length) of the asked window at the native rate; TooShortError if it does not fit."""
    a = round(start_s * native)
    n = total - a if dur_s is None else round(dur_s * native)
    if total == 0:
        raise TooShortError(path, "no audio samples")
    if a >= total or a + n > total:
        raise TooShortError(
            path,
            f"audio is {total / native:.3f} s; window [{start_s:.3f}, {(a + n) / native:.3f}) s "
            "does not fit",
        )
    return a, n


def resample_audio(x: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """Polyphase resampling along the last axis (float32 in, float32 out)."""
    if sr_in == sr_out:
        return x
    g = math.gcd(int(sr_in), int(sr_out))
    return resample_poly(x, sr_out // g, sr_in // g, axis=-1).astype(np.float32)


def load_audio(
    path: str | Path,
    start_s: float = 0.0,
    dur_s: float | None = None,
    sr: int | None = None,
    mono: bool = True,
) -> np.ndarray:
    """Float32 samples of ``[start_s, start_s + dur_s)``: (S,) when ``mono`` (channel mean) else (C, S).

    ``sr`` resamples (polyphase, with context read around the window); with
    ``dur_s`` the output has exactly ``round(dur_s * sr)`` samples.
    """
    path = _check_file(path)
    _check_window(start_s, dur_s)
    if sr is not None and sr <= 0:
        raise ConfigError(f"sr must be > 0 or None, got {sr!r}")
    with _reading(path):
        margin = RESAMPLE_MARGIN_S if sr is not None else 0.0
        x, native, first, n = _read_native(path, start_s, dur_s, margin)
        bad = ~np.isfinite(x[:, first : first + n])
        if bad.any():
            raise NonFiniteError(path, f"{int(bad.sum())} NaN/inf samples in the window")
        if mono:
            x = x.mean(axis=0, keepdims=True)
        sr_out = native if sr is None else int(sr)
        if sr_out != native:
            x = resample_audio(x, native, sr_out)
            first = round(first * sr_out / native)
            n = round(n * sr_out / native) if dur_s is None else round(dur_s * sr_out)
        y = x[:, first : first + n]
        if y.shape[1] < n:  # the window ends within a sample of the file's end
            y = np.pad(y, ((0, 0), (0, n - y.shape[1])))
        return np.ascontiguousarray(y[0] if mono else y)


def load_image(path: str | Path, size: int | tuple[int, int] | None = None) -> np.ndarray:
    """An image file (png, jpg, ...) as RGB (H, W, 3) uint8, resized to ``size`` (H, W) if given."""
    path = _check_file(path)
    hw = _size_hw(size)
    with _reading(path), av.open(str(path)) as container:
        stream = _stream(container, "video", path)
        for frame in container.decode(stream):
            kwargs = {} if hw is None else {"height": hw[0], "width": hw[1]}
            return frame.to_ndarray(format="rgb24", **kwargs)
    raise MediaError(path, "image holds no decodable picture")
