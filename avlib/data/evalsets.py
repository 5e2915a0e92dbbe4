"""Fixed evaluation sets: one seeded epoch of a sampler, kept as a CSV named by its parameters.

Rows name clips by their path relative to the data set root, so a set drawn
once (e.g. sync offsets for LRS2's test split) is reusable, reviewable and,
when small, committable. ``FixedSampler`` serves it with the samplers' API.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from avlib.atomic import atomic_open
from avlib.data.index import Item
from avlib.data.samplers import PairSampler, Windows
from avlib.errors import MetadataError

COLUMNS = ("video", "video_start", "audio", "audio_start", "label", "offset_frames", "kind")


def eval_set_name(kind: str, dataset: str, split: str, n: int, seed: int, **params) -> str:
    """e.g. ``offsets_lrs2_test_n500_seed0_max15.csv``: the parameters that define the set."""
    extra = "".join(f"_{k}{v}" for k, v in sorted(params.items()))
    return f"{kind}_{dataset}_{split}_n{n}_seed{seed}{extra}.csv"


def _join(values) -> str:
    return ";".join(str(int(v)) for v in np.atleast_1d(values))


def write_eval_set(path: str | Path, windows: Windows, items: list[Item]) -> Path:
    """Write ``windows`` (clip indices into ``items``) as a CSV of relative paths, atomically."""
    with atomic_open(path, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(COLUMNS)
        for k in range(len(windows)):
            audio = ";".join(items[c].rel for c in np.atleast_1d(windows.audio_clip[k]))
            out.writerow(
                [
                    items[windows.video_clip[k]].rel,
                    int(windows.video_start[k]),
                    audio,
                    _join(windows.audio_start[k]),
                    int(windows.label[k]),
                    _join(windows.offset_frames[k]),
                    int(windows.kind[k]),
                ]
            )
    return Path(path)


def read_eval_set(path: str | Path, items: list[Item]) -> Windows:
    """The windows of a CSV written by write_eval_set, as clip indices into ``items``."""
    path = Path(path)
    where = {item.rel: n for n, item in enumerate(items)}
    cols: dict[str, list] = {c: [] for c in COLUMNS}
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise MetadataError(path, f"header is {reader.fieldnames}, expected {list(COLUMNS)}")
        for row in reader:
            try:
                cols["video"].append(where[row["video"]])
                cols["audio"].append([where[r] for r in row["audio"].split(";")])
                for c in ("video_start", "label", "kind"):
                    cols[c].append(int(row[c]))
                for c in ("audio_start", "offset_frames"):
                    cols[c].append([int(v) for v in row[c].split(";")])
            except KeyError as e:
                raise MetadataError(
                    path, f"line {reader.line_num}: clip {e} is not in the index"
                ) from e
            except (ValueError, AttributeError) as e:
                raise MetadataError(path, f"line {reader.line_num}: malformed row ({e})") from e
    squeeze = all(len(a) == 1 for a in cols["audio"])

    def arr(c):
        a = np.array(cols[c], np.int64)
        return a[:, 0] if squeeze and a.ndim == 2 else a

    return Windows(
        arr("video"),
        arr("video_start"),
        arr("audio"),
        arr("audio_start"),
        arr("label"),
        arr("offset_frames"),
        arr("kind"),
    )


def fixed_eval_set(sampler: PairSampler, items: list[Item], path: str | Path) -> Windows:
    """The set stored at ``path``, or epoch 0 of ``sampler`` written there first."""
    path = Path(path)
    if not path.exists():
        write_eval_set(path, sampler.windows(0), items)
    return read_eval_set(path, items)


class FixedSampler(PairSampler):
    """The same windows every epoch: serves a fixed evaluation set with the samplers' API."""

    def __init__(
        self,
        windows: Windows,
        n_clips: int,
        clip_frames: int,
        *,
        video_frames: int,
        audio_frames: int,
    ):
        super().__init__(
            n_clips,
            clip_frames,
            video_frames=video_frames,
            audio_frames=audio_frames,
            samples_per_epoch=len(windows),
        )
        self.fixed = windows

    def _draw(self, rng, epoch, n) -> Windows:
        return self.fixed
