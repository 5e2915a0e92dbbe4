"""The decoded cache's files on disk: its lock, row writes, workers, memos, leftovers and size.

**The lock**: one process builds a cache directory at a time, and no dead one
blocks it. A POSIX record lock (``fcntl.lockf``) on ``<cache>/.lock``. The kernel releases
it when its process dies, however it dies, and processes forked from the
holder (decode workers) do not inherit it: with ``flock``, workers that
outlived a killed run kept the cache locked and every later run hung. The
holder writes its pid, host and command into the file. A waiter that finds
the lock held while the recorded holder no longer exists (an orphan holding
an inherited lock of an older avlib, a network file system) breaks it with a
message, by replacing the lock file; a lock held by a live process is waited
for, with a message naming the process, up to ``timeout_s``
(:class:`~avlib.errors.CacheLockError` after that).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import json
import os
import signal
import socket
import sys
import threading
import time
from pathlib import Path

from avlib.atomic import storage_error, write_json
from avlib.data.index import Item
from avlib.data.media import probe
from avlib.errors import CacheLockError, DataError

PR_SET_PDEATHSIG = 1  # linux/prctl.h
# what an atomic write of the cache leaves behind when killed (removed by the next build)
TEMP_PATTERNS = (".manifest.*", ".hashes.*", ".durations.*")

# lockf locks belong to a process, so threads of one process are kept apart here
_IN_PROCESS: dict[str, threading.Lock] = {}
_IN_PROCESS_GUARD = threading.Lock()


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host and is not a zombie."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


def _describe(holder: dict) -> str:
    if not holder.get("pid"):
        return "an unknown process"
    cmd = " ".join(holder.get("argv", []))[:120]
    return f"pid {holder['pid']} on {holder.get('host', '?')} ({cmd or 'no command recorded'})"


class CacheLock:
    """``with CacheLock(path): ...`` holds the lock; ``messages`` says what waiting or breaking took."""

    def __init__(self, path: str | Path, *, timeout_s: float | None = None, poll_s: float = 0.5):
        self.path = Path(path)
        self.timeout_s, self.poll_s = timeout_s, poll_s
        self.messages: list[str] = []
        self.fd: int | None = None

    def __enter__(self) -> CacheLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def _say(self, message: str) -> None:
        self.messages.append(message)
        print(f"avlib: {message}", file=sys.stderr, flush=True)

    def _holder(self, fd: int) -> dict:
        try:
            record = json.loads(os.pread(fd, 4096, 0) or b"{}")
        except (OSError, ValueError):
            return {}
        return record if isinstance(record, dict) else {}

    def _stale(self, holder: dict) -> bool:
        """The recorded holder is a process of this host that no longer exists."""
        pid = holder.get("pid")
        return (
            isinstance(pid, int)
            and holder.get("host") == socket.gethostname()
            and not process_alive(pid)
        )

    def _same_file(self, fd: int) -> bool:
        try:
            return os.stat(self.path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            return False

    def acquire(self) -> None:
        """Take the lock: wait for a live holder, break a dead one's (seen dead twice in a row)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _IN_PROCESS_GUARD:
            self._thread_lock = _IN_PROCESS.setdefault(str(self.path.resolve()), threading.Lock())
        if not self._thread_lock.acquire(timeout=-1 if self.timeout_s is None else self.timeout_s):
            raise CacheLockError(self.path, "held by another thread of this process", None)
        try:
            self._acquire()
        except BaseException:
            self._thread_lock.release()
            raise

    def _acquire(self) -> None:
        start, announced, suspect = time.monotonic(), None, None
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as e:
                if e.errno not in (errno.EAGAIN, errno.EACCES):
                    os.close(fd)
                    raise
                holder = self._holder(fd)
                if self._stale(holder) and holder == suspect and self._same_file(fd):
                    os.unlink(self.path)  # a new file is a new lock; the orphan keeps the old one
                    os.close(fd)
                    self._say(
                        f"{self.path}: stale lock of {_describe(holder)}, which no longer "
                        "exists, broken"
                    )
                    continue
                suspect = holder if self._stale(holder) else None
                if suspect is None and announced != holder:
                    self._say(f"{self.path}: waiting for the lock, held by {_describe(holder)}")
                    announced = holder
                os.close(fd)
                waited = time.monotonic() - start
                if self.timeout_s is not None and waited > self.timeout_s:
                    raise CacheLockError(
                        self.path,
                        f"held by {_describe(holder)} for more than {self.timeout_s:g} s",
                        "wait for that run to finish, or stop it",
                    ) from None
                time.sleep(self.poll_s)
                continue
            if not self._same_file(fd):  # broken and replaced while we waited: lock the new one
                os.close(fd)
                continue
            record = {
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "argv": sys.argv[:4],
                "since": time.strftime("%Y-%m-%dT%H:%M:%S"),
            }
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(record).encode(), 0)
            self.fd = fd
            return

    def release(self) -> None:
        """Clear the record and release the lock."""
        if self.fd is None:
            return
        try:
            os.ftruncate(self.fd, 0)
        finally:
            os.close(self.fd)  # closing releases the lockf lock
            self.fd = None
            self._thread_lock.release()


# --- workers, rows, memos, leftovers, size ----------------------------------------------


def worker_start(parent: int) -> None:
    """A decode worker dies with the process that started it (Linux ``PR_SET_PDEATHSIG``), so a
    killed run leaves no worker writing into rows the next build hands out again; Ctrl-C is the
    parent's to handle."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(OSError, AttributeError):  # not Linux: they end with its pipes
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def write_row(data_path: str, row: int, row_bytes: int, data: bytes) -> None:
    """Write one row of data.bin in place; a full disk is a StorageError naming data.bin."""
    fd = os.open(data_path, os.O_WRONLY)
    try:
        written = os.pwrite(fd, data, row * row_bytes)
        if written != len(data):
            raise OSError(28, f"short write ({written} of {len(data)} bytes)")
    except OSError as e:
        full = storage_error(data_path, e)
        if full is None:
            raise
        raise full from e
    finally:
        os.close(fd)


def disk_usage(path: str | Path) -> int:
    """Bytes ``path`` occupies on disk (allocated blocks: data.bin is sparse until filled)."""
    path = Path(path)
    if not path.exists():
        return 0
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.lstat().st_blocks * 512 for p in files)


def remove_temps(folders: list[Path]) -> None:
    """Temporary files of atomic writes a killed build left in ``folders`` (call with the lock held)."""
    for folder in folders:
        for pattern in TEMP_PATTERNS:
            for tmp in folder.glob(pattern):
                tmp.unlink(missing_ok=True)


def read_durations(memo_path: Path, items: list[Item], keys: list[str]) -> dict[str, float | None]:
    """Probed duration of every item with segment times, remembered per content key."""
    try:
        memo = json.loads(memo_path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        memo = {}
    changed = False
    for item, key in zip(items, keys, strict=True):
        if item.start_s is None or item.end_s is None or key in memo:
            continue
        try:
            memo[key] = probe(item.path).duration_s
        except DataError:  # the decode reports it
            memo[key] = None
        changed = True
    if changed:
        write_json(memo_path, memo)
    return memo
