"""Motion classes (UCF101/HMDB51 analogue): the class is how an object moves, not what it looks like.

Each action gives per-frame tracks (centre, radius, angle) and a sound made by
the motion itself: impacts at floor contacts (bounce, drop, jump, flip),
whooshes at peak speed (swing, wave), a whirr at the spin rate, a rumble
while rolling, friction while sliding, a rattle while shaking, a pitch that
follows distance (zoom) or approach (orbit). The actor's look is drawn per
UCF "group" at random, so appearance says nothing about the class; the
``speed`` of a group scales every action's tempo.
"""

from __future__ import annotations

import numpy as np

from avlib.data.world.common import smooth_noise
from avlib.data.world.synth import kind_modal, shaped_noise, time_axis
from avlib.data.world.visuals import _bounce_height

ACTIONS = (
    "Bounce",
    "Spin",
    "Swing",
    "Zoom",
    "Slide",
    "Wave",
    "Jump",
    "Orbit",
    "Shake",
    "Drop",
    "Roll",
    "Flip",
)


def _impacts(rng, times, n, sr, f, decay=0.05, gains=None):
    out = np.zeros(n)
    for j, t0 in enumerate(times):
        start = int(t0 * sr)
        if 0 <= start < n:
            m = min(n - start, int(0.4 * sr))
            hit = kind_modal(
                rng,
                {"decay": decay, "click": 0.6, "click_fc": 6 * f},
                m,
                sr,
                f * rng.uniform(0.95, 1.05),
            )
            out[start : start + m] += hit * (1.0 if gains is None else gains[j])
    return out


def _speed_noise(rng, speed_frames, n, sr, fc, bw=1.0):
    """Noise whose loudness follows a per-frame speed track (interpolated to samples)."""
    level = np.interp(time_axis(n, sr), np.linspace(0, n / sr, len(speed_frames)), speed_frames)
    return shaped_noise(rng, n, sr, fc=fc, bw=bw) * level / (level.max() + 1e-9)


def _tone(track_hz, sr, level):
    return np.sin(2 * np.pi * np.cumsum(track_hz) / sr) * level


