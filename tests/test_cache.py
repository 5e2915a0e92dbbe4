"""The decoded cache returns what the decoder returns, decodes once, and notices stale or corrupt rows."""

import json
import shutil

import numpy as np
import pytest

import avlib.data.cache as cache_module
from avlib.data.cache import DecodedCache
from avlib.data.encode import write_image, write_video
from avlib.data.layouts import open_dataset
from avlib.data.media import load_audio, load_image, load_video
from avlib.errors import ConfigError
from tests import trees
from tests.mediafiles import ramp_frames, tone

SETTINGS = {"fps": 10, "size": (16, 24), "sr": 8000, "dur_s": 1.0}


def _clips(folder, n=4, seconds=1.2):
    """A Flickr-style tree of n H.264/AAC clips, clip k with tone 300 + 100 k Hz and offset ramps."""
    paths = []
    for k in range(n):
        frames = np.roll(ramp_frames(round(seconds * 25)), k, axis=2)
        paths.append(
            write_video(
                folder / "videos" / f"c{k}.mp4",
                frames,
                25,
                tone(300 + 100 * k, seconds, 16000),
                16000,
            )
        )
    (folder / "videos.txt").write_text("".join(f"videos/c{k}.mp4\n" for k in range(n)))
    return open_dataset(folder)


def test_cached_arrays_equal_direct_decoding(tmp_path):
    index = _clips(tmp_path / "d")
    arrays = DecodedCache(tmp_path / "cache", workers=1).load(index, **SETTINGS, progress=False)
    assert arrays.frames.shape == (4, 10, 16, 24, 3) and arrays.audio.shape == (4, 8000)
    for k, item in enumerate(index.items):
        assert np.array_equal(
            arrays.frames[k], load_video(item.path, 0, 1.0, fps=10, size=(16, 24))
        )
        direct = load_audio(item.path, 0, 1.0, sr=8000)
        assert np.abs(arrays.waveform(k) - direct).max() <= arrays.audio_scale[k]  # int16 rounding


def test_second_load_reads_arrays_without_decoding(tmp_path, monkeypatch):
    index = _clips(tmp_path / "d")
    cache = DecodedCache(tmp_path / "cache", workers=1)
    first = cache.load(index, **SETTINGS, progress=False)
    monkeypatch.setattr(cache_module, "_decode", lambda job: pytest.fail(f"decoded {job[2]}"))
    again = cache.load(index, **SETTINGS, progress=False)
    assert np.array_equal(np.asarray(again.frames), np.asarray(first.frames))
    moved = tmp_path / "moved"
    shutil.copytree(tmp_path / "d", moved)
    assert len(cache.load(open_dataset(moved), **SETTINGS, progress=False)) == 4  # same content


def test_a_load_with_nothing_to_decode_rewrites_no_manifest(tmp_path):
    """Reading a warm cache writes nothing: the manifests (1.5 MB each in the quick world) were
    rewritten on every load, 2.0 s for a chapter's three splits, 0.4 s without."""
    index = _clips(tmp_path / "d")
    cache = DecodedCache(tmp_path / "cache", workers=1)
    cache.load(index, **SETTINGS, progress=False)
    files = sorted((tmp_path / "cache").glob("**/*.json"))
    assert len(files) >= 3  # the content keys and a manifest per table
    stamps = [f.stat().st_mtime_ns for f in files]
    cache.load(index, **SETTINGS, progress=False)
    assert [f.stat().st_mtime_ns for f in files] == stamps


def test_changed_file_content_is_decoded_again_in_its_row(tmp_path):
    index = _clips(tmp_path / "d")
    cache = DecodedCache(tmp_path / "cache", workers=1)
    cache.load(index, **SETTINGS, progress=False)
    changed = index.items[1].path
    write_video(changed, np.full((30, 32, 48, 3), 200, np.uint8), 25, tone(1000, 1.2, 16000), 16000)
    arrays = cache.load(index, **SETTINGS, progress=False)
    assert np.abs(arrays.frames[1].astype(int) - 200).max() <= 3
    manifest = json.loads(next((tmp_path / "cache").glob("video-*/manifest.json")).read_text())
    assert manifest["n_rows"] == 4 and len(manifest["entries"]) == 4  # the stale row was reused


