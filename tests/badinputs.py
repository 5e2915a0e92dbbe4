"""The bad-input corpus: clean tiny trees in every layout, and one broken variant per case.

Everything is generated under the test's tmp_path (nothing is committed). A
:class:`Case` builds a clean tree, breaks one thing, and says what avlib must
do about it:

- ``skip``: the layout's reader counts one problem naming the file (a skip;
  ``avlib data check`` counts it; strict reading raises a MetadataError
  naming the file);
- ``warning``: the same, but no row is lost (a UTF-8 byte-order mark);
- ``error``: reading the data set raises a typed DataError naming the file;
- ``decode``: the decoded cache (what training reads) skips the file with a
  counted reason naming it; with ``probe=True`` `data check --probe` finds it too;
- ``root``: the data root itself is refused with a LayoutError naming it.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import soundfile as sf

from avlib.data.encode import write_audio, write_image, write_video
from tests import trees
from tests.mediafiles import ramp_frames, tone

AUDIO = {"sr": 8000, "dur_s": 0.5}  # ESC wavs (1 s at 8 kHz) in the decoded cache
VIDEO = {"fps": 10, "size": (16, 24), "sr": 8000, "dur_s": 1.0}  # clips of 1.2 s
IMAGE = {"size": (8, 8)}


@dataclass(frozen=True)
class Case:
    """One bad input: ``build(tmp) -> data-set root``; the outcome avlib must give it."""

    id: str
    build: Callable[[Path], Path]
    outcome: str  # skip | warning | error | decode | root
    names: str  # the file (or part of its path) the problem must name
    reason: str  # regex the reason / message must match
    settings: dict | None = None  # decoded-cache settings for ``decode`` cases
    probe: bool = False  # `data check --probe` finds it too (decode cases)


# --- clean trees ---------------------------------------------------------------------------


def _write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def _append(path: Path, data: bytes | str) -> Path:
    return _write(path, path.read_bytes() + (data.encode() if isinstance(data, str) else data))


def esc(tmp: Path) -> Path:
    """trees.ESC_ROWS: 6 one-second 8 kHz wavs, classes dog (0), rain (1), crow (2)."""
    return trees.esc50(tmp / "esc50")


def esc_meta(root: Path) -> Path:
    return root / "meta" / "esc50.csv"


def dcase(tmp: Path) -> Path:
    return trees.dcase2013(tmp / "dcase")


KS_ROWS = [
    ("playing drums", "abc", 10, 20, "train", "playing drums"),
    ("playing drums", "abd", 0, 10, "val", "playing_drums"),
    ("bowling", "xyz", 5, 15, "test", "bowling"),
]


def kinetics(tmp: Path) -> Path:
    """Three Kinetics-Sounds rows with placeholder clips (only paths matter to the reader)."""
    return trees.kinetics(tmp / "ks", KS_ROWS)


def kinetics_media(tmp: Path) -> Path:
    """Two rows of 1.2 s real clips whose csv segments (0-1 s) agree within the tolerance."""
    root = tmp / "ks"
    lines = ["label,youtube_id,time_start,time_end,split"]
    for k, (label, split) in enumerate((("bowling", "train"), ("playing drums", "test"))):
        lines.append(f'"{label}",id{k},0,1,{split}')
        trees.av_clip(root / split / label / f"id{k}_000000_000001.mp4", seconds=1.2)
    _write(root / "kinetics_sounds.csv", "\n".join(lines) + "\n")
    return root


def audioset(tmp: Path, media: bool = False) -> Path:
    """Two classes, one clip each in balanced_train and eval."""
    root = tmp / "audioset"
    _write(
        root / "class_labels_indices.csv",
        'index,mid,display_name\n0,/m/a,"Speech"\n1,/m/b,"Knock"\n',
    )
    header = "# Segments csv\n# num_ytids=1\n# YTID, start_seconds, end_seconds, positive_labels\n"
    for stem, ytid, mid in (("balanced_train", "Y1", "/m/a"), ("eval", "Y2", "/m/b")):
        _write(root / f"{stem}_segments.csv", f'{header}{ytid}, 0.000, 1.000, "{mid}"\n')
        clip = root / "clips" / f"{ytid}_0_1000.mp4"
        trees.av_clip(clip, seconds=1.2) if media else _write(clip, b"x")
    return root


def lrs2(tmp: Path) -> Path:
    """Two utterances of two speakers: spk1 in train.txt, spk2 in test.txt."""
    root = tmp / "lrs2"
    for spk in ("spk1", "spk2"):
        _write(root / "main" / spk / "00001.mp4", b"x")
        _write(root / "main" / spk / "00001.txt", "Text:  HELLO WORLD\n")
    _write(root / "train.txt", "spk1/00001\n")
    _write(root / "test.txt", "spk2/00001\n")
    return root


def lrw(tmp: Path) -> Path:
    return trees.lrw(tmp / "lrw", per_split=1)


def ucf(tmp: Path) -> Path:
    return trees.ucf101(tmp / "ucf")


def flickr(tmp: Path, media: bool = False) -> Path:
    """videos/a.mp4 and videos/b.mp4 listed in videos.txt (real 1.2 s clips when ``media``)."""
    root = tmp / "flickr"
    for name, freq in (("a", 300), ("b", 500)):
        path = root / "videos" / f"{name}.mp4"
        trees.av_clip(path, seconds=1.2, freq=freq) if media else _write(path, b"x")
    _write(root / "videos.txt", "videos/a.mp4\nvideos/b.mp4\n")
    return root


def images(tmp: Path) -> Path:
    root = tmp / "img"
    for split, cls, k in (("train", "cat", 0), ("train", "dog", 1), ("val", "cat", 2)):
        write_image(root / split / cls / f"{k}.png", ramp_frames(3, 20, 30)[k])
    return root


CLEAN = {  # tree -> (builder, decoded-cache settings or None)
    "esc50": (esc, AUDIO),
    "dcase2013": (dcase, None),
    "kinetics": (kinetics, None),
    "kinetics-media": (kinetics_media, VIDEO),
    "audioset": (audioset, None),
    "audioset-media": (lambda t: audioset(t, media=True), VIDEO),
    "lrs2": (lrs2, None),
    "lrw": (lrw, None),
    "ucf101": (ucf, None),
    "flickr": (flickr, None),
    "flickr-media": (lambda t: flickr(t, media=True), VIDEO),
    "imagefolder": (images, IMAGE),
}


# --- broken variants -----------------------------------------------------------------------


def audio_only_mp4(path: Path, seconds: float = 1.2, sr: int = 16000) -> Path:
    """An AAC-in-mp4 file without a video stream (PyAV directly: avlib writes only video mp4s)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    x = tone(440, seconds, sr)[None]
    with av.open(str(path), "w") as out:
        stream = out.add_stream("aac", rate=sr)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(x.astype(np.float32), format="fltp", layout="mono")
        frame.sample_rate = sr
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def _esc_row(row: str, wav: str | None = None, data: bytes | None = None):
    """An ESC tree with ``row`` appended to esc50.csv (and audio/``wav`` written)."""

    def build(tmp: Path) -> Path:
        root = esc(tmp)
        _append(esc_meta(root), row.encode() if isinstance(row, str) else row)
        if wav:
            dst = root / "audio" / wav
            write_audio(dst, tone(300, 1.0, 8000), 8000) if data is None else _write(dst, data)
        return root

    return build


