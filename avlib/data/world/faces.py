"""Talking-face video: a speaker's face whose mouth follows a viseme track.

The face (background, head, hair, eyes, brows, nose) is drawn once and moved
by a small random head motion in whole pixels; eyes blink at random. Head
motion and blinks come from their own random stream, never from the audio,
so the mouth (lip opening, width, teeth) is the only thing in the frame
whose timing follows the speech: the property the sync papers rely on and
``calibrate.mouth_sync_table`` measures.
"""

from __future__ import annotations

import numpy as np

from avlib.data.world.common import smooth_noise
from avlib.data.world.speech import Speaker
from avlib.data.world.visuals import hsv


def _ellipse_alpha(xs, ys, cx, cy, rx, ry):
    """Anti-aliased coverage of an axis-aligned ellipse (broadcasts over leading dims)."""
    rho = np.sqrt(((xs - cx) / rx) ** 2 + ((ys - cy) / ry) ** 2)
    return np.clip((1 - rho) * np.minimum(rx, ry) + 0.5, 0, 1)


def _paint(img, alpha, colour):
    img *= 1 - alpha[..., None]
    img += alpha[..., None] * np.asarray(colour, dtype=np.float32)


def face_geometry(speaker: Speaker, size: int) -> dict[str, float]:
    """Pixel geometry of the face at rest: head centre and half-axes, mouth centre."""
    hw = 0.27 * size
    hh = min(hw * speaker.head_aspect, 0.42 * size)
    cx, cy = size / 2, 0.53 * size
    return {"cx": cx, "cy": cy, "hw": hw, "hh": hh, "mx": cx, "my": cy + 0.5 * hh}


