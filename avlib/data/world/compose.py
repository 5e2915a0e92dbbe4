"""Clip composition: scenes, sounding objects, distractors and mixing into one audio-visual clip.

A scene clip is a background (a scene) with sounding objects whose motion
follows their sound, silent objects that move on events of their own, an
optional off-screen sound (an audio-only class, nothing visible makes it),
the scene's ambient bed at a preset SNR, white noise, and camera shake.
Correspondence and synchrony therefore need the right region and the right
time: the background tells the scene, not the object; a moving object is
not necessarily the sounding one; not every sound has a visible source.
Besides :func:`scene_clip` this module holds the other scene-level media
(:func:`object_image`, :func:`esc_recording`, :func:`dcase_clip`) and the
mixing, camera and truth helpers (``_mix``, ``_frame_boxes``,
``_chunk_truth``) that :mod:`~avlib.data.world.compose_talking` and
:mod:`~avlib.data.world.compose_actions` share.
"""

from __future__ import annotations

import numpy as np

from avlib.data.world import scenes, sounds, visuals
from avlib.data.world.common import Clip, db_gain, finish_audio, frame_rms, rms, smooth_noise
from avlib.data.world.presets import WorldPreset

PAD_FRAC = 0.06  # camera shake margin, fraction of the frame side


def _mix(
    rng: np.random.Generator,
    preset: WorldPreset,
    foreground: np.ndarray | None,
    bed: np.ndarray,
    bed_snr: tuple[float, float],
) -> tuple[np.ndarray, float | None, float]:
    """Foreground + bed at a drawn SNR (the bed alone when there is no foreground) + white noise.

    Returns (mix, bed SNR dB or None, noise SNR dB).
    """
    bed_db = None
    if foreground is None:
        mix = bed / (rms(bed) or 1.0)
    else:
        bed_db = round(float(rng.uniform(*bed_snr)), 2)
        mix = foreground + bed * db_gain(rms(foreground) or 1.0, rms(bed), bed_db)
    noise_db = float(rng.uniform(*preset.noise_snr_db))
    mix = mix + rng.standard_normal(len(mix)) * db_gain(rms(mix), 1.0, noise_db)
    return mix, bed_db, round(noise_db, 2)


def _camera(rng: np.random.Generator, preset: WorldPreset, n_frames: int, pad: int) -> np.ndarray:
    """Per-frame integer camera offsets (n_frames, 2) within [-pad, pad]; zeros without shake."""
    if rng.random() >= preset.p_camera_jitter or preset.camera_jitter_px <= 0:
        return np.zeros((n_frames, 2), dtype=int)
    shake = rng.normal(0, preset.camera_jitter_px, (n_frames, 2))
    shake += smooth_noise(rng, n_frames, 5, 2, scale=preset.camera_jitter_px)
    return np.clip(np.round(shake), -pad, pad).astype(int)


def _crop(stack: np.ndarray, offsets: np.ndarray, pad: int, size: int) -> np.ndarray:
    """Per-frame crop of a padded (T, S+2p, S+2p, ...) stack at the camera offsets."""
    return np.stack(
        [
            stack[t, pad + dy : pad + dy + size, pad + dx : pad + dx + size]
            for t, (dx, dy) in enumerate(offsets)
        ]
    )


def _frame_boxes(alphas: list[np.ndarray]) -> list[list]:
    """Per frame, the boxes of the given objects' coverage (invisible ones left out)."""
    per_object = [visuals.boxes_from_alpha(a) for a in alphas]
    return [
        [b[t] for b in per_object if b[t] is not None]
        for t in range(len(alphas[0]) if alphas else 0)
    ]


