"""The run store writes strict JSON: NaN/inf are refused with the key path, atomically; None is null."""

import json
import math

import numpy as np
import pytest
import torch

from kdlab.jsonio import to_strict_json, write_json_atomic
from kdlab.store.runs import start_run


def test_nan_is_refused_with_its_key_path_and_the_previous_file_survives(tmp_path):
    path = tmp_path / "metrics.json"
    write_json_atomic(path, {"metrics": {"teacher_errors": 80}})
    before = path.read_bytes()
    bad = {"schema_version": 1, "metrics": {"sweep_claims": {800: {"high_t_spread": float("nan"), "ok": 1.0}}}}
    with pytest.raises(ValueError) as caught:
        write_json_atomic(path, bad)
    message = str(caught.value)
    assert message == (
        "metrics.json: metrics.sweep_claims.800.high_t_spread is NaN; "
        "write None (JSON null) for a value that does not exist"
    )
    assert "\n" not in message
    assert path.read_bytes() == before  # nothing half-written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json"]  # no temp file left behind


@pytest.mark.parametrize(
    ("value", "where", "name"),
    [
        (np.float32("inf"), "x", "inf"),
        (np.float64("-inf"), "x", "-inf"),
        (torch.tensor(float("nan")), "x", "NaN"),
        (np.array([1.0, np.nan]), "x[1]", "NaN"),
        ([{"a": (0.5, math.inf)}], "x[0].a[1]", "inf"),
    ],
)
def test_numpy_and_torch_non_finite_values_are_refused(tmp_path, value, where, name):
    with pytest.raises(ValueError) as caught:
        write_json_atomic(tmp_path / "out.json", {"x": value})
    assert str(caught.value).startswith(f"out.json: {where} is {name}; write None (JSON null)")
    assert list(tmp_path.iterdir()) == []


def test_none_is_null_and_numpy_torch_scalars_still_work(tmp_path):
    path = tmp_path / "m.json"
    obj = {
        "missing": None,
        "f32": np.float32(0.5),
        "i64": np.int64(3),
        "b": np.bool_(True),
        "t": torch.tensor(2.5),
        "arr": np.arange(3),
        "tup": (1, 2),
        np.int64(7): "numpy key",
        "path": tmp_path,
    }
    write_json_atomic(path, obj)
    text = path.read_text()
    assert '"missing": null' in text and "NaN" not in text
    back = json.loads(text)
    assert back == {
        "missing": None,
        "f32": 0.5,
        "i64": 3,
        "b": True,
        "t": 2.5,
        "arr": [0, 1, 2],
        "tup": [1, 2],
        "7": "numpy key",
        "path": str(tmp_path),
    }
    assert isinstance(back["i64"], int) and isinstance(back["b"], bool)


def test_strict_json_output_parses_with_a_strict_parser():
    def strict(const):
        raise ValueError(f"non-standard constant {const}")

    text = to_strict_json({"a": [1.5, None, np.float64(2.0)], "b": {"c": np.float32(1e-9)}})
    assert json.loads(text, parse_constant=strict)["a"] == [1.5, None, 2.0]


def test_run_log_metrics_refuses_nan_and_keeps_the_last_good_metrics(runs_dir):
    run = start_run("03_mnist_distillation", {"PROFILE": "quick", "SEED": 0})
    run.log_metrics(teacher_errors=80)
    with pytest.raises(ValueError, match=r"metrics\.student\.spread is NaN"):
        run.log_metrics(student={"spread": float("nan")})
    on_disk = json.loads((run.dir / "metrics.json").read_text())
    assert on_disk["metrics"] == {"teacher_errors": 80}
