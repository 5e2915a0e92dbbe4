"""Decoded cache: decode each clip once into memory-mapped uint8 frames / int16 audio.

A cache directory holds one *table* per modality and decode settings (video:
fps, size, window; audio: sr, window), e.g. ``video-25fps-64x64-2s-<hash>/``
with ``data.bin`` (rows of equal shape) and ``manifest.json`` (row of each
entry, keyed by the file's content hash, with a CRC-32 of the row and, for
audio, its int16 scale). Settings that change make another table; a file
whose content changed has another hash, so its stale entry is dropped and the
clip decoded again; a row whose CRC no longer matches, a manifest that does
not parse or a data file that is too short is detected and rebuilt. The first
pass decodes in parallel (forked) worker processes (avlib.progress); later loads read
arrays. Content hashes are remembered per (path, size, mtime) in
``hashes.json``; ``verify_content=True`` rehashes every file. Items whose
metadata gives segment times (Kinetics, AudioSet csvs) are checked against the
file's duration (remembered per content in ``durations.json``); a mismatch is a
counted skip (:func:`avlib.data.index.duration_problem`).

Killed at any moment, the cache stays usable: a build holds a POSIX lock
(:mod:`avlib.data.cachefiles`) that dies with its process and that decode
workers do not inherit; workers die with the process that started them;
manifests are written atomically and list only rows whose decode finished,
each with its CRC; temporary files of a killed write are removed by the next
build. A full disk is a :class:`~avlib.errors.StorageError` naming the file.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import zlib
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path

import numpy as np

from avlib.atomic import write_json
from avlib.data.cachefiles import (
    CacheLock,
    disk_usage,
    read_durations,
    remove_temps,
    worker_start,
    write_row,
)
from avlib.data.index import DataIndex, Item, Skip, duration_problem
from avlib.data.media import load_audio, load_image, load_video
from avlib.errors import ConfigError, DataError
from avlib.profiles import project_root
from avlib.progress import bar

CACHE_VERSION = 1
SAVE_EVERY = 256  # completed rows between manifest saves during a long build


class RowView:
    """Items' rows of a table memmap, indexed like an (N, ...) array: ``view[i]``, ``view[idx, t]``."""

    def __init__(self, table: np.ndarray, rows: np.ndarray):
        self.table, self.rows = table, rows

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self.rows), *self.table.shape[1:])

    @property
    def dtype(self) -> np.dtype:
        return self.table.dtype

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, key) -> np.ndarray:
        key = key if isinstance(key, tuple) else (key,)
        return self.table[(self.rows[key[0]], *key[1:])]

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        out = self.table[self.rows]
        return out if dtype is None else out.astype(dtype)


@dataclass
class ClipArrays:
    """Decoded clips of an index: ``frames`` (N,T,H,W,3) uint8, ``audio`` (N,S) int16 x ``audio_scale``."""

    items: list[Item]
    labels: np.ndarray  # (N,) int64, -1 when unlabelled
    classes: list[str]
    skipped: list[Skip]
    frames: RowView | None
    audio: RowView | None
    audio_scale: np.ndarray | None  # (N,) float32: audio[i] * audio_scale[i] is the waveform
    fps: float | None
    size: tuple[int, int] | None
    sr: int | None
    dur_s: float | None
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.items)

    def waveform(self, idx) -> np.ndarray:
        """Float32 audio of items ``idx`` (any numpy index), in [-1, 1]."""
        scale = self.audio_scale[idx]
        return self.audio[idx].astype(np.float32) * np.asarray(scale, np.float32)[..., None]


def default_cache_dir() -> Path:
    """<project>/data/.cache"""
    return project_root() / "data" / ".cache"


def _decode(job: tuple) -> tuple[str, int, str | None, int, float]:
    """Worker: decode one clip into its row of data.bin; (table, row, error, crc, scale)."""
    table, kind, path, row, s, data_path, row_bytes = job
    try:
        if kind == "image":
            arr, scale = load_image(path, tuple(s["size"]))[None], 1.0
        elif kind == "video":
            arr = load_video(path, s["start_s"], s["dur_s"], fps=s["fps"], size=tuple(s["size"]))
            scale = 1.0
        else:
            x = load_audio(path, s["start_s"], s["dur_s"], sr=s["sr"], mono=True)
            scale = max(float(np.abs(x).max()), 1e-8) / 32767.0
            arr = np.round(x / scale).astype(np.int16)
    except DataError as e:
        return table, row, f"{type(e).__name__}: {e.problem}", 0, 0.0
    data = arr.tobytes()
    if len(data) != row_bytes:
        return table, row, f"decoded {arr.shape}, expected {row_bytes} bytes", 0, 0.0
    write_row(data_path, row, row_bytes, data)
    return table, row, None, zlib.crc32(data), scale


