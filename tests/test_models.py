"""Every registered model: shapes, finite loss, gradients, and loss falling on one fixed batch."""

import pytest
import torch
import torch.nn.functional as F

from avlib.errors import ConfigError
from avlib.models import build, get_config, names


def _batch(cfg, b=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    return {
        "video": torch.rand(b, 3, 1, cfg.frame_size, cfg.frame_size, generator=g),
        "audio": torch.randn(b, int(cfg.sr * cfg.clip_s), generator=g) * 0.1,
        "label": torch.randint(0, 2, (b,), generator=g),
    }


@pytest.mark.parametrize("name", names())
def test_smoke_model_forward_backward_and_overfits_one_batch(name):
    torch.manual_seed(0)
    model = build(name, "smoke")
    cfg = model.cfg
    batch = _batch(cfg)
    if cfg.head == "classifier":
        batch["label"] = torch.randint(
            0, cfg.n_classes, (8,), generator=torch.Generator().manual_seed(1)
        )
    out = model(batch)
    n_out = cfg.n_classes if cfg.head == "classifier" else 2
    assert out["logits"].shape == (8, n_out)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(25):
        loss = F.cross_entropy(model(batch)["logits"], batch["label"])
        assert torch.isfinite(loss)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.85 * losses[0], losses


def test_paper_config_is_the_papers_and_runs_a_forward_pass():
    cfg = get_config("l3", "paper")
    assert (cfg.widths, cfg.frame_size, cfg.sr, cfg.lr, cfg.weight_decay, cfg.batch_size) == (
        (64, 128, 256, 512),
        224,
        48_000,
        1e-4,
        1e-5,
        256,
    )
    model = build("l3", "paper").eval()
    batch = _batch(cfg, b=1)
    assert model.frontend(batch["audio"]).shape == (1, 1, 257, 199), (
        "L3's 257 x 199 log spectrogram"
    )
    with torch.no_grad():
        out = model(batch)
    assert out["logits"].shape == (1, 2) and out["video_emb"].shape == (1, 512)


def test_avol_similarity_map_follows_the_vision_grid():
    model = build("avol", "smoke").eval()
    batch = _batch(model.cfg, b=2)
    with torch.no_grad():
        sim = model.localisation_map(batch["video"], batch["audio"])
    side = model.cfg.frame_size // 8
    assert sim.shape == (2, side, side)
    assert sim.abs().max() <= 1.0 + 1e-5, "cosine similarities"


def test_avenet_embeddings_are_unit_length():
    model = build("avenet", "smoke").eval()
    with torch.no_grad():
        out = model(_batch(model.cfg, b=4))
    assert torch.allclose(out["video_emb"].norm(dim=1), torch.ones(4), atol=1e-5)
    assert torch.allclose(out["distance"], (out["video_emb"] - out["audio_emb"]).norm(dim=1))


def test_unknown_names_presets_and_overrides_are_config_errors():
    with pytest.raises(ConfigError, match="unknown model"):
        build("l4")
    with pytest.raises(ConfigError, match="unknown preset"):
        build("l3", "huge")
    with pytest.raises(ConfigError, match="bad override"):
        build("l3", "smoke", widht=3)
