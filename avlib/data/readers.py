"""One reader per data-set layout (ARCHITECTURE.md, "Data layouts"), each ``(root, problems) -> index``.

The readers read the real data sets' own files; the procedural world writes the
same layouts, so nothing here knows which one it reads. Layout-specific facts
that do not fit :class:`Item`'s fields go in ``Item.extra``: ESC-50 ``esc10``,
``take``, ``target``; LRS2 ``words`` (word, start, end) from pretrain
transcripts; LRW ``word_duration_s``; UCF101 ``splits`` (assignment in split
lists 1-3) and ``group``.

Each reader is the one place its layout's metadata is validated: rows that are
malformed, duplicated (or the same clip in two splits), out of range (ESC folds
1-5, targets 0-49), of an unknown class, target or split, or not UTF-8 are
problems (:class:`~avlib.data.index.Problems`: a counted skip, or an error in
strict mode). A file whose duration disagrees with its csv times is found where
files are opened: ``avlib data check --probe`` and the decoded cache
(:func:`~avlib.data.index.duration_problem`).
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import replace
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
from avlib.errors import MetadataError

VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".webm", ".mov")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")
KINETICS_COLUMNS = ("label", "youtube_id", "time_start", "time_end", "split")
DCASE_FOLDS = 5
ESC_FOLDS = range(1, 6)  # ESC-50's five folds
ESC_TARGETS = range(50)  # ESC-50's 50 classes
# DCASE 2013 scene classification's ten classes (the world writes the same names)
DCASE2013_SCENES = (
    "bus", "busystreet", "office", "openairmarket", "park", "quietstreet", "restaurant",
    "supermarket", "tube", "tubestation",
)  # fmt: skip
KINETICS_SPLITS = {"train": "train", "val": "val", "validate": "val", "test": "test"}

# The 34 Kinetics-Sounds classes in L3's naming (PAPERS.md).
KINETICS_SOUNDS = (
    "blowing nose", "bowling", "chopping wood", "ripping paper", "shuffling cards", "singing",
    "tapping pen", "typing", "blowing out candles", "dribbling basketball", "laughing",
    "mowing lawn", "shoveling snow", "stomping grapes", "tap dancing", "tapping guitar",
    "tickling", "fingerpicking", "patting", "playing accordion", "playing bagpipes",
    "playing bass guitar", "playing clarinet", "playing drums", "playing guitar",
    "playing harmonica", "playing keyboard", "playing organ", "playing piano",
    "playing saxophone", "playing trombone", "playing trumpet", "playing violin",
    "playing xylophone",
)  # fmt: skip
# Released Kinetics names -> Kinetics-Sounds names. 31 of the 34 are Kinetics-400 classes
# under the same name; L3 used names of an earlier Kinetics release, mapped here. Not in
# Kinetics-400 at all: fingerpicking, patting, typing (a reader of K400 finds none).
KINETICS_TO_SOUNDS = {name: name for name in KINETICS_SOUNDS} | {
    "blowing out": "blowing out candles",
    "dribbling ball": "dribbling basketball",
    "mowing the lawn by pushing lawnmower": "mowing lawn",
    "stomping": "stomping grapes",
}


def read_csv(
    path: Path, required: Sequence[str], problems: Problems
) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, row) for each well-formed row; a header lacking ``required`` columns (or not
    UTF-8) is an error, a row that is ragged or not UTF-8 a problem."""
    if not path.is_file():
        raise MetadataError(path, "missing metadata file")
    reader = csv.reader(io.StringIO(decode_text(path, problems), newline=""), skipinitialspace=True)
    header = [h.strip() for h in next(reader, [])]
    bad = undecodable(",".join(header))
    if bad:
        raise MetadataError(path, f"line 1: the header is not UTF-8 text ({bad})")
    missing = [c for c in required if c not in header]
    if missing:
        raise MetadataError(path, f"header lacks column(s) {', '.join(missing)}: {header}")
    for row in reader:
        if not row or not "".join(row).strip():
            continue
        bad = undecodable(",".join(row))
        if bad:
            problems.add(path, f"not UTF-8 text ({bad})", path, reader.line_num)
            continue
        if len(row) != len(header):
            problems.add(
                path, f"{len(row)} fields, header has {len(header)}", path, reader.line_num
            )
            continue
        yield reader.line_num, {k: v.strip() for k, v in zip(header, row, strict=True)}


