"""The procedural audio-visual world: real media files in the real data sets' layouts.

No real audio-visual data set can be downloaded where avbook is built, so
this package synthesises one: 50 sound classes (34 bound to visual object
families with Kinetics-Sounds names), 10 acoustic scenes, talking faces with
a formant synthesiser, 12 motion classes, impacts, and distractors, written
as mp4/wav/png in the layouts of ESC-50, DCASE 2013, Kinetics-Sounds,
Flickr-SoundNet, AudioSet, LRS2, LRW, UCF101, ImageNet and Places, with
ground truth (boxes, event times, offsets, phones) in ``avbook_truth.jsonl``.

Public API: ``generate_world``, ``ensure_world``, ``PRESETS``/``get_preset``,
``DATASETS``; difficulty measurements live in ``avlib.data.world.calibrate``.
"""

from avlib.data.world.generate import GENERATOR_VERSION, ensure_world, generate_world, read_manifest
from avlib.data.world.layouts import DATASETS
from avlib.data.world.presets import PRESETS, WorldPreset, get_preset

__all__ = [
    "DATASETS",
    "GENERATOR_VERSION",
    "PRESETS",
    "WorldPreset",
    "ensure_world",
    "generate_world",
    "get_preset",
    "read_manifest",
]
