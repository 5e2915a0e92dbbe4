"""Writing media with PyAV and soundfile: the counterpart of :mod:`avlib.data.media`.

Used by the tests (fixtures with known content) and the cache benchmark; the
formats are the ones ARCHITECTURE.md promises for the world: H.264 (yuv420p)
+ AAC in mp4, and PCM wav. ``lossless=True`` writes RGB H.264 at qp 0
(``libx264rgb``) with PCM audio in mkv, so decoded pixels and samples are exact.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import soundfile as sf

AAC_FRAME = 1024  # samples per AAC frame


def write_video(
    path: str | Path,
    frames: np.ndarray,
    fps: int,
    audio: np.ndarray | None = None,
    sr: int | None = None,
    *,
    lossless: bool = False,
    crf: int = 18,
) -> Path:
    """Write RGB ``frames`` (T, H, W, 3) uint8 and optional float ``audio`` (S,) or (C, S) in [-1, 1]."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = np.asarray(frames, dtype=np.uint8)
    with av.open(str(path), "w") as container:
        if lossless:
            vs = container.add_stream("libx264rgb", rate=fps, options={"qp": "0", "preset": "fast"})
            vs.pix_fmt = "rgb24"
        else:
            opts = {"crf": str(crf), "preset": "veryfast"}
            vs = container.add_stream("libx264", rate=fps, options=opts)
            vs.pix_fmt = "yuv420p"
        vs.width, vs.height = frames.shape[2], frames.shape[1]
        astream = None
        if audio is not None:
            audio = np.atleast_2d(np.asarray(audio, dtype=np.float32))
            layout = {1: "mono", 2: "stereo"}[audio.shape[0]]
            astream = container.add_stream("pcm_s16le" if lossless else "aac", rate=sr)
            astream.layout = layout
        for i, img in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = i
            container.mux(vs.encode(frame))
        container.mux(vs.encode())
        if astream is not None:
            fmt = "s16" if lossless else "fltp"
            for k in range(0, audio.shape[1], AAC_FRAME):
                chunk = audio[:, k : k + AAC_FRAME]
                if lossless:
                    chunk = np.round(np.clip(chunk, -1, 1) * 32767).astype(np.int16)
                    chunk = chunk.T.reshape(1, -1)
                frame = av.AudioFrame.from_ndarray(
                    np.ascontiguousarray(chunk), format=fmt, layout=astream.layout.name
                )
                frame.sample_rate = sr
                frame.pts = k
                container.mux(astream.encode(frame))
            container.mux(astream.encode())
    return path


def write_image(path: str | Path, image: np.ndarray) -> Path:
    """Write an RGB (H, W, 3) uint8 image; png by default (lossless)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w", format="image2") as container:
        stream = container.add_stream("png")
        stream.width, stream.height, stream.pix_fmt = image.shape[1], image.shape[0], "rgb24"
        container.mux(
            stream.encode(av.VideoFrame.from_ndarray(np.asarray(image, np.uint8), format="rgb24"))
        )
        container.mux(stream.encode())
    return path


def write_audio(path: str | Path, audio: np.ndarray, sr: int, subtype: str = "PCM_16") -> Path:
    """Write float ``audio`` (S,) or (C, S) with soundfile (wav/flac by suffix; ``subtype`` e.g. PCM_24, FLOAT)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    audio = np.asarray(audio)
    sf.write(str(path), audio.T if audio.ndim == 2 else audio, sr, subtype=subtype)
    return path
