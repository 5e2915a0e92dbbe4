import pytest

from avlib.errors import ConfigError, LayoutError
from avlib.profiles import check_data_root, check_profile, resolve_device, seeds_for


def test_unknown_profile_names_the_choices():
    with pytest.raises(ConfigError, match=r"unknown profile 'fast'.*smoke, quick, full"):
        check_profile("fast")


def test_seeds_default_per_profile_and_explicit_lists():
    assert seeds_for("quick") == [0, 1, 2]
    assert seeds_for("smoke", 7) == [7]
    assert seeds_for("full", [3, 4]) == [3, 4]
    with pytest.raises(ConfigError):
        seeds_for("quick", [])


def test_device_auto_is_cpu_without_gpu_and_bad_devices_are_refused():
    import torch

    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ConfigError, match="unknown device"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="no CUDA GPU"):
            resolve_device("cuda")


def test_missing_data_root_is_a_layout_error_naming_it(tmp_path):
    with pytest.raises(LayoutError, match="nowhere.*does not exist"):
        check_data_root(tmp_path / "nowhere")
    assert check_data_root(tmp_path) == tmp_path
