"""Notebook conventions, and every notebook executed by papermill at profile smoke."""

import ast
import json
import os
import time

import nbformat
import pytest

from avlib.errors import NotebookError
from avlib.notebooks import execute, notebook_paths, run_all

PARAMETERS = {"profile", "seeds", "data_root", "device", "results_dir"}
NOTEBOOKS = notebook_paths()


def _code_cells(path):
    nb = json.loads(path.read_text())
    return nb, [c for c in nb["cells"] if c["cell_type"] == "code"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_hygiene(path):
    nb, cells = _code_cells(path)
    assert nb["metadata"].get("kernelspec", {}).get("name") == "avbook"
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in cells), (
        "outputs committed"
    )
    tagged = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1 and tagged[0] is cells[0], (
        "the first code cell, and only it, is tagged parameters"
    )
    names = {
        t.id
        for node in ast.parse("".join(tagged[0]["source"])).body
        for t in getattr(node, "targets", [])
    }
    assert names >= PARAMETERS, f"parameters cell lacks {PARAMETERS - names}"
    for c in cells:
        src = "".join(c["source"])
        assert "!pip" not in src and "%pip" not in src
        assert len(src.splitlines()) <= 20, f"cell too long (logic belongs in avlib):\n{src[:200]}"
        for node in ast.walk(ast.parse(src)):
            assert not isinstance(node, ast.ClassDef), "no classes in notebooks"
            if isinstance(node, ast.FunctionDef):
                assert node.end_lineno - node.lineno <= 4, (
                    f"function {node.name} too long for a notebook"
                )


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes_at_smoke(smoke_run, path):
    chapters, results, records = smoke_run
    executed = nbformat.read(chapters / path.name, as_version=4)
    errors = [
        o for c in executed.cells for o in c.get("outputs", []) if o.get("output_type") == "error"
    ]
    assert not errors
    assert any(o for c in executed.cells for o in c.get("outputs", [])), "no outputs at all"


def test_failing_notebook_points_to_the_cell_and_keeps_chapter_book_and_results(tmp_path):
    """run_all on a project whose notebook fails while (re)writing a results file."""
    result = tmp_path / "results" / "smoke" / "toy" / "x" / "seed0.json"
    result.parent.mkdir(parents=True)
    result.write_text('{"metrics": {"acc": 0.75}}\n')
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "avbook", "display_name": "avbook", "language": "python"}
    nb.cells = [
        nbformat.v4.new_code_cell("profile = 'smoke'", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("from avlib.atomic import write_json"),
        nbformat.v4.new_code_cell(
            f"write_json({str(result)!r}, {{'metrics': {{'acc': 0.5}}, 'oops': object()}})"
        ),
    ]
    (tmp_path / "notebooks").mkdir()
    nbformat.write(nb, tmp_path / "notebooks" / "99_fail.ipynb")
    (tmp_path / "avlib").mkdir()
    (tmp_path / "requirements.txt").write_text("")
    chapters = tmp_path / "book" / "chapters"
    (chapters / ".stamps").mkdir(parents=True)
    (chapters / "99_fail.ipynb").write_text("previous good chapter")
    (chapters / ".stamps" / "99_fail.json").write_text('{"hash": "old"}')
    html = tmp_path / "_build" / "html" / "index.html"
    html.parent.mkdir(parents=True)
    html.write_text("<html>previous book</html>")
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}

    t0 = time.time()
    with pytest.raises(NotebookError) as err:
        run_all("smoke", root=tmp_path)
    message = str(err.value)
    assert "99_fail.ipynb: cell 3 raised TypeError: Object of type object" in message
    assert "write_json(" in message.splitlines()[1]  # the failing cell's own first line
    for path, content in before.items():
        assert path.read_bytes() == content, f"{path} changed"
    failed = tmp_path / "_build" / "failed" / "99_fail.ipynb"
    outputs = [o for c in nbformat.read(failed, as_version=4).cells for o in c.get("outputs", [])]
    assert any(o.get("ename") == "TypeError" for o in outputs)
    leftovers = [p for p in chapters.iterdir() if p.name.startswith(".99_fail")]
    assert not leftovers and not list(result.parent.glob(".seed0*"))
    assert time.time() - t0 < 120


@pytest.mark.slow
def test_executed_copy_is_ready_for_reading(tmp_path):
    """Code collapsed behind a toggle, figures with caption and alt text, attached files written
    beside the copy and taken out of the outputs, the default parameters hidden."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "avbook", "display_name": "avbook", "language": "python"}
    figure = (
        "from matplotlib.figure import Figure\nfrom avlib import figures, report\n"
        "figures.use_style()  # as every notebook: Figures display as PNG\nfig = Figure()\n"
        "fig.subplots().plot([0, 1])\n"
        "report.figure(fig, 'line', __import__('pathlib').Path('figs'), 'A line.', 'Rises.')"
    )
    nb.cells = [
        nbformat.v4.new_code_cell("profile = 'quick'", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(figure),
        nbformat.v4.new_code_cell(
            "from avlib.notebooks import attach_file\nattach_file('t.csv', 'a,b\\n1,2\\n')"
        ),  # fmt: skip
        nbformat.v4.new_code_cell("print('shown')", metadata={"tags": ["remove-input"]}),
    ]
    src, out = tmp_path / "98_read.ipynb", tmp_path / "chapters" / "98_read.ipynb"
    nbformat.write(nb, src)
    execute(src, out, {"profile": "smoke"}, failed_dir=tmp_path / "failed")
    cells = nbformat.read(out, as_version=4).cells
    tags = [c.metadata.get("tags", []) for c in cells]
    assert "remove-cell" in tags[0] and "injected-parameters" in tags[1]  # defaults hidden
    assert all("hide-input" in t for t in tags[1:4]) and tags[4] == ["remove-input"]
    assert cells[2].metadata["mystnb"] == {"figure": {"caption": "A line."},
                                           "image": {"alt": "Rises."}}  # fmt: skip
    assert any("image/png" in o.get("data", {}) for o in cells[2].outputs)
    assert (tmp_path / "figs" / "line.png").exists() and (tmp_path / "figs" / "line.svg").exists()
    assert (out.parent / "t.csv").read_text() == "a,b\n1,2\n" and cells[3].outputs == []


def test_attached_files_and_figures_refuse_what_the_book_cannot_show():
    from matplotlib.figure import Figure

    from avlib import report
    from avlib.errors import ConfigError
    from avlib.notebooks import attach_file

    with pytest.raises(NotebookError, match="plain file name"):
        attach_file("../escape.csv", "x")
    with pytest.raises(ConfigError, match="figure 'f': give a caption and an alt text"):
        report.figure(Figure(), "f", "unused", "A caption.", " ")


def test_kernels_get_the_clone_absolute_root_even_from_a_relative_avbook_root(
    monkeypatch, tmp_path
):
    from avlib import notebooks as nbmod
    from avlib.profiles import project_root

    root = project_root()
    monkeypatch.chdir(root)
    monkeypatch.setenv("AVBOOK_ROOT", ".")  # a kernel runs in notebooks/: "." would be that
    monkeypatch.setenv("PYTHONPATH", ".")
    nbmod._kernel_imports_this_clone()
    assert os.environ["AVBOOK_ROOT"] == str(root.resolve())
    assert os.environ["PYTHONPATH"].split(os.pathsep)[0] == str(root.resolve())
