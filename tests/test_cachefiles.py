"""The decoded cache survives SIGKILL at any moment: no orphan holds its lock, the next build completes.

Real processes are killed (``tests/killpoints.py``); each test then builds the
same cache again and compares it with an uninterrupted build.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from avlib.data.cache import DecodedCache
from avlib.data.cachefiles import CacheLock, process_alive
from avlib.data.layouts import open_dataset
from avlib.errors import CacheLockError
from tests import trees
from tests.killpoints import CACHE_SETTINGS

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
KILLPOINTS = [sys.executable, str(ROOT / "tests" / "killpoints.py")]


def _flickr(root: Path, n: int) -> Path:
    """n one-second H.264/AAC clips (tone 300 + 100 k Hz) listed in videos.txt."""
    for k in range(n):
        trees.av_clip(root / "videos" / f"c{k}.mp4", seconds=1.2, freq=300 + 100 * k)
    (root / "videos.txt").write_text("".join(f"videos/c{k}.mp4\n" for k in range(n)))
    return root


def _load(cache_dir: Path, root: Path, **kw):
    cache = DecodedCache(cache_dir, **{"workers": 1, "lock_timeout_s": 30, **kw})
    return cache.load(open_dataset(root), **CACHE_SETTINGS, progress=False)


def _assert_same(a, b):
    assert [i.rel for i in a.items] == [i.rel for i in b.items] and not a.skipped
    assert np.array_equal(np.asarray(a.frames), np.asarray(b.frames))
    assert np.array_equal(np.asarray(a.audio), np.asarray(b.audio))
    assert np.array_equal(a.audio_scale, b.audio_scale)


def _wait(predicate, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.mark.slow
def test_sigkill_mid_decode_leaves_no_worker_or_lock_and_the_next_build_completes(tmp_path):
    root = _flickr(tmp_path / "d", 8)
    marks = tmp_path / "marks"
    marks.mkdir()
    cache = tmp_path / "cache"
    child = [*KILLPOINTS, f"slow-decode:{marks}", "--", "cache-load", str(root), str(cache)]
    proc = subprocess.Popen(child, env=ENV, stderr=subprocess.PIPE)
    _wait(lambda: len(list(marks.iterdir())) >= 2 or proc.poll() is not None, 120, "workers")
    assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
    time.sleep(0.4)  # both workers are decoding and writing rows
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL
    workers = [int(p.name) for p in marks.iterdir()]
    try:
        _wait(lambda: not any(process_alive(w) for w in workers), 10, "the workers to die")
    finally:  # orphans of a failed run must not outlive the test
        for w in workers:
            if process_alive(w):
                os.kill(w, signal.SIGKILL)

    arrays = _load(cache, root, workers=2, lock_timeout_s=10)  # hangs forever with flock
    _assert_same(arrays, _load(tmp_path / "reference", root))
    (manifest,) = cache.glob("video-*/manifest.json")
    assert json.loads(manifest.read_text())["n_rows"] == 8  # the killed run's rows were reused


@pytest.mark.slow
def test_sigkill_during_the_index_write_leaves_a_cache_the_next_build_completes(tmp_path):
    root = _flickr(tmp_path / "d", 4)
    cache = tmp_path / "cache"
    # manifest renames: video and audio allocation, then the final video save: killed there
    child = [*KILLPOINTS, "replace:manifest.json:3", "--", "cache-load", str(root), str(cache)]
    proc = subprocess.run(child, env=ENV, capture_output=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    assert list(cache.glob("video-*/.manifest.*")), "the kill did not interrupt a manifest write"

    arrays = _load(cache, root)
    _assert_same(arrays, _load(tmp_path / "reference", root))
    assert not list(cache.glob("**/.manifest.*")), "temporary files of the killed write remain"


_HOLD = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.lockf(fd, fcntl.LOCK_EX)
if len(sys.argv) > 2:
    os.pwrite(fd, sys.argv[2].encode(), 0)
print("held", flush=True)
time.sleep(120)
"""


def _holder(lock: Path, record: dict | None = None) -> subprocess.Popen:
    args = [sys.executable, "-c", _HOLD, str(lock)] + ([json.dumps(record)] if record else [])
    proc = subprocess.Popen(args, stdout=subprocess.PIPE)
    assert proc.stdout.readline() == b"held\n"
    return proc


