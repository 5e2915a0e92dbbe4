"""The experiment registry and `avlib train`."""

import subprocess
import sys

import pytest

from avlib import experiments
from avlib.errors import ConfigError
from avlib.results import load_result


def test_registry_finds_toy_avc_and_names_the_choices_for_unknown_ones():
    assert "toy-avc" in experiments.names()
    assert experiments.get("toy-avc").paper == "toy"
    with pytest.raises(ConfigError, match=r"unknown experiment 'nope'.*toy-avc"):
        experiments.get("nope")


def test_run_writes_metrics_flags_history_and_provenance(tmp_path):
    path = experiments.run(
        "toy-avc",
        "smoke",
        1,
        "cpu",
        tmp_path / "results",
        runs_dir=tmp_path / "runs",
        progress=False,
    )
    assert path == tmp_path / "results/smoke/toy/toy-avc/seed1.json"
    record = load_result(path)
    assert record["metrics"]["val_acc"] > 0.6 and record["flags"] == []
    assert len(record["history"]) == 4 and record["provenance"]["seed"] == 1
    assert (tmp_path / "runs/smoke/toy/toy-avc/seed1/checkpoints/last.pt").exists()


def test_cli_train_unknown_experiment_is_a_one_line_error():
    out = subprocess.run(
        [sys.executable, "-m", "avlib", "train", "nope", "--device", "cpu"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2 and "unknown experiment 'nope'" in out.stderr
    assert "Traceback" not in out.stderr


def test_console_script_lists_experiments():
    """`make venv` installs the `avlib` console script next to the interpreter."""
    from pathlib import Path

    script = Path(sys.executable).parent / "avlib"
    assert script.exists(), f"{script} missing: avlib is not pip-installed in this environment"
    out = subprocess.run([str(script), "train", "--list"], capture_output=True, text=True)
    assert out.returncode == 0 and "world-calibration" in out.stdout
    assert "l3-kinetics" in out.stdout and "toy-avc" in out.stdout
