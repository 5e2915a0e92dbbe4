import json
import math

import numpy as np
import pytest

from avlib.atomic import write_json
from avlib.errors import ConfigError, ResultsError
from avlib.results import Selection, load_result, load_seeds, result_path, save_result, scope_dir


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
    path = write_json(tmp_path / "r.json", {"a": 1})
    with pytest.raises(TypeError):
        write_json(path, {"a": object()})
    assert json.loads(path.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"], "temp file left behind"


def test_non_finite_numbers_become_null_not_invalid_json(tmp_path):
    path = write_json(tmp_path / "r.json", {"x": math.nan, "y": [np.inf, 1.0]})
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
    from avlib.stats import mean_ci

    s = mean_ci([1.0, 2.0, 3.0])  # mean 2, std 1, t(0.975, 2) = 4.3027
    assert (s.mean, s.std, s.n) == (2.0, 1.0, 3)
    assert s.half_width == pytest.approx(4.302653 / math.sqrt(3), rel=1e-6)
    assert s.format(scale=100, digits=0) == "200 ± 248 (3 seeds)"


def test_one_seed_has_no_interval_and_says_so():
    from avlib.stats import mean_ci

    s = mean_ci([0.7])
    assert math.isnan(s.ci_low) and s.format(100) == "70.0 (1 seed, no CI)"
    assert mean_ci([]).format() == "no results yet"


def test_bootstrap_interval_is_seeded_and_inside_the_range():
    from avlib.stats import mean_ci

    values = [0.61, 0.64, 0.66, 0.70, 0.72, 0.62, 0.65, 0.67, 0.69, 0.71]
    a, b = mean_ci(values, method="bootstrap"), mean_ci(values, method="bootstrap")
    assert a == b and 0.61 < a.ci_low < a.mean < a.ci_high < 0.72
    with pytest.raises(ConfigError):
        mean_ci(values, method="jackknife")


def test_bootstrap_is_refused_for_fewer_than_ten_seeds():
    from avlib.stats import difference_ci, mean_ci

    with pytest.raises(ConfigError, match="too narrow"):
        mean_ci([0.6, 0.7, 0.8], method="bootstrap")
    with pytest.raises(ConfigError, match="too narrow"):
        difference_ci([0.6, 0.7, 0.8], [0.5, 0.5, 0.6], paired=True, method="bootstrap")


def test_paired_difference_of_a_constant_shift_has_zero_width():
    from avlib.stats import difference_ci

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


def _write(tmp_path, seed, acc, config=None, data=None, results_dir=None):
    return save_result(
        profile="smoke", paper="toy", experiment="exp", seed=seed, metrics={"acc": acc},
        config=config or {"lr": 1e-3}, data=data or {"digest": "world-a"},
        results_dir=results_dir or tmp_path,
    )  # fmt: skip


def test_a_changed_config_never_mixes_old_seeds_into_a_selection(tmp_path):
    from avlib.results import digest

    for seed in range(3):
        _write(tmp_path, seed, 0.5)  # written with lr 1e-3
    _write(tmp_path, 0, 0.9, config={"lr": 1e-2})  # seed 0 rerun after the config changed
    current = Selection("smoke", tmp_path, config_digests={"toy/exp": digest({"lr": 1e-2})})
    seeds = current.load("toy/exp")
    assert seeds.seeds == (0,) and seeds.values("acc").tolist() == [0.9]
    assert [why for _, why in seeds.ignored] == ["written with another config (the experiment's "
                                                 "settings changed since)"] * 2  # fmt: skip


def test_a_selection_reads_only_the_seeds_and_data_it_asks_for(tmp_path):
    for seed in range(4):
        _write(tmp_path, seed, 0.1 * seed)
    _write(tmp_path, 4, 0.9, data={"digest": "world-b"})  # a regenerated world
    seeds = Selection("smoke", tmp_path, seeds=(1, 2, 4), data_digest="world-a").load("toy/exp")
    assert seeds.seeds == (1, 2)
    assert sorted(p.name for p, _ in seeds.ignored) == ["seed0.json", "seed3.json", "seed4.json"]
    assert any("other data" in why for _, why in seeds.ignored)


def test_real_data_results_live_in_their_own_tree(tmp_path):
    real = tmp_path / "datasets" / "esc50"
    real.mkdir(parents=True)
    scoped = scope_dir(tmp_path, real)
    assert scope_dir(tmp_path) == tmp_path and scoped.parent == tmp_path / "real"
    assert scoped.name.startswith("esc50-") and scope_dir(tmp_path, str(real) + "/") == scoped
    _write(tmp_path, 0, 0.5)
    _write(tmp_path, 0, 0.9, data={"source": "data_root"}, results_dir=scoped)
    assert load_seeds("smoke", "toy", "exp", tmp_path).values("acc").tolist() == [0.5]
    assert load_seeds("smoke", "toy", "exp", scoped).values("acc").tolist() == [0.9]
