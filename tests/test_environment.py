"""environment.yml (conda) and requirements.txt (pip lock) mirror each other."""

from avlib.envlock import environment_pins, environment_python, lock_pins

REQUIRED = {"torch": "2.11.0", "torchaudio": "2.11.0", "torchvision": "0.26.0"}


def test_lock_direct_block_equals_environment_pins(root):
    env = environment_pins(root / "environment.yml")
    direct, transitive = lock_pins(root / "requirements.txt")
    assert env, "environment.yml lists no pip pins"
    assert env == direct, f"differ: {set(env.items()) ^ set(direct.items())}"
    assert not set(direct) & set(transitive), "a package is pinned twice in the lock"


def test_pinned_stack_is_the_known_working_one(root):
    env = environment_pins(root / "environment.yml")
    for name, version in REQUIRED.items():
        assert env[name] == version
    assert env["jupyter-book"].startswith("1."), "the book is Sphinx based: jupyter-book 1.x"
    assert environment_python(root / "environment.yml") == "3.11"


def test_installed_versions_match_the_lock(root):
    from importlib.metadata import version

    direct, _ = lock_pins(root / "requirements.txt")
    for name in ("torch", "torchaudio", "torchvision", "av", "numpy", "scikit-learn"):
        assert version(name).split("+")[0] == direct[name], name
