"""Atomic writes keep the previous file when a writer fails, and leave no temporary files."""

from pathlib import Path

import pytest

from avlib.atomic import atomic_open, atomic_path


@pytest.mark.parametrize("opener", ["open", "path"])
def test_failed_write_keeps_the_old_file_and_no_temp(tmp_path, opener):
    target = tmp_path / "sub" / "result.json"
    with atomic_open(target) as f:
        f.write("old")
    with pytest.raises(RuntimeError):
        if opener == "open":
            with atomic_open(target) as f:
                f.write("half of the new")
                raise RuntimeError("killed mid-write")
        else:
            with atomic_path(target) as tmp:
                Path(tmp).write_text("half of the new")
                raise RuntimeError("killed mid-write")
    assert target.read_text() == "old"
    assert [p.name for p in target.parent.iterdir()] == ["result.json"]


def test_temp_file_keeps_the_suffix_so_writers_can_pick_the_format(tmp_path):
    with atomic_path(tmp_path / "clip.mp4") as tmp:
        assert tmp.endswith(".mp4") and tmp != str(tmp_path / "clip.mp4")
        Path(tmp).write_bytes(b"x")
    assert (tmp_path / "clip.mp4").read_bytes() == b"x"


def test_written_file_gets_the_usual_permissions_not_mkstemps_0600(tmp_path):
    (tmp_path / "plain").write_text("{}")  # what open() gives under this process's umask
    with atomic_open(tmp_path / "r.json") as f:
        f.write("{}")
    mode = (tmp_path / "r.json").stat().st_mode & 0o777
    assert mode == (tmp_path / "plain").stat().st_mode & 0o777


def test_a_full_disk_is_a_storage_error_naming_the_file_and_keeps_the_old_one(
    tmp_path, monkeypatch
):
    import avlib.atomic as atomic
    from avlib.errors import StorageError
    from avlib.results import load_result, save_result
    from tests.fulldisk import open_with_room

    def save(acc):
        return save_result(
            profile="smoke",
            paper="toy",
            experiment="x",
            seed=0,
            metrics={"acc": acc},
            results_dir=tmp_path,
        )

    path = save(0.5)
    before = path.read_bytes()
    monkeypatch.setattr(atomic, "open", open_with_room(100), raising=False)
    with pytest.raises(StorageError, match="no space left on device while writing") as err:
        save(0.75)
    assert str(path) in str(err.value) and isinstance(err.value, OSError)
    assert path.read_bytes() == before and load_result(path)["metrics"]["acc"] == 0.5
    assert [p.name for p in path.parent.iterdir()] == ["seed0.json"]  # no temporary file left