def render_action(
    action: str,
    rng: np.random.Generator,
    n_frames: int,
    fps: int,
    size: int,
    sr: int,
    speed: float,
    pitch: float,
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Tracks (cx, cy, radius, angle per frame), audio (float64) and event times (s) of one action clip."""
    times = np.arange(n_frames) / fps
    duration = n_frames / fps
    n = int(round(duration * sr))
    t_audio = time_axis(n, sr)
    r0 = rng.uniform(0.1, 0.15) * size
    cx = np.full(n_frames, rng.uniform(0.35, 0.65) * size)
    cy = np.full(n_frames, rng.uniform(0.4, 0.6) * size)
    floor = size - r0 * 1.3
    radius, angle = np.full(n_frames, r0), np.full(n_frames, rng.uniform(0, 2 * np.pi))
    events = np.zeros(0)
    phase = rng.uniform(0, 1)
    if action in ("Bounce", "Jump", "Flip"):
        period = {"Bounce": 0.5, "Jump": 1.0, "Flip": 1.1}[action] / speed
        events = (np.arange(-1, duration / period + 1) + phase) * period
        events = events[(events > 0) & (events < duration)]
        air = 0.45 if action != "Bounce" else 1.0  # jumps and flips rest on the floor between hops
        contacts = (
            np.sort(np.concatenate([events, events - air * period]))
            if action != "Bounce"
            else events
        )
        height = _bounce_height(times, contacts)
        if action != "Bounce":
            height[np.searchsorted(contacts, times) % 2 == 0] = 0.0
        cy = floor - height * size * (0.35 if action == "Bounce" else 0.45)
        if action == "Flip":
            angle = angle + 2 * np.pi * np.clip(height > 0, 0, 1).cumsum() / max(
                1, int(air * period * fps)
            )
        audio = _impacts(rng, events, n, sr, pitch, decay=0.04)
        if action != "Bounce":
            audio += 0.3 * _impacts(rng, events - air * period, n, sr, 2 * pitch, decay=0.01)
    elif action == "Drop":
        g = 4.5 * size * speed**2  # pixels / s^2
        t, y, v, drops, gains = 0.0, (0.1 + 0.1 * phase) * size, 0.0, [], []
        ys = np.empty(n_frames)
        for i in range(n_frames):
            while t < times[i]:
                v += g * 0.002
                y += v * 0.002
                t += 0.002
                if y >= floor:
                    y, v = floor, -0.55 * v
                    if abs(v) < 0.05 * g:  # comes to rest
                        v, g = 0.0, 0.0
                    else:
                        drops.append(t)
                        gains.append(min(1.0, abs(v) / (0.3 * 4.5 * size * speed**2)))
            ys[i] = y
        cy, events = ys, np.array(drops)
        audio = _impacts(rng, events, n, sr, pitch, decay=0.05, gains=gains)
    elif action == "Spin":
        turns = rng.choice([-1, 1]) * 1.2 * speed  # turns per second
        angle = angle + 2 * np.pi * turns * times
        blades = 0.5 + 0.5 * np.sin(2 * np.pi * 4 * abs(turns) * t_audio) ** 2
        audio = (
            _tone(np.full(n, 4 * pitch), sr, blades)
            + 0.3 * shaped_noise(rng, n, sr, fc=8 * pitch) * blades
        )
    elif action == "Roll":
        travel = 0.6 * size
        x = (r0 * 2 * np.pi * 0.6 * speed * times / travel + phase) % 2
        cx = 0.2 * size + travel * np.where(x < 1, x, 2 - x)
        angle = angle + np.cumsum(np.gradient(cx)) / r0
        cy = np.full(n_frames, floor)
        audio = shaped_noise(rng, n, sr, fc=pitch * 0.8, bw=1.0) * (
            1 + 0.4 * np.sin(2 * np.pi * 3 * t_audio)
        )
    elif action in ("Swing", "Wave"):
        period = (1.2 if action == "Swing" else 0.5) / speed
        amp = 0.8 if action == "Swing" else 0.4
        theta = amp * np.sin(2 * np.pi * (times / period + phase))
        if action == "Swing":
            pivot_y, length = 0.1 * size, 0.55 * size
            cx = size / 2 + length * np.sin(theta)
            cy = pivot_y + length * np.cos(theta)
        angle = angle + theta
        speed_track = np.abs(np.cos(2 * np.pi * (times / period + phase)))
        audio = _speed_noise(rng, speed_track**3, n, sr, fc=pitch * 8, bw=1.2)
        events = (np.arange(0, 2 * duration / period + 2) / 2 - phase) * period  # peak speed
        events = events[(events > 0) & (events < duration)]
    elif action == "Zoom":
        period = 1.6 / speed
        scale = 1 + 0.6 * np.sin(2 * np.pi * (times / period + phase))
        radius = r0 * scale
        cx, cy = np.full(n_frames, size / 2), np.full(n_frames, size / 2)
        level = np.interp(t_audio, times, scale)
        audio = _tone(pitch * 3 * level, sr, level**2 / 2.6)
    elif action == "Orbit":
        period = 1.5 / speed
        a = 2 * np.pi * (times / period + phase)
        cx, cy = size / 2 + 0.28 * size * np.cos(a), size / 2 + 0.22 * size * np.sin(a)
        aa = np.interp(t_audio, times, np.unwrap(a))
        audio = _tone(pitch * 3 * (1 - 0.06 * np.sin(aa)), sr, 0.6 + 0.4 * np.sin(aa))
    elif action == "Slide":
        stops = np.sort(rng.uniform(0, duration, 2))
        target = rng.uniform(0.2, 0.8, 3) * size
        pos = np.select([times < stops[0], times < stops[1]], [target[0], target[1]], target[2])
        kernel = np.hanning(max(3, int(0.4 * fps / speed)))
        cx = np.convolve(np.pad(pos, len(kernel)), kernel / kernel.sum(), "same")[
            len(kernel) : -len(kernel)
        ]
        cy = np.full(n_frames, floor)
        moving = np.abs(np.gradient(cx))
        audio = _speed_noise(rng, moving, n, sr, fc=pitch * 15, bw=0.8)
        events = stops + len(kernel) / 2 / fps
        audio += 0.4 * _impacts(rng, events[events < duration], n, sr, pitch, decay=0.02)
        events = events[events < duration]
    elif action == "Shake":
        gate = (np.sin(2 * np.pi * (times * 0.8 * speed + phase)) > 0).astype(float)
        jitter = rng.standard_normal((n_frames, 2)) * gate[:, None] * 0.06 * size
        cx, cy = cx + jitter[:, 0], cy + jitter[:, 1]
        audio = _speed_noise(rng, gate, n, sr, fc=pitch * 20, bw=0.7) * (rng.random(n) < 0.2)
        events = times[1:][np.diff(gate) > 0]
    else:
        raise ValueError(f"unknown action {action!r}")
    drift = smooth_noise(rng, n_frames, fps, 2, scale=size * 0.01)
    tracks = {"cx": cx + drift[:, 0], "cy": cy + drift[:, 1], "radius": radius, "angle": angle}
    return tracks, audio, np.round(events, 4)
