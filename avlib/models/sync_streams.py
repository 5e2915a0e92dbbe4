"""SyncNet's two streams: the trunk of every Perfect Match family model (:mod:`avlib.models.sync`).

:class:`VideoStream` (5 grey mouth frames -> a 5x7x7 conv over (time, height,
width), four convs and three max-pools per frame, a conv spanning the map,
FC -> FC) and :class:`AudioStream` (13 MFCCs x 20 steps -> five 3x3 convs with
two max-pools, a (5, 1) conv, FC -> FC) are VGG-M-like as in SyncNet and fully
convolutional along time with exact windows: T video frames give T - 4
per-frame embeddings, audio of T + 2 frames the same T - 4. :func:`mouth_frames`
cuts the standardised grey mouth crop they see; ``WINDOW``, ``CONTEXT`` and
``MFCC_PER_FRAME`` fix the window geometry. No model is registered here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from avlib.data.features import MFCC

if TYPE_CHECKING:
    from avlib.models.sync import Config


WINDOW = 5  # video frames per feature (SyncNet: 5 frames = 0.2 s at 25 fps)
CONTEXT = 1  # audio frames of context on each side of a window (MFCC padding stays outside)
MFCC_PER_FRAME = 4  # 100 Hz MFCCs at 25 fps


def _conv(c_in: int, c_out: int, kernel, padding, stride=1) -> nn.Sequential:
    """conv -> BN -> ReLU (2-D)."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, kernel, stride, padding, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


def _pool() -> nn.MaxPool2d:
    return nn.MaxPool2d(3, 2, 1)


