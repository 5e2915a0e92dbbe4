"""Speech for the talking faces (LRS2/LRW analogue): phones, words, speakers and a formant synthesiser.

A word is a phone string; an utterance is a sequence of words with known
phone and word times. The synthesiser is a numpy source-filter model:
voiced phones are a glottal harmonic series at the speaker's F0 (with
declination and jitter) weighted by three formant resonances that glide
between phone targets; fricatives, plosive bursts and aspiration are shaped
noise. Every phone also has a viseme (mouth opening, mouth width) whose
track drives the face's mouth, so the mouth is the one visual event that is
locked to the audio. Speakers differ in F0, formant scale (vocal tract
length), speaking rate and face. Pairs such as PAPER/BABY share visemes, as
real homophenes do, which keeps lip reading non-trivial.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from avlib.data.world.common import smooth_noise
from avlib.data.world.synth import (
    block_starts,
    formant_gain,
    harmonics,
    shaped_noise,
    spectrum_amps,
    time_axis,
)

# phone -> (kind, F1, F2, F3, noise centre Hz, duration s, mouth opening, mouth width)
PHONES: dict[str, tuple[str, float, float, float, float, float, float, float]] = {
    "a": ("vowel", 750, 1200, 2500, 0, 0.13, 1.00, 0.75),
    "e": ("vowel", 550, 1800, 2500, 0, 0.11, 0.60, 0.85),
    "i": ("vowel", 300, 2300, 3000, 0, 0.11, 0.30, 1.00),
    "o": ("vowel", 500, 900, 2400, 0, 0.12, 0.65, 0.35),
    "u": ("vowel", 320, 800, 2300, 0, 0.11, 0.35, 0.25),
    "@": ("vowel", 500, 1500, 2500, 0, 0.07, 0.45, 0.60),
    "p": ("stop", 400, 1000, 2400, 1500, 0.09, 0.00, 0.55),
    "b": ("vstop", 400, 1000, 2400, 1500, 0.07, 0.00, 0.55),
    "m": ("nasal", 250, 1200, 2300, 0, 0.08, 0.00, 0.55),
    "f": ("fric", 400, 1200, 2500, 5000, 0.10, 0.10, 0.60),
    "v": ("vfric", 400, 1200, 2500, 5000, 0.07, 0.10, 0.60),
    "t": ("stop", 400, 1700, 2600, 4500, 0.08, 0.25, 0.70),
    "d": ("vstop", 400, 1700, 2600, 4000, 0.06, 0.25, 0.70),
    "n": ("nasal", 250, 1600, 2500, 0, 0.07, 0.25, 0.70),
    "s": ("fric", 400, 1700, 2600, 6500, 0.11, 0.20, 0.75),
    "z": ("vfric", 400, 1700, 2600, 6500, 0.08, 0.20, 0.75),
    "S": ("fric", 400, 1700, 2400, 3500, 0.11, 0.25, 0.40),
    "l": ("approx", 400, 1100, 2600, 0, 0.07, 0.30, 0.65),
    "r": ("approx", 450, 1300, 1700, 0, 0.07, 0.35, 0.45),
    "w": ("approx", 320, 750, 2300, 0, 0.06, 0.20, 0.20),
    "j": ("approx", 300, 2200, 3000, 0, 0.06, 0.30, 0.95),
    "k": ("stop", 400, 1800, 2500, 2000, 0.08, 0.35, 0.60),
    "g": ("vstop", 400, 1800, 2500, 2000, 0.06, 0.35, 0.60),
    "h": ("aspir", 500, 1500, 2500, 1500, 0.06, 0.40, 0.60),
}

WORDS: dict[str, str] = {  # LRW-style vocabulary (upper case, as LRW's folders)
    "ABOUT": "@ b a u t", "BABY": "b e b i", "PAPER": "p e p @", "MONEY": "m a n i",
    "MAYBE": "m e b i", "SEVEN": "s e v @ n", "FAMILY": "f a m @ l i", "VISIT": "v i z i t",
    "SUMMER": "s a m @", "WATER": "w o t @", "SIMPLE": "s i m p @ l", "POLICE": "p @ l i s",
    "NUMBER": "n a m b @", "BUSINESS": "b i z n @ s", "TIME": "t a i m", "FOOD": "f u d",
    "FIVE": "f a i v", "MOVIE": "m u v i", "SHOW": "S o u", "LATER": "l e t @",
    "GIVEN": "g i v @ n", "KNOWN": "n o u n", "WORLD": "w @ r l d", "HAPPEN": "h a p @ n",
    "DURING": "d j u r i n", "SOCIAL": "s o S @ l", "TOMORROW": "t @ m o r o u",
    "BEFORE": "b i f o", "PEOPLE": "p i p @ l", "MEMBERS": "m e m b @ z",
    "WOMEN": "w i m i n", "ANOTHER": "@ n a d @", "SUPPORT": "s @ p o t", "DEFENCE": "d i f e n s",
    "LOOKING": "l u k i n", "WEEKEND": "w i k e n d", "HOSPITAL": "h o s p i t @ l",
    "PERHAPS": "p @ h a p s", "RIGHT": "r a i t", "SECOND": "s e k @ n d",
    "ENOUGH": "i n a f", "GOING": "g o u i n", "MAKES": "m e k s", "POINT": "p o i n t",
    "BUDGET": "b a d S i t", "MAJOR": "m e d S @", "VIEWS": "v j u z", "SENSE": "s e n s",
    "SPEND": "s p e n d", "THEIR": "d e @", "UNDER": "a n d @", "WHEEL": "w i l",
    "GREAT": "g r e t", "KILLED": "k i l d", "LEVEL": "l e v @ l", "MIGHT": "m a i t",
    "NEVER": "n e v @", "OFTEN": "o f @ n", "PLACE": "p l e s", "ROUND": "r a u n d",
}  # fmt: skip


@dataclass(frozen=True)
class Speaker:
    """A speaker: voice (F0, formant scale, rate) and face (skin, hair, head shape, eyes)."""

    id: str
    f0: float
    formant_scale: float
    rate: float  # > 1 speaks faster
    skin: tuple[float, float, float]
    hair: tuple[float, float, float]
    head_aspect: float  # head height / width
    eye_gap: float  # fraction of head width between eyes
    lip: tuple[float, float, float]


def make_speaker(rng: np.random.Generator, speaker_id: str) -> Speaker:
    """Draw a speaker: low or high voice, vocal tract length, rate, face colours and proportions."""
    high = rng.random() < 0.5
    skin_tone = rng.uniform(0.25, 0.95)
    skin = (0.35 + 0.6 * skin_tone, 0.22 + 0.5 * skin_tone, 0.15 + 0.4 * skin_tone)
    hair_v = rng.uniform(0.05, 0.8)
    hair = (hair_v, hair_v * rng.uniform(0.6, 0.9), hair_v * rng.uniform(0.3, 0.7))
    return Speaker(
        id=speaker_id,
        f0=float(rng.uniform(170, 250) if high else rng.uniform(90, 140)),
        formant_scale=float(rng.uniform(1.05, 1.2) if high else rng.uniform(0.88, 1.02)),
        rate=float(rng.uniform(0.8, 1.25)),
        skin=tuple(round(c, 3) for c in skin),
        hair=tuple(round(c, 3) for c in hair),
        head_aspect=float(rng.uniform(1.15, 1.45)),
        eye_gap=float(rng.uniform(0.32, 0.45)),
        lip=tuple(
            round(c, 3)
            for c in (rng.uniform(0.5, 0.8), rng.uniform(0.2, 0.35), rng.uniform(0.25, 0.4))
        ),
    )


def align(
    words: list[str], speaker: Speaker, rng: np.random.Generator, start: float = 0.0
) -> tuple[list, list]:
    """Word and phone timing for a word sequence: ([(word, t0, t1)], [(phone, t0, t1)]), with short pauses."""
    t = start
    word_times, phone_times = [], []
    for w in words:
        t0 = t
        for ph in WORDS[w].split():
            d = PHONES[ph][5] / speaker.rate * rng.uniform(0.85, 1.2)
            phone_times.append((ph, round(t, 4), round(t + d, 4)))
            t += d
        word_times.append((w, round(t0, 4), round(t, 4)))
        t += rng.uniform(0.02, 0.12) if rng.random() < 0.7 else rng.uniform(0.15, 0.3)
    return word_times, phone_times


def _tracks(phones: list, speaker: Speaker, n: int, sr: int, rng: np.random.Generator):
    """Control tracks at 200 Hz: formants (3, m), voicing, frication, burst, nasal, noise centre."""
    m = n // int(sr / 200) + 2
    ctrl_t = np.arange(m) / 200
    formants = np.tile(np.array([[500.0], [1500.0], [2500.0]]), (1, m))
    voice, fric, centre = np.zeros(m), np.zeros(m), np.full(m, 3000.0)
    for ph, t0, t1 in phones:
        kind, f1, f2, f3, nc, *_ = PHONES[ph]
        sel = (ctrl_t >= t0) & (ctrl_t < t1)
        formants[:, sel] = np.array([[f1], [f2], [f3]]) * speaker.formant_scale
        centre[sel] = nc or 3000.0
        voiced = {"vowel": 1.0, "approx": 0.8, "nasal": 0.35, "vstop": 0.25, "vfric": 0.5}.get(
            kind, 0.0
        )
        voice[sel] = voiced
        if kind in ("fric", "vfric", "aspir"):
            fric[sel] = 0.5 if kind != "aspir" else 0.25
        if kind in ("stop", "vstop"):  # closure then a burst in the last 30%
            burst = sel & (ctrl_t >= t0 + 0.7 * (t1 - t0))
            fric[burst] = 0.9
    kernel = np.hanning(9) / np.hanning(9).sum()  # ~20 ms coarticulation
    formants = np.stack([np.convolve(np.pad(f, 4, mode="edge"), kernel, "valid") for f in formants])
    voice = np.convolve(np.pad(voice, 2, mode="edge"), np.hanning(5) / np.hanning(5).sum(), "valid")
    return ctrl_t, formants, voice, fric, centre


def synthesize(
    phones: list, speaker: Speaker, duration: float, sr: int, rng: np.random.Generator
) -> np.ndarray:
    """Speech waveform (float64, peak 1) for timed phones over [0, duration)."""
    n = int(round(duration * sr))
    ctrl_t, formants, voice, fric, centre = _tracks(phones, speaker, n, sr, rng)
    t = time_axis(n, sr)
    interp = lambda track: np.interp(t, ctrl_t, track)  # noqa: E731
    f0 = speaker.f0 * (1.1 - 0.2 * t / max(duration, 1e-3))
    f0 = f0 * (1 + 0.04 * np.interp(t, ctrl_t, smooth_noise(rng, len(ctrl_t), 40, 1)[:, 0]))
    starts = block_starts(n, sr)
    k = np.arange(1, int(4500 / speaker.f0) + 1)
    block_formants = formants[
        :, np.minimum((starts / sr * 200).astype(int), formants.shape[1] - 1)
    ].T
    source = spectrum_amps(len(k), -6.0)[None]  # glottal -12 dB/octave, lip radiation +6
    amps = source * formant_gain(k[None] * f0[starts][:, None], block_formants[:, None, :])
    voiced = harmonics(f0, sr, amps, rng)
    voiced *= interp(voice)
    noise = np.zeros(n)
    for c in np.unique(centre):
        band = shaped_noise(rng, n, sr, fc=c, bw=0.5)
        noise += band * interp(np.where(centre == c, fric, 0.0))
    out = voiced / (np.sqrt(np.mean(voiced**2)) + 1e-9) + 2.0 * noise
    peak = np.max(np.abs(out))
    return out / peak if peak > 0 else out


def viseme_track(
    phones: list, n_frames: int, fps: int, rest: tuple[float, float] = (0.05, 0.6)
) -> np.ndarray:
    """Mouth (opening, width) per video frame (n_frames, 2): phone targets, ~40 ms coarticulation."""
    m = n_frames * 8
    t = np.arange(m) / (fps * 8)
    track = np.tile(np.array(rest), (m, 1))
    for ph, t0, t1 in phones:
        track[(t >= t0) & (t < t1)] = PHONES[ph][6:8]
    kernel = np.hanning(int(0.08 * fps * 8) + 1)
    kernel /= kernel.sum()
    pad = len(kernel) // 2
    smooth = np.stack(
        [np.convolve(np.pad(track[:, d], pad, mode="edge"), kernel, "valid") for d in (0, 1)], 1
    )
    return smooth[np.arange(n_frames) * 8]
