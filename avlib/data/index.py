"""The typed index every layout reader returns: items, classes, counted skips, protocol splits.

A reader never drops a row silently: a problem (malformed or duplicate row,
unknown class, target, fold or split, path escaping the data root, missing
file, text that is not UTF-8) raises :class:`MetadataError` naming the file and
line in strict mode, and otherwise becomes a :class:`Skip` listed in
``DataIndex.skipped``, which runs copy into their results. A problem that
loses no row (a UTF-8 byte-order mark, read past) is a warning: counted by
``avlib data check``, an error in strict mode, listed in
``DataIndex.warnings``. Text files are read through :func:`text_lines` /
:func:`decode_text`, so every reader handles encodings the same way.
"""

from __future__ import annotations

import codecs
import json
import re
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from avlib.errors import MetadataError

TRUTH_FILE = "avbook_truth.jsonl"


@dataclass
class Item:
    """One media file of a data set and what its metadata says about it."""

    path: Path  # absolute path of the media file
    rel: str  # path relative to the data set root: the item's stable id
    label: int | None = None  # index into DataIndex.classes
    label_name: str | None = None
    split: str | None = None  # train / val / test / pretrain (UCF101: split list 1)
    fold: int | None = None  # cross-validation fold (ESC-50, DCASE)
    start_s: float | None = None  # segment of the source recording the file holds (csv times)
    end_s: float | None = None
    text: str | None = None  # transcript (LRS2) or word (LRW)
    source_id: str | None = None  # source recording: ESC src_file, YouTube id, LRS2 video id
    truth: dict | None = None  # the world's avbook_truth.jsonl record; None for real data
    labels: tuple[str, ...] = ()  # all class names (multi-label AudioSet)
    extra: dict[str, Any] = field(
        default_factory=dict
    )  # layout-specific facts (documented per reader)


@dataclass(frozen=True)
class Skip:
    """A row or file left out, and why; ``source``/``line`` name the metadata row when there is one."""

    path: str
    reason: str
    source: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class EvalSplit:
    """One train/test partition of a protocol (an ESC fold, a UCF split list, a fixed test set)."""

    name: str
    train: np.ndarray  # item indices
    test: np.ndarray


@dataclass
class DataIndex:
    """A data set read from disk: items, class names (label i is classes[i]), skips and notes."""

    layout: str
    root: Path
    items: list[Item]
    classes: list[str]
    skipped: list[Skip] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warnings: list[Skip] = field(default_factory=list)  # problems that dropped no row (a BOM)

    def __len__(self) -> int:
        return len(self.items)

    def labels(self) -> np.ndarray:
        """(N,) int64 labels, -1 for unlabelled items."""
        return np.array([-1 if i.label is None else i.label for i in self.items], np.int64)

    def subset(self, *, split: str | None = None, fold: int | None = None) -> DataIndex:
        """The items of one split and/or fold (classes and skips kept)."""
        items = [
            i
            for i in self.items
            if (split is None or i.split == split) and (fold is None or i.fold == fold)
        ]
        return replace(self, items=items)

    def counts(self) -> dict[str, dict[str, int]]:
        """Item counts per split, fold and class."""
        return {
            "split": dict(Counter(i.split for i in self.items if i.split is not None)),
            "fold": dict(Counter(str(i.fold) for i in self.items if i.fold is not None)),
            "class": dict(Counter(i.label_name for i in self.items if i.label_name is not None)),
        }

    def protocol_splits(self) -> list[EvalSplit]:
        """The data set's own evaluation protocol: CV folds, UCF's 3 split lists, or train vs test."""
        idx = np.arange(len(self.items))
        folds = sorted({i.fold for i in self.items if i.fold is not None})
        if folds:
            f = np.array([-1 if i.fold is None else i.fold for i in self.items])
            return [EvalSplit(f"fold{k}", idx[(f != k) & (f > 0)], idx[f == k]) for k in folds]
        lists = max((len(i.extra.get("splits", ())) for i in self.items), default=0)
        if lists:
            out = []
            for k in range(lists):
                s = np.array([i.extra.get("splits", ())[k : k + 1] or (None,) for i in self.items])
                out.append(
                    EvalSplit(f"split{k + 1}", idx[s[:, 0] == "train"], idx[s[:, 0] == "test"])
                )
            return out
        splits = np.array([str(i.split) for i in self.items])
        test = "test" if "test" in splits else "val"
        if "train" in splits and test in splits:
            return [EvalSplit(test, idx[splits == "train"], idx[splits == test])]
        return []

    def summary(self) -> dict[str, Any]:
        """A JSON-ready description for results files: layout, counts, every skip and note."""
        return {
            "layout": self.layout,
            "root": str(self.root),
            "n_items": len(self.items),
            "n_classes": len(self.classes),
            "counts": self.counts(),
            "skipped": [asdict(s) for s in self.skipped],
            "warnings": [asdict(s) for s in self.warnings],
            "notes": list(self.notes),
        }


