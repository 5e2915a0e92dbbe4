"""The world's 10 acoustic scenes (DCASE 2013 analogue, Places analogue): ambient beds and backgrounds.

Each scene is a recipe of ambient components (coloured noise, mains hum,
babble, traffic swells, wind, bird warbles, clicks, beeps, rhythmic clacks,
chimes) with scene-specific level ranges, and a background image with a
scene-specific layout (sky/walls, buildings, shelves, tables, trees, poles).
Scenes share components at different levels, so recognising one needs the
combination, not one give-away sound. The names are DCASE 2013's classes.
"""

from __future__ import annotations

import numpy as np

from avlib.data.world.common import smooth_noise
from avlib.data.world.synth import SEMITONE, harmonics, shaped_noise, spectrum_amps, time_axis
from avlib.data.world.visuals import hsv

SCENES = (
    "bus",
    "busystreet",
    "office",
    "openairmarket",
    "park",
    "quietstreet",
    "restaurant",
    "supermarket",
    "tube",
    "tubestation",
)

# component -> (min, max) level in dB relative to the bed's loudest component; absent = not in the scene
RECIPES: dict[str, dict[str, tuple[float, float]]] = {
    "bus": {"rumble": (-6, 0), "hum": (-24, -6), "babble": (-22, -4), "clacks": (-28, -10), "beeps": (-32, -14), "traffic": (-24, -8)},
    "busystreet": {"traffic": (-6, 0), "babble": (-20, -4), "rumble": (-20, -4), "horns": (-24, -6), "wind": (-28, -10), "clicks": (-30, -14)},
    "office": {"pink": (-8, 0), "hum": (-16, -2), "clicks": (-16, -2), "babble": (-26, -8), "beeps": (-34, -16)},
    "openairmarket": {"babble": (-6, 0), "clicks": (-20, -4), "traffic": (-28, -10), "birds": (-28, -10), "wind": (-30, -14)},
    "park": {"wind": (-6, 0), "birds": (-16, -2), "traffic": (-32, -14), "babble": (-32, -14), "clicks": (-34, -18)},
    "quietstreet": {"traffic": (-8, 0), "wind": (-14, -2), "birds": (-24, -8), "clicks": (-24, -8), "babble": (-32, -16)},
    "restaurant": {"babble": (-6, 0), "clinks": (-16, -2), "hum": (-28, -12), "pink": (-24, -8), "clicks": (-28, -12)},
    "supermarket": {"pink": (-8, 0), "beeps": (-18, -4), "babble": (-18, -2), "hum": (-20, -4), "clinks": (-32, -16)},
    "tube": {"rumble": (-6, 0), "clacks": (-14, -2), "squeal": (-22, -6), "babble": (-28, -10), "pink": (-24, -10)},
    "tubestation": {"babble": (-8, 0), "rumble": (-16, -2), "chimes": (-20, -6), "squeal": (-28, -10), "pink": (-20, -6)},
}  # fmt: skip
SHARED = (
    "pink",
    "hum",
    "babble",
    "traffic",
)  # present in every scene, at (-26, -6) dB where not in its recipe


def _events(rng, n, sr, rate, make) -> np.ndarray:
    """Poisson events at ``rate`` per second, each rendered by make(rng, length_hint)."""
    out = np.zeros(n)
    t = rng.exponential(1 / rate)
    while t * sr < n:
        ev = make(rng)
        start = int(t * sr)
        seg = min(len(ev), n - start)
        out[start : start + seg] += ev[:seg] * rng.uniform(0.4, 1.0)
        t += rng.exponential(1 / rate)
    return out


