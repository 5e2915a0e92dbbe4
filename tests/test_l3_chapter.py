"""The L3 chapter: numbers and readings come from results files, margins from the paper's
numbers, and every claim rests on gates."""

import pytest

from avlib import report
from avlib.chapters import l3
from avlib.results import Selection, save_result


def _avc(tmp_path, **metrics):
    n = len(next(iter(metrics.values())))
    for seed in range(n):
        values = {k: v[seed] for k, v in metrics.items() if v[seed] is not None}
        save_result(profile="quick", paper="l3", experiment="l3-avc", seed=seed,
                    metrics=values, results_dir=tmp_path)  # fmt: skip


@pytest.mark.parametrize(
    "scene, scene_random, cls, cls_random, reading",
    [
        ((0.30, 0.32, 0.31), (0.05, 0.06, 0.04), (0.10, 0.11, 0.09), (0.05, 0.05, 0.05),
         "gained more scene structure than class structure"),
        ((0.10, 0.11, 0.12), (0.08, 0.09, 0.10), (0.30, 0.31, 0.29), (0.02, 0.01, 0.03),
         "gained more class structure than scene structure"),
        ((0.30, 0.10, 0.20), (0.05, 0.05, 0.05), (0.20, 0.20, 0.20), (0.05, 0.05, 0.05),
         "gained scene and class structure alike"),
    ],
)  # fmt: skip
def test_scene_reading_is_trained_minus_random_paired(tmp_path, scene, scene_random, cls,
                                                     cls_random, reading):  # fmt: skip
    _avc(tmp_path, ami_vision_scene=scene, ami_vision_scene_random=scene_random,
         ami_vision=cls, ami_vision_random=cls_random)  # fmt: skip
    assert l3.scene_reading(Selection("quick", tmp_path)).startswith(reading)


def test_scene_reading_without_scenes_or_runs_says_so(tmp_path):
    assert l3.scene_reading(Selection("quick", tmp_path)) == "were not measured (no runs yet)"
    _avc(tmp_path, ami_vision=(0.2, 0.3), ami_vision_random=(0.1, 0.1))
    assert l3.scene_reading(Selection("quick", tmp_path)).startswith("were not compared")


def test_headlines_format_plainly_and_mark_missing_metrics(tmp_path):
    _avc(tmp_path, avc_acc=(0.6, 0.6, 0.6), ami_vision=(0.20, 0.19, 0.21))
    numbers = report.headline_numbers(l3.HEADLINES, Selection("quick", tmp_path))
    assert numbers["l3_ami_vision"].startswith("0.200 ±") and "%" not in numbers["l3_ami_vision"]
    assert numbers["l3_ami_vision_scene"] == "not measured"
    assert numbers["l3_avc"].startswith("60.0 ± 0.0 %")


def test_margins_come_from_the_papers_numbers():
    assert pytest.approx(0.25 * (0.793 - 0.625)) == l3.ESC
    assert pytest.approx(0.25 * (0.74 - 0.65)) == l3.DIRECT
    assert pytest.approx(0.5 * (0.74 - 0.50)) == l3.FAR
    assert "79.3 vs 62.5" in l3.ESC_NOTE


def test_every_l3_claim_names_its_gates_and_its_section():
    for claim in l3.CLAIMS:
        assert claim.gates and claim.section and claim.margin_note, claim.id
    assert l3.AVOL_LEARNT in l3.CLAIMS[-1].gates, "L3-6 rests on AVOL's own AVC accuracy"


def _supervised(tmp_path, vision, audio, pretrained=(0.70, 0.71, 0.72)):
    for seed in range(3):
        save_result(profile="quick", paper="l3", experiment="l3-supervised", seed=seed,
                    metrics={"vision_acc": vision[seed], "audio_acc": audio[seed],
                             "avc_acc_pretrained": pretrained[seed],
                             "avc_acc_direct": 0.60}, results_dir=tmp_path)  # fmt: skip


def test_l3_1_is_under_trained_not_refuted_when_a_baseline_never_learnt(tmp_path):
    _avc(tmp_path, avc_acc=(0.55, 0.56, 0.55), avc_val_gain_last_quarter=(0.0, 0.01, 0.0))
    _supervised(tmp_path, vision=(0.05, 0.04, 0.06), audio=(0.7, 0.72, 0.71))
    result = l3.CLAIMS[0].evaluate(Selection("quick", tmp_path))
    assert result.comparison.verdict == "not reproduced"  # the numbers alone would refute it
    assert result.label.startswith("inconclusive (under-trained: ")
    assert "supervised vision classifier above 15 %" in result.under_trained


def test_l3_1_can_be_refuted_once_every_gate_passed(tmp_path):
    _avc(tmp_path, avc_acc=(0.59, 0.60, 0.59), avc_val_gain_last_quarter=(0.0, 0.01, 0.0))
    _supervised(tmp_path, vision=(0.40, 0.41, 0.42), audio=(0.7, 0.72, 0.71))
    assert l3.CLAIMS[0].evaluate(Selection("quick", tmp_path)).label == "not reproduced"


def test_a_still_rising_curve_fails_the_flattened_gate(tmp_path):
    _avc(tmp_path, avc_acc=(0.75, 0.76, 0.77), avc_val_gain_last_quarter=(0.12, 0.10, 0.11))
    _supervised(tmp_path, vision=(0.40, 0.41, 0.42), audio=(0.7, 0.72, 0.71))
    result = l3.CLAIMS[1].evaluate(Selection("quick", tmp_path))
    assert result.label == "inconclusive (under-trained: L3 AVC curve flattened)"


def test_an_avc_net_barely_above_chance_is_under_trained(tmp_path):
    _avc(tmp_path, avc_acc=(0.54, 0.55, 0.55), avc_val_gain_last_quarter=(0.0, 0.01, 0.0))
    _supervised(tmp_path, vision=(0.40, 0.41, 0.42), audio=(0.7, 0.72, 0.71))
    result = l3.CLAIMS[0].evaluate(Selection("quick", tmp_path))
    assert result.label == "inconclusive (under-trained: L3 AVC above 56%)"
    assert abs(l3.AVC_FLOOR - 0.06) < 1e-9, "a quarter of the paper's 24 points over chance"


def test_avol_starts_from_the_l3_towers_and_refuses_towers_that_do_not_fit(tmp_path):
    import torch

    from avlib.checkpoint import CHECKPOINT_KEYS, save_checkpoint
    from avlib.errors import ConfigError
    from avlib.experiments.l3_localisation import warm_start
    from avlib.models import build

    l3net = build("l3", "smoke")
    path = save_checkpoint(
        tmp_path / "last.pt", {k: {} for k in CHECKPOINT_KEYS} | {"model": l3net.state_dict()}
    )
    avol = build("avol", "smoke", vision_pools=2)  # a finer map: pools hold no weights
    fresh_proj = avol.audio_proj[0].weight.clone()
    copied = warm_start(avol, path)
    assert copied == sum(1 for k in l3net.state_dict() if k.startswith(("vision.", "audio.")))
    for k, v in avol.state_dict().items():
        if k.startswith(("vision.", "audio.")):
            assert torch.equal(v, l3net.state_dict()[k]), k
    assert torch.equal(avol.audio_proj[0].weight, fresh_proj)  # its own layers start fresh
    wider = build("avol", "smoke", widths=(8, 8, 16, 16))
    with pytest.raises(ConfigError, match="towers do not fit"):
        warm_start(wider, path)
