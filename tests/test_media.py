"""avlib.data.media decodes what avlib.data.encode (PyAV) wrote: exact for lossless, close for H.264/AAC."""

import numpy as np
import pytest
import soundfile as sf

from avlib.data.encode import write_audio, write_image, write_video
from avlib.data.media import load_audio, load_image, load_video, probe
from avlib.errors import (
    ConfigError,
    MediaError,
    MissingStreamError,
    NonFiniteError,
    TooShortError,
)
from tests.mediafiles import flash_click, frame_index, onset_s, peak_hz, ramp_frames, tone

FPS, SR = 25, 16000


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """A lossless mkv and a world-style H.264/AAC mp4 of the same 2 s: ramps + a 440 Hz tone."""
    d = tmp_path_factory.mktemp("media")
    frames, audio = ramp_frames(2 * FPS), tone(440, 2.0, SR)
    return {
        "frames": frames,
        "audio": audio,
        "mkv": write_video(d / "exact.mkv", frames, FPS, audio, SR, lossless=True),
        "mp4": write_video(d / "world.mp4", frames, FPS, audio, SR),
    }


def test_lossless_video_round_trip_is_exact(clips):
    assert np.array_equal(load_video(clips["mkv"]), clips["frames"])


def test_lossless_audio_round_trip_is_within_16_bit_quantisation(clips):
    np.testing.assert_allclose(load_audio(clips["mkv"]), clips["audio"], atol=1 / 32767)


def test_h264_frames_are_close_and_in_order(clips):
    video = load_video(clips["mp4"])
    err = np.abs(video.astype(int) - clips["frames"])
    assert video.shape == clips["frames"].shape
    assert err.mean() < 3 and np.percentile(err, 99) < 16
    assert np.array_equal(frame_index(video), np.arange(2 * FPS))