class _Table:
    """One modality at one set of decode settings: data.bin rows + manifest.json."""

    def __init__(self, cache_dir: Path, kind: str, settings: dict, row_shape: tuple, dtype: str):
        digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]
        parts = [kind]
        if "fps" in settings:
            parts.append(f"{settings['fps']:g}fps")
        parts.append(
            "x".join(map(str, settings["size"])) if "size" in settings else f"{settings['sr']}Hz"
        )
        if "dur_s" in settings:
            parts.append(f"{settings['dur_s']:g}s")
        self.name = "-".join([*parts, digest])
        self.dir = cache_dir / self.name
        self.kind, self.settings, self.row_shape, self.dtype = kind, settings, row_shape, dtype
        self.row_bytes = int(np.prod(row_shape)) * np.dtype(dtype).itemsize
        self.data_path, self.manifest_path = self.dir / "data.bin", self.dir / "manifest.json"
        self.notes: list[str] = []

    def open(self) -> None:
        """Read the manifest; reset the table when it or the data file is corrupted."""
        self.dir.mkdir(parents=True, exist_ok=True)
        self.entries: dict[str, dict] = {}
        self.failed: dict[str, str] = {}
        self.n_rows = 0
        if not self.manifest_path.exists():
            self.data_path.unlink(missing_ok=True)
            return
        try:
            m = json.loads(self.manifest_path.read_text())
            ok = m["settings"] == self.settings and m["row_bytes"] == self.row_bytes
            entries, failed, n_rows = dict(m["entries"]), dict(m["failed"]), int(m["n_rows"])
        except (json.JSONDecodeError, KeyError, TypeError, ValueError):
            ok = False
        size = self.data_path.stat().st_size if self.data_path.exists() else -1
        if not ok or size < n_rows * self.row_bytes:
            self.notes.append(f"cache table {self.name}: corrupted manifest or data file, rebuilt")
            self.manifest_path.unlink(missing_ok=True)
            self.data_path.unlink(missing_ok=True)
            return
        self.entries, self.failed, self.n_rows = entries, failed, n_rows

    def verify(self, keys: set[str]) -> None:
        """Drop entries among ``keys`` whose row no longer matches its CRC."""
        if not keys & self.entries.keys():
            return
        with open(self.data_path, "rb") as f:
            for key in sorted(keys & self.entries.keys(), key=lambda k: self.entries[k]["row"]):
                f.seek(self.entries[key]["row"] * self.row_bytes)
                if zlib.crc32(f.read(self.row_bytes)) != self.entries[key]["crc"]:
                    self.notes.append(
                        f"cache table {self.name}: corrupted row of {self.entries[key]['path']}, rebuilt"
                    )
                    del self.entries[key]

    def allocate(self, todo: dict[str, str]) -> dict[str, int]:
        """Rows for {key: path} to decode: stale entries of the same paths are dropped, free rows reused."""
        if not todo:
            return {}
        paths = set(todo.values())
        for key in [k for k, e in self.entries.items() if e["path"] in paths]:
            del self.entries[key]
        used = {e["row"] for e in self.entries.values()}
        free = iter(sorted(set(range(self.n_rows)) - used))
        rows = {}
        for key in todo:
            rows[key] = next(free, None)
            if rows[key] is None:
                rows[key], self.n_rows = self.n_rows, self.n_rows + 1
        with open(self.data_path, "ab") as f:
            f.truncate(max(f.tell(), self.n_rows * self.row_bytes))
        self.save()
        return rows

    def save(self) -> None:
        manifest = {
            "version": CACHE_VERSION,
            "settings": self.settings,
            "row_bytes": self.row_bytes,
            "n_rows": self.n_rows,
            "entries": self.entries,
            "failed": self.failed,
        }
        write_json(self.manifest_path, manifest)

    def memmap(self) -> np.ndarray:
        if self.n_rows == 0:
            return np.zeros((0, *self.row_shape), self.dtype)
        return np.memmap(self.data_path, self.dtype, "r", shape=(self.n_rows, *self.row_shape))


