"""SoundNet: the paper's layer arithmetic, teachers from weights on disk, the students' targets,
the probes on real ESC-50 / DCASE trees, and the chapter's gated claims."""

import numpy as np
import pytest
import torch

from avlib.chapters import soundnet as chapter
from avlib.data.encode import write_audio
from avlib.data.samplers.crops import CropSampler
from avlib.errors import ConfigError
from avlib.experiments import RunContext, soundnet_baselines, soundnet_teachers
from avlib.experiments import soundnet as ex
from avlib.models import build, get_config
from avlib.models.soundnet import ImageTeacher, load_weights, output_length, teacher_config
from avlib.results import Selection, save_result
from avlib.train import TrainResult
from tests import trees
from tests.mediafiles import tone


def test_paper_config_is_the_papers_table_1_and_training():
    cfg = get_config("soundnet", "paper")
    assert cfg.widths == (16, 32, 64, 128, 256, 512, 1024)
    assert cfg.kernels == (64, 32, 16, 8, 4, 4, 4) and cfg.stride == 2
    assert cfg.pools == (8, 8, 1, 1, 4, 1, 1) and cfg.head_kernel == 8
    assert (cfg.sr, cfg.lr, cfg.batch_size, cfg.loss) == (22_050, 1e-3, 64, "kl")
    assert (cfg.n_objects, cfg.n_scenes) == (1000, 401)
    five = get_config("soundnet5", "paper")
    assert five.widths == (32, 64, 128, 256) and five.pools == (8, 8, 8, 1)


@pytest.mark.parametrize("name", ["soundnet", "soundnet5"])
def test_paper_size_forward_gives_the_papers_four_steps_for_20_s(name):
    model = build(name, "paper").eval()
    assert output_length(model.cfg, 20 * 22_050) == 4  # 20 s -> 4 conv8 outputs (the paper)
    with torch.no_grad():
        out = model({"audio": torch.zeros(1, 20 * 22_050)})
    assert out["logits"]["objects"].shape == (1, 4, 1000)
    assert out["logits"]["scenes"].shape == (1, 4, 401)


@pytest.mark.parametrize("preset", ["smoke", "quick", "full"])
def test_scaled_presets_keep_at_least_one_head_step_per_window(preset):
    for name in ("soundnet", "soundnet5"):
        cfg = get_config(name, preset)
        n = round(cfg.sr * cfg.clip_s)
        steps = output_length(cfg, n)
        model = build(name, preset, n_objects=5, n_scenes=3).eval()
        with torch.no_grad():
            out = model({"audio": torch.zeros(2, n)})
        assert steps >= 1 and out["logits"]["objects"].shape == (2, steps, 5), (name, preset)


def test_taps_are_named_as_the_paper_with_pool5():
    taps = list(build("soundnet", "smoke").feature_taps("audio"))
    convs = [t for t in taps if t.startswith("conv")]
    assert convs == [f"conv{i}" for i in range(1, 9)] and "pool5" in taps
    assert [t for t in build("soundnet5", "smoke").feature_taps("audio")][-1] == "conv5"
    with pytest.raises(ConfigError):
        build("soundnet", "smoke").feature_taps("video")


def test_bad_depth_loss_and_heads_are_config_errors():
    for overrides in ({"depth": 6}, {"loss": "ce"}, {"heads": ("faces",)}, {"heads": ()}):
        with pytest.raises(ConfigError):
            get_config("soundnet", "smoke", **overrides)


def test_teacher_loads_a_torchvision_state_dict_from_disk(tmp_path):
    cfg = teacher_config("smoke", n_classes=7)
    saved = ImageTeacher(cfg).net
    torch.nn.init.constant_(saved.fc.weight, 0.25)
    path = tmp_path / "objects.pt"
    torch.save(saved.state_dict(), path)
    teacher = build("soundnet-teacher", "smoke", n_classes=7, weights=str(path))
    assert torch.equal(teacher.net.fc.weight, saved.fc.weight)
    assert soundnet_teachers._classes_in(str(path)) == 7
    assert soundnet_teachers.teacher_weights(None) == {}
    (tmp_path / "soundnet_teachers").mkdir()
    path.rename(tmp_path / "soundnet_teachers" / "objects.pt")
    assert soundnet_teachers.teacher_weights(tmp_path) == {
        "objects": str(tmp_path / "soundnet_teachers" / "objects.pt")
    }
    with pytest.raises(ConfigError, match="not found"):
        load_weights(teacher.net, tmp_path / "missing.pt")
    with pytest.raises(ConfigError, match="not a state dict of this architecture"):
        load_weights(ImageTeacher(teacher_config("smoke", n_classes=3)).net,
                     tmp_path / "soundnet_teachers" / "objects.pt")  # fmt: skip


def test_soft_targets_soften_with_the_temperature():
    logits = {"scenes": torch.tensor([[4.0, 0.0, 0.0]])}
    cold = soundnet_teachers.soft_targets(logits, 1.0)["scenes"]
    warm = soundnet_teachers.soft_targets(logits, 4.0)["scenes"]
    assert torch.allclose(cold.sum(-1), torch.ones(1)) and warm[0, 0] < cold[0, 0]
    assert warm[0, 0] == pytest.approx(np.exp(1) / (np.exp(1) + 2), rel=1e-5)


