"""The trainer: determinism, exact resume after SIGKILL, DDP under torchrun, checks and flags."""

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from torch import nn

from avlib.checkpoint import load_checkpoint, seed_everything
from avlib.device import amp_enabled, channels_last_enabled, to_channels_last, to_device
from avlib.distributed import RankStride
from avlib.errors import ConfigError, TrainingError
from avlib.experiments.toy import ToyAVCData, ToyAVCNet, config
from avlib.losses import CrossEntropyLoss
from avlib.train import TrainConfig, train

TESTS = Path(__file__).resolve().parent


class BlockAtEpoch:
    """Hook that announces epoch ``epoch`` and then hangs until the test kills the process."""

    def __init__(self, epoch: int):
        self.epoch = epoch

    def on_epoch_start(self, ctx):
        if ctx.epoch == self.epoch:
            print("BLOCKED", flush=True)
            time.sleep(600)


class InterruptAtEpoch:
    """Hook that stops the run at the start of ``epoch`` as a crash would."""

    def __init__(self, epoch: int):
        self.epoch = epoch

    def on_epoch_start(self, ctx):
        if ctx.epoch == self.epoch:
            raise KeyboardInterrupt


def toy_run(tmp: str | Path, hooks=(), data_cls=ToyAVCData, **overrides):
    """The smoke toy AVC model trained by the trainer (checkpoints every 7 of 16 steps/epoch)."""
    toy = config("smoke")
    seed_everything(0)
    data = data_cls(toy, toy.train_size, toy.batch_size, 0, "train")
    val = ToyAVCData(toy, toy.val_size, toy.batch_size, 0, "val")
    settings = {
        "epochs": toy.epochs,
        "lr": toy.lr,
        "device": "cpu",
        "progress": False,
        "checkpoint_dir": str(Path(tmp) / "ckpt"),
        "checkpoint_every": 7,
        "metrics_path": str(Path(tmp) / "metrics.jsonl"),
    }
    cfg = TrainConfig(**{**settings, **overrides})
    return train(ToyAVCNet(toy), CrossEntropyLoss(), data, cfg, val_data=val, hooks=hooks)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """One uninterrupted toy run: (result, its JSONL lines)."""
    tmp = tmp_path_factory.mktemp("reference")
    result = toy_run(tmp)
    return result, (tmp / "metrics.jsonl").read_text().splitlines()


def test_toy_model_learns_and_is_not_flagged(reference):
    result, _ = reference
    assert result.final_metrics["val_acc"] > 0.8
    assert result.flags == [] and result.chance["stuck"] is False
    assert result.steps_done == 4 * 16 and result.epochs_done == 4


def test_same_seed_on_cpu_gives_bit_identical_metrics(reference, tmp_path):
    again = toy_run(tmp_path)
    assert again.history == reference[0].history
    assert again.steps == reference[0].steps


def test_killed_run_resumes_mid_epoch_to_the_same_metrics(reference, tmp_path):
    child = (
        f"import sys; sys.path.insert(0, {str(TESTS)!r}); import test_train as t; "
        f"t.toy_run({str(tmp_path)!r}, hooks=[t.BlockAtEpoch(2)])"
    )
    env = {**os.environ, "PYTHONPATH": str(TESTS.parent)}
    proc = subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE, env=env)
    assert proc.stdout.readline().strip() == b"BLOCKED", "child ended before epoch 2"
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL
    progress = load_checkpoint(tmp_path / "ckpt" / "last.pt")["progress"]
    assert (progress["step"], progress["epoch"], progress["batch_in_epoch"]) == (28, 1, 12)

    resumed = toy_run(tmp_path, resume=True)
    result, lines = reference
    assert resumed.resumed_from_step == 28
    assert resumed.history == result.history and resumed.steps == result.steps
    assert (tmp_path / "metrics.jsonl").read_text().splitlines() == lines


def test_data_without_state_is_resumed_by_skipping_batches(reference, tmp_path):
    class Plain:
        def __init__(self, *args):
            self.inner = ToyAVCData(*args)

        def __len__(self):
            return len(self.inner)

        def set_epoch(self, epoch):
            self.inner.set_epoch(epoch)

        def __iter__(self):
            return iter(self.inner)

    with pytest.raises(KeyboardInterrupt):
        toy_run(tmp_path, hooks=[InterruptAtEpoch(2)], data_cls=Plain)
    resumed = toy_run(tmp_path, resume=True, data_cls=Plain)
    assert resumed.resumed_from_step == 28
    assert resumed.history == reference[0].history


