"""Action and impact clips: a moving object whose motion makes the sound.

:func:`action_clip` is an actor (a group's look) performing an action in the
group's scene with the action's sound, optionally beside a silent distractor
(UCF101, HMDB51); :func:`impact_clip` is an object bouncing or swung against
a surface with a modal impact sound (``IMPACT_MATERIALS``) at every contact,
only in the chunks it is given (AudioSet impacts for the attention paper).
Both mix with :mod:`~avlib.data.world.compose`'s helpers and record boxes,
event times and (impacts) per-chunk truth.
"""

from __future__ import annotations

import numpy as np

from avlib.data.world import actions, scenes, sounds, visuals
from avlib.data.world.common import Clip, finish_audio, frame_rms
from avlib.data.world.compose import _chunk_truth, _frame_boxes, _mix
from avlib.data.world.presets import WorldPreset
from avlib.data.world.synth import kind_modal

IMPACT_MATERIALS = {  # AudioSet display name -> modal parameters (base Hz range, ratios, decay s)
    "Knock": ((250, 500), (1.0, 2.4, 4.1), 0.03),
    "Thump, thud": ((60, 130), (1.0, 1.7), 0.06),
    "Clang": ((600, 1500), (1.0, 2.76, 5.4, 8.9), 0.5),
    "Tap": ((1500, 3500), (1.0, 2.1), 0.01),
    "Bang": ((100, 300), (1.0, 1.5, 2.3), 0.12),
}


def action_clip(
    rng: np.random.Generator,
    preset: WorldPreset,
    action: str,
    group: dict,
    distractor: bool = False,
    duration: float | None = None,
) -> Clip:
    """An actor (the group's look) performing ``action`` in the group's scene, with the action's
    sound; ``distractor`` adds a silent second object moving to events of its own (HMDB)."""
    size, fps, sr = preset.size, preset.fps, preset.sr
    n_frames = int(round((duration or preset.ucf_clip_s) * fps))
    tracks, audio, events = actions.render_action(
        action, rng, n_frames, fps, size, sr, group["speed"], group["pitch"]
    )
    canvas = np.repeat(scenes.background(group["scene"], rng, size)[None], n_frames, 0)
    other = None
    if distractor:
        onsets, env = visuals.random_events(rng, n_frames, fps)
        motion = str(rng.choice(visuals.MOTIONS))
        other = (
            visuals.random_look(rng),
            visuals.motion_tracks(
                rng, motion, n_frames, fps, size, onsets, env, radius_frac=(0.08, 0.13)
            ),
        )
        t = other[1]
        visuals.draw_object(
            canvas, other[0], visuals.object_colours(other[0], rng), t["cx"], t["cy"],
            t["radius"], t["angle"],
        )  # fmt: skip
    look = sounds.Look(*group["look"])
    alpha = visuals.draw_object(
        canvas,
        look,
        visuals.object_colours(look, rng),
        tracks["cx"],
        tracks["cy"],
        tracks["radius"],
        tracks["angle"],
    )
    bed = scenes.ambient_excerpt(group["scene"], rng, len(audio), sr)
    mix, bed_db, noise_db = _mix(rng, preset, audio, bed, preset.bed_snr_db)
    truth = {
        "labels": [action],
        "scene": group["scene"],
        "boxes": _frame_boxes([alpha]),
        "events_s": [float(e) for e in events],
        "offset_s": 0.0,
        "bed_snr_db": bed_db,
        "noise_snr_db": noise_db,
        **({"distractor": True} if distractor else {}),
    }
    return Clip(finish_audio(mix, rng), (np.clip(canvas, 0, 1) * 255 + 0.5).astype(np.uint8), truth)


def _impact_onsets(rng: np.random.Generator, chunk_s: float, events: list[int]) -> np.ndarray:
    """One or two contacts in each event chunk, at least 0.25 s apart."""
    onsets = []
    for c in events:
        times = np.sort(rng.uniform(c * chunk_s + 0.1, (c + 1) * chunk_s - 0.1, rng.integers(1, 3)))
        onsets += times[np.concatenate([[True], np.diff(times) > 0.25])].tolist()
    return np.asarray(onsets)


def impact_clip(
    rng: np.random.Generator,
    preset: WorldPreset,
    material: str,
    duration: float,
    chunk_s: float,
    events: list[int],
) -> Clip:
    """An object striking a surface (bouncing or swung) in the chunks ``events`` only: an impact
    sound at every contact (AudioSet impacts); silent elsewhere, under the scene's ambience."""
    size, fps, sr = preset.size, preset.fps, preset.sr
    n_frames, n = int(round(duration * fps)), int(round(duration * sr))
    (f_lo, f_hi), ratios, decay = IMPACT_MATERIALS[material]
    f = float(np.exp(rng.uniform(np.log(f_lo), np.log(f_hi))))
    onsets = _impact_onsets(rng, chunk_s, events)
    audio = np.zeros(n)
    for t0 in onsets:
        start, m = int(t0 * sr), min(n - int(t0 * sr), int(0.6 * sr))
        params = {
            "ratios": ratios,
            "decay": decay * rng.uniform(0.8, 1.25),
            "click": 0.5,
            "click_fc": 4 * f,
        }
        audio[start : start + m] += kind_modal(rng, params, m, sr, f) * rng.uniform(0.5, 1.0)
    scene = str(rng.choice(scenes.SCENES))
    canvas = np.repeat(scenes.background(scene, rng, size)[None], n_frames, 0)
    look = visuals.random_look(rng)
    env = frame_rms(audio, sr, fps, n_frames)
    tracks = visuals.motion_tracks(
        rng, str(rng.choice(["bounce", "swing"])), n_frames, fps, size, onsets, env
    )
    alphas = [
        visuals.draw_object(
            canvas,
            look,
            visuals.object_colours(look, rng),
            tracks["cx"],
            tracks["cy"],
            tracks["radius"],
            tracks["angle"],
        )
    ]
    distractors = []
    if rng.random() < preset.p_silent_distractor:
        d_on, d_env = visuals.random_events(rng, n_frames, fps)
        d_look = visuals.random_look(rng)
        tr = visuals.motion_tracks(
            rng, str(rng.choice(visuals.MOTIONS)), n_frames, fps, size, d_on, d_env
        )
        distractors.append(
            visuals.draw_object(
                canvas,
                d_look,
                visuals.object_colours(d_look, rng),
                tr["cx"],
                tr["cy"],
                tr["radius"],
                tr["angle"],
            )
        )
    bed = scenes.ambient_excerpt(scene, rng, n, sr)
    mix, bed_db, noise_db = _mix(rng, preset, audio, bed, preset.bed_snr_db)
    no_boxes = [[] for _ in range(n_frames)]
    truth = {
        "labels": [material],
        "scene": scene,
        "boxes": _frame_boxes(alphas),
        "distractor_boxes": _frame_boxes(distractors) if distractors else no_boxes,
        "events_s": [round(float(e), 4) for e in onsets],
        "offset_s": 0.0,
        "bed_snr_db": bed_db,
        "noise_snr_db": noise_db,
    }
    contact = np.abs(np.arange(n_frames)[:, None] / fps - onsets[None]).min(1) <= 0.1
    seen = [b[0] if b and near else None for b, near in zip(truth["boxes"], contact, strict=True)]
    truth |= _chunk_truth(n_frames, fps, chunk_s, events, seen)
    return Clip(finish_audio(mix, rng), (np.clip(canvas, 0, 1) * 255 + 0.5).astype(np.uint8), truth)