def test_crop_batches_pair_each_window_with_the_mean_of_its_frames_teacher_outputs():
    spf, clip_frames, win = 10, 6, 2
    audio = torch.arange(3 * clip_frames * spf, dtype=torch.float32).view(3, -1)
    probs = {"scenes": torch.arange(3 * clip_frames * 2, dtype=torch.float32).view(3, -1, 2)}
    sampler = CropSampler(3, clip_frames, win, samples_per_epoch=12, seed=0)
    data = ex.CropBatches(audio, spf, sampler, 4, probs=probs)
    data.sampler.set_epoch(0)
    batch = next(iter(data))
    assert batch["audio"].shape == (4, win * spf)
    for i in range(4):
        clip, first = divmod(int(batch["audio"][i, 0]), clip_frames * spf)
        start = first // spf
        expected = probs["scenes"][clip, start : start + win].mean(0)
        assert torch.equal(batch["teacher_probs"]["scenes"][i], expected)


def test_filter_responses_peak_at_each_filters_frequency():
    sr, k = 8000, 64
    t = np.arange(k) / sr
    filters = np.stack([np.sin(2 * np.pi * f * t) * np.hanning(k) for f in (2000, 500)])
    freqs, db = chapter.filter_responses(filters, sr)
    peaks = freqs[db.argmax(axis=1)]
    assert peaks[0] == pytest.approx(500, abs=100) and peaks[1] == pytest.approx(2000, abs=100)


def _real_trees(tmp_path, sr=8000):
    rows = [(f"{fold}-{k}{j}-A-{k}.wav", fold, k, name, k == 0, f"{k}{j}", "A")
            for fold in (1, 2, 3) for k, name in enumerate(("dog", "rain", "crow"))
            for j in range(2)]  # fmt: skip
    trees.esc50(tmp_path / "esc50", sr=sr, dur_s=2.0, rows=rows)
    for name, freq in (("bus", 300), ("park", 1500)):
        for k in range(10):
            path = tmp_path / "dcase2013" / "scenes_stereo" / f"{name}{3 * k + 1:02d}.wav"
            write_audio(path, tone(freq * (1 + 0.02 * k), 3.0, sr, channels=2), sr)
    return tmp_path


def test_probes_run_unchanged_on_real_esc50_and_dcase_trees(tmp_path):
    root = _real_trees(tmp_path)
    ctx = RunContext("smoke", 0, "cpu", tmp_path / "run", progress=False, data_root=root)
    setup = ex.SETUPS["smoke"]
    model = build("soundnet", "smoke", n_objects=4, n_scenes=3).eval()
    esc = ex._audio(ctx, "esc50", 2.0, model.cfg.sr)
    assert len(esc) == 18 and esc.classes == ["dog", "rain", "crow"]
    metrics, best, feats, clips = ex.layer_probes(model, esc, setup, "cpu")
    assert set(metrics) == {f"esc50_acc_{n}" for n in chapter.LAYERS}
    assert len(clips) == 18 * 2, "two 1 s windows of every 2 s clip"
    result = ex.probe(feats[best], clips, esc, setup)
    assert sorted(result.predictions) == list(range(18)) and set(result.fold_accuracies) == {
        1,
        2,
        3,
    }
    dcase = ex._audio(ctx, "dcase2013", 3.0, model.cfg.sr)
    d_feats, d_clips = ex.window_features(model, dcase, [best], 1.0, setup, "cpu")
    assert len(dcase) == 20 and len(d_clips) == 20 * 3
    assert 0.0 <= ex.probe(d_feats[best], d_clips, dcase, setup).accuracy <= 1.0


# --- the chapter ---------------------------------------------------------------------------------


def test_margins_come_from_the_papers_ablation_gaps():
    assert pytest.approx(0.25 * (0.729 - 0.478)) == chapter.KL_L2
    assert pytest.approx(0.25 * (0.729 - 0.695)) == chapter.BOTH_OBJ
    assert pytest.approx(0.25 * (0.650 - 0.511)) == chapter.SHALLOW_S
    assert pytest.approx(0.25 * (0.742 - 0.396)) == chapter.MFCC


def test_every_claim_names_its_gates_margin_and_section():
    for claim in chapter.CLAIMS:
        assert claim.gates and claim.section and claim.margin_note, claim.id
        assert set(chapter.TEACHERS_LEARNT) <= set(claim.gates), claim.id


def _save(tmp_path, experiment, **metrics):
    for seed in range(3):
        values = {k: (v[seed] if isinstance(v, tuple) else v) for k, v in metrics.items()}
        save_result(profile="quick", paper="soundnet", experiment=experiment, seed=seed,
                    metrics=values, results_dir=tmp_path)  # fmt: skip


