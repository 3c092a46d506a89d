"""Every lesson page overlays runs (Streamlit AppTest, no browser): by default your newest run of each profile and the
reference run, both drawn in the same chart (their series names in the chart's data), the paper's figure as a mark,
each run in the same colour on every page; and a broken reference run is one warning, never a crash."""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import replace
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # fixtures_runs, under any pytest import mode
from fixtures_runs import GOOD, REFERENCE, build_reference, build_store  # noqa: E402

from kdlab.syllabus import PAGES, STEMS  # noqa: E402

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
PICKER = {
    "01": "soft_runs",
    "02": "logit_runs",
    "03": "sweep_runs",
    "04": "bias_runs",
    "05": "speech_runs",
    "06": "specialist_runs",
}
YOURS = {
    "01": GOOD["01"],
    "02": GOOD["02"],
    "03": GOOD["03_quick"],
    "04": GOOD["04"],
    "05": GOOD["05"],
    "06": GOOD["06"],
}


def series(run_id: str, profile: str = "quick") -> str:
    r = run_id
    return f"yours · {profile} · {r[:4]}-{r[4:6]}-{r[6:8]} {r[9:11]}:{r[11:13]}"


@pytest.fixture(scope="module")
def stores(tmp_path_factory) -> tuple[Path, Path]:
    yours, ref = tmp_path_factory.mktemp("runs"), tmp_path_factory.mktemp("reference")
    build_store(yours)
    build_reference(ref)
    return yours, ref


def open_page(monkeypatch, yours: Path, ref: Path, page: str):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("KDLAB_RUNS", str(yours))
    monkeypatch.setenv("KDLAB_REFERENCE", str(ref))
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def specs(at) -> list[str]:
    """Each chart's Vega-Lite spec as text (the data travel apart, as Arrow; the run names are in the colour scales)."""
    return [json.dumps(json.loads(c.proto.spec), ensure_ascii=False) for c in at.get("vega_lite_chart")]


@pytest.mark.parametrize("nb", list(PAGES))
def test_lesson_page_draws_your_quick_run_and_the_reference_on_one_chart(monkeypatch, stores, nb):
    at = open_page(monkeypatch, *stores, PAGES[nb])
    mine = series(YOURS[nb])
    chosen = at.multiselect(key=PICKER[nb]).value
    assert mine in chosen and "reference · full" in chosen, chosen
    both = [s for s in specs(at) if mine in s and "reference · full" in s]
    assert both, f"no chart of lesson {nb} draws both {mine!r} and the reference"
    # one colour per run: the scale of the run series maps the reference to the same colour on every page
    scale = next(json.loads(s) for s in both if '"#1f77b4"' in s and '"#ff7f0e"' in s)
    assert scale
    if nb in ("01", "02"):  # no figure of the paper on these axes beyond its T or its example
        return
    assert any("#111111" in s for s in specs(at))  # the paper's mark (black) is on the page's charts


def test_run_colour_is_the_same_on_every_page(monkeypatch, stores):
    from dashboard import overlay
    from kdlab.store.reader import list_runs

    monkeypatch.setenv("KDLAB_RUNS", str(stores[0]))
    monkeypatch.setenv("KDLAB_REFERENCE", str(stores[1]))
    runs = [replace(r, origin="reference") for r in list_runs(stores[1])]
    assert {overlay.colour(r, [*runs]) for r in runs} == {"#1f77b4"}  # every notebook's reference run: one colour


@pytest.mark.parametrize("bad", ["04", "05"])
def test_a_broken_reference_run_is_a_warning_not_a_crash(monkeypatch, stores, tmp_path, bad):
    yours, ref = stores
    broken = tmp_path / "reference"
    shutil.copytree(ref, broken)
    folder = broken / STEMS[bad] / REFERENCE[bad] / "artifacts"
    target = "bias_scan_omit3.csv" if bad == "04" else "table1.csv"
    (folder / target).write_text("not,the\ncontract's,columns\n")
    at = open_page(monkeypatch, yours, broken, PAGES[bad])
    warnings = "\n".join(w.value for w in at.warning)
    assert f"run {STEMS[bad]}/{REFERENCE[bad]}" in warnings and target in warnings
    assert any(series(YOURS[bad]) in s for s in specs(at))  # your run is still drawn
