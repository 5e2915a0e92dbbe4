"""Layout readers on hand-built trees in the real data sets' layouts: items, protocols, counted skips."""

import json

import numpy as np
import pytest

from avlib.data.layouts import detect_layout, find_datasets, open_dataset
from avlib.data.readers import KINETICS_SOUNDS, KINETICS_TO_SOUNDS, esc10
from avlib.errors import LayoutError, MetadataError
from tests import trees


def _touch(path, text="x"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _reasons(index):
    return sorted((s.line, s.reason.split(" ")[0]) for s in index.skipped)


def test_esc50_items_classes_folds_and_esc10(tmp_path):
    index = open_dataset(trees.esc50(tmp_path))
    assert index.layout == "esc50" and not index.skipped
    assert index.classes == ["dog", "rain", "crow"]  # ordered by target
    assert [(i.label, i.fold, i.source_id) for i in index.items][:2] == [
        (0, 1, "100"),
        (0, 1, "100"),
    ]
    assert sum(i.extra["esc10"] for i in index.items) == 3
    assert all(i.truth is None for i in index.items)  # real data has no truth sidecar
    splits = index.protocol_splits()
    assert [s.name for s in splits] == ["fold1", "fold2", "fold3"]
    for s in splits:
        assert not set(s.train) & set(s.test) and len(s.train) + len(s.test) == len(index)


def test_esc50_bad_rows_are_counted_skips_or_strict_errors(tmp_path):
    root = trees.esc50(tmp_path)
    meta = root / "meta" / "esc50.csv"
    meta.write_text(
        meta.read_text()
        + "4-600-A-0.wav,x,0,dog,True,600,A\n"  # line 8: fold not an integer
        + "1-700-A-1.wav,2,1,rain,False,700,A\n"  # line 9: filename disagrees with fold
        + "1-800-A-0.wav,1,0,cat,False,800,A\n"  # line 10: target 0 is dog elsewhere
        + "1-900-A-1.wav,1,1,rain,False,900,A\n"  # line 11: missing file
        + "1-901-A-1.wav,1,1\n"  # line 12: ragged row
    )
    index = open_dataset(root)
    assert len(index) == len(trees.ESC_ROWS)
    assert [s.line for s in index.skipped] == [8, 9, 10, 11, 12]
    assert all(s.source == str(meta) for s in index.skipped)
    assert "missing file" in index.skipped[3].reason
    with pytest.raises(MetadataError, match=r"esc50.csv: line 8: .*fold/target not integers"):
        open_dataset(root, strict=True)


def test_dcase2013_classes_and_five_stratified_folds(tmp_path):
    root = trees.dcase2013(tmp_path)
    _touch(root / "scenes_stereo" / "README.wav")  # no number: a skip
    index = open_dataset(root)
    assert index.layout == "dcase2013" and index.classes == ["bus", "park"]
    assert len(index) == 20 and len(index.skipped) == 1
    counts = {(i.label_name, i.fold) for i in index.items}
    assert len(counts) == 10  # every class in every fold
    assert all(len(s.test) == 4 for s in index.protocol_splits())  # 2 per class per fold


def test_kinetics_sounds_reads_class_folders_with_spaces_or_underscores(tmp_path):
    rows = [
        ("playing drums", "abc", 10, 20, "train", "playing drums"),
        ("playing drums", "abd", 0, 10, "val", "playing_drums"),
        ("dribbling ball", "xyz", 5, 15, "train", "dribbling ball"),  # L3's name for the class
    ]
    index = open_dataset(trees.kinetics(tmp_path, rows))
    assert index.layout == "kinetics_sounds"
    assert index.classes == ["dribbling basketball", "playing drums"]
    abc = next(i for i in index.items if i.source_id == "abc")
    assert (abc.split, abc.start_s, abc.end_s, abc.label_name) == (
        "train",
        10.0,
        20.0,
        "playing drums",
    )
    assert index.protocol_splits()[0].name == "val"


def test_released_kinetics_csv_is_restricted_to_kinetics_sounds(tmp_path):
    rows = [
        ("playing drums", "abc", 10, 20, "train", "playing_drums"),
        ("abseiling", "nop", 0, 10, "train", "abseiling"),
        ("playing drums", "gone", 0, 10, "train", "playing_drums"),
    ]
    root = trees.kinetics(tmp_path, rows, csv_name="train.csv")
    (root / "train" / "playing_drums" / "gone_000000_000010.mp4").unlink()
    index = open_dataset(root)
    assert [i.label_name for i in index.items] == ["playing drums"]
    assert any("1 rows of classes outside Kinetics-Sounds" in n for n in index.notes)
    assert [s.reason for s in index.skipped] == ["missing file"]


def test_kinetics_mapping_covers_the_34_classes():
    assert len(KINETICS_SOUNDS) == 34 == len(set(KINETICS_SOUNDS))
    assert set(KINETICS_TO_SOUNDS.values()) == set(KINETICS_SOUNDS)


def test_flickr_list_rejects_paths_escaping_the_root(tmp_path):
    root = tmp_path / "flickr"
    _touch(root / "videos" / "a.mp4")
    _touch(tmp_path / "outside.mp4")
    _touch(
        root / "videos.txt",
        f"videos/a.mp4\n../outside.mp4\n{tmp_path}/outside.mp4\n\nvideos/b.mp4\n",
    )
    index = open_dataset(root)
    assert [i.rel for i in index.items] == ["videos/a.mp4"] and index.classes == []
    assert _reasons(index) == [(2, "path"), (3, "path"), (5, "missing")]
    with pytest.raises(MetadataError, match=r"videos.txt: line 2: \.\./outside.mp4: path escapes"):
        open_dataset(root, strict=True)


def test_audioset_segments_with_header_comments_and_quoted_labels(tmp_path):
    _touch(
        tmp_path / "class_labels_indices.csv",
        'index,mid,display_name\n0,/m/09x0r,"Speech"\n1,/m/07qc9xj,"Knock, tap"\n',
    )
    header = "# Segments csv\n# num_ytids=3\n# YTID, start_seconds, end_seconds, positive_labels\n"
    _touch(
        tmp_path / "balanced_train_segments.csv",
        header + '-abc, 30.000, 40.000, "/m/07qc9xj,/m/09x0r"\nq1, 0.000, 10.000, "/m/zzz"\n',
    )
    _touch(tmp_path / "eval_segments.csv", header + 'e1, 1.500, 11.500, "/m/09x0r"\n')
    _touch(tmp_path / "clips" / "-abc_30000_40000.mp4")
    _touch(tmp_path / "clips" / "e1_1500_11500.mp4")
    index = open_dataset(tmp_path)
    assert index.layout == "audioset" and index.classes == ["Speech", "Knock, tap"]
    first = index.items[0]
    assert (first.label_name, first.labels, first.split) == (
        "Knock, tap",
        ("Knock, tap", "Speech"),
        "train",
    )
    assert index.items[1].split == "test"
    assert _reasons(index) == [(5, "unknown")]  # line numbers count the '#' lines


def test_lrs2_split_files_transcripts_and_pretrain_words(tmp_path):
    _touch(tmp_path / "main" / "111" / "00001.mp4")
    _touch(tmp_path / "main" / "111" / "00001.txt", "Text:  HELLO WORLD\nConf:  4\n")
    _touch(tmp_path / "main" / "222" / "00002.mp4")
    _touch(tmp_path / "pretrain" / "333" / "00001.mp4")
    words = "Text:  A LONG ONE\nConf:  3\n\nWORD START END ASDSCORE\nA 0.10 0.20 1.0\nLONG 0.20 0.60 2.0\n"
    _touch(tmp_path / "pretrain" / "333" / "00001.txt", words)
    _touch(tmp_path / "train.txt", "111/00001\n")
    _touch(tmp_path / "test.txt", "222/00002 NF\n999/00001\n")
    _touch(tmp_path / "pretrain.txt", "333/00001\n")
    index = open_dataset(tmp_path)
    assert index.layout == "lrs2"
    got = {i.rel: (i.split, i.text, i.source_id) for i in index.items}
    assert got["main/111/00001.mp4"] == ("train", "HELLO WORLD", "111")
    assert got["main/222/00002.mp4"] == ("test", None, "222")
    pre = next(i for i in index.items if i.split == "pretrain")
    assert pre.extra["words"] == [("A", 0.1, 0.2), ("LONG", 0.2, 0.6)]
    assert _reasons(index) == [(2, "missing")]
    assert any("without a 'Text:'" in n for n in index.notes)


def test_lrw_words_splits_and_durations(tmp_path):
    root = trees.lrw(tmp_path)
    _touch(root / "ABOUT" / "train" / "WRONG_00001.mp4")
    index = open_dataset(root)
    assert index.layout == "lrw" and index.classes == ["ABOUT", "WORLD"]
    assert index.counts()["split"] == {"test": 4, "train": 4, "val": 4}
    assert index.items[0].extra["word_duration_s"] == pytest.approx(0.40)
    assert len(index.skipped) == 1 and "WRONG" in index.skipped[0].path


def test_ucf101_three_split_lists_and_transcoded_files(tmp_path):
    index = open_dataset(trees.ucf101(tmp_path))
    assert index.layout == "ucf101" and index.classes == ["ApplyEyeMakeup", "Archery"]
    assert len(index) == 6 and not index.skipped  # lists name .avi, disk has .mp4
    splits = index.protocol_splits()
    assert [s.name for s in splits] == ["split1", "split2", "split3"]
    for k, s in enumerate(splits):
        groups = {index.items[i].extra["group"] for i in s.test}
        assert groups == {k + 1} and len(s.train) == 4


def test_hmdb51_split_files_with_marks_and_transcoded_files(tmp_path):
    root = trees.hmdb51(tmp_path)
    index = open_dataset(root)
    assert index.layout == "hmdb51" and index.classes == ["brush_hair", "cartwheel"]
    assert len(index) == 8 and not index.skipped
    splits = index.protocol_splits()
    assert [(s.name, len(s.train), len(s.test)) for s in splits] == [
        ("split1", 4, 2), ("split2", 4, 2), ("split3", 4, 2),
    ]  # fmt: skip
    first = index.items[0]  # Clip0 of brush_hair: marks 1, 1, 2 in splits 1-3
    assert first.extra["splits"] == ("train", "train", "test") and first.split == "train"
    unused = [i for i in index.items if i.extra["splits"][0] is None]
    assert len(unused) == 2, "mark 0: in neither train nor test of split 1"
    for path in root.glob("*/*.avi"):  # transcoded copies: the lists still say .avi
        path.rename(path.with_suffix(".mp4"))
    assert len(open_dataset(root)) == 8


def test_hmdb51_bad_rows_and_missing_files_are_counted_skips(tmp_path):
    root = trees.hmdb51(tmp_path)
    listing = root / "testTrainMulti_7030_splits" / "cartwheel_test_split1.txt"
    listing.write_text(listing.read_text() + "\nGone_cartwheel_0.avi 1 \nClip1_cartwheel 7\n")
    (root / "testTrainMulti_7030_splits" / "README.txt").write_text("x")
    index = open_dataset(root)
    assert len(index) == 8
    reasons = sorted(s.reason.split(" ")[0] for s in index.skipped)
    assert reasons == ["missing", "not", "not"]
    with pytest.raises(MetadataError, match="README.txt.*not <class>_test_split"):
        open_dataset(root, strict=True)


def test_imagefolder_classes_from_folders(tmp_path):
    for split in ("train", "val"):
        for c in ("cat", "dog"):
            _touch(tmp_path / split / c / "0.png")
    _touch(tmp_path / "train" / "cat" / "notes.txt")
    index = open_dataset(tmp_path)
    assert index.layout == "imagefolder" and index.classes == ["cat", "dog"]
    assert index.counts()["split"] == {"train": 2, "val": 2}


def test_truth_sidecar_is_attached_by_relative_path(tmp_path):
    root = trees.esc50(tmp_path)
    records = [{"path": "audio/1-100-A-0.wav", "events_s": [0.5], "source_id": "s1"}]
    (root / "avbook_truth.jsonl").write_text(
        "\n".join(json.dumps(r) for r in records) + "\n{broken\n" + '{"path": "audio/none.wav"}\n'
    )
    index = open_dataset(root)
    truth = {i.rel: i.truth for i in index.items}
    assert truth["audio/1-100-A-0.wav"]["events_s"] == [0.5]
    assert truth["audio/2-200-A-0.wav"] is None
    assert _reasons(index) == [(2, "not")]
    assert any("1 records name no indexed item" in n for n in index.notes)


def test_detect_layout_names_what_it_looked_for(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(LayoutError, match="in no known layout.*meta/esc50.csv.*UCF-101"):
        detect_layout(tmp_path / "empty")
    with pytest.raises(LayoutError, match="does not exist"):
        detect_layout(tmp_path / "nowhere")


def test_world_root_lists_its_data_sets(tmp_path):
    trees.esc50(tmp_path / "esc50")
    trees.lrw(tmp_path / "lrw")
    trees.ucf101(tmp_path / "ucf101")
    trees.hmdb51(tmp_path / "hmdb51")
    assert find_datasets(tmp_path) == {
        "esc50": "esc50", "hmdb51": "hmdb51", "lrw": "lrw", "ucf101": "ucf101",
    }  # fmt: skip
    with pytest.raises(LayoutError, match="world root.*esc50 \\(esc50\\)"):
        detect_layout(tmp_path)


def test_summary_is_json_ready_and_lists_skips(tmp_path):
    root = trees.esc50(tmp_path)
    (root / "audio" / "3-500-A-2.wav").unlink()
    summary = open_dataset(root).summary()
    json.dumps(summary)
    assert summary["n_items"] == 5 and summary["skipped"][0]["reason"] == "missing file"
    assert np.array_equal(open_dataset(root).labels(), [0, 0, 1, 0, 1])  # items in path order


def test_esc10_subset_and_split_subsets(tmp_path):
    index = open_dataset(trees.esc50(tmp_path))
    ten = esc10(index)
    assert ten.classes == ["dog"] and len(ten) == 3 and {i.label for i in ten.items} == {0}
    assert len(index) == 6  # the ESC-50 index is untouched
    assert [i.fold for i in index.subset(fold=2).items] == [2, 2]
    assert len(open_dataset(trees.lrw(tmp_path / "lrw")).subset(split="val")) == 4
