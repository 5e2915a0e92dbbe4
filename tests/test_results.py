import json
import math

import numpy as np
import pytest

from avlib.errors import ResultsError
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