def test_aac_tone_is_close_away_from_the_first_frame(clips):
    audio = load_audio(clips["mp4"])
    assert audio.shape == clips["audio"].shape
    middle = slice(SR // 10, -SR // 10)
    err = audio[middle] - clips["audio"][middle]
    # the world's AAC (96 kb/s, fast coder) is lossy: ~4% relative RMS error on a 440 Hz tone
    assert np.sqrt((err**2).mean() / (clips["audio"][middle] ** 2).mean()) < 0.06
    assert abs(peak_hz(audio, SR) - 440) < 2
    window = load_audio(clips["mp4"], start_s=1.0, dur_s=0.5)
    np.testing.assert_allclose(window, audio[SR : SR + SR // 2], atol=1e-4)  # a window = the slice


@pytest.mark.parametrize("kind", ["mkv", "mp4"])
def test_window_returns_the_frames_on_screen(clips, kind):
    video = load_video(clips[kind], start_s=0.4, dur_s=0.8)
    assert np.array_equal(frame_index(video), np.arange(10, 30))
    between = load_video(clips[kind], start_s=0.42, dur_s=0.2, fps=FPS)  # 0.42 s shows frame 10
    assert np.array_equal(frame_index(between), np.arange(10, 15))


@pytest.mark.parametrize(
    ("fps", "expected"),
    [(10, [0, 2, 5, 7, 10, 12, 15, 17, 20, 22]), (50, np.repeat(np.arange(5), 2))],
    ids=["down-10fps", "up-50fps"],
)
def test_frame_rate_conversion_picks_frames_by_timestamp(clips, fps, expected):
    n = len(expected)
    video = load_video(clips["mkv"], dur_s=n / fps, fps=fps)
    assert np.array_equal(frame_index(video), expected)


def test_resize_is_explicit_and_keeps_content(clips):
    video = load_video(clips["mkv"], dur_s=0.2, size=(16, 24))
    assert video.shape == (5, 16, 24, 3)
    assert np.array_equal(frame_index(video), np.arange(5))
    assert abs(video[..., 1].mean() - clips["frames"][:5, ..., 1].mean()) < 3


def test_resampled_tone_keeps_its_frequency_and_length(clips):
    audio = load_audio(clips["mp4"], start_s=0.5, dur_s=1.0, sr=22050)
    assert audio.shape == (22050,)
    assert abs(peak_hz(audio, 22050) - 440) < 2


@pytest.mark.parametrize("lossless", [True, False], ids=["lossless", "h264-aac"])
@pytest.mark.parametrize("offset_s", [0.0, 0.2, -0.12])
def test_audio_video_offset_survives_decoding(tmp_path, lossless, offset_s):
    frames, audio = flash_click(3 * FPS, FPS, SR, flash_frame=30, offset_s=offset_s)
    path = write_video(tmp_path / "sync.mkv", frames, FPS, audio, SR, lossless=lossless)
    video, sound = load_video(path, fps=FPS), load_audio(path)
    flash_s = np.argmax(video.reshape(len(video), -1).mean(axis=1)) / FPS
    tolerance = 1e-4 if lossless else 1e-3  # measured: AAC in mp4 keeps alignment to the sample
    assert abs(onset_s(sound, SR) - flash_s - offset_s) < tolerance


@pytest.mark.parametrize("subtype", ["PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"])
def test_wav_sample_formats_decode_to_float_in_range(tmp_path, subtype):
    x = tone(1000, 0.5, 8000)
    path = write_audio(tmp_path / f"{subtype}.wav", x, 8000, subtype=subtype)
    y = load_audio(path)
    atol = {"PCM_U8": 1 / 64, "PCM_16": 1 / 16384}.get(subtype, 1e-6)
    assert y.dtype == np.float32 and y.shape == x.shape
    np.testing.assert_allclose(y, x, atol=atol)


def test_stereo_44k1_mixes_to_mono_and_resamples(tmp_path):
    x = tone(440, 1.0, 44100, channels=2)
    path = write_audio(tmp_path / "stereo.flac", x, 44100)
    both = load_audio(path, mono=False)
    assert both.shape == (2, 44100)
    mono = load_audio(path, sr=16000)
    assert mono.shape == (16000,)
    assert abs(peak_hz(mono, 16000) - 440) < 2
    assert abs(np.abs(mono).max() - 0.5 * (0.5 + 0.25)) < 0.01  # the mean of the two channels


def test_probe_reports_streams_and_rates(clips, tmp_path):
    info = probe(clips["mp4"])
    assert (info.has_video, info.has_audio, info.fps, info.frames, info.sr) == (
        True,
        True,
        25.0,
        50,
        SR,
    )
    assert (info.width, info.height, info.channels) == (48, 32, 1)
    assert info.duration_s == pytest.approx(2.0, abs=0.05)
    wav = probe(write_audio(tmp_path / "a.wav", tone(100, 0.25, 44100, channels=2), 44100))
    assert (wav.has_video, wav.sr, wav.channels, wav.duration_s) == (False, 44100, 2, 0.25)


def test_image_decodes_to_rgb(tmp_path):
    img = ramp_frames(1, 20, 30)[0]
    path = write_image(tmp_path / "img.png", img)
    assert np.array_equal(load_image(path), img)
    assert load_image(path, size=10).shape == (10, 10, 3)


# --- edge cases: each raises a typed error that names the file ---------------------------


def _raises(error, path, fn, *args, **kwargs):
    with pytest.raises(error) as info:
        fn(path, *args, **kwargs)
    assert str(path) in str(info.value)
    return info.value


def test_empty_and_missing_files_raise_media_error(tmp_path):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    for fn in (probe, load_video, load_audio):
        assert "empty" in str(_raises(MediaError, empty, fn))
    _raises(MediaError, tmp_path / "nope.wav", load_audio)


def test_garbage_and_truncated_mp4_raise_media_error(clips, tmp_path):
    data = clips["mp4"].read_bytes()
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"not a video " * 100)
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(data[: len(data) // 2])
    for path in (garbage, truncated):
        for fn in (probe, load_video, load_audio):
            _raises(MediaError, path, fn)


def test_truncated_faststart_mp4_is_not_read_as_a_short_clip(clips, tmp_path):
    import av

    faststart = tmp_path / "faststart.mp4"
    with (
        av.open(str(clips["mp4"])) as src,
        av.open(str(faststart), "w", options={"movflags": "faststart"}) as dst,
    ):
        streams = {s.index: dst.add_stream_from_template(s) for s in src.streams}
        for packet in src.demux():
            if packet.dts is not None:
                packet.stream = streams[packet.stream.index]
                dst.mux(packet)
    data = faststart.read_bytes()
    faststart.write_bytes(data[: int(len(data) * 0.6)])
    assert probe(faststart).duration_s == pytest.approx(2.0, abs=0.05)  # the header still says 2 s
    for fn in (load_video, load_audio):
        error = _raises(MediaError, faststart, fn)
        assert not isinstance(error, TooShortError)


def test_missing_streams_raise_missing_stream_error(tmp_path):
    video_only = write_video(tmp_path / "silent.mp4", ramp_frames(5), FPS)
    _raises(MissingStreamError, video_only, load_audio)
    assert not probe(video_only).has_audio
    wav = write_audio(tmp_path / "a.wav", tone(440, 0.2, SR), SR)
    _raises(MissingStreamError, wav, load_video)


def test_window_past_the_end_raises_too_short(clips, tmp_path):
    _raises(TooShortError, clips["mp4"], load_video, start_s=1.5, dur_s=1.0)
    _raises(TooShortError, clips["mp4"], load_audio, start_s=1.5, dur_s=1.0)
    short = write_audio(tmp_path / "short.wav", tone(440, 0.1, SR), SR)
    _raises(TooShortError, short, load_audio, dur_s=1.0)
    nothing = tmp_path / "zero.wav"
    sf.write(str(nothing), np.zeros(0, np.float32), SR, subtype="PCM_16")
    _raises(TooShortError, nothing, load_audio)


def test_nan_samples_raise_non_finite_error(tmp_path):
    x = tone(440, 0.5, SR)
    x[100] = np.nan
    path = write_audio(tmp_path / "nan.wav", x, SR, subtype="FLOAT", finite=False)
    _raises(NonFiniteError, path, load_audio)
    assert load_audio(path, start_s=0.25).shape == (SR // 4,)  # a window without the NaN is fine


def test_bad_arguments_raise_config_error(clips):
    for kwargs in ({"start_s": -1.0}, {"dur_s": 0.0}, {"fps": 0}, {"size": (0, 4)}):
        with pytest.raises(ConfigError):
            load_video(clips["mkv"], **kwargs)


def test_whole_file_at_another_rate_covers_the_duration(clips):
    video = load_video(clips["mp4"], fps=10)
    assert len(video) == 20  # 2 s at 10 fps
    assert np.array_equal(frame_index(video), np.floor(np.arange(20) * 2.5).astype(int))
    tail = load_video(clips["mkv"], start_s=1.5)
    assert np.array_equal(frame_index(tail), np.arange(38, 50))
