"""A disk that fills up: ``open`` and ``os.pwrite`` stand-ins whose writes fail with ENOSPC."""

from __future__ import annotations

import builtins
import errno
import os


def enospc() -> OSError:
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


class _FillingFile:
    """A real file that takes ``room`` more bytes (or characters), then raises ENOSPC."""

    def __init__(self, f, room: int):
        self.f, self.room = f, room

    def write(self, data):
        if len(data) > self.room:
            self.f.write(data[: self.room])  # a partial write, as a real full disk does
            self.room = 0
            raise enospc()
        self.room -= len(data)
        return self.f.write(data)

    def __getattr__(self, name):
        return getattr(self.f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()


def open_with_room(room: int):
    """An ``open`` whose files take ``room`` bytes, then fail (monkeypatch it into a module)."""

    def fake_open(path, mode="r", *args, **kwargs):
        f = builtins.open(path, mode, *args, **kwargs)  # noqa: SIM115 (closed by the wrapper)
        return _FillingFile(f, room) if any(c in mode for c in "wax") else f

    return fake_open


def pwrite_failing_on(name: str):
    """An ``os.pwrite`` that fails with ENOSPC on files called ``name`` (others are written)."""
    real = os.pwrite

    def pwrite(fd, data, offset):
        if os.readlink(f"/proc/self/fd/{fd}").endswith(f"/{name}"):
            raise enospc()
        return real(fd, data, offset)

    return pwrite
