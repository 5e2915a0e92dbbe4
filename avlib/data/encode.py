"""Writing media with PyAV, soundfile and Pillow: the counterpart of :mod:`avlib.data.media`.

The one place media is written: the world generator, the tests' fixtures with
known content, and the cache benchmark all call these functions.

Every writer writes a temporary file beside the target and renames it into
place, so an interrupted generation never leaves a half-written file under a
real name. Encoder settings are the same for every class and data set (one
x264 preset and CRF, one AAC bit rate), so file size and codec parameters
carry no label information. x264 runs single-threaded with the ``superfast``
preset: the generator parallelises over files, and both are needed for a
deterministic bitstream (measured: with PyAV's default thread count, or with
``veryfast``'s macroblock-tree lookahead, the same frames encoded run to run
gave different packets). ``lossless=True`` writes RGB H.264 at qp 0
(``libx264rgb``) with PCM audio, for tests that compare decoded pixels and
samples exactly (use an ``.mkv`` name).

Audio arrays are (S,) mono or (C, S), the shape :func:`avlib.data.media.load_audio`
returns, float in [-1, 1].
"""

from __future__ import annotations

import io
from pathlib import Path

import av
import numpy as np
import soundfile as sf
from PIL import Image

from avlib.atomic import atomic_path
from avlib.errors import MediaError

X264_OPTIONS = {"preset": "superfast", "crf": "20", "g": "50"}
X264_LOSSLESS = {"qp": "0", "preset": "superfast"}
AAC_BITRATE = 96_000
AAC_OPTIONS = {
    "aac_coder": "fast",
    "aac_pns": "0",
    "aac_tns": "0",
}  # 3x faster; no noise substitution
LAYOUTS = {1: "mono", 2: "stereo"}


def _check_audio(path, audio: np.ndarray, finite: bool = True) -> np.ndarray:
    """(C, S) float32 from (S,) or (C, S); NaN/inf refused unless ``finite=False``."""
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim not in (1, 2) or audio.shape[-1] == 0 or audio.ndim == 2 and audio.shape[0] > 8:
        raise MediaError(
            path, f"audio must be a non-empty (S,) or (C, S) array with C <= 8, got {audio.shape}"
        )
    audio = np.atleast_2d(audio)
    if not finite:
        return audio
    if not np.isfinite(audio).all():
        raise MediaError(path, "audio contains NaN or infinity")
    return np.clip(audio, -1.0, 1.0)


def write_text(path: str | Path, text: str) -> Path:
    """Write a text file (metadata, transcript, manifest), atomically."""
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text)
    return Path(path)


def write_audio(
    path: str | Path, audio: np.ndarray, sr: int, subtype: str = "PCM_16", *, finite: bool = True
) -> Path:
    """Write audio with soundfile (wav/flac by suffix; ``subtype`` e.g. PCM_24, FLOAT), atomically.

    ``finite=False`` lets NaN/inf through unclipped (tests of the readers' checks).
    """
    path = Path(path)
    audio = _check_audio(path, audio, finite)
    buf = io.BytesIO()  # encode in memory: one plain write, no per-file flush to disk
    fmt = path.suffix.lstrip(".").upper() or "WAV"
    sf.write(buf, audio.T, int(sr), subtype=subtype, format=fmt)
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(buf.getvalue())
    return path


def write_image(path: str | Path, image: np.ndarray) -> Path:
    """Write an (H, W, 3) uint8 image (png by suffix, lossless), atomically."""
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise MediaError(path, f"image must be (H, W, 3) uint8, got {image.dtype} {image.shape}")
    path = Path(path)
    with atomic_path(path) as tmp:
        Image.fromarray(image).save(tmp, format=Image.registered_extensions()[path.suffix.lower()])
    return path


def write_video(
    path: str | Path,
    frames: np.ndarray,
    fps: int,
    audio: np.ndarray | None = None,
    sr: int | None = None,
    *,
    lossless: bool = False,
) -> Path:
    """Write RGB ``frames`` (T, H, W, 3) uint8 and optional ``audio``, atomically.

    Lossy (default): H.264 yuv420p + AAC, the world's format. Lossless: RGB
    H.264 at qp 0 + 16-bit PCM (needs a container that takes PCM, e.g. mkv).
    """
    path = Path(path)
    frames = np.asarray(frames)
    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[3] != 3 or len(frames) == 0:
        raise MediaError(
            path, f"frames must be (T, H, W, 3) uint8 with T > 0, got {frames.dtype} {frames.shape}"
        )
    if not lossless and (frames.shape[1] % 2 or frames.shape[2] % 2):
        raise MediaError(
            path, f"yuv420p needs even frame sides, got {frames.shape[2]}x{frames.shape[1]}"
        )
    if audio is not None:
        audio = _check_audio(path, audio)
        if audio.shape[0] not in LAYOUTS or not sr:
            raise MediaError(
                path, f"video audio must be mono or stereo with a rate, got {audio.shape}"
            )
    with atomic_path(path) as tmp, av.open(tmp, "w") as c:
        if lossless:
            video = c.add_stream("libx264rgb", rate=int(fps), options=dict(X264_LOSSLESS))
            video.pix_fmt = "rgb24"
        else:
            video = c.add_stream("libx264", rate=int(fps), options=dict(X264_OPTIONS))
            video.pix_fmt = "yuv420p"
        video.width, video.height = frames.shape[2], frames.shape[1]
        video.codec_context.thread_count = 1  # PyAV's default (0 = auto) overrides the option
        video.codec_context.thread_type = "NONE"
        sound = None
        if audio is not None:
            sound = c.add_stream("pcm_s16le" if lossless else "aac", rate=int(sr))
            sound.layout = LAYOUTS[audio.shape[0]]
            if not lossless:
                sound.bit_rate = AAC_BITRATE
                sound.options = dict(AAC_OPTIONS)
        for i, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = i
            c.mux(video.encode(frame))
        c.mux(video.encode())
        if sound is not None:
            block = sound.codec_context.frame_size or 1024
            for start in range(0, audio.shape[1], block):
                chunk = audio[:, start : start + block]
                if lossless:  # packed s16: (1, S * C) interleaved
                    chunk = np.round(chunk * 32767).astype(np.int16).T.reshape(1, -1)
                frame = av.AudioFrame.from_ndarray(
                    np.ascontiguousarray(chunk),
                    format="s16" if lossless else "fltp",
                    layout=sound.layout.name,
                )
                frame.sample_rate = int(sr)
                frame.pts = start
                c.mux(sound.encode(frame))
            c.mux(sound.encode())
    return path
