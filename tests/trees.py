"""Small data-set trees in the real data sets' layouts, built by hand for the data tests.

``media=True`` writes real media (tiny wavs and H.264/AAC mp4s with known
content); otherwise placeholder files stand in where only paths matter.
"""

from __future__ import annotations

from pathlib import Path

from avlib.data.encode import write_audio, write_video
from tests.mediafiles import ramp_frames, tone

ESC_ROWS = [  # filename, fold, target, category, esc10, src_file, take
    ("1-100-A-0.wav", 1, 0, "dog", True, "100", "A"),
    ("1-100-B-0.wav", 1, 0, "dog", True, "100", "B"),
    ("2-200-A-0.wav", 2, 0, "dog", True, "200", "A"),
    ("1-300-A-1.wav", 1, 1, "rain", False, "300", "A"),
    ("2-400-A-1.wav", 2, 1, "rain", False, "400", "A"),
    ("3-500-A-2.wav", 3, 2, "crow", False, "500", "A"),
]


def _touch(path: Path, content: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def esc50(root: Path, sr: int = 8000, dur_s: float = 1.0, rows=ESC_ROWS) -> Path:
    """ESC-50: meta/esc50.csv + audio/*.wav; target k is a tone of 200 * (k + 1) Hz."""
    lines = ["filename,fold,target,category,esc10,src_file,take"]
    for name, fold, target, category, esc10, src, take in rows:
        lines.append(f"{name},{fold},{target},{category},{esc10},{src},{take}")
        write_audio(root / "audio" / name, tone(200 * (target + 1), dur_s, sr), sr)
    _touch(root / "meta" / "esc50.csv", ("\n".join(lines) + "\n").encode())
    return root


def dcase2013(root: Path, classes=("bus", "park"), per_class: int = 10) -> Path:
    """DCASE 2013: scenes_stereo/<class><nn>.wav with non-consecutive numbers, as released."""
    for c in classes:
        for k in range(per_class):
            _touch(root / "scenes_stereo" / f"{c}{3 * k + 1:02d}.wav")
    return root


def kinetics(
    root: Path, rows, csv_name: str = "kinetics_sounds.csv", media_s: float | None = None
) -> Path:
    """Kinetics: rows (label, youtube_id, start, end, split, folder label) -> csv + clip files
    (real ``media_s``-second clips when given, placeholders otherwise)."""
    lines = ["label,youtube_id,time_start,time_end,split"]
    for k, (label, ytid, start, end, split, folder) in enumerate(rows):
        lines.append(f'"{label}",{ytid},{start},{end},{split}')
        path = root / split / folder / f"{ytid}_{start:06d}_{end:06d}.mp4"
        if media_s:
            path.parent.mkdir(parents=True, exist_ok=True)
            av_clip(path, seconds=media_s, freq=300 + 50 * k)
        else:
            _touch(path)
    _touch(root / csv_name, ("\n".join(lines) + "\n").encode())
    return root


def av_clip(path: Path, seconds: float = 2.0, fps: int = 25, sr: int = 16000, freq=440) -> Path:
    """A world-style H.264/AAC mp4: ramp frames and a tone."""
    n = round(seconds * fps)
    return write_video(path, ramp_frames(n), fps, tone(freq, seconds, sr), sr)


def lrw(root: Path, words=("ABOUT", "WORLD"), per_split: int = 2, media: bool = False) -> Path:
    """LRW: <WORD>/{train,val,test}/<WORD>_<nnnnn>.mp4 + .txt with Duration."""
    for w, word in enumerate(words):
        for split in ("train", "val", "test"):
            for k in range(per_split):
                stem = root / word / split / f"{word}_{k + 1:05d}"
                if media:
                    av_clip(stem.with_suffix(".mp4"), seconds=1.16, freq=300 + 200 * w)
                else:
                    _touch(stem.with_suffix(".mp4"))
                text = f"Text:  {word}\nConf:  5\nDuration: 0.{40 + k} seconds\n"
                _touch(stem.with_suffix(".txt"), text.encode())
    return root


def ucf101(
    root: Path, classes=("ApplyEyeMakeup", "Archery"), groups: int = 3, media_s: float = 0.0
) -> Path:
    """UCF101: UCF-101/<Class>/v_<Class>_g<gg>_c01.mp4 and 3 split lists naming .avi files
    (real ``media_s``-second clips when given, placeholders otherwise)."""
    lists = root / "ucfTrainTestlist"
    _touch(
        lists / "classInd.txt", "".join(f"{k + 1} {c}\n" for k, c in enumerate(classes)).encode()
    )
    for k in range(3):
        train, test = [], []
        for ci, c in enumerate(classes):
            for g in range(1, groups + 1):
                rel = f"{c}/v_{c}_g{g:02d}_c01"
                if media_s:
                    (root / "UCF-101" / c).mkdir(parents=True, exist_ok=True)
                    av_clip(root / "UCF-101" / f"{rel}.mp4", seconds=media_s, freq=200 + 300 * ci)
                else:
                    _touch(root / "UCF-101" / f"{rel}.mp4")
                (test if g == k + 1 else train).append(rel)
                if g == k + 1:
                    continue
                train[-1] = f"{rel}.avi {ci + 1}"
        _touch(lists / f"trainlist0{k + 1}.txt", "\n".join(train).encode())
        _touch(lists / f"testlist0{k + 1}.txt", "\n".join(f"{t}.avi" for t in test).encode())
    return root


LRS2_SPLITS = {  # split -> clip lengths (s); the 1.0 s clip is too short for a 2.4 s window
    "pretrain": (3.0,),
    "train": (2.6, 2.6, 2.6, 1.0),
    "val": (2.6, 2.6),
    "test": (2.6, 2.6),
}


def lrs2(root: Path, splits=None, media: bool = True) -> Path:
    """LRS2: pretrain/ and main/<id>/00001.mp4 (+ .txt) with {pretrain,train,val,test}.txt."""
    splits = LRS2_SPLITS if splits is None else splits
    for s, (split, durations) in enumerate(splits.items()):
        folder = "pretrain" if split == "pretrain" else "main"
        names = []
        for k, seconds in enumerate(durations):
            sid = f"{5_000_000 + 100 * s + k}"
            stem = root / folder / sid / "00001"
            if media:
                av_clip(stem.with_suffix(".mp4"), seconds=seconds, freq=250 + 60 * k)
            else:
                _touch(stem.with_suffix(".mp4"))
            _touch(stem.with_suffix(".txt"), b"Text:  HELLO WORLD\nConf:  4\n")
            names.append(f"{sid}/00001")
        _touch(root / f"{split}.txt", "".join(f"{n}\n" for n in names).encode())


HMDB_MARKS = ("1", "1", "2", "0")  # per class, split 1: train, train, test, unused (rotated)


def hmdb51(root: Path, classes=("brush_hair", "cartwheel"), per_class: int = 4,
           media_s: float = 0.0) -> Path:  # fmt: skip
    """HMDB51: <class>/<video>.avi and testTrainMulti_7030_splits/<class>_test_split{1,2,3}.txt
    with '<video>.avi <mark> ' lines (1 train, 2 test, 0 unused), as released; with
    ``media_s`` the videos are real clips transcoded to .mp4 (the lists still say .avi)."""
    lists = root / "testTrainMulti_7030_splits"
    for ci, c in enumerate(classes):
        names = [f"Clip{k}_{c}_f_cm_np1_fr_med_{k}" for k in range(per_class)]
        for k, name in enumerate(names):
            if media_s:
                (root / c).mkdir(parents=True, exist_ok=True)
                av_clip(root / c / f"{name}.mp4", seconds=media_s, freq=250 + 250 * ci + 20 * k)
            else:
                _touch(root / c / f"{name}.avi")
        for s in range(3):
            rows = [f"{n}.avi {HMDB_MARKS[(k + s) % 4]} " for k, n in enumerate(names)]
            _touch(lists / f"{c}_test_split{s + 1}.txt", "\n".join(rows).encode())
    return root