def test_resume_of_a_finished_run_returns_it_without_training(reference, tmp_path):
    first = toy_run(tmp_path)
    again = toy_run(tmp_path, resume=True)
    assert again.history == first.history and again.resumed_from_step == first.steps_done


def test_resume_with_another_config_names_the_changed_field(tmp_path):
    toy_run(tmp_path, max_steps=3)
    with pytest.raises(TrainingError, match=r"lr: 0.003 -> 0.01"):
        toy_run(tmp_path, max_steps=3, resume=True, lr=0.01)


class RandomData:
    """Inputs unrelated to balanced random labels: nothing to learn."""

    def __init__(self, n_batches=60):
        self.n = n_batches

    def __len__(self):
        return self.n

    def __iter__(self):
        g = torch.Generator().manual_seed(1)
        for _ in range(self.n):
            yield {"x": torch.randn(32, 4, generator=g), "label": torch.randperm(32) % 2}


class Linear(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, batch):
        return {"logits": self.fc(batch["x"])}


def test_a_run_that_never_leaves_chance_is_flagged():
    cfg = TrainConfig(device="cpu", progress=False, chance_window=20, lr=1e-2)
    result = train(Linear(), CrossEntropyLoss(), RandomData(), cfg)
    assert result.flags == ["stuck_at_chance"]
    assert result.chance["best_window_loss_over_chance"] > 0.98


def test_non_finite_loss_raises_naming_the_step_and_the_terms():
    def exploding(batch, out):
        loss, metrics = CrossEntropyLoss()(batch, out)
        if exploding.calls == 2:
            loss = loss * math.nan
        exploding.calls += 1
        return loss, {**metrics, "loss": loss.detach()}

    exploding.calls = 0
    with pytest.raises(
        TrainingError, match=r"non-finite loss at step 3 \(epoch 0\).*acc=.*loss=nan"
    ):
        train(Linear(), exploding, RandomData(), TrainConfig(device="cpu", progress=False))


class ConstantLoss(nn.Module):
    """A loss that never improves: for watching schedulers."""

    def forward(self, batch, out):
        loss = out["logits"].sum() * 0 + 1.0
        return loss, {"loss": loss.detach()}


def test_plateau_scheduler_cuts_lr_tenfold_after_five_flat_epochs():
    cfg = TrainConfig(device="cpu", progress=False, epochs=8, lr=1.0, scheduler="plateau")
    result = train(Linear(), ConstantLoss(), RandomData(2), cfg)
    assert [h["lr"] for h in result.history] == pytest.approx([1.0] * 6 + [0.1] * 2)


def test_cosine_scheduler_decays_to_zero_over_all_steps():
    cfg = TrainConfig(device="cpu", progress=False, epochs=2, lr=1.0, scheduler="cosine")
    result = train(Linear(), ConstantLoss(), RandomData(5), cfg)
    lrs = [s["lr"] for s in result.steps]
    assert lrs[0] == 1.0 and lrs[-1] == pytest.approx(0.5 * (1 + math.cos(math.pi * 9 / 10)))


def test_set_epoch_and_epoch_hooks_run_every_epoch():
    calls = []

    class Data(RandomData):
        def set_epoch(self, epoch):
            calls.append(("set_epoch", epoch))

    class Hook:
        def on_epoch_start(self, ctx):
            calls.append(("start", ctx.epoch))

        def on_epoch_end(self, ctx):
            calls.append(("end", ctx.epoch, round(ctx.metrics["loss"], 3)))

    cfg = TrainConfig(device="cpu", progress=False, epochs=2)
    train(Linear(), ConstantLoss(), Data(3), cfg, hooks=[Hook()])
    assert calls == [
        ("set_epoch", 0),
        ("start", 0),
        ("end", 0, 1.0),
        ("set_epoch", 1),
        ("start", 1),
        ("end", 1, 1.0),
    ]


def test_data_yielding_more_batches_than_its_len_is_an_error():
    class Liar(RandomData):
        def __len__(self):
            return 2

    with pytest.raises(TrainingError, match=r"more than len\(\) = 2 batches"):
        train(
            Linear(), ConstantLoss(), Liar(5), TrainConfig(device="cpu", progress=False, epochs=2)
        )


def test_amp_only_on_cuda_and_channels_last_where_asked():
    assert not amp_enabled(TrainConfig(), torch.device("cpu"))
    assert amp_enabled(TrainConfig(), torch.device("cuda"))
    assert not amp_enabled(TrainConfig(amp=False), torch.device("cuda"))
    for device in ("cpu", "cuda"):
        assert channels_last_enabled(TrainConfig(), torch.device(device))
        assert not channels_last_enabled(TrainConfig(channels_last=False), torch.device(device))


