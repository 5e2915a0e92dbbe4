"""Which layout a directory is in, and ``open_dataset``: the entry point to every reader.

A layout is recognised by the files the real data set ships (ARCHITECTURE.md,
"Data layouts"); the procedural world writes the same files. A world root
(one sub-directory per data set) is not itself a data set:
:func:`find_datasets` lists what it holds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from avlib.data.index import DataIndex, Problems
from avlib.data.readers import (
    IMAGE_SUFFIXES,
    kinetics_csvs,
    read_audioset,
    read_dcase2013,
    read_esc50,
    read_flickr_soundnet,
    read_kinetics,
)
from avlib.data.readers_folders import (
    HMDB_SPLITS_DIR,
    read_hmdb51,
    read_imagefolder,
    read_lrs2,
    read_lrw,
    read_ucf101,
)
from avlib.errors import LayoutError
from avlib.profiles import check_data_root


@dataclass(frozen=True)
class Layout:
    """A known layout: how to recognise it (``looks_for`` says what, for error messages) and read it."""

    name: str
    looks_for: str
    detect: Callable[[Path], bool]
    read: Callable[[Path, Problems], DataIndex]
    streams: tuple[str, ...] = ("audio", "video")  # what its media must hold (`check --probe`)


def _has_split_subdirs(root: Path) -> bool:
    """LRW: some top-level folder holds train/, val/ or test/ with mp4s."""
    return any(
        any(
            (d / s).is_dir() and next((d / s).glob("*.mp4"), None) for s in ("train", "val", "test")
        )
        for d in root.iterdir()
        if d.is_dir()
    )


def _is_imagefolder(root: Path) -> bool:
    return any(
        p.suffix.lower() in IMAGE_SUFFIXES
        for split in ("train", "val")
        for p in (root / split).glob("*/*")
    )


LAYOUTS: tuple[Layout, ...] = (
    Layout(
        "esc50",
        "meta/esc50.csv",
        lambda r: (r / "meta" / "esc50.csv").is_file(),
        read_esc50,
        ("audio",),
    ),
    Layout(
        "dcase2013",
        "scenes_stereo/",
        lambda r: (r / "scenes_stereo").is_dir(),
        read_dcase2013,
        ("audio",),
    ),
    Layout(
        "kinetics_sounds",
        "kinetics_sounds.csv (or a csv with Kinetics columns)",
        lambda r: bool(kinetics_csvs(r)),
        read_kinetics,
    ),
    Layout(
        "flickr_soundnet",
        "videos.txt",
        lambda r: (r / "videos.txt").is_file(),
        read_flickr_soundnet,
    ),
    Layout(
        "audioset",
        "class_labels_indices.csv",
        lambda r: (r / "class_labels_indices.csv").is_file(),
        read_audioset,
    ),
    Layout(
        "lrs2",
        "main/ and {pretrain,train,val,test}.txt",
        lambda r: (r / "main").is_dir() or (r / "pretrain").is_dir(),
        read_lrs2,
    ),
    # about half of the real UCF101 videos have no audio track
    Layout("ucf101", "UCF-101/", lambda r: (r / "UCF-101").is_dir(), read_ucf101, ("video",)),
    Layout(
        "hmdb51",
        f"{HMDB_SPLITS_DIR}/",
        lambda r: (r / HMDB_SPLITS_DIR).is_dir(),
        read_hmdb51,
        ("video",),
    ),
    Layout("lrw", "<WORD>/{train,val,test}/*.mp4", _has_split_subdirs, read_lrw),
    Layout(
        "imagefolder",
        "{train,val}/<class>/<image>",
        _is_imagefolder,
        read_imagefolder,
        ("video",),
    ),
)
BY_NAME = {layout.name: layout for layout in LAYOUTS}


def detect_layout(root: str | Path) -> str:
    """The name of the layout ``root`` is in; LayoutError naming what was looked for if none."""
    root = check_data_root(root)
    for layout in LAYOUTS:
        if layout.detect(root):
            return layout.name
    held = find_datasets(root)
    if held:
        listing = ", ".join(f"{d} ({n})" for d, n in held.items())
        raise LayoutError(
            root,
            f"a world root, not a data set: it holds {listing}",
            "pass one of its sub-directories",
        )
    looked = "; ".join(f"{layout.name}: {layout.looks_for}" for layout in LAYOUTS)
    raise LayoutError(root, f"in no known layout (looked for {looked})")


def find_datasets(root: str | Path) -> dict[str, str]:
    """{sub-directory name: layout} for the data sets directly under a world root."""
    root = check_data_root(root)
    found = {}
    for d in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for layout in LAYOUTS:
            if layout.detect(d):
                found[d.name] = layout.name
                break
    return found


def open_dataset(root: str | Path, layout: str | None = None, *, strict: bool = False) -> DataIndex:
    """Read the data set at ``root`` (layout detected unless given).

    With ``strict`` the first malformed row, unknown class, unsafe path or
    missing file raises MetadataError; otherwise each becomes a counted skip in
    ``index.skipped``.
    """
    root = check_data_root(root)
    name = layout or detect_layout(root)
    if name not in BY_NAME:
        raise LayoutError(root, f"unknown layout {name!r}: choose one of {', '.join(BY_NAME)}")
    return BY_NAME[name].read(root, Problems(strict))


def locate_dataset(root: str | Path, layout: str, name: str | None = None) -> Path:
    """The data set in ``layout``: ``root`` itself, or the sub-directory of a world root in it.

    ``name`` picks among several sub-directories in one layout (``imagenet`` vs
    ``places``, both ImageFolder).
    """
    root = check_data_root(root)
    if layout not in BY_NAME:
        raise LayoutError(root, f"unknown layout {layout!r}: choose one of {', '.join(BY_NAME)}")
    if BY_NAME[layout].detect(root):
        return root
    found = [d for d, kind in find_datasets(root).items() if kind == layout]
    if name is not None and name in found:
        return root / name
    if len(found) == 1:
        return root / found[0]
    if found:
        raise LayoutError(
            root, f"holds several {layout} data sets ({', '.join(found)})", "pass one of them"
        )
    raise LayoutError(
        root,
        f"holds no {layout} data set (looked for {BY_NAME[layout].looks_for} here and in its sub-directories)",
        "point data_root at one, or at a directory of data sets",
    )
