"""Typed errors: each names the thing that is wrong (a file, a parameter) and the fix.

Every error avlib raises on purpose derives from :class:`AvlibError`, so callers
can catch ours without catching bugs. Data errors carry the offending ``path``
so a loader can count and report a skip instead of dropping a file silently.
"""

from __future__ import annotations

from pathlib import Path


class AvlibError(Exception):
    """Base class for every error avlib raises on purpose."""


class ConfigError(AvlibError, ValueError):
    """A parameter or configuration value is invalid (unknown profile, device, preset)."""


class DataError(AvlibError):
    """Something is wrong with a file or directory of data; ``path`` names it."""

    def __init__(self, path: str | Path | None, problem: str, hint: str | None = None):
        self.path = None if path is None else Path(path)
        self.problem = problem
        self.hint = hint
        where = f"{self.path}: " if self.path is not None else ""
        fix = f" ({hint})" if hint else ""
        super().__init__(f"{where}{problem}{fix}")

    def __reduce__(self):  # picklable across worker processes
        return (type(self), (self.path, self.problem, self.hint))


class LayoutError(DataError):
    """A data root is missing or is in no layout avlib knows."""


class MediaError(DataError):
    """A media file is unreadable, truncated, or not what it claims to be."""


class MissingStreamError(MediaError):
    """A media file lacks the audio or video stream that was asked for."""


class TooShortError(MediaError):
    """A media file is shorter than the window that was asked for."""


class NonFiniteError(MediaError):
    """Decoded samples contain NaN or infinity."""


class CacheLockError(DataError):
    """The decoded cache stayed locked by a live process for longer than the caller would wait."""


class MetadataError(DataError):
    """A metadata file (csv, split list) has a malformed row, unknown class or unsafe path."""


class TrainingError(AvlibError):
    """Training cannot go on: NaN loss, missing checkpoint, incompatible resume."""


class CheckpointError(TrainingError):
    """A checkpoint file is refused: not plain tensors and types (it could run code), not one of
    this trainer's checkpoints, or unreadable; the message names the file."""


class StorageError(AvlibError, OSError):
    """A file could not be written: the disk is full, a quota is exceeded, the file system is
    read-only. ``path`` names the file; what was there before is left as it was."""

    def __init__(self, path: str | Path, problem: str, hint: str | None = None):
        self.path = Path(path)
        self.problem = problem
        self.hint = hint
        fix = f" ({hint})" if hint else ""
        Exception.__init__(self, f"{self.path}: {problem}{fix}")

    def __str__(self) -> str:
        fix = f" ({self.hint})" if self.hint else ""
        return f"{self.path}: {self.problem}{fix}"

    def __reduce__(self):  # picklable across worker processes
        return (type(self), (self.path, self.problem, self.hint))


class ResultsError(AvlibError):
    """A results file is missing, malformed, or does not match what was asked for."""


class NotebookError(AvlibError):
    """A notebook failed to execute; the message names the notebook and the failing cell."""
