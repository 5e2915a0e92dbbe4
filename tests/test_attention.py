"""The attention chapter: the three aggregators (weights, softmax over chunks or over every
position), the world's per-chunk truth, the experiments' scoring helpers, a real-layout
AudioSet tree read unchanged, and gated verdicts from results files."""

import numpy as np
import pytest
import torch

from avlib.chapters import attention as at
from avlib.data.world import compose_actions, compose_talking
from avlib.data.world.layouts import event_chunks, speaker_for
from avlib.data.world.presets import get_preset
from avlib.errors import ConfigError
from avlib.experiments import attention as ex
from avlib.models import build, get_config
from avlib.results import Selection, save_result

# --- models ------------------------------------------------------------------------------------


def _out(name, batch_size=3, **over):
    torch.manual_seed(0)
    model = build(name, "smoke", **over).eval()
    batch, _ = model.example(model.cfg, batch_size)
    with torch.no_grad():
        return model, batch, model(batch)


@pytest.mark.parametrize(
    "name", ["attention-average", "attention-temporal", "attention-spatiotemporal"]
)
def test_weights_sum_to_one_and_logits_are_two_way(name):
    model, _, out = _out(name, n_chunks=3)
    assert out["logits"].shape == (3, 2) and out["embedding"].shape[1] == model.net.out_channels
    assert out["chunk_weights"].shape == (3, 3)
    assert torch.allclose(out["chunk_weights"].sum(1), torch.ones(3), atol=1e-5)
    assert (out["chunk_weights"] >= 0).all()
    if "position_weights" in out:
        assert torch.allclose(out["position_weights"].sum(dim=(1, 2, 3, 4)), torch.ones(3),
                              atol=1e-5)  # fmt: skip


def test_baseline_averages_every_position_of_every_chunk():
    model, batch, out = _out("attention-average")
    with torch.no_grad():
        maps = model.net(batch["video"], batch["audio"])
    assert torch.allclose(out["embedding"], maps.mean(dim=(1, 3, 4, 5)), atol=1e-5)
    assert torch.allclose(out["chunk_weights"], torch.full_like(out["chunk_weights"], 0.5))


class _Fixed(torch.nn.Module):
    """Stands in for the attention convs: a score of 0 everywhere but ``hot`` at one position."""

    def __init__(self, hot: float, index: int):
        super().__init__()
        self.hot, self.index = hot, index

    def forward(self, x):
        scores = torch.zeros(x.shape[0], 1, *x.shape[2:])
        scores.view(-1)[self.index] = self.hot
        return scores


def test_temporal_softmax_runs_over_chunks_of_pooled_vectors():
    model = build("attention-temporal", "smoke", n_chunks=3).eval()
    batch, _ = model.example(model.cfg, 1)
    model.attention = _Fixed(np.log(6.0), index=1)  # chunk 2 scores log 6, the others 0
    with torch.no_grad():
        out = model(batch)
        maps = model.net(batch["video"], batch["audio"])
    weights = torch.tensor([[1.0, 6.0, 1.0]]) / 8
    assert torch.allclose(out["chunk_weights"], weights, atol=1e-5)
    expected = (weights[..., None] * maps.mean(dim=(3, 4, 5))).sum(1)
    assert torch.allclose(out["embedding"], expected, atol=1e-5)


def test_spatiotemporal_softmax_runs_over_every_position_of_every_chunk():
    model = build("attention-spatiotemporal", "smoke", n_chunks=2).eval()
    batch, _ = model.example(model.cfg, 1)
    with torch.no_grad():
        k, c, t, h, w = model.net(batch["video"], batch["audio"]).shape[1:]
    n = k * t * h * w
    model.attention = _Fixed(np.log(n + 1.0), index=0)  # one position of chunk 1 scores high
    with torch.no_grad():
        out = model(batch)
    grid = out["position_weights"][0]
    assert grid.shape == (k, t, h, w)
    hot = (n + 1.0) / (2 * n)  # e^s / (e^s + n - 1) with e^s = n + 1
    assert grid.view(-1)[0].item() == pytest.approx(hot, rel=1e-4)
    assert grid.view(-1)[1:].sum().item() == pytest.approx(1 - hot, rel=1e-4)
    # a softmax per chunk would give each chunk 1/k; over all positions chunk 1 takes more
    assert out["chunk_weights"][0, 0].item() == pytest.approx(hot + (t * h * w - 1) / (2 * n),
                                                              rel=1e-4)  # fmt: skip


def test_paper_config_is_the_papers_and_a_wrong_window_is_a_config_error():
    cfg = get_config("attention-temporal", "paper")
    assert (cfg.chunk_frames, len(cfg.fusion_widths), cfg.fc_dim) == (25, 5, 512)
    assert cfg.chunk_s == 1.0
    model = build("attention-average", "smoke")
    batch, _ = model.example(model.cfg, 1)
    with pytest.raises(ConfigError, match="frames"):
        model({**batch, "video": batch["video"][:, :, 1:]})
    with pytest.raises(ConfigError, match="5 conv layers"):
        get_config("attention-average", "smoke", fusion_widths=(8, 8))


