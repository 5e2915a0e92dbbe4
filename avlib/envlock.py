"""Keep environment.yml (conda spec) and requirements.txt (pip lock) mirrors of each other.

``requirements.txt`` has a ``# --- direct`` block that must list exactly
environment.yml's pip pins, then a ``# --- transitive`` block from ``pip freeze``.
``python -m avlib.envlock environment.yml FREEZE`` prints a new lock.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

PIN = re.compile(
    r"^\s*-?\s*([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s#;]+)\s*(#.*)?$"
)  # a trailing comment is allowed


def normalise(name: str) -> str:
    """PEP 503 name normalisation."""
    return re.sub(r"[-_.]+", "-", name).lower()


def environment_pins(path: str | Path) -> dict[str, str]:
    """The ``name==version`` pins under environment.yml's ``pip:`` list."""
    pins, in_pip = {}, False
    for line in Path(path).read_text().splitlines():
        if re.match(r"^\s*-\s*pip:\s*$", line):
            in_pip = True
            continue
        if in_pip:
            m = PIN.match(line)
            if m:
                pins[normalise(m[1])] = m[2]
            elif line.strip() and not line.strip().startswith("#"):
                in_pip = line.startswith("      ")
    return pins


def environment_python(path: str | Path) -> str | None:
    """The ``python=X.Y`` version environment.yml asks conda for."""
    m = re.search(r"^\s*-\s*python\s*=+\s*([0-9.]+)", Path(path).read_text(), re.M)
    return m[1] if m else None


def lock_pins(path: str | Path) -> tuple[dict[str, str], dict[str, str]]:
    """(direct, transitive) pins of the lock file."""
    blocks: dict[str, dict[str, str]] = {"direct": {}, "transitive": {}}
    block = None
    for line in Path(path).read_text().splitlines():
        if line.startswith("# ---"):
            block = line[5:].strip()
            continue
        m = PIN.match(line)
        if m and block in blocks:
            blocks[block][normalise(m[1])] = m[2]
    return blocks["direct"], blocks["transitive"]


def render_lock(env: dict[str, str], freeze: dict[str, str]) -> str:
    """A lock file: environment.yml's pins first, then everything else pip froze."""
    missing = sorted(set(env) - set(freeze))
    if missing:
        raise SystemExit(f"pip freeze lacks {missing}: install environment.yml's pins first")
    lines = [
        "# pip lock for avbook (Python 3.11, Linux x86_64). Mirrors environment.yml:",
        "# the 'direct' block must list exactly environment.yml's pip pins (tests/test_environment.py).",
        "# Regenerate: `make lock` (fresh venv from environment.yml, then pip freeze).",
        "# --- direct",
        *(f"{n}=={freeze[n]}" for n in env),
        "# --- transitive",
        *(f"{n}=={v}" for n, v in sorted(freeze.items()) if n not in env and n != "avlib"),
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    env = environment_pins(sys.argv[1])
    freeze = {}
    for line in Path(sys.argv[2]).read_text().splitlines():
        m = PIN.match(line)
        if m:
            freeze[normalise(m[1])] = m[2]
    sys.stdout.write(render_lock(env, freeze))
