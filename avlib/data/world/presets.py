"""World presets: how big the generated world is and how hard its tasks are.

A preset is a frozen dataclass of sizes (clip counts, durations, resolution,
sample rate) and difficulty knobs (signal-to-noise ratios, distractor
probabilities, within-class variation). ``quick`` is the calibrated one: its
knobs were tuned so that the papers' comparisons land between chance and
~95% on a 2-core CPU (see ``calibrate.py`` and the 00_world notebook). With
``bed_snr_db=(0, 15)`` and ``pitch_spread=1.25`` (seed 0), MFCC + linear SVM
on the ESC analogue measured 47.5% (the paper's MFCC baseline on ESC-50:
39.6%) and a small log-mel CNN 81%; at (3, 18) dB and 1.0 they were 56% and
~90%. Scene recipes were widened until MFCC + SVM on the DCASE analogue fell
from 95% to 73% (real DCASE 2013 MFCC baselines: ~55-77%).

Audio rate: 22,050 Hz for smoke and quick (SoundNet's rate; the world's
sources sit mostly below 8 kHz, only sibilant and hi-hat noise tails are cut at
11 kHz), 44,100 Hz for full (ESC-50's native rate). Readers resample to each model's rate (L3: 48 kHz).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from avlib.errors import ConfigError


@dataclass(frozen=True)
class WorldPreset:
    """Sizes and difficulty knobs of one generated world."""

    name: str
    size: int  # video frame and image side, pixels
    sr: int  # audio sample rate, Hz
    fps: int = 25  # video frame rate (every data set, as LRS2/LRW)
    # ESC-50 analogue: 50 classes x sources x takes, 5 s clips, 5 folds (a source stays in one fold)
    esc_sources_per_class: int = 10  # a multiple of 5 puts every class in every fold equally
    esc_takes_per_source: int = 2
    # DCASE 2013 analogue: 10 scenes x clips, stereo
    dcase_per_class: int = 10
    dcase_clip_s: float = 10.0  # the real data set has 30 s clips
    # Kinetics-Sounds analogue: 34 classes
    ks_per_class: tuple[int, int, int] = (60, 4, 4)  # train, val, test
    ks_clip_s: int = 3  # whole seconds (time_end - time_start in the csv)
    # share of Kinetics-Sounds clips whose ambient bed is of a scene drawn independently of the
    # background (0: the bed always matches the picture, as in most real videos; then a pure
    # scene matcher solves much of AVC). Every clip's bed is its own recording either way.
    ks_bed_scene_independent: float = 0.5
    flickr_clips: int = 500
    flickr_clip_s: float = 3.0
    audioset_clips: int = 300  # half speech, half impacts
    audioset_clip_s: int = 4  # whole seconds; >= 3 chunks of 25 frames for the attention paper
    # the attention paper's chunk (25 frames at 25 fps); a clip holds clip_s / chunk_s chunks, and
    # speech (or impacts) sound in only some: one central chunk (inside every window one chunk
    # shorter than the clip) and more drawn at random, between these counts in all
    audioset_chunk_s: float = 1.0
    audioset_event_chunks: tuple[int, int] = (1, 2)
    lrs2_utterances: tuple[int, int, int, int] = (40, 200, 40, 60)  # pretrain, train, val, test
    lrs2_utt_per_id: int = 4  # utterances per LRS2 <id> (one speaker session)
    # main/ utterances last at least this long: a +-15-frame offset search over a 15-frame
    # context of 5-frame windows needs >= 50 frames (Perfect Match's protocol, PAPERS.md §3)
    lrs2_min_s: float = 2.6
    # the sync test sets (lrs2_sync/, and lrs2_sync_30fps/ re-encoded at 30 fps and 44.1 kHz):
    # test speakers with the audio shifted by each of these offsets (frames at 25 fps)
    sync_offsets: tuple[int, ...] = tuple(range(-10, 11))
    sync_clips_per_offset: int = 3
    lrw_words: int = 24
    lrw_per_word: tuple[int, int, int] = (20, 4, 4)
    ucf_groups: int = 8  # UCF "groups" (same actor and place); splits hold out blocks of groups
    ucf_clips_per_group: int = 3
    ucf_clip_s: float = 2.6
    # HMDB51 analogue: the same actions under HMDB's lower-case names, every clip its own actor
    # and scene, half of them with a silent moving distractor (HMDB is the harder set); 70/30
    # train/test splits of 90 % of each class, the rest marked 0 (unused), as HMDB's split files
    hmdb_clips_per_class: int = 20
    hmdb_clip_s: float = 2.0
    hmdb_p_distractor: float = 0.5
    images_per_class: tuple[int, int] = (30, 10)  # train, val, for imagenet and places
    # difficulty knobs
    bed_snr_db: tuple[float, float] = (0.0, 15.0)  # sounding source over the ambient bed
    noise_snr_db: tuple[float, float] = (15.0, 35.0)  # mix over additive white noise
    speech_snr_db: tuple[float, float] = (10.0, 25.0)  # speech over the room bed
    offscreen_snr_db: tuple[float, float] = (3.0, 12.0)  # on-screen source over an off-screen one
    p_offscreen: float = 0.35  # a clip also has an off-screen sound
    p_silent_distractor: float = 0.5  # a clip has a silent moving object
    max_silent_distractors: int = 2
    camera_jitter_px: float = 1.5  # std of the per-frame camera shake
    p_camera_jitter: float = 0.5
    pitch_spread: float = 1.25  # scales each class's pitch range around its centre
    rate_spread: float = 1.0  # scales each class's event-rate range around its centre
    take_jitter: float = 0.04  # relative jitter between takes of one ESC source
    n_speakers: int = 40

    def with_overrides(self, **knobs) -> WorldPreset:
        """A copy with some knobs replaced (unknown names raise ConfigError)."""
        unknown = set(knobs) - set(self.__dataclass_fields__)
        if unknown:
            raise ConfigError(f"unknown world preset knobs: {', '.join(sorted(unknown))}")
        return replace(self, **knobs)


PRESETS: dict[str, WorldPreset] = {
    "smoke": WorldPreset(
        name="smoke",
        size=64,
        sr=22050,
        esc_sources_per_class=2,
        esc_takes_per_source=1,
        dcase_per_class=5,
        dcase_clip_s=4.0,
        ks_per_class=(1, 1, 1),
        ks_clip_s=2,
        flickr_clips=16,
        flickr_clip_s=2.0,
        audioset_clips=16,
        audioset_clip_s=3,
        lrs2_utterances=(4, 12, 4, 4),
        lrs2_utt_per_id=2,
        sync_offsets=(-4, 0, 4),
        sync_clips_per_offset=1,
        lrw_words=6,
        lrw_per_word=(3, 1, 1),
        ucf_groups=4,
        ucf_clips_per_group=1,
        ucf_clip_s=2.0,
        hmdb_clips_per_class=3,  # per class: 2 train, 1 test in each split
        hmdb_clip_s=1.6,
        images_per_class=(3, 1),
        n_speakers=8,
    ),
    "quick": WorldPreset(name="quick", size=96, sr=22050),
    "full": WorldPreset(
        name="full",
        size=128,
        sr=44100,
        esc_sources_per_class=20,
        esc_takes_per_source=2,
        dcase_clip_s=30.0,
        ks_per_class=(120, 15, 15),
        ks_clip_s=4,
        flickr_clips=6000,
        flickr_clip_s=4.0,
        audioset_clips=3000,
        audioset_clip_s=6,
        lrs2_utterances=(600, 2400, 300, 300),
        lrs2_utt_per_id=6,
        lrw_words=60,
        lrw_per_word=(80, 10, 10),
        ucf_groups=25,
        ucf_clips_per_group=4,
        ucf_clip_s=3.2,
        hmdb_clips_per_class=60,
        hmdb_clip_s=3.2,
        images_per_class=(200, 40),
        n_speakers=200,
    ),
}


def get_preset(preset: str | WorldPreset) -> WorldPreset:
    """The named preset (or the given one), with a ConfigError listing the choices."""
    if isinstance(preset, WorldPreset):
        return preset
    if preset not in PRESETS:
        raise ConfigError(f"unknown world preset {preset!r}: choose one of {', '.join(PRESETS)}")
    return PRESETS[preset]
