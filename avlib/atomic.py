"""Atomic file writes: a temporary file beside the target, renamed onto it only on success.

Every file avlib writes for later use (results, arrays, checkpoints, evaluation
sets, generated media) goes through here, so an interrupted run never leaves a
half-written file under a real name and never destroys the previous version.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import math
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from avlib.errors import StorageError

# errors that mean "this disk cannot take the file", not "this code is wrong"
STORAGE_ERRNOS = {
    errno.ENOSPC: "no space left on device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
    errno.EFBIG: "file too large for this file system",
}


def storage_error(path: str | Path, error: OSError) -> StorageError | None:
    """A StorageError naming ``path`` when ``error`` is a full disk, quota or read-only file
    system (ENOSPC, EDQUOT, EROFS, EFBIG); None for any other error."""
    problem = STORAGE_ERRNOS.get(getattr(error, "errno", None))
    if problem is None:
        return None
    return StorageError(
        path,
        f"{problem} while writing",
        "free space or point the cache / results / runs directory elsewhere; "
        "the previous version of the file, if any, is unchanged",
    )


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


FILE_MODE = 0o666 & ~_umask()  # what open() would give a new file (mkstemp's own is 0600)


@contextmanager
def atomic_path(path: str | Path) -> Iterator[str]:
    """Yield a temporary path in ``path``'s directory (same suffix); rename it onto ``path`` on success.

    For writers that need a file name (PyAV, Pillow). On error the temporary
    file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(
            prefix=f".{path.stem}.", suffix=path.suffix or ".tmp", dir=path.parent
        )
        os.close(fd)
        yield tmp
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except OSError as e:
        full = storage_error(path, e)
        if full is None or isinstance(e, StorageError):
            raise
        raise full from e
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


@contextmanager
def atomic_open(path: str | Path, mode: str = "w", *, fsync: bool = True, **kwargs) -> Iterator[IO]:
    """``open(path, mode)`` that writes a temporary file and renames it onto ``path`` on success.

    ``fsync`` (default) flushes to disk before the rename, so a crash right
    after leaves either the old file or the complete new one. A full disk
    (ENOSPC, quota, read-only) raises :class:`avlib.errors.StorageError` naming
    ``path``, with the old file unchanged and no temporary file left.
    """
    with atomic_path(path) as tmp, open(tmp, mode, **kwargs) as f:
        yield f
        f.flush()
        if fsync:
            os.fsync(f.fileno())


def jsonable(obj: Any) -> Any:
    """Plain JSON types from numpy/torch scalars and arrays, tuples, Paths and dataclasses.

    NaN and infinity become None (JSON has no NaN).
    """
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "tolist") and not isinstance(obj, str):  # numpy / torch
        return jsonable(obj.tolist())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return jsonable(dataclasses.asdict(obj))
    return obj


def write_json(path: str | Path, obj: Any) -> Path:
    """Write ``obj`` as indented, key-sorted JSON to ``path`` atomically."""
    text = json.dumps(jsonable(obj), indent=2, sort_keys=True, allow_nan=False) + "\n"
    with atomic_open(path) as f:
        f.write(text)
    return Path(path)
