"""Every interactive cell of every lesson redraws when a control moves, in a real Jupyter kernel under the inline
backend (what JupyterLab runs), moved the way JupyterLab moves it: a ``comm_msg`` that updates the control's state.

Why: ipywidgets 8.1's ``interact`` flushes matplotlib figures only for the backend's long name, while the kernel's
backend is ``'inline'``; a function that draws without ``display(fig)`` shows nothing new when its slider moves
(notebook 01's explorer did exactly that; its PNG stayed byte-identical). The controls' own messages carry no
``execute_request``, so the inline backend's end-of-cell flush never runs: only what the function displays reaches
the widget.

A moved control's reply is counted only where JupyterLab shows it: inside the interact's Output widget (sent while
the widget captures). The ``comm`` package does trigger the inline backend's flush after a control's callback, but
that figure comes after the widget stopped capturing and has no cell to go to, so JupyterLab drops it.

The cell under test is the committed notebook's own interactive cell, run after the notebook's parameters and
imports cells; what it reads from earlier cells (trained logits, tables) is replaced by small synthetic stand-ins
(``STANDINS``), so the test needs neither data nor training. A notebook that gains an ``interact`` cell needs a
stand-in here, or this test fails saying so. ``test_the_check_fails_for_a_function_that_only_draws`` shows the
check failing on the old bug.
"""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))

_LOGITS = "torch.randn(N, 10, generator=g, dtype=torch.float64) * 4"
STANDINS = {  # notebook number -> what its interactive cell reads from the cells before it
    "01": f"N = 12\nimages = torch.randint(0, 256, (N, 28, 28), generator=g, dtype=torch.uint8)\n"
    f"test_logits = {_LOGITS}\ny_test = torch.arange(N) % 10\nsaved = [0, 3, 7]",
    "03": f"N = 12\nx_test = torch.rand(N, 784, generator=g)\ny_test = torch.arange(N) % 10\nexample = 2\n"
    f"teacher_test_logits = ({_LOGITS}).float()\ndistilled_test_logits = ({_LOGITS}).float()",
    "04": f"N = 40\ny_test = torch.arange(N) % 10\nomit3_test_logits = ({_LOGITS}).float()\nis3 = y_test == 3",
    "06": "import pandas as pd\nM = 3\nclass_images = torch.randint(0, 256, (100, 28, 56), generator=g, "
    "dtype=torch.uint8).numpy()\nspecialist_classes = [[0, 1], [2, 3, 4], [5, 6]]\n"
    "per_specialist = pd.DataFrame({'generalist_cond_acc': [0.5, 0.6, 0.7], 'specialist_cond_acc': [0.6, 0.7, 0.8]})",
}

# In the kernel: each control of the interact's widget and a new state for it (a slider to its other end, a
# dropdown to another option), as JSON.
MOVES = """
import json as _json
def _move(c):
    if hasattr(c, "index") and hasattr(c, "options"):
        return {"index": 1 if c.index != 1 else 0}
    top = c.base ** c.max if hasattr(c, "base") else c.max
    bottom = c.base ** c.min if hasattr(c, "base") else c.min
    return {"value": bottom if c.value == top else top}
print(_json.dumps([{"id": c.model_id, "state": _move(c)} for c in FUNCTION.widget.kwargs_widgets]))
"""


def interactive_cells(path: Path) -> list[tuple[str, str]]:
    """``(source, function name)`` of each code cell that calls ``interact(f, ...)``."""
    found = []
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "code" or "interact(" not in cell.source:
            continue
        code = "\n".join(ln for ln in cell.source.splitlines() if not ln.lstrip().startswith(("%", "!")))
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "interact":
                found.append((cell.source, node.args[0].id))
    return found


WITH_WIDGETS = [p for p in NOTEBOOKS if interactive_cells(p)]


class Kernel:
    """A python3 kernel (the inline backend, as in JupyterLab), its shell and iopub channels."""

    def __init__(self, cwd: Path, tmp: Path):
        from jupyter_client.manager import start_new_kernel

        env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}  # the kernel's own default: inline
        env.update(MPLCONFIGDIR=str(tmp), IPYTHONDIR=str(tmp / "ipython"), KDLAB_PROGRESS="")
        self.km, self.kc = start_new_kernel(kernel_name="python3", cwd=str(cwd), env=env, startup_timeout=90)

    def _collect(self, msg_id: str, timeout: float = 120) -> list[dict]:
        """The iopub outputs whose parent is ``msg_id``, until the kernel is idle for it, each marked ``in_widget``:
        sent while an Output widget was capturing (its ``msg_id`` state set), which is what JupyterLab routes into
        the widget. A figure the inline backend flushes after a control's callback returned has the control's
        message as parent but no cell to land in: JupyterLab drops it."""
        outputs, capturing = [], False
        while True:
            msg = self.kc.get_iopub_msg(timeout=timeout)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "status" and content["execution_state"] == "idle":
                return outputs
            if kind == "error":
                raise AssertionError(f"{content['ename']}: {content['evalue']}")
            if kind == "comm_msg" and "msg_id" in content.get("data", {}).get("state", {}):
                capturing = bool(content["data"]["state"]["msg_id"])  # an Output widget starts / stops capturing
            if kind in ("display_data", "execute_result", "stream"):
                outputs.append({**content, "in_widget": capturing})

    def run(self, code: str) -> list[dict]:
        return self._collect(self.kc.execute(code))

    def move(self, model_id: str, state: dict) -> list[dict]:
        """What the frontend sends when a control moves; returns what reaches the interact's Output widget."""
        data = {"method": "update", "state": state, "buffer_paths": []}
        msg = self.kc.session.msg("comm_msg", {"comm_id": model_id, "data": data})
        self.kc.shell_channel.send(msg)
        return [o for o in self._collect(msg["header"]["msg_id"]) if o["in_widget"]]

    def close(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)