def test_a_lock_whose_recorded_holder_is_gone_is_broken_with_a_message(tmp_path, capsys):
    root = _flickr(tmp_path / "d", 1)
    (tmp_path / "cache").mkdir()
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], check=True, capture_output=True
    )
    dead_pid = int(gone.stdout)
    record = {"pid": dead_pid, "host": socket.gethostname(), "argv": ["avlib", "train", "l3-avc"]}
    orphan = _holder(tmp_path / "cache" / ".lock", record)  # holds it, as an inherited flock did
    try:
        arrays = _load(tmp_path / "cache", root, lock_timeout_s=20)
    finally:
        orphan.kill()
        orphan.wait()
    assert len(arrays) == 1
    message = f"stale lock of pid {dead_pid}"
    assert any(message in n for n in arrays.notes) and message in capsys.readouterr().err


def test_a_live_holder_is_named_while_waited_for(tmp_path, capsys):
    (tmp_path / "cache").mkdir()
    lock = tmp_path / "cache" / ".lock"
    record = {"pid": None, "host": socket.gethostname(), "argv": ["avlib", "train", "x"]}
    holder = _holder(lock)
    record["pid"] = holder.pid
    lock.write_text(json.dumps(record))
    try:
        with pytest.raises(CacheLockError, match=rf"held by pid {holder.pid} .*avlib train x"):
            _load(tmp_path / "cache", _flickr(tmp_path / "d", 1), lock_timeout_s=1)
    finally:
        holder.kill()
        holder.wait()
    assert f"waiting for the lock, held by pid {holder.pid}" in capsys.readouterr().err
    assert len(_load(tmp_path / "cache", tmp_path / "d")) == 1  # free once the holder is gone


_FORK_AND_HOLD = """
import os, sys, time
from avlib.data.cachefiles import CacheLock
CacheLock(sys.argv[1]).acquire()
if os.fork() == 0:  # a child that outlives its parent, holding every inherited descriptor
    time.sleep(120)
    os._exit(0)
print("held", flush=True)
time.sleep(120)
"""


def test_the_lock_is_not_inherited_by_forked_children_that_outlive_the_holder(tmp_path):
    lock = tmp_path / ".lock"
    proc = subprocess.Popen(
        [sys.executable, "-c", _FORK_AND_HOLD, str(lock)], stdout=subprocess.PIPE, env=ENV
    )
    assert proc.stdout.readline() == b"held\n"
    child = None
    try:
        for line in Path("/proc").glob("[0-9]*/stat"):
            fields = line.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == proc.pid:  # its parent is the holder
                child = int(line.parent.name)
        assert child is not None, "the holder's forked child was not found"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert process_alive(child)
        with CacheLock(lock, timeout_s=5) as held:
            assert not held.messages  # taken at once: the orphan does not hold it
    finally:
        proc.kill()
        proc.wait()
        if child is not None and process_alive(child):
            os.kill(child, signal.SIGKILL)


_READ_FOREVER = """
import sys, time
import numpy as np
from avlib.data.cache import DecodedCache
from avlib.data.layouts import open_dataset
from tests.killpoints import CACHE_SETTINGS
arrays = DecodedCache(sys.argv[2], workers=1).load(open_dataset(sys.argv[1]), **CACHE_SETTINGS, progress=False)
print("reading", flush=True)
while True:  # what a training loop does with the cache: read rows of the memory maps
    for i in range(len(arrays)):
        np.asarray(arrays.frames[i]).sum()
    time.sleep(0.01)
"""


@pytest.mark.slow
def test_sigkill_while_a_run_reads_the_cache_leaves_it_whole_and_free(tmp_path, monkeypatch):
    import avlib.data.cache as cache_module

    root = _flickr(tmp_path / "d", 2)
    cache = tmp_path / "cache"
    proc = subprocess.Popen(
        [sys.executable, "-c", _READ_FOREVER, str(root), str(cache)],
        stdout=subprocess.PIPE,
        env=ENV,
        cwd=ROOT,
    )
    assert proc.stdout.readline() == b"reading\n"
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL
    monkeypatch.setattr(cache_module, "_decode", lambda job: pytest.fail(f"decoded {job[2]}"))
    arrays = _load(cache, root, lock_timeout_s=5)  # read as built: nothing decoded again
    monkeypatch.undo()
    _assert_same(arrays, _load(tmp_path / "reference", root))
