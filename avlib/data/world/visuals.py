"""Visual object families and their motion: shapes with textures, drawn onto frame stacks.

An object is drawn for all frames at once (arrays of shape (T, H, W)) from
per-frame centre, radius and angle tracks. A sounding object's tracks follow
its sound: ``bounce`` puts a floor contact on every onset, ``swing`` tilts to
a strike peaking at each onset, ``pulse`` grows with loudness, ``vibrate``
shakes with the envelope. Silent distractors get the same kinds of motion
from their own random events, so motion alone does not reveal which object
sounds; only its timing against the audio does.
"""

from __future__ import annotations

import colorsys

import numpy as np

from avlib.data.world.common import smooth_noise
from avlib.data.world.sounds import Look

MOTIONS = ("bounce", "swing", "pulse", "vibrate")


def _polygon(n: int):
    angles = np.pi / 2 + 2 * np.pi * np.arange(n) / n
    apothem = np.cos(np.pi / n)

    def rho(u, v):
        return np.max([(u * np.cos(a) + v * np.sin(a)) for a in angles], axis=0) / apothem

    return rho


SHAPES = {  # each maps object-centred coordinates to a radius-like value, 1 on the outline
    "disc": lambda u, v: np.hypot(u, v),
    "ellipse": lambda u, v: np.hypot(u, v / 0.6),
    "square": lambda u, v: np.maximum(np.abs(u), np.abs(v)) / 0.8,
    "bar": lambda u, v: np.maximum(np.abs(u), np.abs(v) / 0.35),
    "diamond": lambda u, v: np.abs(u) + np.abs(v),
    "triangle": _polygon(3),
    "pentagon": _polygon(5),
    "hexagon": _polygon(6),
    "star": lambda u, v: np.hypot(u, v) / (0.72 + 0.28 * np.cos(5 * np.arctan2(v, u))),
    "ring": lambda u, v: 0.5 + np.abs(np.hypot(u, v) - 0.75) * 2,
    "cross": lambda u, v: np.minimum(
        np.maximum(np.abs(u), np.abs(v) / 0.33), np.maximum(np.abs(u) / 0.33, np.abs(v))
    ),
}

TEXTURES = {  # brightness pattern in object coordinates, in [0, 1] (1 = main colour)
    "solid": lambda u, v: np.ones_like(u),
    "stripes": lambda u, v: 0.5 + 0.5 * np.tanh(4 * np.sin(7 * u)),
    "checker": lambda u, v: 0.5 + 0.5 * np.tanh(4 * np.sin(5 * u) * np.sin(5 * v)),
    "dots": lambda u, v: 1 - 0.5 * (1 + np.tanh(8 * (np.cos(7 * u) * np.cos(7 * v) - 0.5))),
    "rings": lambda u, v: 0.5 + 0.5 * np.tanh(4 * np.sin(10 * np.hypot(u, v))),
    "gradient": lambda u, v: np.clip(0.5 + 0.5 * u, 0, 1),
}


def hsv(h: float, s: float, v: float) -> np.ndarray:
    """RGB in [0, 1] of a hue/saturation/value triple."""
    return np.array(colorsys.hsv_to_rgb(h % 1.0, s, v), dtype=np.float32)