def _times(row: dict[str, str], start: str, end: str) -> tuple[float, float] | str:
    """(start, end) seconds of a csv row, or what is wrong with them."""
    try:
        t0, t1 = float(row[start]), float(row[end])
    except ValueError:
        return f"times not numbers: {row[start]!r}, {row[end]!r}"
    if not (math.isfinite(t0) and math.isfinite(t1)) or t0 < 0 or t1 <= t0:
        return f"times are not a segment 0 <= start < end: {row[start]!r}, {row[end]!r}"
    return t0, t1


def _relabel(items: list[Item], classes: list[str]) -> None:
    where = {c: k for k, c in enumerate(classes)}
    for item in items:
        item.label = where[item.label_name]


def read_esc50(root: Path, problems: Problems) -> DataIndex:
    """ESC-50: meta/esc50.csv rows -> audio/{fold}-{src}-{take}-{target}.wav; 5 folds, esc10 column."""
    meta = root / "meta" / "esc50.csv"
    items, names, folds_of_source = [], {}, defaultdict(set)
    targets_of, first_line = {}, {}  # category -> target; filename -> its first line
    for line, row in read_csv(meta, ("filename", "fold", "target", "category"), problems):
        name, category = row["filename"], row["category"]
        if name in first_line:
            problems.add(name, f"duplicate row (first at line {first_line[name]})", meta, line)
            continue
        first_line[name] = line
        m = re.fullmatch(r"(\d+)-([^-/]+)-([^-/]+)-(\d+)\.wav", name)
        try:
            fold, target = int(row["fold"]), int(row["target"])
        except ValueError:
            problems.add(
                name, f"fold/target not integers: {row['fold']!r}, {row['target']!r}", meta, line
            )
            continue
        problem = None
        if fold not in ESC_FOLDS:
            problem = f"fold {fold} out of range 1-5"
        elif target not in ESC_TARGETS:
            problem = f"target {target} out of range 0-49 (ESC-50 has 50 classes)"
        elif m is None or (int(m[1]), int(m[4])) != (fold, target):
            problem = "filename is not {fold}-{src}-{take}-{target}.wav of its row"
        elif not category:
            problem = "empty category"
        elif names.get(target, category) != category:
            problem = f"target {target} is {names[target]!r} elsewhere, {category!r} here"
        elif targets_of.get(category, target) != target:
            problem = (
                f"category {category!r} is target {targets_of[category]} elsewhere, {target} here"
            )
        elif row.get("esc10", "False").lower() not in ("true", "false"):
            problem = f"esc10 is {row['esc10']!r}, not True or False"
        if problem:
            problems.add(name, problem, meta, line)
            continue
        names[target], targets_of[category] = category, target  # a class even if its file is gone
        path = existing(root, f"audio/{name}", problems, meta, line)
        if path is None:
            continue
        source = row.get("src_file") or m[2]
        folds_of_source[source].add(fold)
        esc10 = row.get("esc10", "False").lower() == "true"
        extra = {"esc10": esc10, "take": row.get("take") or m[3], "target": target}
        items.append(
            Item(path, rel_to(root, path), None, category, fold=fold, source_id=source, extra=extra)
        )
    classes = [names[t] for t in sorted(names)]
    _relabel(items, classes)
    leaks = sorted(s for s, f in folds_of_source.items() if len(f) > 1)
    notes = (
        [f"sources in more than one fold (breaks the ESC protocol): {leaks[:10]}"] if leaks else []
    )
    return build_index("esc50", root, items, classes, problems, notes)


def esc10(index: DataIndex) -> DataIndex:
    """The ESC-10 subset of an ESC-50 index (its esc10 column), labels renumbered in target order."""
    items = [i for i in index.items if i.extra.get("esc10")]
    classes = [c for c in index.classes if any(i.label_name == c for i in items)]
    items = [replace(i, label=classes.index(i.label_name)) for i in items]
    return replace(index, layout="esc10", items=items, classes=classes)


