"""Each sampler keeps the promise its paper makes about its pairs, deterministically and resumably."""

import numpy as np
import pytest

from avlib.data.samplers.base import KINDS
from avlib.data.samplers.candidates import OffsetCandidatesSampler
from avlib.data.samplers.correspondence import AVCSampler
from avlib.data.samplers.shifts import AVTSSampler, Curriculum, ShiftedNegativeSampler
from avlib.errors import ConfigError

T = 100  # clip length in frames (4 s at 25 fps)


def _inside(w, video_frames, audio_frames):
    assert (w.video_start >= 0).all() and (w.video_start + video_frames <= T).all()
    assert (w.audio_start >= 0).all() and (w.audio_start + audio_frames <= T).all()


def test_avc_pairs_are_balanced_and_positives_centre_the_audio_on_the_frame():
    s = AVCSampler(10, T, video_frames=1, audio_frames=25, samples_per_epoch=200, seed=0)
    w = s.windows()
    _inside(w, 1, 25)
    assert w.label.sum() == 100
    pos, neg = w.label == 1, w.label == 0
    assert (w.audio_clip[pos] == w.video_clip[pos]).all()
    assert (w.audio_start[pos] == w.video_start[pos] - 12).all()  # audio [v-12, v+13) centred on v
    assert (w.audio_clip[neg] != w.video_clip[neg]).all()
    assert set(np.bincount(w.video_clip)) == {20}  # every clip equally often


def test_avts_hard_negatives_come_from_the_same_clip_shifted_at_least_the_minimum():
    s = AVTSSampler(
        8,
        T,
        window_frames=25,
        curriculum=Curriculum.constant(hard=1),
        min_hard_shift=13,
        samples_per_epoch=400,
    )
    w = s.windows()
    _inside(w, 25, 25)
    hard = w.kind == KINDS.index("hard")
    assert hard.sum() == 200 and (w.label[hard] == 0).all()
    assert (w.audio_clip[hard] == w.video_clip[hard]).all()
    assert (np.abs(w.audio_start - w.video_start)[hard] >= 13).all()
    assert (w.offset_frames[hard] == (w.audio_start - w.video_start)[hard]).all()
    assert (w.offset_frames[hard] > 0).any() and (w.offset_frames[hard] < 0).any()


def test_avts_superhard_negatives_overlap_the_true_window():
    s = AVTSSampler(
        8,
        T,
        window_frames=25,
        curriculum=Curriculum.constant(superhard=1),
        max_superhard_shift=5,
        samples_per_epoch=400,
    )
    w = s.windows()
    sh = w.kind == KINDS.index("superhard")
    shift = np.abs(w.audio_start - w.video_start)[sh]
    assert sh.sum() == 200 and (w.audio_clip[sh] == w.video_clip[sh]).all()
    assert ((shift >= 1) & (shift <= 5)).all()  # shifted, yet overlapping 20+ of 25 frames


def test_avts_easy_negatives_come_from_another_clip_and_positives_are_aligned():
    w = AVTSSampler(8, T, curriculum=Curriculum.constant(easy=1), samples_per_epoch=100).windows()
    easy, pos = w.kind == KINDS.index("easy"), w.label == 1
    assert (w.audio_clip[easy] != w.video_clip[easy]).all()
    assert (w.audio_clip[pos] == w.video_clip[pos]).all()
    assert (w.audio_start[pos] == w.video_start[pos]).all()


def test_avts_curriculum_is_easy_only_then_three_easy_to_one_hard():
    c = Curriculum.avts(epochs=90)
    assert c.mix(0) == c.mix(49) == {"easy": 1.0}
    assert c.mix(50) == c.mix(89) == {"easy": 3.0, "hard": 1.0}
    assert Curriculum.avts(epochs=9).mix(5) == {"easy": 3.0, "hard": 1.0}  # scaled: switch at 5
    s = AVTSSampler(8, T, curriculum=Curriculum.avts(epochs=4), samples_per_epoch=160)
    first, later = s.windows(0), s.windows(3)
    assert set(first.kind[first.label == 0]) == {KINDS.index("easy")}
    counts = np.bincount(later.kind[later.label == 0], minlength=4)
    assert (counts[1], counts[2]) == (60, 20)  # exactly 3:1 of the 80 negatives


def test_shifted_negative_sampler_uses_the_same_video_at_another_time():
    w = ShiftedNegativeSampler(
        5, T, window_frames=25, min_shift=25, samples_per_epoch=100
    ).windows()
    neg = w.label == 0
    assert (w.audio_clip == w.video_clip).all()
    assert (np.abs(w.audio_start - w.video_start)[neg] >= 25).all()  # no overlap at all
    assert (w.audio_start == w.video_start)[~neg].all()


