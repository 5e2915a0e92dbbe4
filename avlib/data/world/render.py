"""Render one planned job into media files and ground-truth records (runs inside worker processes).

Each job seeds its own random stream from (world seed, data set, job index),
so a job renders the same bytes whichever process runs it and in whatever
order. A job returns, for every file it wrote, the relative path, the
file's sha256 and its ground-truth record (None for side files such as
LRS2/LRW transcripts).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from avlib.data.encode import write_audio, write_image, write_text, write_video
from avlib.data.world import compose, scenes
from avlib.data.world.common import rng_for
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


def render_job(
    job: Job, preset: WorldPreset, seed: int, root: str | Path
) -> list[tuple[str, str, dict | None]]:
    """Render ``job`` under ``root`` (the data set's directory); return (path, sha256, truth) per file."""
    root = Path(root)
    rng = rng_for(seed, job.dataset, job.index)
    spec = job.spec
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
            speaker = speaker_for(seed, spec["speaker"])
            clip = compose.talking_clip(
                rng, preset, speaker, spec["words"], spec.get("duration"), spec.get("center_word")
            )
        elif job.render == "chunked_talking":
            speaker = speaker_for(seed, spec["speaker"])
            clip = compose.chunked_talking_clip(
                rng, preset, speaker, spec["duration"], spec["chunk_s"], spec["event_chunks"]
            )
        elif job.render == "action":
            clip = compose.action_clip(rng, preset, spec["action"], spec["group"])
        else:
            clip = compose.impact_clip(
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