def test_other_settings_make_another_table(tmp_path):
    index = _clips(tmp_path / "d", n=2)
    cache = DecodedCache(tmp_path / "cache", workers=1)
    cache.load(index, **SETTINGS, progress=False)
    other = cache.load(index, **{**SETTINGS, "size": (8, 8), "sr": 4000}, progress=False)
    assert other.frames.shape == (2, 10, 8, 8, 3) and other.audio.shape == (2, 4000)
    assert len(list((tmp_path / "cache").glob("video-*"))) == 2
    assert len(list((tmp_path / "cache").glob("audio-*"))) == 2


def test_corrupted_row_is_detected_and_rebuilt(tmp_path):
    index = _clips(tmp_path / "d", n=2)
    cache = DecodedCache(tmp_path / "cache", workers=1)
    good = np.asarray(cache.load(index, **SETTINGS, progress=False).frames)
    data = next((tmp_path / "cache").glob("video-*/data.bin"))
    raw = bytearray(data.read_bytes())
    raw[100:110] = bytes(10)
    data.write_bytes(raw)
    arrays = cache.load(index, **SETTINGS, progress=False)
    assert np.array_equal(np.asarray(arrays.frames), good)
    assert any("corrupted row" in n for n in arrays.notes)


@pytest.mark.parametrize("damage", ["manifest", "data"])
def test_corrupted_table_files_are_detected_and_rebuilt(tmp_path, damage):
    index = _clips(tmp_path / "d", n=2)
    cache = DecodedCache(tmp_path / "cache", workers=1)
    good = np.asarray(cache.load(index, **SETTINGS, progress=False).frames)
    table = next((tmp_path / "cache").glob("video-*"))
    if damage == "manifest":
        (table / "manifest.json").write_text('{"entries": [1, 2')
    else:
        (table / "data.bin").write_bytes(b"short")
    arrays = cache.load(index, **SETTINGS, progress=False)
    assert np.array_equal(np.asarray(arrays.frames), good)
    assert any("corrupted manifest or data file" in n for n in arrays.notes)


def test_undecodable_items_are_listed_skips_and_not_retried(tmp_path, monkeypatch):
    index = _clips(tmp_path / "d", n=3)
    write_video(index.items[0].path, ramp_frames(5), 25)  # 0.2 s, no audio
    index.items[2].path.write_bytes(b"garbage" * 50)
    cache = DecodedCache(tmp_path / "cache", workers=1)
    arrays = cache.load(index, **SETTINGS, progress=False)
    assert [i.rel for i in arrays.items] == ["videos/c1.mp4"]
    reasons = {s.path.split("/")[-1]: s.reason for s in arrays.skipped}
    assert (
        reasons["c0.mp4"].startswith("TooShortError") and "MissingStreamError" in reasons["c0.mp4"]
    )
    assert reasons["c2.mp4"].startswith("MediaError") and "corrupted" in reasons["c2.mp4"]
    monkeypatch.setattr(cache_module, "_decode", lambda job: pytest.fail("retried a failure"))
    assert len(cache.load(index, **SETTINGS, progress=False).skipped) == 2


def test_index_skips_are_carried_into_the_arrays(tmp_path):
    root = trees.esc50(tmp_path / "esc")
    (root / "audio" / "3-500-A-2.wav").unlink()
    arrays = DecodedCache(tmp_path / "cache", workers=1).load(
        open_dataset(root), sr=8000, dur_s=0.5, progress=False
    )
    assert arrays.frames is None and len(arrays) == 5
    assert [s.reason for s in arrays.skipped] == ["missing file"]
    assert arrays.classes == ["dog", "rain", "crow"] and list(arrays.labels) == [0, 0, 1, 0, 1]


def test_parallel_build_equals_serial_build(tmp_path):
    index = _clips(tmp_path / "d", n=4)
    serial = DecodedCache(tmp_path / "c1", workers=1).load(index, **SETTINGS, progress=False)
    parallel = DecodedCache(tmp_path / "c2", workers=2).load(index, **SETTINGS, progress=False)
    assert np.array_equal(np.asarray(serial.frames), np.asarray(parallel.frames))
    assert np.array_equal(np.asarray(serial.audio), np.asarray(parallel.audio))


