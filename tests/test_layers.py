"""Lower layers stay lower (STYLE rule 15): what the data layer may import."""

import ast
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent.parent / "avlib" / "data"
FORBIDDEN = ("avlib.eval", "avlib.results", "avlib.models")  # data never reads results or models


def _imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at top level or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return found


@pytest.mark.parametrize("path", sorted(DATA.rglob("*.py")), ids=lambda p: str(p.relative_to(DATA)))
def test_data_layer_imports_neither_eval_nor_results_nor_models(path):
    bad = sorted(
        m for m in _imported_modules(path) for f in FORBIDDEN if m == f or m.startswith(f + ".")
    )
    assert not bad, f"{path} imports {bad}"


def test_the_check_sees_imports_inside_functions(tmp_path):
    source = tmp_path / "bad.py"
    source.write_text("def f():\n    from avlib import eval\n    import avlib.results\n")
    assert {"avlib.eval", "avlib.results"} <= _imported_modules(source)
