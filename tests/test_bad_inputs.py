"""The bad-input corpus (tests/badinputs.py): each case ends as a typed error naming the file or a
counted skip naming it, in `avlib data check`, in strict reading and in what training reads."""

import re

import pytest

import avlib.experiments.common as common
from avlib.data.cache import DecodedCache
from avlib.data.check import check
from avlib.data.layouts import open_dataset
from avlib.errors import DataError, LayoutError, MetadataError
from avlib.experiments.common import data_record, load_clips
from tests.badinputs import AUDIO, CASES, CLEAN, Case, flickr

OUTCOMES = {"skip", "warning", "error", "decode", "root"}


def test_the_corpus_holds_the_53_cases_of_issue_17_and_more():
    assert len(CASES) >= 53 and len({c.id for c in CASES}) == len(CASES)
    assert {c.outcome for c in CASES} == OUTCOMES


@pytest.mark.parametrize("name", sorted(CLEAN))
def test_every_clean_tree_reads_without_a_problem(tmp_path, name):
    """The corpus's trees are clean, so each case's count of one problem is its own."""
    build, settings = CLEAN[name]
    root = build(tmp_path)
    index = open_dataset(root, strict=True)
    assert len(index) >= 2 and not index.skipped and not index.warnings
    assert check(root, strict=True, probe_media=settings is not None).problems == 0
    if settings is not None:
        arrays = DecodedCache(tmp_path / "cache", workers=1).load(index, **settings, progress=False)
        assert len(arrays) == len(index) and not arrays.skipped


def _names(problem, fragment: str) -> bool:
    return fragment in problem.path or fragment in (problem.source or "")


def _reader_problem(case: Case, root):
    index = open_dataset(root)
    found, other = (
        (index.skipped, index.warnings)
        if case.outcome == "skip"
        else (index.warnings, index.skipped)
    )
    assert len(found) == 1 and not other, found + other
    (problem,) = found
    assert _names(problem, case.names), problem
    assert re.search(case.reason, problem.reason), problem
    report = check(root)
    assert report.problems == 1 and case.names in report.to_text()
    with pytest.raises(MetadataError, match=case.reason) as err:
        open_dataset(root, strict=True)
    assert case.names in str(err.value)
    if root.name == "esc50":  # real media: what a training run reads carries the skip
        arrays = DecodedCache(root.parent / "cache", workers=1).load(index, **AUDIO, progress=False)
        assert len(arrays) == len(index) and arrays.skipped == index.skipped
        assert len(data_record(esc50=arrays)["esc50"]["skipped"]) == len(index.skipped)


def _decode_problem(case: Case, root):
    index = open_dataset(root, strict=True)  # the metadata is fine: the media file is not
    arrays = DecodedCache(root.parent / "cache", workers=1).load(
        index, **case.settings, progress=False
    )
    assert len(arrays) == len(index) - 1
    (skip,) = arrays.skipped
    assert case.names in skip.path and re.search(case.reason, skip.reason), skip
    record = data_record(clips=arrays)["clips"]
    assert record["window_s"] == case.settings.get("dur_s")
    assert record["skipped"] == [{"path": skip.path, "reason": skip.reason}]
    if case.probe:
        report = check(root, probe_media=True)
        assert report.problems == 1 and case.names in report.to_text(), report.to_text()
        with pytest.raises(DataError) as err:
            check(root, strict=True, probe_media=True)
        assert case.names in str(err.value)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_input_is_a_typed_error_or_a_counted_problem_naming_the_file(tmp_path, case):
    root = case.build(tmp_path)
    if case.outcome == "root":
        with pytest.raises(LayoutError, match=case.reason) as err:
            open_dataset(root)
        assert case.names in str(err.value)
        with pytest.raises(LayoutError, match=case.reason):
            check(root)
    elif case.outcome == "error":
        for strict in (False, True):
            with pytest.raises(MetadataError, match=case.reason) as err:
                open_dataset(root, strict=strict)
            assert case.names in str(err.value)
        report = check(root)  # counted: the data set could not be read at all
        assert report.problems == 1 and case.names in report.to_text()
        with pytest.raises(MetadataError, match=case.reason):
            check(root, strict=True)
    elif case.outcome in ("skip", "warning"):
        _reader_problem(case, root)
    else:
        _decode_problem(case, root)


@pytest.fixture
def cache_in_tmp(tmp_path, monkeypatch):
    """Experiments' loaders build their decoded cache under tmp_path."""
    monkeypatch.setattr(common, "DecodedCache", lambda: DecodedCache(tmp_path / "cache", workers=1))


def test_short_first_clips_are_counted_skips_and_never_shorten_the_window(tmp_path, cache_in_tmp):
    """Issue 10: a 0.1 s and a 0.6 s clip first in the listing used to cut every clip's window
    (or raise an error naming no file); the window is the config's and they are skips."""
    from tests.badinputs import _clip

    root = flickr(tmp_path, media=True)
    _clip(0.1)(root / "videos" / "0short.mp4")
    _clip(0.6)(root / "videos" / "1short.mp4")
    (root / "videos.txt").write_text(
        "videos/0short.mp4\nvideos/1short.mp4\nvideos/a.mp4\nvideos/b.mp4\n"
    )
    index = open_dataset(root)
    assert [i.rel for i in index.items][:2] == ["videos/0short.mp4", "videos/1short.mp4"]
    arrays = load_clips(index, dur_s=1.0, fps=10, size=16, sr=8000, progress=False)
    assert arrays.frames.shape == (2, 10, 16, 16, 3) and arrays.audio.shape == (2, 8000)
    record = data_record(kinetics_train=arrays)["kinetics_train"]
    assert record["window_s"] == 1.0 and record["items"] == 2
    assert [s["path"].rsplit("/", 1)[1] for s in record["skipped"]] == ["0short.mp4", "1short.mp4"]
    assert all(s["reason"].startswith("TooShortError") for s in record["skipped"])


def test_a_data_set_with_no_usable_clip_is_an_error_naming_it(tmp_path, cache_in_tmp):
    root = flickr(tmp_path, media=True)
    with pytest.raises(DataError, match=r"none of its 2 clips is usable at a 5 s window") as err:
        load_clips(open_dataset(root), dur_s=5.0, fps=10, size=16, sr=8000, progress=False)
    assert str(root) in str(err.value) and "a.mp4: TooShortError" in str(err.value)


def test_calibration_names_the_clip_that_differs_not_the_first(tmp_path):
    from avlib.data.encode import write_audio
    from avlib.errors import MediaError
    from avlib.eval.calibration import _load_clips
    from tests.mediafiles import tone

    paths = [write_audio(tmp_path / f"{k}.wav", tone(300, 1.0, 8000), 8000) for k in range(3)]
    write_audio(paths[2], tone(300, 1.0, 16000), 16000)
    with pytest.raises(MediaError, match=r"16000 Hz, 16000 samples") as err:
        _load_clips(paths)
    assert str(err.value).startswith(f"{paths[2]}:")