def shown(outputs: list[dict]) -> list[str]:
    """What a reader sees of these outputs: each PNG (base64) and each text written."""
    out = []
    for o in outputs:
        if "data" in o and "image/png" in o["data"]:
            out.append(o["data"]["image/png"])
        elif "text" in o and o["text"].strip():
            out.append(o["text"])
    return out


def redraws(kernel: Kernel, source: str, function: str) -> list[tuple[list[str], list[str]]]:
    """Run an interactive cell, then move each of its controls in turn; ``(before, after)`` per move: what the
    control's widget showed before the move and what the move displayed."""
    before = shown(kernel.run(source))
    (line,) = [o["text"] for o in kernel.run(MOVES.replace("FUNCTION", function)) if "text" in o]
    results = []
    for control in json.loads(line):
        after = shown(kernel.move(control["id"], control["state"]))
        results.append((before, after))
        before = after or before
    return results


def imports_only(source: str) -> bool:
    """A cell of imports (and IPython magics) only: what runs without data or training."""
    code = "\n".join(ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!")))
    return all(isinstance(node, ast.Import | ast.ImportFrom) for node in ast.parse(code).body)


def prepare(kernel: Kernel, path: Path) -> None:
    """The notebook's parameters cell (its first code cell) and every imports-only cell, then the stand-ins."""
    code = [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    for source in [code[0], *(s for s in code[1:] if imports_only(s))]:
        kernel.run(source)
    kernel.run("import torch\ng = torch.Generator().manual_seed(0)\n" + STANDINS[path.stem[:2]])


@pytest.fixture
def kernel(tmp_path):
    k = Kernel(REPO / "notebooks", tmp_path)
    yield k
    k.close()


def test_the_lessons_with_widgets_are_found():
    assert {p.stem[:2] for p in WITH_WIDGETS} >= {"01", "03", "04", "06"}
    missing = [p.stem for p in WITH_WIDGETS if p.stem[:2] not in STANDINS]
    assert not missing, f"add stand-ins for the interactive cell of {missing} to STANDINS"


@pytest.mark.parametrize("path", WITH_WIDGETS, ids=lambda p: p.stem)
def test_every_control_of_every_interactive_cell_redraws(kernel, path):
    prepare(kernel, path)
    assert "inline" in "".join(
        o.get("text", "") for o in kernel.run("import matplotlib; print(matplotlib.get_backend())")
    )
    for source, function in interactive_cells(path):
        for n, (before, after) in enumerate(redraws(kernel, source, function)):
            assert after, f"{path.stem}: moving control {n} of {function}() displayed nothing (no redraw)"
            assert after != before, f"{path.stem}: moving control {n} of {function}() displayed the same output"


def test_the_check_fails_for_a_function_that_only_draws(kernel):
    """The old explorer: the function draws with pyplot but does not display the figure. The cell's own run shows a
    figure (the inline backend flushes at the end of a cell), a moved slider shows nothing."""
    kernel.run("%matplotlib inline")
    cell = (
        "import ipywidgets as widgets\nimport matplotlib.pyplot as plt\n\n"
        "def draw(T=1.0):\n    plt.figure()\n    plt.plot([0, 1], [0, T])\n\n"
        "widgets.interact(draw, T=widgets.FloatSlider(1.0, min=0.5, max=5.0));"
    )
    ((before, after),) = redraws(kernel, cell, "draw")
    assert before and not after


def test_training_progress_in_a_notebook_is_text_that_survives_saving(kernel):
    """In a kernel (JupyterLab) fit reports lines on stderr, not a tqdm widget: a saved notebook, reopened, shows the
    lines, where a widget would read "Error displaying widget: model not found"."""
    outputs = kernel.run(
        "import torch\nfrom kdlab.core.train import TrainConfig, fit\n"
        "x = torch.randn(64, 4, generator=torch.Generator().manual_seed(0)); y = (x[:, 0] > 0).long()\n"
        "fit(torch.nn.Linear(4, 3), x, y, device='cpu', config=TrainConfig(epochs=2, batch_size=16, desc='tiny'));"
    )
    widgets = [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    text = "".join(o.get("text", "") for o in outputs if o.get("name") == "stderr")
    assert not widgets and "[tiny] epoch 2/2 · loss" in text and "done in" in text and "\r" not in text