def read_dcase2013(root: Path, problems: Problems) -> DataIndex:
    """DCASE 2013 scenes: scenes_stereo/<class><nn>.wav; 5 stratified folds dealt in file-number order."""
    by_class = defaultdict(list)
    for path in sorted((root / "scenes_stereo").glob("*.wav")):
        m = re.fullmatch(r"([A-Za-z_]+?)(\d+)", path.stem)
        if m is None:
            problems.add(path, "name is not <class><nn>.wav")
            continue
        if m[1] not in DCASE2013_SCENES:
            problems.add(
                path, f"unknown scene class {m[1]!r} (DCASE 2013: {', '.join(DCASE2013_SCENES)})"
            )
            continue
        by_class[m[1]].append((int(m[2]), path))
    classes = sorted(by_class)
    items = []
    for name in classes:
        for rank, (_, path) in enumerate(sorted(by_class[name])):
            fold = rank % DCASE_FOLDS + 1
            items.append(Item(path, rel_to(root, path), None, name, fold=fold, source_id=path.stem))
    _relabel(items, classes)
    note = "folds: each class's files in number order dealt round-robin into 5 folds (2 per class per fold for 10 files)"
    return build_index("dcase2013", root, items, classes, problems, [note])


def kinetics_csvs(root: Path) -> list[Path]:
    own = root / "kinetics_sounds.csv"
    if own.is_file():
        return [own]
    found = []
    for path in sorted(root.glob("*.csv")):
        try:
            first = path.read_bytes()[:4096].decode("utf-8-sig", errors="replace")
        except OSError:
            continue
        header = [h.strip() for h in next(csv.reader(io.StringIO(first)), [])]
        if all(c in header for c in KINETICS_COLUMNS[:4]):
            found.append(path)
    return found


def read_kinetics(root: Path, problems: Problems) -> DataIndex:
    """Kinetics(-Sounds): csv rows -> <split>/<label>/<id>_<start:06d>_<end:06d>.mp4.

    ``kinetics_sounds.csv`` is read whole (names mapped through KINETICS_TO_SOUNDS);
    released Kinetics csvs are restricted to the Kinetics-Sounds classes.
    """
    items, notes = [], []
    csvs = kinetics_csvs(root)
    if not csvs:
        raise MetadataError(root, "no kinetics_sounds.csv and no csv with Kinetics columns")
    seen: dict[tuple, tuple[str, str, int]] = {}  # clip -> (split, csv, line)
    for meta in csvs:
        whole, outside = meta.name == "kinetics_sounds.csv", 0
        for line, row in read_csv(meta, KINETICS_COLUMNS, problems):
            label = row["label"]
            name = KINETICS_TO_SOUNDS.get(label)
            if name is None and not whole:
                outside += 1  # a released Kinetics csv: classes outside Kinetics-Sounds
                continue
            times = _times(row, "time_start", "time_end")
            split = KINETICS_SPLITS.get(row["split"])
            problem = None
            if name is None:
                problem = f"unknown label {label!r} (not one of the 34 Kinetics-Sounds classes)"
            elif isinstance(times, str):
                problem = times
            elif split is None:
                problem = f"unknown split {row['split']!r} (train, val or validate, test)"
            if problem:
                problems.add(meta, problem, meta, line)
                continue
            start, end = times
            clip = (row["youtube_id"], start, end)
            if clip in seen:
                other, where, at = seen[clip]
                again = "duplicate of" if other == split else f"also in split {other} at"
                problems.add(meta, f"{again} {where} line {at}", meta, line)
                continue
            seen[clip] = (split, meta.name, line)
            base = f"{row['youtube_id']}_{round(start):06d}_{round(end):06d}.mp4"
            path = None
            for folder in dict.fromkeys((label, label.replace(" ", "_"))):
                candidate = inside(root, f"{row['split']}/{folder}/{base}")
                if candidate is not None and candidate.is_file():
                    path = candidate
                    break
            if path is None:
                path = existing(root, f"{row['split']}/{label}/{base}", problems, meta, line)
            if path is not None:
                items.append(
                    Item(
                        path,
                        rel_to(root, path),
                        None,
                        name,
                        split=split,
                        start_s=start,
                        end_s=end,
                        source_id=row["youtube_id"],
                    )
                )
        if outside:
            notes.append(f"{meta.name}: {outside} rows of classes outside Kinetics-Sounds left out")
    classes = sorted({i.label_name for i in items})
    _relabel(items, classes)
    return build_index("kinetics_sounds", root, items, classes, problems, notes)


