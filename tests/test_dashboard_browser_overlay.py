"""Every page in a real headless Chromium at 1280 px and 1920 px wide, with your runs and a reference store: each
lesson page draws a quick run of yours and the reference (both names in its charts' legends or its run key), the
Claims scoreboard's tally equals the claims files and its table fits the width, no page shows an exception, and a
whole-page screenshot of every page at both widths lands in ``$KDLAB_SCREENSHOTS`` (default
``tests/screenshots/overlay/``, git-ignored) for a reviewer to look at.

The server and browser helpers are test_dashboard_browser.py's (Debian's Chromium, skipped only if none can be
installed)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # fixtures_runs and the browser helpers
from fixtures_runs import CLAIMS, GOOD, build_reference, build_store  # noqa: E402
from test_dashboard_browser import ARGS, CHROMIUM, READY, TIMEOUT_MS, ensure_chromium, streamlit_server  # noqa: E402

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parent.parent
SHOTS = Path(os.environ.get("KDLAB_SCREENSHOTS") or REPO / "tests" / "screenshots" / "overlay")
WIDTHS = (1280, 1920)
YOURS = {
    "temperature": GOOD["01"],
    "logit_matching": GOOD["02"],
    "distillation": GOOD["03_quick"],
    "missing_classes": GOOD["04"],
    "speech": GOOD["05"],
    "specialists": GOOD["06"],
}
HEADINGS = {
    "claims": "Claims",
    "temperature": "01 · Soft targets",
    "logit_matching": "02 · Logit matching",
    "distillation": "03 · Distillation",
    "missing_classes": "04 · Missing classes",
    "speech": "05 · Speech",
    "specialists": "06 · Specialists",
    "runs": "Runs",
}


def series(run_id: str, profile: str = "quick") -> str:
    r = run_id
    return f"yours · {profile} · {r[:4]}-{r[4:6]}-{r[6:8]} {r[9:11]}:{r[11:13]}"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`streamlit run` of the dashboard on a free loopback port: a fixture store of yours and a reference store."""
    ensure_chromium()
    yours, ref, home = (tmp_path_factory.mktemp(n) for n in ("runs", "reference", "home"))
    build_store(yours)
    build_reference(ref)
    yield from streamlit_server(yours, home, KDLAB_REFERENCE=str(ref))


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, timeout=TIMEOUT_MS)
        yield b
        b.close()


def visit(browser, server: str, path: str, width: int):
    page = browser.new_page(viewport={"width": width, "height": 1400})
    page.set_default_timeout(TIMEOUT_MS * 2)
    page.goto(f"{server}/{path}", wait_until="domcontentloaded")
    page.get_by_role("heading", name=HEADINGS[path]).first.wait_for()
    page.wait_for_timeout(500)
    page.wait_for_function(READY, timeout=TIMEOUT_MS * 2)
    if path not in ("claims", "runs"):
        page.wait_for_function("() => document.querySelectorAll('.vega-embed svg.marks').length >= 2")
    page.wait_for_timeout(800)
    return page


def screenshot(page, name: str) -> Path:
    """The whole page (Streamlit scrolls inside its own container: the viewport is stretched to the content)."""
    size = page.viewport_size
    height = page.evaluate("Math.max(...[...document.querySelectorAll('*')].map(e => e.scrollHeight))")
    page.set_viewport_size({"width": size["width"], "height": min(int(height) + 40, 14000)})
    page.wait_for_timeout(1000)  # charts re-fit their width
    page.wait_for_function(READY, timeout=TIMEOUT_MS)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def no_exception(page) -> None:
    assert page.locator("[data-testid=stException]").count() == 0
    text = page.locator("body").inner_text()
    assert "Traceback" not in text and "could not be drawn" not in text and "Page not found" not in text


def drawn_names(page) -> str:
    """The text of every chart's SVG (legends, axes) and of the run keys above rows of small panels."""
    svg = page.evaluate("[...document.querySelectorAll('.vega-embed svg text')].map(t => t.textContent).join('\\n')")
    return svg + "\n" + page.locator("body").inner_text()


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("path", list(YOURS))
def test_lesson_page_draws_your_quick_run_and_the_reference(browser, server, path, width):
    page = visit(browser, server, path, width)
    try:
        no_exception(page)
        svg = page.evaluate("[...document.querySelectorAll('.vega-embed svg text')].map(t => t.textContent)")
        names = drawn_names(page)
        assert series(YOURS[path]) in names and "reference · full" in names
        if path not in ("distillation", "missing_classes"):  # those two name their runs in a key above the panels
            assert any(t.startswith(series(YOURS[path])) for t in svg), "your run is not in a chart legend"
            assert "reference · full" in svg, "the reference run is not in a chart legend"
        # legends are never cut: no label ends in an ellipsis or runs past the right edge of its chart
        assert not [t for t in svg if t.endswith("…")]
        cut = page.evaluate(
            "[...document.querySelectorAll('.vega-embed')].flatMap(e => { const r = e.getBoundingClientRect();"
            " return [...e.querySelectorAll('svg text')].filter(t => t.textContent.trim() &&"
            " t.getBoundingClientRect().right > r.right + 1).map(t => t.textContent); })"
        )
        assert not cut, f"text cut at a chart's right edge: {cut}"
        assert screenshot(page, f"{path}_{width}").stat().st_size > 10_000
    finally:
        page.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_claims_scoreboard_fits_and_its_tally_equals_the_claims_files(browser, server, width):
    page = visit(browser, server, "claims", width)
    try:
        no_exception(page)
        quick = [c for name in ("01", "02", "03_quick", "04", "05", "06") for c in CLAIMS[name]]
        held = sum(c["holds"] for c in quick)
        text = page.locator("body").inner_text()
        assert f"yours · quick: {held} hold, 0 weaker, {len(quick) - held} do not hold" in text
        ref = [c for name in ("01", "02", "03_full", "04", "05", "06") for c in CLAIMS[name]]
        assert f"reference · full: {len(ref)} hold, 0 weaker, 0 do not hold" in text
        # one row per claim, a verdict chip per run column, and the table no wider than the page's main column
        assert page.locator("table.kd-board td[data-verdict]").count() >= len(quick) + len(ref) - 1
        fit = page.evaluate(
            "(() => { const t = document.querySelector('table.kd-board').getBoundingClientRect();"
            " const m = document.querySelector('[data-testid=stMainBlockContainer]');"
            " return [t.right, m.getBoundingClientRect().right - parseFloat(getComputedStyle(m).paddingRight)]; })()"
        )
        assert fit[0] <= fit[1] + 2, f"the scoreboard runs past the page's main column: {fit}"
        # no column narrower than its words: no cell's text overflows its box
        overflow = page.evaluate(
            "[...document.querySelectorAll('table.kd-board th, table.kd-board td')]"
            ".filter(c => c.scrollWidth > c.clientWidth + 1).length"
        )
        assert overflow == 0
        screenshot(page, f"claims_{width}")
    finally:
        page.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_runs_page_screenshot(browser, server, width):
    page = visit(browser, server, "runs", width)
    try:
        no_exception(page)
        screenshot(page, f"runs_{width}")
    finally:
        page.close()
