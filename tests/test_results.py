import json
import math

import numpy as np
import pytest

from avlib.errors import ConfigError, ResultsError
from avlib.results import load_result, result_path, save_result, write_json_atomic


def test_save_result_writes_metrics_config_and_provenance(tmp_path):
    path = save_result(
        profile="smoke",
        paper="l3",
        experiment="avc",
        seed=3,
        metrics={"acc": np.float32(0.75)},
        config={"lr": 1e-4},
        device="cpu",
        wall_time_s=1.5,
        results_dir=tmp_path,
    )
    assert path == tmp_path / "smoke" / "l3" / "avc" / "seed3.json"
    rec = load_result(path)
    assert rec["metrics"]["acc"] == pytest.approx(0.75)
    prov = rec["provenance"]
    assert prov["seed"] == 3 and prov["profile"] == "smoke" and prov["wall_time_s"] == 1.5
    assert prov["git_sha"] and prov["utc_time"].endswith("+00:00")
    assert prov["versions"]["torch"].startswith("2.11")
    assert prov["device"].startswith("cpu")


def test_atomic_write_leaves_old_file_when_serialisation_fails(tmp_path):
    path = write_json_atomic(tmp_path / "r.json", {"a": 1})
    with pytest.raises(TypeError):
        write_json_atomic(path, {"a": object()})
    assert json.loads(path.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"], "temp file left behind"


def test_non_finite_numbers_become_null_not_invalid_json(tmp_path):
    path = write_json_atomic(tmp_path / "r.json", {"x": math.nan, "y": [np.inf, 1.0]})
    assert json.loads(path.read_text()) == {"x": None, "y": [None, 1.0]}


def test_load_result_errors_name_the_file(tmp_path):
    with pytest.raises(ResultsError, match="missing.json: no such results file"):
        load_result(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ResultsError, match="bad.json: not valid JSON"):
        load_result(bad)


def test_unknown_profile_is_refused_in_result_paths(tmp_path):
    from avlib.errors import ConfigError

    with pytest.raises(ConfigError):
        result_path("fast", "l3", "avc", 0, tmp_path)


def _seeds(tmp_path, values, experiment="exp", flags=None):
    for seed, v in enumerate(values):
        extra = {"flags": flags} if flags and seed == 0 else None
        save_result(
            profile="smoke",
            paper="toy",
            experiment=experiment,
            seed=seed,
            metrics={"acc": v, "probe": {"esc50": v / 2}},
            results_dir=tmp_path,
            extra=extra,
        )


def test_student_t_interval_matches_hand_computation():
    from avlib.results import mean_ci

    s = mean_ci([1.0, 2.0, 3.0])  # mean 2, std 1, t(0.975, 2) = 4.3027
    assert (s.mean, s.std, s.n) == (2.0, 1.0, 3)
    assert s.half_width == pytest.approx(4.302653 / math.sqrt(3), rel=1e-6)
    assert s.format(scale=100, digits=0) == "200 ± 248 (3 seeds)"


def test_one_seed_has_no_interval_and_says_so():
    from avlib.results import mean_ci

    s = mean_ci([0.7])
    assert math.isnan(s.ci_low) and s.format(100) == "70.0 (1 seed, no CI)"
    assert mean_ci([]).format() == "no results yet"


def test_bootstrap_interval_is_seeded_and_inside_the_range():
    from avlib.results import mean_ci

    values = [0.61, 0.64, 0.66, 0.70, 0.72]
    a, b = mean_ci(values, method="bootstrap"), mean_ci(values, method="bootstrap")
    assert a == b and 0.61 < a.ci_low < a.mean < a.ci_high < 0.72
    with pytest.raises(ConfigError):
        mean_ci(values, method="jackknife")


def test_paired_difference_of_a_constant_shift_has_zero_width():
    from avlib.results import difference_ci

    paired = difference_ci([0.8, 0.7, 0.9], [0.6, 0.5, 0.7], paired=True)
    assert paired.mean == pytest.approx(0.2) and paired.half_width == pytest.approx(0, abs=1e-12)
    welch = difference_ci([0.8, 0.7, 0.9], [0.6, 0.5, 0.7], paired=False)
    assert welch.mean == pytest.approx(0.2) and welch.half_width > 0.1


def test_load_seeds_reads_every_seed_its_flags_and_nested_metrics(tmp_path):
    from avlib.results import iter_result_files, load_seeds

    _seeds(tmp_path, [0.5, 0.6, 0.7], flags=["stuck_at_chance"])
    seeds = load_seeds("smoke", "toy", "exp", tmp_path)
    assert seeds.seeds == (0, 1, 2) and seeds.key == "toy/exp"
    assert seeds.values("acc").tolist() == [0.5, 0.6, 0.7]
    assert seeds.values("probe.esc50").tolist() == [0.25, 0.3, 0.35]
    assert seeds.flags == {0: ["stuck_at_chance"]}
    assert seeds.summary("acc").mean == pytest.approx(0.6)
    assert len(list(iter_result_files("smoke", results_dir=tmp_path))) == 3
    assert load_seeds("smoke", "toy", "never-run", tmp_path).records == ()
    with pytest.raises(ResultsError, match=r"seed0.json: no metric 'f1' \(has acc, probe\)"):
        seeds.values("f1")
