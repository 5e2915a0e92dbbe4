"""Execute the paper notebooks with papermill (cached by input hash) and build the book.

A notebook is re-executed only when one of its inputs changed: the notebook
itself, avlib's source, the profile, the data manifest, or the lock file. The
executed copy lands in ``book/chapters/`` only when the whole run succeeded, so
a failing notebook never replaces the last good chapter, its stamp, the built
HTML book or any results file written before (its partial copy is kept in
``_build/failed/`` with the error in the failing cell, and the
:class:`~avlib.errors.NotebookError` names the cell: its number in the
notebook, its first line and the error).

The executed copy is prepared for reading: code cells are collapsed (tag
``hide-input``: the book shows a toggle), the notebook's default parameters
give way to the injected ones, and files a notebook attached with
:func:`attach_file` (the scorecard's CSV) are written beside the copy, where
the book's ``{download}`` links find them.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from avlib import progress
from avlib.atomic import atomic_open, write_json
from avlib.errors import NotebookError
from avlib.profiles import check_profile, project_root, results_root

KERNEL = "avbook"
FILE_MIME = "application/vnd.avbook.file+json"  # an output that is a file for the book
FIGURE_METADATA = "avbook_figure"  # output metadata (caption, alt) of report.figure's figures
HIDDEN = ("remove-cell", "remove-input", "hide-cell", "hide-input")  # tags that already hide


def notebook_paths(root: Path | None = None) -> list[Path]:
    """The study's notebooks in chapter order (notebooks/NN_name.ipynb)."""
    root = root or project_root()
    return sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _digest_files(paths) -> str:
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(str(p.name).encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def input_hash(
    notebook: Path, profile: str, parameters: dict | None = None, root: Path | None = None
) -> str:
    """Hash of everything an executed notebook depends on (for a notebook that reads other
    chapters' results, the results files of the results directory it is given)."""
    root = root or project_root()
    results_dir = (parameters or {}).get("results_dir") or root / "results"
    manifest = root / "data" / profile / "manifest.json"
    meta = json.loads(notebook.read_text()).get("metadata", {}).get("avbook", {})
    results = results_root(results_dir) / profile
    # a notebook that only reads other chapters' results (the scorecard) depends on them
    # (not on temporary files a killed write left beside them)
    reads = meta.get("reads_results")
    parts = {
        "results": _digest_files(results.rglob("seed*.json")) if reads else "",
        "notebook": hashlib.sha256(notebook.read_bytes()).hexdigest(),
        "avlib": _digest_files(p for p in (root / "avlib").rglob("*.py")),
        "lock": hashlib.sha256((root / "requirements.txt").read_bytes()).hexdigest(),
        "data": hashlib.sha256(manifest.read_bytes()).hexdigest() if manifest.exists() else "none",
        "profile": profile,
        "parameters": parameters or {},
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _kernel_imports_this_clone() -> None:
    """Put this clone first on the kernel's PYTHONPATH (the kernel inherits our environment).

    The shared venv's editable install may point at another clone, and a relative
    PYTHONPATH or AVBOOK_ROOT would resolve against the notebook's directory (a
    relative AVBOOK_ROOT once sent a kernel to generate a second world under
    notebooks/), so the kernel gets this clone's absolute root.
    """
    root = str(project_root())
    parts = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    os.environ["PYTHONPATH"] = os.pathsep.join([root, *(p for p in parts if p != root)])
    os.environ["AVBOOK_ROOT"] = root


def execute(
    notebook: Path,
    output: Path,
    parameters: dict,
    *,
    failed_dir: Path | None = None,
    kernel: str = KERNEL,
) -> float:
    """Run one notebook with papermill into ``output`` (atomically); return seconds taken."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    output.parent.mkdir(parents=True, exist_ok=True)
    _kernel_imports_this_clone()
    tmp = output.with_name(f".{output.stem}.running.ipynb")
    t0 = time.time()
    try:
        papermill.execute_notebook(
            str(notebook),
            str(tmp),
            parameters=parameters,
            kernel_name=kernel,
            cwd=str(notebook.parent),
            progress_bar=_cell_progress(),
            request_save_on_cell_execute=True,
        )
    except Exception as e:  # a cell's error, a dead kernel, a timeout: the chapter stays
        kept = _keep_failed(tmp, failed_dir, output.name)
        if isinstance(e, PapermillExecutionError):
            number = _source_cell_number(kept, e.cell_index)
            first = next((ln for ln in (e.source or "").splitlines() if ln.strip()), "")
            raise NotebookError(
                f"{notebook}: cell {number} raised {e.ename}: {e.evalue}\n"
                f"  the cell (In [{e.exec_count}]): {first.strip()[:100]}\n"
                f"  the executed copy with the failing cell is {kept}; the previous chapter "
                "(if any) and every results file are kept\n" + "".join(e.traceback[-3:])
            ) from e
        raise NotebookError(
            f"{notebook}: execution failed ({type(e).__name__}: {e}); the partial copy is "
            f"{kept}; the previous chapter (if any) and every results file are kept"
        ) from e
    files = _prepare_for_book(tmp)
    for name, text in files.items():
        with atomic_open(output.parent / name, "w") as f:
            f.write(text)
    os.replace(tmp, output)
    return time.time() - t0


def _keep_failed(tmp: Path, failed_dir: Path | None, name: str) -> Path | None:
    """Move a failed run's partial copy out of the chapters folder (into ``failed_dir``)."""
    if not tmp.exists():
        return None
    if failed_dir is None:
        return tmp
    failed_dir.mkdir(parents=True, exist_ok=True)
    kept = failed_dir / name
    shutil.move(tmp, kept)
    return kept


def _source_cell_number(executed: Path | None, index: int) -> int:
    """The 1-based number, in the source notebook, of cell ``index`` of the executed copy
    (which holds papermill's injected-parameters cell before it)."""
    import nbformat

    if executed is None:
        return index + 1
    cells = nbformat.read(executed, as_version=4).cells[:index]
    injected = any("injected-parameters" in c.metadata.get("tags", []) for c in cells)
    return index if injected else index + 1


def _cell_progress():
    """papermill's cell bar: live on a terminal, a line every ~30 s in a log, or none."""
    settings = progress.tqdm_kwargs()
    if settings.get("disable"):
        return False
    return settings


def attach_file(name: str, text: str) -> None:
    """Hand a text file to the book: when the notebook runs through :func:`execute`, ``name`` is
    written beside the executed copy (a ``{download}`` link in the notebook finds it there)."""
    from IPython.display import display

    if not name or "/" in name or name.startswith("."):
        raise NotebookError(f"attached file {name!r}: give a plain file name (no folders)")
    display({FILE_MIME: {"name": name, "text": text}}, raw=True)


def _prepare_for_book(path: Path) -> dict[str, str]:
    """Collapse code cells, hide the default parameters (the book shows the injected ones, what
    this run used), give figures shown by ``report.figure`` their caption and alt text, and take
    the attached files out of the outputs; returns {name: text}."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    injected = any("injected-parameters" in c.metadata.get("tags", []) for c in nb.cells)
    files: dict[str, str] = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tags = list(cell.metadata.get("tags", []))
        if injected and "parameters" in tags and "remove-cell" not in tags:
            tags.append("remove-cell")
        if not any(t in HIDDEN for t in tags):
            tags.append("hide-input")
        cell.metadata["tags"] = tags
        kept = []
        for out in cell.get("outputs", []):
            attached = out.get("data", {}).get(FILE_MIME)
            if attached is None:
                kept.append(out)
            else:
                files[attached["name"]] = attached["text"]
            figure = out.get("metadata", {}).get(FIGURE_METADATA)
            if figure:  # myst-nb renders the cell's image as a figure with caption and alt text
                cell.metadata["mystnb"] = {
                    **cell.metadata.get("mystnb", {}),
                    "figure": {"caption": figure["caption"]},
                    "image": {"alt": figure["alt"]},
                }
        cell.outputs = kept
    nbformat.write(nb, path)
    return files


def run_all(
    profile: str,
    *,
    only: list[str] | None = None,
    force: bool = False,
    out_dir: Path | None = None,
    results_dir: Path | None = None,
    root: Path | None = None,
) -> list[dict]:
    """Execute every notebook whose inputs changed; return one record per notebook."""
    check_profile(profile)
    root = root or project_root()
    out_dir = out_dir or root / "book" / "chapters"
    stamps = out_dir / ".stamps"
    out_dir.mkdir(parents=True, exist_ok=True)
    records = []
    for nb in notebook_paths(root):
        if only and not any(nb.stem.startswith(o) or nb.name == o for o in only):
            continue
        params = {"profile": profile}
        if results_dir is not None:
            params["results_dir"] = str(results_dir)
        digest = input_hash(nb, profile, params, root)
        out, stamp = out_dir / nb.name, stamps / f"{nb.stem}.json"
        if (
            not force
            and out.exists()
            and stamp.exists()
            and json.loads(stamp.read_text()).get("hash") == digest
        ):
            print(
                f"[notebooks] {nb.name}: inputs unchanged, keeping {out.relative_to(root) if out.is_relative_to(root) else out}"
            )
            records.append({"notebook": nb.name, "executed": False})
            continue
        print(f"[notebooks] {nb.name}: executing (profile={profile})", flush=True)
        seconds = execute(nb, out, params, failed_dir=root / "_build" / "failed")
        write_json(stamp, {"hash": digest, "profile": profile, "seconds": round(seconds, 1)})
        print(f"[notebooks] {nb.name}: done in {seconds:.0f} s", flush=True)
        records.append({"notebook": nb.name, "executed": True, "seconds": seconds})
    return records


def build_book(
    root: Path | None = None, *, strict: bool = False, builddir: Path | None = None
) -> Path:
    """`jupyter-book build` of the repo root with book/_toc.yml; returns the HTML index."""
    root = root or project_root()
    chapters = root / "book" / "chapters"
    missing = [nb.name for nb in notebook_paths(root) if not (chapters / nb.name).exists()]
    if missing:
        raise NotebookError(
            f"{chapters}: no executed copy of {', '.join(missing)}; run `make notebooks` first"
        )
    exe = Path(sys.executable).with_name("jupyter-book")
    cmd = [
        str(exe),
        "build",
        str(root),
        "--toc",
        str(root / "book" / "_toc.yml"),
        "--config",
        str(root / "_config.yml"),
    ]
    if builddir is not None:
        cmd += ["--path-output", str(builddir)]
    if strict:
        cmd += ["-W", "-n", "--keep-going"]
    proc = subprocess.run(cmd, cwd=root)
    if proc.returncode != 0:
        raise NotebookError(
            f"jupyter-book build failed (exit {proc.returncode}); see the log above"
        )
    return (builddir or root) / "_build" / "html" / "index.html"


def add_parser(sub) -> None:
    """`avlib notebooks run|build-book`."""
    p = sub.add_parser("notebooks", help="execute the paper notebooks (cached) and build the book")
    s = p.add_subparsers(dest="action", required=True)
    r = s.add_parser("run", help="execute notebooks whose inputs changed into book/chapters/")
    r.add_argument("--profile", default="quick", help="smoke | quick | full (default quick)")
    r.add_argument("--only", nargs="*", help="notebook names or prefixes (e.g. 01)")
    r.add_argument("--force", action="store_true", help="execute even when inputs are unchanged")
    r.set_defaults(func=lambda a: run_all(a.profile, only=a.only, force=a.force))
    b = s.add_parser("build-book", help="jupyter-book build to _build/html")
    b.add_argument("--profile", default="quick", help="(recorded only; chapters come from `run`)")
    b.add_argument("--strict", action="store_true", help="treat Sphinx warnings as errors")
    b.set_defaults(func=lambda a: print(build_book(strict=a.strict)))
