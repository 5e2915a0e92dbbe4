"""ruff (lint and format) runs inside `make test`, with the same settings as pre-commit."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

RUFF = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")


@pytest.mark.parametrize(
    "args", [["check", "."], ["format", "--check", "."]], ids=["lint", "format"]
)
def test_ruff_is_clean(root, args):
    assert RUFF, "ruff is not installed in this environment"
    out = subprocess.run([RUFF, *args], cwd=root, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