class DecodedCache:
    """Decode once, read arrays afterwards: ``DecodedCache(dir).load(index, fps=, size=, sr=, dur_s=)``."""

    def __init__(
        self,
        cache_dir: str | Path | None = None,
        *,
        workers: int | None = None,
        lock_timeout_s: float | None = None,
    ):
        self.dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.workers = workers or len(os.sched_getaffinity(0))
        self.lock_timeout_s = lock_timeout_s  # None: wait for a live builder as long as it takes

    def load(
        self,
        index: DataIndex | Sequence[Item],
        *,
        dur_s: float | None = None,
        fps: float | None = None,
        size: int | tuple[int, int] | None = None,
        sr: int | None = None,
        start_s: float = 0.0,
        verify: bool = True,
        verify_content: bool = False,
        progress: bool = True,
    ) -> ClipArrays:
        """Arrays of ``[start_s, start_s + dur_s)`` of every item: video when ``fps`` is given, audio when ``sr`` is.

        ``size`` alone (no fps, no sr) reads still images (ImageFolder) as
        one-frame clips, ``frames`` (N, 1, H, W, 3). Items that cannot be
        decoded (missing stream, too short, corrupted) or whose duration
        disagrees with their metadata's segment times are left out and listed
        in ``skipped`` with the reason; rows are checked against their CRC
        unless ``verify=False``.
        """
        items = list(index.items if isinstance(index, DataIndex) else index)
        skipped = list(index.skipped) if isinstance(index, DataIndex) else []
        classes = list(index.classes) if isinstance(index, DataIndex) else []
        skipped += [Skip(str(i.path), "missing file") for i in items if not i.path.is_file()]
        items = [i for i in items if i.path.is_file()]
        tables, hw = self._tables(dur_s, fps, size, sr, start_s)
        self.dir.mkdir(parents=True, exist_ok=True)
        with CacheLock(self.dir / ".lock", timeout_s=self.lock_timeout_s) as lock:
            remove_temps([self.dir, *(t.dir for t in tables)])
            keys = _content_keys(self.dir / "hashes.json", [i.path for i in items], verify_content)
            durations = read_durations(self.dir / "durations.json", items, keys)
            jobs = []
            for t in tables:
                t.open()
                if verify:
                    t.verify(set(keys))
                todo = {
                    k: str(i.path)
                    for k, i in zip(keys, items, strict=True)
                    if k not in t.entries and k not in t.failed
                }
                rows = t.allocate(todo)
                jobs += [
                    (t.name, t.kind, p, rows[k], t.settings, str(t.data_path), t.row_bytes)
                    for k, p in todo.items()
                ]
            self._run(jobs, tables, keys, items, progress)
        arrays = _arrays(items, keys, tables, skipped, classes, fps, hw, sr, dur_s, durations)
        arrays.notes[:0] = lock.messages
        return arrays

    def _tables(self, dur_s, fps, size, sr, start_s) -> tuple[list[_Table], tuple[int, int] | None]:
        """The tables the asked settings need (image, video, audio), after checking them."""
        if fps is None and sr is None and size is None:
            raise ConfigError(
                "DecodedCache.load: give fps + size (video), sr (audio) or size (images)"
            )
        if fps is not None and size is None:
            raise ConfigError("DecodedCache.load: video needs an explicit size (H, W)")
        if (fps is not None or sr is not None) and dur_s is None:
            raise ConfigError("DecodedCache.load: video and audio need dur_s (the cached window)")
        if fps is not None and abs(dur_s * fps - round(dur_s * fps)) > 1e-6:
            raise ConfigError(f"dur_s {dur_s} is not a whole number of frames at {fps} fps")
        hw = None if size is None else ((size, size) if isinstance(size, int) else tuple(size))
        window = {"version": CACHE_VERSION, "dur_s": dur_s, "start_s": start_s}
        tables = []
        if fps is None and sr is None:
            settings = {"version": CACHE_VERSION, "size": list(hw)}
            tables.append(_Table(self.dir, "image", settings, (1, *hw, 3), "uint8"))
        if fps is not None:
            settings = window | {"fps": fps, "size": list(hw)}
            shape = (round(dur_s * fps), *hw, 3)
            tables.append(_Table(self.dir, "video", settings, shape, "uint8"))
        if sr is not None:
            shape = (round(dur_s * sr),)
            tables.append(_Table(self.dir, "audio", window | {"sr": sr}, shape, "int16"))
        return tables, hw

    def _run(self, jobs, tables, keys, items, progress) -> None:
        by_name = {t.name: t for t in tables}
        key_of = {
            (t.name, str(i.path)): k for t in tables for k, i in zip(keys, items, strict=True)
        }
        kinds = "+".join(t.kind for t in tables)
        desc = f"decoding {len({j[2] for j in jobs})} clips ({kinds}) into the cache"
        if len(jobs) < 4 or self.workers == 1:
            results = (_decode(j) for j in jobs)
            pool = None
        else:
            # fork, as torch's DataLoader does on Linux: workers never touch torch, and spawn
            # would re-import __main__ (which fails for `python -` and some notebook kernels)
            method = "fork" if "fork" in get_all_start_methods() else "spawn"
            pool = ProcessPoolExecutor(
                min(self.workers, len(jobs)),
                mp_context=get_context(method),
                initializer=worker_start,
                initargs=(os.getpid(),),
            )
            results = (f.result() for f in as_completed([pool.submit(_decode, j) for j in jobs]))
        failed = True
        try:
            path_of = {(j[0], j[3]): j[2] for j in jobs}
            for n, (name, row, error, crc, scale) in enumerate(
                bar(results, total=len(jobs), desc=desc, disable=not progress or not jobs), 1
            ):
                t, path = by_name[name], path_of[(name, row)]
                key = key_of[(name, path)]
                if error:
                    t.failed[key] = error
                else:
                    t.entries[key] = {"row": row, "crc": crc, "scale": scale, "path": path}
                if n % SAVE_EVERY == 0:
                    t.save()
            failed = False
        finally:
            if pool is not None:
                pool.shutdown(cancel_futures=True)
            for t in tables if jobs else ():  # nothing decoded: the manifests stand as read
                try:
                    t.save()  # the rows finished so far (the previous manifest if this fails)
                except (OSError, DataError):
                    if not failed:
                        raise  # else the error in flight (a full disk, Ctrl-C) is the news

    def clear(self) -> int:
        """Remove every table and memo of this cache directory (under its lock); bytes freed."""
        if not self.dir.is_dir():
            return 0
        with CacheLock(self.dir / ".lock", timeout_s=self.lock_timeout_s):
            freed = disk_usage(self.dir)
            for path in self.dir.iterdir():
                if path.name == ".lock":
                    continue
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                else:
                    path.unlink()
        return freed - disk_usage(self.dir)

    def info(self) -> list[dict]:
        """One record per table: name, kind, rows, entries, failed items, bytes on disk."""
        out = []
        for manifest in sorted(self.dir.glob("*/manifest.json")):
            try:
                m = json.loads(manifest.read_text())
                rows, entries, failed = m["n_rows"], len(m["entries"]), len(m["failed"])
            except (OSError, ValueError, KeyError, TypeError):
                rows = entries = failed = None
            out.append(
                {
                    "table": manifest.parent.name,
                    "rows": rows,
                    "entries": entries,
                    "failed": failed,
                    "bytes": disk_usage(manifest.parent),
                }
            )
        return out


