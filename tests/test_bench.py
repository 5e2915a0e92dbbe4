"""The cache benchmark runs end to end on tiny synthetic media and writes its numbers."""

import json

from avlib.bench import _load_cache_bench


def test_cache_benchmark_writes_a_ratio(tmp_path):
    bench = _load_cache_bench()
    out = tmp_path / "bench.json"
    result = bench.run(clips=3, clip_s=1.6, decode_samples=3, cache_samples=64, out=out)
    assert json.loads(out.read_text())["ratio"] == result["ratio"]
    assert (
        result["clips"] == 3
        and result["cache_samples_per_s"] > result["decode_per_access_samples_per_s"]
    )


def test_model_throughput_counts_the_flops_of_a_known_net():
    """L3's quick net: FLOPs per sample independent of the batch, a positive training rate;
    the paper-size net is counted (about 41 GFLOPs with both towers) but not timed on a CPU."""
    from avlib.bench import model_throughput

    a = model_throughput("l3", "smoke", batch_size=2, steps=1)
    b = model_throughput("l3", "smoke", batch_size=4, steps=1)
    assert a["gflops_per_sample"] == b["gflops_per_sample"] > 0
    assert a["samples_per_s"] > 0 and a["bf16_peak_share"] is None  # no GPU peak on a CPU
    paper = model_throughput("l3", "paper", batch_size=1)
    assert 20 < paper["gflops_per_sample"] < 80 and paper["samples_per_s"] is None


def test_notebook_times_and_run_timings_are_read_and_judged_against_the_budget(tmp_path):
    from avlib.atomic import write_json
    from avlib.bench import notebook_times, run_timings

    stamps = tmp_path / "chapters" / ".stamps"
    write_json(stamps / "01_l3.json", {"hash": "x", "profile": "quick", "seconds": 480.0})
    write_json(stamps / "02_avts.json", {"hash": "y", "profile": "quick", "seconds": 720.0})
    write_json(stamps / "03_pm.json", {"hash": "z", "profile": "smoke", "seconds": 20.0})
    rows = notebook_times(tmp_path / "chapters", "quick")
    assert [(r["notebook"], r["within"]) for r in rows] == [("01_l3", True), ("02_avts", False)]
    timing = {
        "data_wait_s": 1.0,
        "step_s": 3.0,
        "data_wait_share": 0.25,
        "samples": 64,
        "samples_per_s": 16.0,
    }
    write_json(tmp_path / "res/l3/l3-avc/seed0.json", {"timing": {"l3": timing, "avol": None}})
    write_json(tmp_path / "res/toy/toy-avc/seed0.json", {"timing": timing})
    rows = run_timings(tmp_path / "res")
    assert [(r["result"], r["run"], r["data_wait_share"]) for r in rows] == [
        ("l3/l3-avc/seed0.json", "l3", 0.25),
        ("toy/toy-avc/seed0.json", "", 0.25),
    ]


def test_trainer_records_where_the_step_time_went(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    args = ["-m", "avlib", "train", "toy-avc", "--profile", "smoke", "--device", "cpu"]
    args += ["--no-progress", "--out", str(tmp_path), "--runs", str(tmp_path / "r")]
    env = {**os.environ, "PYTHONPATH": str(root), "OMP_NUM_THREADS": "1"}
    subprocess.run([sys.executable, *args], env=env, check=True, capture_output=True)
    t = json.loads((tmp_path / "smoke/toy/toy-avc/seed0.json").read_text())["timing"]
    assert t["samples"] == 64 * 32  # 4 epochs of 16 batches of 32
    assert 0 <= t["data_wait_share"] < 1 and t["samples_per_s"] > 0
    assert abs(t["data_wait_s"] / (t["data_wait_s"] + t["step_s"]) - t["data_wait_share"]) < 1e-3
