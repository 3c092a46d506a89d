"""The dashboard in a real headless browser: `streamlit run` on a free loopback port, Debian's Chromium driven by
Playwright, every page opened directly by its URL (the Claims page also at the root URL, as the default; the old
/sweeps URL too) with no 'Page not found' and no exception, the temperature slider moved with the keyboard, a chart's
tooltip shown by hovering, a Claims page link followed to the Runs page, and a whole-page screenshot of every page in
tests/screenshots/ (git-ignored) for a reviewer to look at.

Chromium comes from Debian (``scripts/install_browser.sh``, called here when /usr/bin/chromium is missing): Playwright's
own browser download is not reachable everywhere. Skipped, with the reason, only if no Chromium can be installed.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # fixtures_runs, under any pytest import mode
from fixtures_runs import BROKEN, CLAIMS_BROKEN, FAILED_REASON, GOOD, build_store  # noqa: E402

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parent.parent
SHOTS = REPO / "tests" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
READY = """() => !document.querySelector('[data-stale=true]')
  && !document.querySelector('[data-testid=stStatusWidget]')
  && !document.querySelector('[data-testid=stSkeleton]')
  && [...document.images].every(i => i.complete && i.naturalWidth > 0)"""
TIMEOUT_MS = 20_000


def ensure_chromium() -> None:
    """Install Debian's chromium via scripts/install_browser.sh if needed; skip the module only if that fails."""
    if not CHROMIUM.exists():
        script = REPO / "scripts" / "install_browser.sh"
        try:
            proc = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=300)
        except (OSError, subprocess.SubprocessError) as e:
            pytest.skip(f"Chromium missing and scripts/install_browser.sh could not run: {e}")
        if proc.returncode != 0 or not CHROMIUM.exists():
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            pytest.skip(f"Chromium missing and could not be installed (scripts/install_browser.sh: {tail[0]})")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("the playwright Python package is not installed (pip install -e '.[test]')")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def streamlit_server(store: Path, home: Path, **env_extra: str):
    """A `streamlit run` of the dashboard on a free loopback port reading ``store``: yields its URL, then kills it
    (its own process group: teardown kills streamlit and only it). Shared by the browser tests."""
    from dashboard.launch import command

    env = {**os.environ, "HOME": str(home), "MPLCONFIGDIR": str(home), **env_extra}
    port = free_port()
    log = open(home / "streamlit.log", "w")  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(
        command(store, port), cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            pytest.fail("streamlit did not start: " + (home / "streamlit.log").read_text()[-2000:])
        time.sleep(0.2)
    try:
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The dashboard reading a fixture store (a --runs flag that wins over $KDLAB_RUNS); killed afterwards."""
    ensure_chromium()
    store = tmp_path_factory.mktemp("runs")
    build_store(store)
    yield from streamlit_server(store, tmp_path_factory.mktemp("home"), KDLAB_RUNS="/nonexistent-flag-wins")


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, timeout=TIMEOUT_MS)
        pg = browser.new_page(viewport={"width": 1280, "height": 1400})
        pg.set_default_timeout(TIMEOUT_MS)
        yield pg
        browser.close()


def open_page(page, server: str, path: str, heading: str, images: int = 0, charts: int = 0) -> None:
    page.goto(f"{server}/{path}", wait_until="domcontentloaded")
    page.get_by_role("heading", name=heading).first.wait_for()
    settle(page, images, charts)


def settle(page, images: int = 0, charts: int = 0) -> None:
    """Wait until Streamlit has finished rerunning, ``images`` images (matplotlib figures are <img>) have all loaded
    and ``charts`` Altair (Vega-Lite) charts are drawn."""
    page.wait_for_timeout(300)  # let a rerun start before we look for its end
    page.wait_for_function(f"() => document.images.length >= {images}", timeout=TIMEOUT_MS)
    drawn = ".vega-embed canvas, .vega-embed svg.marks"
    page.wait_for_function(f"() => document.querySelectorAll('{drawn}').length >= {charts}", timeout=TIMEOUT_MS)
    page.wait_for_function(READY, timeout=TIMEOUT_MS)


def whole_page_screenshot(page, name: str) -> None:
    """The page's full height in tests/screenshots/<name>.png: Streamlit scrolls inside its own container, so the
    viewport is stretched to the content for the shot and then put back."""
    size = page.viewport_size
    height = page.evaluate("Math.max(...[...document.querySelectorAll('*')].map(e => e.scrollHeight))")
    page.set_viewport_size({"width": size["width"], "height": min(int(height) + 40, 12000)})
    page.wait_for_timeout(800)  # charts re-fit their width
    page.wait_for_function(READY, timeout=TIMEOUT_MS)
    page.screenshot(path=str(SHOTS / f"{name}.png"))
    page.set_viewport_size(size)


def body(page) -> str:
    return page.locator("body").inner_text()


def expect_texts(page, *texts: str) -> None:
    """Wait (bounded) until every text is rendered: the page may still be streaming elements after `settle`."""
    for text in texts:
        page.get_by_text(text, exact=False).first.wait_for(state="attached")


def no_traceback(page) -> None:
    assert page.locator("[data-testid=stException]").count() == 0
    text = body(page)
    assert "Traceback" not in text and "Page not found" not in text


def test_claims_page_is_the_root_url(page, server):
    open_page(page, server, "", "Claims")  # the default page lives at the root URL
    expect_texts(page, "yours · quick: 7 hold, 0 weaker, 1 do not hold", "distilled beats baseline")
    no_traceback(page)


def test_claims_page(page, server):
    open_page(page, server, "claims", "Claims")  # its own URL loads it directly too
    problems = ("claims.json is missing", "claims.json is not valid JSON", "unknown schema 'kdlab.claims/99'")
    expect_texts(
        page,
        "yours · quick: 7 hold, 0 weaker, 1 do not hold",
        "distilled beats baseline",
        "sweep mid t best 30",
        "does not hold",
        "not tested in this run",
        *problems,
        *(run_id for _, run_id, _ in CLAIMS_BROKEN.values()),
    )
    page.screenshot(path=str(SHOTS / "claims.png"), full_page=True)
    no_traceback(page)
    # a run's link opens the Runs page with that run selected
    page.locator(f'a[href="./runs?run={GOOD["03_full"]}"]').first.click()
    page.get_by_role("heading", name="Runs").first.wait_for()
    settle(page)
    expect_texts(page, "Selected run", "Claims: 3 of 3 hold")
    assert f"run={GOOD['03_full']}" in page.url
    no_traceback(page)


def test_runs_page(page, server):
    open_page(page, server, "runs", "Runs")  # no longer the default: reachable at its URL
    expect_texts(
        page,
        "run folders",
        FAILED_REASON,
        "unknown schema version 99",
        "params.json is not valid JSON",
        "empty run folder",
        "no COMPLETE marker",
        "missing sweep.csv",
        BROKEN["missing_artifact"][1],
        "TEST FIXTURE",
        "Compare two runs",
    )
    page.screenshot(path=str(SHOTS / "runs.png"))
    assert "yours: 17 (11 complete) · reference: 0 run folders" in body(page)
    no_traceback(page)


def test_soft_targets_slider(page, server):
    open_page(page, server, "temperature", "Soft targets", images=1, charts=2)  # digit; probabilities, entropy
    metric = page.locator("[data-testid=stMetricValue]").first
    before = metric.inner_text()
    assert page.get_by_text("T=1").first.is_visible()
    page.screenshot(path=str(SHOTS / "soft_targets_T1.png"))
    thumb = page.get_by_role("slider").first
    thumb.focus()
    for _ in range(8):  # T = 1 → 8 on the option list
        thumb.press("ArrowRight")
    page.get_by_text("T=8").first.wait_for()
    settle(page, images=1, charts=2)
    after = metric.inner_text()
    page.screenshot(path=str(SHOTS / "soft_targets_T8.png"))
    assert before != after, "moving the temperature slider should change the teacher's probability"
    assert float(after) < float(before)
    expect_texts(page, "profile quick", "The paper's example beside ours", "paper (§1): a 2")
    no_traceback(page)


# url path, heading, matplotlib images, Altair charts, texts that must show: every page, opened directly by its URL
PAGES = [
    ("", "Claims", 0, 0, ["7 hold, 0 weaker, 1 do not hold", "lesson page"]),
    ("claims", "Claims", 0, 0, ["distilled beats baseline"]),
    ("runs", "Runs", 0, 0, ["run folders", "Compare two runs"]),
    ("temperature", "01 · Soft targets", 1, 3, ["The paper's example beside ours", "How much do the tiny"]),
    ("logit_matching", "02 · Logit matching", 0, 3, ["zero-meaned logits", "never (up to T = 50)", "97.0 %"]),
    ("distillation", "03 · Distillation", 0, 5, ["Test errors against temperature", "T in 2.5–4 significantly better"]),
    ("sweeps", "03 · Distillation", 0, 5, ["Test errors against temperature", "lesson 04's page"]),  # old URL
    ("missing_classes", "04 · Missing classes", 1, 3, ["Ours beside the paper", "test errors before the shift"]),
    ("speech", "05 · Speech", 1, 1, ["gain kept, paper (Table 1)", "paper: test frame acc.", "— (hard labels)"]),
    (
        "specialists",
        "06 · Specialists",
        6,
        5,
        [
            "5 clusters (one specialist each) cover 20 of the 20",
            "10 or more",
            "Specialists against a converged generalist",
            "conditional NLL",
        ],
    ),
]


@pytest.mark.parametrize("path,heading,images,charts,texts", PAGES, ids=[p[0] or "root" for p in PAGES])
def test_every_page_opens_by_its_url(page, server, path, heading, images, charts, texts):
    """Each page's URL typed into the address bar: its page (no 'Page not found' modal), drawn without exception,
    its figures drawn, every figure captioned with its run, profile and device; a whole-page screenshot."""
    open_page(page, server, path, heading, images=images, charts=charts)
    expect_texts(page, *texts)
    no_traceback(page)
    text = body(page)
    if path not in ("", "claims", "runs"):
        assert "Source: run" in text and "device cpu" in text
        assert "None" not in text.replace("None of", "")  # no Python None where a number or a dash belongs
    whole_page_screenshot(page, path or "root")
    no_traceback(page)


def test_chart_tooltip_on_hover(page, server):
    """Hovering a point of the sweep chart shows its numbers (Vega's tooltip), as a student would; the paper's band
    lies beneath the points, so the point's numbers win."""
    open_page(page, server, "distillation", "03 · Distillation", charts=5)
    chart = page.locator(".vega-embed").nth(1)  # the narrowest width's errors against T
    chart.scroll_into_view_if_needed()
    points = chart.locator("g.mark-symbol.role-mark path")  # Streamlit draws Vega-Lite as SVG: a path per point
    assert points.count() >= 10  # 10 temperatures (fixture) per run
    tooltip, shown = page.locator("#vg-tooltip-element"), []
    for k in range(6):
        box = points.nth(k).bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_timeout(250)
        if tooltip.count() and tooltip.first.is_visible():
            shown.append(tooltip.first.inner_text())
    assert len(shown) >= 3, shown
    assert all("test errors (mean over seeds)" in t and "seeds" in t for t in shown), shown
    page.screenshot(path=str(SHOTS / "tooltip.png"))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-v"]))
