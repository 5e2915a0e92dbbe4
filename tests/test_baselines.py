"""The world's log-mel CNN baseline (avlib.models.baselines): trained by the one trainer."""

import torch

from avlib.losses import CrossEntropyLoss
from avlib.models import build
from avlib.models.baselines import example_batch, random_crop
from avlib.train import TrainConfig, train


def _tones(model, n, seed):
    """Batches of 8 labelled tones (4 classes, 150 Hz apart) in fresh noise."""
    cfg = model.cfg
    return [example_batch(cfg, 8, seed=seed + k) for k in range(n)]


def test_logmel_cnn_learns_tones_through_the_trainer(tmp_path):
    model = build("logmel-cnn", "smoke", n_classes=4, clip_s=1.0)
    cfg = TrainConfig(epochs=4, lr=3e-3, progress=False, checkpoint_dir=str(tmp_path))
    result = train(model, CrossEntropyLoss(), _tones(model, 6, seed=0), cfg)
    held_out = _tones(model, 2, seed=100)
    model.eval()
    with torch.no_grad():
        correct = [(model(b)["logits"].argmax(1) == b["label"]).float() for b in held_out]
    assert result.steps_done == 24 and (tmp_path / "last.pt").exists()
    assert float(torch.cat(correct).mean()) > 0.5  # chance: 0.25


def test_random_crop_keeps_each_samples_frames_in_order_and_runs_in_training_only():
    spec = torch.arange(10.0).repeat(3, 1, 2, 1)  # (3, 1, 2, 10): frame t holds t
    crop = random_crop(spec, 0.5)
    assert crop.shape == (3, 1, 2, 5)
    assert (crop.diff(dim=-1) == 1).all() and (crop[:, :, 0] == crop[:, :, 1]).all()
    model = build("logmel-cnn", "smoke")
    batch, _ = model.example(model.cfg, 2)
    model.eval()
    with torch.no_grad():
        assert torch.equal(model(batch)["logits"], model(batch)["logits"])


def test_world_calibration_trains_the_cnn_on_every_fold_through_the_trainer(monkeypatch, tmp_path):
    from avlib.data.world import ensure_world
    from avlib.experiments import RunContext
    from avlib.experiments import world as run
    from avlib.models.baselines import LogMelCNN

    calls = []

    def spy(model, loss_fn, data, cfg, **kw):
        calls.append((type(model), type(loss_fn), cfg.checkpoint_dir))
        return train(model, loss_fn, data, cfg, **kw)

    monkeypatch.setattr(run, "train", spy)
    esc = ensure_world("smoke") / "esc50"  # the same world the smoke notebooks use
    ctx = RunContext("smoke", 0, "cpu", tmp_path, progress=False, config=run._config("smoke"))
    table, runs, data = run.esc_cnn(ctx, esc)
    assert list(table["fold"]) == [1, 2, 3, 4, 5] and table["accuracy"].between(0, 1).all()
    assert [c[:2] for c in calls] == [(LogMelCNN, CrossEntropyLoss)] * 5
    assert sorted(runs) == [f"fold{k}" for k in range(1, 6)] and data["esc50"]["items"] == 100
    assert all(r.steps_done == run.SETUPS["smoke"].cnn_epochs * 2 for r in runs.values())
