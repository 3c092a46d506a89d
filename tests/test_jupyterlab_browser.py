"""In JupyterLab, in Chromium: each lesson's interactive cell redraws when a control moves.

``test_notebook_widgets.py`` checks the same at the kernel's level (the messages JupyterLab would route into the
widget); this test checks what a student sees: a JupyterLab server on a free loopback port, a notebook made of the
lesson's parameters cell, its imports-only cells, the small stand-ins of ``test_notebook_widgets.STANDINS`` and the
lesson's own interactive cell (so no data or training is needed), run in the browser with Shift+Enter; then the
first slider's handle is moved with the keyboard and the widget's output (a picture, or text) must change.
``test_the_browser_check_fails_for_a_function_that_only_draws`` shows the check failing on the old bug (a function
that draws without ``display(fig)``: no picture ever reaches the widget).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_dashboard_browser import CHROMIUM, ensure_chromium, free_port  # noqa: E402
from test_notebook_widgets import STANDINS, WITH_WIDGETS, imports_only, interactive_cells  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
TOKEN = "kdlab-test"
SHOWN = ".widget-output .jp-OutputArea-output"  # what the interact's Output widget shows


def widget_notebook(path: Path) -> nbformat.NotebookNode:
    """The lesson's parameters cell, its imports-only cells, the stand-ins, then its interactive cell."""
    code = [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    ((source, _),) = interactive_cells(path)
    cells = [code[0], *(s for s in code[1:] if imports_only(s))]
    cells += ["import torch\ng = torch.Generator().manual_seed(0)\n" + STANDINS[path.stem[:2]], source]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in cells]
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    return nb


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """``jupyter lab`` on a free loopback port with a throwaway config and home; its root holds the notebooks."""
    ensure_chromium()
    tmp = tmp_path_factory.mktemp("jupyterlab")
    root = tmp / "work"
    root.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env.update(
        JUPYTER_CONFIG_DIR=str(tmp / "cfg"),
        JUPYTER_DATA_DIR=str(tmp / "data"),
        JUPYTER_RUNTIME_DIR=str(tmp / "rt"),
        IPYTHONDIR=str(tmp / "ipython"),
        MPLCONFIGDIR=str(tmp / "mpl"),
        KDLAB_PROGRESS="",
        PYTHONPATH=str(REPO),
    )
    jupyter = str(Path(sys.executable).parent / "jupyter")
    subprocess.run([jupyter, "labextension", "disable", "@jupyterlab/apputils-extension:announcements"], env=env,
                   capture_output=True, timeout=120)  # fmt: skip
    port = free_port()
    log = open(tmp / "lab.log", "w")  # noqa: SIM115 (closed below)
    args = [jupyter, "lab", "--no-browser", "--allow-root", "--ip", "127.0.0.1", "--port", str(port),
            "--ServerApp.port_retries=0", f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={root}"]  # fmt: skip
    proc = subprocess.Popen(args, env=env, stdout=log, stderr=log, cwd=root)
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={TOKEN}", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        else:
            raise AssertionError("jupyter lab did not answer: " + (tmp / "lab.log").read_text()[-800:])
        yield port, root
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _shown(panel) -> str:
    """The widget's output as the reader sees it: each picture's ``src`` and each text."""
    return panel.locator(SHOWN).evaluate_all(
        "els => els.map(e => [...e.querySelectorAll('img')].map(i => i.src).join('') || e.innerText).join('\\n')"
    )


def pictures_before_and_after_a_move(port: int, name: str, n_cells: int) -> tuple[str, str]:
    """Open ``name`` in JupyterLab, run its ``n_cells`` cells with Shift+Enter as a student would, move the first
    slider of the widget with the keyboard; what the widget shows before and after (after: once it differs, or
    after 30 s)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            # a workspace of its own, reset: JupyterLab would otherwise reopen the notebooks of the tests before
            page.goto(f"http://127.0.0.1:{port}/lab/workspaces/{Path(name).stem}/tree/{name}?token={TOKEN}&reset")
            panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
            panel.locator(".jp-Notebook").first.wait_for(timeout=90_000)
            status = "() => document.querySelector('.jp-Notebook-ExecutionIndicator')?.getAttribute('data-status')"
            page.wait_for_function(f"{status} === 'idle'", timeout=120_000)
            panel.locator(".jp-Cell").first.locator(".jp-InputPrompt").click()
            for _ in range(n_cells):
                page.keyboard.press("Shift+Enter")
                time.sleep(0.3)
            try:
                # the interact cell has run (JupyterLab renders only the cells in view, so prompts cannot be counted)
                panel.locator(".widget-interact").last.wait_for(timeout=180_000)
                page.wait_for_function(f"{status} === 'idle'", timeout=180_000)
            except Exception:
                shots = os.environ.get("KDLAB_SCREENSHOTS")
                if shots:
                    page.screenshot(path=str(Path(shots) / f"jupyterlab_{Path(name).stem}_failed.png"), full_page=True)
                raise
            time.sleep(2)
            before = _shown(panel)
            handle = panel.locator(".noUi-handle").first
            handle.focus()
            for _ in range(10):
                handle.press("ArrowRight")
            after = before
            for _ in range(60):
                time.sleep(0.5)
                after = _shown(panel)
                if after and after != before:
                    break
            return before, after
        finally:
            browser.close()


SLIDERS = [p for p in WITH_WIDGETS if "Slider(" in interactive_cells(p)[0][0]]  # each kind of slider


@pytest.mark.slow
@pytest.mark.parametrize("path", SLIDERS, ids=lambda p: p.stem)
def test_moving_a_slider_in_jupyterlab_redraws_the_picture(lab, path):
    port, root = lab
    nb = widget_notebook(path)
    nbformat.write(nb, root / f"{path.stem}.ipynb")
    before, after = pictures_before_and_after_a_move(port, f"{path.stem}.ipynb", len(nb.cells))
    assert before.strip(), f"{path.stem}: the widget showed nothing after Run"
    assert after and after != before, f"{path.stem}: moving the slider left the widget's output unchanged"


@pytest.mark.slow
def test_the_browser_check_fails_for_a_function_that_only_draws(lab):
    """The old bug (notebook 01's explorer drew without display(fig)): in JupyterLab the picture does not change."""
    port, root = lab
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "%matplotlib inline\nimport ipywidgets as widgets\nimport matplotlib.pyplot as plt\n\n"
        "def draw(t=1.0):\n    fig, ax = plt.subplots()\n    ax.plot([0, 1], [0, t])\n\n"
        "widgets.interact(draw, t=widgets.FloatSlider(1.0, min=1.0, max=20.0));"
    )]  # fmt: skip
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nbformat.write(nb, root / "only_draws.ipynb")
    before, after = pictures_before_and_after_a_move(port, "only_draws.ipynb", 1)
    assert after == before and "data:image" not in after  # no picture ever reaches the widget