def _component(name: str, rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    """One ambient component of ``n`` samples (before levelling)."""
    t = time_axis(n, sr)

    def slow(seconds: float, depth: float) -> np.ndarray:
        """1 + depth * a smooth random wobble over ``seconds`` (computed on a 10 ms grid)."""
        grid = smooth_noise(rng, int(t[-1] * 100) + 2, seconds * 100, 1)[:, 0]
        return 1 + depth * np.tanh(np.interp(t, np.arange(len(grid)) / 100, grid))

    if name == "pink":
        return shaped_noise(rng, n, sr, tilt=rng.uniform(0.8, 1.3))
    if name == "rumble":
        return shaped_noise(rng, n, sr, fc=rng.uniform(50, 120), bw=1.0) * slow(2.0, 0.3)
    if name == "traffic":
        return shaped_noise(rng, n, sr, tilt=2.0) * slow(1.5, 0.8)
    if name == "wind":
        return shaped_noise(rng, n, sr, fc=rng.uniform(200, 500), bw=1.4) * slow(1.0, 0.9)
    if name == "hum":
        f = rng.choice([50.0, 60.0])
        return harmonics(np.full(n, f), sr, spectrum_amps(8, -4.0, 0.6), rng)
    if name == "babble":
        voices = [
            shaped_noise(rng, n, sr, fc=rng.uniform(400, 1200), bw=0.8) * slow(0.12, 1.0)
            for _ in range(3)
        ]
        return np.sum(voices, 0)
    if name == "birds":

        def chirp(r):
            m = int(r.uniform(0.05, 0.2) * sr)
            f = r.uniform(2500, 5000) * SEMITONE ** (
                r.uniform(2, 6) * np.sin(2 * np.pi * r.uniform(12, 25) * time_axis(m, sr))
            )
            return np.sin(2 * np.pi * np.cumsum(f) / sr) * np.hanning(m)

        return _events(rng, n, sr, rng.uniform(1, 4), chirp)
    if name in ("clicks", "clinks"):
        fc = 2500.0 if name == "clicks" else 4500.0
        decay = 0.004 if name == "clicks" else 0.05
        rate = rng.uniform(1, 5)
        m = int(decay * 6 * sr)

        def hit(r):
            return shaped_noise(r, m, sr, fc=fc * r.uniform(0.8, 1.25), bw=0.3) * np.exp(
                -time_axis(m, sr) / decay
            )

        return _events(rng, n, sr, rate, hit)
    if name in ("beeps", "horns", "chimes"):
        base = {"beeps": (2500, 3500), "horns": (300, 500), "chimes": (500, 900)}[name]
        length = {"beeps": 0.12, "horns": 0.5, "chimes": 0.8}[name]

        def tone(r):
            m = int(length * sr)
            return harmonics(
                np.full(m, r.uniform(*base)), sr, spectrum_amps(4, -6.0), r
            ) * np.hanning(m)

        return _events(rng, n, sr, rng.uniform(0.2, 0.8), tone)
    if name == "clacks":
        period = 1 / rng.uniform(1.0, 2.5)
        m = int(0.05 * sr)
        hit = shaped_noise(rng, m, sr, fc=800, bw=1.0) * np.exp(-time_axis(m, sr) / 0.01)
        out = np.zeros(n)
        for start in (np.arange(0, t[-1], period) * sr).astype(int):
            seg = min(m, n - start)
            out[start : start + seg] += hit[:seg]
            if start + int(0.12 * sr) + seg < n:
                out[start + int(0.12 * sr) : start + int(0.12 * sr) + seg] += 0.7 * hit[:seg]
        return out
    if name == "squeal":
        f = rng.uniform(1800, 3500) * (1 + 0.01 * np.sin(2 * np.pi * 3 * t))
        return np.sin(2 * np.pi * np.cumsum(f) / sr) * np.clip(slow(1.5, 2.0) - 1, 0, None)
    raise ValueError(f"unknown ambient component {name!r}")


def scene_bed(scene: str, rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    """The ambient sound of a scene, ``n`` samples, unit RMS.

    The scene's components at random levels, the shared ones faintly, then a
    random recording colour (spectral tilt, high cut), as microphones and
    rooms differ between recordings of one kind of place.
    """
    levels = {name: (-26.0, -6.0) for name in SHARED}
    levels.update(RECIPES[scene])
    out = np.zeros(n)
    for name, (lo, hi) in levels.items():
        part = _component(name, rng, n, sr)
        out += part / (np.sqrt(np.mean(part**2)) + 1e-12) * 10 ** (rng.uniform(lo, hi) / 20)
    spec = np.fft.rfft(out)
    f = np.maximum(np.fft.rfftfreq(n, 1 / sr), 20.0)
    tilt = rng.uniform(-4.0, 4.0) * np.log2(f / 1000) / 20  # dB per octave around 1 kHz
    cut = rng.uniform(2000, 10000)
    out = np.fft.irfft(spec * 10**tilt / np.sqrt(1 + (f / cut) ** 4), n)
    return out / (np.sqrt(np.mean(out**2)) + 1e-12)


BANK_TAKES = 2  # ambient recordings per scene in the shared corpus
BANK_SECONDS = 8.0
_BANK: dict[tuple[str, int, int], np.ndarray] = {}


def ambient_excerpt(scene: str, rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    """A random excerpt of the world's ambient corpus for a scene (unit RMS).

    The corpus (``BANK_TAKES`` recordings of ``BANK_SECONDS`` per scene, the
    same for every world seed) is rendered once per process, like a noise
    corpus used for background. Clips whose label *is* the scene (DCASE,
    Flickr-SoundNet) use ``scene_bed`` instead, so no two share a recording.
    """
    take = int(rng.integers(BANK_TAKES))
    key = (scene, take, sr)
    if key not in _BANK:
        bank_rng = np.random.default_rng(
            np.random.SeedSequence([0xA3B1, SCENES.index(scene), take])
        )
        _BANK[key] = scene_bed(scene, bank_rng, int(BANK_SECONDS * sr), sr).astype(np.float32)
    bed = _BANK[key]
    if n > len(bed):
        bed = np.tile(bed, n // len(bed) + 1)
    start = int(rng.integers(0, len(bed) - n + 1))
    out = bed[start : start + n].astype(np.float64)
    return out / (np.sqrt(np.mean(out**2)) + 1e-12)


# ---------------------------------------------------------------- backgrounds


def _rect(img, x0, y0, x1, y1, colour):
    """Fill a rectangle given in [0, 1] coordinates."""
    H, W, _ = img.shape
    img[
        int(y0 * H) : max(int(y0 * H) + 1, int(y1 * H)),
        int(x0 * W) : max(int(x0 * W) + 1, int(x1 * W)),
    ] = colour


def _disc(img, cx, cy, r, colour):
    """Fill a disc given in [0, 1] coordinates (r relative to the width)."""
    H, W, _ = img.shape
    ys, xs = np.mgrid[0:H, 0:W]
    img[(xs / W - cx) ** 2 + ((ys / H - cy) * H / W) ** 2 < r * r] = colour


def _jit(rng, colour, amount=0.06):
    return np.clip(np.asarray(colour, dtype=np.float32) + rng.normal(0, amount, 3), 0, 1)


def _sky(img, rng, horizon):
    H = img.shape[0]
    h = max(1, int(horizon * H))
    top, bottom = (
        hsv(rng.uniform(0.55, 0.62), rng.uniform(0.3, 0.6), rng.uniform(0.8, 1.0)),
        hsv(0.58, 0.15, 0.95),
    )
    img[:h] = np.linspace(top, bottom, h)[:, None, :]


def background(scene: str, rng: np.random.Generator, size: int) -> np.ndarray:
    """A background image (size, size, 3) float32 in [0, 1] with the scene's layout."""
    img = np.zeros((size, size, 3), dtype=np.float32)
    u = rng.uniform
    if scene in ("busystreet", "quietstreet"):
        horizon = u(0.45, 0.6)
        _sky(img, rng, horizon)
        _rect(img, 0, horizon, 1, 1, _jit(rng, (0.35, 0.35, 0.37)))
        x = 0.0
        while x < 1:
            w = u(0.1, 0.2) if scene == "busystreet" else u(0.25, 0.4)
            top = horizon - (u(0.25, 0.42) if scene == "busystreet" else u(0.12, 0.22))
            wall = _jit(
                rng, (0.55, 0.5, 0.45) if scene == "busystreet" else hsv(u(), 0.3, 0.85), 0.08
            )
            _rect(img, x, top, x + w, horizon, wall)
            for wy in np.arange(top + 0.03, horizon - 0.05, 0.07):
                for wx in np.arange(x + 0.02, x + w - 0.03, 0.05):
                    _rect(img, wx, wy, wx + 0.025, wy + 0.035, (0.2, 0.25, 0.35))
            x += w + (0.0 if scene == "busystreet" else u(0.05, 0.15))
        for dx in np.arange(u(0, 0.1), 1, 0.2):
            _rect(img, dx, (horizon + 1) / 2, dx + 0.1, (horizon + 1) / 2 + 0.015, (0.9, 0.9, 0.9))
        for _ in range(int(rng.integers(3, 7)) if scene == "busystreet" else 0):
            cx, cy = u(0, 0.9), u(horizon + 0.03, 0.9)
            _rect(img, cx, cy, cx + 0.14, cy + 0.06, hsv(u(), 0.7, 0.8))
    elif scene in ("park", "openairmarket"):
        horizon = u(0.35, 0.5)
        _sky(img, rng, horizon)
        ground = (0.25, 0.55, 0.2) if scene == "park" else (0.75, 0.65, 0.45)
        img[int(horizon * size) :] = _jit(rng, ground)
        img[int(horizon * size) :] *= 1 + 0.15 * rng.standard_normal(
            (size - int(horizon * size), size, 1)
        ).astype(np.float32)
        if scene == "park":
            for _ in range(int(rng.integers(2, 5))):
                tx = u(0.05, 0.95)
                _rect(img, tx - 0.015, horizon - 0.1, tx + 0.015, horizon + 0.05, (0.4, 0.25, 0.1))
                _disc(img, tx, horizon - 0.15, u(0.06, 0.1), _jit(rng, (0.15, 0.45, 0.15)))
        else:
            x = u(0, 0.05)
            while x < 1:
                w, a, b = u(0.15, 0.25), hsv(u(), 0.8, 0.9), (0.95, 0.95, 0.9)
                for k, sx in enumerate(np.arange(x, x + w, 0.03)):
                    _rect(img, sx, horizon - 0.05, sx + 0.03, horizon + 0.05, a if k % 2 else b)
                _rect(img, x, horizon + 0.05, x + w, horizon + 0.2, _jit(rng, (0.5, 0.35, 0.2)))
                x += w + u(0.03, 0.08)
    elif scene in ("bus", "tube"):
        wall = (0.7, 0.72, 0.75) if scene == "bus" else (0.45, 0.45, 0.5)
        img[:] = _jit(rng, wall)
        window = (0.75, 0.85, 0.95) if scene == "bus" else (0.08, 0.08, 0.1)
        _rect(img, 0, u(0.1, 0.15), 1, u(0.35, 0.42), _jit(rng, window, 0.03))
        seat = hsv(u(), 0.6, 0.5)
        for k, sx in enumerate(np.arange(u(0, 0.1), 1, 0.18 if scene == "bus" else 0.3)):
            _rect(
                img, sx, 0.5 + 0.02 * k % 0.1, sx + (0.12 if scene == "bus" else 0.26), 0.75, seat
            )
        for px in np.arange(u(0.05, 0.2), 1, u(0.25, 0.4)):
            _rect(img, px, 0, px + 0.02, 1, (0.9, 0.8, 0.1))
        _rect(img, 0, 0.8, 1, 1, _jit(rng, (0.3, 0.3, 0.3)))
        if scene == "tube":
            img[int(0.5 * size) : int(0.75 * size)] *= 0.8 + 0.4 * rng.random(
                (int(0.75 * size) - int(0.5 * size), size, 1)
            ).astype(np.float32)
    elif scene in ("office", "restaurant"):
        wall = (0.85, 0.8, 0.65) if scene == "office" else (0.7, 0.4, 0.25)
        img[:] = _jit(rng, wall)
        _rect(
            img,
            0,
            0.7,
            1,
            1,
            _jit(rng, (0.5, 0.4, 0.3) if scene == "office" else (0.35, 0.2, 0.12)),
        )
        if scene == "office":
            for lx in np.arange(u(0, 0.1), 1, 0.3):
                _rect(img, lx, 0.02, lx + 0.2, 0.06, (1.0, 1.0, 0.95))
            for mx in np.arange(u(0.02, 0.15), 0.9, u(0.3, 0.45)):
                _rect(img, mx, 0.45, mx + 0.18, 0.62, (0.1, 0.1, 0.12))
                _rect(img, mx + 0.02, 0.47, mx + 0.16, 0.6, _jit(rng, (0.3, 0.5, 0.8)))
            _rect(img, 0, 0.62, 1, 0.7, _jit(rng, (0.55, 0.4, 0.25)))
        else:
            for wx in np.arange(u(0.02, 0.15), 0.9, 0.35):
                _rect(img, wx, 0.15, wx + 0.2, 0.45, (0.2, 0.25, 0.4))
            for tx in np.arange(u(0.1, 0.2), 1, u(0.3, 0.4)):
                _disc(img, tx, 0.8, 0.1, (0.95, 0.95, 0.92))
    elif scene in ("supermarket", "tubestation"):
        if scene == "supermarket":
            img[:] = _jit(rng, (0.9, 0.9, 0.88), 0.03)
            for sy in np.arange(0.15, 0.7, 0.14):
                _rect(img, 0, sy + 0.09, 1, sy + 0.11, (0.5, 0.5, 0.55))
                for px in np.arange(0, 1, 0.05):
                    _rect(img, px, sy + u(0.0, 0.03), px + 0.04, sy + 0.09, hsv(u(), 0.7, 0.85))
            _rect(img, 0, 0.78, 1, 1, (0.85, 0.85, 0.85))
        else:
            img[:] = _jit(rng, (0.85, 0.8, 0.65), 0.04)
            tiles = ((np.arange(size) % max(3, size // 16)) == 0).astype(np.float32)
            img *= 1 - 0.15 * np.maximum(tiles[:, None], tiles[None, :])[..., None]
            _rect(img, 0, 0.0, 1, 0.12, (0.1, 0.1, 0.1))
            for px in np.arange(u(0.05, 0.2), 0.9, u(0.3, 0.4)):
                _rect(img, px, 0.25, px + 0.15, 0.45, hsv(u(), 0.6, 0.8))
            _rect(img, 0, 0.72, 1, 0.76, (0.95, 0.85, 0.1))
            _rect(img, 0, 0.76, 1, 1, (0.3, 0.3, 0.32))
    else:
        raise ValueError(f"unknown scene {scene!r}")
    img *= rng.uniform(0.85, 1.1)
    img += rng.normal(0, 0.015, img.shape).astype(np.float32)
    return np.clip(img, 0, 1)
