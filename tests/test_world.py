"""The procedural world: layouts, protocol rules, media validity, ground truth, determinism, speed."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import time
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from avlib.data.world import DATASETS, generate_world, get_preset, read_manifest
from avlib.data.world.sounds import CLASS_NAMES, ESC10, FINE_PAIRS, KINETICS_SOUNDS
from avlib.errors import ConfigError
from avlib.eval.calibration import (
    decode_mp4,
    esc_mfcc_svm,
    mouth_sync_table,
    mouth_tracks,
    read_truth,
)

SMOKE = get_preset("smoke")
SUBSET = "esc50,lrw,kinetics_sounds,imagenet"


@pytest.fixture(scope="session")
def smoke_world(tmp_path_factory) -> tuple[Path, float]:
    """The smoke world, generated once on 2 workers: (root, seconds)."""
    out = tmp_path_factory.mktemp("world") / "smoke"
    started = time.perf_counter()
    generate_world("smoke", out=out, seed=0, workers=2, progress=False)
    return out, time.perf_counter() - started


def _csv_rows(path: Path) -> list[dict]:
    with open(path) as f:
        return list(csv.DictReader(f))


def _mp4s(root: Path) -> list[Path]:
    return sorted(root.rglob("*.mp4"))


def test_class_inventory_matches_the_papers():
    assert len(CLASS_NAMES) == len(set(CLASS_NAMES)) == 50
    assert len(KINETICS_SOUNDS) == 34 and len(ESC10) == 10
    assert {"blowing nose", "bowling", "playing xylophone", "tap dancing"} <= set(KINETICS_SOUNDS)
    assert all(a in CLASS_NAMES and b in CLASS_NAMES for a, b in FINE_PAIRS)


def test_smoke_generation_is_complete(smoke_world):
    # its wall time is measured by `make bench` (a timed test fails on a busy machine)
    root, _ = smoke_world
    manifest = read_manifest(root)
    assert set(manifest["datasets"]) == set(DATASETS)
    assert manifest["preset"] == "smoke" and manifest["seed"] == 0
    assert all(manifest["counts"][d] > 0 for d in DATASETS)
    assert not (root / ".staging").exists()


def test_second_call_finds_the_manifest_and_writes_nothing(smoke_world):
    root, _ = smoke_world
    stamp = (root / "manifest.json").stat().st_mtime_ns
    started = time.perf_counter()
    generate_world("smoke", out=root, seed=0, progress=False)
    assert time.perf_counter() - started < 10.0  # no regeneration (that takes minutes)
    assert (root / "manifest.json").stat().st_mtime_ns == stamp


def test_esc50_layout_and_fold_rule(smoke_world):
    root = smoke_world[0] / "esc50"
    with open(root / "meta" / "esc50.csv") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["filename", "fold", "target", "category", "esc10", "src_file", "take"]
    folds_of_source: dict[str, set] = {}
    for r in rows:
        m = re.fullmatch(r"([1-5])-(\d+)-([A-Z])-(\d+)\.wav", r["filename"])
        assert m, r["filename"]
        assert (m[1], m[2], m[3], m[4]) == (r["fold"], r["src_file"], r["take"], r["target"])
        assert r["esc10"] in ("True", "False")
        folds_of_source.setdefault(r["src_file"], set()).add(r["fold"])
        info = sf.info(root / "audio" / r["filename"])
        assert (info.samplerate, info.channels, info.subtype) == (SMOKE.sr, 1, "PCM_16")
        assert abs(info.duration - 5.0) < 1e-3
    assert all(len(f) == 1 for f in folds_of_source.values()), "a source spans folds"
    assert {r["fold"] for r in rows} == {"1", "2", "3", "4", "5"}
    assert len({r["category"] for r in rows}) == 50


def test_dcase_ucf_and_image_layouts(smoke_world):
    world = smoke_world[0]
    wavs = sorted((world / "dcase2013" / "scenes_stereo").glob("*.wav"))
    assert len(wavs) == 10 * SMOKE.dcase_per_class
    for w in wavs:
        assert re.fullmatch(r"[a-z]+\d\d\.wav", w.name)
        assert sf.info(w).channels == 2
    ucf = world / "ucf101"
    classes = [
        line.split()
        for line in (ucf / "ucfTrainTestlist" / "classInd.txt").read_text().splitlines()
    ]
    for k in (1, 2, 3):
        train = [
            line.split()
            for line in (ucf / f"ucfTrainTestlist/trainlist0{k}.txt").read_text().splitlines()
        ]
        test = (ucf / f"ucfTrainTestlist/testlist0{k}.txt").read_text().splitlines()
        assert train and test and not {t[0] for t in train} & set(test)
        groups_train = {re.search(r"_g(\d\d)_", t[0])[1] for t in train}
        assert not groups_train & {re.search(r"_g(\d\d)_", t)[1] for t in test}, (
            "a group spans train and test"
        )
        for rel, idx in train:
            assert (ucf / "UCF-101" / rel).is_file() and classes[int(idx) - 1][1] == rel.split("/")[
                0
            ]
    for name, n_classes in (("imagenet", 34), ("places", 10)):
        for split in ("train", "val"):
            dirs = [d for d in (world / name / split).iterdir() if d.is_dir()]
            assert len(dirs) == n_classes
            png = next(dirs[0].glob("*.png"))
            assert Image.open(png).size == (SMOKE.size, SMOKE.size)


def test_video_layouts_list_exactly_their_files(smoke_world):
    world = smoke_world[0]
    ks = world / "kinetics_sounds"
    with open(ks / "kinetics_sounds.csv") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["label", "youtube_id", "time_start", "time_end", "split"]
    listed = {
        f"{r['split']}/{r['label']}/{r['youtube_id']}_{int(r['time_start']):06d}_{int(r['time_end']):06d}.mp4"
        for r in rows
    }
    assert listed == {str(p.relative_to(ks)) for p in _mp4s(ks)}
    assert {r["label"] for r in rows} == set(KINETICS_SOUNDS)
    fl = world / "flickr_soundnet"
    assert set((fl / "videos.txt").read_text().split()) == {
        str(p.relative_to(fl)) for p in _mp4s(fl)
    }
    aset = world / "audioset"
    labels = {r["mid"]: r["display_name"] for r in _csv_rows(aset / "class_labels_indices.csv")}
    segments = []
    for split in ("balanced_train", "eval"):
        lines = (aset / f"{split}_segments.csv").read_text().splitlines()
        assert all(line.startswith("#") for line in lines[:3]) and "YTID" in lines[2]
        for row in csv.reader(lines[3:], skipinitialspace=True):
            assert set(row[3].split(",")) <= set(labels)
            segments.append(
                f"clips/{row[0]}_{int(float(row[1]) * 1000)}_{int(float(row[2]) * 1000)}.mp4"
            )
    assert set(segments) == {str(p.relative_to(aset)) for p in _mp4s(aset)}
    lrs2 = world / "lrs2"
    listed = []
    for split in ("pretrain", "train", "val", "test"):
        folder = "pretrain" if split == "pretrain" else "main"
        listed += [f"{folder}/{line}.mp4" for line in (lrs2 / f"{split}.txt").read_text().split()]
    assert sorted(listed) == [str(p.relative_to(lrs2)) for p in _mp4s(lrs2)]
    for mp4 in _mp4s(lrs2):
        assert mp4.with_suffix(".txt").read_text().startswith("Text:  ")
    for mp4 in _mp4s(world / "lrw"):
        word, split = mp4.parent.parent.name, mp4.parent.name
        assert split in ("train", "val", "test") and re.fullmatch(rf"{word}_\d{{5}}\.mp4", mp4.name)
        text = mp4.with_suffix(".txt").read_text()
        assert text.startswith(f"Text:  {word}\n") and re.search(
            r"Duration: \d\.\d\d seconds", text
        )


def test_mp4s_decode_with_the_promised_streams(smoke_world):
    world = smoke_world[0]
    for mp4 in _mp4s(world):
        transcoded = mp4.is_relative_to(world / "lrs2_sync_30fps")  # 30 fps, 44.1 kHz on purpose
        fps, sr = (30, 44_100) if transcoded else (25, SMOKE.sr)
        with av.open(str(mp4)) as c:
            v, a = c.streams.video[0], c.streams.audio[0]
            assert (v.codec_context.name, v.codec_context.pix_fmt, int(v.average_rate)) == (
                "h264",
                "yuv420p",
                fps,
            )
            assert (a.codec_context.name, a.rate, a.codec_context.channels) == ("aac", sr, 1)
            assert (v.codec_context.width, v.codec_context.height) == (SMOKE.size, SMOKE.size)
    frames, audio, sr, fps = decode_mp4(_mp4s(world / "kinetics_sounds")[0])
    assert len(frames) == int(fps * 2) and abs(len(audio) / sr - len(frames) / fps) < 0.05


def test_truth_covers_every_media_file_and_is_consistent(smoke_world):
    world = smoke_world[0]
    for name in DATASETS:
        root = world / name
        truth = read_truth(root)
        media = {
            str(p.relative_to(root)) for ext in ("*.wav", "*.mp4", "*.png") for p in root.rglob(ext)
        }
        assert set(truth) == media, name
        for rel, rec in truth.items():
            assert rec["labels"] or (name == "flickr_soundnet" and rec["scene"]), rel
            if not rel.endswith(".mp4"):
                continue
            frames, audio, sr, fps = decode_mp4(
                root / rel
            )  # a full decode: every packet must decode
            n_frames = len(frames)
            assert abs(len(audio) / sr - n_frames / fps) < 0.06, rel
            assert len(rec["boxes"]) == n_frames, rel
            for frame_boxes in rec["boxes"]:
                for x0, y0, x1, y1 in frame_boxes:
                    assert 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1, rel
            assert all(0 <= t <= n_frames / fps for t in rec["events_s"]), rel
            if name.startswith("lrs2_sync"):  # the sync test sets: shifted on purpose
                assert round(rec["offset_s"] * 25) in SMOKE.sync_offsets, rel
            else:
                assert rec["offset_s"] == 0.0


def test_ids_and_names_do_not_leak_class_or_order(smoke_world):
    world = smoke_world[0]
    ks = _csv_rows(world / "kinetics_sounds" / "kinetics_sounds.csv")
    flickr = (world / "flickr_soundnet" / "videos.txt").read_text().split()
    images = [p.stem for p in (world / "imagenet").rglob("*.png")]
    names = [r["youtube_id"] for r in ks] + flickr + images
    lowered = [n.lower() for n in names]
    for cls in CLASS_NAMES:
        assert not any(cls.replace(" ", "") in n for n in lowered), cls
    esc = _csv_rows(world / "esc50" / "meta" / "esc50.csv")
    src_rank = np.argsort(np.argsort([r["src_file"] for r in esc]))
    assert abs(np.corrcoef(src_rank, [int(r["target"]) for r in esc])[0, 1]) < 0.3
    durations = {
        len(read_truth(world / "kinetics_sounds")[k]["boxes"])
        for k in read_truth(world / "kinetics_sounds")
    }
    assert durations == {SMOKE.ks_clip_s * 25}, "clip length depends on the class"


def test_generation_is_deterministic_and_seed_dependent(smoke_world, tmp_path):
    root = smoke_world[0]
    again = generate_world(
        "smoke", out=tmp_path / "again", seed=0, only=SUBSET, workers=1, progress=False
    )
    first, second = read_manifest(root), read_manifest(again)
    for name in SUBSET.split(","):
        assert first["datasets"][name]["digest"] == second["datasets"][name]["digest"], name
    for wav in sorted((root / "esc50" / "audio").glob("*.wav"))[:20]:
        assert wav.read_bytes() == (again / "esc50" / "audio" / wav.name).read_bytes()
    mp4 = _mp4s(root / "lrw")[0]
    assert np.array_equal(
        decode_mp4(mp4)[0], decode_mp4(again / "lrw" / mp4.relative_to(root / "lrw"))[0]
    )
    other = generate_world("smoke", out=tmp_path / "other", seed=1, only="esc50", progress=False)
    assert (
        read_manifest(other)["datasets"]["esc50"]["digest"] != first["datasets"]["esc50"]["digest"]
    )


def test_unknown_data_set_or_preset_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="unknown data sets"):
        generate_world("smoke", out=tmp_path, only="esc51")
    with pytest.raises(ConfigError, match="unknown world preset"):
        generate_world("fast", out=tmp_path)


def test_mouth_follows_speech_and_nothing_else_does(smoke_world):
    table = mouth_sync_table(smoke_world[0] / "lrs2", max_clips=12)
    assert (table["best_lag"].abs() <= 1).mean() >= 0.75
    assert table["mouth_corr_at_true"].median() > 0.3
    assert table["mouth_corr_at_true"].median() > table["mouth_corr_max_other"].median() + 0.15
    assert table["outside_corr_at_true"].abs().median() < 0.15


def test_sync_test_sets_shift_the_audio_by_their_truth_at_25_and_30_fps(smoke_world):
    world = smoke_world[0]
    for name, fps in (("lrs2_sync", 25), ("lrs2_sync_30fps", 30)):
        table = mouth_sync_table(world / name, max_lag=8)
        offsets = sorted(round(o * 25) for o in (read_truth(world / name)[r]["offset_s"] for r in
                                                 table["path"]))  # fmt: skip
        assert offsets == sorted(SMOKE.sync_offsets * SMOKE.sync_clips_per_offset), name
        assert sorted(set(table["true_lag"])) == sorted({round(o * fps / 25) for o in offsets})
        assert (table["best_lag"] - table["true_lag"]).abs().max() <= 1, (name, table)
    same = [sorted(read_truth(world / n)) for n in ("lrs2_sync", "lrs2_sync_30fps")]
    assert same[0] == same[1], "the 30 fps set re-encodes the same clips"
    texts = (world / "lrs2_sync" / "test.txt").read_text().split()
    assert sorted(f"main/{t}.mp4" for t in texts) == same[0]


def test_lrs2_main_utterances_are_long_enough_for_the_sync_protocol(smoke_world):
    truth = read_truth(smoke_world[0] / "lrs2")
    frames = [len(r["boxes"]) for rel, r in truth.items() if rel.startswith("main/")]
    assert min(frames) >= round(SMOKE.lrs2_min_s * 25) >= 50


def test_mouth_peak_moves_with_a_known_audio_offset(tmp_path):
    from avlib.data.encode import write_video
    from avlib.data.world import compose_talking
    from avlib.data.world.common import rng_for
    from avlib.data.world.layouts import speaker_for

    words = ["MONEY", "PAPER", "FAMILY", "SUMMER", "WATER", "POLICE"]
    clip = compose_talking.talking_clip(
        rng_for(3, "test"), SMOKE, speaker_for(3, 0), words, offset_s=0.2
    )
    write_video(tmp_path / "late.mp4", clip.frames, 25, clip.audio, SMOKE.sr)
    frames, audio, sr, fps = decode_mp4(tmp_path / "late.mp4")
    tracks = mouth_tracks(frames, clip.truth["boxes"], audio, sr, fps)
    lags = range(-8, 9)
    corr = [
        np.corrcoef(
            tracks["opening"][max(0, -k) : len(frames) - max(0, k)],
            tracks["envelope"][max(0, k) : len(frames) - max(0, -k)],
        )[0, 1]
        for k in lags
    ]
    assert clip.truth["offset_s"] == 0.2
    assert abs(list(lags)[int(np.argmax(corr))] - 5) <= 1


def test_mfcc_calibration_runs_and_returns_fold_tables(smoke_world):
    table = esc_mfcc_svm(smoke_world[0] / "esc50")
    assert list(table["fold"]) == [1, 2, 3, 4, 5]
    assert table["accuracy"].between(0, 1).all()
    manifest = json.loads((smoke_world[0] / "manifest.json").read_text())
    assert manifest["counts"]["esc50"] == table["n_test"].sum()


def test_writers_round_trip_and_leave_nothing_behind_on_error(tmp_path):
    from avlib.data.encode import write_audio, write_video
    from avlib.errors import MediaError

    sr, ramp = 22050, np.linspace(-0.9, 0.9, 2205, dtype=np.float32)
    write_audio(tmp_path / "ramp.wav", ramp, sr)
    back, rate = sf.read(tmp_path / "ramp.wav", dtype="float32")
    assert rate == sr and np.abs(back - ramp).max() < 1e-4
    frames = np.zeros((10, 32, 32, 3), np.uint8)
    frames[..., 0] = (np.arange(10) * 25)[:, None, None]
    click = np.zeros(sr, np.float32)
    click[int(0.3 * sr)] = 0.9
    write_video(tmp_path / "ramp.mp4", frames, 25, click, sr)
    video, audio, rate, fps = decode_mp4(tmp_path / "ramp.mp4")
    assert (rate, fps, len(video)) == (sr, 25.0, 10)
    assert np.abs(video[..., 0].mean((1, 2)) - np.arange(10) * 25).max() < 4
    assert abs(int(np.argmax(np.abs(audio))) - int(0.3 * sr)) <= 2, "AAC priming not compensated"
    with pytest.raises(MediaError, match="NaN"):
        write_video(tmp_path / "bad.mp4", frames, 25, click * np.nan, sr)
    with pytest.raises(MediaError, match="uint8"):
        write_video(tmp_path / "bad.mp4", frames.astype(float), 25, click, sr)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ramp.mp4", "ramp.wav"]


def _ffmpeg(*args: str) -> subprocess.CompletedProcess:
    """The standalone FFmpeg binary of imageio-ffmpeg: a decoder independent of PyAV's libraries."""
    import imageio_ffmpeg

    exe = imageio_ffmpeg.get_ffmpeg_exe()
    return subprocess.run([exe, "-v", "error", "-nostdin", *args], capture_output=True)


