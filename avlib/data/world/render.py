"""Render one planned job into media files and ground-truth records (runs inside worker processes).

Each job seeds its own random stream from (world seed, data set, job index),
so a job renders the same bytes whichever process runs it and in whatever
order. A job returns, for every file it wrote, the relative path, the
file's sha256 and its ground-truth record (None for side files such as
LRS2/LRW transcripts).
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import numpy as np

from avlib.data.encode import write_audio, write_image, write_text, write_video
from avlib.data.media import load_audio, load_video
from avlib.data.world import compose, compose_actions, compose_talking, scenes
from avlib.data.world.common import Clip, rng_for
from avlib.data.world.layouts import Job, speaker_for
from avlib.data.world.presets import WorldPreset


def _transcript(spec: dict, truth: dict) -> str:
    """LRS2 (``Text:`` + word timings) or LRW (``Text:`` + ``Duration:``) transcript of a talking clip."""
    if spec["text"] == "lrw":
        word = spec["words"][spec["center_word"]]
        middle = spec["duration"] / 2
        t0, t1 = next((a, b) for w, a, b in truth["words"] if w == word and a <= middle <= b)
        return f"Text:  {word}\nDuration: {t1 - t0:.2f} seconds\n"
    lines = [f"Text:  {' '.join(w for w, _, _ in truth['words'])}", "", "WORD START END"]
    lines += [f"{w} {max(0.0, a):.2f} {b:.2f}" for w, a, b in truth["words"]]
    return "\n".join(lines) + "\n"


def _talking(spec: dict, preset: WorldPreset, seed: int, rng) -> Clip:
    """The talking-face clip a job's spec describes (LRS2, LRW, the sync test sets)."""
    return compose_talking.talking_clip(
        rng,
        preset,
        speaker_for(seed, spec["speaker"]),
        spec["words"],
        spec.get("duration"),
        spec.get("center_word"),
        offset_s=spec.get("offset_s", 0.0),
        min_duration=spec.get("min_duration", 0.0),
    )


def reencode(clip: Clip, preset: WorldPreset, fps: int, sr: int):
    """A clip encoded as the world's mp4, decoded again at ``fps`` and ``sr`` (the frame on
    screen at each new instant, polyphase resampling) and ready to encode once more: a real
    transcode. Per-frame truth (boxes, visemes) follows the frames shown."""
    with tempfile.TemporaryDirectory() as tmp:
        first = write_video(Path(tmp) / "25fps.mp4", clip.frames, preset.fps, clip.audio, preset.sr)
        n = len(clip.frames)
        dur_s = n / preset.fps
        frames = load_video(first, 0.0, dur_s, fps=fps)
        audio = load_audio(first, 0.0, dur_s, sr=sr)
    shown = np.minimum(
        np.floor(np.arange(len(frames)) * preset.fps / fps + 1e-6).astype(int), n - 1
    )
    truth = dict(clip.truth)
    for key in ("boxes", "face_boxes", "visemes"):
        truth[key] = [clip.truth[key][i] for i in shown]
    return frames, audio, truth


def render_job(
    job: Job, preset: WorldPreset, seed: int, root: str | Path
) -> list[tuple[str, str, dict | None]]:
    """Render ``job`` under ``root`` (the data set's directory); return (path, sha256, truth) per file."""
    root = Path(root)
    spec = job.spec
    rng = rng_for(seed, spec.get("rng_from", job.dataset), job.index)
    written: list[tuple[str, dict | None]] = []
    if job.render == "esc_source":
        for out, clip in zip(
            job.outputs,
            compose.esc_recording(rng, preset, spec["label"], len(job.outputs)),
            strict=True,
        ):
            write_audio(root / out, clip.audio.T, preset.sr)
            written.append(
                (out, {**clip.truth, "source_id": spec["source_id"], "fold": spec["fold"]})
            )
    elif job.render == "dcase":
        clip = compose.dcase_clip(rng, preset, spec["label"])
        write_audio(root / job.outputs[0], clip.audio.T, preset.sr)
        written.append((job.outputs[0], clip.truth))
    elif job.render == "talking_30fps":
        clip = _talking(spec, preset, seed, rng)
        frames, audio, truth = reencode(clip, preset, fps=30, sr=44_100)
        write_video(root / job.outputs[0], frames, 30, audio, 44_100)
        written.append((job.outputs[0], {**truth, "source_id": spec["source_id"]}))
        write_text(root / job.outputs[1], _transcript(spec, clip.truth))
        written.append((job.outputs[1], None))
    elif job.render in ("scene_video", "talking", "chunked_talking", "action", "impact"):
        if job.render == "scene_video":
            clip = compose.scene_clip(
                rng,
                preset,
                spec["duration"],
                spec["scene"],
                spec["classes"],
                unique_bed=spec["unique_bed"],
                bed_scene=spec.get("bed_scene"),
            )
        elif job.render == "talking":
            clip = _talking(spec, preset, seed, rng)
        elif job.render == "chunked_talking":
            speaker = speaker_for(seed, spec["speaker"])
            clip = compose_talking.chunked_talking_clip(
                rng, preset, speaker, spec["duration"], spec["chunk_s"], spec["event_chunks"]
            )
        elif job.render == "action":
            clip = compose_actions.action_clip(
                rng,
                preset,
                spec["action"],
                spec["group"],
                spec.get("distractor", False),
                spec.get("duration"),
            )
        else:
            clip = compose_actions.impact_clip(
                rng, preset, spec["material"], spec["duration"], spec["chunk_s"],
                spec["event_chunks"],
            )  # fmt: skip
        write_video(root / job.outputs[0], clip.frames, preset.fps, clip.audio, preset.sr)
        truth = {**clip.truth, "source_id": spec["source_id"]}
        if "labels" in spec:
            truth["labels"] = spec["labels"]
        written.append((job.outputs[0], truth))
        if "text" in spec:
            write_text(root / job.outputs[1], _transcript(spec, clip.truth))
            written.append((job.outputs[1], None))
    elif job.render == "image":
        for k, (out, cls) in enumerate(zip(job.outputs, spec["classes"], strict=True)):
            item_rng = rng_for(seed, job.dataset, job.index, k)
            if spec["objects"]:
                scene = str(item_rng.choice(scenes.SCENES))
                image = compose.object_image(item_rng, preset.size, scene, cls)
                truth = {"labels": [cls], "scene": scene}
            else:
                image = compose.object_image(item_rng, preset.size, cls, None)
                truth = {"labels": [cls], "scene": cls}
            write_image(root / out, image)
            written.append((out, truth))
    else:
        raise ValueError(f"unknown renderer {job.render!r}")
    return [
        (path, hashlib.sha256((root / path).read_bytes()).hexdigest(), truth)
        for path, truth in written
    ]