def _chunk_truth(
    n_frames: int, fps: int, chunk_s: float, events: list[int], boxes: list[list | None]
) -> dict:
    """Per-chunk truth: whether each chunk of ``chunk_s`` holds the event, and the box (union
    over the chunk's frames of ``boxes``, one per frame, None where the event is not seen)."""
    n_chunks = int(round(n_frames / fps / chunk_s))
    chunk_boxes = []
    for c in range(n_chunks):
        frames = range(
            int(round(c * chunk_s * fps)), min(n_frames, int(round((c + 1) * chunk_s * fps)))
        )
        seen = np.array([boxes[t] for t in frames if c in events and boxes[t] is not None])
        box = [*seen[:, :2].min(0), *seen[:, 2:].max(0)] if len(seen) else None
        chunk_boxes.append(None if box is None else [round(float(v), 4) for v in box])
    return {
        "chunk_s": chunk_s,
        "chunk_events": [c in events for c in range(n_chunks)],
        "chunk_boxes": chunk_boxes,
    }


def scene_clip(
    rng: np.random.Generator,
    preset: WorldPreset,
    duration: float,
    scene: str,
    classes: list[str],
    distractors: bool = True,
    unique_bed: bool = False,
    bed_scene: str | None = None,
) -> Clip:
    """A scene with sounding objects of ``classes`` (Kinetics-Sounds / Flickr-SoundNet analogue).

    ``unique_bed`` renders a fresh ambient bed instead of an excerpt of the
    shared corpus; ``bed_scene`` (default: ``scene``) is the scene the bed
    sounds like, so the picture and the ambience can disagree.
    """
    bed_scene = bed_scene or scene
    size, fps, sr = preset.size, preset.fps, preset.sr
    n_frames, n = int(round(duration * fps)), int(round(duration * sr))
    pad = max(2, int(PAD_FRAC * size))
    full = size + 2 * pad
    canvas = np.repeat(scenes.background(scene, rng, full)[None], n_frames, 0)
    layers, foreground, events = [], np.zeros(n), []
    for name in classes:
        cls = sounds.BY_NAME[name]
        source = sounds.sample_source(cls, rng, preset.pitch_spread, preset.rate_spread)
        audio, onsets = sounds.render_source(cls, source, rng, duration, sr)
        env = frame_rms(audio, sr, fps, n_frames)
        tracks = visuals.motion_tracks(rng, cls.motion, n_frames, fps, size, onsets, env)
        layers.append(("source", cls.look, tracks))
        foreground += audio / (rms(audio) or 1.0) * 10 ** (source["gain_db"] / 20)
        events.extend(onsets.tolist())
    n_silent = 0
    if distractors and rng.random() < preset.p_silent_distractor:
        n_silent = int(rng.integers(1, preset.max_silent_distractors + 1))
    for _ in range(n_silent):
        look = (
            sounds.BY_NAME[str(rng.choice(sounds.KINETICS_SOUNDS))].look
            if rng.random() < 0.7
            else visuals.random_look(rng)
        )
        onsets, env = visuals.random_events(rng, n_frames, fps)
        tracks = visuals.motion_tracks(
            rng, str(rng.choice(visuals.MOTIONS)), n_frames, fps, size, onsets, env
        )
        layers.append(("distractor", look, tracks))
    order = rng.permutation(len(layers))
    alphas: dict[int, np.ndarray] = {}
    for i in order:
        _, look, tr = layers[i]
        alphas[i] = visuals.draw_object(
            canvas,
            look,
            visuals.object_colours(look, rng),
            tr["cx"] + pad,
            tr["cy"] + pad,
            tr["radius"],
            tr["angle"],
        )
    offscreen = None
    if distractors and rng.random() < preset.p_offscreen:
        offscreen = str(rng.choice(sounds.AUDIO_ONLY))
        cls = sounds.BY_NAME[offscreen]
        audio, _ = sounds.render_source(cls, sounds.sample_source(cls, rng), rng, duration, sr)
        level = rms(foreground) or 1.0
        foreground = foreground + audio * db_gain(
            level, rms(audio), rng.uniform(*preset.offscreen_snr_db)
        )
    bed = (
        scenes.scene_bed(bed_scene, rng, n, sr)
        if unique_bed
        else scenes.ambient_excerpt(bed_scene, rng, n, sr)
    )
    audible = foreground if classes or offscreen else None
    mix, bed_db, noise_db = _mix(rng, preset, audible, bed, preset.bed_snr_db)
    cam = _camera(rng, preset, n_frames, pad)
    frames = _crop(canvas, cam, pad, size)
    crop_alpha = {i: _crop(a, cam, pad, size) for i, a in alphas.items()}
    src_idx = [i for i, layer in enumerate(layers) if layer[0] == "source"]
    dis_idx = [i for i, layer in enumerate(layers) if layer[0] == "distractor"]
    truth = {
        "labels": list(classes),
        "scene": scene,
        "bed_scene": bed_scene,
        "boxes": _frame_boxes([crop_alpha[i] for i in src_idx])
        if src_idx
        else [[] for _ in range(n_frames)],
        "distractor_boxes": _frame_boxes([crop_alpha[i] for i in dis_idx])
        if dis_idx
        else [[] for _ in range(n_frames)],
        "events_s": sorted(round(e, 4) for e in events),
        "offset_s": 0.0,
        "offscreen": offscreen,
        "bed_snr_db": bed_db,
        "noise_snr_db": noise_db,
        "camera_shake": bool(cam.any()),
    }
    return Clip(finish_audio(mix, rng), (np.clip(frames, 0, 1) * 255 + 0.5).astype(np.uint8), truth)


