"""Checkpoints hold only tensors and plain types, load with weights_only=True, and refuse the rest."""

import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from avlib.checkpoint import (
    load_checkpoint,
    plain,
    rng_state,
    save_checkpoint,
    seed_everything,
    set_rng_state,
)
from avlib.errors import CheckpointError, TrainingError
from avlib.experiments.toy import ToyAVCData, ToyAVCNet, config
from avlib.losses import CrossEntropyLoss
from avlib.train import TrainConfig, train

ROOT = Path(__file__).resolve().parent.parent


class WritesAFile:
    """A real pickle payload: unpickling it runs ``exec``, which writes ``marker``."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').write('code ran')",))


def _toy_train(tmp: Path, epochs: int = 1, **overrides):
    toy = config("smoke", epochs=epochs, train_size=128)
    seed_everything(0)
    cfg = TrainConfig(
        epochs=epochs,
        lr=toy.lr,
        device="cpu",
        progress=False,
        checkpoint_dir=str(tmp / "ckpt"),
        **overrides,
    )
    data = ToyAVCData(toy, toy.train_size, toy.batch_size, 0, "train")
    return train(ToyAVCNet(toy), CrossEntropyLoss(), data, cfg)


def _leaves(obj):
    if isinstance(obj, dict):
        for v in obj.values():
            yield from _leaves(v)
    elif isinstance(obj, list | tuple) and not isinstance(obj, torch.Size):
        for v in obj:
            yield from _leaves(v)
    else:
        yield obj


def test_trainer_checkpoints_load_with_weights_only_and_hold_only_plain_types(tmp_path):
    _toy_train(tmp_path)
    ckpt = torch.load(tmp_path / "ckpt" / "last.pt", weights_only=True)
    allowed = (torch.Tensor, type(None), bool, int, float, str)
    odd = {type(x).__name__ for x in _leaves(ckpt) if not isinstance(x, allowed)}
    assert not odd, f"non-plain leaves in a checkpoint: {odd}"
    assert isinstance(ckpt["rng"][0]["numpy"]["key"], torch.Tensor)
    assert ckpt["format"] == 2


def test_rng_state_survives_a_weights_only_round_trip(tmp_path):
    seed_everything(3)
    random.random(), np.random.standard_normal(), torch.rand(1)  # noqa: NPY002 (a gauss is cached)
    state = rng_state(torch.device("cpu"))
    expected = (random.random(), np.random.standard_normal(3), torch.rand(3))  # noqa: NPY002
    save_checkpoint(tmp_path / "rng.pt", {"rng": state})
    seed_everything(99)
    set_rng_state(torch.load(tmp_path / "rng.pt", weights_only=True)["rng"])
    again = (random.random(), np.random.standard_normal(3), torch.rand(3))  # noqa: NPY002
    assert again[0] == expected[0]
    assert np.array_equal(again[1], expected[1]) and torch.equal(again[2], expected[2])


def test_saving_refuses_objects_other_than_tensors_and_plain_types(tmp_path):
    assert plain({"epoch": np.int64(3)}) == {"epoch": 3}
    assert type(plain({"epoch": np.int64(3)})["epoch"]) is int
    with pytest.raises(CheckpointError, match=r"\['data'\]\[0\]\['order'\] holds a numpy.ndarray"):
        save_checkpoint(tmp_path / "x.pt", {"data": [{"order": np.arange(3)}]})
    assert not (tmp_path / "x.pt").exists()


def test_crafted_pickle_is_refused_in_one_line_and_its_code_never_runs(tmp_path):
    marker = tmp_path / "pwned.txt"
    ckpt = tmp_path / "ckpt" / "last.pt"
    ckpt.parent.mkdir()
    torch.save({"model": WritesAFile(marker), "config": {}}, ckpt)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(ckpt)
    assert "\n" not in str(err.value) and str(ckpt) in str(err.value)
    assert "refused" in str(err.value) and "exec" in str(err.value)
    with pytest.raises(CheckpointError):
        _toy_train(tmp_path, resume=True)  # the trainer's resume path
    assert not marker.exists()
    torch.load(ckpt, weights_only=False)  # control: the payload is real when loaded unsafely
    assert marker.read_text() == "code ran"


@pytest.mark.slow
def test_cli_resume_from_a_crafted_checkpoint_exits_2_without_running_it(tmp_path):
    marker = tmp_path / "pwned.txt"
    ckpt = tmp_path / "runs/smoke/toy/toy-avc/seed0/checkpoints/last.pt"
    ckpt.parent.mkdir(parents=True)
    torch.save({"model": WritesAFile(marker)}, ckpt)
    cmd = [sys.executable, "-m", "avlib", "train", "toy-avc", "--profile", "smoke", "--resume"]
    cmd += ["--device", "cpu", "--no-progress", "--runs", str(tmp_path / "runs")]
    cmd += ["--out", str(tmp_path / "results")]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "refused" in lines[0] and str(ckpt) in lines[0]
    assert "Traceback" not in out.stderr and not marker.exists()
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize(
    "content",
    [
        pytest.param({"weights": torch.zeros(3)}, id="dict-of-tensors"),
        pytest.param(torch.zeros(3), id="bare-tensor"),
        pytest.param([1, 2, 3], id="list"),
    ],
)
def test_a_valid_torch_file_that_is_no_checkpoint_is_a_typed_error(tmp_path, content):
    path = tmp_path / "last.pt"
    torch.save(content, path)
    with pytest.raises(CheckpointError, match="not a checkpoint of avlib's trainer") as err:
        load_checkpoint(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("junk", ["empty", "text", "truncated"])
def test_unreadable_checkpoint_files_are_one_line_typed_errors(tmp_path, junk):
    _toy_train(tmp_path)
    path = tmp_path / "ckpt" / "last.pt"
    data = {"empty": b"", "text": b"hello, not a zip", "truncated": path.read_bytes()[:300]}
    path.write_bytes(data[junk])
    with pytest.raises(CheckpointError, match="unreadable checkpoint") as err:
        _toy_train(tmp_path, resume=True)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_a_checkpoint_of_another_model_does_not_fit_and_says_so(tmp_path):
    _toy_train(tmp_path)
    toy = config("smoke", width=4, train_size=128, epochs=2)
    cfg = TrainConfig(
        epochs=2,
        lr=toy.lr,
        device="cpu",
        progress=False,
        checkpoint_dir=str(tmp_path / "ckpt"),
        resume=True,
    )
    data = ToyAVCData(toy, toy.train_size, toy.batch_size, 0, "train")
    with pytest.raises(TrainingError) as err:
        train(ToyAVCNet(toy), CrossEntropyLoss(), data, cfg)
    # epochs changed too: the config check names it before the weights are touched
    assert "epochs: 1 -> 2" in str(err.value)
    cfg = TrainConfig(**{**cfg.__dict__, "epochs": 1})
    with pytest.raises(CheckpointError, match="does not fit this run") as err:
        train(ToyAVCNet(toy), CrossEntropyLoss(), data, cfg)
    assert "\n" not in str(err.value)


def test_missing_checkpoint_is_a_training_error(tmp_path):
    with pytest.raises(TrainingError, match="no checkpoint to resume from"):
        load_checkpoint(tmp_path / "none.pt")


def test_a_full_disk_while_checkpointing_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    import avlib.atomic as atomic
    from avlib.errors import StorageError
    from tests.fulldisk import open_with_room

    _toy_train(tmp_path)
    path = tmp_path / "ckpt" / "last.pt"
    before = path.read_bytes()
    payload = torch.load(path, weights_only=True)
    monkeypatch.setattr(atomic, "open", open_with_room(4096), raising=False)
    with pytest.raises(StorageError, match="no space left on device") as err:
        save_checkpoint(path, payload)
    assert str(path) in str(err.value)
    assert path.read_bytes() == before and load_checkpoint(path)["progress"]["step"] == 4
    assert [p.name for p in path.parent.iterdir()] == ["last.pt"]