def test_a_second_decoder_reads_every_file_the_same(smoke_world):
    """Every generated mp4/wav decodes without error in the ffmpeg CLI, and to the same content."""
    from avlib.data.media import load_audio, load_video

    world = smoke_world[0]
    media = _mp4s(world) + sorted(world.rglob("*.wav"))
    for path in media:
        out = _ffmpeg("-i", str(path), "-f", "null", "-")
        assert out.returncode == 0 and not out.stderr, f"{path}: {out.stderr.decode()[:300]}"
    for path in [_mp4s(world / d)[0] for d in ("kinetics_sounds", "lrs2", "lrw")]:
        ours = load_video(path)
        h, w = ours.shape[1:3]
        raw = _ffmpeg("-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-").stdout
        theirs = np.frombuffer(raw, np.uint8).reshape(-1, h, w, 3)
        assert theirs.shape == ours.shape
        assert np.abs(theirs.astype(int) - ours).mean() < 1.0  # same frames, in the same order
        sr = SMOKE.sr
        pcm = _ffmpeg("-i", str(path), "-f", "f32le", "-ac", "1", "-ar", str(sr), "-").stdout
        theirs_audio, ours_audio = np.frombuffer(pcm, np.float32), load_audio(path)
        assert abs(len(theirs_audio) - len(ours_audio)) <= 1024  # at most one AAC frame apart
        n = min(len(theirs_audio), len(ours_audio))
        assert np.corrcoef(theirs_audio[:n], ours_audio[:n])[0, 1] > 0.99  # and aligned


def test_runs_started_together_generate_the_world_once(tmp_path, monkeypatch):
    """Runs side by side (avlib.runpool) that all find the world missing: one generates it under
    the lock, the other waits and then finds it complete."""
    import threading

    from avlib.data.world import generate as gen

    calls, real = [], gen._generate

    def counted(*args):
        calls.append(args[0])
        time.sleep(0.5)  # the other caller arrives while this one holds the lock
        return real(*args)

    monkeypatch.setattr(gen, "_generate", counted)
    out, errors = tmp_path / "w", []

    def one():
        try:
            generate_world("smoke", out=out, only="esc50", workers=1, progress=False)
        except Exception as e:  # surfaced below
            errors.append(e)

    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and calls == [out]
    assert "esc50" in read_manifest(out)["datasets"]