def object_colours(look: Look, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Main and pattern colour of one instance: the family's hue with small jitter."""
    hue = look.hue + rng.normal(0, 0.02)
    main = hsv(hue, rng.uniform(0.6, 0.9), rng.uniform(0.75, 0.95))
    return main, main * rng.uniform(0.25, 0.45)


def random_look(rng: np.random.Generator) -> Look:
    """A random look (for actions' actors and distractors that belong to no class)."""
    return Look(str(rng.choice(list(SHAPES))), str(rng.choice(list(TEXTURES))), float(rng.random()))


def draw_object(
    canvas: np.ndarray,
    look: Look,
    colours: tuple[np.ndarray, np.ndarray],
    cx: np.ndarray,
    cy: np.ndarray,
    radius: np.ndarray,
    angle: np.ndarray,
) -> np.ndarray:
    """Composite an object onto ``canvas`` (T,H,W,3) float in place; return its coverage (T,H,W).

    The shape is evaluated only in a square window around the object in each
    frame (same window size for all frames, so it stays one array operation).
    """
    T, H, W, _ = canvas.shape
    half = int(np.ceil(np.max(radius))) + 2
    x0 = np.floor(cx).astype(int) - half
    y0 = np.floor(cy).astype(int) - half
    ys, xs = np.mgrid[0 : 2 * half + 1, 0 : 2 * half + 1].astype(np.float32)
    dx = xs[None] - (cx - x0)[:, None, None].astype(np.float32)
    dy = ys[None] - (cy - y0)[:, None, None].astype(np.float32)
    c, s = (
        np.cos(angle)[:, None, None].astype(np.float32),
        np.sin(angle)[:, None, None].astype(np.float32),
    )
    r = radius[:, None, None].astype(np.float32)
    u, v = (dx * c + dy * s) / r, (-dx * s + dy * c) / r
    local = np.clip((1 - SHAPES[look.shape](u, v)) * r + 0.5, 0, 1).astype(np.float32)
    pattern = TEXTURES[look.texture](u, v)[..., None].astype(np.float32)
    main, dark = colours
    colour = dark + (main - dark) * pattern
    alpha = np.zeros((T, H, W), np.float32)
    n = 2 * half + 1
    for t in range(T):
        a0, b0 = max(0, -y0[t]), max(0, -x0[t])
        a1, b1 = min(n, H - y0[t]), min(n, W - x0[t])
        if a1 <= a0 or b1 <= b0:
            continue
        win = np.s_[y0[t] + a0 : y0[t] + a1, x0[t] + b0 : x0[t] + b1]
        a = local[t, a0:a1, b0:b1]
        alpha[t][win] = a
        canvas[t][win] = (
            canvas[t][win] * (1 - a[..., None]) + a[..., None] * colour[t, a0:a1, b0:b1]
        )
    return alpha


def boxes_from_alpha(alpha: np.ndarray) -> list[list[float] | None]:
    """Per-frame normalised [x0, y0, x1, y1] of coverage > 0.5 (None where nothing is visible)."""
    T, H, W = alpha.shape
    mask = alpha > 0.5
    rows, cols = mask.any(2), mask.any(1)
    y0, x0 = rows.argmax(1), cols.argmax(1)
    y1, x1 = H - rows[:, ::-1].argmax(1), W - cols[:, ::-1].argmax(1)
    boxes = np.round(np.stack([x0 / W, y0 / H, x1 / W, y1 / H], 1), 4).tolist()
    return [box if seen else None for box, seen in zip(boxes, rows.any(1), strict=True)]


def _bounce_height(times: np.ndarray, contacts: np.ndarray) -> np.ndarray:
    """Parabolic arcs between floor contacts (height 0 at each contact, up to 1 between)."""
    if contacts.size == 0:
        return np.zeros_like(times)
    gap = float(np.median(np.diff(contacts))) if contacts.size > 1 else 0.6
    full = np.concatenate([[contacts[0] - gap], contacts, [contacts[-1] + gap]])
    i = np.clip(np.searchsorted(full, times, side="right") - 1, 0, len(full) - 2)
    span = full[i + 1] - full[i]
    u = np.clip((times - full[i]) / span, 0, 1)
    return 4 * u * (1 - u) * np.minimum(1.0, span / 0.5)


def motion_tracks(
    rng: np.random.Generator,
    motion: str,
    n_frames: int,
    fps: int,
    size: int,
    onsets: np.ndarray,
    envelope: np.ndarray,
    radius_frac: tuple[float, float] = (0.13, 0.21),
) -> dict[str, np.ndarray]:
    """Per-frame cx, cy, radius, angle (pixels, radians) for an object whose motion follows its sound."""
    times = np.arange(n_frames) / fps
    radius0 = rng.uniform(*radius_frac) * size
    margin = radius0 * 1.6
    drift = smooth_noise(rng, n_frames, fps * 1.5, 2, scale=size * 0.05)
    cx = rng.uniform(margin, size - margin) + drift[:, 0]
    cy = rng.uniform(margin * 1.5, size - margin) + drift[:, 1]
    angle = rng.uniform(0, 2 * np.pi) + smooth_noise(rng, n_frames, fps, 1, 0.2)[:, 0]
    radius = np.full(n_frames, radius0)
    env = envelope / (envelope.max() + 1e-9)
    if motion == "bounce":
        cy = cy - _bounce_height(times, onsets) * radius0 * 1.2
    elif motion == "swing":
        lag = times[:, None] - onsets[None]
        spike = (
            np.where(lag < 0, np.exp(lag / 0.06), np.exp(-lag / 0.15))
            if onsets.size
            else np.zeros((n_frames, 1))
        )
        angle = angle + 0.7 * spike.max(1) * rng.choice([-1, 1])
        cy = cy + 0.25 * radius0 * spike.max(1)
    elif motion == "pulse":
        radius = radius * (0.8 + 0.45 * env)
    elif motion == "vibrate":
        shake = rng.standard_normal((n_frames, 3)) * env[:, None]
        cx, cy = cx + shake[:, 0] * radius0 * 0.15, cy + shake[:, 1] * radius0 * 0.15
        angle = angle + shake[:, 2] * 0.12
    else:
        raise ValueError(f"unknown motion {motion!r}")
    cx = np.clip(cx, radius0, size - radius0)
    cy = np.clip(cy, radius0, size - radius0)
    return {"cx": cx, "cy": cy, "radius": radius, "angle": angle}


def random_events(
    rng: np.random.Generator, n_frames: int, fps: int
) -> tuple[np.ndarray, np.ndarray]:
    """Onsets and an envelope for a silent object's motion: events of its own, unrelated to the audio."""
    duration = n_frames / fps
    onsets = np.sort(rng.uniform(0, duration, rng.integers(1, max(2, int(duration * 3)))))
    times = np.arange(n_frames) / fps
    lag = times[:, None] - onsets[None]
    env = np.where(lag >= 0, np.exp(-np.maximum(lag, 0) / rng.uniform(0.1, 0.6)), 0).max(1)
    return onsets, env
