"""Feature front-ends: the papers' shapes, and known signals land where they should."""

import numpy as np
import pytest
import torch

from avlib.data.features import MFCC, L3LogSpectrogram, LogMel, SoundNetWaveform
from tests.mediafiles import peak_hz, tone


def _tones(freqs, sr, dur_s=1.0):
    return torch.from_numpy(np.stack([tone(f, dur_s, sr) for f in freqs]))


@pytest.mark.parametrize(("sr", "bins"), [(48000, 257), (16000, 129), (24000, 129)])
def test_l3_spectrogram_is_bins_x_199_per_second(sr, bins):
    assert L3LogSpectrogram(sr)(torch.zeros(2, sr)).shape == (2, 1, bins, 199)


def test_l3_spectrogram_peaks_at_the_tones_bin():
    spec = L3LogSpectrogram(48000)(_tones([1500, 6000], 48000))
    peaks = spec.mean(dim=-1)[:, 0].argmax(dim=-1)
    assert peaks.tolist() == [round(1500 / (48000 / 512)), round(6000 / (48000 / 512))]


def test_l3_spectrogram_windows_start_at_sample_zero():
    """An impulse at sample 100 is seen by windows 0 (0..479) and not by window 2 (480..959)."""
    x = torch.zeros(1, 48000)
    x[0, 100] = 1.0
    energy = L3LogSpectrogram(48000)(x)[0, 0].exp().sum(dim=0)
    assert energy[0] > 1e-3 and energy[2] < 1e-6


def test_log_mel_shape_and_band_order():
    mel = LogMel(16000, n_mels=40)(_tones([300, 3000], 16000))
    assert mel.shape == (2, 1, 40, 100)
    low, high = mel.mean(dim=-1)[:, 0].argmax(dim=-1).tolist()
    assert low < high


def test_mfcc_is_13_by_20_per_fifth_of_a_second():
    mfcc = MFCC(16000)
    assert mfcc(torch.zeros(3, 3200)).shape == (3, 1, 13, 20)
    assert mfcc(torch.randn(1, 16000) * 0.1).shape == (1, 1, 13, 100)  # 100 Hz
    a, b = mfcc(_tones([200, 2000], 16000))[:, 0].mean(-1)
    assert not torch.allclose(a, b, atol=1.0)  # different spectra, different cepstra


def test_soundnet_waveform_is_scaled_to_plus_minus_256():
    x = torch.tensor([[1.0, -1.0, 0.5, 2.0]])
    assert SoundNetWaveform()(x).tolist() == [[[256.0, -256.0, 128.0, 256.0]]]


def test_soundnet_waveform_resamples_to_22050_keeping_the_tone():
    out = SoundNetWaveform(sr=16000)(_tones([440], 16000))
    assert out.shape == (1, 1, 22050) and out.abs().max() <= 256
    assert abs(peak_hz(out[0, 0].numpy(), 22050) - 440) < 2


def test_front_ends_run_on_a_batch_on_the_device():
    device = "cuda" if torch.cuda.is_available() else "cpu"
    x = torch.randn(4, 16000, device=device) * 0.1
    for module in (L3LogSpectrogram(16000), LogMel(16000), MFCC(16000), SoundNetWaveform(16000)):
        out = module.to(device)(x)
        assert out.device.type == device and out.shape[0] == 4 and torch.isfinite(out).all()
