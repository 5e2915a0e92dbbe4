"""The Perfect Match chapter: margins from the paper's numbers, gates before verdicts, and the
N sweep read from whichever N a profile ran."""

import pytest

from avlib.chapters import perfect_match as pm
from avlib.results import Selection, save_result

CONTEXTS = pm.CONTEXTS


def _sync(tmp_path, acc, edge=0.05, gain=0.0, words=None):
    """pm-sync results for 3 seeds: ``acc`` {objective: K = 5 accuracy} (rising 1 point per K)."""
    for seed in range(3):
        metrics = {"words_acc_e2e": 0.5, **(words or {})}
        for s, a in acc.items():
            jitter = 0.01 * (seed - 1)
            for i, k in enumerate(CONTEXTS):
                metrics[f"acc_{s}_k{k}"] = min(1.0, a + jitter + 0.02 * i)
            metrics[f"edge_fraction_{s}"] = edge
            metrics[f"val_gain_{s}"] = gain
        save_result(profile="quick", paper=pm.PAPER, experiment="pm-sync", seed=seed,
                    metrics=metrics, results_dir=tmp_path)  # fmt: skip


def _claim(cid):
    return next(c for c in pm.CLAIMS if c.id == cid)


def test_margins_come_from_the_papers_numbers():
    assert pytest.approx(0.25 * (0.891 - 0.758)) == pm.BEAT
    assert pytest.approx(0.25 * (0.981 - 0.891)) == pm.RISE
    assert pytest.approx(3 / 31) == pm.CHANCE


def test_every_claim_names_its_gates_and_section():
    for claim in pm.CLAIMS:
        assert claim.gates and claim.section and claim.margin_note, claim.id


def test_pm_1_reproduced_when_multiway_beats_both_baselines_by_the_margin(tmp_path):
    _sync(tmp_path, {"multiway": 0.60, "syncnet": 0.35, "avenet": 0.30})
    assert _claim("PM-1").evaluate(Selection("quick", tmp_path)).label == "reproduced"


def test_pm_1_is_under_trained_not_refuted_when_a_baseline_never_learnt(tmp_path):
    _sync(tmp_path, {"multiway": 0.30, "syncnet": 0.60, "avenet": 0.12})
    result = _claim("PM-1").evaluate(Selection("quick", tmp_path))
    assert result.comparison.verdict == "not reproduced"
    assert result.label.startswith("inconclusive (under-trained: ")
    assert "avenet syncs above chance" in result.under_trained


def test_a_collapsed_net_fails_its_gate(tmp_path):
    _sync(tmp_path, {"multiway": 0.60, "syncnet": 0.35, "avenet": 0.30}, edge=0.9)
    result = _claim("PM-2").evaluate(Selection("quick", tmp_path))
    assert "multiway not collapsed" in result.under_trained


def test_pm_2_fails_when_accuracy_falls_with_context(tmp_path):
    _sync(tmp_path, {"multiway": 0.60, "syncnet": 0.35, "avenet": 0.30})
    for seed in range(3):  # overwrite: K = 15 below K = 5
        m = {f"acc_multiway_k{k}": 0.6 - 0.03 * i for i, k in enumerate(CONTEXTS)}
        m |= {"edge_fraction_multiway": 0.0, "val_gain_multiway": 0.0}
        save_result(profile="quick", paper=pm.PAPER, experiment="pm-sync", seed=seed,
                    metrics=m | {"acc_multiway_k5": 0.6 + 0.001 * seed},
                    results_dir=tmp_path)  # fmt: skip
    assert _claim("PM-2").evaluate(Selection("quick", tmp_path)).label == "not reproduced"


@pytest.mark.parametrize(
    "ns, step, verdict",
    [((2, 5, 10, 20, 40), 0.1, "reproduced"), ((2, 5), 0.1, "reproduced"),
     ((2, 5, 10), -0.1, "not reproduced")],
)  # fmt: skip
def test_pm_3_reads_the_n_a_profile_swept(tmp_path, ns, step, verdict):
    for seed in range(3):
        m = {f"acc_n{n}_k5": 0.5 + step * i + 0.01 * seed for i, n in enumerate(ns)}
        m |= {f"val_gain_n{n}": 0.0 for n in ns}
        save_result(profile="quick", paper=pm.PAPER, experiment="pm-nsweep", seed=seed,
                    metrics=m, results_dir=tmp_path)  # fmt: skip
    assert _claim("PM-3").evaluate(Selection("quick", tmp_path)).label == verdict


def test_pm_4_needs_an_end_to_end_model_that_learnt(tmp_path):
    words = {"words_acc_multiway": 0.5, "words_acc_syncnet": 0.3, "words_acc_avenet": 0.3,
             "words_acc_e2e": 0.05}  # fmt: skip
    _sync(tmp_path, {"multiway": 0.60, "syncnet": 0.35, "avenet": 0.30}, words=words)
    result = _claim("PM-4").evaluate(Selection("quick", tmp_path))
    assert "end-to-end word model above 10 %" in result.under_trained


def test_ceiling_reading_says_when_every_objective_is_near_100(tmp_path):
    _sync(tmp_path, {"multiway": 0.99, "syncnet": 0.98, "avenet": 0.98})
    assert pm.ceiling_reading(Selection("quick", tmp_path)).startswith("every objective")
