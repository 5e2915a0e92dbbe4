"""Every registered model of every paper: shapes, finite loss, gradients, loss falling on one
fixed batch, a forward pass at the paper's size, and the feature taps probes use."""

import pytest
import torch

from avlib.errors import ConfigError
from avlib.models import build, entry, get_config, names


def _example(name, preset, batch_size=8):
    model = build(name, preset)
    batch, loss_fn = type(model).example(model.cfg, batch_size)
    return model, batch, loss_fn


@pytest.mark.parametrize("name", names())
def test_smoke_model_forward_backward_and_overfits_one_batch(name):
    torch.manual_seed(0)
    model, batch, loss_fn = _example(name, "smoke")
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(25):
        loss, metrics = loss_fn(batch, model(batch))
        assert torch.isfinite(loss)
        opt.zero_grad()
        loss.backward()
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.85 * losses[0], losses


@pytest.mark.parametrize("name", names())
def test_paper_size_config_runs_a_forward_pass(name):
    model, batch, loss_fn = _example(name, "paper", batch_size=2)
    with torch.no_grad():
        loss, _ = loss_fn(batch, model.eval()(batch))
    assert torch.isfinite(loss)


@pytest.mark.parametrize("name", names())
def test_every_model_names_its_feature_taps(name):
    model = build(name, "smoke")
    for modality in ("video", "audio"):
        try:
            taps = model.feature_taps(modality)
        except ConfigError:
            continue  # a single-tower model has no such tower
        assert taps and all(isinstance(m, torch.nn.Module) for m in taps.values())


def test_l3_paper_config_is_the_papers():
    cfg = get_config("l3", "paper")
    assert (cfg.widths, cfg.frame_size, cfg.sr, cfg.lr, cfg.weight_decay, cfg.batch_size) == (
        (64, 128, 256, 512), 224, 48_000, 1e-4, 1e-5, 256,
    )  # fmt: skip
    model = build("l3", "paper").eval()
    batch, _ = model.example(cfg, 1)
    assert model.frontend(batch["audio"]).shape == (1, 1, 257, 199), "L3's 257 x 199 spectrogram"
    with torch.no_grad():
        out = model(batch)
    assert out["logits"].shape == (1, 2) and out["video_emb"].shape == (1, 512)


def test_quick_l3_hears_log_mel_bands_and_sees_objects_at_a_usable_size():
    cfg = get_config("l3", "quick")
    model = build("l3", "quick")
    batch, _ = model.example(cfg, 2)
    assert model.frontend(batch["audio"]).shape[2] == cfg.n_mels
    assert cfg.frame_size >= 48 and cfg.augment


def test_l3_taps_are_the_four_blocks_in_order():
    model = build("l3", "smoke")
    assert list(model.feature_taps("video")) == ["conv1", "conv2", "conv3", "conv4"]


def test_avol_similarity_map_follows_the_vision_grid():
    model, batch, _ = _example("avol", "smoke", 2)
    with torch.no_grad():
        sim = model.eval().localisation_map(batch["video"], batch["audio"])
    side = model.cfg.frame_size // 2**model.cfg.vision_pools
    assert sim.shape == (2, side, side)
    assert sim.abs().max() <= 1.0 + 1e-5, "cosine similarities"


def test_avenet_embeddings_are_unit_length():
    model, batch, _ = _example("avenet", "smoke", 4)
    with torch.no_grad():
        out = model.eval()(batch)
    assert torch.allclose(out["video_emb"].norm(dim=1), torch.ones(4), atol=1e-5)
    assert torch.allclose(out["distance"], (out["video_emb"] - out["audio_emb"]).norm(dim=1))


def test_augmentation_runs_in_training_only():
    model = build("l3", "smoke")
    batch, _ = model.example(model.cfg, 2)
    model.eval()
    with torch.no_grad():
        assert torch.equal(model.embed_video(batch["video"]), model.embed_video(batch["video"]))


def test_unknown_names_presets_overrides_and_towers_are_config_errors():
    with pytest.raises(ConfigError, match="unknown model"):
        build("l4")
    with pytest.raises(ConfigError, match="unknown preset"):
        build("l3", "huge")
    with pytest.raises(ConfigError, match="bad override"):
        build("l3", "smoke", widht=3)
    with pytest.raises(ConfigError, match="unknown tower 'both'"):
        build("l3-classifier", "smoke", tower="both")
    assert entry("l3-classifier").cls.__name__ == "TowerClassifier"


@pytest.mark.parametrize("name", ["l3", "avenet", "avol"])
def test_in_batch_pair_logits_hold_the_batch_own_pairs_on_their_diagonal(name):
    torch.manual_seed(0)
    model, batch, _ = _example(name, "smoke", 4)
    assert model.cfg.in_batch_negatives
    out = model.train()(batch)
    assert out["pair_logits"].shape == (4, 4, 2)
    torch.testing.assert_close(out["pair_logits"].diagonal().T, out["logits"])
    assert "pair_logits" not in model.eval()(batch)  # evaluation scores the given pairs only
