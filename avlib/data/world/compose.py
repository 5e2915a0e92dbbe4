"""Clip composition: scenes, sounding objects, distractors and mixing into one audio-visual clip.

A scene clip is a background (a scene) with sounding objects whose motion
follows their sound, silent objects that move on events of their own, an
optional off-screen sound (an audio-only class, nothing visible makes it),
the scene's ambient bed at a preset SNR, white noise, and camera shake.
Correspondence and synchrony therefore need the right region and the right
time: the background tells the scene, not the object; a moving object is
not necessarily the sounding one; not every sound has a visible source.
"""

from __future__ import annotations

import numpy as np

from avlib.data.world import actions, faces, scenes, sounds, speech, visuals
from avlib.data.world.common import Clip, db_gain, finish_audio, frame_rms, rms, smooth_noise
from avlib.data.world.presets import WorldPreset
from avlib.data.world.synth import kind_modal

PAD_FRAC = 0.06  # camera shake margin, fraction of the frame side

IMPACT_MATERIALS = {  # AudioSet display name -> modal parameters (base Hz range, ratios, decay s)
    "Knock": ((250, 500), (1.0, 2.4, 4.1), 0.03),
    "Thump, thud": ((60, 130), (1.0, 1.7), 0.06),
    "Clang": ((600, 1500), (1.0, 2.76, 5.4, 8.9), 0.5),
    "Tap": ((1500, 3500), (1.0, 2.1), 0.01),
    "Bang": ((100, 300), (1.0, 1.5, 2.3), 0.12),
}


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


def talking_clip(
    rng: np.random.Generator,
    preset: WorldPreset,
    speaker: speech.Speaker,
    words: list[str],
    duration: float | None = None,
    center_word: int | None = None,
    offset_s: float = 0.0,
    min_duration: float = 0.0,
) -> Clip:
    """A talking face saying ``words``; audio delayed by ``offset_s`` (positive: audio late).

    With ``duration`` and ``center_word`` the clip is cut around that word's
    middle (LRW); otherwise it spans the utterance with short margins (LRS2),
    and at least ``min_duration`` seconds. Word, phone and mouth times in the
    truth are in video time.
    """
    fps, sr = preset.fps, preset.sr
    word_times, phone_times = speech.align(words, speaker, rng, start=rng.uniform(0.15, 0.35))
    if duration is None:
        duration = max(phone_times[-1][2] + rng.uniform(0.15, 0.35), min_duration)
    else:
        w0, w1 = word_times[center_word][1:]
        shift = duration / 2 - (w0 + w1) / 2
        word_times = [(w, round(a + shift, 4), round(b + shift, 4)) for w, a, b in word_times]
        phone_times = [(p, round(a + shift, 4), round(b + shift, 4)) for p, a, b in phone_times]
    n_frames = int(round(duration * fps))
    duration = n_frames / fps
    n = int(round(duration * sr))
    lag = int(round(offset_s * sr))
    heard = [(p, a + lag / sr, b + lag / sr) for p, a, b in phone_times]
    voice = speech.synthesize(heard, speaker, duration, sr, rng)
    room = scenes.ambient_excerpt(
        str(rng.choice(("office", "restaurant", "quietstreet", "supermarket"))), rng, n, sr
    )
    mix, bed_db, noise_db = _mix(rng, preset, voice, room, preset.speech_snr_db)
    mouth = speech.viseme_track(phone_times, n_frames, fps)
    frames, mouth_boxes, face_boxes = faces.render_face(speaker, mouth, preset.size, rng)
    visible = lambda a, b: b > 0 and a < duration  # noqa: E731
    truth = {
        "labels": [w for w, a, b in word_times if visible(a, b)],
        "speaker": speaker.id,
        "boxes": [[b] for b in mouth_boxes],
        "face_boxes": face_boxes,
        "words": [[w, a, b] for w, a, b in word_times if visible(a, b)],
        "phones": [[p, a, b] for p, a, b in phone_times if visible(a, b)],
        "visemes": np.round(mouth, 3).tolist(),
        "events_s": [round(a, 4) for w, a, b in word_times if 0 <= a < duration],
        "offset_s": round(lag / sr, 6),
        "bed_snr_db": bed_db,
        "noise_snr_db": noise_db,
    }
    return Clip(finish_audio(mix, rng), frames, truth)


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


def _fill_speech(rng, speaker: speech.Speaker, t0: float, t1: float) -> tuple[list, list]:
    """Random whole words spoken from ``t0``, each ending before ``t1``: (word times, phone times)."""
    words, phones, t = [], [], t0
    for _ in range(16):  # a word that does not fit is skipped; stop once too little room is left
        if t1 - t < 0.2:
            break
        wt, pt = speech.align([str(rng.choice(list(speech.WORDS)))], speaker, rng, start=t)
        if pt[-1][2] > t1:
            continue
        words += wt
        phones += pt
        t = pt[-1][2] + (rng.uniform(0.02, 0.12) if rng.random() < 0.7 else rng.uniform(0.15, 0.3))
    return words, phones


def chunked_talking_clip(
    rng: np.random.Generator,
    preset: WorldPreset,
    speaker: speech.Speaker,
    duration: float,
    chunk_s: float,
    events: list[int],
) -> Clip:
    """A talking face that speaks in the chunks ``events`` only (AudioSet speech for the
    attention paper): silent, mouth at rest, in the others, under the same room ambience."""
    fps, sr = preset.fps, preset.sr
    n_frames = int(round(duration * fps))
    n = int(round(duration * sr))
    word_times, phone_times = [], []
    runs = np.split(np.asarray(events), np.flatnonzero(np.diff(events) > 1) + 1)
    for run in runs:  # consecutive event chunks hold one utterance
        t0 = run[0] * chunk_s + rng.uniform(0.03, 0.12)
        wt, pt = _fill_speech(rng, speaker, t0, (run[-1] + 1) * chunk_s - 0.05)
        word_times += wt
        phone_times += pt
    voice = speech.synthesize(phone_times, speaker, duration, sr, rng)
    room = scenes.ambient_excerpt(
        str(rng.choice(("office", "restaurant", "quietstreet", "supermarket"))), rng, n, sr
    )
    mix, bed_db, noise_db = _mix(rng, preset, voice, room, preset.speech_snr_db)
    mouth = speech.viseme_track(phone_times, n_frames, fps)
    frames, mouth_boxes, face_boxes = faces.render_face(speaker, mouth, preset.size, rng)
    truth = {
        "labels": [w for w, _, _ in word_times],
        "speaker": speaker.id,
        "boxes": [[b] for b in mouth_boxes],
        "face_boxes": face_boxes,
        "words": [[w, a, b] for w, a, b in word_times],
        "phones": [[p, a, b] for p, a, b in phone_times],
        "visemes": np.round(mouth, 3).tolist(),
        "events_s": [round(a, 4) for _, a, _ in word_times],
        "offset_s": 0.0,
        "bed_snr_db": bed_db,
        "noise_snr_db": noise_db,
        **_chunk_truth(n_frames, fps, chunk_s, events, mouth_boxes),
    }
    return Clip(finish_audio(mix, rng), frames, truth)


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