def read_flickr_soundnet(root: Path, problems: Problems) -> DataIndex:
    """Flickr-SoundNet-like unlabelled videos listed in videos.txt (paths relative to the root)."""
    listing = root / "videos.txt"
    items, first_line = [], {}
    for n, line in text_lines(listing, problems):
        rel = line.strip()
        if not rel:
            continue
        if rel in first_line:
            problems.add(rel, f"listed again (first at line {first_line[rel]})", listing, n)
            continue
        first_line[rel] = n
        path = existing(root, rel, problems, listing, n)
        if path is not None:
            items.append(Item(path, rel_to(root, path), source_id=path.stem))
    return build_index("flickr_soundnet", root, items, [], problems)


AUDIOSET_SPLITS = {
    "balanced_train": "train",
    "eval": "test",
    "unbalanced_train": "unbalanced_train",
}


def read_audioset(root: Path, problems: Problems) -> DataIndex:
    """AudioSet: class_labels_indices.csv + {balanced_train,eval}_segments.csv -> clips/<YTID>_<ms>_<ms>.mp4."""
    meta = root / "class_labels_indices.csv"
    names: dict[str, str] = {}
    order: dict[int, str] = {}
    for line, row in read_csv(meta, ("index", "mid", "display_name"), problems):
        try:
            index = int(row["index"])
        except ValueError:
            problems.add(meta, f"index not an integer: {row['index']!r}", meta, line)
            continue
        if index in order or row["mid"] in names:
            problems.add(meta, f"index {index} or mid {row['mid']!r} listed twice", meta, line)
            continue
        order[index] = row["mid"]
        names[row["mid"]] = row["display_name"]
    classes = [names[order[k]] for k in sorted(order)]
    items, seen = [], {}
    for stem, split in AUDIOSET_SPLITS.items():
        seg = root / f"{stem}_segments.csv"
        if not seg.is_file():
            continue
        lines = [(n, ln) for n, ln in text_lines(seg, problems) if not ln.startswith("#")]
        for n, text in lines:
            if not text.strip():
                continue
            (row,) = list(csv.reader([text], skipinitialspace=True))
            if len(row) != 4:
                problems.add(seg, f"{len(row)} fields, expected 4", seg, n)
                continue
            ytid, start, end, mids = (v.strip() for v in row)
            times = _times({"s": start, "e": end}, "s", "e")
            if isinstance(times, str):
                problems.add(seg, times, seg, n)
                continue
            t0, t1 = times
            unknown = [m for m in mids.split(",") if m not in names]
            if unknown or not mids:
                problems.add(seg, f"unknown label id(s) {unknown or mids!r}", seg, n)
                continue
            if (ytid, t0, t1) in seen:
                problems.add(seg, f"segment listed again (first at {seen[ytid, t0, t1]})", seg, n)
                continue
            seen[ytid, t0, t1] = f"{seg.name} line {n}"
            rel = f"clips/{ytid}_{round(t0 * 1000)}_{round(t1 * 1000)}.mp4"
            path = existing(root, rel, problems, seg, n)
            if path is None:
                continue
            labels = tuple(names[m] for m in mids.split(","))
            items.append(
                Item(
                    path,
                    rel,
                    classes.index(labels[0]),
                    labels[0],
                    split=split,
                    start_s=t0,
                    end_s=t1,
                    source_id=ytid,
                    labels=labels,
                )
            )
    return build_index("audioset", root, items, classes, problems)
