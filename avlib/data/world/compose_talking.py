"""Talking-face clips: a synthesised speaker's face and voice, in sync or at a known offset.

:func:`talking_clip` says given words with the audio delayed by ``offset_s``
(LRS2 utterances, LRW words cut around their middle, the sync test sets);
:func:`chunked_talking_clip` speaks only in the chunks it is given, silent
with the mouth at rest elsewhere (AudioSet speech for the attention paper).
Both mix the voice into a room ambience with :mod:`~avlib.data.world.compose`'s
helpers and record word, phone, viseme and mouth-box truth in video time.
"""

from __future__ import annotations

import numpy as np

from avlib.data.world import faces, scenes, speech
from avlib.data.world.common import Clip, finish_audio
from avlib.data.world.compose import _chunk_truth, _mix
from avlib.data.world.presets import WorldPreset


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
