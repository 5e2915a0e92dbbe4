"""Readers for layouts made of folders and split lists: LRS2, LRW, UCF101, HMDB51, ImageFolder.

As in :mod:`avlib.data.readers`, each reader is the one place its layout is
validated: entries listed twice (or in two splits, or in the train and the
test list of one UCF split), classes outside ``classInd.txt``, misnamed files
and text that is not UTF-8 are counted skips (errors in strict mode).
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from avlib.data.index import (
    DataIndex,
    Item,
    Problems,
    build_index,
    decode_text,
    existing,
    inside,
    rel_to,
    text_lines,
    undecodable,
)
from avlib.data.readers import IMAGE_SUFFIXES, VIDEO_SUFFIXES

LRS2_SPLITS = ("pretrain", "train", "val", "test")
LRW_SPLITS = ("train", "val", "test")
UCF_LISTS = 3


def _transcript(
    path: Path, problems: Problems
) -> tuple[dict[str, str], list[tuple[str, float, float]]] | None:
    """'Key:  value' header lines and, in LRS2 pretrain files, the WORD START END rows; None
    (after reporting it) when the file is not UTF-8 text."""
    fields: dict[str, str] = {}
    words: list[tuple[str, float, float]] = []
    if not path.is_file():
        return fields, words
    text = decode_text(path, problems)
    bad = undecodable(text)
    if bad:
        problems.add(path, f"not UTF-8 text ({bad}): its clip is left out")
        return None
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        parts = line.split()
        if sep and " " not in key.strip():
            fields[key.strip()] = value.strip()
        elif len(parts) >= 3 and parts[0] != "WORD":
            try:
                words.append((parts[0], float(parts[1]), float(parts[2])))
            except ValueError:
                continue
    return fields, words


def read_lrs2(root: Path, problems: Problems) -> DataIndex:
    """LRS2: {pretrain,train,val,test}.txt list '<id>/<utt>' -> main/ or pretrain/<id>/<utt>.mp4 + .txt."""
    items, no_text, first = [], 0, {}
    lists = [(s, root / f"{s}.txt") for s in LRS2_SPLITS if (root / f"{s}.txt").is_file()]
    for split, listing in lists:
        folder = "pretrain" if split == "pretrain" else "main"
        for n, line in text_lines(listing, problems):
            if not line.strip():
                continue
            name = line.split()[0]  # test.txt rows may carry a tag after the name
            if name in first:
                problems.add(name, f"listed again (first in {first[name]})", listing, n)
                continue
            first[name] = f"{listing.name} line {n}"
            path = existing(root, f"{folder}/{name}.mp4", problems, listing, n)
            if path is None:
                continue
            transcript = _transcript(path.with_suffix(".txt"), problems)
            if transcript is None:
                continue
            fields, words = transcript
            no_text += "Text" not in fields
            extra = {"words": words} if words else {}
            items.append(
                Item(
                    path,
                    rel_to(root, path),
                    split=split,
                    text=fields.get("Text"),
                    source_id=name.split("/")[0],
                    extra=extra,
                )
            )
    notes = [] if lists else ["no split files ({pretrain,train,val,test}.txt): no items"]
    if no_text:
        notes.append(f"{no_text} utterances without a 'Text:' transcript")
    return build_index("lrs2", root, items, [], problems, notes)


def read_lrw(root: Path, problems: Problems) -> DataIndex:
    """LRW: <WORD>/{train,val,test}/<WORD>_<nnnnn>.mp4 (+ .txt 'Duration: x.xx seconds'); 500 words."""
    items = []
    for word_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        word = word_dir.name
        for split in LRW_SPLITS:
            for path in sorted((word_dir / split).glob("*.mp4")):
                if re.fullmatch(rf"{re.escape(word)}_\d+", path.stem) is None:
                    problems.add(path, f"name is not {word}_<nnnnn>.mp4 in word folder {word}")
                    continue
                transcript = _transcript(path.with_suffix(".txt"), problems)
                if transcript is None:
                    continue
                fields, extra = transcript[0], {}
                if "Duration" in fields:
                    seconds = re.fullmatch(r"(\d+(?:\.\d+)?)(?:\s+seconds)?", fields["Duration"])
                    if seconds is None:
                        problems.add(
                            path.with_suffix(".txt"),
                            f"Duration is {fields['Duration']!r}, not 'x.xx seconds'",
                        )
                        continue
                    extra["word_duration_s"] = float(seconds[1])
                items.append(
                    Item(
                        path,
                        rel_to(root, path),
                        None,
                        word,
                        split=split,
                        text=word,
                        source_id=path.stem,
                        extra=extra,
                    )
                )
    classes = sorted({i.label_name for i in items})
    for item in items:
        item.label = classes.index(item.label_name)
    return build_index("lrw", root, items, classes, problems)


def _video_path(folder: Path, name: str) -> Path | None:
    """``folder / name``, or the same stem with another video suffix; None for an unsafe name."""
    path = inside(folder, name)
    if path is None or path.is_file():
        return path
    for suffix in VIDEO_SUFFIXES:
        if path.with_suffix(suffix).is_file():
            return path.with_suffix(suffix)
    return path


def read_ucf101(root: Path, problems: Problems) -> DataIndex:
    """UCF101: UCF-101/<Class>/v_<Class>_g<gg>_c<cc>.* with classInd.txt and 3 train/test split lists."""
    lists_dir = root / "ucfTrainTestlist"
    class_ind = lists_dir / "classInd.txt"
    classes: list[str] = []
    if class_ind.is_file():
        for n, line in text_lines(class_ind, problems):
            parts = line.split()
            if not parts:
                continue
            if len(parts) != 2 or not parts[0].isdigit() or int(parts[0]) != len(classes) + 1:
                problems.add(class_ind, f"not '<index> <Class>' in order: {line!r}", class_ind, n)
                continue
            if parts[1] in classes:
                problems.add(class_ind, f"class {parts[1]!r} listed twice", class_ind, n)
                continue
            classes.append(parts[1])
    splits: dict[Path, list[str | None]] = {}
    for k in range(UCF_LISTS):
        for kind in ("train", "test"):
            listing = lists_dir / f"{kind}list0{k + 1}.txt"
            if not listing.is_file():
                continue
            for n, line in text_lines(listing, problems):
                if not line.strip():
                    continue
                rel = line.split()[0]
                path = _video_path(root / "UCF-101", rel)
                if path is None or not path.is_file():
                    problems.add(
                        rel,
                        "path escapes the data root" if path is None else "missing file",
                        listing,
                        n,
                    )
                    continue
                assigned = splits.setdefault(path, [None] * UCF_LISTS)
                if assigned[k] is not None:
                    again = "listed again" if assigned[k] == kind else f"also in {assigned[k]}"
                    problems.add(rel, f"{again} in split {k + 1}", listing, n)
                    continue
                assigned[k] = kind
    notes = []
    if not splits:
        notes.append("no split lists in ucfTrainTestlist/: every video indexed without a split")
        splits = {
            p: [None] * UCF_LISTS
            for p in sorted((root / "UCF-101").glob("*/*"))
            if p.suffix.lower() in VIDEO_SUFFIXES
        }
    classes = classes or sorted({p.parent.name for p in splits})
    items = []
    for path, assigned in splits.items():
        m = re.fullmatch(r"v_(.+)_g(\d+)_c(\d+)", path.stem)
        if m is None or m[1] != path.parent.name or m[1] not in classes:
            problems.add(path, "not UCF-101/<Class>/v_<Class>_g<gg>_c<cc> of a classInd.txt class")
            continue
        items.append(
            Item(
                path,
                rel_to(root, path),
                classes.index(m[1]),
                m[1],
                split=assigned[0],
                source_id=f"{m[1]}_g{m[2]}",
                extra={"splits": tuple(assigned), "group": int(m[2])},
            )
        )
    return build_index("ucf101", root, items, classes, problems, notes)


HMDB_SPLITS_DIR = "testTrainMulti_7030_splits"
HMDB_MARKS = {"0": None, "1": "train", "2": "test"}  # HMDB51's split files: 0 = unused


def read_hmdb51(root: Path, problems: Problems) -> DataIndex:
    """HMDB51: <class>/<video>.avi (or a transcoded .mp4) and testTrainMulti_7030_splits/
    <class>_test_split{1,2,3}.txt of '<video> <mark>' lines (1 train, 2 test, 0 unused).

    Each item's ``extra["splits"]`` holds its role in splits 1-3 ("train", "test" or None),
    as UCF101's; ``split`` is its role in split 1.
    """
    lists = sorted((root / HMDB_SPLITS_DIR).glob("*.txt"))
    marks: dict[tuple[str, Path], list[str | None]] = defaultdict(lambda: [None] * UCF_LISTS)
    for listing in lists:
        m = re.fullmatch(r"(.+)_test_split([1-3])\.txt", listing.name)
        if m is None:
            problems.add(listing, "not <class>_test_split<1|2|3>.txt")
            continue
        cls, k = m[1], int(m[2]) - 1
        for n, line in enumerate(listing.read_text().splitlines(), start=1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) != 2 or parts[1] not in HMDB_MARKS:
                problems.add(listing, f"not '<video> <0|1|2>': {line!r}", listing, n)
                continue
            path = _video_path(root / cls, parts[0])
            if path is None or not path.is_file():
                reason = "path escapes the data root" if path is None else "missing file"
                problems.add(parts[0] if path is None else path, reason, listing, n)
                continue
            marks[(cls, path)][k] = HMDB_MARKS[parts[1]]
    notes = []
    if not lists:
        notes.append(f"no split files in {HMDB_SPLITS_DIR}/: every video indexed without a split")
        marks = {
            (p.parent.name, p): [None] * UCF_LISTS
            for p in sorted(root.glob("*/*"))
            if p.suffix.lower() in VIDEO_SUFFIXES and p.parent.name != HMDB_SPLITS_DIR
        }
    classes = sorted({cls for cls, _ in marks})
    items = [
        Item(
            path,
            rel_to(root, path),
            classes.index(cls),
            cls,
            split=assigned[0],
            source_id=path.stem,
            extra={"splits": tuple(assigned)},
        )
        for (cls, path), assigned in marks.items()
    ]
    return build_index("hmdb51", root, items, classes, problems, notes)


def read_imagefolder(root: Path, problems: Problems) -> DataIndex:
    """ImageFolder (ImageNet, Places analogues): {train,val}/<class>/<name>.<png|jpg|...>."""
    found = [
        (split, path)
        for split in ("train", "val")
        for path in sorted((root / split).glob("*/*"))
        if path.suffix.lower() in IMAGE_SUFFIXES
    ]
    classes = sorted({p.parent.name for _, p in found})
    items = [
        Item(p, rel_to(root, p), classes.index(p.parent.name), p.parent.name, split=s)
        for s, p in found
    ]
    return build_index("imagefolder", root, items, classes, problems)