def test_full_preset_runs_a_forward_pass_on_four_chunks():
    model = build("attention-spatiotemporal", "full").eval()
    batch, _ = model.example(model.cfg, 1)
    with torch.no_grad():
        out = model(batch)
    assert out["position_weights"].shape[1] == 4 and out["logits"].shape == (1, 2)


# --- world -------------------------------------------------------------------------------------


def test_event_chunks_hold_a_central_chunk_and_stay_in_range():
    rng = np.random.default_rng(0)
    for _ in range(50):
        ev = event_chunks(rng, 4, (1, 2))
        assert 1 <= len(ev) <= 2 and ev == sorted(set(ev)) and all(0 <= c < 4 for c in ev)
        assert {1, 2} & set(ev), "every 3-chunk window of a 4-chunk clip holds an event"


def test_chunked_talking_clip_speaks_only_in_its_event_chunks():
    preset = get_preset("smoke")
    rng = np.random.default_rng(3)
    clip = compose_talking.chunked_talking_clip(rng, preset, speaker_for(0, 0), 3.0, 1.0, [1])
    truth = clip.truth
    assert truth["chunk_events"] == [False, True, False] and truth["chunk_s"] == 1.0
    assert truth["chunk_boxes"][0] is None and truth["chunk_boxes"][2] is None
    x0, y0, x1, y1 = truth["chunk_boxes"][1]
    assert 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1
    assert truth["words"] and all(a >= 1.0 and b <= 2.0 for _, a, b in truth["words"])
    rms = [np.sqrt(np.mean(clip.audio[int(c * preset.sr) : int((c + 1) * preset.sr)] ** 2))
           for c in range(3)]  # fmt: skip
    assert rms[1] > 1.5 * max(rms[0], rms[2]), rms


def test_impact_clip_strikes_only_in_its_event_chunks():
    preset = get_preset("smoke")
    clip = compose_actions.impact_clip(np.random.default_rng(1), preset, "Knock", 3.0, 1.0, [0, 2])
    onsets = np.asarray(clip.truth["events_s"])
    assert len(onsets) and not ((onsets >= 1.0) & (onsets < 2.0)).any()
    assert clip.truth["chunk_events"] == [True, False, True]
    assert clip.truth["chunk_boxes"][1] is None


# --- experiment helpers ------------------------------------------------------------------------


def test_convergence_reads_the_first_step_at_target_and_censors_a_miss():
    history = [{"step": s, "val_acc": a, "loss": 0.6} for s, a in
               ((25, 0.5), (50, 0.6), (75, 0.7), (100, 0.72))]  # fmt: skip
    hit = ex.convergence(history, 0.65, 100)
    assert hit == {"steps_to_target": 75.0, "steps_to_target_share": 0.75,
                   "reached_target": 1.0, "val_gain_last_quarter": pytest.approx(0.02)}  # fmt: skip
    miss = ex.convergence(history, 0.9, 100)
    assert miss["steps_to_target"] == 100.0 and miss["reached_target"] == 0.0
    with pytest.raises(ConfigError):
        ex.convergence([{"step": 1, "loss": 0.7}], 0.6, 10)


def test_cell_hits_mark_the_cells_a_box_covers():
    cells = ex.cell_hits([0.5, 0.5, 1.0, 1.0], 2, 2, 0.1)
    assert cells.tolist() == [[False, False], [False, True]]
    small = ex.cell_hits([0.1, 0.1, 0.12, 0.12], 4, 4, 0.1)
    assert small.sum() == 1 and small[0, 0], "a small box still holds its centre's cell"


def test_a_real_layout_audioset_tree_is_split_by_label_and_csv(tmp_path):
    from avlib.data.layouts import open_dataset
    from tests.trees import av_clip

    labels = 'index,mid,display_name\n0,/m/09x0r,"Speech"\n1,/m/07qc9xj,"Knock"\n'
    (tmp_path / "class_labels_indices.csv").write_text(labels)
    rows = {"balanced_train": [], "eval": []}
    for i in range(8):
        split = "eval" if i in (6, 7) else "balanced_train"
        mid = "/m/07qc9xj" if i % 4 == 3 else "/m/09x0r"
        rows[split].append(f'y{i}, 0.000, 3.500, "{mid}"')
        av_clip(tmp_path / "clips" / f"y{i}_0_3500.mp4", seconds=3.5, fps=10, sr=8000)
    for split, lines in rows.items():
        head = "# Segments csv\n# x\n# YTID, start_seconds, end_seconds, positive_labels\n"
        (tmp_path / f"{split}_segments.csv").write_text(head + "\n".join(lines) + "\n")
    splits = ex.audioset_splits(open_dataset(tmp_path), val_every=3)
    assert {k: len(v.items) for k, v in splits.items()} == {
        "train": 4, "val": 1, "test": 1, "impacts": 2,
    }  # fmt: skip
    assert all("Knock" in i.labels for i in splits["impacts"].items)


