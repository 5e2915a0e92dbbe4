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