def test_channels_last_conversion_handles_2d_and_3d_convolutions():
    model = to_channels_last(nn.Sequential(nn.Conv3d(3, 4, 3), nn.Conv2d(4, 4, 3)))
    assert model[0].weight.is_contiguous(memory_format=torch.channels_last_3d)
    assert model[1].weight.is_contiguous(memory_format=torch.channels_last)
    batch = {"video": torch.rand(2, 3, 4, 5, 6), "audio": torch.rand(2, 1, 8, 9), "meta": ["a"]}
    moved = to_device(batch, torch.device("cpu"), channels_last=True)
    assert moved["video"].is_contiguous(memory_format=torch.channels_last_3d)
    assert moved["audio"].is_contiguous(memory_format=torch.channels_last)
    assert moved["meta"] == ["a"]


def test_config_errors_are_typed():
    with pytest.raises(ConfigError, match="unknown optimizer"):
        TrainConfig(optimizer="lion")
    with pytest.raises(ConfigError, match="needs a checkpoint_dir"):
        TrainConfig(resume=True)
    with pytest.raises(ConfigError, match="log_every must be at least 1"):
        TrainConfig(log_every=0)


def test_rank_stride_gives_each_rank_every_world_th_batch_and_equal_lengths():
    data = list(range(7))
    shards = [RankStride(data, rank, 2) for rank in (0, 1)]
    assert [list(s) for s in shards] == [[0, 2, 4], [1, 3, 5]]  # batch 6 dropped: equal steps
    assert [len(s) for s in shards] == [3, 3]


def test_jsonl_holds_step_and_epoch_records(reference):
    records = [json.loads(line) for line in reference[1]]
    assert sum(r["kind"] == "step" for r in records) == 64
    assert [r["epoch"] for r in records if r["kind"] == "epoch"] == [0, 1, 2, 3]
    assert {"loss", "acc", "lr", "val_acc"} <= set(records[-1])


@pytest.mark.slow
def test_torchrun_two_processes_match_the_single_process_loss_curve(tmp_path):
    args = ["train", "toy-avc", "--profile", "smoke", "--device", "cpu", "--no-progress"]
    env = {**os.environ, "PYTHONPATH": str(TESTS.parent), "OMP_NUM_THREADS": "1"}
    torchrun = Path(sys.executable).with_name("torchrun")
    cmd = [str(torchrun), "--standalone", "--nproc_per_node", "2", "-m", "avlib", *args]
    cmd += ["--out", str(tmp_path / "ddp"), "--runs", str(tmp_path / "runs-ddp")]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    ddp = json.loads((tmp_path / "ddp/smoke/toy/toy-avc/seed0.json").read_text())
    # the single process under the same thread count: a different OpenMP split changes the
    # float rounding of every reduction, which 64 steps amplify to 1e-2
    one = [sys.executable, "-m", "avlib", *args, "--out", str(tmp_path / "one")]
    one += ["--runs", str(tmp_path / "runs")]
    out = subprocess.run(one, capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    single = json.loads((tmp_path / "one/smoke/toy/toy-avc/seed0.json").read_text())
    ddp_loss = [s["loss"] for s in ddp["steps"]]
    one_loss = [s["loss"] for s in single["steps"]]
    assert len(ddp_loss) == len(one_loss) == 64
    diff = [abs(a - b) for a, b in zip(ddp_loss, one_loss, strict=True)]
    # the same data, gradients and updates: the first epoch (16 steps) agrees to float rounding
    # (measured <= 1.2e-7 from the all-reduce's summation order); later the rounding grows
    # as chaotic training amplifies it (measured 1e-4 by step 35, 1e-2 by step 58), so later
    # steps are only held to the same curve, not to the same bits
    assert max(diff[:16]) < 1e-5, diff[:16]
    assert max(diff) < 0.05, diff
    assert ddp["metrics"]["val_acc"] == pytest.approx(single["metrics"]["val_acc"], abs=0.02)


def test_cosine_with_warmup_rises_linearly_then_decays_to_zero():
    import math as _m

    from avlib.optim import _scheduler
    from avlib.train import TrainConfig

    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=1.0)
    sched = _scheduler(opt, TrainConfig(scheduler="cosine", warmup_steps=4), total_steps=20)
    lrs = []
    for _ in range(20):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs[:4] == pytest.approx([0.25, 0.5, 0.75, 1.0])
    assert lrs[4] == pytest.approx(1.0) and lrs[-1] == pytest.approx(
        0.5 * (1 + _m.cos(_m.pi * 15 / 16))
    )
    assert all(a >= b for a, b in zip(lrs[4:], lrs[5:], strict=False))
