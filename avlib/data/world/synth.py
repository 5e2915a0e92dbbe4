"""Vectorised numpy synthesis primitives and the event kinds the sound classes are built from.

Each kind turns a dict of parameters (already sampled for one source, see
``sounds.py``) into one event's waveform. Kinds cover the families the design
asks for: plucked and sustained harmonic spectra, voice-like formant tones,
noise bands, modal impacts, click bursts, chirps, FM bells, engines, drums.
Everything is a few numpy array operations per event; no per-sample loops.
"""

from __future__ import annotations

import numpy as np

SEMITONE = 2 ** (1 / 12)
VOWELS = np.array(  # F1, F2, F3 (Hz) of a, e, i, o, u: shared with the speech synthesiser's idea of vowels
    [[750, 1200, 2500], [550, 1800, 2500], [300, 2300, 3000], [500, 900, 2400], [320, 800, 2300]],
    dtype=np.float64,
)


def time_axis(n: int, sr: int) -> np.ndarray:
    """Seconds of each of ``n`` samples."""
    return np.arange(n) / sr


def ar_envelope(n: int, sr: int, attack: float, release: float) -> np.ndarray:
    """Linear attack then a raised-cosine release over the last ``release`` seconds."""
    env = np.ones(n)
    a = min(n, max(1, int(attack * sr)))
    env[:a] = np.linspace(0, 1, a, endpoint=False)
    r = min(n - a, max(1, int(release * sr)))
    if r > 0:
        env[n - r :] *= 0.5 + 0.5 * np.cos(np.linspace(0, np.pi, r))
    return env


def shaped_noise(
    rng: np.random.Generator,
    n: int,
    sr: int,
    fc: float | None = None,
    bw: float = 1.0,
    tilt: float = 0.0,
) -> np.ndarray:
    """White noise shaped in the FFT domain: log-Gaussian band (fc, bw octaves std) and/or 1/f^tilt; unit RMS."""
    spec = np.fft.rfft(rng.standard_normal(max(n, 2)))
    f = np.fft.rfftfreq(max(n, 2), 1 / sr)
    f[0] = f[1]
    gain = f ** (-tilt / 2)
    if fc is not None:
        gain = gain * np.exp(-0.5 * (np.log2(f / fc) / bw) ** 2)
    out = np.fft.irfft(spec * gain, max(n, 2))[:n]
    return out / (np.sqrt(np.mean(out**2)) + 1e-12)


BLOCK_S = 0.02  # harmonic amplitudes are set every 20 ms and crossfaded in between