def test_row_view_indexes_like_an_item_array(tmp_path):
    arrays = DecodedCache(tmp_path / "cache", workers=1).load(
        _clips(tmp_path / "d"), **SETTINGS, progress=False
    )
    full = np.asarray(arrays.frames)
    idx, t = np.array([3, 0, 3]), np.array([[1, 2], [0, 1], [5, 6]])
    assert np.array_equal(arrays.frames[idx[:, None], t], full[idx[:, None], t])
    assert np.array_equal(arrays.frames[1:3], full[1:3])
    assert np.array_equal(arrays.frames[2, 4], full[2, 4])


def test_missing_settings_raise_config_error(tmp_path):
    with pytest.raises(ConfigError):
        DecodedCache(tmp_path).load([], dur_s=1.0)
    with pytest.raises(ConfigError, match="explicit size"):
        DecodedCache(tmp_path).load([], dur_s=1.0, fps=25)


def test_window_must_be_whole_frames(tmp_path):
    with pytest.raises(ConfigError, match="whole number of frames"):
        DecodedCache(tmp_path).load([], dur_s=1.5, fps=25, size=8)


def test_still_images_are_cached_as_one_frame_clips(tmp_path):
    for split, cls, k in (("train", "cat", 0), ("train", "dog", 1), ("val", "cat", 2)):
        write_image(tmp_path / "img" / split / cls / f"{k}.png", ramp_frames(3, 20, 30)[k])
    index = open_dataset(tmp_path / "img")
    arrays = DecodedCache(tmp_path / "cache", workers=1).load(index, size=(10, 15), progress=False)
    assert arrays.frames.shape == (3, 1, 10, 15, 3) and arrays.audio is None
    assert list(arrays.labels) == [0, 1, 0]
    assert np.array_equal(arrays.frames[0, 0], load_image(index.items[0].path, (10, 15)))


def test_files_gone_since_indexing_are_skipped(tmp_path):
    index = _clips(tmp_path / "d", n=2)
    index.items[0].path.unlink()
    arrays = DecodedCache(tmp_path / "cache", workers=1).load(index, **SETTINGS, progress=False)
    assert len(arrays) == 1 and [s.reason for s in arrays.skipped] == ["missing file"]


def test_a_full_disk_while_decoding_is_a_storage_error_and_the_next_build_is_right(
    tmp_path, monkeypatch
):
    import os

    from avlib.errors import StorageError
    from tests.fulldisk import pwrite_failing_on

    index = _clips(tmp_path / "d", n=3)
    reference = DecodedCache(tmp_path / "ref", workers=1).load(index, **SETTINGS, progress=False)
    cache = DecodedCache(tmp_path / "cache", workers=1)
    with monkeypatch.context() as m:
        m.setattr(os, "pwrite", pwrite_failing_on("data.bin"))
        with pytest.raises(StorageError, match=r"data.bin: no space left on device while writing"):
            cache.load(index, **SETTINGS, progress=False)
    again = cache.load(index, **SETTINGS, progress=False)  # space again: rebuilt, not corrupt
    assert not again.skipped
    assert np.array_equal(np.asarray(again.frames), np.asarray(reference.frames))
    assert np.array_equal(np.asarray(again.audio), np.asarray(reference.audio))


def test_cache_info_reports_tables_and_clear_empties_the_directory(tmp_path, capsys):
    from avlib.cli import main

    index = _clips(tmp_path / "d", n=2)
    cache = DecodedCache(tmp_path / "cache", workers=1)
    cache.load(index, **SETTINGS, progress=False)
    info = {t["table"].split("-")[0]: t for t in cache.info()}
    assert set(info) == {"video", "audio"} and info["video"]["entries"] == 2
    assert info["video"]["bytes"] >= 2 * 10 * 16 * 24 * 3  # two rows of 10 frames at 16 x 24
    assert main(["cache", "info", "--dir", str(tmp_path / "cache")]) == 0
    assert "2/2 rows" in capsys.readouterr().out
    assert main(["cache", "clear", "--dir", str(tmp_path / "cache")]) == 0
    assert "cleared" in capsys.readouterr().out
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [".lock"]
    assert len(cache.load(index, **SETTINGS, progress=False)) == 2  # rebuilt on next use