def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    top, bottom = (
        hsv(rng.random(), rng.uniform(0.1, 0.5), rng.uniform(0.3, 0.9)),
        hsv(rng.random(), 0.2, 0.6),
    )
    img = np.linspace(top, bottom, size)[:, None, :].repeat(size, 1)
    for _ in range(int(rng.integers(1, 4))):
        x0, y0 = rng.integers(0, size, 2)
        img[y0 : y0 + size // 3, x0 : x0 + size // 4] *= rng.uniform(0.7, 1.2)
    return np.clip(img + rng.normal(0, 0.01, img.shape), 0, 1).astype(np.float32)


def _face_layer(speaker: Speaker, size: int, pad: int) -> tuple[np.ndarray, np.ndarray]:
    """RGB and alpha of the still face on a canvas padded by ``pad`` on each side."""
    g = face_geometry(speaker, size)
    n = size + 2 * pad
    ys, xs = np.mgrid[0:n, 0:n].astype(np.float32)
    cx, cy, hw, hh = g["cx"] + pad, g["cy"] + pad, g["hw"], g["hh"]
    rgb, alpha = np.zeros((n, n, 3), np.float32), np.zeros((n, n), np.float32)
    hair = _ellipse_alpha(xs, ys, cx, cy - 0.08 * hh, hw * 1.12, hh * 1.05)
    neck = ((np.abs(xs - cx) < 0.45 * hw) & (ys > cy + 0.6 * hh)).astype(np.float32)
    head = _ellipse_alpha(xs, ys, cx, cy, hw, hh)
    _paint(rgb, hair, speaker.hair)
    _paint(rgb, neck, np.asarray(speaker.skin) * 0.85)
    _paint(rgb, head, speaker.skin)
    fringe = head * (ys < cy - 0.62 * hh)
    _paint(rgb, fringe, speaker.hair)
    alpha = np.maximum.reduce([hair, neck, head])
    for side in (-1, 1):
        ex, ey = cx + side * speaker.eye_gap * hw, cy - 0.15 * hh
        _paint(rgb, _ellipse_alpha(xs, ys, ex, ey, 0.16 * hw, 0.08 * hh), (0.95, 0.95, 0.95))
        _paint(rgb, _ellipse_alpha(xs, ys, ex, ey, 0.07 * hw, 0.07 * hw), (0.1, 0.08, 0.06))
        brow = (np.abs(xs - ex) < 0.18 * hw) & (np.abs(ys - (ey - 0.14 * hh)) < 0.025 * hh + 0.5)
        _paint(rgb, brow.astype(np.float32), np.asarray(speaker.hair) * 0.8)
    _paint(
        rgb,
        _ellipse_alpha(xs, ys, cx, cy + 0.12 * hh, 0.08 * hw, 0.16 * hh),
        np.asarray(speaker.skin) * 0.88,
    )
    return rgb, alpha


def render_face(
    speaker: Speaker, mouth: np.ndarray, size: int, rng: np.random.Generator
) -> tuple[np.ndarray, list, list]:
    """Frames (T,size,size,3) uint8 of the face speaking ``mouth`` (T,2: opening, width).

    Returns (frames, mouth boxes, face boxes), boxes normalised per frame.
    """
    T = len(mouth)
    pad = max(4, size // 16)
    bg = _background(rng, size)
    rgb, alpha = _face_layer(speaker, size, pad)
    shift = np.round(smooth_noise(rng, T, 12, 2, scale=size * 0.015)).astype(int)
    shift = np.clip(shift, -pad, pad)
    g = face_geometry(speaker, size)
    frames = np.empty((T, size, size, 3), np.float32)
    for t in range(T):
        dx, dy = shift[t]
        win = np.s_[pad - dy : pad - dy + size, pad - dx : pad - dx + size]
        a = alpha[win][..., None]
        frames[t] = bg * (1 - a) + rgb[win] * a
    # mouth, drawn per frame in a window around its (shifted) centre
    hw, hh = g["hw"], g["hh"]
    wr, hr = int(0.5 * hw) + 2, int(0.25 * hh) + 2
    ys, xs = np.mgrid[-hr : hr + 1, -wr : wr + 1].astype(np.float32)
    opening, width = mouth[:, 0, None, None], mouth[:, 1, None, None]
    rx = (0.26 + 0.2 * width) * hw
    lips = _ellipse_alpha(xs, ys, 0, 0, rx, 0.05 * hh + 0.13 * hh * opening)
    inner = _ellipse_alpha(xs, ys, 0, 0.01 * hh, 0.8 * rx, 0.01 + 0.12 * hh * opening)
    teeth = inner * (ys < -0.02 * hh - 0.04 * hh * (1 - opening)) * (opening > 0.25)
    patch = np.zeros((T, *xs.shape, 3), np.float32)
    _paint(patch, lips, speaker.lip)
    _paint(patch, inner, (0.2, 0.04, 0.05))
    _paint(patch, teeth, (0.92, 0.9, 0.85))
    mx, my = int(round(g["mx"])), int(round(g["my"]))
    mouth_boxes, face_boxes = [], []
    for t in range(T):
        x0, y0 = mx + shift[t, 0] - wr, my + shift[t, 1] - hr
        region = frames[t, y0 : y0 + 2 * hr + 1, x0 : x0 + 2 * wr + 1]
        a = lips[t][..., None]
        region[:] = region * (1 - a) + patch[t] * a
        mouth_boxes.append(
            [
                round(x0 / size, 4),
                round(y0 / size, 4),
                round((x0 + 2 * wr + 1) / size, 4),
                round((y0 + 2 * hr + 1) / size, 4),
            ]
        )
        fx, fy = g["cx"] + shift[t, 0], g["cy"] + shift[t, 1]
        face_boxes.append(
            [
                round(max(0, fx - hw) / size, 4),
                round(max(0, fy - 1.1 * hh) / size, 4),
                round(min(size, fx + hw) / size, 4),
                round(min(size, fy + hh) / size, 4),
            ]
        )
    _blink(frames, speaker, g, shift, rng)
    return (np.clip(frames, 0, 1) * 255 + 0.5).astype(np.uint8), mouth_boxes, face_boxes


def _blink(
    frames: np.ndarray, speaker: Speaker, g: dict, shift: np.ndarray, rng: np.random.Generator
) -> None:
    """Close both eyes for 2-3 frames at random times (about every 3 s)."""
    T, size = len(frames), frames.shape[1]
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
    t = int(rng.integers(0, 75))
    while t < T:
        for b in range(t, min(T, t + int(rng.integers(2, 4)))):
            for side in (-1, 1):
                ex = g["cx"] + side * speaker.eye_gap * g["hw"] + shift[b, 0]
                ey = g["cy"] - 0.15 * g["hh"] + shift[b, 1]
                _paint(
                    frames[b],
                    _ellipse_alpha(xs, ys, ex, ey, 0.18 * g["hw"], 0.1 * g["hh"]),
                    speaker.skin,
                )
        t += int(rng.integers(40, 110))
