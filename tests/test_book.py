"""The book's table of contents matches the notebooks, and the book builds with warnings as errors."""

import pytest
import yaml

from avlib.notebooks import notebook_paths


def _toc_files(root):
    toc = yaml.safe_load((root / "book" / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [c["file"] for c in part["chapters"]]
    return files


def test_every_notebook_is_a_chapter_and_every_page_exists(root):
    files = _toc_files(root)
    chapters = {f.removeprefix("book/chapters/") for f in files if f.startswith("book/chapters/")}
    assert chapters == {nb.stem for nb in notebook_paths(root)}
    for f in files:
        if not f.startswith("book/chapters/"):
            assert (root / f"{f}.md").exists(), f


@pytest.mark.slow
def test_book_builds_strictly_from_smoke_notebooks(root, smoke_book):
    for f in _toc_files(root):
        assert (smoke_book / f"{f}.html").exists(), f
