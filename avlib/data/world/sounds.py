"""The world's 50 sound classes (ESC-50 analogue) and how a source of one class sounds over time.

34 classes carry the Kinetics-Sounds names (L3's list in PAPERS.md) and are
bound to a visual object family (``Look``); 16 are audio-only, with neutral
descriptive names. 10 are flagged as the ESC-10 subset. Classes overlap on
purpose: many share a frequency region and differ in temporal structure
(event rate, attack, decay, pitch direction), and ``FINE_PAIRS`` are close
sounds (same look for the bound ones, up to a small hue shift), so a
time-averaged spectrum (MFCC mean/std) separates them only partly while a
model that sees the time-frequency pattern can.

Variation comes in three levels: per source (base pitch, event rate,
timbre parameters given as ``Range``), per event (note pitch within the
class's melody span, duration, loudness) and per take of an ESC source
(small ``take_jitter``), so folds that keep a source's takes together test
generalisation to unseen sources, as ESC-50's folds do.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import NamedTuple

import numpy as np

from avlib.data.world.synth import KINDS, SEMITONE


class Range(NamedTuple):
    """A parameter drawn uniformly in [lo, hi] once per source."""

    lo: float
    hi: float


@dataclass(frozen=True)
class Look:
    """A visual object family: shape, texture and colour (hue in [0, 1))."""

    shape: str
    texture: str
    hue: float


@dataclass(frozen=True)
class SoundClass:
    """One sound class: an event kind, its parameter ranges, when events happen, and its look."""

    name: str
    kind: str
    f: tuple[float, float]  # base frequency range across sources (Hz)
    pattern: str  # "regular" | "poisson" | "sustained"
    rate: tuple[float, float]  # events per second across sources
    dur: tuple[float, float]  # event length (s), drawn per event
    params: dict = field(default_factory=dict)  # kind parameters; Range values are drawn per source
    motion: str = "pulse"  # how a bound object moves: bounce | swing | pulse | vibrate
    look: Look | None = None
    esc10: bool = False
    melody: int = 0  # semitone span of per-event pitch changes


R = Range
S = SoundClass
_WRITTEN: tuple[SoundClass, ...] = (
    # --- the 34 Kinetics-Sounds classes, each bound to a look ---
    S("blowing nose", "noise", (700, 1500), "poisson", (0.5, 1.0), (0.35, 0.7), {"bw": R(0.4, 0.8), "attack": 0.05, "release": 0.25, "am_rate": R(18, 30), "am_depth": 0.4}, "vibrate", Look("ellipse", "solid", 0.95), esc10=True),
    S("bowling", "noise", (120, 260), "poisson", (0.4, 0.8), (0.8, 1.4), {"bw": 0.9, "sweep": R(0.8, 1.5), "attack": 0.5, "release": 0.05, "crackle": 0.3}, "swing", Look("disc", "dots", 0.62)),
    S("chopping wood", "modal", (140, 300), "regular", (0.7, 1.3), (0.35, 0.5), {"ratios": (1.0, 2.3, 3.9), "decay": R(0.04, 0.09), "click": 0.8, "click_fc": 2000}, "swing", Look("bar", "stripes", 0.08)),
    S("ripping paper", "noise", (2000, 4000), "poisson", (0.6, 1.2), (0.4, 0.9), {"bw": 1.0, "crackle": R(0.3, 0.6), "sweep": R(-0.5, 0.5), "attack": 0.01, "release": 0.05}, "vibrate", Look("square", "solid", 0.14)),
    S("shuffling cards", "clicks", (3000, 6000), "poisson", (0.5, 1.0), (0.5, 0.8), {"clicks": (8, 20), "click_rate": R(25, 40), "decay": 0.003}, "vibrate", Look("square", "checker", 0.0)),
    S("singing", "voice", (180, 420), "regular", (1.2, 2.2), (0.4, 0.9), {"vib_depth": R(0.2, 0.5), "vib_rate": R(4.5, 6.5), "attack": 0.05, "release": 0.1, "breath": 0.05}, "pulse", Look("star", "solid", 0.83), melody=9),
    S("tapping pen", "clicks", (2500, 5000), "regular", (2.0, 5.0), (0.05, 0.08), {"clicks": (1, 2), "decay": 0.002}, "bounce", Look("bar", "solid", 0.58)),
    S("typing", "clicks", (1500, 3500), "poisson", (4.0, 8.0), (0.05, 0.08), {"clicks": (1, 3), "click_rate": 60.0, "decay": 0.004}, "bounce", Look("square", "dots", 0.33)),
    S("blowing out candles", "noise", (500, 1200), "poisson", (0.6, 1.2), (0.2, 0.5), {"bw": R(1.0, 1.6), "attack": 0.01, "release": 0.2}, "vibrate", Look("triangle", "gradient", 0.1)),
    S("dribbling basketball", "modal", (80, 160), "regular", (1.5, 2.5), (0.25, 0.35), {"ratios": (1.0, 1.6, 2.8), "decay": R(0.03, 0.06), "click": 0.5, "click_fc": 1200}, "bounce", Look("disc", "stripes", 0.07)),
    S("laughing", "voice", (180, 300), "regular", (3.5, 5.0), (0.1, 0.18), {"aspirate": R(0.2, 0.4), "fall": R(0.5, 2.0), "attack": 0.01, "release": 0.04}, "pulse", Look("disc", "rings", 0.16), esc10=True),
    S("mowing lawn", "engine", (25, 45), "sustained", (1, 1), (1, 1), {"am_rate": R(12, 25), "noise": R(0.4, 0.9), "tilt": R(-5, -2)}, "vibrate", Look("hexagon", "checker", 0.36)),
    S("shoveling snow", "noise", (500, 1400), "regular", (0.5, 0.9), (0.4, 0.9), {"bw": 1.1, "sweep": R(-0.6, 0.3), "attack": 0.2, "release": 0.1, "crackle": 0.5}, "swing", Look("triangle", "solid", 0.55)),
    S("stomping grapes", "modal", (60, 120), "regular", (1.5, 2.5), (0.25, 0.35), {"ratios": (1.0, 1.5), "decay": R(0.03, 0.07), "click": 1.2, "click_fc": 450}, "bounce", Look("ellipse", "dots", 0.78)),
    S("tap dancing", "clicks", (2000, 4000), "poisson", (4.0, 8.0), (0.08, 0.12), {"clicks": (1, 4), "click_rate": 25.0, "decay": 0.003, "body": 0.4, "body_f": 300}, "bounce", Look("diamond", "checker", 0.66)),
    S("tapping guitar", "clicks", (2500, 5000), "regular", (2.0, 5.0), (0.1, 0.15), {"clicks": (1, 2), "decay": 0.002, "body": R(0.6, 1.2), "body_f": 140}, "bounce", Look("bar", "solid", 0.64)),
    S("tickling", "voice", (250, 420), "regular", (5.0, 7.0), (0.07, 0.13), {"aspirate": R(0.2, 0.4), "fall": R(0.5, 2.0), "attack": 0.01, "release": 0.03}, "pulse", Look("disc", "rings", 0.22)),
    S("fingerpicking", "pluck", (150, 450), "regular", (4.0, 7.0), (0.4, 0.7), {"tilt": R(-6, -3), "decay": R(0.3, 0.6)}, "pulse", Look("cross", "stripes", 0.04), melody=12),
    S("patting", "modal", (100, 250), "regular", (1.5, 3.0), (0.15, 0.25), {"ratios": (1.0, 1.9), "decay": R(0.015, 0.03), "click": 0.8, "click_fc": 700}, "bounce", Look("ellipse", "gradient", 0.12)),
    S("playing accordion", "tone", (200, 500), "regular", (1.0, 2.0), (0.5, 1.0), {"tilt": -3.0, "chorus": R(10, 25), "breath": 0.08, "trem": 0.2, "trem_rate": R(4, 7), "attack": 0.06, "release": 0.08}, "pulse", Look("square", "stripes", 0.0), melody=7),
    S("playing bagpipes", "tone", (350, 700), "regular", (2.0, 3.5), (0.3, 0.6), {"tilt": -1.0, "drone": R(100, 150), "attack": 0.01, "release": 0.01, "breath": 0.05}, "vibrate", Look("diamond", "checker", 0.28), melody=7),
    S("playing bass guitar", "pluck", (40, 100), "regular", (1.5, 3.0), (0.5, 1.0), {"tilt": R(-8, -5), "decay": R(0.6, 1.2), "bright": 0.8}, "pulse", Look("bar", "gradient", 0.7), melody=7),
    S("playing clarinet", "tone", (150, 500), "regular", (1.5, 3.0), (0.3, 0.8), {"tilt": -4.0, "odd": R(0.8, 1.0), "vib_depth": 0.05, "breath": 0.06, "attack": 0.04, "release": 0.05}, "pulse", Look("bar", "rings", 0.9), melody=9),
    S("playing drums", "drum", (50, 80), "regular", (3.0, 6.0), (0.15, 0.25), {}, "bounce", Look("disc", "checker", 0.48)),
    S("playing guitar", "pluck", (100, 350), "regular", (1.5, 3.0), (0.8, 1.4), {"tilt": R(-6, -3), "decay": R(0.7, 1.4), "strum": 3}, "pulse", Look("cross", "stripes", 0.1), melody=7),
    S("playing harmonica", "tone", (400, 1000), "regular", (2.0, 3.5), (0.3, 0.7), {"tilt": -4.0, "odd": 0.5, "trem": R(0.3, 0.6), "trem_rate": R(5, 8), "breath": 0.15}, "vibrate", Look("square", "gradient", 0.5), melody=9),
    S("playing keyboard", "pluck", (200, 800), "regular", (2.0, 4.0), (0.4, 0.6), {"tilt": R(-7, -4), "decay": R(0.25, 0.45), "bright": 0.2}, "pulse", Look("hexagon", "stripes", 0.86), melody=12),
    S("playing organ", "tone", (100, 400), "regular", (0.7, 1.2), (0.8, 1.5), {"tilt": R(-3, -1), "attack": 0.03, "release": 0.03}, "pulse", Look("pentagon", "stripes", 0.75), melody=9),
    S("playing piano", "pluck", (150, 700), "regular", (2.0, 4.0), (0.9, 1.6), {"tilt": R(-9, -6), "decay": R(0.8, 1.6), "bright": 0.7}, "pulse", Look("hexagon", "stripes", 0.8), melody=12),
    S("playing saxophone", "tone", (150, 500), "regular", (1.5, 3.0), (0.3, 0.8), {"tilt": -3.0, "odd": R(0.0, 0.2), "vib_depth": 0.15, "vib_rate": 5.0, "breath": 0.12, "attack": 0.04, "release": 0.05}, "pulse", Look("bar", "rings", 0.96), melody=9),
    S("playing trombone", "tone", (80, 250), "regular", (1.0, 2.0), (0.4, 0.9), {"tilt": R(-3, -1.5), "attack": 0.06, "release": 0.06, "glide": R(0.5, 1.5)}, "swing", Look("triangle", "rings", 0.13), melody=7),
    S("playing trumpet", "tone", (230, 700), "regular", (1.5, 3.0), (0.25, 0.7), {"tilt": R(-2.5, -1.0), "attack": 0.03, "release": 0.04, "vib_depth": 0.12, "vib_rate": 5.5}, "swing", Look("triangle", "rings", 0.17), melody=9),
    S("playing violin", "tone", (200, 900), "regular", (1.0, 2.0), (0.4, 1.0), {"tilt": -3.0, "vib_depth": R(0.2, 0.5), "vib_rate": R(5.0, 6.5), "breath": 0.1, "attack": 0.08, "release": 0.08}, "vibrate", Look("star", "stripes", 0.03), melody=12),
    S("playing xylophone", "modal", (400, 1400), "regular", (3.0, 6.0), (0.4, 0.6), {"ratios": (1.0, 3.93, 9.5), "decay": R(0.15, 0.35), "click": 0.1}, "bounce", Look("bar", "checker", 0.42), melody=12),
    # --- 16 audio-only classes (off-screen sounds in the video data sets) ---
    S("rising chirp", "chirp", (400, 1000), "poisson", (1.0, 2.0), (0.2, 0.45), {"octaves": R(1.0, 2.0)}),
    S("falling chirp", "chirp", (800, 3000), "poisson", (1.0, 2.0), (0.2, 0.45), {"octaves": R(-2.0, -1.0)}),
    S("slow pulse train", "clicks", (800, 2000), "regular", (3.0, 5.0), (0.02, 0.03), {"clicks": (1, 2), "decay": 0.003}),
    S("fast pulse train", "clicks", (800, 2000), "regular", (7.0, 11.0), (0.02, 0.03), {"clicks": (1, 2), "decay": 0.003}),
    S("wind gusts", "noise", (200, 600), "sustained", (1, 1), (1, 1), {"bw": 1.5, "am_rate": R(0.15, 0.4), "am_depth": 0.8}, esc10=True),
    S("rain patter", "clicks", (2000, 6000), "poisson", (25.0, 60.0), (0.01, 0.02), {"clicks": (1, 2), "decay": 0.002}, esc10=True),
    S("crackling", "clicks", (1000, 4000), "poisson", (5.0, 15.0), (0.05, 0.1), {"clicks": (1, 4), "click_rate": 80.0, "decay": 0.002, "body": 0.2, "body_f": 90}, esc10=True),
    S("ringing bell", "fm", (500, 1200), "poisson", (0.5, 1.0), (1.0, 1.8), {"ratio": R(1.35, 1.45), "index": R(2.0, 4.0), "decay": R(0.4, 0.8)}),
    S("low gong", "fm", (80, 200), "poisson", (0.3, 0.6), (2.0, 3.0), {"ratio": R(1.38, 1.44), "index": R(3.0, 5.0), "decay": R(0.8, 1.5)}),
    S("siren", "tone", (500, 900), "sustained", (1, 1), (1, 1), {"tilt": -5.0, "vib_depth": R(3.0, 5.0), "vib_rate": R(0.3, 0.8), "attack": 0.3}),
    S("engine drone", "engine", (40, 90), "sustained", (1, 1), (1, 1), {"am_rate": R(6, 15), "noise": R(0.2, 0.5), "tilt": R(-6, -3)}, esc10=True),
    S("buzzing", "tone", (100, 250), "sustained", (1, 1), (1, 1), {"tilt": R(-1.5, 0.0), "trem": R(0.2, 0.5), "trem_rate": R(0.5, 2.0), "attack": 0.2}, esc10=True),
    S("ticking", "clicks", (1500, 3000), "regular", (1.0, 2.0), (0.03, 0.05), {"clicks": (1, 2), "decay": 0.004, "body": 0.3, "body_f": 1200}, esc10=True),
    S("water drops", "chirp", (800, 1600), "poisson", (2.0, 5.0), (0.03, 0.08), {"octaves": R(0.4, 0.9), "harm": 1}),
    S("warbling", "tone", (1500, 3000), "poisson", (1.0, 2.0), (0.2, 0.5), {"tilt": -12.0, "vib_depth": R(1.5, 3.0), "vib_rate": R(10, 20), "attack": 0.02, "release": 0.05}, esc10=True),
    S("barking", "voice", (300, 600), "regular", (1.0, 2.0), (0.1, 0.25), {"formant_scale": R(0.8, 1.2), "fall": R(2.0, 5.0), "attack": 0.01, "release": 0.05, "breath": 0.3}, esc10=True),
)  # fmt: skip
del R, S

FINE_PAIRS: tuple[tuple[str, str], ...] = (
    ("playing guitar", "fingerpicking"),
    ("playing piano", "playing keyboard"),
    ("laughing", "tickling"),
    ("tapping pen", "tapping guitar"),
    ("playing trumpet", "playing trombone"),
    ("playing clarinet", "playing saxophone"),
    ("rising chirp", "falling chirp"),
    ("slow pulse train", "fast pulse train"),
)
GOLDEN = 0.618033988749895  # hue step: consecutive families land far apart on the colour circle


def _spread_hues(classes: tuple[SoundClass, ...], pairs) -> tuple[SoundClass, ...]:
    """Give every look family its own hue, golden-ratio spaced; a fine pair shares one (+0.04).

    The hand-written hues above bunched 16 of the 34 bound classes into the
    red-yellow range, so at a small vision input many objects differed in hue
    only by a few hundredths; spreading them keeps shape and texture as
    written and makes colour a real cue, except within ``FINE_PAIRS``.
    """
    partner = {b: a for a, b in pairs} | {a: a for a, _ in pairs}
    families: list[str] = []
    out = []
    for c in classes:
        if c.look is None:
            out.append(c)
            continue
        family = partner.get(c.name, c.name)
        if family not in families:
            families.append(family)
        hue = (families.index(family) * GOLDEN) % 1.0 + (0.04 if family != c.name else 0.0)
        out.append(replace(c, look=replace(c.look, hue=round(hue % 1.0, 4))))
    return tuple(out)


CLASSES: tuple[SoundClass, ...] = _spread_hues(_WRITTEN, FINE_PAIRS)
CLASS_NAMES: tuple[str, ...] = tuple(c.name for c in CLASSES)
BY_NAME: dict[str, SoundClass] = {c.name: c for c in CLASSES}
KINETICS_SOUNDS: tuple[str, ...] = tuple(c.name for c in CLASSES if c.look is not None)
AUDIO_ONLY: tuple[str, ...] = tuple(c.name for c in CLASSES if c.look is None)
ESC10: tuple[str, ...] = tuple(c.name for c in CLASSES if c.esc10)


def _spread(lo: float, hi: float, spread: float, log: bool) -> tuple[float, float]:
    """Scale a range around its (geometric, for log) centre by ``spread``."""
    if log:
        c, h = np.sqrt(lo * hi), np.sqrt(hi / lo) ** spread
        return c / h, c * h
    c, h = (lo + hi) / 2, (hi - lo) / 2 * spread
    return c - h, c + h


def sample_source(
    cls: SoundClass, rng: np.random.Generator, pitch_spread: float = 1.0, rate_spread: float = 1.0
) -> dict:
    """Draw one source of a class: base pitch, event rate, timbre parameters, loudness."""
    f_lo, f_hi = _spread(*cls.f, pitch_spread, log=True)
    r_lo, r_hi = _spread(*cls.rate, rate_spread, log=False)
    params = {
        k: (rng.uniform(v.lo, v.hi) if isinstance(v, Range) else v) for k, v in cls.params.items()
    }
    return {
        "f": float(np.exp(rng.uniform(np.log(f_lo), np.log(f_hi)))),
        "rate": float(rng.uniform(max(r_lo, 0.05), max(r_hi, 0.05))),
        "params": params,
        "gain_db": float(rng.uniform(-6, 0)),
    }


def jitter_source(source: dict, rng: np.random.Generator, amount: float) -> dict:
    """A take of the same source: pitch and rate moved by a small relative ``amount``."""
    return {
        **source,
        "f": source["f"] * float(np.exp(rng.normal(0, amount))),
        "rate": source["rate"] * float(np.exp(rng.normal(0, amount))),
    }


def event_onsets(
    cls: SoundClass, rate: float, rng: np.random.Generator, duration: float
) -> np.ndarray:
    """Onset times (s) in [-1, duration): regular with 8% timing jitter, or Poisson."""
    if cls.pattern == "sustained":
        return np.array([-1.0])
    if cls.pattern == "regular":
        period = 1 / rate
        n = int((duration + 1) / period) + 2
        gaps = period * np.clip(1 + rng.normal(0, 0.08, n), 0.6, 1.4)
        times = -1 + rng.uniform(0, period) + np.concatenate([[0], np.cumsum(gaps[:-1])])
    else:
        n = int((duration + 1) * rate * 3) + 4
        times = -1 + np.cumsum(np.maximum(rng.exponential(1 / rate, n), 0.05))
    times = times[times < duration]
    if not (
        (times >= 0) & (times < duration - 0.3)
    ).any():  # every clip hears its class at least once
        times = np.sort(np.append(times, rng.uniform(0.1, max(0.2, duration - 0.3))))
    return times


def render_source(
    cls: SoundClass, source: dict, rng: np.random.Generator, duration: float, sr: int
) -> tuple[np.ndarray, np.ndarray]:
    """The source's sound over [0, duration): (audio float64 unit-peak, onset times in [0, duration))."""
    n = int(round(duration * sr))
    lead = sr  # events may start up to 1 s before the clip so sound is present from t = 0
    out = np.zeros(n + lead)
    onsets = event_onsets(cls, source["rate"], rng, duration)
    kind = KINDS[cls.kind]
    for t0 in onsets:
        if cls.pattern == "sustained":
            length = n + lead
        else:
            length = max(16, int(rng.uniform(*cls.dur) * sr))
        start = int(round((t0 + 1) * sr))
        length = min(length, n + lead - start)
        if length < 16:
            continue
        f = source["f"]
        if cls.melody:
            f *= SEMITONE ** rng.integers(-cls.melody // 2, cls.melody // 2 + 1)
        event = kind(rng, source["params"], length, sr, f)
        out[start : start + length] += event * 10 ** (rng.uniform(-4, 0) / 20)
    out = out[lead:]
    peak = np.max(np.abs(out))
    audible = onsets[onsets >= 0] if cls.pattern != "sustained" else np.zeros(0)
    return (out / peak if peak > 0 else out), audible
