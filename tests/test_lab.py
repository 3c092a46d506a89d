"""``kdlab.lab.Lab``: the one helper a lesson notebook calls for its run — parameters in, artifacts saved by
type, figures saved then shown once, claims written at close."""

import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from kdlab.lab import Lab  # noqa: E402
from kdlab.store.reader import list_runs  # noqa: E402


def test_lab_records_params_saves_by_type_and_closes_with_its_claims(tmp_path):
    lab = Lab("01_softmax_temperature", root=tmp_path, PROFILE="quick", SEED=3, DEVICE="cpu")
    lab.device("cpu")
    written = lab.save(
        table=pd.DataFrame({"a": [1, 2]}),
        arrays={"x": np.arange(3)},
        net=torch.nn.Linear(2, 2),
        note={"k": 1},
    )
    assert sorted(p.name for p in written) == ["arrays.npz", "net.pt", "note.json", "table.csv"]
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    lab.figure("fig_line", fig)
    assert not plt.fignum_exists(fig.number), "Lab.figure must close the figure it showed"
    lab.metrics(errors=7)
    lab.claims.add(id="01.tiny_gradient_grows", section="§2", statement="s", paper="p", result="o", verdict="holds")
    final = lab.close()
    (info,) = list_runs(tmp_path, "01_softmax_temperature", include_staging=False)
    assert info.ok and info.path == final and info.params["SEED"] == 3
    assert {"table", "arrays", "net", "note", "fig_line"} <= set(info.artifacts)
    saved = json.loads((final / "claims.json").read_text())
    assert [c["id"] for c in saved["claims"]] == ["01.tiny_gradient_grows"] and saved["seed"] == 3


def test_lab_claims_belong_to_its_notebook(tmp_path):
    lab = Lab("02_logit_matching_limit", root=tmp_path, PROFILE="quick", SEED=0)
    with pytest.raises(ValueError, match="does not belong"):
        lab.claims.add(id="01.x", section="§2", statement="s", paper="p", result="o", verdict="holds")