def _replace_file(tree: Callable[[Path], Path], rel: str, data: bytes | str | Callable):
    """``tree`` with file ``rel`` replaced by ``data`` (bytes, text, or ``fn(path)`` that writes it)."""

    def build(tmp: Path) -> Path:
        root = tree(tmp)
        path = root / rel
        if callable(data):
            path.unlink(missing_ok=True)
            data(path)
        else:
            _write(path, data)
        return root

    return build


def _prepend_bom(tree: Callable[[Path], Path], rel: str):
    def build(tmp: Path) -> Path:
        root = tree(tmp)
        _write(root / rel, codecs.BOM_UTF8 + (root / rel).read_bytes())
        return root

    return build


def _then(tree: Callable[[Path], Path], *steps: Callable[[Path], object]):
    """``tree`` followed by ``step(root)`` for each step."""

    def build(tmp: Path) -> Path:
        root = tree(tmp)
        for step in steps:
            step(root)
        return root

    return build


def _ks_row(line: str | bytes, clip: str | None = None):
    return _then(
        kinetics,
        lambda r: _append(r / "kinetics_sounds.csv", line),
        lambda r: clip and _write(r / clip, b"x"),
    )


def _as_line(stem: str, line: str | bytes):
    return _then(audioset, lambda r: _append(r / f"{stem}_segments.csv", line))


