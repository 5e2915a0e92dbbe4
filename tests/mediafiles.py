"""Media with known content for the data tests: colour ramps, tones, a flash with a click."""

from __future__ import annotations

import numpy as np


def ramp_frames(n: int, h: int = 32, w: int = 48) -> np.ndarray:
    """(n, h, w, 3) uint8: red encodes the frame index (5 * i, n <= 52), green a horizontal ramp, blue a vertical one."""
    frames = np.zeros((n, h, w, 3), np.uint8)
    frames[..., 0] = (5 * np.arange(n))[:, None, None]
    frames[..., 1] = np.linspace(0, 255, w).astype(np.uint8)[None, None, :]
    frames[..., 2] = np.linspace(0, 255, h).astype(np.uint8)[None, :, None]
    return frames


def frame_index(frames: np.ndarray) -> np.ndarray:
    """Recover ramp_frames' frame index from the red channel's mean (robust to codec noise)."""
    return np.round(frames[..., 0].reshape(len(frames), -1).mean(axis=1) / 5).astype(int)


def tone(freq: float, dur_s: float, sr: int, amp: float = 0.5, channels: int = 1) -> np.ndarray:
    """A sine of ``freq`` Hz: (S,) or (channels, S) with channel c scaled by 1 / (c + 1)."""
    x = amp * np.sin(2 * np.pi * freq * np.arange(round(dur_s * sr)) / sr).astype(np.float32)
    if channels == 1:
        return x
    return np.stack([x / (c + 1) for c in range(channels)])


def peak_hz(x: np.ndarray, sr: int) -> float:
    """Frequency of the largest FFT magnitude."""
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / sr)[np.argmax(spec)])


def flash_click(
    n_frames: int, fps: int, sr: int, flash_frame: int, offset_s: float, h: int = 32, w: int = 32
) -> tuple[np.ndarray, np.ndarray]:
    """Black frames with one white frame, and silence with a 2 ms click ``offset_s`` after the flash."""
    frames = np.zeros((n_frames, h, w, 3), np.uint8)
    frames[flash_frame] = 255
    audio = np.zeros(round(n_frames / fps * sr), np.float32)
    at = round((flash_frame / fps + offset_s) * sr)
    audio[at : at + round(0.002 * sr)] = 0.8
    return frames, audio


def onset_s(audio: np.ndarray, sr: int, threshold: float = 0.3) -> float:
    """Time of the first sample whose magnitude exceeds ``threshold``."""
    return float(np.flatnonzero(np.abs(audio) > threshold)[0] / sr)
