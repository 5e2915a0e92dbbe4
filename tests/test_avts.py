"""AVTS: the model's shape and the paper's settings, the sampler's curriculum switch and its
alias avoidance, the scoring of sync pairs, and the chapter's gated verdicts from results."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from avlib.chapters import avts as chapter
from avlib.data.samplers.base import KINDS
from avlib.data.samplers.shifts import AVTSSampler, Curriculum, event_period
from avlib.errors import ConfigError
from avlib.experiments import avts as exp
from avlib.experiments import avts_eval
from avlib.models import build, get_config
from avlib.models.avts import AVTSNet, config
from avlib.results import Selection, save_result
from avlib.train import TrainResult

# --- model --------------------------------------------------------------------------------------


def test_paper_config_holds_the_papers_settings():
    cfg = get_config("avts", "paper")
    assert (cfg.margin, cfg.epochs, cfg.switch_epoch, cfg.easy_to_hard) == (0.99, 90, 50, 3.0)
    assert (cfg.lr_drop, cfg.plateau_epochs, cfg.batch_size, cfg.schedule) == (
        0.1, 5, 64, "plateau",
    )  # fmt: skip
    assert cfg.min_hard_shift_s == 0.5 and cfg.frame_size == 112


def test_video_net_is_mixed_3d_first_then_2d():
    model = AVTSNet(get_config("avts", "paper"))
    kernels = [
        next(m for m in block.modules() if isinstance(m, torch.nn.Conv3d)).kernel_size
        for block in model.video.children()
    ]
    assert kernels == [(3, 3, 3), (3, 3, 3), (1, 3, 3), (1, 3, 3)]
    audio = [m for m in model.audio.modules() if isinstance(m, torch.nn.Conv3d | torch.nn.Conv2d)]
    assert audio and all(isinstance(m, torch.nn.Conv2d) for m in audio), "2-D conv on log-mel"


def test_embeddings_are_unit_length_and_distance_is_theirs():
    model = build("avts", "smoke").eval()
    batch, _ = model.example(model.cfg, 3)
    with torch.no_grad():
        out = model(batch)
    for key in ("video_emb", "audio_emb"):
        assert torch.allclose(out[key].norm(dim=1), torch.ones(3), atol=1e-5)
    expected = (out["video_emb"] - out["audio_emb"]).norm(dim=1)
    assert torch.allclose(out["distance"], expected, atol=1e-4)
    assert ((out["distance"] >= 0) & (out["distance"] <= 2)).all()
    assert out["logits"].shape == (3, 2)


def test_bad_configs_are_config_errors():
    with pytest.raises(ConfigError, match="unknown AVTS loss"):
        config("smoke", loss="hinge")
    with pytest.raises(ConfigError, match="time_steps"):
        config("smoke", time_steps=99)


def test_bce_variant_trains_the_same_net_on_the_same_pairs():
    a, b = build("avts", "smoke"), build("avts", "smoke", loss="bce")
    assert a.state_dict().keys() == b.state_dict().keys()
    assert type(exp.pretext_loss(b.cfg)).__name__ == "CrossEntropyLoss"
    assert exp.loss_of("bce") == "bce" and exp.loss_of("curriculum") == "contrastive"


# --- sampler: curriculum switch and aliases -----------------------------------------------------

T = 40  # frames per clip


def _sampler(curriculum, periods=None, n=400, tolerance=1.0):
    return AVTSSampler(
        6, T, window_frames=8, curriculum=curriculum, min_hard_shift=5,
        max_superhard_shift=2, samples_per_epoch=n, periods=periods,
        alias_tolerance=tolerance, seed=3,
    )  # fmt: skip


def test_switch_at_the_scaled_epoch_makes_a_quarter_of_the_negatives_hard():
    setup = exp.SETUPS["quick"]
    switch = exp.switch_epoch(setup)
    assert switch == round(50 / 90 * setup.epochs)
    s = _sampler(Curriculum.avts(setup.epochs))
    assert s.state(switch - 1)["hard_share"] == 0.0
    assert s.state(switch)["hard_share"] == pytest.approx(0.25)
    assert s.state(switch)["easy_share"] == pytest.approx(0.75)
    assert exp.expected_hard_share(setup, switch - 1) == 0.0
    assert exp.expected_hard_share(setup, switch) == 0.25


def _result(epochs, steps_per_epoch, first_epoch=0):
    history = [
        {"epoch": e, "step": (e + 1) * steps_per_epoch, "val_acc": 0.6} for e in range(epochs)
    ]
    return TrainResult(history, [], {}, [], 1.0, epochs * steps_per_epoch, epochs, None, None)


def test_logged_sampler_state_shows_the_switch_in_the_chained_history():
    """The two stages of the curriculum run as one: the hook's records land in the history
    and the chapter reads the switch from them."""
    setup = exp.SETUPS["smoke"]
    switch, steps = exp.switch_epoch(setup), setup.epoch_steps
    cur = exp.curriculum("curriculum", setup)
    logs = []
    for first, (epochs, mix) in ((0, (switch, cur.mix(0))),
                                 (switch, (setup.epochs - switch, cur.mix(switch)))):  # fmt: skip
        log = exp.SamplerLog(_sampler(Curriculum.constant(**mix)), first, first * steps)
        for e in range(epochs):
            log.on_epoch_start(SimpleNamespace(epoch=e, step=e * steps))
        logs.append(log.records)
    parts = [(_result(switch, steps), logs[0], True),
             (_result(setup.epochs - switch, steps), logs[1], True)]  # fmt: skip
    history = exp.chain(parts).history
    shares = [h["hard_share"] for h in history]
    assert shares == [0.0] * switch + [pytest.approx(0.25)] * (setup.epochs - switch)
    assert [h["step"] for h in history] == [(e + 1) * steps for e in range(setup.epochs)]
    assert chapter.switch_step(history) == switch * steps


def test_every_condition_has_two_stages_split_at_the_switch():
    setup = exp.SETUPS["quick"]
    switch = exp.switch_epoch(setup)
    for c in exp.CONDITIONS:
        cur = exp.curriculum(c, setup)
        assert [s for s, _ in cur.stages] == [0, switch]
    assert exp.curriculum("hardstart", setup).mix(0) == {"easy": 3.0, "hard": 1.0}
    assert exp.curriculum("easy", setup).mix(switch) == {"easy": 1.0}
    assert exp.curriculum("superhard", setup).mix(switch)["superhard"] > 0


def test_event_period_of_regular_events_only():
    assert event_period([0.0, 0.4, 0.8, 1.2, 1.6], fps=10) == pytest.approx(4.0)
    assert np.isnan(event_period([0.0, 0.1, 0.9, 1.0, 1.9], fps=10)), "irregular"
    assert np.isnan(event_period([0.0, 0.4, 0.8], fps=10)), "too few events"


def test_hard_negatives_avoid_multiples_of_the_period():
    periods = np.full(6, 5.0)
    free = _sampler(Curriculum.constant(hard=1))
    avoid = _sampler(Curriculum.constant(hard=1), periods=periods)
    w_free, w = free.windows(0), avoid.windows(0)
    hard = w.kind == KINDS.index("hard")
    shift = np.abs(w.offset_frames[hard])
    assert (shift >= 5).all() and np.isin(shift % 5, [2, 3]).all()
    assert avoid.aliases(w).sum() == 0 and avoid.state(0)["alias_share"] == 0.0
    # the same draws without periods do hit multiples of 5 (within a frame) often
    free_shift = np.abs(w_free.offset_frames[w_free.kind == KINDS.index("hard")])
    assert np.isin(free_shift % 5, [0, 1, 4]).mean() > 0.3


def test_unavoidable_aliases_are_drawn_and_counted():
    periods = np.r_[np.full(3, 1.5), np.full(3, np.nan)]  # fast periods: every shift an alias
    s = _sampler(Curriculum.constant(hard=1), periods=periods)
    w = s.windows(0)
    hard = w.kind == KINDS.index("hard")
    fast = hard & (w.video_clip < 3)
    assert hard.sum() == 200 and s.aliases(w)[fast].all() and not s.aliases(w)[hard & ~fast].any()
    assert s.state(0)["alias_share"] == pytest.approx(fast.sum() / hard.sum())


# --- scoring ------------------------------------------------------------------------------------


def test_balanced_accuracy_and_threshold_per_negative_kind():
    pos, easy, hard = KINDS.index("positive"), KINDS.index("easy"), KINDS.index("hard")
    dist = np.array([0.1, 0.2, 0.3, 1.5, 1.6, 1.7, 0.15, 0.25, 1.0])
    kind = np.array([pos, pos, pos, easy, easy, easy, hard, hard, hard])
    t = exp.best_threshold(dist, kind, "easy")
    assert 0.3 <= t < 1.5 and exp.balanced_accuracy(dist, kind, "easy", t) == 1.0
    t_hard = exp.best_threshold(dist, kind, "hard")
    assert exp.balanced_accuracy(dist, kind, "hard", t_hard) == pytest.approx(2 / 3)
    assert exp.balanced_accuracy(dist, kind, "easy", 2.0) == 0.5, "all 'in sync': chance"


def test_action_splits_follow_each_items_roles():
    roles = [("train", "test", None), ("test", "train", "train"), (None, None, "test")]
    arrays = SimpleNamespace(items=[SimpleNamespace(extra={"splits": r}) for r in roles])
    splits = avts_eval.action_splits(arrays)
    assert [(a.tolist(), b.tolist()) for a, b in splits] == [
        ([0], [1]), ([1], [0]), ([1], [2]),
    ]  # fmt: skip


# --- chapter: gates and verdicts from results files --------------------------------------------


def _ablation(tmp_path, easy=0.80, hard=0.60, gain=0.01, **over):
    for seed in range(3):
        metrics = {"sync_easy_curriculum": easy + 0.01 * seed,
                   "sync_hard_curriculum": hard + 0.01 * seed,
                   "gain_curriculum": gain, "esc_mfcc": 0.3}  # fmt: skip
        for c in chapter.CONDITIONS:
            metrics.setdefault(f"sync_{c}", 0.70 + 0.01 * seed)
        for key in ("sync_hard_easy", "ucf_probe_curriculum", "ucf_probe_easy",
                    "esc_curriculum", "esc_easy"):  # fmt: skip
            metrics[key] = 0.5 + 0.01 * seed
        metrics.update({k: v[seed] for k, v in over.items()})
        save_result(profile="quick", paper="avts", experiment="avts-ablation", seed=seed,
                    metrics=metrics, results_dir=tmp_path)  # fmt: skip


def test_sync_near_chance_leaves_ablation_claims_under_trained(tmp_path):
    _ablation(tmp_path, easy=0.50, sync_hardstart=(0.60, 0.61, 0.62))
    result = chapter.CLAIMS[1].evaluate(Selection("quick", tmp_path))
    assert result.label.startswith("inconclusive (under-trained: ")
    assert "AVTS easy pairs above chance" in result.under_trained


def test_avts_2_is_read_once_the_gates_pass(tmp_path):
    _ablation(tmp_path, sync_hardstart=(0.60, 0.61, 0.62))
    assert chapter.CLAIMS[1].evaluate(Selection("quick", tmp_path)).label == "reproduced"
    tmp = tmp_path / "b"
    _ablation(tmp, sync_hardstart=(0.80, 0.81, 0.82))
    assert chapter.CLAIMS[1].evaluate(Selection("quick", tmp)).label == "not reproduced"


def test_hard_pairs_at_chance_leave_the_hard_negative_claims_under_trained(tmp_path):
    """'Super-hard negatives do not help' would hold trivially when no net learnt hard pairs."""
    _ablation(tmp_path, hard=0.50, sync_superhard=(0.70, 0.71, 0.72))
    sel = Selection("quick", tmp_path)
    for claim in chapter.CLAIMS[:3]:
        result = claim.evaluate(sel)
        assert result.label == "inconclusive (under-trained: AVTS hard pairs above chance)"
    assert chapter.CLAIMS[3].evaluate(sel).under_trained is None, "AVTS-4 compares losses"


def test_a_rising_curve_fails_the_flattened_gate(tmp_path):
    _ablation(tmp_path, gain=0.12, sync_hardstart=(0.60, 0.61, 0.62))
    result = chapter.CLAIMS[1].evaluate(Selection("quick", tmp_path))
    assert result.label == "inconclusive (under-trained: AVTS curve flattened)"


def test_margins_and_gates_are_stated():
    assert pytest.approx(0.25 * 0.199, abs=1e-6) == chapter.UCF
    assert pytest.approx(0.25 * 0.177, abs=1e-6) == chapter.HMDB
    for claim in chapter.CLAIMS:
        assert claim.gates and claim.section and claim.margin_note, claim.id
    assert chapter.SYNC_LEARNT in chapter.CLAIMS[-1].gates
    assert "no ablation numbers" in chapter.ABLATION_NOTE


def test_sampler_reading_says_when_hard_negatives_arrived(tmp_path):
    history = [{"step": 10 * (e + 1), "hard_share": 0.0 if e < 2 else 0.25} for e in range(4)]
    save_result(profile="quick", paper="avts", experiment="avts-ablation", seed=0,
                metrics={"sync_curriculum": 0.7}, results_dir=tmp_path,
                extra={"history": {"curriculum": history}})  # fmt: skip
    reading = chapter.sampler_reading(Selection("quick", tmp_path))
    assert reading == "held 0% hard negatives up to step 20, then 25% to 25% of the negatives " \
        "in every epoch"  # fmt: skip


# --- real layouts: the data path of the experiments on small trees ------------------------------


def test_real_kinetics_ucf101_and_hmdb51_layouts_feed_the_experiments(tmp_path):
    from avlib.experiments import RunContext
    from tests import trees

    root = tmp_path / "real"
    kinds = ("playing drums", "dribbling basketball")
    rows = [(kinds[k % 2], f"yt{k}", 0, 3, split, kinds[k % 2])  # 3 s segments, 3.2 s files
            for k, split in enumerate(["train"] * 4 + ["val"] * 2 + ["test"] * 2)]  # fmt: skip
    trees.kinetics(root / "kinetics", rows, media_s=3.2)
    trees.ucf101(root / "ucf101", media_s=1.8)
    trees.hmdb51(root / "hmdb51", media_s=1.8)
    ctx = RunContext("smoke", 0, "cpu", tmp_path / "run", progress=False, data_root=root)
    cfg, setup = get_config("avts", "smoke"), exp.SETUPS["smoke"]
    layout, train, val, test = exp.pretext_data(ctx, cfg, setup)
    assert layout == "kinetics_sounds", "no AudioSet under data_root: Kinetics"
    assert (len(train), len(val), len(test)) == (4, 2, 2) and not train.skipped
    assert exp.periods(train, cfg.fps) is None, "real clips carry no event truth"
    pairs, sampler = exp.fixed_pairs(test, cfg, setup, 24)
    batch = next(iter(pairs))
    assert batch["video"].shape[2:] == (cfg.clip_frames, cfg.frame_size, cfg.frame_size)
    assert batch["audio"].shape[1] == cfg.samples and sampler.state(0)["alias_share"] == 0.0
    actions = avts_eval.action_data(ctx, cfg, setup)
    hmdb = avts_eval.action_splits(actions["hmdb51"])
    assert [(len(a), len(b)) for a, b in hmdb] == [(4, 2)] * 3, "marks 1 train, 2 test, 0 unused"
    assert [(len(a), len(b)) for a, b in avts_eval.action_splits(actions["ucf101"])] == [(4, 2)] * 3
    assert [u["layout"] for u in ctx.used] == ["kinetics_sounds", "ucf101", "hmdb51"]