class Problems:
    """Collects reader problems: raise MetadataError when strict, else record a Skip (or warning)."""

    def __init__(self, strict: bool):
        self.strict = strict
        self.skipped: list[Skip] = []
        self.warnings: list[Skip] = []

    def _strict_error(self, path, reason, source, line) -> MetadataError:
        where = f"line {line}: " if line is not None else ""
        what = "" if source is None or Path(path) == Path(source) else f"{path}: "
        return MetadataError(
            source or path, f"{where}{what}{reason}", "fix the row, or read with strict=False"
        )

    def add(
        self, path: str | Path, reason: str, source: Path | None = None, line: int | None = None
    ):
        """Report one problem with ``path`` (a row of ``source`` at ``line`` when given)."""
        if self.strict:
            raise self._strict_error(path, reason, source, line)
        self.skipped.append(Skip(str(path), reason, None if source is None else str(source), line))

    def warn(
        self, path: str | Path, reason: str, source: Path | None = None, line: int | None = None
    ):
        """Report a problem that loses nothing (the file was read correctly anyway)."""
        if self.strict:
            raise self._strict_error(path, reason, source, line)
        self.warnings.append(Skip(str(path), reason, None if source is None else str(source), line))


_ESCAPED = re.compile("[\udc80-\udcff]")


def decode_text(path: Path, problems: Problems) -> str:
    """A metadata file's text: UTF-8, a byte-order mark read past (a warning), bytes that are not
    UTF-8 kept as lone surrogates for :func:`undecodable` to report per line."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as e:
        raise MetadataError(path, "missing metadata file") from e
    except OSError as e:
        raise MetadataError(path, f"cannot be read ({e.strerror})") from e
    if data.startswith(codecs.BOM_UTF8):
        problems.warn(path, "starts with a UTF-8 byte-order mark (read past it)", path, 1)
        data = data[len(codecs.BOM_UTF8) :]
    return data.decode("utf-8", errors="surrogateescape")


def undecodable(text: str) -> str | None:
    """'byte 0xE9 at column 12' for the first byte of ``text`` that was not UTF-8, else None."""
    m = _ESCAPED.search(text)
    if m is None:
        return None
    return f"byte 0x{ord(m[0]) - 0xDC00:02X} at column {m.start() + 1} is not UTF-8"


def text_lines(path: Path, problems: Problems) -> list[tuple[int, str]]:
    """(line number, line) of a text file; a line that is not UTF-8 is reported and left out."""
    out = []
    for n, line in enumerate(decode_text(path, problems).splitlines(), start=1):
        bad = undecodable(line)
        if bad:
            problems.add(path, f"not UTF-8 text ({bad})", path, n)
            continue
        out.append((n, line))
    return out


DURATION_TOLERANCE_S = 0.5  # a file may differ from its segment times by this much ...
DURATION_TOLERANCE_SHARE = 0.1  # ... or by this share of the segment, whichever is larger


def duration_problem(item: Item, duration_s: float | None) -> str | None:
    """Why a file's duration disagrees with its metadata's segment times (Kinetics and AudioSet
    csvs give ``start_s``/``end_s``), or None when it agrees or nothing can be compared.

    Tolerance: max(0.5 s, 10 % of the segment), wider than any codec padding
    or frame rounding; a clip of other content or a cut download is outside it.
    """
    if duration_s is None or item.start_s is None or item.end_s is None:
        return None
    expected = item.end_s - item.start_s
    if abs(duration_s - expected) <= max(DURATION_TOLERANCE_S, DURATION_TOLERANCE_SHARE * expected):
        return None
    return (
        f"duration mismatch: the file is {duration_s:.2f} s, its metadata says "
        f"{item.start_s:g}-{item.end_s:g} s ({expected:.2f} s)"
    )


def inside(root: Path, rel: str) -> Path | None:
    """``root / rel`` when ``rel`` is a relative path that stays under root, else None."""
    pure = PurePosixPath(rel.strip())
    if not rel.strip() or pure.is_absolute() or ".." in pure.parts or "\\" in rel:
        return None
    return root / pure


def existing(
    root: Path, rel: str, problems: Problems, source: Path | None = None, line: int | None = None
) -> Path | None:
    """The media file ``rel`` under root, or None after reporting an unsafe or missing path."""
    path = inside(root, rel)
    if path is None:
        problems.add(rel, "path escapes the data root", source, line)
        return None
    if not path.is_file():
        problems.add(path, "missing file", source, line)
        return None
    return path


def build_index(
    layout: str,
    root: Path,
    items: list[Item],
    classes: list[str],
    problems: Problems,
    notes: list[str] | None = None,
) -> DataIndex:
    """The finished index: items in path order, truth records attached, skips and notes recorded."""
    notes = list(notes or [])
    items = sorted(items, key=lambda i: i.rel)
    truth = _read_truth(root / TRUTH_FILE, problems)
    for item in items:
        item.truth = truth.pop(item.rel, None)
    if truth:
        notes.append(f"{TRUTH_FILE}: {len(truth)} records name no indexed item")
    return DataIndex(layout, root, items, classes, problems.skipped, notes, problems.warnings)


def _read_truth(path: Path, problems: Problems) -> dict[str, dict]:
    """avbook_truth.jsonl (the world's ground truth, absent for real data) keyed by relative path."""
    records: dict[str, dict] = {}
    if not path.is_file():
        return records
    for n, line in text_lines(path, problems):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            problems.add(path, f"not JSON ({e.msg})", path, n)
            continue
        if not isinstance(rec, dict) or not isinstance(rec.get("path"), str):
            problems.add(path, "record without a 'path' string", path, n)
            continue
        records[PurePosixPath(rec["path"]).as_posix()] = rec
    return records


def rel_to(root: Path, path: Path) -> str:
    """``path`` relative to ``root`` as a posix string."""
    return path.relative_to(root).as_posix()