def _flickr_line(line: str | bytes, media: bool = False):
    tree = (lambda t: flickr(t, media=True)) if media else flickr
    return _then(tree, lambda r: _append(r / "videos.txt", line))


def _flickr_clip(name: str, write: Callable[[Path], object]):
    """A real-media flickr tree with videos/``name`` written by ``write`` and listed."""
    return _then(
        lambda t: flickr(t, media=True),
        lambda r: write(r / "videos" / name),
        lambda r: _append(r / "videos.txt", f"videos/{name}\n"),
    )


def _clip(seconds: float, audio: bool = True):
    def write(path: Path):
        n = max(1, round(seconds * 25))
        sound = tone(440, seconds, 16000) if audio else None
        return write_video(path, ramp_frames(n), 25, sound, 16000 if audio else None)

    return write


def _half_of_a_clip(path: Path):
    trees.av_clip(path, seconds=1.2)
    _write(path, path.read_bytes()[: path.stat().st_size // 2])


def _esc_wav(name: str, write: Callable[[Path], object]):
    """The ESC tree with audio/``name`` (a row of target 0, fold 1) written by ``write``."""

    def build(tmp: Path) -> Path:
        root = esc(tmp)
        _append(esc_meta(root), f"{name},1,0,dog,True,{name.split('-')[1]},A\n")
        write(root / "audio" / name)
        return root

    return build


def _nan_wav(path: Path):
    x = tone(300, 1.0, 8000)
    x[1000] = np.nan
    sf.write(path, x, 8000, subtype="FLOAT")


def _truncated_wav(path: Path):
    write_audio(path, tone(300, 1.0, 8000), 8000)
    _write(path, path.read_bytes()[:3000])


def _world_root_without_data(tmp: Path) -> Path:
    (tmp / "world" / "notes").mkdir(parents=True)
    return tmp / "world"


def _esc_meta_is_a_folder(tmp: Path) -> Path:
    root = tmp / "esc50"
    (root / "meta" / "esc50.csv").mkdir(parents=True)
    return root


ESC_SKIPS = [
    ("esc-duplicate-row", "1-100-A-0.wav,1,0,dog,True,100,A\n", None, "1-100-A-0.wav", r"duplicate row \(first at line 2\)"),
    ("esc-fold-9", "9-600-A-0.wav,9,0,dog,True,600,A\n", "9-600-A-0.wav", "9-600-A-0.wav", "fold 9 out of range 1-5"),
    ("esc-fold-0", "0-601-A-0.wav,0,0,dog,True,601,A\n", "0-601-A-0.wav", "0-601-A-0.wav", "fold 0 out of range"),
    ("esc-fold-not-an-integer", "x-602-A-0.wav,x,0,dog,True,602,A\n", None, "x-602-A-0.wav", "fold/target not integers"),
    ("esc-target-73", "1-603-A-73.wav,1,73,unicorn,False,603,A\n", "1-603-A-73.wav", "1-603-A-73.wav", "target 73 out of range 0-49"),
    ("esc-unknown-category-of-a-target", "1-604-A-0.wav,1,0,cat,True,604,A\n", "1-604-A-0.wav", "1-604-A-0.wav", "target 0 is 'dog' elsewhere, 'cat' here"),
    ("esc-category-of-two-targets", "1-605-A-3.wav,1,3,dog,False,605,A\n", "1-605-A-3.wav", "1-605-A-3.wav", "category 'dog' is target 0 elsewhere, 3 here"),
    ("esc-filename-disagrees-with-row", "1-606-A-0.wav,2,0,dog,True,606,A\n", "1-606-A-0.wav", "1-606-A-0.wav", "filename is not"),
    ("esc-empty-category", "1-607-A-0.wav,1,0,,True,607,A\n", "1-607-A-0.wav", "1-607-A-0.wav", "empty category"),
    ("esc-esc10-typo", "1-608-A-0.wav,1,0,dog,Ture,608,A\n", "1-608-A-0.wav", "1-608-A-0.wav", "esc10 is 'Ture'"),
    ("esc-missing-file", "1-609-A-0.wav,1,0,dog,True,609,A\n", None, "1-609-A-0.wav", "missing file"),
    ("esc-ragged-row", "1-610-A-0.wav,1,0\n", None, "esc50.csv", "3 fields, header has 7"),
    ("esc-path-in-filename", "../1-611-A-0.wav,1,0,dog,True,611,A\n", None, "1-611-A-0.wav", "filename is not"),
    ("esc-non-utf8-row", b"1-612-A-0.wav,1,0,d\xe9g,True,612,A\n", "1-612-A-0.wav", "esc50.csv", r"not UTF-8 text \(byte 0xE9"),
]  # fmt: skip

CASES: list[Case] = [
    *(Case(i, _esc_row(row, wav), "skip", names, reason) for i, row, wav, names, reason in ESC_SKIPS),
    Case("esc-bom", _prepend_bom(esc, "meta/esc50.csv"), "warning", "esc50.csv", "byte-order mark"),
    Case("esc-non-utf8-header", _replace_file(esc, "meta/esc50.csv", b"filen\xe9me,fold,target,category\n"), "error", "esc50.csv", "header is not UTF-8"),
    Case("esc-header-lacks-fold", _replace_file(esc, "meta/esc50.csv", "filename,target,category\n"), "error", "esc50.csv", r"header lacks column\(s\) fold"),
    Case("esc-empty-csv", _replace_file(esc, "meta/esc50.csv", b""), "error", "esc50.csv", "header lacks column"),
    Case("dcase-misnamed-file", _then(dcase, lambda r: _write(r / "scenes_stereo" / "README.wav", b"x")), "skip", "README.wav", "name is not <class><nn>.wav"),
    Case("dcase-unknown-scene", _then(dcase, lambda r: _write(r / "scenes_stereo" / "beach01.wav", b"x")), "skip", "beach01.wav", "unknown scene class 'beach'"),
    Case("kinetics-unknown-label", _ks_row('"juggling",jjj,0,10,train\n', "train/juggling/jjj_000000_000010.mp4"), "skip", "kinetics_sounds.csv", "unknown label 'juggling'"),
    Case("kinetics-split-trian", _ks_row('"bowling",tty,0,10,trian\n', "trian/bowling/tty_000000_000010.mp4"), "skip", "kinetics_sounds.csv", "unknown split 'trian'"),
    Case("kinetics-duplicate-row", _ks_row('"playing drums",abc,10,20,train\n'), "skip", "kinetics_sounds.csv", "duplicate of kinetics_sounds.csv line 2"),
    Case("kinetics-clip-in-two-splits", _ks_row('"playing drums",abc,10,20,test\n', "test/playing drums/abc_000010_000020.mp4"), "skip", "kinetics_sounds.csv", "also in split train at kinetics_sounds.csv line 2"),
    Case("kinetics-times-not-numbers", _ks_row('"bowling",nnn,a,b,train\n'), "skip", "kinetics_sounds.csv", "times not numbers"),
    Case("kinetics-times-reversed", _ks_row('"bowling",rrr,20,10,train\n', "train/bowling/rrr_000020_000010.mp4"), "skip", "kinetics_sounds.csv", "not a segment"),
    Case("kinetics-time-nan", _ks_row('"bowling",nan1,nan,10,train\n'), "skip", "kinetics_sounds.csv", "not a segment"),
    Case("kinetics-missing-clip", _ks_row('"bowling",mmm,0,10,train\n'), "skip", "mmm_000000_000010.mp4", "missing file"),
    Case("kinetics-ragged-row", _ks_row('"bowling",rag,0\n'), "skip", "kinetics_sounds.csv", "3 fields, header has 5"),
    Case("kinetics-non-utf8-row", _ks_row(b'"bowling",\xff\xfe,0,10,train\n'), "skip", "kinetics_sounds.csv", "not UTF-8"),
    Case("kinetics-bom", _prepend_bom(kinetics, "kinetics_sounds.csv"), "warning", "kinetics_sounds.csv", "byte-order mark"),
    Case("kinetics-header-lacks-split", _replace_file(kinetics, "kinetics_sounds.csv", "label,youtube_id,time_start,time_end\n"), "error", "kinetics_sounds.csv", r"lacks column\(s\) split"),
    Case("audioset-unknown-label-id", _as_line("balanced_train", 'Y3, 0.0, 1.0, "/m/zzz"\n'), "skip", "balanced_train_segments.csv", "unknown label id"),
    Case("audioset-ragged-row", _as_line("balanced_train", "Y4, 0.0, 1.0\n"), "skip", "balanced_train_segments.csv", "3 fields, expected 4"),
    Case("audioset-segment-twice", _as_line("eval", 'Y1, 0.0, 1.0, "/m/a"\n'), "skip", "eval_segments.csv", "segment listed again"),
    Case("audioset-times-reversed", _as_line("balanced_train", 'Y5, 2.0, 1.0, "/m/a"\n'), "skip", "balanced_train_segments.csv", "not a segment"),
    Case("audioset-missing-clip", _as_line("balanced_train", 'Y6, 0.0, 1.0, "/m/a"\n'), "skip", "Y6_0_1000.mp4", "missing file"),
    Case("audioset-non-utf8-row", _as_line("balanced_train", b'Y7, 0.0, 1.0, "/m/\xe9"\n'), "skip", "balanced_train_segments.csv", "not UTF-8"),
    Case("audioset-class-listed-twice", _then(audioset, lambda r: _append(r / "class_labels_indices.csv", "2,/m/a,Other\n")), "skip", "class_labels_indices.csv", "listed twice"),
    Case("lrs2-missing-clip", _then(lrs2, lambda r: _append(r / "train.txt", "spk1/00009\n")), "skip", "00009.mp4", "missing file"),
    Case("lrs2-path-escapes", _then(lrs2, lambda r: _append(r / "train.txt", "../../outside\n")), "skip", "outside", "path escapes the data root"),
    Case("lrs2-in-two-splits", _then(lrs2, lambda r: _append(r / "test.txt", "spk1/00001\n")), "skip", "test.txt", r"listed again \(first in train.txt line 1\)"),
    Case("lrs2-transcript-not-utf8", _replace_file(lrs2, "main/spk1/00001.txt", b"Text:  H\xe9LLO\n"), "skip", "00001.txt", "not UTF-8"),
    Case("lrs2-list-not-utf8", _then(lrs2, lambda r: _append(r / "train.txt", b"spk1/0000\xe9\n")), "skip", "train.txt", "not UTF-8"),
    Case("lrw-misnamed-clip", _then(lrw, lambda r: _write(r / "ABOUT" / "train" / "WORLD_00009.mp4", b"x")), "skip", "WORLD_00009.mp4", "name is not ABOUT_<nnnnn>.mp4"),
    Case("lrw-transcript-not-utf8", _replace_file(lrw, "ABOUT/train/ABOUT_00001.txt", b"Text:  AB\xffUT\n"), "skip", "ABOUT_00001.txt", "not UTF-8"),
    Case("lrw-duration-malformed", _replace_file(lrw, "ABOUT/train/ABOUT_00001.txt", "Text:  ABOUT\nDuration: 1.2.3 seconds\n"), "skip", "ABOUT_00001", "Duration"),
    Case("ucf-classind-out-of-order", _then(ucf, lambda r: _append(r / "ucfTrainTestlist" / "classInd.txt", "5 Basketball\n")), "skip", "classInd.txt", "in order"),
    Case("ucf-class-listed-twice", _then(ucf, lambda r: _append(r / "ucfTrainTestlist" / "classInd.txt", "3 Archery\n")), "skip", "classInd.txt", "listed twice"),
    Case("ucf-list-names-missing-video", _then(ucf, lambda r: _append(r / "ucfTrainTestlist" / "trainlist01.txt", "\nArchery/v_Archery_g09_c01.avi 2\n")), "skip", "v_Archery_g09_c01.avi", "missing file"),
    Case("ucf-list-path-escapes", _then(ucf, lambda r: _append(r / "ucfTrainTestlist" / "trainlist01.txt", "\n../../x.avi 1\n")), "skip", "x.avi", "path escapes"),
    Case("ucf-video-of-unknown-class", _then(ucf, lambda r: _write(r / "UCF-101" / "Bowling" / "v_Bowling_g01_c01.mp4", b"x"), lambda r: _append(r / "ucfTrainTestlist" / "trainlist01.txt", "\nBowling/v_Bowling_g01_c01.avi 3\n")), "skip", "v_Bowling_g01_c01.mp4", "classInd.txt class"),
    Case("ucf-train-and-test-of-one-split", _then(ucf, lambda r: _append(r / "ucfTrainTestlist" / "testlist01.txt", "\nArchery/v_Archery_g02_c01.avi\n")), "skip", "v_Archery_g02_c01.avi", "also in train in split 1"),
    Case("ucf-listed-twice", _then(ucf, lambda r: _append(r / "ucfTrainTestlist" / "testlist01.txt", "\nArchery/v_Archery_g01_c01.avi\n")), "skip", "v_Archery_g01_c01.avi", "listed again in split 1"),
    Case("flickr-path-escapes", _flickr_line("../outside.mp4\n"), "skip", "outside.mp4", "path escapes"),
    Case("flickr-absolute-path", _flickr_line("/etc/passwd\n"), "skip", "/etc/passwd", "path escapes"),
    Case("flickr-listed-twice", _flickr_line("videos/a.mp4\n"), "skip", "videos/a.mp4", r"listed again \(first at line 1\)"),
    Case("flickr-missing-video", _flickr_line("videos/zzz.mp4\n"), "skip", "zzz.mp4", "missing file"),
    Case("flickr-list-not-utf8", _flickr_line(b"videos/\xe9.mp4\n"), "skip", "videos.txt", "not UTF-8"),
    Case("flickr-bom", _prepend_bom(flickr, "videos.txt"), "warning", "videos.txt", "byte-order mark"),
    Case("flickr-directory-named-mp4", _then(flickr, lambda r: (r / "videos" / "d.mp4").mkdir(), lambda r: _append(r / "videos.txt", "videos/d.mp4\n")), "skip", "d.mp4", "missing file"),
    Case("flickr-dangling-symlink", _then(flickr, lambda r: (r / "videos" / "s.mp4").symlink_to(r / "gone.mp4"), lambda r: _append(r / "videos.txt", "videos/s.mp4\n")), "skip", "s.mp4", "missing file"),
    Case("truth-line-not-json", _then(flickr, lambda r: _write(r / "avbook_truth.jsonl", '{"path": "videos/a.mp4"}\nnot json\n')), "skip", "avbook_truth.jsonl", "not JSON"),
    Case("truth-record-without-path", _then(flickr, lambda r: _write(r / "avbook_truth.jsonl", '{"labels": []}\n')), "skip", "avbook_truth.jsonl", "without a 'path'"),
    Case("truth-not-utf8", _then(flickr, lambda r: _write(r / "avbook_truth.jsonl", b'{"path": "videos/\xe9.mp4"}\n')), "skip", "avbook_truth.jsonl", "not UTF-8"),
    # media: what training reads through the decoded cache
    Case("mp4-empty", _flickr_clip("e.mp4", lambda p: _write(p, b"")), "decode", "e.mp4", "MediaError: empty file", VIDEO, probe=True),
    Case("mp4-garbage", _flickr_clip("g.mp4", lambda p: _write(p, b"garbage" * 64)), "decode", "g.mp4", "MediaError: unreadable", VIDEO, probe=True),
    Case("mp4-truncated", _flickr_clip("t.mp4", _half_of_a_clip), "decode", "t.mp4", "MediaError", VIDEO, probe=True),
    Case("mp4-without-audio", _flickr_clip("v.mp4", _clip(1.2, audio=False)), "decode", "v.mp4", "MissingStreamError: no audio stream", VIDEO, probe=True),
    Case("mp4-without-video", _flickr_clip("sound.mp4", audio_only_mp4), "decode", "sound.mp4", "MissingStreamError: no video stream", VIDEO, probe=True),
    Case("mp4-0.1s-clip", _flickr_clip("short.mp4", _clip(0.1)), "decode", "short.mp4", "TooShortError", VIDEO),
    Case("mp4-0.6s-clip", _flickr_clip("short.mp4", _clip(0.6)), "decode", "short.mp4", "TooShortError", VIDEO),
    Case("kinetics-duration-mismatch", _then(kinetics_media, lambda r: _append(r / "kinetics_sounds.csv", '"bowling",long,0,5,train\n'), lambda r: trees.av_clip(r / "train" / "bowling" / "long_000000_000005.mp4", seconds=1.2)), "decode", "long_000000_000005.mp4", r"duration mismatch: the file is 1.2\d s, its metadata says 0-5 s", VIDEO, probe=True),
    Case("audioset-duration-mismatch", _then(lambda t: audioset(t, media=True), lambda r: _append(r / "eval_segments.csv", 'Y9, 30.0, 40.0, "/m/b"\n'), lambda r: trees.av_clip(r / "clips" / "Y9_30000_40000.mp4", seconds=1.2)), "decode", "Y9_30000_40000.mp4", "duration mismatch: the file is 1.2", VIDEO, probe=True),
    Case("wav-empty", _esc_wav("1-700-A-0.wav", lambda p: _write(p, b"")), "decode", "1-700-A-0.wav", "MediaError: empty file", AUDIO, probe=True),
    Case("wav-garbage", _esc_wav("1-701-A-0.wav", lambda p: _write(p, b"RIFF" + b"\x00" * 40)), "decode", "1-701-A-0.wav", "MediaError", AUDIO, probe=True),
    Case("wav-too-short", _esc_wav("1-702-A-0.wav", lambda p: write_audio(p, tone(300, 0.2, 8000), 8000)), "decode", "1-702-A-0.wav", "TooShortError: audio is 0.200 s", AUDIO),
    Case("wav-with-nan", _esc_wav("1-703-A-0.wav", _nan_wav), "decode", "1-703-A-0.wav", "NonFiniteError: 1 NaN/inf samples", AUDIO),
    Case("wav-truncated", _esc_wav("1-704-A-0.wav", _truncated_wav), "decode", "1-704-A-0.wav", "TooShortError|MediaError", AUDIO),
    Case("wav-that-is-an-mp4", _esc_wav("1-705-A-0.wav", lambda p: _write(p, (trees.av_clip(p.with_suffix(".mp4"))).read_bytes())), "decode", "1-705-A-0.wav", "MediaError: unreadable", AUDIO, probe=True),
    Case("png-corrupt", _then(images, lambda r: _write(r / "val" / "dog" / "9.png", b"\x89PNG garbage")), "decode", "9.png", "MediaError", IMAGE, probe=True),
    Case("png-empty", _then(images, lambda r: _write(r / "val" / "dog" / "8.png", b"")), "decode", "8.png", "MediaError: empty file", IMAGE, probe=True),
    # data roots
    Case("root-does-not-exist", lambda t: t / "nowhere", "root", "nowhere", "data_root does not exist"),
    Case("root-is-a-file", lambda t: _write(t / "file.txt", "x"), "root", "file.txt", "not a directory"),
    Case("root-in-no-layout", lambda t: (t / "empty").mkdir() or t / "empty", "root", "empty", "in no known layout"),
    Case("root-of-no-data-sets", _world_root_without_data, "root", "world", "in no known layout"),
    Case("root-esc-meta-is-a-folder", _esc_meta_is_a_folder, "root", "esc50", "in no known layout"),
]  # fmt: skip
