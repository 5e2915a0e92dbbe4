"""Audio front-ends as ``nn.Module``s that run on a batch on the training device.

Input is a float waveform batch (B, S) in [-1, 1] at the module's ``sr``;
outputs are (B, 1, F, T) time-frequency maps or a (B, 1, S) waveform, the
shapes the papers' audio networks take.
"""

from __future__ import annotations

import math

import torch
import torchaudio
from torch import nn
from torch.nn import functional as F


class L3LogSpectrogram(nn.Module):
    """L3-Net's input: log power spectrogram of Hann windows with half overlap, no centre padding.

    At 48 kHz with the paper's 0.01 s windows a window is 480 samples, the hop
    240 and the FFT 512 points, so 1 s gives 257 x 199 (PAPERS.md, L3). At
    other rates the FFT is the next power of two of the window. With
    ``n_mels`` the same power spectrogram is pooled into that many mel bands
    before the log (the CPU presets: a few linear bins at 16 kHz would lump
    every low-pitched source together).
    """

    def __init__(
        self, sr: int = 48000, window_s: float = 0.01, n_mels: int | None = None, eps: float = 1e-10
    ):
        super().__init__()
        win = round(window_s * sr)
        n_fft = 2 ** math.ceil(math.log2(win))
        # torch centres a short window inside the n_fft frame: pad so windows start at 0, hop, ...
        self.pad = ((n_fft - win) // 2, n_fft - win - (n_fft - win) // 2)
        self.spec = torchaudio.transforms.Spectrogram(
            n_fft=n_fft, win_length=win, hop_length=win // 2, center=False, power=2.0
        )
        self.mel = (
            torchaudio.transforms.MelScale(n_mels, sr, f_min=20.0, n_stft=n_fft // 2 + 1)
            if n_mels
            else None
        )
        self.sr, self.n_fft, self.eps = sr, n_fft, eps

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        """(B, S) -> (B, 1, n_fft // 2 + 1 or n_mels, frames)."""
        power = self.spec(F.pad(audio, self.pad))
        if self.mel is not None:
            power = self.mel(power)
        return torch.log(power + self.eps).unsqueeze(1)


class LogMel(nn.Module):
    """Log mel spectrogram (AVTS's audio input): ``n_mels`` bands, 25 ms windows, 10 ms hop."""

    def __init__(
        self,
        sr: int = 16000,
        n_mels: int = 64,  # PAPERS.md gives no band count for AVTS: ours
        window_s: float = 0.025,
        hop_s: float = 0.01,
        eps: float = 1e-6,
    ):
        super().__init__()
        win = round(window_s * sr)
        self.hop = round(hop_s * sr)
        self.mel = torchaudio.transforms.MelSpectrogram(
            sample_rate=sr,
            n_fft=2 ** math.ceil(math.log2(win)),
            win_length=win,
            hop_length=self.hop,
            n_mels=n_mels,
            center=True,
            power=2.0,
        )
        self.eps = eps

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        """(B, S) -> (B, 1, n_mels, S // hop): frame t is centred on sample t * hop."""
        mel = self.mel(audio)[..., : audio.shape[-1] // self.hop]
        return torch.log(mel + self.eps).unsqueeze(1)


class MFCC(nn.Module):
    """SyncNet's audio input: 13 MFCCs at 100 Hz (25 ms windows, 10 ms hop), 20 steps per 0.2 s."""

    def __init__(self, sr: int = 16000, n_mfcc: int = 13, n_mels: int = 40):
        super().__init__()
        win, self.hop = round(0.025 * sr), round(0.01 * sr)
        self.mfcc = torchaudio.transforms.MFCC(
            sample_rate=sr,
            n_mfcc=n_mfcc,
            melkwargs={
                "n_fft": 2 ** math.ceil(math.log2(win)),
                "win_length": win,
                "hop_length": self.hop,
                "n_mels": n_mels,
                "center": True,
            },
        )

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        """(B, S) -> (B, 1, n_mfcc, S // hop): 4 steps per video frame at 25 fps."""
        return self.mfcc(audio)[..., : audio.shape[-1] // self.hop].unsqueeze(1)


class SoundNetWaveform(nn.Module):
    """SoundNet's input: the waveform at 22,050 Hz scaled to [-256, 256], as (B, 1, S)."""

    def __init__(self, sr: int = 22050, sr_out: int = 22050):
        super().__init__()
        self.sr, self.sr_out = sr, sr_out

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        """(B, S) at ``sr`` -> (B, 1, S * sr_out / sr) in [-256, 256]."""
        if self.sr != self.sr_out:
            audio = torchaudio.functional.resample(audio, self.sr, self.sr_out)
        return (256.0 * audio.clamp(-1.0, 1.0)).unsqueeze(1)