# --- chapter -----------------------------------------------------------------------------------


def _save(tmp_path, experiment, **metrics):
    for seed in range(3):
        values = {k: v[seed] for k, v in metrics.items()}
        save_result(profile="quick", paper="attention", experiment=experiment, seed=seed,
                    metrics=values, results_dir=tmp_path)  # fmt: skip


def _three(tmp_path, avg, tmp, st, gain=(0.0, 0.01, 0.0), **extra):
    for name, acc in (("attention-average", avg), ("attention-temporal", tmp),
                      ("attention-spatiotemporal", st)):  # fmt: skip
        _save(tmp_path, name, acc_speech=acc, acc_impact=acc, val_gain_last_quarter=gain,
              **extra)  # fmt: skip


def test_at_1_is_reproduced_when_temporal_clears_the_margin(tmp_path):
    _three(tmp_path, (0.70, 0.71, 0.69), (0.78, 0.80, 0.79), (0.80, 0.81, 0.79))
    sel = Selection("quick", tmp_path)
    assert at.CLAIMS[0].evaluate(sel).label == "reproduced"
    assert at.CLAIMS[1].evaluate(sel).label == "reproduced"
    assert at.CLAIMS[2].evaluate(sel).label == "reproduced"
    assert at.gain_reading(sel).startswith("+1.0 points for spatio-temporal")
    assert "smaller than" in at.gain_reading(sel)


def test_at_1_is_under_trained_not_refuted_when_the_baseline_sits_at_chance(tmp_path):
    _three(tmp_path, (0.52, 0.53, 0.51), (0.50, 0.51, 0.49), (0.50, 0.51, 0.50))
    result = at.CLAIMS[0].evaluate(Selection("quick", tmp_path))
    assert result.comparison.verdict == "not reproduced"  # the numbers alone would refute it
    assert result.label.startswith("inconclusive (under-trained: baseline sync above chance")


def test_a_gain_inside_the_margin_is_not_a_gain(tmp_path):
    _three(tmp_path, (0.70, 0.71, 0.69), (0.705, 0.715, 0.695), (0.70, 0.71, 0.69))
    assert at.CLAIMS[0].evaluate(Selection("quick", tmp_path)).label == "not reproduced"


def test_at_4_needs_the_baseline_to_reach_the_target(tmp_path):
    _three(tmp_path, (0.70, 0.71, 0.69), (0.78, 0.80, 0.79), (0.80, 0.81, 0.79),
           steps_to_target_share=(1.0, 1.0, 1.0), reached_target=(0.0, 0.0, 0.0))  # fmt: skip
    result = at.CLAIMS[3].evaluate(Selection("quick", tmp_path))
    assert result.under_trained == "baseline reached the target accuracy"


def test_at_5_compares_top_weights_with_a_random_pick(tmp_path):
    hits = {
        "top_chunk_hit_speech": (0.9, 0.85, 0.95),
        "top_chunk_chance_speech": (0.5,) * 3,
        "top_region_hit_speech": (0.4, 0.5, 0.45),
        "top_region_chance_speech": (0.1,) * 3,
    }
    _three(tmp_path, (0.70, 0.71, 0.69), (0.78, 0.80, 0.79), (0.80, 0.81, 0.79), **hits)
    assert at.CLAIMS[4].evaluate(Selection("quick", tmp_path)).label == "reproduced"


def test_every_claim_names_gates_margin_reason_and_section():
    for claim in at.CLAIMS:
        assert claim.gates and claim.section and claim.margin_note and claim.compare, claim.id
    assert at.AVG_LEARNT in at.CLAIMS[0].gates


def test_frame_differences_are_an_extra_input_off_at_the_papers_size():
    assert get_config("attention-average", "paper").frame_diff == 0
    raw = build("attention-average", "smoke", frame_diff=0.0)
    assert raw.net.video[0][0].in_channels == 3
    model = build("attention-average", "smoke").eval()
    assert model.cfg.frame_diff > 0 and model.net.video[0][0].in_channels == 6
    seen = []
    model.net.video[0][0].register_forward_hook(lambda m, args, out: seen.append(args[0]))
    video = torch.full((1, 3, model.cfg.chunk_frames, 32, 32), 0.5)
    video[:, :, 1:, :8, :8] = 0.9  # a patch brightens from the second frame on
    with torch.no_grad():
        model.net.video_features(video)
    diff = seen[0][0, 3:]  # (3, T, H, W): the difference channels
    patch = diff[:, 1, :8, :8]
    assert torch.allclose(patch, torch.full_like(patch, 0.4 * model.cfg.frame_diff), atol=1e-4)
    assert diff[:, 0].abs().max() == 0 and diff[:, 2:].abs().max() == 0
    assert diff[:, 1, 8:].abs().max() == 0