def object_image(
    rng: np.random.Generator, size: int, scene: str, cls_name: str | None
) -> np.ndarray:
    """A still image: a scene background with one object of a class (ImageNet analogue) or none (Places)."""
    img = scenes.background(scene, rng, size)[None].copy()
    looks = []
    if cls_name is not None:
        looks.append(sounds.BY_NAME[cls_name].look)
    if rng.random() < 0.3:  # clutter: an object of another class, smaller
        looks.insert(0, sounds.BY_NAME[str(rng.choice(sounds.KINETICS_SOUNDS))].look)
    for j, look in enumerate(looks):
        r = (
            rng.uniform(0.12, 0.3) * size
            if j == len(looks) - 1 and cls_name
            else rng.uniform(0.06, 0.12) * size
        )
        c = rng.uniform(r, size - r, 2)
        visuals.draw_object(
            img,
            look,
            visuals.object_colours(look, rng),
            c[:1],
            c[1:],
            np.array([r]),
            rng.uniform(0, 6.3, 1),
        )
    return (np.clip(img[0], 0, 1) * 255 + 0.5).astype(np.uint8)


def esc_recording(
    rng: np.random.Generator, preset: WorldPreset, cls_name: str, takes: int, take_s: float = 5.0
) -> list[Clip]:
    """One generated source recording of a class, cut into ``takes`` clips of ``take_s`` seconds."""
    cls = sounds.BY_NAME[cls_name]
    source = sounds.sample_source(cls, rng, preset.pitch_spread, preset.rate_spread)
    scene = str(rng.choice(scenes.SCENES))
    clips = []
    for _ in range(takes):
        take = sounds.jitter_source(source, rng, preset.take_jitter)
        audio, onsets = sounds.render_source(cls, take, rng, take_s, preset.sr)
        bed = scenes.ambient_excerpt(scene, rng, len(audio), preset.sr)
        mix, bed_db, noise_db = _mix(rng, preset, audio, bed, preset.bed_snr_db)
        truth = {
            "labels": [cls_name],
            "events_s": [round(float(e), 4) for e in onsets],
            "scene": scene,
            "bed_snr_db": bed_db,
            "noise_snr_db": noise_db,
        }
        clips.append(Clip(finish_audio(mix, rng), None, truth))
    return clips


def dcase_clip(rng: np.random.Generator, preset: WorldPreset, scene: str) -> Clip:
    """A stereo scene recording (its own bed, never shared): mid plus a delayed copy as the side signal."""
    n = int(round(preset.dcase_clip_s * preset.sr))
    mid = scenes.scene_bed(scene, rng, n, preset.sr)
    side = np.roll(mid, int(rng.uniform(0.005, 0.02) * preset.sr))
    width = rng.uniform(0.2, 0.5)
    stereo = np.stack([mid + width * side, mid - width * side], 1)
    stereo += rng.standard_normal(stereo.shape) * db_gain(
        rms(stereo), 1.0, rng.uniform(*preset.noise_snr_db)
    )
    return Clip(finish_audio(stereo, rng), None, {"labels": [scene], "scene": scene})