def _student(tmp_path, teacher_objects=0.8, **kw):
    metrics = dict(teacher_objects_acc=teacher_objects, teacher_scenes_acc=0.95, agreement=0.6,
                   agreement_majority=0.2, agreement_gain_last_quarter=0.01,
                   esc50_acc_best_layer=(0.50, 0.52, 0.51))  # fmt: skip
    _save(tmp_path, "soundnet-student", **{**metrics, **kw})


def _ablations(tmp_path, l2):
    _save(tmp_path, "soundnet-ablations", esc50_acc_l2=l2, agreement_l2=0.5,
          agreement_majority_l2=0.2, agreement_gain_last_quarter_l2=0.0)  # fmt: skip


def test_sn_1_is_under_trained_not_refuted_when_a_teacher_never_learnt(tmp_path):
    _student(tmp_path, teacher_objects=0.05)
    _ablations(tmp_path, l2=(0.50, 0.51, 0.52))
    result = chapter.CLAIMS[0].evaluate(Selection("quick", tmp_path))
    assert result.comparison.verdict == "not reproduced"
    assert result.label == "inconclusive (under-trained: object teacher above 20 %)"


def test_sn_1_is_read_once_every_gate_passed(tmp_path):
    _student(tmp_path)
    _ablations(tmp_path, l2=(0.30, 0.31, 0.29))
    assert chapter.CLAIMS[0].evaluate(Selection("quick", tmp_path)).label == "reproduced"
    _ablations(tmp_path, l2=(0.50, 0.52, 0.51))
    assert chapter.CLAIMS[0].evaluate(Selection("quick", tmp_path)).label == "not reproduced"


def test_a_student_no_better_than_a_constant_answer_fails_its_gate(tmp_path):
    _student(tmp_path, agreement=0.22)
    _ablations(tmp_path, l2=(0.30, 0.31, 0.29))
    result = chapter.CLAIMS[0].evaluate(Selection("quick", tmp_path))
    assert result.label == "inconclusive (under-trained: student agrees with its teachers)"


def test_best_layer_reading_names_each_seeds_layer(tmp_path):
    assert chapter.best_layer_reading(Selection("quick", tmp_path)).startswith("not measured")
    for seed, layer in enumerate(("pool5", "pool5", "conv6")):
        save_result(profile="quick", paper="soundnet", experiment="soundnet-student", seed=seed,
                    metrics={"esc50_acc": 0.5}, extra={"best_layer": layer},
                    results_dir=tmp_path)  # fmt: skip
    assert chapter.best_layer_reading(Selection("quick", tmp_path)) == (
        "pool5 (seeds 0, 1), conv6 (seed 2)"
    )


def test_curve_gain_reads_the_last_quarter_of_the_held_out_curve():
    history = [
        {"step": s, "val_acc": a} for s, a in ((100, 0.1), (200, 0.2), (300, 0.3), (400, 0.5))
    ]
    result = TrainResult(history, [], {}, [], 0.0, 400, 4, None, None)
    assert ex._curve_gain(result) == pytest.approx(0.2)  # 0.5 at step 400 minus 0.3 at step 300


def test_majority_agreement_is_the_most_frequent_teacher_class_share():
    probs = {"scenes": torch.eye(3)[[0, 0, 0, 1]], "objects": torch.eye(2)[[0, 1, 0, 1]]}
    assert ex._majority(probs, ("scenes", "objects")) == pytest.approx((0.75 + 0.5) / 2)


def test_from_scratch_runs_rotate_over_the_folds():
    folds = [1, 2, 3, 4, 5, 1, 2]
    assert [soundnet_baselines.heldout_fold(s, folds) for s in range(6)] == [1, 2, 3, 4, 5, 1]


def test_teacher_frame_outputs_are_computed_once_per_teacher_and_clips(tmp_path):
    """Every student seed reads the same teacher outputs: cached beside the teacher, keyed by the
    clips' files; a teacher loaded from a user's weights is not cached."""
    from types import SimpleNamespace

    files = []
    for n in range(2):
        files.append(tmp_path / f"clip{n}.mp4")
        files[-1].write_bytes(b"x" * (n + 1))
    items = [SimpleNamespace(rel=f.name, path=f) for f in files]
    arrays = SimpleNamespace(items=items, frames=np.zeros((2, 3, 4, 4, 3), np.uint8), fps=4)
    calls = []

    def compute():
        calls.append(1)
        return torch.full((2, 3, 5), float(len(calls)))

    teacher = SimpleNamespace(frames_cache=tmp_path / "teacher")
    first = soundnet_teachers._cached(teacher, arrays, "logits", compute)
    again = soundnet_teachers._cached(teacher, arrays, "logits", compute)
    assert len(calls) == 1 and torch.equal(first, again)
    files[0].write_bytes(b"regenerated world")  # other clips under the same names
    assert soundnet_teachers._cached(teacher, arrays, "logits", compute)[0, 0, 0] == 2
    user = SimpleNamespace(frames_cache=None)
    soundnet_teachers._cached(user, arrays, "logits", compute)
    soundnet_teachers._cached(user, arrays, "logits", compute)
    assert len(calls) == 4
