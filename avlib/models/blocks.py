"""Building blocks shared by the paper models: VGG-style conv towers and input normalisation."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

# ImageNet statistics: frames in [0, 1] are standardised with them (all five papers do so).
FRAME_MEAN = (0.485, 0.456, 0.406)
FRAME_STD = (0.229, 0.224, 0.225)


def normalise_frames(frames: torch.Tensor) -> torch.Tensor:
    """Standardise (B,C,...) RGB frames in [0,1] with ImageNet mean and std."""
    shape = (1, 3) + (1,) * (frames.dim() - 2)
    mean = frames.new_tensor(FRAME_MEAN).view(shape)
    std = frames.new_tensor(FRAME_STD).view(shape)
    return (frames - mean) / std


def cosine_map(vision_map: torch.Tensor, audio_emb: torch.Tensor) -> torch.Tensor:
    """Cosine similarity of (B,D) audio embeddings with every location of (B,D,h,w) maps: (B,h,w)."""
    return torch.einsum(
        "bdhw,bd->bhw", F.normalize(vision_map, dim=1), F.normalize(audio_emb, dim=1)
    )


def conv_bn_relu(c_in: int, c_out: int, dims: int = 2, kernel=3, stride=1) -> nn.Sequential:
    """conv (same padding) -> BN -> ReLU, in 2-D or 3-D."""
    conv, bn = (nn.Conv2d, nn.BatchNorm2d) if dims == 2 else (nn.Conv3d, nn.BatchNorm3d)
    pad = tuple(k // 2 for k in kernel) if isinstance(kernel, tuple) else kernel // 2
    return nn.Sequential(
        conv(c_in, c_out, kernel, stride, pad, bias=False), bn(c_out), nn.ReLU(inplace=True)
    )


class ConvTower(nn.Module):
    """L3's tower: blocks of (conv3x3-BN-ReLU)x2, 2x2 max-pool after the first ``pools`` blocks
    (default: all but the last, as L3).

    Blocks are named ``block1`` ... ``blockN`` so probes can tap them by name.
    """

    def __init__(
        self, in_channels: int, widths: tuple[int, ...], dims: int = 2, pools: int | None = None
    ):
        super().__init__()
        pool = nn.MaxPool2d(2) if dims == 2 else nn.MaxPool3d((1, 2, 2))
        pools = len(widths) - 1 if pools is None else pools  # L3: after blocks 1-3
        c = in_channels
        for i, w in enumerate(widths, start=1):
            layers = [conv_bn_relu(c, w, dims), conv_bn_relu(w, w, dims)]
            if i <= pools:
                layers.append(pool)
            self.add_module(f"block{i}", nn.Sequential(*layers))
            c = w
        self.out_channels = c

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The last block's feature map (before global pooling)."""
        for block in self.children():
            x = block(x)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Globally max-pooled features (B, out_channels)."""
        return self.features(x).flatten(2).amax(dim=2)
