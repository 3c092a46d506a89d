"""Notebooks are committed stripped, with a papermill parameters cell of literals and the quick profile by default."""

import ast
import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks/NN_*.ipynb found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stripped_and_parameterized(path):
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    dirty = [i for i, c in enumerate(code) if c.get("outputs") or c.get("execution_count")]
    assert not dirty, f"{path.name}: code cells {dirty} carry outputs; run nbstripout before committing"
    assert nb["metadata"].get("kernelspec", {}).get("name") == "python3", "save notebooks with kernel python3"
    params = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(params) == 1, f"{path.name}: exactly one cell must be tagged 'parameters'"
    assert params[0] is code[0], f"{path.name}: the parameters cell must be the first code cell"
    tree = ast.parse("".join(params[0]["source"]))
    values = {}
    for node in tree.body:
        assert isinstance(node, ast.Assign) and len(node.targets) == 1, (
            f"{path.name}: parameters cell has only assignments"
        )
        name = node.targets[0].id
        assert name.isupper(), f"{path.name}: parameter {name} should be UPPER_CASE"
        values[name] = ast.literal_eval(node.value)  # raises for anything but literals
    assert values.get("PROFILE") == "quick", f"{path.name}: PROFILE must default to 'quick'"
    assert "SEED" in values and "DEVICE" in values
