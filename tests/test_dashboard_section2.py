"""The §2 gradient sections of the 01 and 02 pages (dashboard/views/temperature_section2.py) under AppTest: a run with
gradient_noise.csv / t_squared_scale.csv is drawn, a run made before them still renders and says what is missing."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))  # fixtures_runs, under any pytest import mode
from fixtures_runs import good_artifacts, write_run  # noqa: E402

from kdlab.syllabus import PAGES  # noqa: E402

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")
NEW, OLD = "20261202-000000-new000", "20261201-000000-old000"


def _noise_rows() -> pd.DataFrame:
    rows = []
    for state in ("initialization", "after hard-label training", "after soft-target training"):
        for k in range(2):
            for loss, ratio, var in (("hard", 110.0 + k, 4.5), ("soft", 38.0 + k, 21.0)):
                rows.append({"state": state, "seed": 0, "subset": k, "loss": loss, "temperature": 1.0,
                             "mean_sq_norm": var / ratio, "trace_variance": var, "noise_ratio": ratio})  # fmt: skip
    return pd.DataFrame(rows)


def _scale_rows() -> pd.DataFrame:
    rows = []
    for k in range(2):
        for t in (1.0, 2.0, 5.0, 20.0):
            for keep in (True, False):
                rel = (10.0 + t) / (1.0 if keep else t * t)
                rows.append({"seed": 0, "subset": k, "temperature": t, "t_squared": keep, "soft_norm": rel,
                             "hard_norm": 1.0, "relative": rel, "share": rel / (1 + rel)})  # fmt: skip
    return pd.DataFrame(rows)


def _open(monkeypatch, root: Path, page: str):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("KDLAB_RUNS", str(root))
    at = AppTest.from_file(APP, default_timeout=30)
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _specs(at) -> str:
    """Every Vega-Lite chart spec on the page, as one string."""
    return json.dumps([json.loads(c.proto.spec) for c in at.get("vega_lite_chart")], ensure_ascii=False)


def _store(tmp_path: Path, nb: str, stem: str, name: str, table: pd.DataFrame) -> Path:
    rng = np.random.default_rng(0)
    write_run(tmp_path, stem, OLD, params={"PROFILE": "full"}, artifacts=good_artifacts(nb, rng))  # both drawn
    write_run(tmp_path, stem, NEW, artifacts={**good_artifacts(nb, rng), name: table})
    return tmp_path


def test_the_gradient_noise_section_draws_new_runs_and_names_old_ones(monkeypatch, tmp_path):
    root = _store(tmp_path, "01", "01_softmax_temperature", "gradient_noise.csv", _noise_rows())
    at = _open(monkeypatch, root, PAGES["01"])
    assert any("gradient between training cases" in s.value for s in at.subheader)
    captions = "\n".join(c.value for c in at.caption)
    assert "no `gradient_noise.csv`" in captions and "rerun notebook 01" in captions
    assert "judged at initialization" in captions
    assert "noise_ratio" in _specs(at)  # the new run's chart is drawn
    assert not [w.value for w in at.warning if "gradient_noise" in w.value]


def test_the_t_squared_section_draws_new_runs_and_names_old_ones(monkeypatch, tmp_path):
    root = _store(tmp_path, "02", "02_logit_matching_limit", "t_squared_scale.csv", _scale_rows())
    at = _open(monkeypatch, root, PAGES["02"])
    assert any("multiplied by T²" in s.value for s in at.subheader)
    captions = "\n".join(c.value for c in at.caption)
    assert "no `t_squared_scale.csv`" in captions and "rerun notebook 02" in captions
    assert "roughly unchanged" in captions
    assert "relative" in _specs(at) and "with T²" in _specs(at)
    assert not [w.value for w in at.warning if "t_squared" in w.value]


def test_a_store_of_old_runs_only_still_renders_the_pages(monkeypatch, tmp_path):
    rng = np.random.default_rng(0)
    write_run(tmp_path, "01_softmax_temperature", OLD, artifacts=good_artifacts("01", rng))
    write_run(tmp_path, "02_logit_matching_limit", OLD, artifacts=good_artifacts("02", rng))
    for nb, name in (("01", "gradient_noise.csv"), ("02", "t_squared_scale.csv")):
        at = _open(monkeypatch, tmp_path, PAGES[nb])
        assert f"no `{name}`" in "\n".join(c.value for c in at.caption)
        assert "noise_ratio" not in _specs(at) and "with T²" not in _specs(at)  # the check can fail


def test_a_malformed_file_is_one_warning_line_not_an_exception(monkeypatch, tmp_path):
    rng = np.random.default_rng(0)
    bad = _noise_rows().drop(columns=["noise_ratio"])
    write_run(
        tmp_path, "01_softmax_temperature", NEW, artifacts={**good_artifacts("01", rng), "gradient_noise.csv": bad}
    )
    at = _open(monkeypatch, tmp_path, PAGES["01"])
    hits = [w.value for w in at.warning if "gradient_noise.csv" in w.value]
    assert len(hits) == 1 and "noise_ratio" in hits[0] and "\n" not in hits[0]
