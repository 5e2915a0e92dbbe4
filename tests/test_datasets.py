"""Batches gather exactly the windows the sampler names, in the documented shapes, resumably."""

import numpy as np
import pytest
import torch

from avlib.data.cache import DecodedCache
from avlib.data.datasets import Batches, clip_batches
from avlib.data.encode import write_video
from avlib.data.layouts import open_dataset
from avlib.data.samplers.candidates import OffsetCandidatesSampler
from avlib.data.samplers.correspondence import AVCSampler
from avlib.data.samplers.shifts import AVTSSampler, Curriculum
from avlib.errors import ConfigError
from tests import trees
from tests.mediafiles import frame_index, ramp_frames

FPS, SR, SECONDS, N_CLIPS = 25, 8000, 2.0, 5
T = round(FPS * SECONDS)
SPF = SR // FPS  # 320 audio samples per video frame


def _time_code(clip: int) -> np.ndarray:
    """Audio whose value says the clip and the time: 0.1 * (clip + 1) + 0.3 * t / SECONDS."""
    t = np.arange(round(SECONDS * SR)) / SR
    return (0.1 * (clip + 1) + 0.3 * t / SECONDS).astype(np.float32)


@pytest.fixture(scope="module")
def arrays(tmp_path_factory):
    """Lossless clips (frame k has red 5 k; audio is a time code) through the decoded cache."""
    root = tmp_path_factory.mktemp("flickr")
    for c in range(N_CLIPS):
        write_video(
            root / "videos" / f"c{c}.mkv",
            ramp_frames(T, 16, 16),
            FPS,
            _time_code(c),
            SR,
            lossless=True,
        )
    (root / "videos.txt").write_text("".join(f"videos/c{c}.mkv\n" for c in range(N_CLIPS)))
    cache = DecodedCache(tmp_path_factory.mktemp("cache"), workers=1)
    return cache.load(
        open_dataset(root), fps=FPS, size=(16, 16), sr=SR, dur_s=SECONDS, progress=False
    )


def _decode_audio(audio, clip_of):
    """(clip, start frame) the time-code audio windows came from."""
    first = audio[..., 0].numpy()
    t0 = (first - 0.1 * (clip_of + 1)) / 0.3 * SECONDS
    return np.round(t0 * FPS).astype(int)


def test_avc_batch_has_the_documented_shapes_and_content(arrays):
    sampler = AVCSampler(N_CLIPS, T, video_frames=1, audio_frames=25, samples_per_epoch=40, seed=0)
    batch = next(iter(Batches(arrays, sampler, 8)))
    assert batch["video"].shape == (8, 3, 1, 16, 16) and batch["video"].dtype == torch.float32
    assert batch["video"].min() >= 0 and batch["video"].max() <= 1
    assert batch["audio"].shape == (8, 25 * SPF) and batch["label"].dtype == torch.long
    assert batch["offset_frames"].shape == (8,) and len(batch["meta"]) == 8
    w = sampler.windows()[:8]
    frames = (batch["video"].permute(0, 2, 3, 4, 1).numpy() * 255).round().astype(np.uint8)
    assert np.array_equal(frame_index(frames[:, 0]), w.video_start)  # the frames the sampler named
    assert np.array_equal(_decode_audio(batch["audio"], w.audio_clip), w.audio_start)
    assert [m["video"] for m in batch["meta"]] == [f"videos/c{c}.mkv" for c in w.video_clip]


def test_avts_hard_negative_audio_is_the_same_clip_shifted(arrays):
    sampler = AVTSSampler(
        N_CLIPS,
        T,
        window_frames=10,
        curriculum=Curriculum.constant(hard=1),
        min_hard_shift=13,
        samples_per_epoch=20,
    )
    batch = next(iter(Batches(arrays, sampler, 20)))
    w = sampler.windows()
    starts = _decode_audio(batch["audio"], w.video_clip)  # decoded as if from the video's clip
    assert np.array_equal(starts, w.video_start + w.offset_frames)
    hard = np.array([m["kind"] == "hard" for m in batch["meta"]])
    assert (np.abs(batch["offset_frames"].numpy()[hard]) >= 13).all()
    assert batch["video"].shape == (20, 3, 10, 16, 16)


def test_offset_candidates_batch_stacks_k_audio_windows(arrays):
    sampler = OffsetCandidatesSampler(
        N_CLIPS, T, n_candidates=6, max_offset=8, samples_per_epoch=10
    )
    batch = next(iter(Batches(arrays, sampler, 10)))
    assert batch["audio"].shape == (10, 6, 5 * SPF) and batch["offset_frames"].shape == (10, 6)
    w = sampler.windows()
    starts = _decode_audio(batch["audio"], w.audio_clip)
    truth = starts[np.arange(10), batch["label"].numpy()]
    assert np.array_equal(truth, w.video_start)


