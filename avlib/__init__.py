"""avlib: the library behind avbook, a reproducibility study of five self-supervised
audio-visual learning papers (L3-Net, AVTS, Perfect Match, SoundNet, attention for sync).

Flow: data -> models -> train -> eval -> results -> notebooks -> book (ARCHITECTURE.md).
"""

__version__ = "0.1.0"
