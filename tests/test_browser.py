"""The built smoke book in a real browser (Debian's chromium, headless): every page loads with no
console error, no missing image, no figure without caption and alt text, and no request leaving
the machine; every internal link and anchor resolves; code is collapsed behind a toggle; pages
do not scroll sideways at 390 px; search works offline; and screenshots of the scorecard are
saved for a person to look at (``_build/screenshots/``). Skipped, saying why, only when
chromium is missing and cannot be installed with apt."""

from __future__ import annotations

import html.parser
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml

from tests.browser import Browser, find_chromium, serve

pytestmark = pytest.mark.slow

SHOTS = Path(__file__).resolve().parent.parent / "_build" / "screenshots"
PHONE = 390  # CSS pixels: a phone held upright


def _pages(root: Path) -> list[str]:
    toc = yaml.safe_load((root / "book" / "_toc.yml").read_text())
    files = [toc["root"], *(c["file"] for part in toc["parts"] for c in part["chapters"])]
    return [f"{f}.html" for f in files]


@pytest.fixture(scope="module")
def site(smoke_book, tmp_path_factory):
    chromium, why = find_chromium()
    if chromium is None:
        pytest.skip(f"browser test not run: {why} (apt-get install chromium to run it)")
    base, server = serve(smoke_book)
    browser = Browser(chromium, tmp_path_factory.mktemp("chromium-profile"))
    yield base, browser
    browser.close()
    server.shutdown()


MISSING_IMAGES = """Promise.all(Array.from(document.images).map(async i => {
  const src = i.currentSrc || i.src;
  if (i.complete && i.naturalWidth === 0) return 'broken: ' + src;
  if (!src.startsWith('data:') && !(await fetch(src)).ok) return 'missing: ' + src;
  if (!(i.getAttribute('alt') || '').trim()) return 'no alt text: ' + src.slice(0, 80);
  const fig = i.closest('article') && i.closest('figure');
  if (i.closest('article') && !(fig && fig.querySelector('figcaption')))
    return 'figure without a caption: ' + (i.alt || src).slice(0, 80);
  return null;
})).then(r => r.filter(x => x))"""

VISIBLE_CODE = """Array.from(document.querySelectorAll('.cell_input'))
  .filter(e => e.checkVisibility() && !e.closest('.tag_remove-input')).length"""


def test_every_page_loads_clean(root, site):
    base, browser = site
    found = {}
    for page in _pages(root):
        issues = browser.load(base + page)
        assert browser.location() == base + page, f"{page}: went to {browser.location()}"
        issues += browser.evaluate(MISSING_IMAGES)
        if issues:
            found[page] = issues
    assert not found, "\n".join(f"{p}: {'; '.join(i)}" for p, i in found.items())
    assert browser.load(base) == []  # the site's root leads to the front page
    deadline = time.monotonic() + 20
    while browser.location() != base + _pages(root)[0] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert browser.location() == base + _pages(root)[0]


def test_code_is_collapsed_behind_a_toggle_and_pages_fit_a_phone(root, site):
    base, browser = site
    chapters = [p for p in _pages(root) if p.startswith("book/chapters/")]
    for page in chapters:
        browser.load(base + page)
        assert browser.evaluate(VISIBLE_CODE) == 0, f"{page}: code shown by default"
        toggles = browser.evaluate("document.querySelectorAll('details.above-input').length")
        assert toggles > 0, f"{page}: no 'show code' toggle"
    browser.evaluate("document.querySelector('details.above-input').open = true")
    assert browser.evaluate(VISIBLE_CODE) > 0  # the toggle shows the code
    wide = {}
    browser.set_width(PHONE, mobile=True)
    try:
        for page in _pages(root):
            browser.load(base + page)
            width = browser.evaluate("document.documentElement.scrollWidth")
            if width > PHONE + 1:
                wide[page] = width
    finally:
        browser.call("Emulation.clearDeviceMetricsOverride")
    assert not wide, f"pages wider than {PHONE} px (sideways scrolling): {wide}"


def test_search_works_offline(site):
    base, browser = site
    assert browser.load(base + "search.html?q=correspondence") == []
    deadline, hits = time.monotonic() + 30, 0
    while hits == 0 and time.monotonic() < deadline:
        hits = browser.evaluate("document.querySelectorAll('#search-results li').length")
        time.sleep(0.3)
    assert hits > 0, "no search results for 'correspondence'"


def test_scorecard_shows_a_badge_per_claim_and_is_saved_as_a_screenshot(root, site):
    from avlib.claims import claims

    base, browser = site
    pages = (
        ("book/intro.html", "front", "scorecard"),
        ("book/chapters/06_scorecard.html", "page", ""),
    )
    for page, name, anchor in pages:
        browser.load(base + page)
        rows = browser.evaluate("document.querySelectorAll('.avb-scorecard tbody tr').length")
        badges = browser.evaluate("document.querySelectorAll('.avb-scorecard .avb-badge').length")
        assert rows == badges == len(claims()), page
        shot = browser.screenshot(SHOTS / f"scorecard_{name}.png", anchor=anchor)
        assert shot.stat().st_size > 20_000, shot  # a page, not a blank
        browser.screenshot(SHOTS / f"scorecard_{name}_{PHONE}px.png", PHONE, 840, anchor)
    print(f"scorecard screenshots: {SHOTS}")


class _Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.ids.update(v for k, v in attrs if k in ("id", "name") and v)
        ref = a.get("href") if tag in ("a", "link") else a.get("src")
        if ref and tag in ("a", "link", "img", "script"):
            self.links.append(ref)


def test_internal_links_and_anchors_resolve(smoke_book):
    parsed = {}
    for page in smoke_book.rglob("*.html"):  # the pages, not the theme's templates in _static
        if page.relative_to(smoke_book).parts[0] in ("_static", "_sources"):
            continue
        p = _Links()
        p.feed(page.read_text(errors="replace"))
        parsed[page.resolve()] = p
    broken = []
    for page, p in parsed.items():
        for ref in p.links:
            parts = urlsplit(ref)
            if parts.scheme or parts.netloc or ref.startswith(("mailto:", "javascript:")):
                continue  # external links are checked by the load test's requests
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{page.relative_to(smoke_book.resolve())}: {ref} (no such file)")
            elif parts.fragment and target in parsed and parts.fragment not in parsed[target].ids:
                broken.append(f"{page.relative_to(smoke_book.resolve())}: {ref} (no such anchor)")
    assert not broken, "\n".join(broken)