def test_len_counts_the_batches_and_a_new_pass_replays_the_epoch(arrays):
    batches = Batches(arrays, AVCSampler(N_CLIPS, T, samples_per_epoch=30), 8)
    first = [b["meta"][0]["video_start_s"] for b in batches]
    again = [b["meta"][0]["video_start_s"] for b in batches]
    assert len(batches) == len(first) == 3 and first == again  # 30 // 8, last partial dropped
    assert (
        len(Batches(arrays, AVCSampler(N_CLIPS, T, samples_per_epoch=30), 8, drop_last=False)) == 4
    )


def test_resume_mid_epoch_yields_the_remaining_batches(arrays):
    def make():
        return Batches(
            arrays, AVTSSampler(N_CLIPS, T, window_frames=10, samples_per_epoch=48, seed=3), 8
        )

    straight = make()
    straight.set_epoch(1)
    expected = [b["audio"] for b in straight]
    interrupted = make()
    interrupted.set_epoch(1)
    it = iter(interrupted)
    next(it), next(it)
    state = interrupted.state_dict()
    resumed = make()
    resumed.load_state_dict(state)
    resumed.set_epoch(1)  # the trainer's loop calls this; it keeps the restored position
    rest = [b["audio"] for b in resumed]
    assert len(rest) == 4 and all(
        torch.equal(x, y) for x, y in zip(rest, expected[2:], strict=True)
    )


def test_ranks_split_the_batches_between_them(arrays):
    def starts(rank):
        sampler = AVCSampler(N_CLIPS, T, samples_per_epoch=40, seed=1)
        return [
            tuple(b["offset_frames"].tolist() + [m["video_start_s"] for m in b["meta"]])
            for b in Batches(arrays, sampler, 4, rank=rank, world_size=2)
        ]

    single = [
        tuple(b["offset_frames"].tolist() + [m["video_start_s"] for m in b["meta"]])
        for b in Batches(arrays, AVCSampler(N_CLIPS, T, samples_per_epoch=40, seed=1), 4)
    ]
    assert starts(0) == single[0::2] and starts(1) == single[1::2]


def test_clip_batches_serve_whole_audio_clips_with_class_labels(tmp_path):
    root = trees.esc50(tmp_path / "esc")
    arrays = DecodedCache(tmp_path / "cache", workers=1).load(
        open_dataset(root), sr=8000, dur_s=1.0, progress=False
    )
    batches = clip_batches(arrays, 4)
    got = list(batches)
    assert [b["audio"].shape for b in got] == [(4, 8000), (2, 8000)]
    assert torch.cat([b["label"] for b in got]).tolist() == arrays.labels.tolist()
    assert "video" not in got[0]


def test_mismatched_sampler_is_refused(arrays):
    with pytest.raises(ConfigError, match="sampler is for"):
        Batches(arrays, AVCSampler(N_CLIPS + 1, T), 4)


def test_hand_built_lrw_tree_flows_to_offset_candidate_batches(tmp_path):
    root = trees.lrw(tmp_path / "lrw", words=("ABOUT", "WORLD"), per_split=1, media=True)
    index = open_dataset(root)
    arrays = DecodedCache(tmp_path / "cache", workers=1).load(
        index, fps=25, size=(16, 16), sr=16000, dur_s=1.16, progress=False
    )
    assert len(arrays) == 6 and arrays.classes == ["ABOUT", "WORLD"] and not arrays.skipped
    sampler = OffsetCandidatesSampler(6, 29, n_candidates=5, max_offset=6, samples_per_epoch=6)
    batch = next(iter(Batches(arrays, sampler, 6)))
    assert batch["video"].shape == (6, 3, 5, 16, 16) and batch["audio"].shape == (6, 5, 5 * 640)
    words = clip_batches(arrays, 6)
    assert next(iter(words))["label"].tolist() == [0, 0, 0, 1, 1, 1]


def test_image_folders_batch_as_one_frame_videos(tmp_path):
    from avlib.data.encode import write_image

    for k, cls in enumerate(("cat", "dog")):
        write_image(tmp_path / "img" / "train" / cls / "a.png", ramp_frames(2, 12, 12)[k])
    arrays = DecodedCache(tmp_path / "cache", workers=1).load(
        open_dataset(tmp_path / "img"), size=8, progress=False
    )
    batch = next(iter(clip_batches(arrays, 2)))
    assert batch["video"].shape == (2, 3, 1, 8, 8) and batch["label"].tolist() == [0, 1]
