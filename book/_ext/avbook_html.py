"""Sphinx extension of the avbook: every script once per page.

Under jupyter-book, sphinx-thebe adds its inline configuration (``const THEBE_JS_URL = ...``)
twice, and the second copy is a SyntaxError in every reader's console (the browser test
fails on it). Identical scripts are dropped from each page's context before it is written.
"""


def _once(app, pagename, templatename, context, doctree):
    seen, kept = set(), []
    for script in context.get("script_files", []):
        attributes = getattr(script, "attributes", {})
        name = getattr(script, "filename", script) or ""  # inline scripts: None or ""
        key = (str(name), repr(sorted(attributes.items())))
        if key not in seen:
            seen.add(key)
            kept.append(script)
    context["script_files"][:] = kept  # in place: handlers after this one may add scripts


def setup(app):
    # early: html-page-context stops at the first handler that returns a template name
    app.connect("html-page-context", _once, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