class _Head(nn.Module):
    """FC -> BN -> ReLU -> FC on every time position: (B, C, n) -> (B, n, D)."""

    def __init__(self, width: int, dim: int):
        super().__init__()
        self.fc7 = nn.Sequential(nn.Linear(width, width), nn.BatchNorm1d(width), nn.ReLU())
        self.fc8 = nn.Linear(width, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, n = x.shape
        rows = x.permute(0, 2, 1).reshape(b * n, c)
        return self.fc8(self.fc7(rows)).view(b, n, -1)


class VideoStream(nn.Module):
    """5 grey frames -> embedding; on T frames, T - 4 per-frame embeddings (B, T - 4, D).

    conv1 is SyncNet's 5x7x7 convolution over (time, height, width); it runs
    as a 2-D convolution over the 5 frames of each window stacked as channels
    (the same operation, 3x faster to train on a CPU than Conv3d), and every
    later layer works on each window's map as SyncNet's (1, k, k) convs do.
    """

    def __init__(self, cfg: Config):
        super().__init__()
        w = cfg.video_widths
        self.conv1 = nn.Sequential(_conv(WINDOW, w[0], 7, 3, 2), _pool())
        self.conv2 = nn.Sequential(_conv(w[0], w[1], 5, 2, 2), _pool())
        self.conv3 = _conv(w[1], w[2], 3, 1)
        self.conv4 = _conv(w[2], w[3], 3, 1)
        self.conv5 = nn.Sequential(_conv(w[3], w[4], 3, 1), _pool())
        with torch.no_grad():
            side = self._convs(torch.zeros(1, WINDOW, cfg.mouth_size, cfg.mouth_size))
        self.fc6 = _conv(w[4], w[5], tuple(side.shape[-2:]), 0)  # spans what is left of the map
        self.head = _Head(w[5], cfg.embed_dim)

    def _convs(self, x: torch.Tensor) -> torch.Tensor:
        for layer in (self.conv1, self.conv2, self.conv3, self.conv4, self.conv5):
            x = layer(x)
        return x

    def forward(self, mouth: torch.Tensor) -> torch.Tensor:
        """(B, 1, T, h, w) normalised grey mouth frames -> (B, T - 4, D)."""
        b, _, t, h, w = mouth.shape
        n = t - WINDOW + 1
        windows = mouth[:, 0].unfold(1, WINDOW, 1).permute(0, 1, 4, 2, 3)  # (B, n, 5, h, w)
        x = self.fc6(self._convs(windows.reshape(b * n, WINDOW, h, w)))
        return self.head(x.view(b, n, -1).transpose(1, 2))

    def taps(self) -> dict[str, nn.Module]:
        """conv1 ... conv5, fc6, fc7 by SyncNet's layer names."""
        names = ("conv1", "conv2", "conv3", "conv4", "conv5", "fc6")
        return {n: getattr(self, n) for n in names} | {"fc7": self.head.fc7}


class AudioStream(nn.Module):
    """MFCCs of 7 frames -> embedding; of T + 2 frames, T - 4 per-frame embeddings.

    Unpadded along time, two max-pools of stride 2 and a last conv one column
    wide: a receptive field of exactly 20 MFCC steps and a stride of 4 (one
    video frame), so running on a long strip equals running on each window.
    """

    def __init__(self, cfg: Config):
        super().__init__()
        w = cfg.audio_widths
        self.mfcc = MFCC(cfg.sr)
        self.conv1 = _conv(1, w[0], 3, (1, 0))
        self.conv2 = nn.Sequential(_conv(w[0], w[1], 3, (1, 0)), nn.MaxPool2d((3, 2), (1, 2)))
        self.conv3 = _conv(w[1], w[2], 3, (1, 0))
        self.conv4 = _conv(w[2], w[3], 3, (1, 0))
        self.conv5 = nn.Sequential(_conv(w[3], w[4], 3, (1, 0)), nn.MaxPool2d((3, 2), 2))
        self.fc6 = _conv(w[4], w[5], (5, 1), 0)
        self.head = _Head(w[5], cfg.embed_dim)

    def features(self, wave: torch.Tensor) -> torch.Tensor:
        """(B, S) waveform of n + 6 frames -> MFCCs (B, 1, 13, 4 (n + 4)) without the context."""
        cut = CONTEXT * MFCC_PER_FRAME
        return self.mfcc(wave)[..., cut:-cut]

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        """(B, S) waveform of T + 2 frames -> (B, T - 4, D)."""
        x = self.features(wave)
        for layer in (self.conv1, self.conv2, self.conv3, self.conv4, self.conv5, self.fc6):
            x = layer(x)
        return self.head(x.flatten(2))

    def taps(self) -> dict[str, nn.Module]:
        """conv1 ... conv5, fc6, fc7."""
        names = ("conv1", "conv2", "conv3", "conv4", "conv5", "fc6")
        return {n: getattr(self, n) for n in names} | {"fc7": self.head.fc7}


def mouth_frames(
    video: torch.Tensor, cfg: Config, jitter: bool = False, box: tuple | None = None
) -> torch.Tensor:
    """(B, 3, T, H, W) frames in [0, 1] -> (B, 1, T, s, s) standardised grey mouth crops.

    The crop is ``box`` or ``cfg.mouth_box`` (x, y, w, h as fractions of the
    frame), resized to ``mouth_size``; ``jitter`` shifts it by up to 1/16 of
    its side (one draw per batch).
    """
    b, c, t, h, w = video.shape
    x, y, bw, bh = box or cfg.mouth_box
    grey = (
        video
        if c == 1
        else (video * video.new_tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1, 1)).sum(
            1, keepdim=True
        )
    )
    x0, y0, cw, ch = round(x * w), round(y * h), max(1, round(bw * w)), max(1, round(bh * h))
    if jitter:
        pad = max(1, cw // 16)
        grey = F.pad(grey, (pad, pad, pad, pad, 0, 0), mode="replicate")
        dx, dy = torch.randint(0, 2 * pad + 1, (2,)).tolist()
        x0, y0 = x0 + dx, y0 + dy
    crop = grey[..., y0 : y0 + ch, x0 : x0 + cw]
    if crop.shape[-2:] != (cfg.mouth_size, cfg.mouth_size):
        frames = crop.permute(0, 2, 1, 3, 4).reshape(b * t, 1, *crop.shape[-2:])
        frames = F.interpolate(frames, size=(cfg.mouth_size,) * 2, mode="area")
        crop = frames.view(b, t, 1, cfg.mouth_size, cfg.mouth_size).permute(0, 2, 1, 3, 4)
    return (crop - 0.45) / 0.25