def _content_keys(memo_path: Path, paths: list[Path], rehash: bool) -> list[str]:
    """sha256 of each file's bytes, remembered per (path, size, mtime_ns) unless ``rehash``."""
    try:
        memo = json.loads(memo_path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        memo = {}
    keys, changed = [], False
    for path in paths:
        st = path.stat()
        stamp = [st.st_size, st.st_mtime_ns]
        seen = memo.get(str(path))
        if rehash or not seen or seen[0] != stamp:
            changed = True
            h = hashlib.sha256()
            with open(path, "rb") as f:
                for chunk in iter(lambda f=f: f.read(1 << 20), b""):
                    h.update(chunk)
            seen = memo[str(path)] = [stamp, h.hexdigest()[:32]]
        keys.append(seen[1])
    if changed:
        write_json(memo_path, memo)
    return keys


def _arrays(items, keys, tables, skipped, classes, fps, hw, sr, dur_s, durations) -> ClipArrays:
    """Gather the rows of the items every table holds; the rest become skips with the decode
    error, and so do items whose duration disagrees with their metadata."""
    keep, skipped = [], list(skipped)
    for n, (item, key) in enumerate(zip(items, keys, strict=True)):
        errors = [t.failed[key] for t in tables if key not in t.entries]
        mismatch = duration_problem(item, durations.get(key))
        if errors:
            skipped.append(Skip(str(item.path), "; ".join(e or "not decoded" for e in errors)))
        elif mismatch:
            skipped.append(Skip(str(item.path), mismatch))
        else:
            keep.append(n)
    kept = [items[n] for n in keep]
    views = {}
    for t in tables:
        rows = np.array([t.entries[keys[n]]["row"] for n in keep], np.int64)
        views["audio" if t.kind == "audio" else "video"] = (
            RowView(t.memmap(), rows),
            [t.entries[keys[n]]["scale"] for n in keep],
        )
    labels = np.array([-1 if i.label is None else i.label for i in kept], np.int64)
    return ClipArrays(
        items=kept,
        labels=labels,
        classes=classes,
        skipped=skipped,
        frames=views["video"][0] if "video" in views else None,
        audio=views["audio"][0] if "audio" in views else None,
        audio_scale=np.array(views["audio"][1], np.float32) if "audio" in views else None,
        fps=fps,
        size=hw,
        sr=sr,
        dur_s=dur_s,
        notes=[n for t in tables for n in t.notes],
    )