def test_offset_candidates_are_distinct_inside_the_clip_with_the_truth_at_label():
    s = OffsetCandidatesSampler(6, T, n_candidates=40, max_offset=30, samples_per_epoch=300)
    w = s.windows()
    assert w.audio_start.shape == (300, 40)
    _inside(w, 5, 5)
    assert all(len(set(row)) == 40 for row in w.offset_frames)
    assert (np.abs(w.offset_frames) <= 30).all()
    rows = np.arange(300)
    assert (w.offset_frames[rows, w.label] == 0).all()
    assert (w.audio_start[rows, w.label] == w.video_start).all()
    assert (w.audio_clip == w.video_clip[:, None]).all()
    assert np.bincount(w.label, minlength=40).min() > 0  # the truth moves around


@pytest.mark.parametrize(
    "make",
    [
        lambda seed: AVCSampler(7, T, samples_per_epoch=50, seed=seed),
        lambda seed: AVTSSampler(
            7,
            T,
            curriculum=Curriculum.constant(easy=1, hard=1, superhard=1),
            samples_per_epoch=50,
            seed=seed,
        ),
        lambda seed: OffsetCandidatesSampler(
            7, T, n_candidates=8, max_offset=10, samples_per_epoch=50, seed=seed
        ),
    ],
    ids=["avc", "avts", "offsets"],
)
def test_same_seed_same_epochs_other_seed_or_epoch_differs(make):
    a, b, c = make(0), make(0), make(1)
    for epoch in (0, 3):
        assert np.array_equal(a.windows(epoch).audio_start, b.windows(epoch).audio_start)
    assert not np.array_equal(a.windows(0).audio_start, c.windows(0).audio_start)
    assert not np.array_equal(a.windows(0).audio_start, a.windows(1).audio_start)


def test_resume_mid_epoch_gives_the_same_remaining_sequence():
    def make():
        return AVTSSampler(
            9, T, curriculum=Curriculum.constant(easy=1, hard=1), samples_per_epoch=64, seed=5
        )

    straight = make()
    straight.set_epoch(2)
    expected = [straight.take(8).audio_start for _ in range(8)]
    first = make()
    first.set_epoch(2)
    first.take(8), first.take(8), first.take(8)
    state = first.state_dict()
    resumed = make()
    resumed.load_state_dict(state)
    rest = [resumed.take(8).audio_start for _ in range(5)]
    assert all(np.array_equal(x, y) for x, y in zip(rest, expected[3:], strict=True))
    assert len(resumed.take(8)) == 0  # the epoch is over


def test_resume_refuses_a_differently_configured_sampler():
    state = AVCSampler(9, T, seed=1).state_dict()
    with pytest.raises(ConfigError, match="sampler state"):
        AVCSampler(9, T, seed=2).load_state_dict(state)
    with pytest.raises(ConfigError, match="sampler state"):
        AVCSampler(10, T, seed=1).load_state_dict(state)


def test_impossible_configurations_raise_config_error():
    with pytest.raises(ConfigError, match="too short"):
        AVTSSampler(4, 30, window_frames=25, curriculum=Curriculum.constant(hard=1)).windows()
    with pytest.raises(ConfigError, match="overlap"):
        AVTSSampler(4, T, window_frames=5, max_superhard_shift=5)
    with pytest.raises(ConfigError, match="candidates"):
        OffsetCandidatesSampler(4, T, n_candidates=40, max_offset=10)
    with pytest.raises(ConfigError, match="at least 2 clips"):
        AVCSampler(1, T, samples_per_epoch=4).windows()


def test_same_group_negatives_share_the_positive_clips_group():
    from avlib.data.samplers.correspondence import AVCSampler

    groups = np.array([0, 0, 1, 1, 1, 2, 2, 0])
    s = AVCSampler(8, 20, video_frames=1, audio_frames=5, samples_per_epoch=400, groups=groups)
    w = s.windows(0)
    neg = w.label == 0
    assert (w.audio_clip[neg] != w.video_clip[neg]).all()
    assert (groups[w.audio_clip[neg]] == groups[w.video_clip[neg]]).all()
    assert s.config()["groups"] == 3


def test_a_group_of_one_clip_has_no_same_group_negative():
    from avlib.data.samplers.correspondence import AVCSampler
    from avlib.errors import ConfigError

    s = AVCSampler(3, 20, audio_frames=5, samples_per_epoch=50, groups=np.array([0, 0, 1]))
    with pytest.raises(ConfigError, match="group 1 has one clip"):
        s.windows(0)