def block_starts(n: int, sr: int) -> np.ndarray:
    """Sample index of each amplitude block of ``harmonics`` (one more than needed, for the crossfade)."""
    step = max(1, int(BLOCK_S * sr))
    return np.minimum(np.arange(n // step + 2) * step, max(n - 1, 0))


def harmonics(
    f_inst: np.ndarray,
    sr: int,
    amps: np.ndarray,
    rng: np.random.Generator,
    decays: np.ndarray | None = None,
) -> np.ndarray:
    """Sum of harmonics k=1..K of a frequency track, by wavetable lookup.

    ``amps`` is (K,) or per block (len(block_starts), K); ``decays`` (K,) makes
    each harmonic decay exponentially. Harmonics above 0.45 sr are dropped
    block by block. One period per block is built with an inverse FFT and read
    at the running phase, so the cost does not grow with K.
    """
    n = len(f_inst)
    if n == 0:
        return np.zeros(0)
    step = max(1, int(BLOCK_S * sr))
    starts = block_starts(n, sr)
    k = np.arange(1, amps.shape[-1] + 1)
    table_amps = np.broadcast_to(amps, (len(starts), len(k))) * (
        k[None] * f_inst[starts][:, None] < 0.45 * sr
    )
    if decays is not None:
        table_amps = table_amps * np.exp(-(starts / sr)[:, None] / decays[None])
    size = max(64, 1 << int(np.ceil(np.log2(4 * len(k) + 4))))
    spec = np.zeros((len(starts), size // 2 + 1), dtype=np.complex128)
    spec[:, 1 : len(k) + 1] = (
        table_amps * np.exp(1j * (rng.uniform(0, 2 * np.pi, len(k)) - np.pi / 2)) * size / 2
    )
    tables = np.fft.irfft(spec, size, axis=1)
    pos = (np.cumsum(f_inst) / sr % 1.0) * size
    i0 = pos.astype(np.int64) % size
    i1 = (i0 + 1) % size
    frac = pos - np.floor(pos)
    b = np.arange(n) // step
    w = (np.arange(n) % step) / step
    v0 = tables[b, i0] * (1 - frac) + tables[b, i1] * frac
    v1 = tables[b + 1, i0] * (1 - frac) + tables[b + 1, i1] * frac
    return v0 * (1 - w) + v1 * w


def spectrum_amps(n_harm: int, tilt_db: float, odd: float = 0.0) -> np.ndarray:
    """Harmonic amplitudes falling ``tilt_db`` per octave; ``odd`` in [0,1] suppresses even ones."""
    k = np.arange(1, n_harm + 1)
    amps = 10 ** (tilt_db * np.log2(k) / 20)
    amps[1::2] *= 1 - odd
    return amps


def formant_gain(freqs: np.ndarray, formants: np.ndarray, bw: float = 90.0) -> np.ndarray:
    """Gain of a parallel bank of resonances (rows of ``formants``: F1..F3) at ``freqs``."""
    f = np.asarray(freqs, dtype=np.float64)[..., None]
    res = 1.0 / np.sqrt(1 + ((f - formants) / (bw * (1 + formants / 2000))) ** 2)
    return (res * np.array([1.0, 0.6, 0.3])).sum(-1)


def _pitch_track(p: dict, n: int, sr: int, f: float) -> np.ndarray:
    t = time_axis(n, sr)
    depth = p.get("vib_depth", 0.0)
    track = f * SEMITONE ** (depth * np.sin(2 * np.pi * p.get("vib_rate", 5.0) * t))
    if p.get("glide"):
        track = track * SEMITONE ** (p["glide"] * np.minimum(t / 0.08, 1.0) - p["glide"])
    return track


def kind_pluck(rng, p, n, sr, f):
    """Plucked/struck string: harmonics that decay faster the higher they are; chords with ``strum``."""
    amps = spectrum_amps(24, p["tilt"], p.get("odd", 0.0))
    decays = p["decay"] / np.arange(1, 25) ** p.get("bright", 0.5)
    out = np.zeros(n)
    for j in range(p.get("strum", 1)):
        lag = int(j * 0.015 * sr)
        if lag >= n:
            break
        fj = f * SEMITONE ** (0, 4, 7, 12)[j % 4]
        out[lag:] += harmonics(np.full(n - lag, fj), sr, amps, rng, decays)
    return out * ar_envelope(n, sr, 0.002, 0.03)


def kind_tone(rng, p, n, sr, f):
    """Sustained harmonic tone: vibrato, tremolo, chorus (detuned copy), breath noise, optional drone."""
    amps = spectrum_amps(20, p["tilt"], p.get("odd", 0.0))
    track = _pitch_track(p, n, sr, f)
    out = harmonics(track, sr, amps, rng)
    if p.get("chorus"):
        out += harmonics(track * 2 ** (p["chorus"] / 1200), sr, amps, rng)
    if p.get("drone"):
        out += 0.7 * harmonics(np.full(n, p["drone"]), sr, amps, rng)
    out /= np.sqrt(np.mean(out**2)) + 1e-12
    if p.get("breath"):
        out += p["breath"] * shaped_noise(rng, n, sr, fc=3 * f, bw=1.2)
    t = time_axis(n, sr)
    out *= 1 - p.get("trem", 0.0) * (0.5 + 0.5 * np.sin(2 * np.pi * p.get("trem_rate", 6.0) * t))
    return out * ar_envelope(n, sr, p.get("attack", 0.03), p.get("release", 0.05))


def kind_voice(rng, p, n, sr, f):
    """Voice-like: glottal harmonics through a random vowel's formants, an optional 'h' onset."""
    vowel = VOWELS[rng.integers(len(VOWELS))] * p.get("formant_scale", 1.0)
    k = np.arange(1, 40)
    amps = spectrum_amps(39, -12.0) * formant_gain(k * f, vowel)
    track = _pitch_track(p, n, sr, f) * SEMITONE ** (
        p.get("fall", 0.0) * -time_axis(n, sr) / (n / sr)
    )
    out = harmonics(track, sr, amps, rng)
    out /= np.sqrt(np.mean(out**2)) + 1e-12
    h = int(p.get("aspirate", 0.0) * n)
    if h:
        out[:h] = 0.6 * shaped_noise(rng, h, sr, fc=1500, bw=1.5)
    if p.get("breath"):
        out += p["breath"] * shaped_noise(rng, n, sr, fc=2500, bw=1.0)
    return out * ar_envelope(n, sr, p.get("attack", 0.02), p.get("release", 0.04))


def kind_noise(rng, p, n, sr, f):
    """Noise band around ``f``: amplitude modulation (regular or crackly), an optional sweep."""
    out = shaped_noise(rng, n, sr, fc=f, bw=p.get("bw", 1.0))
    t = time_axis(n, sr)
    if p.get("sweep"):  # a second band moving ``sweep`` octaves over the event, crossfaded in
        moved = shaped_noise(rng, n, sr, fc=f * 2 ** p["sweep"], bw=p.get("bw", 1.0))
        x = t / t[-1] if n > 1 else t
        out = out * (1 - x) + moved * x
    if p.get("am_rate"):
        out *= 1 - p.get("am_depth", 0.6) * (0.5 + 0.5 * np.sin(2 * np.pi * p["am_rate"] * t))
    if p.get("crackle"):
        gate = rng.random(n // 64 + 1) < p["crackle"]
        out *= 0.25 + np.repeat(gate, 64)[:n]
    return out * ar_envelope(n, sr, p.get("attack", 0.02), p.get("release", 0.1))


def kind_modal(rng, p, n, sr, f):
    """Struck object: a few exponentially decaying partials plus a short noise click."""
    ratios = np.asarray(p.get("ratios", (1.0, 2.76, 5.4)))
    t = time_axis(n, sr)
    decay = p["decay"]
    amps = 1 / (1 + np.arange(len(ratios)))
    modes = np.sin(2 * np.pi * f * ratios[:, None] * t + rng.uniform(0, 6.3, (len(ratios), 1)))
    out = (amps[:, None] * np.exp(-t[None] * ratios[:, None] ** 0.5 / decay) * modes).sum(0)
    click = p.get("click", 0.3)
    if click:
        out += (
            click
            * 3
            * shaped_noise(rng, n, sr, fc=p.get("click_fc", 3000), bw=1.0)
            * np.exp(-t / 0.006)
        )
    return out * ar_envelope(n, sr, 0.001, 0.01)


def kind_clicks(rng, p, n, sr, f):
    """A burst of short noise clicks (``clicks`` of them, ``click_rate`` per second) around ``f``."""
    out = np.zeros(n)
    n_clicks = int(rng.integers(*p.get("clicks", (1, 2))))
    length = max(8, int(p.get("decay", 0.004) * 6 * sr))
    shape = np.exp(-np.arange(length) / (p.get("decay", 0.004) * sr))
    for j in range(n_clicks):
        start = int(j / p.get("click_rate", 30.0) * sr * rng.uniform(0.7, 1.3))
        if start >= n:
            break
        seg = min(length, n - start)
        burst = shaped_noise(rng, seg, sr, fc=f * rng.uniform(0.8, 1.25), bw=p.get("bw", 0.7))
        out[start : start + seg] += rng.uniform(0.5, 1.0) * burst * shape[:seg]
    if p.get("body"):
        out += p["body"] * kind_modal(rng, {"decay": 0.06, "click": 0}, n, sr, p["body_f"])
    return out


def kind_chirp(rng, p, n, sr, f):
    """Pitch sweep of ``octaves`` over the event (positive rises, negative falls) with a few harmonics."""
    x = np.linspace(0, 1, n)
    track = f * 2 ** (p["octaves"] * x)
    amps = spectrum_amps(p.get("harm", 3), -9.0)
    return harmonics(track, sr, amps, rng) * np.sin(np.pi * x) ** 0.7


def kind_fm(rng, p, n, sr, f):
    """FM bell/gong: carrier ``f``, modulator f*ratio, index decaying faster than the amplitude."""
    t = time_axis(n, sr)
    index = p["index"] * np.exp(-t / (p["decay"] * 0.4))
    out = np.sin(2 * np.pi * f * t + index * np.sin(2 * np.pi * f * p["ratio"] * t))
    return out * np.exp(-t / p["decay"]) * ar_envelope(n, sr, 0.002, 0.05)


def kind_engine(rng, p, n, sr, f):
    """Engine/motor: a low buzzy harmonic tone with firing-rate AM and mechanical noise."""
    t = time_axis(n, sr)
    wobble = 1 + 0.02 * np.sin(2 * np.pi * rng.uniform(0.2, 0.8) * t)
    out = harmonics(f * wobble, sr, spectrum_amps(30, p.get("tilt", -4.0)), rng)
    out /= np.sqrt(np.mean(out**2)) + 1e-12
    out += p.get("noise", 0.5) * shaped_noise(rng, n, sr, fc=8 * f, bw=1.5)
    out *= 1 - 0.5 * (0.5 + 0.5 * np.sin(2 * np.pi * p["am_rate"] * t))
    return out * ar_envelope(n, sr, 0.2, 0.2)


def kind_drum(rng, p, n, sr, f):
    """One drum hit: kick (pitch-dropping sine), snare (noise + tone) or hi-hat, drawn at random."""
    t = time_axis(n, sr)
    which = rng.choice(3, p=(0.4, 0.35, 0.25))
    if which == 0:
        track = f * (1 + np.exp(-t / 0.02))
        return np.sin(2 * np.pi * np.cumsum(track) / sr) * np.exp(-t / 0.15)
    if which == 1:
        body = np.sin(2 * np.pi * 3 * f * t) * np.exp(-t / 0.05)
        return 0.5 * body + 0.6 * shaped_noise(rng, n, sr, fc=2500, bw=1.2) * np.exp(-t / 0.09)
    return 0.4 * shaped_noise(rng, n, sr, fc=7000, bw=0.5) * np.exp(-t / 0.03)


KINDS = {
    "pluck": kind_pluck,
    "tone": kind_tone,
    "voice": kind_voice,
    "noise": kind_noise,
    "modal": kind_modal,
    "clicks": kind_clicks,
    "chirp": kind_chirp,
    "fm": kind_fm,
    "engine": kind_engine,
    "drum": kind_drum,
}
